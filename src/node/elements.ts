// Element validation and proof checks on libsodium for the Node server: the
// system's native library where it loads, else the WebAssembly build (the
// default engine, protocol/engine/index.ts). Each is many times faster than
// the portable @noble/curves decoder and gives the same verdicts
// (test/coordinator-runtime.node.ts, test/engine-native.test.ts); on a bad
// element the strict decoder names the field and the rule as everywhere else.
import { loadEngine } from '../../protocol/engine/index.js';
import type { ElementChecker } from '../elements.js';
import type { ProofVerifier } from '../context.js';

/**
 * RFC 9497 §4.1 DeserializeElement of every uploaded element (canonical, not
 * the identity): one call per element into libsodium, while the agency waits
 * for the upload's answer. The native library takes about half the
 * WebAssembly build's time per element (`npm run bench -- blind` prints both).
 */
export async function loadSodiumElementChecker(): Promise<ElementChecker> {
  const engine = await loadEngine();
  return (packed, label) => engine.checkElements(packed, label);
}

/** Proof checks (query answers, hit evidence) on the same engine. */
export async function loadSodiumProofVerifier(): Promise<ProofVerifier> {
  const engine = await loadEngine();
  return (suite, pk, blinded, evaluated, proof) => engine.verifyProof(suite, pk, blinded, evaluated, proof);
}
