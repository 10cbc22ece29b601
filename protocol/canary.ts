// How many canaries a chunk carries and how a night's additions are cut into
// chunks (protocol/SPEC.md §1.6, "Canaries in every chunk"; §3.1 steps 2 and 6).
//
// Every chunk a side uploads — on its first build, on every later night and
// after every rotation — carries its own canaries, shuffled among its real
// elements, so a partner that tokenises any one chunk with another key than
// the one behind its published epoch key is caught with at least
// detectionProbability(canaries, cheatedFraction) for that chunk. Pure: the
// randomness is a parameter.

/** The floor: no chunk carries fewer canaries (SPEC §1.6: ≥ 99 % detection at 10 % cheating needs ≥ 44). */
export const CANARIES_PER_CHUNK_MIN = 48;

/** Above the floor, one canary per this many real elements of the chunk (SPEC §1.6). */
export const REAL_ELEMENTS_PER_CANARY = 1024;

/**
 * Up to this many extra canaries, uniform in 0..CANARIES_JITTER, so a chunk's
 * size says little about how many of its elements are real (SPEC §1.6, §6).
 */
export const CANARIES_JITTER = 16;

/** A uniform integer in 0..maxExclusive−1 from a CSPRNG (e.g. node:crypto's randomInt). */
export type RandomInt = (maxExclusive: number) => number;

/**
 * Canaries for a chunk holding `realElements` real (blinded identifier)
 * elements: max(MIN, ⌈real / RATE⌉) + a jitter in 0..JITTER. Never below
 * {@link CANARIES_PER_CHUNK_MIN}; a canary-only chunk (real = 0) gets the floor too.
 */
export function canariesForChunk(realElements: number, randomInt: RandomInt): number {
  if (!Number.isSafeInteger(realElements) || realElements < 0) throw new RangeError('canariesForChunk: realElements must be a non-negative integer');
  const jitter = randomInt(CANARIES_JITTER + 1);
  if (!Number.isSafeInteger(jitter) || jitter < 0 || jitter > CANARIES_JITTER) throw new RangeError('canariesForChunk: randomInt returned a value out of range');
  return Math.max(CANARIES_PER_CHUNK_MIN, Math.ceil(realElements / REAL_ELEMENTS_PER_CANARY)) + jitter;
}

/**
 * A lower bound on the probability that a partner which tokenises a fraction
 * `cheatedFraction` of a chunk wrongly hits at least one of its `canaries`
 * (SPEC §1.6): 1 − (1 − f)^c. The exact miss probability, choosing the m
 * cheated positions of n among which c are canaries, is C(n−m, c)/C(n, c) =
 * ∏ (n−m−i)/(n−i) ≤ (1 − m/n)^c, so the true detection probability is at
 * least this.
 */
export function detectionProbability(canaries: number, cheatedFraction: number): number {
  if (!Number.isSafeInteger(canaries) || canaries < 0) throw new RangeError('detectionProbability: canaries must be a non-negative integer');
  if (!(cheatedFraction >= 0 && cheatedFraction <= 1)) throw new RangeError('detectionProbability: cheatedFraction must be in [0, 1]');
  return 1 - (1 - cheatedFraction) ** canaries;
}

/** One chunk of a night's upload: how many of the additions it holds and how many canaries go with them. */
export interface PlannedChunk {
  real: number;
  canaries: number;
}

/**
 * Cuts `additions` new elements into chunks of at most `chunkElements`
 * elements canaries included, each chunk with `canariesFor(real)` canaries
 * (SPEC §1.6). The count is drawn for the most real elements the chunk could
 * take, then the real elements fill what is left, so no chunk has fewer
 * canaries than the rule asks for the real elements it holds (the rule is
 * non-decreasing in them). No additions: no chunk, except on a side's first
 * build (`firstBuild`), which uploads one canary-only chunk.
 */
export function planChunks(additions: number, chunkElements: number, firstBuild: boolean, canariesFor: (realElements: number) => number): PlannedChunk[] {
  if (!Number.isSafeInteger(additions) || additions < 0) throw new RangeError('planChunks: additions must be a non-negative integer');
  if (!Number.isSafeInteger(chunkElements) || chunkElements < 1) throw new RangeError('planChunks: chunkElements must be a positive integer');
  const out: PlannedChunk[] = [];
  const draw = (most: number): number => {
    const c = canariesFor(most);
    if (!Number.isSafeInteger(c) || c < 0) throw new RangeError('planChunks: a canary count must be a non-negative integer');
    if (c >= chunkElements && most > 0) throw new RangeError(`planChunks: ${c} canaries leave no room for real elements in a chunk of ${chunkElements}`);
    if (c > chunkElements) throw new RangeError(`planChunks: ${c} canaries do not fit a chunk of ${chunkElements}`);
    return c;
  };
  if (additions === 0) {
    const canaries = firstBuild ? draw(0) : 0;
    if (canaries > 0) out.push({ real: 0, canaries });
    return out;
  }
  for (let left = additions; left > 0; ) {
    const canaries = draw(Math.min(left, chunkElements));
    const real = Math.min(left, chunkElements - canaries);
    out.push({ real, canaries });
    left -= real;
  }
  return out;
}
