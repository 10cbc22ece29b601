// `concordat coordinator …`: init, serve, admin, audit verify|export.
// bin/concordat.js dispatches here with argv starting at `coordinator`.
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { bytesToHex } from '../../protocol/bytes.js';
import { canonicalJsonText } from '../../protocol/canonical.js';
import { randomBytes } from '../../protocol/rng.js';
import { signingPublicKey } from '../../protocol/signed.js';
import { AuditChainVerifier, AUDIT_GENESIS_HASH, auditRecord, involves, withSalts } from '../audit.js';
import { DEFAULT_PURPOSES, defaultConfig, PURPOSE_RE, type DeploymentConfig } from '../config.js';
import { FIRST_EPOCH } from '../epochs.js';
import { ensurePrivateDir, readKeyFile, writeSecretKeyFile } from '../node/keyfiles.js';
import { openSqliteStore, readAuditCheckpointFile, readAuditFile, readAuditTreeFile } from '../store/sqlite.js';
import { currentHead, inclusionProofJson, verifyStoredTree } from '../tlog.js';
import { AGENCY_ID_RE, isCalendarDate } from '../validation.js';
import { CONCORDAT_V2_CONTEXT } from '../../protocol/constants.js';
import { PROTOCOL_NAME } from '../../wire/index.js';
import { COORDINATOR_VERSION, SERVICE_NAME } from '../version.js';
import { DatabaseCorruptError } from '../store/drivers/better-sqlite3.js';
import { AdminClient } from './admin-client.js';
import { backup, DEFAULT_MIN_FREE_MB, doctor, restore } from './ops.js';
import { COORDINATOR_EXIT, CoordinatorCliError } from './exit-codes.js';
import { ADMIN_KEY_FILE, DB_FILE, startServer } from './serve.js';
import { batchedLines } from '../node/log.js';

export { ADMIN_KEY_FILE, DB_FILE };

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function int(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`not a non-negative integer: ${value}`);
  return Number(value);
}

function purposeList(value: string): string[] {
  const out = list(value);
  for (const p of out) if (!PURPOSE_RE.test(p)) throw new InvalidArgumentError(`not a purpose (lower-case letters, digits, _): ${p}`);
  if (new Set(out).size !== out.length) throw new InvalidArgumentError('purposes must be distinct');
  if (out.length === 0) throw new InvalidArgumentError('give at least one purpose');
  return out;
}

async function init(dir: string, purposes: string[] | undefined): Promise<number> {
  const dbPath = join(dir, DB_FILE);
  const keyPath = join(dir, ADMIN_KEY_FILE);
  if (existsSync(dbPath)) {
    console.error(`concordat coordinator: ${dbPath} already exists; refusing to overwrite an initialised coordinator`);
    return 1;
  }
  if (existsSync(keyPath)) {
    console.error(`concordat coordinator: ${keyPath} already exists; refusing to overwrite the admin key`);
    return 1;
  }
  ensurePrivateDir(dir);
  const adminSecret = randomBytes(32);
  const adminPublic = ed25519.getPublicKey(adminSecret);
  const store = openSqliteStore(dbPath);
  try {
    const at = new Date().toISOString();
    const config: DeploymentConfig = { ...defaultConfig(), purposes: purposes ?? [...DEFAULT_PURPOSES] };
    await store.initialise({ adminKey: adminPublic, handleKey: randomBytes(32), epoch: { id: FIRST_EPOCH, startedAt: at }, at, config });
    await store.appendAudit({
      at,
      actor: 'admin',
      action: 'coordinator.initialised',
      subject: 'coordinator',
      outcome: 'ok',
      detail: { epoch: FIRST_EPOCH, adminKey: bytesToHex(adminPublic), purposes: config.purposes, retention: { ...config.retention } },
    });
  } finally {
    await store.close();
  }
  writeSecretKeyFile(keyPath, adminSecret);
  console.log(bytesToHex(adminPublic));
  return 0;
}

async function serveCommand(data: string, host: string, port: number, integrityEveryMs: number): Promise<number> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const lines = batchedLines(process.stdout);
  // A process that ends another way (an uncaught error) still writes what waits.
  process.once('exit', lines.flush);
  try {
    const server = await startServer({ data, host, port, integrityEveryMs, signal: ac.signal, out: lines.write });
    return await server.closed;
  } finally {
    lines.flush();
    process.off('exit', lines.flush);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function auditVerify(dir: string): number {
  const dbPath = join(dir, DB_FILE);
  if (!existsSync(dbPath)) {
    console.error(`concordat coordinator: ${dbPath} does not exist`);
    return 1;
  }
  // After a retention purge the chain starts from the checkpoint of the last removed entry.
  const checkpoint = readAuditCheckpointFile(dbPath);
  const v = new AuditChainVerifier(checkpoint);
  for (const entry of readAuditFile(dbPath)) {
    const bad = v.push(entry);
    if (bad && !bad.ok) {
      const { hash, ...event } = entry;
      console.error(`audit chain broken at seq ${bad.seq}: ${bad.reason}`);
      console.error(JSON.stringify({ ...event, hash: bytesToHex(hash) }));
      return 1;
    }
  }
  const r = v.result();
  if (!r.ok) {
    console.error(`audit chain broken at seq ${r.seq}: ${r.reason}`);
    return 1;
  }
  const from = checkpoint ? ` after the retention checkpoint at seq ${checkpoint.seq}` : '';
  console.log(`audit chain ok: ${r.count} entries${from}; head ${v.head()}`);
  return auditTreeVerify(dbPath, (checkpoint?.seq ?? 0) + r.count, checkpoint?.seq ?? 0);
}

/** The transparency log (protocol/SPEC.md §9): the retained entries reproduce the stored tree, and the tree every stored head. */
function auditTreeVerify(dbPath: string, size: number, purgedThrough: number): number {
  const tree = readAuditTreeFile(dbPath);
  if (!tree.keys) {
    if (size === 0) return 0;
    console.error('audit tree missing: this database has no audit log keys (it predates the transparency log; the next append builds the tree)');
    return 1;
  }
  const t = verifyStoredTree({ hashes: tree.hashes(), entries: readAuditFile(dbPath), size, purgedThrough, heads: tree.heads, keys: tree.keys });
  if (!t.ok) {
    console.error(`audit tree broken${t.seq !== undefined ? ` at seq ${t.seq}` : ''}: ${t.reason}`);
    return 1;
  }
  const latest = tree.heads.at(-1);
  const signed = latest ? `; latest signed head: ${latest.size} entries at ${latest.at}` : '';
  console.log(`audit tree ok: ${t.leaves} leaves, root ${t.root}, ${t.heads} signed heads verified${signed}; log key ${bytesToHex(signingPublicKey(tree.keys.logKey))}`);
  return 0;
}

async function auditExport(dir: string, agency: string, from: string | undefined, out: string | undefined, proofs = false): Promise<number> {
  const dbPath = join(dir, DB_FILE);
  if (!existsSync(dbPath)) {
    console.error(`concordat coordinator: ${dbPath} does not exist`);
    return 1;
  }
  if (!AGENCY_ID_RE.test(agency)) {
    console.error(`concordat coordinator: not an agency id: ${agency}`);
    return 1;
  }
  if (from !== undefined && !isCalendarDate(from)) {
    console.error(`concordat coordinator: --from must be a date YYYY-MM-DD, got ${from}`);
    return 1;
  }
  const saltKey = readAuditTreeFile(dbPath).keys?.saltKey;
  if (proofs && !saltKey) {
    console.error('concordat coordinator: --proofs: this database has no audit log keys (it predates the transparency log)');
    return 1;
  }
  // --proofs: the signed head of the current tree first; each entry then carries its inclusion proof against it
  // (protocol/SPEC.md §9), every line in canonical JSON, so `concordat audit verify-export` checks the file offline.
  const store = proofs ? openSqliteStore(dbPath) : undefined;
  const fd = out === undefined ? undefined : openSync(out, 'w', 0o600);
  const write = (line: string) => (fd === undefined ? process.stdout.write(line) : writeSync(fd, line));
  let n = 0;
  try {
    const signed = store ? await currentHead(store, new Date()) : undefined;
    if (signed) write(`${canonicalJsonText(signed)}\n`);
    // Each line carries prevHash, so hash = SHA-256(prevHash ‖ canonicalJSON(event)) checks line by line.
    let previous = readAuditCheckpointFile(dbPath)?.hash ?? AUDIT_GENESIS_HASH;
    for (const e of readAuditFile(dbPath)) {
      const prevHash = previous;
      previous = e.hash;
      if (signed && e.seq > signed.head.size) break;
      if (from !== undefined && e.at < from) continue;
      if (!involves(e, agency)) continue;
      // With the salts of its sealed parts, so the leaf hash in the transparency log is recomputable too.
      const record = auditRecord(e, prevHash);
      const full = saltKey ? withSalts(record, saltKey) : record;
      if (store && signed) write(`${canonicalJsonText({ ...full, proof: await inclusionProofJson(store, e.seq, signed.head.size) })}\n`);
      else write(`${JSON.stringify(full)}\n`);
      n++;
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
    await store?.close();
  }
  if (out !== undefined) console.log(`exported ${n} audit entries involving ${agency} to ${out}${proofs ? ' with inclusion proofs against the signed head on its first line' : ''}`);
  return 0;
}

/** A number of days, or `epoch` (kept as the string: commander treats a parsed null as "no value"). */
function retentionDays(value: string): number | 'epoch' {
  return value === 'epoch' ? 'epoch' : int(value);
}

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export async function main(argv: string[]): Promise<number> {
  const args = argv[0] === 'coordinator' ? argv.slice(1) : argv;
  let code = 0;
  const program = new Command('concordat coordinator')
    .description('The Concordat coordinator: holds blinded data only, enforces agreements, matches, audits.')
    .version(`${SERVICE_NAME} ${COORDINATOR_VERSION} (protocol ${PROTOCOL_NAME}, suite ${CONCORDAT_V2_CONTEXT})`, '-V, --version', 'print the version and the protocol suite')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('init')
    .description('create DIR/coordinator.db and DIR/admin.key; prints the admin public key (hex)')
    .requiredOption('--data <dir>', 'data directory')
    .option('--purposes <list>', `comma-separated closed list of purposes (default ${DEFAULT_PURPOSES.join(',')})`, purposeList)
    .action(async (o: { data: string; purposes?: string[] }) => {
      code = await init(o.data, o.purposes);
    });

  program
    .command('serve')
    .description('serve the HTTP API')
    .requiredOption('--data <dir>', 'data directory')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '8787')
    .option('--integrity-every <minutes>', 'run PRAGMA quick_check this often while serving; a failure turns /readyz unready (0: never)', int, 360)
    .action(async (o: { data: string; host: string; port: string; integrityEvery: number }) => {
      const port = int(o.port);
      if (port > 65535) throw new CoordinatorCliError(`--port: out of range: ${o.port}`, COORDINATOR_EXIT.usage);
      code = await serveCommand(o.data, o.host, port, o.integrityEvery * 60_000);
    });

  const admin = program
    .command('admin')
    .description('signed admin requests to a running coordinator')
    .requiredOption('--url <url>', 'coordinator base URL, e.g. http://127.0.0.1:8787')
    .requiredOption('--admin-key <file>', 'admin secret key file (hex)');

  const client = (cmd: Command): AdminClient => {
    const g = cmd.optsWithGlobals<{ url: string; adminKey: string }>();
    return new AdminClient(g.url, readKeyFile(g.adminKey, 32, 'admin key'));
  };

  admin
    .command('agency')
    .description('agencies')
    .command('add')
    .description('register an agency and its request-signing public key')
    .requiredOption('--id <id>', 'agency id, e.g. FR-OCRTEH')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--country <iso3>', 'ISO 3166-1 alpha-3 country')
    .requiredOption('--key <pubfile>', "the agency's signing public key file (hex)")
    .action(async (o: { id: string; name: string; country: string; key: string }, cmd: Command) => {
      const signingKey = bytesToHex(readKeyFile(o.key, 32, 'public key'));
      print(await client(cmd).post('/v1/admin/agencies', { id: o.id, name: o.name, country: o.country, signingKey }));
    });

  const agreement = admin.command('agreement').description('agreements');
  agreement
    .command('add')
    .description('create an agreement between two or more agencies')
    .requiredOption('--id <id>', 'agreement id, e.g. es-pt')
    .requiredOption('--parties <list>', 'comma-separated agency ids', list)
    .requiredOption('--kinds <list>', 'comma-separated identifier kinds', list)
    .requiredOption('--mode <mode>', 'reveal or count')
    .requiredOption('--until <date>', 'last valid day, YYYY-MM-DD (UTC)')
    .requiredOption('--legal-basis <text>', 'legal basis of the exchange')
    .option('--from <date>', 'first valid day, YYYY-MM-DD (UTC); default today')
    .option('--max-set-size <n>', 'maximum live set size per side', int)
    .option('--purposes <list>', "comma-separated purposes targeted queries may cite (default: the deployment's list)", list)
    .option('--queries-per-day <n>', 'targeted queries per requesting agency per UTC day (default 50)', int)
    .option('--values-per-query <n>', 'values per targeted query, 1..100 (default 100)', int)
    .action(
      async (
        o: {
          id: string;
          parties: string[];
          kinds: string[];
          mode: string;
          until: string;
          legalBasis: string;
          from?: string;
          maxSetSize?: number;
          purposes?: string[];
          queriesPerDay?: number;
          valuesPerQuery?: number;
        },
        cmd: Command,
      ) => {
        const body: Record<string, unknown> = {
          id: o.id,
          parties: o.parties,
          kinds: o.kinds,
          mode: o.mode,
          validUntil: o.until,
          legalBasis: o.legalBasis,
        };
        if (o.from !== undefined) body.validFrom = o.from;
        if (o.maxSetSize !== undefined) body.maxSetSize = o.maxSetSize;
        if (o.purposes !== undefined) body.purposes = o.purposes;
        if (o.queriesPerDay !== undefined || o.valuesPerQuery !== undefined) {
          body.queryQuota = {
            ...(o.queriesPerDay !== undefined ? { perDay: o.queriesPerDay } : {}),
            ...(o.valuesPerQuery !== undefined ? { maxValues: o.valuesPerQuery } : {}),
          };
        }
        print(await client(cmd).post('/v1/admin/agreements', body));
      },
    );
  agreement
    .command('list')
    .description('list agreements')
    .action(async (_o: unknown, cmd: Command) => {
      print(await client(cmd).get('/v1/admin/agreements'));
    });

  const config = admin.command('config').description('deployment configuration: purposes and retention');
  config
    .command('show')
    .description('print the configuration')
    .action(async (_o: unknown, cmd: Command) => {
      print(await client(cmd).get('/v1/admin/config'));
    });
  config
    .command('set')
    .description('change purposes and/or retention')
    .option('--purposes <list>', 'comma-separated closed list of purposes', purposeList)
    .option('--data-retention-days <n|epoch>', "days an epoch's pair data outlives the epoch, or `epoch` (until the next epoch completes)", retentionDays)
    .option('--audit-retention-days <n>', 'days audit entries are kept', int)
    .action(async (o: { purposes?: string[]; dataRetentionDays?: number | 'epoch'; auditRetentionDays?: number }, cmd: Command) => {
      const body: Record<string, unknown> = {};
      if (o.purposes !== undefined) body.purposes = o.purposes;
      if (o.dataRetentionDays !== undefined || o.auditRetentionDays !== undefined) {
        body.retention = {
          ...(o.dataRetentionDays !== undefined ? { dataDays: o.dataRetentionDays === 'epoch' ? null : o.dataRetentionDays } : {}),
          ...(o.auditRetentionDays !== undefined ? { auditDays: o.auditRetentionDays } : {}),
        };
      }
      if (Object.keys(body).length === 0) throw new CoordinatorCliError('nothing to set: give --purposes, --data-retention-days or --audit-retention-days', COORDINATOR_EXIT.usage);
      print(await client(cmd).put('/v1/admin/config', body));
    });

  admin
    .command('epoch')
    .description('epochs')
    .command('rotate')
    .description('start the next epoch; prints its id')
    .action(async (_o: unknown, cmd: Command) => {
      const r = (await client(cmd).post('/v1/admin/epochs/rotate', {})) as { epoch: { id: string } };
      console.log(r.epoch.id);
    });

  admin
    .command('purge')
    .description('run the retention purge now')
    .action(async (_o: unknown, cmd: Command) => {
      print(await client(cmd).post('/v1/admin/purge', {}));
    });

  const audit = program.command('audit').description('audit log');
  audit
    .command('verify')
    .description('re-walk the hash chain of the audit log (from the retention checkpoint, if any), then check the retained entries against the transparency log and its signed heads')
    .requiredOption('--data <dir>', 'data directory')
    .action((o: { data: string }) => {
      code = auditVerify(o.data);
    });
  audit
    .command('export')
    .description('write the entries involving an agency as JSON Lines (seq, hash and prevHash on each line)')
    .requiredOption('--data <dir>', 'data directory')
    .requiredOption('--agency <id>', 'agency id, e.g. ES-CNP')
    .option('--from <date>', 'first day, YYYY-MM-DD (UTC)')
    .option('--out <file>', 'output file (default: standard output)')
    .option('--proofs', 'first line the signed head of the current tree, then each entry with its inclusion proof against it (for `concordat audit verify-export`)')
    .action(async (o: { data: string; agency: string; from?: string; out?: string; proofs?: boolean }) => {
      code = await auditExport(o.data, o.agency, o.from, o.out, o.proofs === true);
    });

  program
    .command('doctor')
    .description('check a data directory: SQLite integrity_check, the audit chain and transparency log, migrations applied, free disk space')
    .requiredOption('--data <dir>', 'data directory')
    .option('--min-free-mb <n>', `fail below this much free disk space (default ${DEFAULT_MIN_FREE_MB})`, int)
    .action((o: { data: string; minFreeMb?: number }) => {
      code = doctor(o.data, { auditVerify, ...(o.minFreeMb !== undefined ? { minFreeMb: o.minFreeMb } : {}) });
    });
  program
    .command('backup')
    .description("copy the database with SQLite's online backup API (safe while serve runs), then check the copy")
    .requiredOption('--data <dir>', 'data directory')
    .requiredOption('--to <file>', 'the backup file to create (0600; never overwritten)')
    .action(async (o: { data: string; to: string }) => {
      code = await backup(o.data, o.to);
    });
  program
    .command('restore')
    .description('put a backup back in place of DIR/coordinator.db (refused while a coordinator serves DIR; the replaced file is kept)')
    .requiredOption('--from <file>', 'a file written by `coordinator backup`')
    .requiredOption('--data <dir>', 'data directory')
    .action(async (o: { from: string; data: string }) => {
      code = await restore(o.from, o.data);
    });

  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    // Help and --version end 0; an unknown command or flag, a missing option or argument, a bad option value: usage, as `concordat`.
    if (err instanceof CommanderError) return err.exitCode === 0 ? COORDINATOR_EXIT.ok : COORDINATOR_EXIT.usage;
    console.error(`concordat coordinator: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof DatabaseCorruptError) return COORDINATOR_EXIT.corrupt;
    return err instanceof CoordinatorCliError ? err.exitCode : COORDINATOR_EXIT.error;
  }
  return code;
}
