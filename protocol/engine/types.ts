// The bulk engine interface (docs/ARCHITECTURE.md §Engines). Elements and tokens travel packed
// (n×32 and n×16 bytes) so batches of 10^4..10^7 move between threads as one
// transferable buffer rather than millions of small arrays.
import type { Suite } from '../constants.js';

export const ENGINE_NAMES = ['native', 'fast', 'reference'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface Engine {
  readonly name: EngineName;
  /** HashToGroup(x) for each input: n×32 bytes. */
  hashToGroup(suite: Suite, inputs: readonly Uint8Array[]): Uint8Array;
  /** k·HashToGroup(x) for each input: n×32 bytes (an agency blinding its own set). */
  blind(suite: Suite, sk: Uint8Array, inputs: readonly Uint8Array[]): Uint8Array;
  /**
   * k·E for each packed element (decode + evaluate + encode). Elements are
   * strictly decoded; a bad one throws a DecodeError naming `${label}[i]`.
   */
  evaluate(sk: Uint8Array, elements: Uint8Array, label?: string): Uint8Array;
  /**
   * RFC 9497 §4.1 DeserializeElement of each packed element, nothing computed:
   * canonical RFC 9496 §4.3.1 encodings only, never the identity. A bad one
   * throws a DecodeError naming `${label}[i]` (what the coordinator checks of
   * every upload before it stores it).
   */
  checkElements(elements: Uint8Array, label?: string): void;
  /** Token(k·E) for each packed element: n×16 bytes (a partner tokenising a set). */
  tokenize(suite: Suite, sk: Uint8Array, elements: Uint8Array, label?: string): Uint8Array;
  /**
   * Evaluate a batch of blinded elements and prove it (VOPRF BlindEvaluate,
   * RFC 9497 §3.3.2): the responder side of a targeted query.
   */
  evaluateWithProof(suite: Suite, sk: Uint8Array, blinded: readonly Uint8Array[], rng: (n: number) => Uint8Array): ProvenEvaluation;
  /**
   * RFC 9497 §2.2.2 VerifyProof against the evaluator's public key; same
   * contract as `verifyProof` in dleq.ts (malformed inputs throw).
   */
  verifyProof(suite: Suite, pk: Uint8Array, blinded: readonly Uint8Array[], evaluated: readonly Uint8Array[], proof: Uint8Array): boolean;
  /** k·G (RFC 9497 §3.3.2 the evaluator's public key; §8.11 the blind's P = r·G); k is a non-zero reduced scalar. */
  publicKey(sk: Uint8Array): Uint8Array;
}

/** Split packed n×size bytes into views (no copy). */
export function unpack(packed: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < packed.length; o += size) out.push(packed.subarray(o, o + size));
  return out;
}

export function pack(items: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(items.length * size);
  items.forEach((it, i) => {
    if (it.length !== size) throw new RangeError(`item ${i}: expected ${size} bytes, got ${it.length}`);
    out.set(it, i * size);
  });
  return out;
}

/** What a targeted-query responder returns: k·R for each R, and one batched DLEQ proof (RFC 9497 §2.2). */
export interface ProvenEvaluation {
  evaluated: Uint8Array[];
  proof: Uint8Array;
}
