// `concordat agreements list|show|accept|reject` (clients/README-cli.md,
// "concordat agreements"): an officer reads an agreement version's terms and
// the parties' key fingerprints, and accepts or rejects it with the agency's
// signing key. Nothing flows under an agreement this agency did not accept.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { AgreementView } from '../../agency/agreements.js';
import { loadAgency } from '../../agency/config.js';
import { OFFICER_MAX } from '../../agency/hit-names.js';
import { printable, table } from '../../agency/text.js';
import { AgencyError, EXIT, UsageError } from '../../sdk/errors.js';
import { openStore } from '../../store/db.js';

const out = (l: string) => process.stdout.write(`${l}\n`);
const err = (l: string) => process.stderr.write(`${l}\n`);

function versionOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(v)) throw new UsageError('--version: expected a positive integer');
  return Number(v);
}

function officerOf(o: string): string {
  const s = o.trim();
  if (s.length < 1 || s.length > OFFICER_MAX) throw new UsageError(`--officer: 1..${OFFICER_MAX} characters`);
  return s;
}

/**
 * What a person reads before deciding: the terms, then each party's key
 * fingerprint to compare out of band with the agency itself (§8.3), both
 * through the shared table printer. Free text from the terms is shown
 * without control characters.
 */
export function agreementLines(v: AgreementView): string[] {
  const t = v.terms;
  const terms = [
    ['digest', v.digest],
    ['mode', t.mode],
    ['kinds', t.kinds.join(', ')],
    ['purposes', t.purposes.length ? printable(t.purposes.join(', ')) : '(none: no targeted queries)'],
    ['valid', `${t.validFrom} .. ${t.validUntil}`],
    ['max set', `${t.maxSetSize} per side, pair and epoch`],
    ['queries', `${t.queryQuota.perDay} per day, at most ${t.queryQuota.maxValues} values each`],
    ['legal basis', printable(t.legalBasis).replace(/\s+/g, ' ')],
  ];
  const parties = v.parties.map((p) => [
    p.agency,
    p.fingerprint,
    [p.self ? 'this agency' : '', p.accepted ? 'accepted' : p.rejected ? 'rejected' : 'undecided'].filter(Boolean).join(', '),
  ]);
  const lines = [
    `agreement ${t.id} version ${t.version} (${v.status}${v.local ? `, ${v.local} here` : ', not decided here'})`,
    '',
    ...table(['TERM', 'VALUE'], terms),
    '',
    'parties (compare each fingerprint with the agency itself, out of band):',
    ...table(['AGENCY', 'KEY FINGERPRINT', 'DECISION'], parties),
  ];
  if (v.ownKeyMismatch) lines.push('!!! WARNING: the terms list another signing key for this agency than its signing.pub: do not accept');
  return lines;
}

/** Asks on the terminal; without one, only --yes decides (a script must say so explicitly). */
function confirmer(yes: boolean, verb: string): (v: AgreementView) => Promise<boolean> {
  return async (v) => {
    for (const l of agreementLines(v)) out(l);
    if (yes) return true;
    if (!process.stdin.isTTY) throw new AgencyError(`refusing to ${verb} without a terminal to confirm on; pass --yes (scripts, cron) after checking the terms above`);
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return /^y(es)?$/i.test((await rl.question(`${verb}? [y/N] `)).trim());
    } finally {
      rl.close();
    }
  };
}

export function registerAgreements(program: Command): void {
  /** What the commands run, loaded by the one that runs (`concordat` starts once per command). */
  const implementation = async () => ({ ...(await import('../../agency/agreements.js')), ...(await import('../../sdk/agency-client.js')) });
  const ag = program.command('agreements').description('list, show, accept or reject agreement versions (signed with the agency key)');

  ag.command('list')
    .description('every agreement version the coordinator lists for this agency, with the local decision and who accepted')
    .requiredOption('--dir <dir>', 'agency directory')
    .action(async (o: { dir: string }) => {
      const { listAgreements, agencyClient } = await implementation();
      const agency = loadAgency(o.dir, err);
      const store = openStore(agency.dir);
      try {
        const views = await listAgreements(agency, store, agencyClient(agency, { warn: err, label: 'agreements' }));
        if (views.length === 0) out('no agreement lists this agency');
        else {
          const rows = views.map((v) => [
            v.id,
            String(v.version),
            v.status,
            v.local ?? 'undecided',
            v.parties.map((p) => `${p.agency}${p.accepted ? '+' : p.rejected ? '-' : '?'}`).join(' '),
            `${v.terms.validFrom}..${v.terms.validUntil}`,
          ]);
          for (const l of table(['AGREEMENT', 'VERSION', 'STATUS', 'HERE', 'PARTIES (+ accepted)', 'VALID'], rows)) out(l);
          for (const v of views) if (v.ownKeyMismatch) err(`agreements: !!! WARNING: ${v.id} v${v.version} lists another signing key for this agency than its signing.pub`);
        }
        process.exitCode = EXIT.ok;
      } finally {
        store.close();
      }
    });

  ag.command('show')
    .description("one version's terms, digest and each party's key fingerprint (compare them out of band)")
    .argument('<id>', 'agreement id')
    .option('--version <n>', 'version (default: the highest listed)')
    .requiredOption('--dir <dir>', 'agency directory')
    .action(async (id: string, o: { dir: string; version?: string }) => {
      const { showAgreement, agencyClient } = await implementation();
      const agency = loadAgency(o.dir, err);
      const store = openStore(agency.dir);
      try {
        const v = await showAgreement(agency, store, agencyClient(agency, { warn: err, label: 'agreements' }), id, versionOf(o.version));
        for (const l of agreementLines(v)) (v.ownKeyMismatch && l.includes('!!!') ? err : out)(l);
        process.exitCode = EXIT.ok;
      } finally {
        store.close();
      }
    });

  for (const verb of ['accept', 'reject'] as const) {
    ag.command(verb)
      .description(verb === 'accept' ? 'sign one version with the agency key and accept it (asks on a terminal; --yes for scripts)' : 'reject one version (asks on a terminal; --yes for scripts)')
      .argument('<id>', 'agreement id')
      .option('--version <n>', 'version (default: the highest listed)')
      .requiredOption('--dir <dir>', 'agency directory')
      .requiredOption('--officer <id>', 'the officer who decides (recorded in the local audit trail)')
      .option('--yes', 'do not ask for confirmation')
      .action(async (id: string, o: { dir: string; version?: string; officer: string; yes?: boolean }) => {
        const officer = officerOf(o.officer);
        const version = versionOf(o.version);
        const { acceptAgreementVersion, rejectAgreementVersion, agencyClient } = await implementation();
        const agency = loadAgency(o.dir, err);
        const store = openStore(agency.dir);
        try {
          const client = agencyClient(agency, { warn: err, label: 'agreements' });
          const args = { id, ...(version !== undefined ? { version } : {}), officer, confirm: confirmer(o.yes === true, verb) };
          const r = verb === 'accept' ? await acceptAgreementVersion(agency, store, client, args) : await rejectAgreementVersion(agency, store, client, args);
          const waiting = r.view.parties.filter((p) => !p.accepted).map((p) => p.agency);
          out(
            `agreement ${r.view.id} version ${r.view.version} ${verb === 'accept' ? 'accepted' : 'rejected'}${r.changed ? '' : ' (already)'} by ${officer}; ` +
              `status ${r.view.status}${verb === 'accept' && waiting.length > 0 ? `, waiting for ${waiting.join(', ')}` : ''}`,
          );
          process.exitCode = EXIT.ok;
        } finally {
          store.close();
        }
      });
  }
}
