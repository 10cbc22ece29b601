// Native engine: the system's libsodium (libsodium.so.23, ≥ 1.0.18 for
// ristretto255) called through koffi, an FFI library that ships prebuilt
// binaries, so no compiler is needed on the agency's machine. The engine body
// is the one the WebAssembly engine runs (sodium-engine.ts); only the
// primitives differ. SHA-512 is libsodium's too: one FFI call costs about a
// microsecond, less than node:crypto's one-shot hash (bench/blind.ts measures
// both).
//
// Nothing here is imported statically from Node: koffi is required through
// process.getBuiltinModule('node:module') at run time, so bundles for workerd
// and the browser carry this file harmlessly and `nativeAvailable()` is false
// there.
import { CONCORDAT_SUITE, ELEMENT_BYTES } from '../constants.js';
import { encodePoint, Point } from '../group.js';
import { hashToGroup, hashToGroupBytes } from '../hash-to-group.js';
import type { Engine } from './types.js';
import { makeSodiumEngine, type SodiumPrimitives } from './sodium-engine.js';
import { nodeBuiltin } from './sha512.js';

type Koffi = typeof import('koffi');
type NodeModule = typeof import('node:module');
type CFn = (...args: unknown[]) => number;

/** Library names tried in order; CONCORDAT_LIBSODIUM names a file to use instead. */
const LIBRARY_NAMES = ['libsodium.so.23', 'libsodium.so.26', 'libsodium.so', 'libsodium.23.dylib', 'libsodium.dylib', 'libsodium.dll'];

/** The raw C functions, for the engine and for the bench's FFI-only limit. */
export interface NativeSodium {
  readonly library: string;
  readonly version: string;
  readonly from_hash: CFn;
  readonly scalarmult: CFn;
  readonly scalarmult_base: CFn;
  readonly add: CFn;
  readonly scalar_mul: CFn;
  readonly scalar_sub: CFn;
  readonly is_valid_point: CFn;
  readonly hash_sha512: CFn;
}

let loaded: { lib?: NativeSodium; reason?: string } | undefined;

function envLibrary(): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.CONCORDAT_LIBSODIUM;
  return v && v.length > 0 ? v : undefined;
}

function open(): { lib?: NativeSodium; reason?: string } {
  const mod = nodeBuiltin<NodeModule>('node:module');
  if (!mod) return { reason: 'not running on Node' };
  let koffi: Koffi;
  try {
    koffi = mod.createRequire(import.meta.url)('koffi') as Koffi;
  } catch (e) {
    return { reason: `koffi did not load (${e instanceof Error ? e.message : String(e)})` };
  }
  const names = envLibrary() ? [envLibrary() as string] : LIBRARY_NAMES;
  let lastError = '';
  for (const library of names) {
    let h: ReturnType<Koffi['load']>;
    try {
      h = koffi.load(library);
    } catch (e) {
      lastError = `${library}: ${e instanceof Error ? e.message : String(e)}`;
      continue;
    }
    try {
      const f = (sig: string): CFn => h.func(sig) as unknown as CFn;
      if (f('int sodium_init()')() < 0) return { reason: `${library}: sodium_init failed` };
      const version = h.func('const char *sodium_version_string()')() as string;
      return {
        lib: {
          library,
          version,
          from_hash: f('int crypto_core_ristretto255_from_hash(uint8_t *p, const uint8_t *r)'),
          scalarmult: f('int crypto_scalarmult_ristretto255(uint8_t *q, const uint8_t *n, const uint8_t *p)'),
          scalarmult_base: f('int crypto_scalarmult_ristretto255_base(uint8_t *q, const uint8_t *n)'),
          add: f('int crypto_core_ristretto255_add(uint8_t *r, const uint8_t *p, const uint8_t *q)'),
          scalar_mul: f('void crypto_core_ristretto255_scalar_mul(uint8_t *z, const uint8_t *x, const uint8_t *y)'),
          scalar_sub: f('void crypto_core_ristretto255_scalar_sub(uint8_t *z, const uint8_t *x, const uint8_t *y)'),
          is_valid_point: f('int crypto_core_ristretto255_is_valid_point(const uint8_t *p)'),
          hash_sha512: f('int crypto_hash_sha512(uint8_t *out, const uint8_t *in, unsigned long long inlen)'),
        },
      };
    } catch (e) {
      // A libsodium older than 1.0.18 has no ristretto255 symbols.
      return { reason: `${library}: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  return { reason: `no libsodium found (${lastError})` };
}

/** The native library, loaded once per thread; undefined (with a reason) where it cannot load. */
export function nativeSodium(): { lib?: NativeSodium; reason?: string } {
  loaded ??= open();
  return loaded;
}

/**
 * RFC 9496 §4.3.1 refuses an encoding with the top bit set (s ≥ 2^255 is not
 * canonical). libsodium 1.0.18, the version most distributions ship as
 * libsodium.so.23, masks that bit off instead and accepts the element; later
 * releases refuse it, as does the WebAssembly build. Refuse it here so every
 * engine accepts exactly the same encodings (test/engine-native.test.ts).
 */
const topBitSet = (p: Uint8Array): boolean => p.length !== ELEMENT_BYTES || ((p[31] as number) & 0x80) !== 0;

function nativePrimitives(c: NativeSodium): SodiumPrimitives {
  return {
    fromHash: (out, u) => {
      c.from_hash(out, u);
    },
    scalarMult: (out, k, p) => !topBitSet(p) && c.scalarmult(out, k, p) === 0,
    scalarMultBase: (out, k) => c.scalarmult_base(out, k) === 0,
    add: (out, p, q) => !topBitSet(p) && !topBitSet(q) && c.add(out, p, q) === 0,
    scalarMul: (out, a, b) => {
      c.scalar_mul(out, a, b);
    },
    scalarSub: (out, a, b) => {
      c.scalar_sub(out, a, b);
    },
    isValid: (p) => !topBitSet(p) && c.is_valid_point(p) === 1,
    sha512: (out, data) => {
      c.hash_sha512(out, data, data.length);
    },
  };
}

let engine: Engine | undefined;
let refusal: string | undefined;

function build(): Engine | undefined {
  if (engine || refusal) return engine;
  const { lib, reason } = nativeSodium();
  if (!lib) {
    refusal = reason ?? 'unavailable';
    return undefined;
  }
  // A library that loads but computes differently (a broken build, a wrong
  // ABI) must never blind anything: check one base multiplication and one
  // map against @noble/curves first.
  const one = new Uint8Array(32);
  one[0] = 1;
  const g = new Uint8Array(ELEMENT_BYTES);
  const m = new Uint8Array(ELEMENT_BYTES);
  const probe = new TextEncoder().encode('self-test');
  const mapped = encodePoint(hashToGroup(CONCORDAT_SUITE, probe));
  if (
    lib.scalarmult_base(g, one) !== 0 ||
    !equal(g, encodePoint(Point.BASE)) ||
    lib.from_hash(m, hashToGroupBytes(CONCORDAT_SUITE, probe)) !== 0 ||
    !equal(m, mapped)
  ) {
    refusal = `${lib.library}: self-test failed`;
    return undefined;
  }
  engine = makeSodiumEngine('native', nativePrimitives(lib));
  return engine;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether the native engine can run here (Node, koffi, a libsodium with ristretto255 that passes the self-test). */
export function nativeAvailable(): boolean {
  return build() !== undefined;
}

/** The native engine; throws with the reason where it cannot run. */
export function loadNativeEngine(): Engine {
  const e = build();
  if (!e) throw new Error(`engine: the native engine is unavailable: ${refusal ?? 'unknown reason'}`);
  return e;
}
