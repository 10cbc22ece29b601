// The nightly job end to end over real HTTP, as operators run it: the built
// `concordat` CLI for three agencies whose watchlists write the same people in
// different national formats, against `concordat coordinator serve` in a child
// process. Every request passes through a recording proxy on loopback, so the
// test can prove that no planted identifier — raw or canonical — reaches the
// coordinator's wire, database or logs, and that a second night's upload is
// proportional to the change. A proxy mode that corrupts one agency's tokens
// shows canaries catching a dishonest partner.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { canonicalize } from '../protocol/identifiers/index.js';
import { EPOCH_FIELD, signRequest } from '../protocol/http-signature.js';
import { rowsFor } from '../scripts/synthetic.js';
import { AGENCIES, bin, cli, ok, recs, World } from './e2e-world.js';

interface Recorded {
  agency: string;
  method: string;
  url: string;
  headers: string;
  body: Buffer;
}

/** A loopback proxy that records every request and can tamper with token uploads of one agency. */
class RecordingProxy {
  recorded: Recorded[] = [];
  /** Agency whose token uploads are replaced by wrong tokens, re-signed with its own key (a dishonest client). */
  corruptTokensOf: { agency: string; secretKey: Uint8Array } | undefined;
  server: Server;
  url = '';
  constructor(private upstream: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }
  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }
  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks);
    const keyid = /keyid="([^"]+)"/.exec(String(req.headers['signature-input'] ?? ''))?.[1] ?? 'unknown';
    this.recorded.push({ agency: keyid, method: req.method ?? '', url: req.url ?? '', headers: JSON.stringify(req.headers), body });
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers.set(k, v);
    if (this.corruptTokensOf?.agency === keyid && /\/tokens$/.test(req.url ?? '') && body.length > 0) {
      // A dishonest partner: tokens that were not computed with its published key, signed by it all the same.
      body = Buffer.from(body.map((b) => b ^ 0x5a));
      const epoch = headers.get(EPOCH_FIELD);
      const signed = signRequest({
        method: req.method ?? 'PUT',
        url: new URL(req.url ?? '/', `http://${req.headers.host ?? ''}`),
        body,
        headers: epoch === null ? {} : { [EPOCH_FIELD]: epoch },
        keyid,
        secretKey: this.corruptTokensOf.secretKey,
        created: Math.floor(Date.now() / 1000),
        nonce: randomBytes(18).toString('base64url'),
      });
      for (const [k, v] of Object.entries(signed)) headers.set(k, v);
    }
    // A transparent proxy keeps the Host the client addressed: signatures cover it (@authority).
    const up = new URL(this.upstream);
    const r = await new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
      const out = httpRequest(
        { host: up.hostname, port: up.port, method: req.method, path: req.url ?? '/', headers: { ...Object.fromEntries(headers), host: req.headers.host ?? up.host, 'content-length': String(body.length) } },
        (resp) => {
          const parts: Buffer[] = [];
          resp.on('data', (c: Buffer) => parts.push(c));
          resp.on('end', () => resolve({ status: resp.statusCode ?? 502, headers: Object.fromEntries(Object.entries(resp.headers).filter((e): e is [string, string] => typeof e[1] === 'string')), body: Buffer.concat(parts) }));
          resp.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
    res.writeHead(r.status, r.headers);
    res.end(r.body);
  }
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

let work: string;
let server: ChildProcess;
let serverLog = '';
let proxy: RecordingProxy;
let world: World;

async function startCoordinator(dataDir: string): Promise<string> {
  server = spawn(process.execPath, [bin, 'coordinator', 'serve', '--data', dataDir, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr?.on('data', (b: Buffer) => (serverLog += b.toString()));
  return new Promise((resolve, reject) => {
    server.stdout?.on('data', (b: Buffer) => {
      serverLog += b.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(serverLog);
      if (m) resolve(m[1] as string);
    });
    server.once('exit', (c) => reject(new Error(`coordinator exited ${c}: ${serverLog}`)));
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'concordat-e2e-nightly-'));
  await ok(['coordinator', 'init', '--data', join(work, 'coord')]);
  proxy = new RecordingProxy(await startCoordinator(join(work, 'coord')));
  await proxy.listen();
  world = new World(work);
  await world.enrol(proxy.url);
  await world.plant(7);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

describe('three agencies, national formats, real coordinator', () => {
  it('night 1: results equal the planted overlaps; count mode reveals only counts', async () => {
    await world.syncAll();
    const es = await world.results('ES-CNP');
    const pt = await world.results('PT-PJ');
    const fr = await world.results('FR-OCRTEH');
        expect(recs(es, 'PT-PJ')).toEqual(world.expected('ES-CNP', 'PT-PJ'));
    expect(recs(pt, 'ES-CNP')).toEqual(world.expected('PT-PJ', 'ES-CNP'));
    expect(recs(es, 'FR-OCRTEH')).toEqual(world.expected('ES-CNP', 'FR-OCRTEH'));
    expect(recs(fr, 'ES-CNP')).toEqual(world.expected('FR-OCRTEH', 'ES-CNP'));
    // Both sides of a reveal pair hold the same handles.
    const handles = (r: typeof es, partner: string) => new Set(r.matches.filter((m) => m.partner === partner).map((m) => m.handle));
    expect(handles(es, 'PT-PJ')).toEqual(handles(pt, 'ES-CNP'));
    // pt-fr is count mode: 12 planted people × 2 kinds, and no record ids either way.
    expect(pt.matches.filter((m) => m.partner === 'FR-OCRTEH')).toEqual([]);
    expect(fr.matches.filter((m) => m.partner === 'PT-PJ')).toEqual([]);
    expect(pt.counts).toEqual([{ partner: 'FR-OCRTEH', count: world.expected('PT-PJ', 'FR-OCRTEH').length * 2 }]);
    expect(fr.counts).toEqual([{ partner: 'PT-PJ', count: world.expected('PT-PJ', 'FR-OCRTEH').length * 2 }]);
  }, 180_000);

  it('night 2: withdrawals and additions are uploaded as a delta and change the results', async () => {
    const before = proxy.recorded.length;
    // PT withdraws 3 shared people and 20 others, and adds 2 people ES also adds (new overlap).
    const ptIds = world.members.get('PT-PJ')!;
    const shared = world.expected('PT-PJ', 'ES-CNP').map((r) => Number(r.split('-').at(-1)));
    const drop = new Set([...shared.slice(0, 3), ...ptIds.filter((id) => !shared.includes(id)).slice(0, 20)]);
    const newcomers = [...world.people.keys()].slice(-2);
    world.members.set('PT-PJ', [...ptIds.filter((id) => !drop.has(id)), ...newcomers]);
    world.members.set('ES-CNP', [...world.members.get('ES-CNP')!, ...newcomers]);
    await world.importWatchlist('PT-PJ');
    await world.importWatchlist('ES-CNP');
    await world.syncAll();
    const es = await world.results('ES-CNP');
    expect(es.matches.filter((m) => m.partner === 'PT-PJ').map((m) => m.record_id).sort()).toEqual(world.expected('ES-CNP', 'PT-PJ'));
    const pt = await world.results('PT-PJ');
    expect(pt.matches.filter((m) => m.partner === 'ES-CNP').map((m) => m.record_id).sort()).toEqual(world.expected('PT-PJ', 'ES-CNP'));

    // Cost follows the change: night 2 uploads only the new elements (2 people × ≤ 5 identifiers per pair).
    const night2 = proxy.recorded.slice(before);
    const elementsUploaded = night2.filter((r) => r.method === 'PUT' && /\/set\/chunks\/\d+$/.test(r.url)).reduce((n, r) => n + r.body.length / 32, 0);
    const tokensUploaded = night2.filter((r) => r.method === 'PUT' && /\/tokens$/.test(r.url)).reduce((n, r) => n + r.body.length / 16, 0);
    const night1Elements = proxy.recorded.slice(0, before).filter((r) => r.method === 'PUT' && /\/set\/chunks\/\d+$/.test(r.url)).reduce((n, r) => n + r.body.length / 32, 0);
    expect(night1Elements).toBeGreaterThan(3000);
    expect(elementsUploaded).toBeGreaterThan(0);
    expect(elementsUploaded).toBeLessThanOrEqual(2 * 5 * 3);
    expect(tokensUploaded).toBeLessThanOrEqual(2 * 5 * 3);
    expect(night2.some((r) => /\/set\/removals$/.test(r.url))).toBe(true);
  }, 180_000);

  it('no planted identifier, raw or canonical, reaches the coordinator: wire, database or logs', async () => {
    const needles = new Set<string>();
    for (const a of AGENCIES) {
      for (const id of world.members.get(a.id)!) {
        for (const [, kind, raw] of rowsFor(world.people.get(id)!, `${a.id}-${id}`, a.style)) {
          needles.add(raw.trim());
          needles.add(canonicalize(kind, raw));
        }
      }
    }
    // Numbers alone are identifying too (passport numbers, phone digits).
    for (const p of world.people.values()) {
      needles.add(p.passportNumber);
      needles.add(p.phoneNational);
    }
    const haystacks: Array<[string, Buffer]> = [];
    for (const r of proxy.recorded) haystacks.push([`${r.method} ${r.url}`, Buffer.concat([Buffer.from(r.url), Buffer.from(r.headers), r.body])]);
    for (const f of readdirSync(join(work, 'coord'))) haystacks.push([`coord/${f}`, readFileSync(join(work, 'coord', f))]);
    haystacks.push(['server log', Buffer.from(serverLog)]);
    expect(proxy.recorded.length).toBeGreaterThan(50);
    expect(serverLog.length).toBeGreaterThan(0);
    for (const needle of needles) {
      const bytes = Buffer.from(needle, 'utf8');
      for (const [where, hay] of haystacks) {
        if (hay.includes(bytes)) throw new Error(`a planted identifier appears in ${where}`);
      }
    }
  });

  it('a partner that tokenises dishonestly is caught by canaries, for both sides', async () => {
    // A new agreement between ES and FR over emails, where FR's tokens are corrupted in flight.
    await ok(['coordinator', 'admin', '--url', proxy.url, '--admin-key', join(work, 'coord', 'admin.key'), 'agreement', 'add', '--id', 'es-fr-email', '--parties', 'ES-CNP,FR-OCRTEH', '--kinds', 'email', '--mode', 'reveal', '--until', '2030-12-31', '--legal-basis', 'test']);
    const frKey = Buffer.from(readFileSync(join(work, 'FR-OCRTEH', 'signing.key'), 'utf8').trim(), 'hex');
    proxy.corruptTokensOf = { agency: 'FR-OCRTEH', secretKey: frKey };
    try {
      for (let round = 0; round < 2; round++) {
        await cli(['sync', '--dir', join(work, 'ES-CNP')]);
        await cli(['sync', '--dir', join(work, 'FR-OCRTEH')]);
      }
    } finally {
      proxy.corruptTokensOf = undefined;
    }
    const es = await cli(['results', '--dir', join(work, 'ES-CNP'), '--format', 'table']);
    const fr = await cli(['results', '--dir', join(work, 'FR-OCRTEH'), '--format', 'table']);
    expect(es.stdout + es.stderr).toMatch(/es-fr-email[\s\S]*canary/i);
    expect(fr.stdout + fr.stderr).toMatch(/es-fr-email[\s\S]*canary/i);
    // The honest pairs are untouched.
    const esJson = await world.results('ES-CNP');
    expect(esJson.matches.filter((m) => m.partner === 'FR-OCRTEH').map((m) => m.record_id).sort()).toEqual(world.expected('ES-CNP', 'FR-OCRTEH'));
    const audit = await ok(['coordinator', 'audit', 'verify', '--data', join(work, 'coord')]);
    expect(audit).toMatch(/audit chain ok/);
    const dbFiles = Buffer.concat(readdirSync(join(work, 'coord')).map((f) => readFileSync(join(work, 'coord', f))));
    expect(dbFiles.includes(Buffer.from('pair.canary_failed'))).toBe(true);
  }, 180_000);
});
