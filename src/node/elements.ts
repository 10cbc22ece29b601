// Element validation through libsodium (WebAssembly), about ten times faster
// than the portable decoder, for the Node server. libsodium's
// crypto_core_ristretto255_is_valid_point enforces the RFC 9496 §4.3.1
// canonical-encoding checks but accepts the identity, which RFC 9497 §4.1
// rejects, so the identity (its only encoding is 32 zero bytes) is refused
// here. On any failure the strict portable decoder re-checks the element so
// the error names the field and the rule exactly as everywhere else.
import sodium from 'libsodium-wrappers-sumo';
import { ELEMENT_BYTES } from '../../protocol/constants.js';
import { DecodeError } from '../../protocol/errors.js';
import { decodePoint } from '../../protocol/group.js';
import { loadSodium } from '../../protocol/engine/fast.js';
import { loadEngine } from '../../protocol/engine/index.js';
import type { ElementChecker } from '../elements.js';
import type { ProofVerifier } from '../context.js';

function isZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i] as number;
  return acc === 0;
}

export async function loadSodiumElementChecker(): Promise<ElementChecker> {
  await loadSodium();
  return (packed, label) => {
    const n = packed.length / ELEMENT_BYTES;
    for (let i = 0; i < n; i++) {
      const e = packed.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
      if (!isZero(e) && sodium.crypto_core_ristretto255_is_valid_point(e)) continue;
      const field = `${label}[${i}]`;
      decodePoint(field, e);
      throw new DecodeError(field, 'non-canonical', 'not a canonical ristretto255 encoding');
    }
  };
}

/**
 * Proof checks (query answers, hit evidence) on libsodium: the system's
 * native library where it loads, else the WebAssembly build; each is many
 * times faster than @noble/curves and gives the same verdicts (test/engine-native.test.ts).
 */
export async function loadSodiumProofVerifier(): Promise<ProofVerifier> {
  const engine = await loadEngine();
  return (suite, pk, blinded, evaluated, proof) => engine.verifyProof(suite, pk, blinded, evaluated, proof);
}
