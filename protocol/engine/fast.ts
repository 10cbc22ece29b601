// Fast engine: libsodium's WebAssembly build, for every runtime (Workers,
// browsers, Node without a system libsodium). The engine body is shared with
// the native engine (sodium-engine.ts); SHA-512 is node:crypto's on Node and
// the portable one elsewhere.
import sodium from 'libsodium-wrappers-sumo';
import type { Engine } from './types.js';
import { makeSodiumEngine, type SodiumPrimitives } from './sodium-engine.js';
import { platformSha512 } from './sha512.js';

let ready: Promise<void> | undefined;

/** libsodium initialises its WebAssembly module asynchronously, once per thread. */
export function loadSodium(): Promise<void> {
  ready ??= sodium.ready;
  return ready;
}

/** The wrappers throw where C returns -1; the engine wants a flag. */
function attempt(out: Uint8Array, f: () => Uint8Array): boolean {
  try {
    out.set(f());
    return true;
  } catch {
    return false;
  }
}

function wasmPrimitives(): SodiumPrimitives {
  return {
    fromHash: (out, u) => out.set(sodium.crypto_core_ristretto255_from_hash(u)),
    scalarMult: (out, k, p) => attempt(out, () => sodium.crypto_scalarmult_ristretto255(k, p)),
    scalarMultBase: (out, k) => attempt(out, () => sodium.crypto_scalarmult_ristretto255_base(k)),
    add: (out, p, q) => attempt(out, () => sodium.crypto_core_ristretto255_add(p, q)),
    scalarMul: (out, a, b) => out.set(sodium.crypto_core_ristretto255_scalar_mul(a, b)),
    scalarSub: (out, a, b) => out.set(sodium.crypto_core_ristretto255_scalar_sub(a, b)),
    isValid: (p) => sodium.crypto_core_ristretto255_is_valid_point(p),
    sha512: platformSha512(),
  };
}

let engine: Engine | undefined;

/** The fast engine, ready to use once libsodium has loaded. */
export async function loadFastEngine(): Promise<Engine> {
  await loadSodium();
  engine ??= makeSodiumEngine('fast', wasmPrimitives());
  return engine;
}
