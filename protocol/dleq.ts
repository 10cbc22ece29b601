// RFC 9497 §2.2 discrete-log-equivalence proofs, batched: prove that
// log_A(B) = log_C[i](D[i]) for all i, i.e. the evaluator used the key behind
// its published public key for every element of a batch.
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, i2osp, lengthPrefixed } from './bytes.js';
import { LABEL, PROOF_BYTES, SCALAR_BYTES, type Suite } from './constants.js';
import { ProofError } from './errors.js';
import { decodePoint, decodeScalar, encodePoint, encodeScalar, Fn, Point, randomScalar } from './group.js';
import { hashToScalar } from './hash-to-group.js';

type P = InstanceType<typeof Point>;

/** RFC 9497 §2.2.1 ComputeComposites (verifier side, no key; public inputs only). */
export function computeComposites(suite: Suite, B: P, C: P[], D: P[]): { M: P; Z: P } {
  const seed = compositeSeed(suite, B);
  let M = Point.ZERO;
  let Z = Point.ZERO;
  for (let i = 0; i < C.length; i++) {
    const di = compositeScalar(suite, seed, i, C[i] as P, D[i] as P);
    M = (C[i] as P).multiply(di).add(M);
    Z = (D[i] as P).multiply(di).add(Z);
  }
  return { M, Z };
}

/** RFC 9497 §2.2.1 ComputeCompositesFast (prover side: Z = k·M). */
function computeCompositesFast(suite: Suite, k: bigint, B: P, C: P[], D: P[]): { M: P; Z: P } {
  const seed = compositeSeed(suite, B);
  let M = Point.ZERO;
  for (let i = 0; i < C.length; i++) {
    M = (C[i] as P).multiply(compositeScalar(suite, seed, i, C[i] as P, D[i] as P)).add(M);
  }
  return { M, Z: M.multiply(k) };
}

/**
 * The hashes of the §2.2.1 transcript. The reference path runs the portable
 * ones; an engine passes its own native SHA-512 (the outputs are identical).
 */
export interface TranscriptHashes {
  sha512(data: Uint8Array): Uint8Array;
  hashToScalar(suite: Suite, input: Uint8Array): bigint;
}

const portableHashes: TranscriptHashes = { sha512, hashToScalar };

/** RFC 9497 §2.2.1 seed = Hash(I2OSP(len(Bm), 2) ‖ Bm ‖ I2OSP(len(seedDST), 2) ‖ seedDST), over the encoded key. */
export function compositeSeedOf(suite: Suite, B: Uint8Array, h: TranscriptHashes = portableHashes): Uint8Array {
  return h.sha512(concatBytes(lengthPrefixed(B), lengthPrefixed(suite.seedDST)));
}

/** RFC 9497 §2.2.1 d_i over the encoded C[i] and D[i]. */
export function compositeScalarOf(suite: Suite, seed: Uint8Array, i: number, Ci: Uint8Array, Di: Uint8Array, h: TranscriptHashes = portableHashes): bigint {
  return h.hashToScalar(suite, concatBytes(lengthPrefixed(seed), i2osp(i, 2), lengthPrefixed(Ci), lengthPrefixed(Di), LABEL.composite));
}

/** RFC 9497 §2.2.1 challenge scalar c over the encoded transcript elements. */
export function challengeOf(suite: Suite, B: Uint8Array, M: Uint8Array, Z: Uint8Array, t2: Uint8Array, t3: Uint8Array, h: TranscriptHashes = portableHashes): bigint {
  const t = concatBytes(lengthPrefixed(B), lengthPrefixed(M), lengthPrefixed(Z), lengthPrefixed(t2), lengthPrefixed(t3), LABEL.challenge);
  return h.hashToScalar(suite, t);
}

export function compositeSeed(suite: Suite, B: P): Uint8Array {
  return compositeSeedOf(suite, encodePoint(B));
}

export function compositeScalar(suite: Suite, seed: Uint8Array, i: number, Ci: P, Di: P): bigint {
  return compositeScalarOf(suite, seed, i, encodePoint(Ci), encodePoint(Di));
}

export function challenge(suite: Suite, B: P, M: P, Z: P, t2: P, t3: P): bigint {
  return challengeOf(suite, encodePoint(B), encodePoint(M), encodePoint(Z), encodePoint(t2), encodePoint(t3));
}

/** The batch rules of §2.2.1 that precede decoding: equal lengths, not empty, an index that fits I2OSP(i, 2). */
export function checkBatchShape(C: readonly Uint8Array[], D: readonly Uint8Array[]): void {
  if (C.length !== D.length) throw new ProofError(`batch: ${C.length} blinded but ${D.length} evaluated elements`);
  if (C.length === 0) throw new ProofError('batch: empty');
  if (C.length > 0xffff) throw new ProofError('batch: more than 65535 elements');
}

export function decodeBatch(C: Uint8Array[], D: Uint8Array[]): { Cp: P[]; Dp: P[] } {
  checkBatchShape(C, D);
  return {
    Cp: C.map((c, i) => decodePoint(`blinded[${i}]`, c)),
    Dp: D.map((d, i) => decodePoint(`evaluated[${i}]`, d)),
  };
}

export interface ProofInput {
  /** Secret scalar k, 32 bytes LE. */
  readonly sk: Uint8Array;
  /** Elements the key was applied to (C). */
  readonly blinded: Uint8Array[];
  /** k·C[i] (D). */
  readonly evaluated: Uint8Array[];
}

/**
 * RFC 9497 §2.2.1 GenerateProof with A = G and B = k·G (VOPRF style).
 * `rng` supplies the proof's random scalar; pass a fixed one only to replay vectors.
 */
export function generateProof(
  suite: Suite,
  { sk, blinded, evaluated }: ProofInput,
  rng: (n: number) => Uint8Array,
): Uint8Array {
  const k = decodeScalar('sk', sk);
  return generateProofWithScalar(suite, k, blinded, evaluated, randomScalar(rng));
}

/** GenerateProof with an explicit proof random scalar r (RFC 9497 vectors' ProofRandomScalar). */
export function generateProofWithR(suite: Suite, input: ProofInput, r: Uint8Array): Uint8Array {
  return generateProofWithScalar(suite, decodeScalar('sk', input.sk), input.blinded, input.evaluated, decodeScalar('proofRandomScalar', r));
}

function generateProofWithScalar(suite: Suite, k: bigint, blinded: Uint8Array[], evaluated: Uint8Array[], r: bigint): Uint8Array {
  const { Cp, Dp } = decodeBatch(blinded, evaluated);
  const B = Point.BASE.multiply(k);
  const { M, Z } = computeCompositesFast(suite, k, B, Cp, Dp);
  const t2 = Point.BASE.multiply(r);
  const t3 = M.multiply(r);
  const c = challenge(suite, B, M, Z, t2, t3);
  const s = Fn.sub(r, Fn.mul(c, k));
  return concatBytes(encodeScalar(c), encodeScalar(s));
}

/**
 * RFC 9497 §2.2.2 VerifyProof with A = G and B = the evaluator's public key.
 * Returns true only for a valid proof; malformed inputs throw a named error.
 */
export function verifyProof(
  suite: Suite,
  pk: Uint8Array,
  blinded: Uint8Array[],
  evaluated: Uint8Array[],
  proof: Uint8Array,
): boolean {
  const B = decodePoint('pk', pk);
  const { Cp, Dp } = decodeBatch(blinded, evaluated);
  if (!(proof instanceof Uint8Array) || proof.length !== PROOF_BYTES) {
    throw new ProofError(`proof: expected ${PROOF_BYTES} bytes, got ${proof?.length ?? 'none'}`);
  }
  const c = decodeScalar('proof.c', proof.subarray(0, SCALAR_BYTES), true);
  const s = decodeScalar('proof.s', proof.subarray(SCALAR_BYTES), true);
  const { M, Z } = computeComposites(suite, B, Cp, Dp);
  // multiplyUnsafe accepts 0 (c or s may legitimately be zero); these are public values.
  const t2 = Point.BASE.multiplyUnsafe(s).add(B.multiplyUnsafe(c));
  const t3 = M.multiplyUnsafe(s).add(Z.multiplyUnsafe(c));
  return challenge(suite, B, M, Z, t2, t3) === c;
}
