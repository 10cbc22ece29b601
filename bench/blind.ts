// `npm run bench -- blind [--n N] [--json]`: ops/s of one op = decode + evaluate
// + encode of a ristretto255 element, for the reference engine (one thread), the
// fast engine (one thread), the fast engine's pool (all cores), and native
// libsodium on this machine when its shared library is present (the limit).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, epochInfo } from '../protocol/constants.js';
import { loadFastEngine, referenceEngine } from '../protocol/engine/index.js';
import { createPool } from '../protocol/engine/pool.js';
import { deriveKeyPair } from '../protocol/keys.js';
import { median } from './util.js';

const NATIVE_LIBS = ['/usr/lib/x86_64-linux-gnu/libsodium.so.23', '/usr/lib/aarch64-linux-gnu/libsodium.so.23', '/usr/lib/libsodium.so.23'];

/** Native libsodium through python3's ctypes: one C call per op, the same op. */
export function nativeOpsPerSecond(n: number, elementsHex: string, skHex: string): number | null {
  const lib = NATIVE_LIBS.find((p) => existsSync(p));
  if (!lib) return null;
  const py = `
import ctypes, sys, time
s = ctypes.CDLL(${JSON.stringify(lib)})
assert s.sodium_init() >= 0
data = bytes.fromhex(sys.stdin.read().strip())
sk = bytes.fromhex(${JSON.stringify(skHex)})
out = ctypes.create_string_buffer(32)
n = len(data) // 32
best = []
for rep in range(3):
    t = time.perf_counter()
    for i in range(n):
        if s.crypto_scalarmult_ristretto255(out, sk, data[32*i:32*i+32]) != 0: sys.exit(3)
    best.append(n / (time.perf_counter() - t))
best.sort()
print(best[1])
`;
  const r = spawnSync('python3', ['-c', py], { input: elementsHex, encoding: 'utf8' });
  if (r.status !== 0) return null;
  const v = Number(r.stdout.trim());
  return Number.isFinite(v) ? v : null;
}

export interface BlindResult {
  n: number;
  cores: number;
  reference_ops_per_s: number;
  reference_n: number;
  fast_ops_per_s: number;
  pool_ops_per_s: number;
  pool_threads: number;
  native_ops_per_s: number | null;
  fast_vs_native: number | null;
  pool_vs_fast: number;
}

export async function benchBlind(n: number, log: (s: string) => void): Promise<BlindResult> {
  const suite = CONCORDAT_SUITE;
  const { sk } = deriveKeyPair(suite, new Uint8Array(32).fill(9), epochInfo('bench'));
  const fast = await loadFastEngine();
  log(`preparing ${n} elements`);
  const inputs = Array.from({ length: n }, (_, i) => utf8(`email\u0000person${i}@bench.example`));
  const elements = fast.hashToGroup(suite, inputs);

  const time = (f: () => void): number => {
    const t = performance.now();
    f();
    return (performance.now() - t) / 1000;
  };
  // The reference engine is ~10x slower: measure it on a prefix so the bench stays short.
  const refN = Math.min(n, 5000);
  const refSlice = elements.subarray(0, refN * 32);
  referenceEngine.evaluate(sk, refSlice.subarray(0, 32 * 50));
  const refRuns = [0, 1, 2].map(() => refN / time(() => referenceEngine.evaluate(sk, refSlice)));
  const reference = median(refRuns);
  log(`reference engine, 1 thread: ${reference.toFixed(0)} ops/s (${refN} elements, median of 3)`);

  fast.evaluate(sk, elements.subarray(0, 32 * 200));
  const fastRuns = [0, 1, 2].map(() => n / time(() => fast.evaluate(sk, elements)));
  const fastOps = median(fastRuns);
  log(`fast engine, 1 thread:      ${fastOps.toFixed(0)} ops/s (median of 3)`);

  const pool = await createPool({ engine: 'fast' });
  let poolOps = 0;
  try {
    await pool.evaluate(sk, elements.subarray(0, 32 * 4096));
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await pool.evaluate(sk, elements);
      runs.push(n / ((performance.now() - t) / 1000));
    }
    poolOps = median(runs);
    log(`fast engine, pool of ${pool.threads}:    ${poolOps.toFixed(0)} ops/s (median of 3)`);
  } finally {
    await pool.close();
  }

  const nativeN = Math.min(n, 20000);
  let hexs = '';
  for (const b of elements.subarray(0, nativeN * 32)) hexs += b.toString(16).padStart(2, '0');
  let skHex = '';
  for (const b of sk) skHex += b.toString(16).padStart(2, '0');
  const native = nativeOpsPerSecond(nativeN, hexs, skHex);
  log(native === null ? 'native libsodium: not available on this machine' : `native libsodium, 1 thread: ${native.toFixed(0)} ops/s (python3 ctypes, median of 3)`);

  return {
    n,
    cores: availableParallelism(),
    reference_ops_per_s: Math.round(reference),
    reference_n: refN,
    fast_ops_per_s: Math.round(fastOps),
    pool_ops_per_s: Math.round(poolOps),
    pool_threads: pool.threads,
    native_ops_per_s: native === null ? null : Math.round(native),
    fast_vs_native: native === null ? null : Number((fastOps / native).toFixed(3)),
    pool_vs_fast: Number((poolOps / fastOps).toFixed(3)),
  };
}
