// `concordat coordinator …`: init, serve, admin, audit verify.
// bin/concordat.js dispatches here with argv starting at `coordinator`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { Command, CommanderError } from 'commander';
import { bytesToHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/rng.js';
import { AuditChainVerifier } from '../audit.js';
import { FIRST_EPOCH } from '../epochs.js';
import { ensurePrivateDir, readKeyFile, writeSecretKeyFile } from '../node/keyfiles.js';
import { openSqliteStore, readAuditFile } from '../store/sqlite.js';
import { AdminClient } from './admin-client.js';
import { ADMIN_KEY_FILE, DB_FILE, startServer } from './serve.js';

export { ADMIN_KEY_FILE, DB_FILE };

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function int(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new Error(`not a non-negative integer: ${value}`);
  return Number(value);
}

async function init(dir: string): Promise<number> {
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
    await store.initialise({ adminKey: adminPublic, handleKey: randomBytes(32), epoch: { id: FIRST_EPOCH, startedAt: at }, at });
    await store.appendAudit({
      at,
      actor: 'admin',
      action: 'coordinator.initialised',
      subject: 'coordinator',
      outcome: 'ok',
      detail: { epoch: FIRST_EPOCH, adminKey: bytesToHex(adminPublic) },
    });
  } finally {
    await store.close();
  }
  writeSecretKeyFile(keyPath, adminSecret);
  console.log(bytesToHex(adminPublic));
  return 0;
}

async function serveCommand(data: string, host: string, port: number): Promise<number> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const server = await startServer({ data, host, port, signal: ac.signal, out: (line) => process.stdout.write(`${line}\n`) });
    return await server.closed;
  } finally {
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
  const v = new AuditChainVerifier();
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
  if (!r.ok) return 1;
  console.log(`audit chain ok: ${r.count} entries`);
  return 0;
}

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export async function main(argv: string[]): Promise<number> {
  const args = argv[0] === 'coordinator' ? argv.slice(1) : argv;
  let code = 0;
  const program = new Command('concordat coordinator')
    .description('The Concordat coordinator: holds blinded data only, enforces agreements, matches, audits.')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('init')
    .description('create DIR/coordinator.db and DIR/admin.key; prints the admin public key (hex)')
    .requiredOption('--data <dir>', 'data directory')
    .action(async (o: { data: string }) => {
      code = await init(o.data);
    });

  program
    .command('serve')
    .description('serve the HTTP API')
    .requiredOption('--data <dir>', 'data directory')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '8787')
    .action(async (o: { data: string; host: string; port: string }) => {
      const port = int(o.port);
      if (port > 65535) throw new Error(`port out of range: ${o.port}`);
      code = await serveCommand(o.data, o.host, port);
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
    .action(
      async (
        o: { id: string; parties: string[]; kinds: string[]; mode: string; until: string; legalBasis: string; from?: string; maxSetSize?: number },
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
        print(await client(cmd).post('/v1/admin/agreements', body));
      },
    );
  agreement
    .command('list')
    .description('list agreements')
    .action(async (_o: unknown, cmd: Command) => {
      print(await client(cmd).get('/v1/admin/agreements'));
    });

  program
    .command('audit')
    .description('audit log')
    .command('verify')
    .description('re-walk the hash chain of the audit log')
    .requiredOption('--data <dir>', 'data directory')
    .action((o: { data: string }) => {
      code = auditVerify(o.data);
    });

  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    console.error(`concordat coordinator: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  return code;
}
