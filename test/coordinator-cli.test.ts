import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bytesToHex, hexToBytes } from '../protocol/bytes.js';
import { main } from '../src/cli/main.js';
import { startServer } from '../src/cli/serve.js';
import { batchedLines } from '../src/node/log.js';
import { CoordinatorClient } from '../clients/sdk/client.js';
import { newSigner } from './coordinator-harness.js';

let root: string;
let data: string;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  try {
    const code = await main(['coordinator', ...args]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'concordat-cli-'));
  data = join(root, 'coord');
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('concordat coordinator CLI', () => {
  it('init creates the database and a 0600 admin key, and refuses to overwrite', async () => {
    const r = await run(['init', '--data', data]);
    expect(r.code).toBe(0);
    const secret = hexToBytes(readFileSync(join(data, 'admin.key'), 'utf8').trim());
    expect(readFileSync(join(data, 'admin.key'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(r.out.trim()).toBe(bytesToHex(ed25519.getPublicKey(secret)));
    expect(statSync(join(data, 'admin.key')).mode & 0o777).toBe(0o600);
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(existsSync(join(data, 'coordinator.db'))).toBe(true);
    const again = await run(['init', '--data', data]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('already exists');
  });

  it('serves, takes admin commands, and logs one JSON line per request', async () => {
    const lines: string[] = [];
    const ac = new AbortController();
    const server = await startServer({ data, host: '127.0.0.1', port: 0, signal: ac.signal, out: (l) => lines.push(l) });
    try {
      expect(JSON.parse(lines[0] as string)).toEqual({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/), url: server.url, msg: `concordat coordinator listening on ${server.url}` });
      const admin = ['admin', '--url', server.url, '--admin-key', join(data, 'admin.key')];
      for (const [id, country] of [
        ['ES-CNP', 'ESP'],
        ['PT-PJ', 'PRT'],
      ] as const) {
        const pub = join(root, `${id}.pub`);
        writeFileSync(pub, `${bytesToHex(newSigner(id).publicKey)}\n`);
        const r = await run([...admin, 'agency', 'add', '--id', id, '--name', `${id} agency`, '--country', country, '--key', pub]);
        expect(r.code, r.err).toBe(0);
        expect(JSON.parse(r.out).agency).toMatchObject({ id, country });
      }
      const add = await run([
        ...admin,
        'agreement',
        'add',
        '--id',
        'es-pt',
        '--parties',
        'ES-CNP,PT-PJ',
        '--kinds',
        'passport,email',
        '--mode',
        'reveal',
        '--until',
        '2099-12-31',
        '--legal-basis',
        'Prüm Decision art. 12',
        '--max-set-size',
        '500000',
      ]);
      expect(add.code, add.err).toBe(0);
      expect(JSON.parse(add.out).agreement).toMatchObject({ id: 'es-pt', pairs: ['es-pt~ES-CNP~PT-PJ'], maxSetSize: 500000, kinds: ['email', 'passport'] });
      const list = await run([...admin, 'agreement', 'list']);
      expect(list.code).toBe(0);
      expect(JSON.parse(list.out).agreements).toHaveLength(1);
      const bad = await run([...admin, 'agreement', 'add', '--id', 'x', '--parties', 'ES-CNP,DE-BKA', '--kinds', 'email', '--mode', 'count', '--until', '2099-01-01', '--legal-basis', 'x']);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('422');
      expect(bad.err).toContain('body.parties[1]');
      const wrongKey = join(root, 'wrong.key');
      writeFileSync(wrongKey, `${bytesToHex(newSigner('x').secretKey)}\n`);
      const refused = await run(['admin', '--url', server.url, '--admin-key', wrongKey, 'agreement', 'list']);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('401');
      const logs = lines.slice(1).map((l) => JSON.parse(l));
      expect(logs[0]).toMatchObject({ level: 'info', msg: 'request', method: 'POST', route: '/v1/admin/agencies', status: 201, actor: 'admin', reqId: expect.any(String) });
      expect(logs.at(-1)).toMatchObject({ level: 'info', msg: 'request', method: 'GET', route: '/v1/admin/agreements', status: 401, actor: null });
      // Every line is one JSON object with a level and an ISO time; every request line has its answer's request id.
      for (const l of logs) expect(l).toMatchObject({ level: expect.stringMatching(/^(debug|info|warn|error)$/), time: expect.any(String), msg: expect.any(String) });
      const probe = await fetch(`${server.url}/readyz`, { headers: { 'X-Request-Id': 'probe-1' } });
      expect(probe.headers.get('x-request-id')).toBe('probe-1');
      expect(await probe.json()).toEqual({ status: 'ready', epoch: 'e1' });
      expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ msg: 'request', route: '/readyz', status: 200, reqId: 'probe-1' });
      expect(lines.join('\n')).not.toContain('Prüm');
    } finally {
      ac.abort();
    }
    expect(await server.closed).toBe(0);
  });

  it('audit verify walks the chain and names the first bad entry', async () => {
    const ok = await run(['audit', 'verify', '--data', data]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^audit chain ok: 6 entries/);
    const db = new Database(join(data, 'coordinator.db'));
    db.exec("UPDATE audit_log SET actor = 'ES-CNP' WHERE seq = 3");
    db.close();
    const bad = await run(['audit', 'verify', '--data', data]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('seq 3');
  });

  it('reports usage errors and a missing database clearly', async () => {
    expect((await run(['serve', '--data', join(root, 'nowhere')])).code).toBe(1);
    expect((await run(['audit', 'verify', '--data', join(root, 'nowhere')])).code).toBe(1);
    expect((await run(['init'])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
  });

  it('a stop answers the long polls it finds open at once, then closes the database: no request fails', async () => {
    const dir = join(root, 'drain');
    expect((await run(['init', '--data', dir])).code).toBe(0);
    const lines: string[] = [];
    const ac = new AbortController();
    const server = await startServer({ data: dir, host: '127.0.0.1', port: 0, signal: ac.signal, out: (l) => lines.push(l) });
    const signer = newSigner('ES-CNP');
    const pub = join(root, 'drain-ES-CNP.pub');
    writeFileSync(pub, `${bytesToHex(signer.publicKey)}\n`);
    const added = await run(['admin', '--url', server.url, '--admin-key', join(dir, 'admin.key'), 'agency', 'add', '--id', 'ES-CNP', '--name', 'ES', '--country', 'ESP', '--key', pub]);
    expect(added.code, added.err).toBe(0);
    const client = new CoordinatorClient({ baseUrl: server.url, keyId: 'ES-CNP', secretKey: signer.secretKey, retries: 0 });
    const polls = [client.inbox(30), client.inbox(30)];
    // Both polls are waiting inside the coordinator before the stop.
    for (let i = 0; i < 200 && lines.filter((l) => l.includes('/v1/queries/inbox')).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    ac.abort();
    expect(await Promise.all(polls)).toEqual([[], []]);
    expect(await server.closed).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2_000);
    const logs = lines.slice(1).map((l) => JSON.parse(l) as { status?: number; level: string; route?: string });
    expect(logs.filter((l) => l.route === '/v1/queries/inbox').map((l) => l.status)).toEqual([200, 200]);
    expect(logs.filter((l) => l.level === 'error' || (l.status ?? 0) >= 500)).toEqual([]);
  });

  const built = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
  it('serve stops gracefully on SIGTERM (built CLI; npm test builds first)', async () => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', 'const { main } = await import(process.argv[1]); process.exitCode = await main(process.argv.slice(2));', built, 'coordinator', 'serve', '--data', data, '--port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
        if (m) resolve(m[1] as string);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(out).toContain('"route":"/"');
  });
});

describe('serve log lines', () => {
  it('are joined into one write per turn of the event loop, in order, and flushed on demand', async () => {
    const writes: string[] = [];
    const lines = batchedLines({ write: (s: string) => writes.push(s) });
    lines.write('{"a":1}');
    lines.write('{"a":2}');
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['{"a":1}\n{"a":2}\n']);
    lines.write('{"a":3}');
    lines.flush();
    expect(writes).toEqual(['{"a":1}\n{"a":2}\n', '{"a":3}\n']);
    lines.flush();
    expect(writes.length).toBe(2);
  });
});

describe('concordat coordinator CLI: governance', () => {
  it('serve rotates the epoch on its maintenance tick once the epoch is 30 days old, once', async () => {
    const dir = join(root, 'tick');
    expect((await run(['init', '--data', dir])).code).toBe(0);
    const file = join(dir, 'coordinator.db');
    const setStart = (days: number) => {
      const db = new Database(file);
      db.prepare('UPDATE epochs SET started_at = ? WHERE seq = (SELECT max(seq) FROM epochs)').run(new Date(Date.now() - days * 86_400_000).toISOString());
      db.close();
    };
    const epochs = () => {
      const db = new Database(file, { readonly: true });
      const ids = (db.prepare('SELECT id FROM epochs ORDER BY seq').all() as { id: string }[]).map((r) => r.id);
      const rotated = db.prepare("SELECT actor, subject FROM audit_log WHERE action = 'epoch.rotated'").all();
      db.close();
      return { ids, rotated };
    };
    setStart(29);
    const ac = new AbortController();
    const lines: string[] = [];
    const server = await startServer({ data: dir, host: '127.0.0.1', port: 0, signal: ac.signal, out: (l) => lines.push(l), purgeEveryMs: 25 });
    try {
      // Ticks run, and a 29-day-old epoch stays.
      await vi.waitFor(() => expect(lines.filter((l) => l.includes('"purge":{')).length).toBeGreaterThan(2));
      expect(epochs().ids).toEqual(['e1']);
      setStart(30);
      await vi.waitFor(() => expect(lines.some((l) => l.includes('"rotated":"e2"'))).toBe(true));
      const seen = lines.length;
      await vi.waitFor(() => expect(lines.slice(seen).filter((l) => l.includes('"purge":{')).length).toBeGreaterThan(2));
      expect(epochs()).toEqual({ ids: ['e1', 'e2'], rotated: [{ actor: 'coordinator', subject: 'e2' }] });
    } finally {
      ac.abort();
    }
    expect(await server.closed).toBe(0);
    expect((await run(['audit', 'verify', '--data', dir])).code).toBe(0);
  });

  it('init takes the purposes; admin sets config, agreement quotas, rotates epochs and purges', async () => {
    const dir = join(root, 'gov');
    expect((await run(['init', '--data', dir, '--purposes', 'terrorism,Bad'])).code).toBe(2);
    const init = await run(['init', '--data', dir, '--purposes', 'terrorism,fraud']);
    expect(init.code, init.err).toBe(0);
    const ac = new AbortController();
    const lines: string[] = [];
    const server = await startServer({ data: dir, host: '127.0.0.1', port: 0, signal: ac.signal, out: (l) => lines.push(l), purgeEveryMs: 25 });
    try {
      // The scheduled retention purge runs inside serve.
      await vi.waitFor(() => expect(lines.some((l) => l.includes('"purge":{'))).toBe(true));
      const admin = ['admin', '--url', server.url, '--admin-key', join(dir, 'admin.key')];
      const show = await run([...admin, 'config', 'show']);
      expect(JSON.parse(show.out)).toMatchObject({ purposes: ['terrorism', 'fraud'], retention: { dataDays: 7, idleDays: 45, auditDays: 730 }, epochs: { rotateDays: 30 } });
      const set = await run([...admin, 'config', 'set', '--purposes', 'terrorism,fraud,cybercrime', '--data-retention-days', '45', '--audit-retention-days', '365']);
      expect(set.code, set.err).toBe(0);
      expect(JSON.parse(set.out)).toMatchObject({ purposes: ['terrorism', 'fraud', 'cybercrime'], retention: { dataDays: 45, idleDays: 45, auditDays: 365 } });
      const back = await run([...admin, 'config', 'set', '--data-retention-days', 'epoch']);
      expect(JSON.parse(back.out).retention).toEqual({ dataDays: null, idleDays: 45, auditDays: 365 });
      expect((await run([...admin, 'config', 'set'])).code).toBe(2);

      for (const [id, country] of [
        ['ES-CNP', 'ESP'],
        ['PT-PJ', 'PRT'],
      ] as const) {
        const pub = join(root, `gov-${id}.pub`);
        writeFileSync(pub, `${bytesToHex(newSigner(id).publicKey)}\n`);
        expect((await run([...admin, 'agency', 'add', '--id', id, '--name', id, '--country', country, '--key', pub])).code).toBe(0);
      }
      const add = await run([
        ...admin,
        'agreement',
        'add',
        '--id',
        'es-pt',
        '--parties',
        'ES-CNP,PT-PJ',
        '--kinds',
        'email',
        '--mode',
        'reveal',
        '--until',
        '2099-12-31',
        '--legal-basis',
        'Treaty art. 3',
        '--purposes',
        'fraud',
        '--queries-per-day',
        '10',
        '--values-per-query',
        '5',
      ]);
      expect(add.code, add.err).toBe(0);
      expect(JSON.parse(add.out).agreement).toMatchObject({ purposes: ['fraud'], queryQuota: { perDay: 10, maxValues: 5 } });

      const rotate = await run([...admin, 'epoch', 'rotate']);
      expect(rotate.code, rotate.err).toBe(0);
      expect(rotate.out.trim()).toBe('e2');
      const purge = await run([...admin, 'purge']);
      expect(purge.code, purge.err).toBe(0);
      expect(JSON.parse(purge.out).purged).toMatchObject({ pairEpochs: 0, auditEntries: 0 });
    } finally {
      ac.abort();
    }
    expect(await server.closed).toBe(0);
    const verify = await run(['audit', 'verify', '--data', dir]);
    expect(verify.code, verify.err).toBe(0);
    const actions = (await run(['audit', 'export', '--data', dir, '--agency', 'PT-PJ'])).out;
    expect(actions).toContain('"action":"agreement.proposed"');
    const db = new Database(join(dir, 'coordinator.db'), { readonly: true });
    const scheduled = db.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'retention.purged' AND actor = 'coordinator'").get() as { n: number };
    db.close();
    expect(scheduled.n).toBeGreaterThan(0);
  });
});
