// The worker-thread pool against the single-thread engines: identical bytes,
// errors re-based to batch-wide indices, progress reported, inline fallback.
// The pool's workers load compiled modules, so this imports the build output
// (npm test builds first).
import { describe, expect, test } from 'vitest';
import { bytesToHex, concatBytes, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, epochInfo } from '../protocol/constants.js';
import { referenceEngine } from '../protocol/engine/index.js';
import { deriveKeyPair } from '../protocol/keys.js';
import { createPool } from '../dist/protocol/engine/pool.js';

const suite = CONCORDAT_SUITE;
const { sk } = deriveKeyPair(suite, new Uint8Array(32).fill(3), epochInfo('e1'));
const inputs = Array.from({ length: 700 }, (_, i) => utf8(`email\u0000person${i}@mail.example`));

describe.each([
  { engine: 'fast' as const, threads: 2 },
  { engine: 'reference' as const, threads: 2 },
  { engine: 'fast' as const, threads: 0 },
])('pool $engine, $threads threads', ({ engine, threads }) => {
  test('blind, evaluate and tokenize match the reference engine byte for byte', async () => {
    const pool = await createPool({ engine, threads, taskSize: 128 });
    try {
      expect(pool.threads).toBe(threads);
      const progress: number[] = [];
      const blinded = await pool.blind(suite, sk, inputs, { onProgress: (d) => progress.push(d) });
      expect(bytesToHex(blinded)).toBe(bytesToHex(referenceEngine.blind(suite, sk, inputs)));
      expect(progress.at(-1)).toBe(inputs.length);
      const tokens = await pool.tokenize(suite, sk, blinded);
      expect(bytesToHex(tokens)).toBe(bytesToHex(referenceEngine.tokenize(suite, sk, blinded)));
      const evaluated = await pool.evaluate(sk, blinded.subarray(0, 32 * 10));
      expect(bytesToHex(evaluated)).toBe(bytesToHex(referenceEngine.evaluate(sk, blinded.subarray(0, 32 * 10))));
    } finally {
      await pool.close();
    }
  });

  test('a bad element deep in the batch is named by its batch-wide index', async () => {
    const pool = await createPool({ engine, threads, taskSize: 128 });
    try {
      const good = referenceEngine.hashToGroup(suite, inputs.slice(0, 300));
      const bad = concatBytes(good.subarray(0, 32 * 260), new Uint8Array(32), good.subarray(32 * 260));
      await expect(pool.tokenize(suite, sk, bad, { label: 'partnerSet' })).rejects.toThrow(/partnerSet\[260\]: the identity element/);
    } finally {
      await pool.close();
    }
  });
});
