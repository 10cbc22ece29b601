// The worker-thread pool against the single-thread engines: identical bytes,
// errors re-based to batch-wide indices, progress reported, inline fallback,
// small batches run inline, threads shared by every pool of a process and
// never keeping it alive. The pool's workers load compiled modules, so this
// imports the build output (npm test builds first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { bytesToHex, concatBytes, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, epochInfo } from '../protocol/constants.js';
import { referenceEngine } from '../protocol/engine/index.js';
import { deriveKeyPair } from '../protocol/keys.js';
import { closeSharedPools, COLD_INLINE_BELOW, createPool, INLINE_BELOW, sharedPoolCount } from '../dist/protocol/engine/pool.js';

const suite = CONCORDAT_SUITE;
const { sk } = deriveKeyPair(suite, new Uint8Array(32).fill(3), epochInfo('e1'));
const inputs = Array.from({ length: 700 }, (_, i) => utf8(`email\u0000person${i}@mail.example`));
const refBlinded = bytesToHex(referenceEngine.blind(suite, sk, inputs));
const refTokens = bytesToHex(referenceEngine.tokenize(suite, sk, referenceEngine.blind(suite, sk, inputs)));

afterAll(() => closeSharedPools());

describe.each([
  { engine: 'native' as const, threads: 2, inlineBelow: 0 },
  { engine: 'fast' as const, threads: 2, inlineBelow: 0 },
  { engine: 'reference' as const, threads: 2, inlineBelow: 0 },
  { engine: 'native' as const, threads: 0, inlineBelow: 0 },
  { engine: 'fast' as const, threads: 0, inlineBelow: 0 },
  { engine: 'native' as const, threads: 2, inlineBelow: 10_000 },
])('pool $engine, $threads threads, inline below $inlineBelow', ({ engine, threads, inlineBelow }) => {
  test('blind, evaluate and tokenize match the reference engine byte for byte', async () => {
    const pool = await createPool({ engine, threads, taskSize: 128, inlineBelow });
    try {
      expect(pool.threads).toBe(threads);
      expect(pool.engine).toBe(engine);
      const progress: number[] = [];
      const blinded = await pool.blind(suite, sk, inputs, { onProgress: (d) => progress.push(d) });
      expect(bytesToHex(blinded)).toBe(refBlinded);
      expect(progress.at(-1)).toBe(inputs.length);
      const tokens = await pool.tokenize(suite, sk, blinded);
      expect(bytesToHex(tokens)).toBe(refTokens);
      const evaluated = await pool.evaluate(sk, blinded.subarray(0, 32 * 10));
      expect(bytesToHex(evaluated)).toBe(bytesToHex(referenceEngine.evaluate(sk, blinded.subarray(0, 32 * 10))));
      expect(bytesToHex(await pool.hashToGroup(suite, inputs))).toBe(bytesToHex(referenceEngine.hashToGroup(suite, inputs)));
    } finally {
      await pool.close();
    }
  });

  test('a bad element deep in the batch is named by its batch-wide index', async () => {
    const pool = await createPool({ engine, threads, taskSize: 128, inlineBelow });
    try {
      const good = referenceEngine.hashToGroup(suite, inputs.slice(0, 300));
      const bad = concatBytes(good.subarray(0, 32 * 260), new Uint8Array(32), good.subarray(32 * 260));
      await expect(pool.tokenize(suite, sk, bad, { label: 'partnerSet' })).rejects.toThrow(/partnerSet\[260\]: the identity element/);
      const topBit = good.slice(0, 32 * 300);
      topBit[32 * 299 + 31]! |= 0x80;
      await expect(pool.evaluate(sk, topBit, { label: 'partnerSet' })).rejects.toThrow(/partnerSet\[299\]: not a canonical ristretto255 encoding/);
    } finally {
      await pool.close();
    }
  });
});

describe('threads are started once per process', () => {
  test('batches below the inline threshold start no threads', async () => {
    await closeSharedPools();
    const pool = await createPool({ engine: 'native', threads: 2 });
    const few = inputs.slice(0, INLINE_BELOW - 1);
    expect(bytesToHex(await pool.blind(suite, sk, few))).toBe(bytesToHex(referenceEngine.blind(suite, sk, few)));
    expect(sharedPoolCount()).toBe(0);
    await pool.close();
  });

  test('before the threads run, batches below the cold threshold run inline too; once they run, only those below the inline threshold', async () => {
    await closeSharedPools();
    const pool = await createPool({ engine: 'native', threads: 2 });
    expect(bytesToHex(await pool.blind(suite, sk, inputs))).toBe(refBlinded);
    expect(inputs.length).toBeGreaterThan(INLINE_BELOW);
    expect(sharedPoolCount()).toBe(0);
    const many = Array.from({ length: COLD_INLINE_BELOW }, (_, i) => utf8(`email\u0000cold${i}@mail.example`));
    expect(bytesToHex(await pool.blind(suite, sk, many))).toBe(bytesToHex(referenceEngine.blind(suite, sk, many)));
    expect(sharedPoolCount()).toBe(1);
    // Warm: the 700 inputs now go to the threads (same bytes either way).
    expect(bytesToHex(await pool.blind(suite, sk, inputs))).toBe(refBlinded);
    await pool.close();
    await closeSharedPools();
  });

  test('pools created one after another (one per sync) share one set of threads; closing a pool keeps them', async () => {
    await closeSharedPools();
    for (let sync = 0; sync < 3; sync++) {
      const pool = await createPool({ engine: 'native', threads: 2, inlineBelow: INLINE_BELOW });
      const blinded = await pool.blind(suite, sk, inputs);
      expect(bytesToHex(blinded)).toBe(refBlinded);
      await pool.close();
      await expect(pool.blind(suite, sk, inputs)).rejects.toThrow(/pool: closed/);
      expect(sharedPoolCount()).toBe(1);
    }
    const other = await createPool({ engine: 'fast', threads: 2, inlineBelow: INLINE_BELOW });
    await other.blind(suite, sk, inputs);
    expect(sharedPoolCount()).toBe(2);
    await closeSharedPools();
    expect(sharedPoolCount()).toBe(0);
  });

  test('a private pool keeps its own threads and ends them on close', async () => {
    await closeSharedPools();
    const pool = await createPool({ engine: 'native', threads: 2, shared: false, inlineBelow: 0 });
    await pool.tokenize(suite, sk, referenceEngine.hashToGroup(suite, inputs));
    expect(sharedPoolCount()).toBe(0);
    await pool.close();
  });

  test('a process that used the shared threads and never closed them exits on its own', () => {
    const poolUrl = new URL('../dist/protocol/engine/pool.js', import.meta.url).href;
    const script = `
      const { createPool } = await import(${JSON.stringify(poolUrl)});
      const pool = await createPool({ engine: 'native', threads: 2 });
      const inputs = Array.from({ length: 2000 }, (_, i) => new TextEncoder().encode('x' + i));
      const sk = new Uint8Array(32); sk[0] = 5;
      const out = await pool.blind((await import(${JSON.stringify(new URL('../dist/protocol/constants.js', import.meta.url).href)})).CONCORDAT_SUITE, sk, inputs);
      console.log('blinded', out.length);
    `;
    const file = join(mkdtempSync(join(tmpdir(), 'pool-exit-')), 'run.mjs');
    writeFileSync(file, script);
    const t = Date.now();
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('blinded 64000');
    expect(r.status).toBe(0);
    expect(Date.now() - t).toBeLessThan(30_000);
  });
});
