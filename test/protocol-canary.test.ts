// The per-chunk canary policy (protocol/canary.ts, protocol/SPEC.md §1.6):
// the detection guarantee computed from the module's own constants, the floor
// under every draw, and how a night's additions are cut into chunks.
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CANARIES_JITTER,
  CANARIES_PER_CHUNK_MIN,
  canariesForChunk,
  detectionProbability,
  planChunks,
  REAL_ELEMENTS_PER_CANARY,
} from '../protocol/canary.js';

/** The exact probability that m wrongly tokenised positions of n, chosen at random, include at least one of c canaries. */
function exactDetection(n: number, m: number, c: number): number {
  let miss = 1;
  for (let i = 0; i < c; i++) miss *= (n - m - i) / (n - i);
  return 1 - miss;
}

describe('canaries in every chunk (protocol/SPEC.md §1.6)', () => {
  it('the minimum count detects a partner cheating on 10 % of a chunk with probability ≥ 99 %, and no draw is below the minimum', () => {
    expect(detectionProbability(CANARIES_PER_CHUNK_MIN, 0.1)).toBeGreaterThanOrEqual(0.99);
    // The bound is tight in the sense SPEC §1.6 states: 44 canaries are needed, 43 are not enough.
    expect(detectionProbability(44, 0.1)).toBeGreaterThanOrEqual(0.99);
    expect(detectionProbability(43, 0.1)).toBeLessThan(0.99);
    for (const real of [0, 1, 1000, 49_151, 65_536 - CANARIES_PER_CHUNK_MIN - CANARIES_JITTER]) {
      for (let i = 0; i < 200; i++) expect(canariesForChunk(real, randomInt)).toBeGreaterThanOrEqual(CANARIES_PER_CHUNK_MIN);
      // The extremes of the jitter: the least and the most the rule can give.
      const least = canariesForChunk(real, () => 0);
      expect(least).toBe(Math.max(CANARIES_PER_CHUNK_MIN, Math.ceil(real / REAL_ELEMENTS_PER_CANARY)));
      expect(canariesForChunk(real, (n) => n - 1)).toBe(least + CANARIES_JITTER);
    }
    expect(() => canariesForChunk(0, () => CANARIES_JITTER + 1)).toThrow(RangeError);
  });

  it('the formula is a lower bound on the exact (hypergeometric) detection probability', () => {
    for (const [n, m] of [
      [100, 10],
      [1_000, 100],
      [65_536, 6_553],
      [2_000, 1],
    ] as const) {
      for (const c of [1, 10, CANARIES_PER_CHUNK_MIN, 64]) {
        expect(exactDetection(n, m, c)).toBeGreaterThanOrEqual(detectionProbability(c, m / n) - 1e-12);
      }
    }
    expect(detectionProbability(CANARIES_PER_CHUNK_MIN, 0)).toBe(0);
    expect(detectionProbability(1, 1)).toBe(1);
  });

  it('cuts a night into chunks that each carry canaries and never exceed the chunk size', () => {
    const rule = (real: number) => canariesForChunk(real, randomInt);
    for (const [added, size] of [
      [1, 65_536],
      [65_536, 65_536],
      [200_000, 65_536],
      [300, 100],
      [1_000, 500],
    ] as const) {
      const plan = planChunks(added, size, false, rule);
      expect(plan.reduce((n, c) => n + c.real, 0)).toBe(added);
      for (const c of plan) {
        expect(c.real).toBeGreaterThan(0);
        expect(c.real + c.canaries).toBeLessThanOrEqual(size);
        expect(c.canaries).toBeGreaterThanOrEqual(Math.max(CANARIES_PER_CHUNK_MIN, Math.ceil(c.real / REAL_ELEMENTS_PER_CANARY)));
      }
    }
    // No additions: no chunk on a later night, one canary-only chunk on a side's first build.
    expect(planChunks(0, 65_536, false, rule)).toEqual([]);
    const first = planChunks(0, 65_536, true, rule);
    expect(first).toHaveLength(1);
    expect(first[0]?.real).toBe(0);
    expect(first[0]?.canaries).toBeGreaterThanOrEqual(CANARIES_PER_CHUNK_MIN);
    // A chunk size that leaves no room beside the canaries is refused, not silently filled with canaries only.
    expect(() => planChunks(10, CANARIES_PER_CHUNK_MIN, false, rule)).toThrow(RangeError);
  });
});
