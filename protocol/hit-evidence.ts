// protocol/SPEC.md §8.11 hit evidence: a requester that reports a targeted
// query's hit proves that the hit is the responder's answer to a value it
// asked, unblinded, and not a token or element it took from elsewhere.
//
// For value i the responder returned E = k_B·R with R = r·HashToGroup(x). The
// requester sends U = r⁻¹·E (= k_B·HashToGroup(x), an element of the
// responder's side when x is in it), P = r·G and a §1.7 DLEQ proof that
// log_G(P) = log_U(E), i.e. E = r·U. The coordinator verifies it with E from
// the answer it relayed and looks U up among the responder's uploaded
// elements. The proof runs under hitEvidenceSuite (§0.1 label
// "HitEvidence-"), so the responder's own query proof — the same statement
// shape with P = K_B and U = R — can never serve as evidence for an element R
// the requester copied from the responder's side.
import { equalBytes } from './bytes.js';
import { ELEMENT_BYTES, hitEvidenceSuite, PROOF_BYTES, type Suite } from './constants.js';
import { generateProofWithR, verifyProof } from './dleq.js';
import type { Engine } from './engine/types.js';
import { DecodeError, ProofError, ProtocolError, type DecodeReason } from './errors.js';
import { decodePoint, decodeScalar, encodePoint, encodeScalar, Fn, Point, randomScalar } from './group.js';

export interface HitEvidence {
  /** U = r⁻¹·E: the unblinded answer, k_B·HashToGroup(Input(x)). */
  readonly element: Uint8Array;
  /** P = r·G. */
  readonly blindPublic: Uint8Array;
  /** §1.7 proof (64 bytes) that log_G(P) = log_U(E), under hitEvidenceSuite. */
  readonly proof: Uint8Array;
}

/** The member of a piece of evidence a check refused. */
export type HitEvidenceField = 'element' | 'blindPublic' | 'proof';

export type HitEvidenceCheck =
  | { ok: true }
  | { ok: false; field: HitEvidenceField; reason: DecodeReason | 'proof' };

/**
 * §8.11 evidence for one hit: `blind` is the value's query blind r (32 bytes
 * LE), `evaluated` the responder's E for that value. `proofRandomScalar` is the
 * proof's fresh random scalar; vectors pass a fixed one.
 */
export function hitEvidenceWithR(suite: Suite, blind: Uint8Array, evaluated: Uint8Array, proofRandomScalar: Uint8Array): HitEvidence {
  const r = decodeScalar('blind', blind);
  const E = decodePoint('evaluated', evaluated);
  const element = encodePoint(E.multiply(Fn.inv(r)));
  const blindPublic = encodePoint(Point.BASE.multiply(r));
  const proof = generateProofWithR(hitEvidenceSuite(suite), { sk: blind, blinded: [element], evaluated: [evaluated] }, proofRandomScalar);
  return { element, blindPublic, proof };
}

/** {@link hitEvidenceWithR} with the proof scalar drawn from `rng`. */
export function hitEvidence(suite: Suite, blind: Uint8Array, evaluated: Uint8Array, rng: (n: number) => Uint8Array): HitEvidence {
  return hitEvidenceWithR(suite, blind, evaluated, encodeScalar(randomScalar(rng)));
}

/**
 * {@link hitEvidence} on an engine (the requester's own, native where it
 * runs): U = r⁻¹·E, P = r·G and the proof as the engine's VOPRF evaluation
 * of U under r, which re-derives E. Byte-identical to the reference path for
 * the same `rng` (protocol/vectors.ts runs both).
 */
export function hitEvidenceOn(engine: Engine, suite: Suite, blind: Uint8Array, evaluated: Uint8Array, rng: (n: number) => Uint8Array): HitEvidence {
  const r = decodeScalar('blind', blind);
  const element = engine.evaluate(encodeScalar(Fn.inv(r)), evaluated, 'evaluated');
  const blindPublic = engine.publicKey(blind);
  const proven = engine.evaluateWithProof(hitEvidenceSuite(suite), blind, [element], rng);
  // r·(r⁻¹·E) = E: anything else is an engine fault, never evidence.
  if (!equalBytes(proven.evaluated[0] as Uint8Array, evaluated)) throw new ProtocolError('hit evidence: r·U does not give back the answer');
  return { element, blindPublic, proof: proven.proof };
}

/** A §2.2.2 proof check with the engine interface's contract (malformed inputs throw a DecodeError naming pk, blinded[0] or proof.*). */
export type ProofCheck = (suite: Suite, pk: Uint8Array, blinded: readonly Uint8Array[], evaluated: readonly Uint8Array[], proof: Uint8Array) => boolean;

const referenceCheck: ProofCheck = (suite, pk, blinded, evaluated, proof) => verifyProof(suite, pk, [...blinded], [...evaluated], proof);

/**
 * The coordinator's check of §8.11: `evaluated` is E as the coordinator
 * itself relayed it (never taken from the report). U and P are decoded
 * strictly (§1.1); the proof must verify. Malformed members are refused
 * under their own name, like a proof that does not verify.
 */
function elementRefusal(element: Uint8Array): HitEvidenceCheck | undefined {
  try {
    decodePoint('element', element);
    return undefined;
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, field: 'element', reason: e.reason };
    throw e;
  }
}

export function checkHitEvidence(suite: Suite, evaluated: Uint8Array, ev: HitEvidence, verify: ProofCheck = referenceCheck): HitEvidenceCheck {
  for (const field of ['element', 'blindPublic'] as const) {
    const b = ev[field];
    if (!(b instanceof Uint8Array) || b.length !== ELEMENT_BYTES) return { ok: false, field, reason: 'length' };
  }
  if (!(ev.proof instanceof Uint8Array) || ev.proof.length !== PROOF_BYTES) return { ok: false, field: 'proof', reason: 'length' };
  try {
    return verify(hitEvidenceSuite(suite), ev.blindPublic, [ev.element], [evaluated], ev.proof) ? { ok: true } : { ok: false, field: 'proof', reason: 'proof' };
  } catch (e) {
    // The verifier decodes P as its `pk` and U as `blinded[0]`, strictly (§1.1).
    if (e instanceof DecodeError) {
      // The verifier checks P before U; a bad U is still reported first, as the element.
      if (e.field === 'pk') return elementRefusal(ev.element) ?? { ok: false, field: 'blindPublic', reason: e.reason };
      if (e.field === 'blinded[0]') return { ok: false, field: 'element', reason: e.reason };
      // Unreduced proof scalars: not a proof.
      return { ok: false, field: 'proof', reason: e.reason };
    }
    if (e instanceof ProofError) return { ok: false, field: 'proof', reason: 'proof' };
    throw e;
  }
}
