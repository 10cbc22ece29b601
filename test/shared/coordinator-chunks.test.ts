import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { checkChunk, chunkManifest, signChunk } from '../../protocol/manifest.js';
import { byteSequence, parseByteSequence } from '../../src/signatures.js';
import { CHUNK_MANIFEST_HEADER, CHUNK_SIGNATURE_HEADER, liveCap } from '../../wire/index.js';
import { CONCORDAT_SUITE } from '../../protocol/constants.js';
import type { Engine } from '../../protocol/engine/index.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { ElementChecker } from '../../src/elements.js';
import { addAgreement, concat, epochKeyPair, makeHarness, publishKey, type Harness, type Signer } from '../coordinator-harness.js';
import { elementCheckers, loadTestEngine } from '../coordinator-runtime.js';

const PAIR = 'es-pt~ES-CNP~PT-PJ';
const REF = { id: 'es-pt', version: 1 };


let engine: Engine;
/** Every element checker a coordinator on this runtime may use. */
const checkers = await elementCheckers();

beforeAll(async () => {
  engine = await loadTestEngine();
});

function elements(n: number, tag = 'x'): Uint8Array {
  const kp = epochKeyPair();
  const inputs = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`email\u0000${tag}${i}@example.org`));
  return engine.blind(CONCORDAT_SUITE, kp.sk, inputs);
}

async function setup(checker?: ElementChecker, maxSetSize?: number) {
  const h = await makeHarness(checker ? { checkElements: checker } : {});
  const es = await h.addAgency('ES-CNP', 'ESP');
  const pt = await h.addAgency('PT-PJ', 'PRT');
  await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], ...(maxSetSize ? { maxSetSize } : {}) });
  await publishKey(h, es, epochKeyPair());
  await publishKey(h, pt, epochKeyPair());
  return { h, es, pt };
}

describe('chunk upload', () => {
  let h: Harness;
  let es: Signer;
  let pt: Signer;
  beforeEach(async () => {
    ({ h, es, pt } = await setup());
  });
  /** ES's manifest signature of chunk `index` at `firstPosition`, as its client signs it (protocol/SPEC.md §8.8). */
  const sigOf = (index: number, firstPosition: number, bytes: Uint8Array): string =>
    bytesToHex(signChunk(chunkManifest({ pair: PAIR, agreement: REF, epoch: 'e1', agency: 'ES-CNP', index, firstPosition }, bytes), es.secretKey));
  afterEach(async () => {
    await h.close();
  });

  it('refuses a chunk whose manifest signature is missing, malformed or not the uploader’s, storing nothing and auditing why', async () => {
    const c0 = elements(4, 'a');
    const path = `/v1/pairs/${PAIR}/set/chunks/0`;
    const sig = (bytes: Uint8Array) => hexToBytes(sigOf(0, 0, bytes));
    const cases: [string, Record<string, string>][] = [
      ['missing', {}],
      ['malformed', { [CHUNK_SIGNATURE_HEADER]: 'not-a-byte-sequence' }],
      ['short', { [CHUNK_SIGNATURE_HEADER]: byteSequence(new Uint8Array(63)) }],
      ['another key', { [CHUNK_SIGNATURE_HEADER]: byteSequence(signChunk(chunkManifest({ pair: PAIR, agreement: REF, epoch: 'e1', agency: 'ES-CNP', index: 0, firstPosition: 0 }, c0), pt.secretKey)) }],
      ['another position', { [CHUNK_SIGNATURE_HEADER]: byteSequence(signChunk(chunkManifest({ pair: PAIR, agreement: REF, epoch: 'e1', agency: 'ES-CNP', index: 0, firstPosition: 7 }, c0), es.secretKey)) }],
      ['another agreement version', { [CHUNK_SIGNATURE_HEADER]: byteSequence(signChunk(chunkManifest({ pair: PAIR, agreement: { id: 'es-pt', version: 2 }, epoch: 'e1', agency: 'ES-CNP', index: 0, firstPosition: 0 }, c0), es.secretKey)) }],
      ['other bytes', { [CHUNK_SIGNATURE_HEADER]: byteSequence(sig(elements(4, 'z'))) }],
    ];
    for (const [what, headers] of cases) {
      const r = await h.json(es, 'PUT', path, { body: c0, headers, raw: true });
      expect(r.status, what).toBe(422);
      expect(r.body, what).toMatchObject({ type: 'urn:concordat:problem:bad-signature', field: 'header.concordat-chunk-signature' });
    }
    expect((await h.json(es, 'GET', `/v1/pairs/${PAIR}/status`)).body.mine.chunks).toEqual([]);
    const refused = (await h.store.readAudit(0, 1000)).filter((e) => e.action === 'chunk.refused');
    expect(refused).toHaveLength(cases.length);
    expect(refused[0]).toMatchObject({ actor: 'ES-CNP', subject: PAIR, outcome: 'bad-signature', detail: { epoch: 'e1', index: 0 } });
    // Signed as the client signs it: stored; a re-send with a bad signature is still refused.
    expect((await h.json(es, 'PUT', path, { body: c0, headers: { [CHUNK_SIGNATURE_HEADER]: byteSequence(sig(c0)) }, raw: true })).status).toBe(201);
    expect((await h.json(es, 'PUT', path, { body: c0, headers: cases[3]?.[1], raw: true })).status).toBe(422);
  });

  it('appends, is idempotent by index and digest, refuses disagreement and gaps', async () => {
    const c0 = elements(10, 'a');
    const c1 = elements(5, 'b');
    const put = (i: number, body: Uint8Array) => h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/${i}`, { body });
    const r0 = await put(0, c0);
    expect(r0).toEqual({ status: 201, body: { index: 0, firstPosition: 0, count: 10, sha256: bytesToHex(sha256(c0)), agreement: REF, signature: sigOf(0, 0, c0) } });
    expect(await put(0, c0)).toEqual({ status: 200, body: r0.body });
    const other = await put(0, c1);
    expect(other.status).toBe(409);
    expect(other.body.type).toBe('urn:concordat:problem:conflict');
    const gap = await put(2, c1);
    expect(gap.status).toBe(409);
    expect(gap.body.detail).toContain('(1)');
    const r1 = await put(1, c1);
    expect(r1).toEqual({ status: 201, body: { index: 1, firstPosition: 10, count: 5, sha256: bytesToHex(sha256(c1)), agreement: REF, signature: sigOf(1, 10, c1) } });
    const st = await h.json(es, 'GET', `/v1/pairs/${PAIR}/status`);
    expect(st.body).toEqual({
      pair: PAIR,
      state: 'waiting',
      mine: {
        chunks: [
          { index: 0, count: 10, sha256: bytesToHex(sha256(c0)) },
          { index: 1, count: 5, sha256: bytesToHex(sha256(c1)) },
        ],
        size: 15,
        removed: 0,
        canariesRegistered: false,
        canaryChunks: 0,
        tokenizedByPartner: 0,
      },
      partner: { chunks: 0, size: 0, tokenizedByMe: 0 },
    });
    const ptView = await h.json(pt, 'GET', `/v1/pairs/${PAIR}/status`);
    expect(ptView.body.partner).toEqual({ chunks: 2, size: 15, tokenizedByMe: 0 });
    const work = await h.json(pt, 'GET', '/v1/work');
    expect(work.body.tasks).toEqual([
      { pair: PAIR, partner: 'ES-CNP', agreement: REF, epoch: 'e1', index: 0, firstPosition: 0, count: 10, sha256: bytesToHex(sha256(c0)), signature: sigOf(0, 0, c0) },
      { pair: PAIR, partner: 'ES-CNP', agreement: REF, epoch: 'e1', index: 1, firstPosition: 10, count: 5, sha256: bytesToHex(sha256(c1)), signature: sigOf(1, 10, c1) },
    ]);
    const dl = await h.send(pt, 'GET', `/v1/pairs/${PAIR}/partner-set/chunks/1`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-type')).toBe('application/octet-stream');
    const bytes = new Uint8Array(await dl.arrayBuffer());
    expect(bytes).toEqual(c1);
    // The download carries the uploader's manifest and signature, and they pass the tokeniser's own check (protocol/SPEC.md §8.8).
    const manifest = JSON.parse(new TextDecoder().decode(parseByteSequence(dl.headers.get(CHUNK_MANIFEST_HEADER) ?? undefined)));
    const signature = parseByteSequence(dl.headers.get(CHUNK_SIGNATURE_HEADER) ?? undefined) as Uint8Array;
    expect(checkChunk({ document: manifest, signature }, { pair: PAIR, agreement: REF, epoch: 'e1', agency: 'ES-CNP', signingKey: es.publicKey, index: 1, firstPosition: 10 }, bytes)).toMatchObject({ ok: true });
    expect((await h.send(pt, 'GET', `/v1/pairs/${PAIR}/partner-set/chunks/2`)).status).toBe(404);
    const audit = await h.store.readAudit(0, 1000);
    expect(audit.filter((e) => e.action === 'chunk.stored').map((e) => e.detail)).toEqual([
      { epoch: 'e1', index: 0, count: 10, sha256: bytesToHex(sha256(c0)), agreementVersion: 1 },
      { epoch: 'e1', index: 1, count: 5, sha256: bytesToHex(sha256(c1)), agreementVersion: 1 },
    ]);
  });

  it('stores a full chunk (65,536 elements, 2 MiB) in pieces of at most 1 MiB and serves it back whole', async () => {
    // D1 and Durable Object SQLite refuse rows over 2,000,000 bytes; a full chunk is 2,097,152.
    const pool = elements(256, 'pool');
    const n = 65_536;
    const body = new Uint8Array(n * 32);
    for (let i = 0; i < n; i++) {
      const k = (i + Math.floor(i / 1000)) % 256;
      body.set(pool.subarray(k * 32, (k + 1) * 32), i * 32);
    }
    const up = await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body });
    expect(up).toMatchObject({ status: 201, body: { index: 0, firstPosition: 0, count: n } });
    const [row] = await h.pairRows(PAIR, 'SELECT max(length(elements)) AS longest FROM chunks');
    const [pieces] = await h.pairRows(PAIR, 'SELECT count(*) AS n, max(length(elements)) AS longest FROM chunk_pieces');
    expect(row?.longest).toBe(1 << 20);
    expect(pieces).toEqual({ n: 1, longest: 1 << 20 });
    const dl = await h.send(pt, 'GET', `/v1/pairs/${PAIR}/partner-set/chunks/0`);
    const got = new Uint8Array(await dl.arrayBuffer());
    expect(got.length).toBe(body.length);
    expect(bytesToHex(sha256(got))).toBe(bytesToHex(sha256(body)));
    const tokens = new Uint8Array(n * 16);
    for (let i = 0; i < n; i++) tokens.set(sha256(new Uint8Array([i & 255, i >> 8])).subarray(0, 16), i * 16);
    expect((await h.json(pt, 'PUT', `/v1/pairs/${PAIR}/partner-set/chunks/0/tokens`, { body: tokens })).status).toBe(201);
    expect((await h.json(pt, 'GET', `/v1/pairs/${PAIR}/status`)).body.partner).toEqual({ chunks: 1, size: n, tokenizedByMe: 1 });
  });

  it('refuses bodies that are not whole elements and bad path parameters', async () => {
    const bad = await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: new Uint8Array(33) });
    expect(bad.status).toBe(422);
    expect(bad.body.field).toBe('body');
    expect((await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: new Uint8Array(0) })).status).toBe(422);
    const idx = await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/01`, { body: elements(1) });
    expect(idx.body.field).toBe('path.index');
    const pair = await h.json(es, 'GET', `/v1/pairs/not-a-pair/status`);
    expect(pair.body.field).toBe('path.pair');
  });

  it('refuses tokens of the wrong count, and disagreeing tokens', async () => {
    const c0 = elements(4);
    await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: c0 });
    const path = `/v1/pairs/${PAIR}/partner-set/chunks/0/tokens`;
    const wrong = await h.json(pt, 'PUT', path, { body: new Uint8Array(3 * 16) });
    expect(wrong.status).toBe(422);
    expect(wrong.body.field).toBe('body');
    const t = new Uint8Array(64).fill(7);
    expect((await h.json(pt, 'PUT', path, { body: t })).status).toBe(201);
    expect((await h.json(pt, 'PUT', path, { body: t })).status).toBe(200);
    const t2 = new Uint8Array(64).fill(8);
    expect((await h.json(pt, 'PUT', path, { body: t2 })).status).toBe(409);
    expect((await h.json(pt, 'PUT', `/v1/pairs/${PAIR}/partner-set/chunks/1/tokens`, { body: t })).status).toBe(404);
    expect((await h.json(pt, 'GET', '/v1/work')).body.tasks).toEqual([]);
  });

  it('validates removals and canaries', async () => {
    await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: elements(4) });
    const rm = await h.json(es, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [1, 4] } });
    expect(rm.status).toBe(422);
    expect(rm.body.field).toBe('body.positions[1]');
    expect((await h.json(es, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [-1] } })).status).toBe(422);
    expect(await h.json(es, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [1, 1, 2] } })).toEqual({ status: 200, body: { removed: 2 } });
    expect(await h.json(es, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [1, 2] } })).toEqual({ status: 200, body: { removed: 2 } });
    const tok = 'ab'.repeat(16);
    const cn = await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/canaries`, { body: { canaries: [{ position: 9, token: tok }] } });
    expect(cn.status).toBe(422);
    expect(cn.body.field).toBe('body.canaries[0].position');
    const badTok = await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/canaries`, { body: { canaries: [{ position: 0, token: 'AB'.repeat(16) }] } });
    expect(badTok.body.field).toBe('body.canaries[0].token');
    expect(await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/canaries`, { body: { canaries: [{ position: 0, token: tok }] } })).toEqual({
      status: 200,
      body: { registered: 1 },
    });
    expect((await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/canaries`, { body: { canaries: [{ position: 0, token: tok }] } })).status).toBe(200);
    const conflict = await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/canaries`, { body: { canaries: [{ position: 0, token: 'cd'.repeat(16) }] } });
    expect(conflict.status).toBe(409);
    expect((await h.json(es, 'POST', `/v1/pairs/${PAIR}/set/canaries/done`, { body: { x: 1 } })).status).toBe(422);
    expect(await h.json(es, 'POST', `/v1/pairs/${PAIR}/set/canaries/done`, { body: {} })).toEqual({ status: 200, body: { canariesRegistered: true } });
    const st = await h.json(es, 'GET', `/v1/pairs/${PAIR}/status`);
    expect(st.body.mine).toMatchObject({ size: 4, removed: 2, canariesRegistered: true });
  });
});

describe.each(checkers)('element validation: %s', (_name, checker) => {
  let h: Harness;
  let es: Signer;
  beforeEach(async () => {
    ({ h, es } = await setup(checker));
  });
  afterEach(async () => {
    await h.close();
  });

  it('refuses the identity, naming the element', async () => {
    const good = elements(6);
    const body = concat([good.subarray(0, 3 * 32), new Uint8Array(32), good.subarray(4 * 32)]);
    const r = await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ type: 'urn:concordat:problem:validation', field: 'element[3]' });
    expect(r.body.detail).not.toMatch(/[0-9a-f]{16}/);
  });

  it('refuses non-canonical encodings, naming the element', async () => {
    const good = elements(3);
    // s ≥ p (2^255 − 19): all ones with the top bit clear is above the field prime.
    const overflow = new Uint8Array(32).fill(0xff);
    overflow[31] = 0x7f;
    // A negative s (odd low bit) is never canonical (RFC 9496 §4.3.1).
    const negative = good.slice(0, 32);
    negative[0] = (negative[0] as number) | 1;
    for (const bad of [overflow, negative]) {
      const body = concat([good, bad]);
      const r = await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body });
      expect(r.status).toBe(422);
      expect(r.body.field).toBe('element[3]');
    }
    expect((await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: good })).status).toBe(201);
  });
});

describe('maximum set size', () => {
  let h: Harness;
  let es: Signer;
  beforeAll(async () => {
    ({ h, es } = await setup(undefined, 10));
  });
  afterAll(async () => {
    await h.close();
  });

  it('counts live positions: removals make room', async () => {
    // Maximum set size 10 plus the allowance for canaries, which the coordinator cannot tell from identifiers.
    const room = liveCap(10);
    expect((await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/0`, { body: elements(room - 2, 'a') })).status).toBe(201);
    const over = await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/1`, { body: elements(3, 'b') });
    expect(over.status).toBe(413);
    expect(over.body.type).toBe('urn:concordat:problem:too-large');
    await h.json(es, 'POST', `/v1/pairs/${PAIR}/set/removals`, { body: { positions: [0] } });
    expect((await h.json(es, 'PUT', `/v1/pairs/${PAIR}/set/chunks/1`, { body: elements(3, 'b') })).status).toBe(201);
  });
});
