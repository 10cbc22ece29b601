// The order of a side's new positions (protocol/SPEC.md §3.1): additions and
// canaries are placed by a uniformly random permutation drawn from a CSPRNG,
// so the upload order reveals neither the watchlist's record order nor which
// positions are canaries.
import { randomInt } from 'node:crypto';

/** Fisher–Yates over 0..n-1 with node:crypto's unbiased randomInt. */
export function randomPermutation(n: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}
