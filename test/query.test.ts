// Targeted query protocol: hit, no hit, mixed batches, and a responder that
// uses the wrong key caught by the proof — on both engines.
import { describe, expect, test } from 'vitest';
import { bytesToHex, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, epochInfo } from '../protocol/constants.js';
import { verifyProof } from '../protocol/dleq.js';
import { loadFastEngine, referenceEngine, unpack, type Engine } from '../protocol/engine/index.js';
import { ProofError } from '../protocol/errors.js';
import { deriveKeyPair } from '../protocol/keys.js';
import { blindQuery, finishQuery } from '../protocol/query.js';
import { randomBytes } from '../protocol/rng.js';

const suite = CONCORDAT_SUITE;
const A = deriveKeyPair(suite, new Uint8Array(32).fill(0xa), epochInfo('e1'));
const B = deriveKeyPair(suite, new Uint8Array(32).fill(0xb), epochInfo('e1'));
const Bwrong = deriveKeyPair(suite, new Uint8Array(32).fill(0xb), epochInfo('e0'));
const input = (s: string): Uint8Array => utf8(`passport\u0000${s}`);
const seeded = (seed: number) => {
  let x = seed;
  return (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) & 0x7fffffff) & 0xff);
};

describe.each([{ e: referenceEngine }, { e: await loadFastEngine() }])('$e.name engine', ({ e }: { e: Engine }) => {
  // Tokens of B's set that A computed in the nightly flow.
  const bSet = ['ESP:X1', 'ESP:X2', 'PRT:Y3'].map(input);
  const nightly = new Set(unpack(e.tokenize(suite, A.sk, e.blind(suite, B.sk, bSet)), 16).map(bytesToHex));

  test('hit, no hit and mixed batch', () => {
    const q = blindQuery(suite, e, [input('ESP:X2'), input('FRA:Z9'), input('PRT:Y3')], randomBytes);
    const ans = e.evaluateWithProof(suite, B.sk, q.blinded, randomBytes);
    expect(verifyProof(suite, B.pk, q.blinded, ans.evaluated, ans.proof)).toBe(true);
    const tokens = finishQuery(suite, e, q, B.pk, ans.evaluated, ans.proof, A.sk);
    expect(tokens.map((t) => nightly.has(bytesToHex(t)))).toEqual([true, false, true]);
  });

  test('a responder using a key other than its published one is caught', () => {
    const q = blindQuery(suite, e, [input('ESP:X1')], randomBytes);
    const ans = e.evaluateWithProof(suite, Bwrong.sk, q.blinded, randomBytes);
    expect(() => finishQuery(suite, e, q, B.pk, ans.evaluated, ans.proof, A.sk)).toThrow(ProofError);
  });

  test('a tampered answer element is caught', () => {
    const q = blindQuery(suite, e, [input('ESP:X1'), input('ESP:X2')], randomBytes);
    const ans = e.evaluateWithProof(suite, B.sk, q.blinded, randomBytes);
    const swapped = [ans.evaluated[1]!, ans.evaluated[0]!];
    expect(() => finishQuery(suite, e, q, B.pk, swapped, ans.proof, A.sk)).toThrow(ProofError);
  });

  test('blinded queries for the same value are unlinkable', () => {
    const q1 = blindQuery(suite, e, [input('ESP:X1')], randomBytes);
    const q2 = blindQuery(suite, e, [input('ESP:X1')], randomBytes);
    expect(bytesToHex(q1.blinded[0]!)).not.toBe(bytesToHex(q2.blinded[0]!));
  });

  test('batch limits', () => {
    expect(() => blindQuery(suite, e, [], randomBytes)).toThrow(/1\.\.100/);
    expect(() => blindQuery(suite, e, Array.from({ length: 101 }, (_, i) => input(`X${i}`)), randomBytes)).toThrow(/1\.\.100/);
  });
});

test('both engines produce the same proof for the same proof nonce', async () => {
  const fast = await loadFastEngine();
  const blinded = [referenceEngine.hashToGroup(suite, [input('a')]), referenceEngine.hashToGroup(suite, [input('b')])];
  const p1 = referenceEngine.evaluateWithProof(suite, B.sk, blinded, seeded(42));
  const p2 = fast.evaluateWithProof(suite, B.sk, blinded, seeded(42));
  expect(bytesToHex(p2.proof)).toBe(bytesToHex(p1.proof));
  expect(p2.evaluated.map(bytesToHex)).toEqual(p1.evaluated.map(bytesToHex));
});

test('the fast engine verifies proofs exactly as the reference does', async () => {
  const fast = await loadFastEngine();
  for (const n of [1, 3]) {
    const blinded = Array.from({ length: n }, (_, i) => referenceEngine.hashToGroup(suite, [input(`v${i}`)]));
    const good = referenceEngine.evaluateWithProof(suite, B.sk, blinded, seeded(n));
    const wrong = referenceEngine.evaluateWithProof(suite, Bwrong.sk, blinded, seeded(n));
    const flipped = good.proof.slice();
    flipped[40]! ^= 1;
    for (const e of [referenceEngine, fast]) {
      expect(e.verifyProof(suite, B.pk, blinded, good.evaluated, good.proof)).toBe(true);
      expect(e.verifyProof(suite, B.pk, blinded, wrong.evaluated, wrong.proof)).toBe(false);
      expect(e.verifyProof(suite, B.pk, blinded, good.evaluated, flipped)).toBe(false);
      expect(() => e.verifyProof(suite, B.pk, blinded, good.evaluated, good.proof.subarray(1))).toThrow(ProofError);
    }
  }
});
