// RFC 9497 §3.3.3 POPRF pieces, kept only so the library replays every mode
// of the RFC's vectors; Concordat itself uses the OPRF/VOPRF constructions.
import { concatBytes, i2osp, utf8 } from './bytes.js';
import type { Suite } from './constants.js';
import { ProtocolError } from './errors.js';
import { decodeScalar, encodeScalar, Fn } from './group.js';
import { hashToScalar } from './hash-to-group.js';

/** t = skS + HashToScalar("Info" ‖ I2OSP(len(info), 2) ‖ info), the tweaked key. */
export function tweakKey(suite: Suite, sk: Uint8Array, info: Uint8Array): Uint8Array {
  const m = hashToScalar(suite, concatBytes(utf8('Info'), i2osp(info.length, 2), info));
  const t = Fn.add(decodeScalar('sk', sk), m);
  if (t === 0n) throw new ProtocolError('InverseError');
  return encodeScalar(t);
}

/** t⁻¹ as a scalar: POPRF evaluation multiplies the blinded element by it. */
export function invertScalar(s: Uint8Array): Uint8Array {
  return encodeScalar(Fn.inv(decodeScalar('scalar', s)));
}
