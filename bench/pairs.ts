// `npm run bench -- pairs [--n N] [--pairs P] [--json]`: what a key per pair
// (protocol/SPEC.md §8.5) costs an agency that shares one watchlist with P
// partners. Each identifier is blinded once per pair; the HashToGroup step
// does not depend on the key, so it can be done once and only the scalar
// multiplication repeated per pair. Both are measured on the fast engine (one
// thread) beside native libsodium's scalar multiplication (the limit of the
// per-pair part), all in this run.
import { availableParallelism } from 'node:os';
import { bytesToHex, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE } from '../protocol/constants.js';
import { loadFastEngine } from '../protocol/engine/index.js';
import { pairKeyPair } from '../protocol/pair-key.js';
import { nativeOpsPerSecond } from './blind.js';
import { median } from './util.js';

export interface PairsResult {
  n: number;
  pairs: number;
  cores: number;
  /** µs per identifier per pair, HashToGroup and multiplication done for every pair. */
  blind_per_pair_us: number;
  /** µs per identifier per pair with HashToGroup done once per identifier and shared by the pairs. */
  shared_h2g_per_pair_us: number;
  /** µs per identifier of the HashToGroup step alone. */
  hash_to_group_us: number;
  /** µs per multiplication of native libsodium (null without libsodium.so.23). */
  native_mult_us: number | null;
  blind_vs_native: number | null;
  shared_vs_native: number | null;
}

export async function benchPairs(n: number, pairs: number, log: (s: string) => void): Promise<PairsResult> {
  const suite = CONCORDAT_SUITE;
  const fast = await loadFastEngine();
  const secret = new Uint8Array(32).fill(7);
  const keys = Array.from({ length: pairs }, (_, i) => pairKeyPair(suite, secret, 'e1', `bench-${i}~A~B${i}`).sk);
  const inputs = Array.from({ length: n }, (_, i) => utf8(`email\u0000person${i}@bench.example`));
  const time = (f: () => void): number => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };
  fast.blind(suite, keys[0] as Uint8Array, inputs.slice(0, 200));

  const perPair = median([0, 1, 2].map(() => time(() => keys.forEach((k) => fast.blind(suite, k, inputs)))));
  const h2g = median([0, 1, 2].map(() => time(() => fast.hashToGroup(suite, inputs))));
  const shared = median(
    [0, 1, 2].map(() =>
      time(() => {
        const points = fast.hashToGroup(suite, inputs);
        for (const k of keys) fast.evaluate(k, points);
      }),
    ),
  );
  const us = (ms: number) => (ms * 1000) / (n * pairs);
  const blindUs = us(perPair);
  const sharedUs = us(shared);
  const h2gUs = (h2g * 1000) / n;
  log(`${n} identifiers × ${pairs} pairs, fast engine, 1 thread (median of 3)`);
  log(`  blind per pair (HashToGroup + multiply each time): ${blindUs.toFixed(1)} µs per identifier per pair`);
  log(`  HashToGroup once, multiply per pair:               ${sharedUs.toFixed(1)} µs per identifier per pair (HashToGroup alone ${h2gUs.toFixed(1)} µs)`);

  const nativeN = Math.min(n, 20000);
  const points = fast.hashToGroup(suite, inputs.slice(0, nativeN));
  const native = nativeOpsPerSecond(nativeN, bytesToHex(points), bytesToHex(keys[0] as Uint8Array));
  const nativeUs = native === null ? null : 1e6 / native;
  log(nativeUs === null ? '  native libsodium: not available on this machine' : `  native libsodium multiply (the limit):            ${nativeUs.toFixed(1)} µs`);
  const r3 = (x: number) => Number(x.toFixed(3));
  return {
    n,
    pairs,
    cores: availableParallelism(),
    blind_per_pair_us: r3(blindUs),
    shared_h2g_per_pair_us: r3(sharedUs),
    hash_to_group_us: r3(h2gUs),
    native_mult_us: nativeUs === null ? null : r3(nativeUs),
    blind_vs_native: nativeUs === null ? null : r3(blindUs / nativeUs),
    shared_vs_native: nativeUs === null ? null : r3(sharedUs / nativeUs),
  };
}
