// A 100,000-element side must upload, take its partner's tokens and match in
// seconds. Elements are valid ristretto255 points (every upload is checked);
// tokens are synthetic with planted overlaps, as the coordinator cannot tell
// them from real ones and matching cost does not depend on how they were made.
import sodium from 'libsodium-wrappers-sumo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELEMENT_BYTES, TOKEN_BYTES } from '../protocol/constants.js';
import { randomBytes } from '../protocol/rng.js';
import { loadSodiumElementChecker } from '../src/node/elements.js';
import { addAgreement, epochKeyPair, makeHarness, publishKey, type Harness, type Signer } from './coordinator-harness.js';

const N = 100_000;
const SHARED = 1_000;
const CHUNK = 65_536;
const PAIR = 'big~ES-CNP~PT-PJ';

/** n valid elements: a pool of distinct random points, repeated (duplicates are legal). */
function elements(n: number): Uint8Array {
  const pool = Array.from({ length: 512 }, () => sodium.crypto_core_ristretto255_random());
  const out = new Uint8Array(n * ELEMENT_BYTES);
  for (let i = 0; i < n; i++) out.set(pool[i % pool.length] as Uint8Array, i * ELEMENT_BYTES);
  return out;
}

describe('performance: 100,000 elements per side', () => {
  let h: Harness;
  let es: Signer;
  let pt: Signer;

  beforeAll(async () => {
    h = await makeHarness({ checkElements: await loadSodiumElementChecker() });
    es = await h.addAgency('ES-CNP', 'ESP');
    pt = await h.addAgency('PT-PJ', 'PRT');
    await addAgreement(h, { id: 'big', parties: ['ES-CNP', 'PT-PJ'], mode: 'count' });
    await publishKey(h, es, epochKeyPair());
    await publishKey(h, pt, epochKeyPair());
  });
  afterAll(async () => {
    await h.close();
  });

  it('matches 2 × 100,000 positions exactly (timings: npm run bench -- nightly)', async () => {
    const esElements = elements(N);
    const ptElements = elements(N);
    // Tokens of each side: random, with SHARED planted equal pairs at random-ish positions.
    const tokA = randomBytes(N * TOKEN_BYTES);
    const tokB = randomBytes(N * TOKEN_BYTES);
    for (let k = 0; k < SHARED; k++) {
      const i = (k * 7919) % N;
      const j = (k * 104729 + 13) % N;
      tokB.set(tokA.subarray(i * TOKEN_BYTES, (i + 1) * TOKEN_BYTES), j * TOKEN_BYTES);
    }

    for (const [signer, els] of [
      [es, esElements],
      [pt, ptElements],
    ] as const) {
      for (let c = 0; c * CHUNK < N; c++) {
        const body = els.subarray(c * CHUNK * ELEMENT_BYTES, Math.min(N, (c + 1) * CHUNK) * ELEMENT_BYTES);
        const r = await h.send(signer, 'PUT', `/v1/pairs/${PAIR}/set/chunks/${c}`, { body });
        expect(r.status).toBe(201);
      }
      expect((await h.send(signer, 'POST', `/v1/pairs/${PAIR}/set/canaries/done`, { body: {} })).status).toBe(200);
    }
    for (const [signer, toks] of [
      [pt, tokA],
      [es, tokB],
    ] as const) {
      for (let c = 0; c * CHUNK < N; c++) {
        const body = toks.subarray(c * CHUNK * TOKEN_BYTES, Math.min(N, (c + 1) * CHUNK) * TOKEN_BYTES);
        const r = await h.send(signer, 'PUT', `/v1/pairs/${PAIR}/partner-set/chunks/${c}/tokens`, { body });
        expect(r.status).toBe(201);
      }
    }
    const res = await h.json(es, 'GET', '/v1/results');
    expect(res.body.pairs[0]).toMatchObject({ state: 'complete', count: SHARED });
  });
});
