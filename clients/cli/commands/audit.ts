// `concordat audit`: the coordinator's audit transparency log as this agency
// checks it (clients/agency/transparency.ts; clients/README-cli.md,
// "concordat audit"). `check` does what every sync's last phase does; `head`
// prints the newest head verified here, to compare with other parties;
// `compare` compares such heads; `export` writes the entries involving this
// agency with inclusion proofs; `verify-export` checks such a file (or a
// `coordinator audit export --proofs`) offline.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { hexToBytes } from '../../../protocol/bytes.js';
import { auditLogId } from '../../../protocol/tlog.js';
import { appendAudit } from '../../agency/audit.js';
import { loadAgency, type Agency } from '../../agency/config.js';
import { AgencyError, AuditLogError, EXIT } from '../../sdk/errors.js';
import { openStore, type Store } from '../../store/db.js';

const out = (l: string) => process.stdout.write(`${l}\n`);
const err = (l: string) => process.stderr.write(`${l}\n`);

const SUBJECT = 'coordinator audit log';

function parseLogKey(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/i.test(hex.trim())) throw new AgencyError('--log-key: expected the log public key as 64 hex digits (GET /v1/me auditLog.publicKey, or `concordat audit head`)');
  return hexToBytes(hex.trim().toLowerCase());
}

async function withAgency<T>(dir: string, f: (agency: Agency, store: Store) => Promise<T>): Promise<T> {
  const agency = loadAgency(dir, err);
  const store = openStore(agency.dir);
  try {
    return await f(agency, store);
  } finally {
    store.close();
  }
}

/** What the commands run, loaded by the one that runs (`concordat` starts once per command). */
const implementation = async () => ({ ...(await import('../../agency/transparency.js')), ...(await import('../../sdk/agency-client.js')) });

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("the coordinator's audit transparency log: check it, show and compare its heads, verify exports");

  audit
    .command('check')
    .description("verify the coordinator's signed head under the pinned log key, its consistency with the last head verified here, and the inclusion of every entry involving this agency since the last check")
    .requiredOption('--dir <dir>', 'agency directory')
    .option('--export <file>', 'then write the entries involving this agency, each with its inclusion proof, for `audit verify-export`')
    .action(async (o: { dir: string; export?: string }) => {
      const { checkAuditLog, exportWithProofs, logKeyFingerprint, pinnedLogKey, agencyClient } = await implementation();
      await withAgency(o.dir, async (agency, store) => {
        const client = agencyClient(agency, { warn: err });
        try {
          const r = await checkAuditLog(client, store);
          if (r.pinned) out(`audit: pinned the log key, fingerprint ${logKeyFingerprint(pinnedLogKey(store) as Uint8Array)}: compare it with the coordinator's operator out of band`);
          out(`audit: head of ${r.head.head.size} entries verified${r.previous ? `, consistent with the head of ${r.previous.head.size}` : ''}`);
          out(`audit: ${r.verified} entr${r.verified === 1 ? 'y' : 'ies'} involving this agency proved included${r.unverifiable ? `; ${r.unverifiable} with a withheld part that is not sealed (not recomputable here)` : ''}`);
          if (o.export !== undefined) {
            const fd = openSync(o.export, 'w', 0o600);
            let n = -1;
            try {
              for await (const line of exportWithProofs(client, r)) {
                writeSync(fd, line);
                n++;
              }
            } finally {
              closeSync(fd);
            }
            appendAudit(store, { officer: null, action: 'audit.export', subject: SUBJECT, outcome: 'ok', detail: { entries: n, size: r.head.head.size, proofs: true } });
            out(`audit: exported ${n} entries with proofs against the head of ${r.head.head.size} to ${o.export}`);
          }
          process.exitCode = EXIT.ok;
        } catch (e) {
          if (e instanceof AuditLogError) err(`audit: !!! ${e.message}`);
          throw e;
        }
      });
    });

  audit
    .command('head')
    .description('print the newest signed head verified here (log id, size, root, time, signature, log key fingerprint), to compare with other parties')
    .requiredOption('--dir <dir>', 'agency directory')
    .option('--json', 'as JSON, the input of `audit compare`')
    .action(async (o: { dir: string; json?: boolean }) => {
      const { latestHead, logKeyFingerprint, pinnedLogKey } = await implementation();
      await withAgency(o.dir, async (agency, store) => {
        const h = latestHead(store);
        const key = pinnedLogKey(store);
        if (!h || !key) throw new AgencyError('no head verified yet: run `concordat audit check` (or a sync) first');
        if (o.json) {
          out(JSON.stringify({ agency: agency.agency, head: h.head, signature: h.signature, verifiedAt: h.verifiedAt, logKey: Buffer.from(key).toString('hex'), fingerprint: logKeyFingerprint(key) }));
        } else {
          out(`log:         ${h.head.log}`);
          out(`size:        ${h.head.size}`);
          out(`root:        ${h.head.root}`);
          out(`signed at:   ${h.head.at}`);
          out(`signature:   ${h.signature}`);
          out(`verified at: ${h.verifiedAt}`);
          out(`log key:     ${Buffer.from(key).toString('hex')}`);
          out(`fingerprint: ${logKeyFingerprint(key)}`);
        }
        process.exitCode = EXIT.ok;
      });
    });

  audit
    .command('compare')
    .description('compare heads from several parties (`audit head --json` outputs): one size, one root; with --dir, the smaller proved a prefix of the larger')
    .argument('<files...>', 'head files')
    .option('--dir <dir>', 'agency directory: its pinned log key, the coordinator for consistency proofs, and its local trail for a split view')
    .option('--log-key <hex>', 'the log public key (without --dir)')
    .action(async (files: string[], o: { dir?: string; logKey?: string }) => {
      const { compareHeads, pinnedLogKey, agencyClient } = await implementation();
      const heads = files.map((f) => {
        let v: { head?: unknown; signature?: unknown; agency?: unknown };
        try {
          v = JSON.parse(readFileSync(f, 'utf8')) as typeof v;
        } catch {
          throw new AgencyError(`${f}: not a head file (the JSON of \`concordat audit head --json\`)`);
        }
        return { name: typeof v.agency === 'string' ? `${v.agency} (${basename(f)})` : basename(f), head: v.head, signature: v.signature };
      });
      const run = async (key: Uint8Array, consistency?: (from: number, to: number) => Promise<readonly string[]>, store?: Store) => {
        const r = await compareHeads(heads, key, consistency);
        for (const l of r.lines) (r.ok ? out : err)(`audit: ${r.ok ? '' : '!!! '}${l}`);
        if (!r.ok) {
          if (store) appendAudit(store, { officer: null, action: 'audit_log.inconsistent', subject: SUBJECT, outcome: 'refused', detail: { check: 'split-view', heads: heads.length, sizes: heads.map((h) => (h.head as { size?: number } | undefined)?.size ?? null).join(',') } });
          throw new AuditLogError('split-view', 'the heads do not describe one log: the coordinator showed parties different histories (a split view)');
        }
        out('audit: the heads describe one log');
        process.exitCode = EXIT.ok;
      };
      if (o.dir !== undefined) {
        await withAgency(o.dir, async (agency, store) => {
          const key = o.logKey !== undefined ? parseLogKey(o.logKey) : pinnedLogKey(store);
          if (!key) throw new AgencyError('no log key pinned here yet: run `concordat audit check` first, or give --log-key');
          const client = agencyClient(agency, { warn: err });
          await run(key, async (from, to) => (await client.auditConsistency(from, to)).proof, store);
        });
      } else {
        if (o.logKey === undefined) throw new AgencyError('give --dir or --log-key');
        await run(parseLogKey(o.logKey));
      }
    });

  audit
    .command('verify-export')
    .description('verify an export with proofs offline: a signed head on line 1, then each entry with its inclusion proof against it')
    .argument('<file>', 'export file (JSON Lines)')
    .requiredOption('--log-key <hex>', 'the log public key, as pinned (`concordat audit head`)')
    .option('--dir <dir>', "agency directory whose local trail records a refused export")
    .action(async (file: string, o: { logKey: string; dir?: string }) => {
      const { verifyExport } = await implementation();
      const key = parseLogKey(o.logKey);
      const r = verifyExport(readFileSync(file, 'utf8'), key);
      if (r.ok) {
        out(`audit: ${file}: ${r.entries} entries verified against the head of ${r.head?.size} entries of log ${auditLogId(key)}`);
        process.exitCode = EXIT.ok;
        return;
      }
      if (o.dir !== undefined) {
        await withAgency(o.dir, async (_agency, store) => {
          appendAudit(store, { officer: null, action: 'audit_log.export_refused', subject: basename(file), outcome: 'refused', detail: { check: 'export', line: r.line ?? null } });
        });
      }
      err(`audit: !!! ${file}:${r.line}: ${r.reason}`);
      throw new AuditLogError('export', `${file}:${r.line}: the export does not verify`, { line: r.line ?? null });
    });
}
