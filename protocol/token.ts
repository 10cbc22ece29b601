// protocol/SPEC.md §1.6 Token(E) = first 16 bytes of SHA-512("Token-" ‖ contextString ‖ encode(E)),
// and canaries: elements r·G whose expected token under the partner key K is Token(r·K).
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from './bytes.js';
import { TOKEN_BYTES, type Suite } from './constants.js';
import { decodePoint, encodePoint, randomScalar, encodeScalar, scalarMulBase, decodeScalar } from './group.js';

/** Token of an already-encoded element. The caller vouches for `element` (32 bytes, canonical). */
export function tokenOfEncoded(suite: Suite, element: Uint8Array): Uint8Array {
  return sha512(concatBytes(suite.tokenPrefix, element)).subarray(0, TOKEN_BYTES);
}

/** Token(E) with strict decoding of E. */
export function token(suite: Suite, element: Uint8Array, label = 'element'): Uint8Array {
  decodePoint(label, element);
  return tokenOfEncoded(suite, element);
}

export interface Canary {
  /** The secret scalar r (kept by the planting agency, never sent). */
  readonly r: Uint8Array;
  /** r·G, planted in the blinded set. */
  readonly element: Uint8Array;
  /** Token(r·K): what the partner must produce for this position. */
  readonly expectedToken: Uint8Array;
}

/** Canary(r, K) of protocol/SPEC.md §1.6. */
export function canaryFromScalar(suite: Suite, r: Uint8Array, partnerKey: Uint8Array): Canary {
  const s = decodeScalar('canary.r', r);
  const K = decodePoint('partnerKey', partnerKey);
  return {
    r,
    element: encodePoint(scalarMulBase(s)),
    expectedToken: tokenOfEncoded(suite, encodePoint(K.multiply(s))),
  };
}

export function makeCanary(suite: Suite, partnerKey: Uint8Array, rng: (n: number) => Uint8Array): Canary {
  return canaryFromScalar(suite, encodeScalar(randomScalar(rng)), partnerKey);
}
