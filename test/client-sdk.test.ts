// The SDK's signed requests (checked with the coordinator's verifier) and its
// retry policy, against small HTTP servers on 127.0.0.1 that produce exactly
// the transport failures under test; the targeted-query routes' retry
// semantics and epoch header, and the audit list, against the real coordinator.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../protocol/bytes.js';
import { verifyRequest, type Verified } from '../protocol/http-signature.js';
import { acceptAgreement, parseAgreement, type AgreementTerms } from '../protocol/agreement.js';
import { CONCORDAT_SUITE } from '../protocol/constants.js';
import { referenceEngine } from '../protocol/engine/index.js';
import { signEpochKey } from '../protocol/epoch-key.js';
import { pairKeyPair } from '../protocol/pair-key.js';
import { randomBytes } from '../protocol/rng.js';
import { queryValuesDigest, signQuery } from '../protocol/signed-query.js';
import { chunkManifest, signChunk } from '../protocol/manifest.js';
import { canonicalJSON } from '../src/audit.js';
import { ChunkConflictError, CoordinatorClient, CoordinatorError, CoordinatorUnreachableError, type RetryEvent } from '../clients/sdk/index.js';
import { RealCoordinator } from './client-coordinator.js';

const secretKey = new Uint8Array(32).fill(7);
const publicKey = ed25519.getPublicKey(secretKey);

interface Seen {
  method: string;
  path: string;
  query: string;
  body: Uint8Array;
  verified?: Verified;
  error?: string;
  contentType: string | undefined;
  chunkSignature?: string | undefined;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function serve(handler: (seen: Seen, res: ServerResponse, req: IncomingMessage) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const nonces = new Set<string>();
  server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const body = new Uint8Array(Buffer.concat(parts));
    const u = new URL(req.url ?? '/', 'http://x');
    const s: Seen = {
      method: req.method ?? '',
      path: u.pathname,
      query: u.search,
      body,
      contentType: req.headers['content-type'],
      chunkSignature: req.headers['concordat-chunk-signature'] as string | undefined,
    };
    try {
      s.verified = await verifyRequest({
        method: s.method,
        path: u.pathname,
        query: u.search === '' ? '?' : u.search,
        headers: { get: (n) => (req.headers[n.toLowerCase()] as string | undefined) ?? null },
        body,
        now: Math.floor(Date.now() / 1000),
        lookupKey: (k) => (k === 'ES-CNP' ? publicKey : undefined),
        useNonce: (k, n) => !nonces.has(`${k}${n}`) && (nonces.add(`${k}${n}`), true),
      });
    } catch (e) {
      s.error = (e as Error).message;
    }
    seen.push(s);
    handler(s, res, req);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server?.address() as AddressInfo).port}`, seen };
}

/** A chunk receipt as the contract gives it (src/API.md). */
function receipt(index: number, body: Uint8Array) {
  return { index, firstPosition: index, count: 1, sha256: bytesToHex(sha256(body)), agreement: { id: 'es-pt', version: 1 }, signature: '00'.repeat(64) };
}

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
}

const client = (url: string, extra: Partial<ConstructorParameters<typeof CoordinatorClient>[0]> = {}) =>
  new CoordinatorClient({ baseUrl: url, keyId: 'ES-CNP', secretKey, backoffBaseMs: 20, backoffMaxMs: 200, ...extra });

describe('CoordinatorClient', () => {
  it('signs GET, JSON and binary requests so that the coordinator verifier accepts them', async () => {
    const { url, seen } = await serve((s, res) => {
      if (s.path.endsWith('/chunks/0')) return json(res, 201, { ...receipt(0, s.body) });
      json(res, 200, { removed: 2 });
    });
    const c = client(`${url}/`);
    await c.request('GET', '/v1/me?x=1&y=2');
    expect(await c.postRemovals('es-pt~ES-CNP~PT-PJ', [1, 2])).toBe(2);
    const element = new Uint8Array(32).fill(1);
    await c.putChunk('es-pt~ES-CNP~PT-PJ', 0, element, 'e1', new Uint8Array(64).fill(5));
    expect(seen.map((s) => s.error)).toEqual([undefined, undefined, undefined]);
    expect(seen.map((s) => s.verified?.keyid)).toEqual(['ES-CNP', 'ES-CNP', 'ES-CNP']);
    expect(seen[0]?.query).toBe('?x=1&y=2');
    expect(seen[1]?.contentType).toBe('application/json');
    expect(JSON.parse(Buffer.from(seen[1]?.body ?? []).toString())).toEqual({ positions: [1, 2] });
    expect(seen[2]?.path).toBe('/v1/pairs/es-pt~ES-CNP~PT-PJ/set/chunks/0');
    expect(seen[2]?.contentType).toBe('application/octet-stream');
    // The chunk manifest's signature travels as an RFC 8941 byte sequence (protocol/SPEC.md §8.8).
    expect(seen[2]?.chunkSignature).toBe(`:${Buffer.from(new Uint8Array(64).fill(5)).toString('base64')}:`);
    // Nonces: 24 random bytes in base64url, never reused; created is the current time.
    const nonces = seen.map((s) => s.verified?.nonce ?? '');
    for (const n of nonces) expect(n).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new Set(nonces).size).toBe(3);
    expect(Math.abs((seen[0]?.verified?.created ?? 0) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('keeps a path prefix of the base URL in the signed @path', async () => {
    const { url, seen } = await serve((_s, res) => json(res, 200, { tasks: [] }));
    await client(`${url}/concordat`).work();
    expect(seen[0]?.path).toBe('/concordat/v1/work');
    expect(seen[0]?.error).toBeUndefined();
  });

  it('retries 5xx with backoff and a fresh signature per attempt, then succeeds', async () => {
    let calls = 0;
    const { url, seen } = await serve((_s, res) => {
      calls++;
      if (calls <= 2) return json(res, 503, { type: 'urn:concordat:problem:internal', title: 'Internal', status: 503 }, 'application/problem+json');
      json(res, 200, { tasks: [] });
    });
    const retries: RetryEvent[] = [];
    const t0 = Date.now();
    const tasks = await client(url, { onRetry: (e) => retries.push(e) }).work();
    expect(tasks).toEqual([]);
    expect(calls).toBe(3);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    // Exponential with jitter: attempt n waits within [d/2, d], d = 20·2^(n−1) ms.
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(10);
    expect(retries[0]?.delayMs).toBeLessThanOrEqual(20);
    expect(retries[1]?.delayMs).toBeGreaterThanOrEqual(20);
    expect(retries[1]?.delayMs).toBeLessThanOrEqual(40);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(30);
    expect(seen.every((s) => s.error === undefined)).toBe(true);
    expect(new Set(seen.map((s) => s.verified?.nonce)).size).toBe(3);
  });

  it('retries network errors and 429, and gives up with a clear error', async () => {
    let calls = 0;
    const { url } = await serve((_s, res, req) => {
      calls++;
      if (calls === 1) return req.socket.destroy();
      if (calls === 2) {
        res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/problem+json' });
        return res.end(JSON.stringify({ type: 'about:blank', title: 'Too Many Requests', status: 429 }));
      }
      json(res, 200, { removed: 0 });
    });
    expect(await client(url).postRemovals('p', [])).toBe(0);
    expect(calls).toBe(3);

    const dead = client('http://127.0.0.1:1', { retries: 2 });
    const err = await dead.work().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoordinatorUnreachableError);
    expect((err as CoordinatorUnreachableError).attempts).toBe(3);
  });

  it('does not retry 4xx and parses problem documents', async () => {
    let calls = 0;
    const { url } = await serve((_s, res) => {
      calls++;
      json(
        res,
        422,
        { type: 'urn:concordat:problem:validation', title: 'Validation failed', status: 422, detail: 'bad element', field: 'element[17]' },
        'application/problem+json',
      );
    });
    const err = (await client(url).putPairEpochKey('p', { epoch: 'e1', publicKey: new Uint8Array(32), signature: new Uint8Array(64) }).catch((e: unknown) => e)) as CoordinatorError;
    expect(calls).toBe(1);
    expect(err).toBeInstanceOf(CoordinatorError);
    expect(err).toMatchObject({ status: 422, type: 'urn:concordat:problem:validation', title: 'Validation failed', detail: 'bad element', field: 'element[17]' });
    expect(err.slug).toBe('validation');
    expect(err.message).toContain('element[17]');
  });

  it('turns 409 on an idempotent chunk upload into a ChunkConflictError; 200 and 201 both succeed', async () => {
    const { url } = await serve((s, res) => {
      const n = Number(/chunks\/(\d+)/.exec(s.path)?.[1]);
      if (n === 2) return json(res, 409, { type: 'urn:concordat:problem:conflict', title: 'Conflict', status: 409, detail: 'other digest' }, 'application/problem+json');
      json(res, n === 0 ? 200 : 201, receipt(n, s.body));
    });
    const c = client(url);
    const el = new Uint8Array(32).fill(3);
    const sig = new Uint8Array(64);
    expect((await c.putChunk('p', 0, el, 'e1', sig)).created).toBe(false);
    expect((await c.putChunk('p', 1, el, 'e1', sig)).created).toBe(true);
    const err = await c.putChunk('p', 2, el, 'e1', sig).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChunkConflictError);
    expect((err as Error).message).toMatch(/holds different data for chunk 2/);
  });

  it('times out a request that never answers and retries it', async () => {
    let calls = 0;
    const { url } = await serve((_s, res) => {
      calls++;
      if (calls === 1) return; // never answers
      json(res, 200, { tasks: [] });
    });
    expect(await client(url, { timeoutMs: 300 }).work()).toEqual([]);
    expect(calls).toBe(2);
  });

  it('hands a downloaded partner chunk over with the manifest and signature relayed in its headers, trusting neither', async () => {
    const data = new Uint8Array(64).fill(9);
    const manifest = { pair: 'p', index: 0, count: 2, sha256: bytesToHex(sha256(data)) };
    const sig = new Uint8Array(64).fill(4);
    let headers = true;
    const { url } = await serve((_s, res) => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        ...(headers
          ? { 'concordat-chunk-manifest': `:${Buffer.from(JSON.stringify(manifest)).toString('base64')}:`, 'concordat-chunk-signature': `:${Buffer.from(sig).toString('base64')}:` }
          : {}),
      });
      res.end(Buffer.from(data));
    });
    const c = client(url);
    const got = await c.getPartnerChunk('p', 0);
    expect(got.elements).toEqual(data);
    expect(got.manifest).toEqual(manifest);
    expect(got.signature).toEqual(sig);
    headers = false;
    expect(await c.getPartnerChunk('p', 0)).toEqual({ elements: data, manifest: null, signature: null });
  });

  it('checks the protocol GET / names before the first signed request, and refuses another', async () => {
    let protocol: string | undefined = 'concordat-v1';
    const { url, seen } = await serve((s, res) => {
      if (s.path === '/') return json(res, 200, { service: 'concordat-coordinator', version: 'x', ...(protocol ? { protocol } : {}), epoch: 'e1' });
      json(res, 200, { tasks: [] });
    });
    const c = client(url, { protocol: 'concordat-v2' });
    await expect(c.work()).rejects.toThrow(`the coordinator at ${url} speaks "concordat-v1"; this client speaks concordat-v2`);
    protocol = undefined;
    await expect(c.work()).rejects.toThrow(/speaks an older protocol; this client speaks concordat-v2/);
    expect(seen.filter((x) => x.path !== '/')).toEqual([]);
    protocol = 'concordat-v2';
    expect(await c.work()).toEqual([]);
    expect(await c.work()).toEqual([]);
    // Checked once per client, unsigned.
    expect(seen.filter((x) => x.path === '/').length).toBe(3);
  });

  it('retries the protocol check as any request: a refused connection and a 503 are passing states', async () => {
    let first = true;
    const { url, seen } = await serve((s, res) => {
      if (s.path === '/') {
        if (first) {
          first = false;
          return json(res, 503, { type: 'urn:concordat:problem:unavailable', title: 'Service Unavailable', status: 503 });
        }
        return json(res, 200, { service: 'concordat-coordinator', version: 'x', protocol: 'concordat-v2', epoch: 'e1' });
      }
      json(res, 200, { tasks: [] });
    });
    let refused = 1;
    const retries: string[] = [];
    const c = client(url, {
      protocol: 'concordat-v2',
      fetch: (input, init) => (refused-- > 0 ? Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })) : globalThis.fetch(input, init)),
      onRetry: (e) => retries.push(`${e.method} ${e.path} ${e.reason}`),
    });
    expect(await c.work()).toEqual([]);
    expect(retries).toEqual(['GET / fetch failed (ECONNREFUSED)', 'GET / 503']);
    expect(seen.filter((x) => x.path === '/').length).toBe(2);
    // Out of retries, it says the coordinator is unreachable.
    const down = client('http://127.0.0.1:1', { protocol: 'concordat-v2', retries: 1 });
    await expect(down.work()).rejects.toThrow(/coordinator unreachable at http:\/\/127\.0\.0\.1:1 after 2 attempt\(s\)/);
  });
});

describe('CoordinatorClient against the real coordinator: targeted-query routes', () => {
  /** Two agencies with a reveal agreement both accepted (protocol/SPEC.md §8.6) and signed pair keys published. */
  async function setup() {
    const coord = await RealCoordinator.start();
    const keys = new Map<string, Uint8Array>();
    const mk = async (id: string, country: string) => {
      const sk = randomBytes(32);
      keys.set(id, sk);
      await coord.addAgency(id, bytesToHex(ed25519.getPublicKey(sk)), country, sk);
      return coord.client(id, sk, 2);
    };
    const es = await mk('ES-CNP', 'ESP');
    const pt = await mk('PT-PJ', 'PRT');
    await coord.addAgreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['email'], mode: 'reveal', queryQuota: { perDay: 2, maxValues: 10 } });
    const terms: AgreementTerms = parseAgreement((await es.agreements())[0]?.terms);
    for (const [id, c] of [['ES-CNP', es], ['PT-PJ', pt]] as const) await c.acceptAgreement(terms.id, terms.version, acceptAgreement(terms, id, keys.get(id) as Uint8Array));
    for (const [id, c] of [['ES-CNP', es], ['PT-PJ', pt]] as const) {
      const sk = keys.get(id) as Uint8Array;
      const pk = pairKeyPair(CONCORDAT_SUITE, randomBytes(32), 'e1', pair).pk;
      const statement = { agency: id, epoch: 'e1', pair, agreement: { id: terms.id, version: terms.version }, publicKey: bytesToHex(pk) };
      await c.putPairEpochKey(pair, { epoch: 'e1', publicKey: pk, signature: signEpochKey(statement, sk) });
    }
    return { coord, es, esKey: keys.get('ES-CNP') as Uint8Array, terms };
  }
  const pair = 'es-pt~ES-CNP~PT-PJ';
  /** A query body with one leg signed by ES (protocol/SPEC.md §8.9). */
  const q = (sk: Uint8Array, terms: AgreementTerms) => {
    const values = [referenceEngine.hashToGroup(CONCORDAT_SUITE, [randomBytes(8)])];
    const id = crypto.randomUUID();
    const createdAt = new Date().toISOString();
    const agreement = { id: terms.id, version: terms.version };
    const statement = {
      id,
      requester: 'ES-CNP',
      responder: 'PT-PJ',
      pair,
      agreement,
      epoch: 'e1',
      kind: 'email',
      purpose: 'terrorism',
      caseRef: 'C-1',
      count: 1,
      valuesSha256: queryValuesDigest(values),
      createdAt,
    };
    return {
      queryId: id,
      createdAt,
      legs: [{ partner: 'PT-PJ', agreement, pair, epoch: 'e1', signature: bytesToHex(signQuery(statement, sk)) }],
      kind: 'email' as const,
      purpose: 'terrorism',
      caseRef: 'C-1',
      officer: 'o-1',
      blinded: values.map(bytesToHex),
    };
  };

  it('creates a query once: retried when it never reached the coordinator (503), not after a lost response; 429 is never retried', async () => {
    const { coord, es, esKey, terms } = await setup();
    const q0 = () => q(esKey, terms);
    try {
      let unavailable = 0;
      coord.faults = [(r) => (r.path === '/v1/queries' && unavailable++ === 0 ? 'fail-503' : undefined)];
      expect((await es.createQuery(q0())).legs).toEqual([{ partner: 'PT-PJ', status: 'pending' }]);
      expect(unavailable).toBe(2);

      // The coordinator created the second query but its response was lost: no retry, so no third query.
      let dropped = 0;
      coord.faults = [(r) => (r.path === '/v1/queries' && dropped++ === 0 ? 'drop-after' : undefined)];
      await expect(es.createQuery(q0())).rejects.toBeInstanceOf(CoordinatorUnreachableError);
      expect(dropped).toBe(1);
      coord.faults = [];

      // Quota of 2 used: a 429 with its reset time, at once.
      const t0 = Date.now();
      const err = (await es.createQuery(q0()).catch((e: unknown) => e)) as CoordinatorError;
      expect(err).toBeInstanceOf(CoordinatorError);
      expect(err).toMatchObject({ status: 429, slug: 'quota', resetsAt: expect.stringMatching(/T00:00:00\.000Z$/) });
      expect(Number(err.retryAfter)).toBeGreaterThan(0);
      expect(Date.now() - t0).toBeLessThan(5_000);
      // Reached the coordinator: the retry after the 503, the dropped one, the refused one.
      expect(coord.seen.filter((s) => s.path === '/v1/queries').length).toBe(3);
    } finally {
      await coord.stop();
    }
  });

  it('sends Concordat-Epoch on uploads and surfaces stale-epoch and epoch-key-required', async () => {
    const { coord, es, esKey, terms } = await setup();
    try {
      const el = referenceEngine.hashToGroup(CONCORDAT_SUITE, [randomBytes(8)]);
      const sign = (epoch: string) =>
        signChunk(chunkManifest({ pair, agreement: { id: terms.id, version: terms.version }, epoch, agency: 'ES-CNP', index: 0, firstPosition: 0 }, el), esKey);
      await es.putChunk(pair, 0, el, 'e1', sign('e1'));
      expect(coord.seen.at(-1)).toMatchObject({ method: 'PUT', epoch: 'e1' });
      const stale = (await es.postRemovals(pair, [0], 'e0').catch((e: unknown) => e)) as CoordinatorError;
      expect(stale).toMatchObject({ status: 409, slug: 'stale-epoch' });
      await coord.rotate();
      const noKey = (await es.putChunk(pair, 0, el, 'e2', sign('e2')).catch((e: unknown) => e)) as CoordinatorError;
      expect(noKey).toMatchObject({ status: 409, slug: 'epoch-key-required' });
    } finally {
      await coord.stop();
    }
  });
});

describe('CoordinatorClient against the real coordinator: audit', () => {
  it('pages through the entries that involve the agency, each checkable on its own', async () => {
    const coord = await RealCoordinator.start();
    try {
      const mk = async (id: string, country: string) => {
        const sk = randomBytes(32);
        await coord.addAgency(id, bytesToHex(ed25519.getPublicKey(sk)), country, sk);
        return coord.client(id, sk, 0);
      };
      const es = await mk('ES-CNP', 'ESP');
      const pt = await mk('PT-PJ', 'PRT');
      const fr = await mk('FR-OCRTEH', 'FRA');
      await coord.addAgreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: ['email'], mode: 'reveal' });
      await es.results();
      await pt.results();
      await fr.results();

      const before = (await coord.store.readAudit(0, 10_000)).length;
      const page = await es.audit();
      expect(page.next).toBeNull();
      expect(page.entries.map((e) => e.action)).toEqual(['agency.added', 'agreement.proposed', 'results.served']);
      expect(page.entries.map((e) => e.actor)).toEqual(['admin', 'admin', 'ES-CNP']);
      for (const e of page.entries) {
        // The chain covers the event; the salts that open its leaf in the audit tree (protocol/SPEC.md §9) are beside it.
        const { hash, prevHash, salts: _salts, ...event } = e as typeof e & { salts?: unknown };
        expect(bytesToHex(sha256(concatBytes(hexToBytes(prevHash), utf8(canonicalJSON(event)))))).toBe(hash);
      }
      // The call was signed with its query, and reading appended nothing.
      expect(coord.seen.at(-1)).toMatchObject({ method: 'GET', path: '/v1/audit', agency: 'ES-CNP' });
      expect(await coord.store.readAudit(0, 10_000)).toHaveLength(before);

      const paged = [];
      let after = 0;
      for (;;) {
        const p = await es.audit(after, 1);
        expect(p.entries.length).toBeLessThanOrEqual(1);
        paged.push(...p.entries);
        if (p.next === null) break;
        after = p.next;
      }
      expect(paged).toEqual(page.entries);
      expect((await pt.audit()).entries.some((e) => e.actor === 'ES-CNP' && e.action === 'results.served')).toBe(false);

      const err = (await es.audit(0, 0).catch((e: unknown) => e)) as CoordinatorError;
      expect(err).toBeInstanceOf(CoordinatorError);
      expect(err).toMatchObject({ status: 422, slug: 'validation', field: 'query.limit' });
    } finally {
      await coord.stop();
    }
  });
});
