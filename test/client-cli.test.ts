// The agency commands as operators run them: the built `concordat` binary in
// a child process, against the real coordinator (src/app.ts over SQLite)
// listening on 127.0.0.1.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealCoordinator } from './client-coordinator.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'concordat.js');
const built = existsSync(join(root, 'dist', 'clients', 'cli', 'main.js'));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let coord: RealCoordinator;

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build` (npm test builds first)');
  dir = mkdtempSync(join(tmpdir(), 'concordat-cli-'));
  coord = await RealCoordinator.start();
});
afterAll(async () => {
  await coord.stop();
  rmSync(dir, { recursive: true, force: true });
});

function csv(prefix: string, people: number[], extra = ''): string {
  const lines = ['record_id,kind,value'];
  for (const p of people) {
    lines.push(`${prefix}-${p},passport,ESP:P${String(p).padStart(7, '0')}`, `${prefix}-${p},email,person${p}@mail.example`);
    if (p % 2) lines.push(`${prefix}-${p},phone,+3491${String(p).padStart(7, '0')}`);
  }
  return `${lines.join('\n')}\n${extra}`;
}

describe('concordat agency CLI (built binary)', () => {
  it('init creates the agency files with owner-only secrets and refuses to overwrite them', async () => {
    const d = join(dir, 'init-test');
    const r = await cli(['init', '--dir', d, '--agency', 'FR-OCRTEH', '--coordinator', coord.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('FR-OCRTEH');
    expect(r.stdout).toContain(join(d, 'signing.pub'));
    expect(statSync(d).mode & 0o777).toBe(0o700);
    for (const f of ['signing.key', 'epoch.seed']) {
      expect(statSync(join(d, f)).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(d, f), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    }
    expect(readFileSync(join(d, 'signing.pub'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    const json = JSON.parse(readFileSync(join(d, 'agency.json'), 'utf8'));
    expect(Object.keys(json).sort()).toEqual(['agency', 'coordinator', 'createdAt']);
    expect(json.agency).toBe('FR-OCRTEH');
    const key = readFileSync(join(d, 'signing.key'), 'utf8');
    const again = await cli(['init', '--dir', d, '--agency', 'FR-OCRTEH', '--coordinator', coord.url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; refusing to overwrite/);
    expect(readFileSync(join(d, 'signing.key'), 'utf8')).toBe(key);
    const bad = await cli(['init', '--dir', join(dir, 'x'), '--agency', 'bad id', '--coordinator', coord.url]);
    expect(bad.code).toBe(1);
  });

  it('--version names the package version and the protocol suite, on both CLIs', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const [args, name] of [[['--version'], 'concordat'], [['-V'], 'concordat'], [['coordinator', '--version'], 'concordat-coordinator']] as const) {
      const r = await cli([...args]);
      expect(r).toEqual({ code: 0, stdout: `${name} ${version} (protocol concordat-v2, suite CONCORDAT-V2-ristretto255-SHA512)\n`, stderr: '' });
    }
  });

  it('a bad flag, an unknown command or a missing option ends with the usage code (2) on every command', async () => {
    for (const args of [
      ['sync', '--dir', dir, '--frobnicate'],
      ['results', '--dir', dir, '--format', 'xml'],
      ['import', '--dir', dir],
      ['sync'],
      ['frobnicate'],
      ['query', '--dir', dir, '--nope'],
      ['officers', 'add', '--dir', dir],
      ['agreements', 'list', '--bogus'],
      ['vectors', 'verify', '--bogus'],
    ]) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^error: /m);
    }
    expect((await cli(['--help'])).code).toBe(0);
  });

  it('runs the nightly flow for two agencies: import, sync twice each, results', async () => {
    const both = [501, 502, 503, 504, 505, 506, 507];
    const es = join(dir, 'ES-CNP');
    const pt = join(dir, 'PT-PJ');
    for (const [a, d] of [['ES-CNP', es], ['PT-PJ', pt]] as const) {
      expect((await cli(['init', '--dir', d, '--agency', a, '--coordinator', coord.url])).code).toBe(0);
      await coord.addAgency(a, readFileSync(join(d, 'signing.pub'), 'utf8'), a === 'ES-CNP' ? 'ESP' : 'PRT');
    }
    await coord.addAgreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['passport', 'email', 'phone'], mode: 'reveal' });
    // Nothing flows before each party accepted the agreement with its own key (protocol/SPEC.md §8.6).
    const early = await cli(['sync', '--dir', es]);
    expect(early.stdout).toContain('0 pair(s)');
    for (const d of [es, pt]) {
      const acc = await cli(['agreements', 'accept', 'es-pt', '--dir', d, '--officer', 'ops.night', '--yes']);
      expect(acc.code, acc.stderr).toBe(0);
      expect(acc.stdout).toMatch(/digest\s+[0-9a-f]{64}/);
      expect(acc.stdout).toMatch(/agreement es-pt version 1 accepted by ops\.night/);
    }
    const esFile = join(dir, 'es.csv');
    const ptFile = join(dir, 'pt.jsonl');
    writeFileSync(esFile, csv('ES-CNP', [...Array.from({ length: 300 }, (_, i) => 1000 + i), ...both], 'ES-CNP-x,iban,NOT-AN-IBAN-SECRET\n'));
    const ptRows = [...Array.from({ length: 200 }, (_, i) => 5000 + i), ...both].flatMap((p) => [
      { record_id: `PT-PJ-${p}`, kind: 'passport', value: `ESP:P${String(p).padStart(7, '0')}` },
      { record_id: `PT-PJ-${p}`, kind: 'email', value: `person${p}@mail.example` },
    ]);
    writeFileSync(ptFile, ptRows.map((r) => JSON.stringify(r)).join('\n') + '\n');

    const strict = await cli(['import', '--dir', es, esFile, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain(`${esFile}:`);
    const imp = await cli(['import', '--dir', es, esFile]);
    expect(imp.code).toBe(0);
    const lines = csv('ES-CNP', [...Array.from({ length: 300 }, (_, i) => 1000 + i), ...both]).trim().split('\n').length - 1;
    expect(imp.stdout.trim()).toBe(`imported ${lines} identifiers of 307 records; 1 rows rejected; ${lines} added, 0 withdrawn since the last import`);
    expect(imp.stderr.trim()).toMatch(new RegExp(`^${esFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${lines + 2}: iban identifier rejected \\(iban\\.`));
    expect(imp.stderr).not.toContain('SECRET');
    expect((await cli(['import', '--dir', pt, ptFile])).code).toBe(0);

    for (let i = 0; i < 2; i++) {
      for (const d of [es, pt]) {
        const s = await cli(['sync', '--dir', d]);
        expect(s.stderr).not.toMatch(/ERROR/);
        expect(s.code).toBe(0);
        expect(s.stdout).toMatch(/sync: es-pt~ES-CNP~PT-PJ with /);
      }
    }
    // --json: the report alone on stdout, one JSON document; the human lines on stderr.
    const js = await cli(['sync', '--dir', es, '--json']);
    expect(js.code, js.stderr).toBe(0);
    const report = JSON.parse(js.stdout);
    expect(js.stdout.trim().split('\n')).toHaveLength(1);
    expect(report).toMatchObject({ epoch: 'e1', failedPairs: [], errors: [] });
    expect(report.pairs).toEqual([
      expect.objectContaining({ pair: 'es-pt~ES-CNP~PT-PJ', partner: 'PT-PJ', mode: 'reveal', added: 0, chunksUploaded: 0, result: expect.objectContaining({ state: 'complete', records: both.length }) }),
    ]);
    expect(js.stderr).toMatch(/sync: es-pt~ES-CNP~PT-PJ with PT-PJ \(reveal\)/);
    expect(js.stderr).toMatch(/sync: done in [\d.]+ s \(epoch e1\)/);
    const esJson = JSON.parse((await cli(['results', '--dir', es, '--format', 'json'])).stdout);
    expect(esJson.matches.map((m: { record_id: string }) => m.record_id).sort()).toEqual(both.map((p) => `ES-CNP-${p}`).sort());
    expect(esJson.counts).toEqual([]);
    for (const m of esJson.matches) {
      expect(Object.keys(m)).toEqual(['partner', 'record_id', 'kinds', 'handle', 'first_seen', 'status', 'candidate']);
      expect(m.kinds).toEqual(['email', 'passport']);
      expect(m.status).toBe('unverified');
      expect(m.candidate).toBe(false);
    }
    const ptCsv = (await cli(['results', '--dir', pt, '--format', 'csv'])).stdout.trim().split('\n');
    expect(ptCsv[0]).toBe('partner,record_id,kinds,handle,first_seen,status');
    expect(ptCsv.length).toBe(both.length + 1);
    const table = await cli(['results', '--dir', pt]);
    expect(table.stdout).toMatch(/PARTNER\s+RECORD_ID\s+KINDS\s+HANDLE\s+FIRST_SEEN\s+STATUS/);
    expect(table.stdout).toMatch(/es-pt~ES-CNP~PT-PJ\s+ES-CNP\s+reveal\s+complete/);

    // Sync logs plain progress lines when stderr is not a terminal.
    writeFileSync(ptFile, ptRows.slice(2).map((r) => JSON.stringify(r)).join('\n') + '\n');
    expect((await cli(['import', '--dir', pt, ptFile])).stdout).toMatch(/0 added, 2 withdrawn/);
    const s = await cli(['sync', '--dir', pt], { CONCORDAT_ENGINE: 'reference' });
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/2 removal\(s\) sent/);

    // The coordinator unreachable: results warns and shows the last pulled results.
    await coord.pause();
    const offline = await cli(['results', '--dir', es, '--format', 'json']);
    expect(offline.code).toBe(0);
    expect(offline.stderr).toMatch(/warning: could not refresh/);
    expect(JSON.parse(offline.stdout)).toEqual(esJson);
    // sync ends 7 (try again later), not 1 (look into it), and says so in one line.
    const down = await cli(['sync', '--dir', es]);
    expect(down.code, down.stderr).toBe(7);
    expect(down.stderr).toMatch(/^concordat: coordinator unreachable at http:\/\/127\.0\.0\.1:\d+ after \d+ attempt\(s\)/m);
    expect(down.stderr).not.toMatch(/\n\s+at /);
    await coord.listen();
  });
});
