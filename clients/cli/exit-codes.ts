// The exit-code table of the agency commands as both documents show it
// (README.md, "CLI contract"; clients/README-cli.md, "Exit codes"): rendered
// from EXIT (clients/sdk/errors.ts), the one source; test/client-errors.test.ts
// checks that both documents hold exactly this table.
import { EXIT } from '../sdk/errors.js';

export type ExitName = keyof typeof EXIT;

/** What each code means, for the documents. Every name in EXIT has one (the test checks). */
export const EXIT_MEANINGS: Partial<Record<ExitName, string>> = {
  ok: 'success (for `results`, also when the refresh failed and stored results were shown; for `query`, every partner asked has a result or some have and the rest are pending)',
  error:
    'error: unreadable files or a bad value a command checks itself, refused import (a file that cannot be read, decoded or parsed, a mass withdrawal without `--allow-mass-withdrawal`, a bad row with `--strict`), existing keys (`init`), an error in some pair (`sync`), a query refused by the coordinator (`query`), a directory already served (`serve`), a `sync` or `import` stopped by a signal it did not ask for (SIGBUS when the agency directory turned read-only or immutable under it: the message names the cause)',
  usage:
    'bad usage, nothing was done: an unknown command or flag, a missing required option or argument, a value outside an option\'s choices (every command); `query`: a value that breaks its kind\'s rules (nothing was sent)',
  pairFailed: '`sync` finished, but a pair has failed its canary check',
  badProof: '`query`: a partner\'s answer failed its proof (ERROR, not a no-hit)',
  unanswered: '`query`: no partner\'s answer could be used yet (timed out, expired, or answered but not checkable before a sync); resume with `--status`',
  auditLog: '`sync`, `audit check`, `audit compare`, `audit verify-export`: the coordinator\'s audit transparency log failed a check',
  unavailable:
    'the coordinator could not be reached after every retry, or answered 503 (its storage full or read-only): nothing was lost, run the command again later (`sync`: every error of the run was of this kind; a cron job can retry on 7 and alert on 1)',
  interrupted: '`serve`: a second SIGINT or SIGTERM while it was stopping',
};

export const EXIT_TABLE_BEGIN = '<!-- exit codes: generated from EXIT in clients/sdk/errors.ts; test/client-errors.test.ts checks it -->';
export const EXIT_TABLE_END = '<!-- end of exit codes -->';

/** The markdown table, between its markers. */
export function exitCodeTable(): string {
  const rows = (Object.entries(EXIT) as [ExitName, number][]).sort((a, b) => a[1] - b[1]).map(([name, code]) => `| ${code} | \`${name}\` | ${EXIT_MEANINGS[name] ?? ''} |`);
  return [EXIT_TABLE_BEGIN, '| code | `EXIT.` | meaning |', '|---|---|---|', ...rows, EXIT_TABLE_END].join('\n');
}
