// protocol/SPEC.md §1.5 Evaluate(k, E) = k·E, and RFC 9497 §3.3.1 Blind / BlindEvaluate /
// Finalize, written against the reference group (@noble/curves).
import { concatBytes, lengthPrefixed } from './bytes.js';
import { LABEL, type Suite } from './constants.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { decodePoint, decodeScalar, encodePoint, Fn } from './group.js';
import { hashToGroup } from './hash-to-group.js';

/** k·E for a 32-byte secret scalar and a wire element; both are strictly decoded. */
export function evaluate(sk: Uint8Array, element: Uint8Array, label = 'element'): Uint8Array {
  const k = decodeScalar('sk', sk);
  return encodePoint(decodePoint(label, element).multiply(k));
}

/** HashToGroup(input) then k·P: one party's blinding of its own input. */
export function blindInput(suite: Suite, sk: Uint8Array, input: Uint8Array): Uint8Array {
  const k = decodeScalar('sk', sk);
  return encodePoint(hashToGroup(suite, input).multiply(k));
}

/** RFC 9497 §3.3.1 Blind with a caller-supplied blind scalar. */
export function blind(suite: Suite, input: Uint8Array, blindScalar: Uint8Array): Uint8Array {
  return blindInput(suite, blindScalar, input);
}

/** Remove a blind r from r·k·P: multiply by r⁻¹ mod ℓ (RFC 9497 §3.3.1 Finalize). */
export function unblind(blindScalar: Uint8Array, evaluated: Uint8Array, label = 'evaluated'): Uint8Array {
  const r = decodeScalar('blind', blindScalar);
  return encodePoint(decodePoint(label, evaluated).multiply(Fn.inv(r)));
}

/** RFC 9497 §3.3.1 Finalize output: Hash(len‖input ‖ len‖unblinded ‖ "Finalize"). */
export function finalize(input: Uint8Array, blindScalar: Uint8Array, evaluated: Uint8Array): Uint8Array {
  const n = unblind(blindScalar, evaluated);
  return sha512(concatBytes(lengthPrefixed(input), lengthPrefixed(n), LABEL.finalize));
}
