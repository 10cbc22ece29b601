// The transport (protocol/SPEC.md §5.3, Network): an agency never speaks
// plain http to a coordinator off its own machine — the client refuses
// before it opens a connection — and a coordinator that speaks Concordat PSI
// v2 refuses a v1-signed request with `protocol-version` instead of acting
// on it (§8.1: no v1 signature counts under v2); nor does a client follow a
// coordinator that claims an older protocol.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { writeFileSync, readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { serializeInnerList, type InnerList } from 'structured-headers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDigest, signatureBase, toBase64 } from '../../protocol/http-signature.js';
import { utf8 } from '../../protocol/bytes.js';
import { newNonce } from '../../clients/sdk/client.js';
import { rewriteJson } from './hostile.js';
import { assertNothingPlantedReachedTheCoordinator } from './privacy.js';
import { built, cli, range, World } from './world.js';

let w: World;
/** A listener on a non-loopback address of this machine: it counts whoever connects. */
let bait: Server;
let baitUrl = '';
let connections = 0;

function nonLoopbackAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  // No such interface: a TEST-NET-1 address (RFC 5737) still is not loopback.
  return '192.0.2.1';
}

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build`');
  w = await World.start();
  await w.agency('ES-CNP', 'ESP', range(100_000, 10));
  const host = nonLoopbackAddress();
  bait = createServer((_req, res) => res.end('{}'));
  bait.on('connection', () => connections++);
  await new Promise<void>((resolve) => bait.listen(0, host, resolve)).catch(() => undefined);
  const addr = bait.address() as AddressInfo | null;
  baitUrl = `http://${host}:${addr?.port ?? 9}`;
});

afterAll(async () => {
  await new Promise<void>((r) => bait?.close(() => r()));
  await w?.stop();
});

/** `Signature-Input` and `Signature` as a Concordat PSI v1 client signs them (tag `concordat-v1`). */
function signAsV1(method: string, url: string, body: Uint8Array, keyid: string, secretKey: Uint8Array): Record<string, string> {
  const digest = contentDigest(body);
  const covered = ['@method', '@authority', '@path', '@query', 'content-digest'];
  const params = new Map<string, string | number>([
    ['created', Math.floor(Date.now() / 1000)],
    ['keyid', keyid],
    ['nonce', newNonce()],
    ['alg', 'ed25519'],
    ['tag', 'concordat-v1'],
  ]);
  const input: InnerList = [covered.map((c) => [c, new Map()]), params];
  const base = signatureBase({ url, method, headers: { get: (n: string) => (n === 'content-digest' ? digest : null) } }, input);
  return {
    'content-digest': digest,
    'signature-input': `sig1=${serializeInnerList(input)}`,
    signature: `sig1=:${toBase64(ed25519.sign(utf8(base), secretKey))}:`,
  };
}

describe('transport', () => {
  it('the client refuses plain http to a non-loopback coordinator, before any connection', async () => {
    const init = await cli(['init', '--dir', join(w.work, 'XX-NEW'), '--agency', 'ES-NEW', '--coordinator', baitUrl]);
    expect(init.code).not.toBe(0);
    expect(init.stderr).toMatch(/https/i);

    // An existing directory pointed at plain http off this machine (as a tampered agency.json would be).
    const file = join(w.dir('ES-CNP'), 'agency.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as { coordinator: string };
    const saved = json.coordinator;
    writeFileSync(file, JSON.stringify({ ...json, coordinator: baitUrl }));
    try {
      for (const args of [['sync'], ['serve', '--once'], ['query', '--partner', 'PT-PJ', '--kind', 'passport', '--value', 'ESP:P0100001', '--case', 'C', '--purpose', 'terrorism', '--officer', 'o']]) {
        const r = await cli([...args, '--dir', w.dir('ES-CNP')]);
        expect(r.code, `${args[0]}: ${r.stdout}${r.stderr}`).not.toBe(0);
        expect(r.stderr).toMatch(/https/i);
      }
      expect(connections).toBe(0);

      // Test rigs may opt in, loudly.
      const rig = await cli(['init', '--dir', join(w.work, 'XX-RIG'), '--agency', 'ES-RIG', '--coordinator', baitUrl], { CONCORDAT_INSECURE_HTTP: '1' });
      expect(rig.code, rig.stderr).toBe(0);
      expect(rig.stdout + rig.stderr).toContain('WARNING: plain http to a non-loopback coordinator (CONCORDAT_INSECURE_HTTP=1): test rigs only');
    } finally {
      writeFileSync(file, JSON.stringify({ ...json, coordinator: saved }));
    }
  });

  it('the coordinator refuses a v1-signed request with protocol-version, and acts on nothing', async () => {
    const es = w.get('ES-CNP');
    const url = `${w.coord.url}/v1/me`;
    const before = w.coord.logs.length;
    const res = await fetch(url, { headers: signAsV1('GET', url, new Uint8Array(0), es.agency, es.signingKey) });
    expect(res.status).toBe(401);
    const problem = (await res.json()) as { type: string; detail: string };
    expect(problem.type).toBe('urn:concordat:problem:protocol-version');
    expect(problem.detail).toBe('this coordinator speaks Concordat PSI v2; the client signed as concordat-v1: upgrade the client');
    expect(JSON.stringify(problem)).not.toContain('ES-CNP agency');
    // An upload signed as v1 is refused the same way: nothing stored.
    const chunks = w.coord.db.prepare('SELECT count(*) FROM chunks').pluck().get();
    const put = `${w.coord.url}/v1/pairs/x~ES-CNP~PT-PJ/set/chunks/0`;
    const body = new Uint8Array(32);
    const r2 = await fetch(put, { method: 'PUT', body, headers: { ...signAsV1('PUT', put, body, es.agency, es.signingKey), 'content-type': 'application/octet-stream' } });
    expect(r2.status).toBe(401);
    expect(((await r2.json()) as { type: string }).type).toBe('urn:concordat:problem:protocol-version');
    expect(w.coord.db.prepare('SELECT count(*) FROM chunks').pluck().get()).toBe(chunks);
    expect(w.coord.logs.slice(before).map((l) => l.status)).toEqual([401, 401]);
    // The refusal is in the coordinator's audit chain: the first of its reason from this source in full, the next one
    // only counted for the hour's auth.refused_summary (src/refusals.ts), so anonymous traffic cannot grow the log.
    const audit = await w.coord.store.readAudit(0, 100_000);
    expect(audit.filter((e) => e.action === 'auth.refused' && e.outcome === 'protocol-version').length).toBe(1);
  });

  it('the client refuses a coordinator that claims an older protocol, before its first signed request', async () => {
    for (const protocol of ['concordat-v1', undefined]) {
      const off = w.coord.use({
        label: `GET / names ${protocol ?? 'no protocol'}`,
        when: (x) => x.method === 'GET' && x.path === '/',
        response: (res) =>
          rewriteJson(res, (b: Record<string, unknown>) => {
            const { protocol: _p, ...rest } = b;
            return protocol === undefined ? rest : { ...rest, protocol };
          }),
      });
      try {
        const mark = w.coord.seen.length;
        const r = await cli(['sync', '--dir', w.dir('ES-CNP')]);
        expect(r.code).not.toBe(0);
        const named = protocol === undefined ? 'an older protocol' : JSON.stringify(protocol);
        expect(r.stderr).toContain(`the coordinator at ${w.coord.url} speaks ${named}; this client speaks concordat-v2`);
        // A downgrade gets nothing signed: no request of the agency reached the coordinator.
        expect(w.coord.since(mark, (x) => x.agency !== '').map((x) => `${x.method} ${x.path}`)).toEqual([]);
      } finally {
        off();
      }
    }
  });

  it('privacy: no planted identifier reached the coordinator’s database, log or wire', async () => {
    await assertNothingPlantedReachedTheCoordinator(w);
  });
});
