// The agency commands of `concordat`: init, import, sync, results. Their
// flags, output and exit codes are a contract operators' scripts depend on
// (clients/README-cli.md).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ENGINE_NAMES, engineNameFrom } from '../../../protocol/engine/index.js';
import { initAgency, loadAgency, lockAgency } from '../../agency/config.js';
import { defaultProgress } from '../../agency/progress.js';
import type { SyncReport } from '../../agency/sync/report.js';
import { DEFAULT_MAX_WITHDRAWAL_PERCENT } from '../../agency/withdrawal.js';
import { AgencyError, EXIT } from '../../sdk/errors.js';
import { openStore } from '../../store/db.js';

const out = (l: string) => process.stdout.write(`${l}\n`);
const err = (l: string) => process.stderr.write(`${l}\n`);

export function registerAgency(program: Command): void {
  program
    .command('init')
    .description('create an agency directory: agency.json, signing key pair, epoch seed (secrets 0600)')
    .requiredOption('--dir <dir>', 'agency directory to create')
    .requiredOption('--agency <id>', 'agency id as registered at the coordinator, e.g. FR-OCRTEH')
    .requiredOption('--coordinator <url>', 'coordinator base URL, e.g. https://concordat.example.org')
    .action((o: { dir: string; agency: string; coordinator: string }) => {
      const r = initAgency(o);
      openStore(r.dir).close();
      out(`agency ${r.agency} initialised in ${r.dir}`);
      out(`give the coordinator's administrator the agency id ${r.agency} and the public key file ${r.publicKeyPath}`);
      out(`public key: ${r.publicKeyHex}`);
      process.exitCode = EXIT.ok;
    });

  program
    .command('import')
    .description("replace the stored watchlist with FILE, the agency's full current watchlist (CSV record_id,kind,value or JSON Lines)")
    .requiredOption('--dir <dir>', 'agency directory')
    .argument('<file>', 'watchlist file (.csv, .jsonl/.ndjson; other names are sniffed)')
    .option('--default-country <iso2>', 'ISO 3166-1 alpha-2 country for phone numbers without a country calling code')
    .option('--strict', 'refuse the whole file if any row is bad (nothing is imported)')
    .option('--encoding <label>', 'the file\'s encoding when it is not UTF-8: latin1, windows-1252, utf-16le, utf-16be, … (default: UTF-8, or UTF-16 by its byte order mark)')
    .option('--max-withdrawal <percent>', `refuse an import that would withdraw more than this share of the stored watchlist (default ${DEFAULT_MAX_WITHDRAWAL_PERCENT})`)
    .option('--allow-mass-withdrawal', 'allow the import to withdraw any share of the watchlist')
    .action(
      async (
        file: string,
        o: { dir: string; defaultCountry?: string; strict?: boolean; encoding?: string; maxWithdrawal?: string; allowMassWithdrawal?: boolean },
      ) => {
        let defaultCountry: string | undefined;
        if (o.defaultCountry !== undefined) {
          if (!/^[A-Za-z]{2}$/.test(o.defaultCountry)) throw new AgencyError('--default-country: expected an ISO 3166-1 alpha-2 code such as ES');
          defaultCountry = o.defaultCountry.toUpperCase();
        }
        let maxWithdrawalPercent: number | undefined;
        if (o.maxWithdrawal !== undefined) {
          maxWithdrawalPercent = Number(o.maxWithdrawal.replace(/%$/, ''));
          if (o.maxWithdrawal.trim() === '' || !(maxWithdrawalPercent >= 0 && maxWithdrawalPercent <= 100)) {
            throw new AgencyError('--max-withdrawal: expected a percentage from 0 to 100, such as 20');
          }
        }
        // Each command loads only what it runs: `concordat` starts once per cron step.
        const { formatImportSummary, importWatchlist } = await import('../../agency/watchlist.js');
        const agency = loadAgency(o.dir, err);
        const unlock = lockAgency(agency.dir, 'import');
        const store = openStore(agency.dir);
        try {
          const s = await importWatchlist(store, resolve(file), {
            label: file,
            strict: o.strict === true,
            allowMassWithdrawal: o.allowMassWithdrawal === true,
            ...(defaultCountry ? { defaultCountry } : {}),
            ...(o.encoding !== undefined ? { encoding: o.encoding } : {}),
            ...(maxWithdrawalPercent !== undefined ? { maxWithdrawalPercent } : {}),
            onReject: (r) => err(`${file}:${r.line}: ${r.reason}`),
          });
          if (!s.imported) {
            err(`import: ${s.rejected} of ${s.rows} rows rejected; --strict: nothing imported`);
            process.exitCode = EXIT.error;
            return;
          }
          if (s.identifiers === 0 && s.withdrawn > 0) err(`import: warning: ${file} holds no valid identifier; every identifier is withdrawn at the next sync`);
          out(formatImportSummary(s));
          process.exitCode = EXIT.ok;
        } finally {
          store.close();
          unlock();
        }
      },
    );

  program
    .command('sync')
    .description('push the watchlist delta to every pair, do pending partner work, pull results (idempotent, resumable)')
    .requiredOption('--dir <dir>', 'agency directory')
    .addOption(new Option('--engine <name>', 'crypto engine (default: $CONCORDAT_ENGINE, else native where the system libsodium loads, else fast)').choices([...ENGINE_NAMES]))
    .option('--json', 'print the report (every pair\'s summary, failed pairs, errors) as one JSON document on stdout; the lines go to stderr')
    .action(async (o: { dir: string; engine?: string; json?: boolean }) => {
      // With --json, stdout carries only the report.
      const line = o.json ? err : out;
      const { sync } = await import('../../agency/sync.js');
      const agency = loadAgency(o.dir, err);
      const unlock = lockAgency(agency.dir, 'sync');
      const store = openStore(agency.dir);
      const started = Date.now();
      try {
        const report = await sync(agency, store, {
          log: line,
          warn: err,
          progress: defaultProgress('sync'),
          engine: engineNameFrom(o.engine, process.env.CONCORDAT_ENGINE),
        });
        line(`sync: done in ${((Date.now() - started) / 1000).toFixed(1)} s (epoch ${report.epoch})`);
        if (o.json) out(JSON.stringify(report satisfies SyncReport));
        if (report.errors.length > 0) {
          err(`sync: ${report.errors.length} error(s); rerun sync to resume`);
          process.exitCode = report.auditLogFailed ? EXIT.auditLog : report.unavailable ? EXIT.unavailable : EXIT.error;
        } else process.exitCode = report.failedPairs.length > 0 ? EXIT.pairFailed : EXIT.ok;
      } finally {
        store.close();
        unlock();
      }
    });

  program
    .command('results')
    .description('refresh results from the coordinator (read-only) and print them')
    .requiredOption('--dir <dir>', 'agency directory')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .option('--no-refresh', 'print the results last pulled, without asking the coordinator')
    .action(async (o: { dir: string; format: 'table' | 'csv' | 'json'; refresh: boolean }) => {
      const [{ failedPairs, formatCsv, formatJson, formatTable, loadResultsView, pullResults }, { pullHitStatuses }, { agencyClient }] = await Promise.all([
        import('../../agency/results.js'),
        import('../../agency/hits.js'),
        import('../../sdk/agency-client.js'),
      ]);
      const agency = loadAgency(o.dir, err);
      const store = openStore(agency.dir);
      try {
        if (o.refresh) {
          try {
            const client = agencyClient(agency, { retries: 2, timeoutMs: 30_000 });
            await pullResults(client, store);
            await pullHitStatuses(client, store);
          } catch (e) {
            const last = store.sqlite.prepare('SELECT max(updated_at) FROM pair_results').pluck().get() as string | null;
            const busy = (e as { code?: unknown }).code === 'SQLITE_BUSY';
            err(
              busy
                ? 'results: warning: the local store is busy (a sync is running); not refreshed'
                : `results: warning: could not refresh from the coordinator (${e instanceof Error ? e.message : String(e)})`,
            );
            err(`results: warning: showing the results last pulled ${last ? `at ${last}` : '(none pulled yet)'}`);
          }
        }
        const view = loadResultsView(store);
        process.stdout.write(o.format === 'json' ? `${formatJson(view)}\n` : o.format === 'csv' ? formatCsv(view) : formatTable(view));
        const failed = failedPairs(view);
        if (o.format !== 'table') for (const f of failed) err(`results: !!! PAIR FAILED ${f.pair} (partner ${f.partner}): ${f.reason ?? 'no reason given'}`);
        process.exitCode = EXIT.ok;
      } finally {
        store.close();
      }
    });
}
