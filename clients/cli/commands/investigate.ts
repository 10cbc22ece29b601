// `concordat query`, `concordat serve` and `concordat hits`: targeted
// hit/no-hit queries, the responder daemon, and the two-step status of hits
// (API.md part 2). Values are never printed: results refer to them by index.
import { Option, type Command } from 'commander';
import { ENGINE_NAMES } from '../../../protocol/engine/types.js';
import { loadAgency, lockAgency, SERVE_LOCK_FILE } from '../../agency/config.js';
import { HIT_STATUSES, type HitStatusName } from '../../agency/hit-names.js';
import type { QueryContext } from '../../agency/query.js';
import { DEFAULT_UI_HOST, DEFAULT_UI_PORT } from '../../console/defaults.js';
import type { ConsoleServer } from '../../console/server.js';
import { AgencyError, CoordinatorError, EXIT, UsageError } from '../../sdk/errors.js';
import { openStore } from '../../store/db.js';

const QUERY_BUSY_TIMEOUT_MS = 10 * 60_000;

const out = (l: string) => process.stdout.write(`${l}\n`);
const err = (l: string) => process.stderr.write(`${l}\n`);

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

function seconds(name: string, v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`${name}: expected a number of seconds`);
  return Number(v);
}

interface QueryOpts {
  dir: string;
  partner?: string[];
  all?: boolean;
  kind?: string;
  value?: string;
  values?: string;
  case?: string;
  purpose?: string;
  officer?: string;
  json?: boolean;
  timeout: string;
  defaultCountry?: string;
  status?: string;
}

export function registerInvestigate(program: Command): void {
  program
    .command('query')
    .description('targeted hit/no-hit query of 1..100 identifiers at partner agencies (or --status ID to follow one up)')
    .requiredOption('--dir <dir>', 'agency directory')
    .option('--partner <id>', 'partner agency to ask (repeatable, or comma-separated)', collect)
    .option('--all', 'ask every partner whose reveal agreement allows --kind for --purpose')
    .option('--kind <kind>', 'identifier kind of every value (passport, email, phone, …)')
    .option('--value <value>', 'one value (visible in the process list: prefer --values FILE)')
    .option('--values <file>', 'file with one value per line (at most 100)')
    .option('--case <ref>', 'case reference (1..100 characters), shown to the partner')
    .option('--purpose <purpose>', 'purpose from the deployment list, e.g. terrorism')
    .option('--officer <id>', 'the investigating officer (1..64 characters), audited, never shown to the partner')
    .option('--json', 'print {"results":[…],"query_id"} instead of a table')
    .option('--timeout <seconds>', 'how long to wait for answers', '30')
    .option('--default-country <iso2>', 'country for phone numbers without a country calling code')
    .option('--status <queryId>', 'follow up a query asked earlier from this directory')
    .action(async (o: QueryOpts) => {
      // Each command loads only what it runs.
      const [{ loadEngine }, { canonicalizeValues, createQuery, followQuery }, { describeRefusal, formatQueryJson, formatQueryTable, queryExitCode, queryWarnings, readValuesFile }, { agencyClient }] =
        await Promise.all([import('../../../protocol/engine/index.js'), import('../../agency/query.js'), import('../../agency/query/output.js'), import('../../sdk/agency-client.js')]);
      const timeout = seconds('--timeout', o.timeout);
      if (o.status !== undefined) {
        const extra = (['partner', 'all', 'kind', 'value', 'values', 'case', 'purpose', 'officer', 'defaultCountry'] as const).filter((k) => o[k] !== undefined);
        if (extra.length > 0) throw new UsageError(`--status takes only --dir, --json and --timeout (not --${extra.join(', --')})`);
      } else {
        const missing = (['kind', 'case', 'purpose', 'officer'] as const).filter((k) => o[k] === undefined);
        if (missing.length > 0) throw new UsageError(`missing --${missing.join(', --')}`);
        if ((o.value === undefined) === (o.values === undefined)) throw new UsageError('give exactly one of --value V and --values FILE');
        if (!o.all && !o.partner) throw new UsageError('give --partner ID or --all');
        if (o.all && o.partner) throw new UsageError('give either --partner or --all, not both');
      }
      let defaultCountry: string | undefined;
      if (o.defaultCountry !== undefined) {
        if (!/^[A-Za-z]{2}$/.test(o.defaultCountry)) throw new UsageError('--default-country: expected an ISO 3166-1 alpha-2 code such as ES');
        defaultCountry = o.defaultCountry.toUpperCase();
      }
      // Values are read and canonicalised before anything else: a bad one stops here, unsent.
      const canonical =
        o.status === undefined
          ? canonicalizeValues(o.kind as string, o.value !== undefined ? { values: [o.value] } : readValuesFile(o.values as string), defaultCountry)
          : [];
      const agency = loadAgency(o.dir, err);
      const store = openStore(agency.dir);
      // A sync commits a batch of new positions in one transaction that spans their blinding (seconds
      // nightly, minutes after a rotation): the query's few writes wait for it rather than fail.
      store.sqlite.pragma(`busy_timeout = ${QUERY_BUSY_TIMEOUT_MS}`);
      try {
        const ctx: QueryContext = {
          agency,
          store,
          client: agencyClient(agency, { retries: 3, timeoutMs: 30_000, warn: err, label: 'query', backoffMaxMs: 5_000 }),
          engine: await loadEngine(),
        };
        let id: string;
        if (o.status !== undefined) id = o.status;
        else {
          try {
            id = await createQuery(
              ctx,
              {
                ...(o.partner ? { partners: o.partner } : {}),
                all: o.all === true,
                kind: o.kind as string,
                purpose: o.purpose as string,
                caseRef: o.case as string,
                officer: o.officer as string,
              },
              canonical,
            );
          } catch (e) {
            if (e instanceof CoordinatorError && e.status >= 400 && e.status < 500) {
              err(`query: ${describeRefusal(e)}`);
              process.exitCode = EXIT.error;
              return;
            }
            throw e;
          }
          if (!o.json) err(`query: ${id} sent (${canonical.length} value(s)); waiting up to ${timeout} s for answers`);
        }
        const report = await followQuery(ctx, id, timeout, { fresh: o.status === undefined });
        process.stdout.write(o.json ? `${formatQueryJson(report)}\n` : formatQueryTable(report));
        for (const w of queryWarnings(report, o.dir)) err(w);
        process.exitCode = queryExitCode(report);
      } finally {
        store.close();
      }
    });

  program
    .command('serve')
    .description('responder daemon: answers targeted queries by long poll (no inbound port) and syncs on a schedule')
    .requiredOption('--dir <dir>', 'agency directory')
    .option('--sync-every <minutes>', 'minutes between syncs (0: no scheduled sync)', '60')
    .option('--once', 'sync once, answer every pending query, and exit')
    .addOption(new Option('--engine <name>', 'crypto engine of the sync (default: $CONCORDAT_ENGINE, else native where the system libsodium loads, else fast)').choices([...ENGINE_NAMES]))
    .option('--ui', 'also serve the investigator console (needs an officer: `concordat officers add`)')
    .option('--ui-port <port>', `console port (default ${DEFAULT_UI_PORT}; 0 picks a free one)`)
    .option('--ui-host <address>', `console address (default ${DEFAULT_UI_HOST}; anything else is reachable from other machines)`)
    .action(async (o: { dir: string; syncEvery: string; once?: boolean; engine?: string; ui?: boolean; uiPort?: string; uiHost?: string }) => {
      if (!/^\d+(\.\d+)?$/.test(o.syncEvery)) throw new AgencyError('--sync-every: expected a number of minutes');
      const [{ engineNameFrom, loadEngine }, { serveAgency }, { agencyClient }] = await Promise.all([
        import('../../../protocol/engine/index.js'),
        import('../../agency/serve.js'),
        import('../../sdk/agency-client.js'),
      ]);
      if (!o.ui && (o.uiPort !== undefined || o.uiHost !== undefined)) throw new AgencyError('--ui-port and --ui-host need --ui');
      if (o.ui && o.once) throw new AgencyError('--ui serves the console until stopped; it cannot be combined with --once');
      const uiPort = o.uiPort === undefined ? DEFAULT_UI_PORT : Number(o.uiPort);
      if (!/^\d{1,5}$/.test(o.uiPort ?? '0') || uiPort > 65535) throw new AgencyError('--ui-port: expected a port number 0..65535');
      const agency = loadAgency(o.dir, err);
      const unlock = lockAgency(agency.dir, 'serve', SERVE_LOCK_FILE);
      let nextSync: Date | undefined;
      let console_: ConsoleServer | undefined;
      if (o.ui) {
        try {
          // Loaded only here: the console's HTTP stack and PDF writer cost every other command ≈0.2 s at start.
          const { startConsole } = await import('../../console/server.js');
          console_ = await startConsole({
            agency,
            client: agencyClient(agency, { retries: 2, timeoutMs: 30_000, warn: err, label: 'console' }),
            engine: await loadEngine(),
            ...(o.uiHost !== undefined ? { host: o.uiHost } : {}),
            port: uiPort,
            log: out,
            warn: err,
            nextSync: () => nextSync,
          });
        } catch (e) {
          unlock();
          throw e;
        }
        out(`serve: investigator console on ${console_.url}`);
      }
      const ac = new AbortController();
      const stop = (sig: string) => {
        if (ac.signal.aborted) {
          // A second signal while a sync finishes its step: leave now (a sync resumes; stale locks are taken over).
          err(`serve: ${sig} received again, exiting without waiting`);
          process.exit(EXIT.interrupted);
        }
        out(`serve: ${sig} received, stopping`);
        ac.abort();
      };
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      try {
        process.exitCode = await serveAgency(agency, {
          client: agencyClient(agency, { warn: err, label: 'serve', backoffMaxMs: 10_000 }),
          syncEveryMinutes: Number(o.syncEvery),
          once: o.once === true,
          signal: ac.signal,
          log: out,
          warn: err,
          syncEngine: engineNameFrom(o.engine, process.env.CONCORDAT_ENGINE),
          onNextSync: (at) => (nextSync = at),
        });
      } finally {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        await console_?.close();
        unlock();
      }
    });

  const hits = program
    .command('hits')
    .description('list hits (nightly matches and query hits) with their status; `hits confirm|decline HANDLE` to decide one')
    .option('--dir <dir>', 'agency directory')
    .addOption(new Option('--status <status>', 'only hits in this status').choices([...HIT_STATUSES]))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (o: { dir?: string; status?: HitStatusName; format: 'table' | 'json' }) => {
      if (!o.dir) throw new AgencyError("required option '--dir <dir>' not specified");
      const [{ formatHitsJson, formatHitsTable, listHits }, { agencyClient }] = await Promise.all([import('../../agency/hits.js'), import('../../sdk/agency-client.js')]);
      const agency = loadAgency(o.dir, err);
      const store = openStore(agency.dir);
      try {
        const list = await listHits(agencyClient(agency, { retries: 2, timeoutMs: 30_000, warn: err, label: 'hits' }), store, o.status);
        process.stdout.write(o.format === 'json' ? `${formatHitsJson(list)}\n` : formatHitsTable(list));
        process.exitCode = EXIT.ok;
      } finally {
        store.close();
      }
    });

  for (const decision of ['confirm', 'decline'] as const) {
    hits
      .command(decision)
      .description(`${decision} a hit this agency holds (an officer's decision, audited)`)
      .argument('<handle>', 'the match handle')
      .requiredOption('--officer <id>', 'the deciding officer (1..64 characters)')
      .option('--note <text>', 'optional note (at most 500 characters)')
      .action(async (handle: string, _o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<{ dir?: string; officer: string; note?: string; format: 'table' | 'json' }>();
        if (!o.dir) throw new AgencyError("required option '--dir <dir>' not specified");
        const [{ decideHit, formatHitsTable }, { agencyClient }] = await Promise.all([import('../../agency/hits.js'), import('../../sdk/agency-client.js')]);
        const agency = loadAgency(o.dir, err);
        const store = openStore(agency.dir);
        try {
          const hit = await decideHit(agencyClient(agency, { retries: 2, timeoutMs: 30_000, warn: err, label: 'hits' }), store, handle, decision, o.officer, o.note);
          process.stdout.write(o.format === 'json' ? `${JSON.stringify({ hit })}\n` : formatHitsTable([hit]));
          process.exitCode = EXIT.ok;
        } finally {
          store.close();
        }
      });
  }
}
