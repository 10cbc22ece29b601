// The exit codes of `concordat coordinator …`, one table for every command
// (README.md, "CLI contract"): rendered from COORDINATOR_EXIT, the one source;
// test/doctor.test.ts checks that the README holds exactly this table.
// Codes 0..2 mean what they mean for the agency commands (clients/sdk/errors.ts).

export const COORDINATOR_EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  corrupt: 3,
  inUse: 4,
} as const;
export type CoordinatorExitName = keyof typeof COORDINATOR_EXIT;
export type CoordinatorExitCode = (typeof COORDINATOR_EXIT)[CoordinatorExitName];

export const COORDINATOR_EXIT_MEANINGS: Record<CoordinatorExitName, string> = {
  ok: 'success; `doctor`: every check passed',
  error:
    'error: a missing or already initialised data directory, a broken audit chain (`audit verify`, `doctor`), a failed `doctor` check (migrations, free disk space), a request the coordinator refused (`admin`), a port in use, storage that cannot be written (`backup`, `restore`)',
  usage: 'bad usage, nothing was done: an unknown command or flag, a missing required option, a bad option value',
  corrupt:
    '`serve`, `doctor`, `backup`, `restore`: the database fails SQLite\'s integrity check (`serve` refuses to start; restore from a backup, see "Backups")',
  inUse: '`serve`, `restore`: another coordinator process serves this data directory (one `serve` per directory; stop it before a restore)',
};

/** A failure the coordinator CLI reports in one line and ends with `exitCode`. */
export class CoordinatorCliError extends Error {
  override readonly name = 'CoordinatorCliError';
  constructor(
    message: string,
    readonly exitCode: CoordinatorExitCode = COORDINATOR_EXIT.error,
  ) {
    super(message);
  }
}

export const COORDINATOR_EXIT_BEGIN = '<!-- coordinator exit codes: generated from COORDINATOR_EXIT in src/cli/exit-codes.ts; test/doctor.test.ts checks it -->';
export const COORDINATOR_EXIT_END = '<!-- end of coordinator exit codes -->';

/** The markdown table, between its markers. */
export function coordinatorExitTable(): string {
  const rows = (Object.entries(COORDINATOR_EXIT) as [CoordinatorExitName, number][])
    .sort((a, b) => a[1] - b[1])
    .map(([name, code]) => `| ${code} | \`${name}\` | ${COORDINATOR_EXIT_MEANINGS[name]} |`);
  return [COORDINATOR_EXIT_BEGIN, '| code | name | meaning |', '|---|---|---|', ...rows, COORDINATOR_EXIT_END].join('\n');
}
