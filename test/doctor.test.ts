// Noticing corruption: bytes flipped in the page area of a stopped
// coordinator.db, at fixed offsets across the file. Whenever SQLite's own
// integrity_check flags the copy, `coordinator serve` refuses to start (exit 3,
// the recovery steps in the message) and `coordinator doctor` reports it;
// a sound directory passes every doctor check. Also: the coordinator CLI's
// exit codes, the same table in the README.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { coordinatorExitTable } from '../src/cli/exit-codes.js';
import { startServer } from '../src/cli/serve.js';
import { DatabaseCorruptError } from '../src/store/drivers/better-sqlite3.js';
import { makeSqliteHarness } from './coordinator-harness-sqlite.js';

const root = fileURLToPathSafe(new URL('..', import.meta.url));
function fileURLToPathSafe(u: URL): string {
  return decodeURIComponent(u.pathname);
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(['coordinator', ...args]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

let work: string;
let sound: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'concordat-doctor-'));
  // A coordinator with some history: 40 agencies registered, each one audited.
  const h = await makeSqliteHarness();
  for (let i = 0; i < 40; i++) await h.addAgency(`ES-A${String(i).padStart(3, '0')}`, 'ESP');
  h.store.client.pragma('wal_checkpoint(TRUNCATE)');
  sound = join(work, 'sound.db');
  copyFileSync(h.dbPath, sound);
  await h.close();
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function dataDirWith(name: string, db: Buffer): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'coordinator.db'), db, { mode: 0o600 });
  return dir;
}

function integrityFlags(file: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true });
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return !(rows.length === 1 && rows[0]?.integrity_check === 'ok');
  } catch {
    return true;
  } finally {
    db?.close();
  }
}

describe('bit flips in a stopped coordinator.db', () => {
  it('serve refuses every copy integrity_check flags (30 fixed offsets across the page area)', async () => {
    const bytes = readFileSync(sound);
    const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
    const pages = bytes.length / pageSize;
    expect(pages).toBeGreaterThan(20);
    let flagged = 0;
    for (let i = 0; i < 30; i++) {
      // Page 2 onwards (page 1 holds the header and the schema root): every other flip in a page's b-tree
      // header or cell pointers, the rest at a different spot of each page (mostly cell content).
      const page = 1 + Math.floor((i * (pages - 1)) / 30);
      const offset = page * pageSize + (i % 2 === 0 ? 1 + (i % 11) : (i * 977) % pageSize);
      const copy = Buffer.from(bytes);
      copy[offset] = (copy[offset] as number) ^ 0xff;
      const dir = dataDirWith(`flip-${i}`, copy);
      const flags = integrityFlags(join(dir, 'coordinator.db'));
      let refused: unknown;
      const ac = new AbortController();
      try {
        const server = await startServer({ data: dir, host: '127.0.0.1', port: 0, signal: ac.signal, out: () => {}, integrityEveryMs: 0 });
        ac.abort();
        await server.closed;
      } catch (e) {
        refused = e;
      }
      if (flags) {
        flagged++;
        expect(refused, `offset ${offset} (page ${page + 1})`).toBeInstanceOf(DatabaseCorruptError);
        expect((refused as Error).message).toMatch(/coordinator restore --from BACKUP --data DIR/);
      }
    }
    // The check is not vacuous: flips in b-tree headers are what SQLite can tell is wrong (a flipped byte of a stored key or blob it cannot).
    expect(flagged).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('serve exits 3 with the recovery steps; doctor reports the damage (exit 3) and passes a sound directory (exit 0)', async () => {
    const bytes = readFileSync(sound);
    const pageSize = bytes.readUInt16BE(16);
    let dir: string | undefined;
    // The first fixed offset whose flip SQLite flags.
    for (let i = 0; i < 64 && !dir; i++) {
      const copy = Buffer.from(bytes);
      const offset = (2 + i) * pageSize + 8;
      copy[offset] = (copy[offset] as number) ^ 0xff;
      const d = dataDirWith(`cli-flip-${i}`, copy);
      if (integrityFlags(join(d, 'coordinator.db'))) dir = d;
    }
    expect(dir).toBeDefined();
    const serve = await run(['serve', '--data', dir as string, '--port', '0']);
    expect(serve.code).toBe(3);
    expect(serve.err).toMatch(/is damaged: SQLite's integrity check reports/);
    expect(serve.err).toMatch(/restore the last good backup/);
    const bad = await run(['doctor', '--data', dir as string]);
    expect(bad.code).toBe(3);
    expect(bad.out).toMatch(/^FAIL integrity: /m);

    const good = dataDirWith('good', readFileSync(sound));
    const ok = await run(['doctor', '--data', good]);
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(ok.out).toMatch(/^ok {3}integrity: PRAGMA integrity_check reports ok$/m);
    expect(ok.out).toMatch(/^ok {3}migrations: (\d+) of \1 applied$/m);
    expect(ok.out).toMatch(/^audit chain ok: \d+ entries/m);
    expect(ok.out).toMatch(/^ok {3}disk: \d+ MiB free/m);
    // Free space below the threshold is a failed check.
    const tight = await run(['doctor', '--data', good, '--min-free-mb', String(1 << 30)]);
    expect(tight.code).toBe(1);
    expect(tight.out).toMatch(/^FAIL disk: /m);
    // A broken audit chain too.
    const db = new Database(join(good, 'coordinator.db'));
    db.exec("UPDATE audit_log SET actor = 'ES-X' WHERE seq = 2");
    db.close();
    const chain = await run(['doctor', '--data', good]);
    expect(chain.code).toBe(1);
    expect(chain.out).toMatch(/^FAIL audit: /m);
  }, 60_000);
});

describe('coordinator CLI exit codes', () => {
  it('a bad flag, a missing option or a bad value is usage (2), like `concordat`', async () => {
    expect((await run(['serve', '--frobnicate'])).code).toBe(2);
    expect((await run(['doctor'])).code).toBe(2);
    expect((await run(['backup', '--data', work])).code).toBe(2);
    expect((await run(['serve', '--data', work, '--port', 'eighty'])).code).toBe(2);
    expect((await run(['serve', '--data', work, '--port', '70000'])).code).toBe(2);
    expect((await run(['--version'])).code).toBe(0);
  });

  it('the README holds the table generated from COORDINATOR_EXIT', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(coordinatorExitTable());
  });
});

describe('file modes', () => {
  it('coordinator.db and its -wal and -shm are created 0600', async () => {
    const dir = join(work, 'modes');
    const r = await run(['init', '--data', dir]);
    expect(r.code, r.err).toBe(0);
    expect(statSync(join(dir, 'coordinator.db')).mode & 0o777).toBe(0o600);
    const ac = new AbortController();
    const server = await startServer({ data: dir, host: '127.0.0.1', port: 0, signal: ac.signal, out: () => {} });
    try {
      for (const f of ['coordinator.db', 'coordinator.db-wal', 'coordinator.db-shm', 'admin.key', 'serve.lock']) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    } finally {
      ac.abort();
    }
    expect(await server.closed).toBe(0);
  });
});
