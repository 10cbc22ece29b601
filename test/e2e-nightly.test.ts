// The nightly scenario (e2e-scenario.ts) over real HTTP, as operators run it:
// the built `concordat` CLI for three agencies against `concordat coordinator
// serve` in a child process. Every request passes through a recording proxy
// on loopback, so the planted identifiers are looked for on the wire as well
// as in the database and the log, and a second night's upload is shown to be
// proportional to the change. A proxy mode that corrupts one agency's tokens
// shows canaries catching a dishonest partner.
import { CANARIES_JITTER, CANARIES_PER_CHUNK_MIN } from '../protocol/canary.js';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { EPOCH_FIELD, signRequest } from '../protocol/http-signature.js';
import { nightlyScenario, type ScenarioCoordinator } from './e2e-scenario.js';
import { bin, cli, ok, recs } from './e2e-world.js';

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

type NodeCoordinator = ScenarioCoordinator & { proxy: RecordingProxy; coordDir: string };

/** `coordinator serve` on a free loopback port, behind the recording proxy. */
async function serveCoordinator(coordDir: string): Promise<NodeCoordinator> {
  let log = '';
  const server = spawn(process.execPath, [bin, 'coordinator', 'serve', '--data', coordDir, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  const upstream = await new Promise<string>((resolve, reject) => {
    server.stdout?.on('data', (b: Buffer) => {
      log += b.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(log);
      if (m) resolve(m[1] as string);
    });
    server.once('exit', (c) => reject(new Error(`coordinator exited ${c}: ${log}`)));
  });
  const proxy = new RecordingProxy(upstream);
  await proxy.listen();
  return {
    url: proxy.url,
    proxy,
    coordDir,
    haystacks() {
      expect(proxy.recorded.length).toBeGreaterThan(50);
      expect(log.length).toBeGreaterThan(0);
      return [
        ...proxy.recorded.map((r): [string, Buffer] => [`${r.method} ${r.url}`, Buffer.concat([Buffer.from(r.url), Buffer.from(r.headers), r.body])]),
        ...readdirSync(coordDir).map((f): [string, Buffer] => [`coord/${f}`, readFileSync(join(coordDir, f))]),
        ['server log', Buffer.from(log)],
      ];
    },
    async stop() {
      await proxy.close();
      if (server.exitCode !== null) return;
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    },
  };
}

const scenario = nightlyScenario({ prefix: 'concordat-e2e-nightly-', seed: 7, timeout: 180_000, start: (_work, coordDir) => serveCoordinator(coordDir) });

/** Elements and tokens uploaded in the recorded requests. */
function uploaded(recorded: readonly Recorded[]): { elements: number; tokens: number } {
  const sum = (re: RegExp, size: number) => recorded.filter((r) => r.method === 'PUT' && re.test(r.url)).reduce((n, r) => n + r.body.length / size, 0);
  return { elements: sum(/\/set\/chunks\/\d+$/, 32), tokens: sum(/\/tokens$/, 16) };
}

describe('three agencies, national formats, real coordinator', () => {
  let night2From = 0;
  let night2To = 0;
  scenario.night1();
  scenario.night2({
    before: () => (night2From = scenario.coordinator.proxy.recorded.length),
    after: () => (night2To = scenario.coordinator.proxy.recorded.length),
  });

  it('night 2 uploads only the change: the new elements, their tokens and the removals', () => {
    const recorded = scenario.coordinator.proxy.recorded;
    const night2 = recorded.slice(night2From, night2To);
    expect(uploaded(recorded.slice(0, night2From)).elements).toBeGreaterThan(3000);
    // 2 people × ≤ 5 identifiers per pair, in at most one new chunk per side of each of the 3 pairs,
    // every chunk with its own 48..64 canaries (protocol/SPEC.md §1.6).
    const chunks = night2.filter((r) => r.method === 'PUT' && /\/set\/chunks\/\d+$/.test(r.url)).length;
    expect(chunks).toBeGreaterThan(0);
    expect(chunks).toBeLessThanOrEqual(3 * 2);
    const { elements, tokens } = uploaded(night2);
    expect(elements).toBeGreaterThanOrEqual(chunks * CANARIES_PER_CHUNK_MIN);
    expect(elements).toBeLessThanOrEqual(2 * 5 * 3 + chunks * (CANARIES_PER_CHUNK_MIN + CANARIES_JITTER));
    expect(tokens).toBeLessThanOrEqual(elements);
    expect(night2.some((r) => /\/set\/removals$/.test(r.url))).toBe(true);
  });

  scenario.noIdentifierLeaks();

  it('a partner that tokenises dishonestly is caught by canaries, for both sides', async () => {
    const { world, work, coordinator } = scenario;
    // A new agreement between ES and FR over emails, where FR's tokens are corrupted in flight.
    await world.admin(coordinator.url, ['agreement', 'add', '--id', 'es-fr-email', '--parties', 'ES-CNP,FR-OCRTEH', '--kinds', 'email', '--mode', 'reveal', '--until', '2030-12-31', '--legal-basis', 'test']);
    for (const a of ['ES-CNP', 'FR-OCRTEH']) await ok(['agreements', 'accept', 'es-fr-email', '--dir', join(work, a), '--officer', `ops.${a}`, '--yes']);
    const frKey = Buffer.from(readFileSync(join(work, 'FR-OCRTEH', 'signing.key'), 'utf8').trim(), 'hex');
    coordinator.proxy.corruptTokensOf = { agency: 'FR-OCRTEH', secretKey: frKey };
    try {
      for (let round = 0; round < 2; round++) {
        await cli(['sync', '--dir', join(work, 'ES-CNP')]);
        await cli(['sync', '--dir', join(work, 'FR-OCRTEH')]);
      }
    } finally {
      coordinator.proxy.corruptTokensOf = undefined;
    }
    const es = await cli(['results', '--dir', join(work, 'ES-CNP'), '--format', 'table']);
    const fr = await cli(['results', '--dir', join(work, 'FR-OCRTEH'), '--format', 'table']);
    expect(es.stdout + es.stderr).toMatch(/es-fr-email[\s\S]*canary/i);
    expect(fr.stdout + fr.stderr).toMatch(/es-fr-email[\s\S]*canary/i);
    // The honest pairs are untouched.
    expect(recs(await world.results('ES-CNP'), 'FR-OCRTEH')).toEqual(world.expected('ES-CNP', 'FR-OCRTEH'));
    const audit = await ok(['coordinator', 'audit', 'verify', '--data', coordinator.coordDir]);
    expect(audit).toMatch(/audit chain ok/);
    const dbFiles = Buffer.concat(readdirSync(coordinator.coordDir).map((f) => readFileSync(join(coordinator.coordDir, f))));
    expect(dbFiles.includes(Buffer.from('pair.canary_failed'))).toBe(true);
  }, 180_000);
});
