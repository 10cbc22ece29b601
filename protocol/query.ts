// Targeted hit/no-hit queries (protocol/SPEC.md §3.2): VOPRF
// with a batched DLEQ proof against the partner's published epoch key,
// followed by the asking agency's own key so the result is the token that the
// nightly flow produced for the same identifier.
import type { Suite } from './constants.js';
import { ProofError } from './errors.js';
import { decodeScalar, encodeScalar, Fn, randomScalar } from './group.js';
import type { Engine } from './engine/types.js';

export const MAX_QUERY_VALUES = 100;

export interface BlindedQuery {
  /** Secret per-value blinds r (kept by the asking client, never sent). */
  readonly blinds: Uint8Array[];
  /** r·HashToGroup(Input(x)), sent to the partner's responder. */
  readonly blinded: Uint8Array[];
}

/** Blind each input with a fresh scalar (RFC 9497 §3.3.1 Blind). */
export function blindQuery(suite: Suite, engine: Engine, inputs: readonly Uint8Array[], rng: (n: number) => Uint8Array): BlindedQuery {
  if (inputs.length === 0 || inputs.length > MAX_QUERY_VALUES) {
    throw new RangeError(`query: 1..${MAX_QUERY_VALUES} values, got ${inputs.length}`);
  }
  const blinds = inputs.map(() => encodeScalar(randomScalar(rng)));
  const blinded = inputs.map((x, i) => engine.blind(suite, blinds[i] as Uint8Array, [x]));
  return { blinds, blinded };
}

/**
 * Verify the responder's proof against its published epoch key, unblind, and
 * apply the asking agency's own epoch key: returns Token(k_A·k_B·H(x)) per
 * value. A bad proof throws ProofError — it is never a "no hit".
 */
export function finishQuery(
  suite: Suite,
  engine: Engine,
  q: BlindedQuery,
  partnerPk: Uint8Array,
  evaluated: readonly Uint8Array[],
  proof: Uint8Array,
  mySk: Uint8Array,
): Uint8Array[] {
  if (evaluated.length !== q.blinded.length) throw new ProofError(`answer: ${evaluated.length} elements for ${q.blinded.length} values`);
  if (!engine.verifyProof(suite, partnerPk, q.blinded, evaluated, proof)) {
    throw new ProofError('answer: the DLEQ proof does not verify against the partner epoch key');
  }
  const k = decodeScalar('sk', mySk);
  return evaluated.map((e, i) => {
    // k_A · r⁻¹ as one scalar: U = r⁻¹·E = k_B·H(x), then k_A·U.
    const r = decodeScalar(`blinds[${i}]`, q.blinds[i] as Uint8Array);
    const factor = encodeScalar(Fn.mul(k, Fn.inv(r)));
    return engine.tokenize(suite, factor, e, `evaluated[${i}]`);
  });
}
