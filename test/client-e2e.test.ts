// End to end through the built `concordat` binary against the real
// coordinator (`concordat coordinator serve` in a child process): three
// agencies, a reveal and a count agreement, planted overlaps, a sync killed
// mid-way and resumed, and a night of withdrawals.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'concordat.js');
const ready = existsSync(join(root, 'dist', 'clients', 'cli', 'main.js')) && existsSync(join(root, 'dist', 'src', 'cli', 'main.js'));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(args: string[]): Promise<Run> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`concordat ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Starts a sync and SIGKILLs it as soon as its output contains `marker`. */
function syncKilledAt(dir: string, marker: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'sync', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    const watch = (b: Buffer) => {
      seen += b.toString();
      if (marker.test(seen)) child.kill('SIGKILL');
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.on('exit', () => resolve(seen));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let work: string;
let server: ChildProcess | undefined;
let url: string;
let serverLog = '';

beforeAll(async () => {
  if (!ready) throw new Error('the build output is missing: run `npm run build` (npm test builds first)');
  work = mkdtempSync(join(tmpdir(), 'concordat-e2e-'));
  await ok(['coordinator', 'init', '--data', join(work, 'coord')]);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [bin, 'coordinator', 'serve', '--data', join(work, 'coord'), '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.on('data', (b: Buffer) => (serverLog += b.toString()));
  server.stderr?.on('data', (b: Buffer) => (serverLog += b.toString()));
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the coordinator did not start:\n${serverLog}`);
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server?.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

type Person = number;
function csvOf(prefix: string, people: readonly Person[]): string {
  const lines = ['record_id,kind,value'];
  for (const p of people) {
    lines.push(`${prefix}-${p},passport,ESP:P${String(p).padStart(7, '0')}`, `${prefix}-${p},email,person${p}@mail.example`);
    if (p % 2) lines.push(`${prefix}-${p},phone,+3491${String(p).padStart(7, '0')}`);
  }
  return `${lines.join('\n')}\n`;
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

interface ResultsJson {
  matches: Array<{ partner: string; record_id: string; kinds: string[]; handle: string; first_seen: string }>;
  counts: Array<{ partner: string; count: number }>;
}

async function results(dir: string): Promise<ResultsJson> {
  return JSON.parse((await ok(['results', '--dir', dir, '--format', 'json'])).stdout) as ResultsJson;
}

describe('two nights against the real coordinator', () => {
  it('finds exactly the planted overlaps, survives killed syncs, follows withdrawals', { timeout: 300_000 }, async () => {
    const withPt = range(900_000, 15);
    const withFr = range(800_000, 8);
    const agencies = {
      'ES-CNP': { country: 'ESP', people: [...range(100_000, 3000), ...withPt, ...withFr] },
      'PT-PJ': { country: 'PRT', people: [...range(200_000, 400), ...withPt] },
      'FR-OCRTEH': { country: 'FRA', people: [...range(300_000, 300), ...withFr] },
    } as const;
    const dirs: Record<string, string> = {};
    const admin = (args: string[]) => ok(['coordinator', 'admin', '--url', url, '--admin-key', join(work, 'coord', 'admin.key'), ...args]);
    for (const [id, a] of Object.entries(agencies)) {
      const dir = join(work, id);
      dirs[id] = dir;
      const init = await ok(['init', '--dir', dir, '--agency', id, '--coordinator', url]);
      expect(init.stdout).toContain(join(dir, 'signing.pub'));
      await admin(['agency', 'add', '--id', id, '--name', id, '--country', a.country, '--key', join(dir, 'signing.pub')]);
      writeFileSync(join(work, `${id}.csv`), csvOf(id, a.people));
      await ok(['import', '--dir', dir, join(work, `${id}.csv`)]);
    }
    await admin(['agreement', 'add', '--id', 'es-pt', '--parties', 'ES-CNP,PT-PJ', '--kinds', 'passport,email,phone', '--mode', 'reveal', '--until', '2030-12-31', '--legal-basis', 'Bilateral agreement']);
    await admin(['agreement', 'add', '--id', 'es-fr', '--parties', 'ES-CNP,FR-OCRTEH', '--kinds', 'email', '--mode', 'count', '--until', '2030-12-31', '--legal-basis', 'Statistics only']);
    const es = dirs['ES-CNP'] as string;
    const pt = dirs['PT-PJ'] as string;
    const fr = dirs['FR-OCRTEH'] as string;
    // Each party accepts each agreement with its own key (protocol/SPEC.md §8.6), as operators do.
    for (const [id, parties] of [['es-pt', [es, pt]], ['es-fr', [es, fr]]] as const) {
      for (const d of parties) await ok(['agreements', 'accept', id, '--dir', d, '--officer', 'ops.e2e', '--yes']);
    }

    // Night 1. ES's first sync is killed while blinding, its rerun while uploading.
    await syncKilledAt(es, /sync: blinding \d+/);
    await syncKilledAt(es, /uploading|tokenising|sync: es-pt/);
    for (let round = 0; round < 2; round++) {
      for (const dir of [es, pt, fr]) {
        const r = await cli(['sync', '--dir', dir]);
        expect(r.stderr, r.stderr).not.toMatch(/ERROR|FAILED/);
        expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      }
    }
    const esRes = await results(es);
    expect(esRes.matches.filter((m) => m.partner === 'PT-PJ').map((m) => m.record_id).sort()).toEqual(withPt.map((p) => `ES-CNP-${p}`).sort());
    expect(esRes.matches.every((m) => m.partner === 'PT-PJ')).toBe(true);
    expect(esRes.counts).toEqual([{ partner: 'FR-OCRTEH', count: withFr.length }]);
    for (const m of esRes.matches) expect(m.kinds).toEqual(Number(m.record_id.split('-').pop()) % 2 ? ['email', 'passport', 'phone'] : ['email', 'passport']);
    const ptRes = await results(pt);
    expect(ptRes.matches.map((m) => m.record_id).sort()).toEqual(withPt.map((p) => `PT-PJ-${p}`).sort());
    // Both sides hold the same handles.
    expect(new Set(ptRes.matches.map((m) => m.handle))).toEqual(new Set(esRes.matches.map((m) => m.handle)));
    const frRes = await results(fr);
    expect(frRes).toEqual({ matches: [], counts: [{ partner: 'ES-CNP', count: withFr.length }] });

    // A sync with nothing new is a no-op.
    const idle = await ok(['sync', '--dir', es]);
    expect(idle.stdout).toMatch(/\+0 added, -0 withdrawn\); 0 chunk\(s\) uploaded/);

    // Night 2: PT withdraws five overlapping records; its sync is killed once.
    writeFileSync(join(work, 'PT-PJ.csv'), csvOf('PT-PJ', [...range(200_000, 400), ...withPt.slice(5)]));
    expect((await ok(['import', '--dir', pt, join(work, 'PT-PJ.csv')])).stdout).toMatch(/0 added, \d+ withdrawn/);
    await syncKilledAt(pt, /sync: agency/);
    for (let round = 0; round < 2; round++) for (const dir of [es, pt, fr]) await ok(['sync', '--dir', dir]);
    const esRes2 = await results(es);
    expect(esRes2.matches.map((m) => m.record_id).sort()).toEqual(withPt.slice(5).map((p) => `ES-CNP-${p}`).sort());
    const ptRes2 = await results(pt);
    expect(ptRes2.matches.map((m) => m.record_id).sort()).toEqual(withPt.slice(5).map((p) => `PT-PJ-${p}`).sort());
    // Handles and first sightings of the remaining matches are stable across nights.
    const before = new Map(esRes.matches.map((m) => [m.record_id, m]));
    for (const m of esRes2.matches) expect({ handle: m.handle, first_seen: m.first_seen }).toEqual({ handle: before.get(m.record_id)?.handle, first_seen: before.get(m.record_id)?.first_seen });

    const table = await ok(['results', '--dir', es]);
    expect(table.stdout).toMatch(/es-pt~ES-CNP~PT-PJ\s+PT-PJ\s+reveal\s+complete/);
    expect(table.stdout).toMatch(/FR-OCRTEH\s+8/);

    // Epoch rotation: every agency re-blinds and re-uploads everything; results, handles and first sightings survive.
    const rotated = await admin(['epoch', 'rotate']);
    expect(rotated.stdout).toContain('e2');
    for (let round = 0; round < 2; round++) {
      for (const dir of [es, pt, fr]) {
        const r = await ok(['sync', '--dir', dir]);
        expect(r.stdout).toContain('epoch e2');
      }
    }
    expect(await results(es)).toEqual(esRes2);
    expect(await results(pt)).toEqual(ptRes2);
    expect(await results(fr)).toEqual(frRes);
    const after = await ok(['results', '--dir', es]);
    expect(after.stdout).toMatch(/es-pt~ES-CNP~PT-PJ\s+PT-PJ\s+reveal\s+complete/);
  });
});
