// The libsodium-backed engines (docs/ARCHITECTURE.md §Engines). One body of
// code serves libsodium's WebAssembly build (`fast`) and the system's native
// libsodium (`native`); each supplies the same handful of primitives, so the
// two cannot drift apart. expand_message_xmd (RFC 9380 §5.3.1) and Token run
// over an injected SHA-512, libsodium does the RFC 9496 §4.3.4 one-way map
// (crypto_core_ristretto255_from_hash) and the constant-time scalar
// multiplication (crypto_scalarmult_ristretto255). Output is byte-identical to
// the reference engine; the vector tests run every engine.
import { ELEMENT_BYTES, PROOF_BYTES, SCALAR_BYTES, TOKEN_BYTES, type Suite } from '../constants.js';
import { DecodeError, ProofError, ProtocolError } from '../errors.js';
import { decodePoint, decodeScalar, encodeScalar, randomScalar, reduceScalarLE } from '../group.js';
import { createExpandXmd, type Sha512Into } from '../hash-to-group.js';
import { challengeOf, checkBatchShape, compositeScalarOf, compositeSeedOf, verifyProof as referenceVerify, type TranscriptHashes } from '../dleq.js';
import { bytesToHex, concatBytes, equalBytes } from '../bytes.js';
import type { Engine, EngineName, ProvenEvaluation } from './types.js';

/**
 * What an engine needs from a libsodium: each writes its result into `out`
 * (32 bytes) and reports libsodium's refusal as `false`, never by throwing.
 */
export interface SodiumPrimitives {
  /** RFC 9496 §4.3.4 one-way map of 64 uniform bytes. */
  fromHash(out: Uint8Array, uniform: Uint8Array): void;
  /** k·P; false when P is not a canonical encoding or the result is the identity. */
  scalarMult(out: Uint8Array, k: Uint8Array, p: Uint8Array): boolean;
  /** k·G; false when k ≡ 0 (mod ℓ). */
  scalarMultBase(out: Uint8Array, k: Uint8Array): boolean;
  /** P + Q; false when either is not a canonical encoding. */
  add(out: Uint8Array, p: Uint8Array, q: Uint8Array): boolean;
  /** a·b mod ℓ. */
  scalarMul(out: Uint8Array, a: Uint8Array, b: Uint8Array): void;
  /** a − b mod ℓ. */
  scalarSub(out: Uint8Array, a: Uint8Array, b: Uint8Array): void;
  /** Whether P is a canonical RFC 9496 §4.3.1 encoding (the identity included: the engine refuses that itself). */
  isValid(p: Uint8Array): boolean;
  sha512: Sha512Into;
}

function isZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i] as number;
  return acc === 0;
}

function checkPacked(label: string, elements: Uint8Array): number {
  if (elements.length % ELEMENT_BYTES !== 0) {
    throw new DecodeError(label, 'length', `packed elements must be a multiple of ${ELEMENT_BYTES} bytes, got ${elements.length}`);
  }
  return elements.length / ELEMENT_BYTES;
}

export function makeSodiumEngine(name: EngineName, s: SodiumPrimitives): Engine {
  // Per-DST expanders and token buffers; a pool task rebuilds its Suite from
  // the context bytes, so the cache is keyed by the bytes, not the object.
  const expanders = new Map<string, (msg: Uint8Array) => Uint8Array>();
  const expanderOf = (dst: Uint8Array): ((msg: Uint8Array) => Uint8Array) => {
    const key = bytesToHex(dst);
    let f = expanders.get(key);
    if (!f) {
      f = createExpandXmd(s.sha512, dst, 64);
      expanders.set(key, f);
    }
    return f;
  };
  const expanderFor = (suite: Suite): ((msg: Uint8Array) => Uint8Array) => expanderOf(suite.hashToGroupDST);
  // The DLEQ transcript (RFC 9497 §2.2.1) hashed with this engine's SHA-512.
  const hashes: TranscriptHashes = {
    sha512: (data) => {
      const out = new Uint8Array(64);
      s.sha512(out, data);
      return out;
    },
    hashToScalar: (suite, input) => reduceScalarLE(expanderOf(suite.hashToScalarDST)(input)),
  };
  /**
   * RFC 9497 §4.1 DeserializeElement without leaving libsodium: canonical and
   * not the identity (whose only encoding is 32 zero bytes). On refusal the
   * strict decoder names the field and the rule, as on every engine.
   */
  const checkPoint = (field: string, p: Uint8Array): void => {
    if (p instanceof Uint8Array && p.length === ELEMENT_BYTES && !isZero(p) && s.isValid(p)) return;
    decodePoint(field, p);
    throw new DecodeError(field, 'non-canonical', 'not a canonical ristretto255 encoding');
  };
  const checkBatch = (C: readonly Uint8Array[], D: readonly Uint8Array[]): void => {
    checkBatchShape(C, D);
    C.forEach((c, i) => checkPoint(`blinded[${i}]`, c));
    D.forEach((d, i) => checkPoint(`evaluated[${i}]`, d));
  };
  const tokenBuffers = new Map<string, Uint8Array>();
  const tokenBufferFor = (suite: Suite): Uint8Array => {
    const key = bytesToHex(suite.tokenPrefix);
    let b = tokenBuffers.get(key);
    if (!b) {
      b = new Uint8Array(suite.tokenPrefix.length + ELEMENT_BYTES);
      b.set(suite.tokenPrefix);
      tokenBuffers.set(key, b);
    }
    return b;
  };
  const digest = new Uint8Array(64);

  /** HashToGroup into `out`; RFC 9497 §3.3.1 makes the identity an error (probability ~2^-252). */
  const mapInto = (expand: (m: Uint8Array) => Uint8Array, out: Uint8Array, x: Uint8Array): void => {
    s.fromHash(out, expand(x));
    if (isZero(out)) throw new ProtocolError('HashToGroup produced the identity element');
  };

  /**
   * libsodium refuses a non-canonical input and an identity result with one
   * generic error; re-decode with the strict decoder so the error names the
   * field and the rule.
   */
  const multInto = (out: Uint8Array, k: Uint8Array, e: Uint8Array, field: string): void => {
    if (s.scalarMult(out, k, e)) return;
    decodePoint(field, e);
    throw new ProtocolError(`${field}: scalar multiplication failed`);
  };

  const mult = (k: Uint8Array, e: Uint8Array, field: string): Uint8Array => {
    const out = new Uint8Array(ELEMENT_BYTES);
    multInto(out, k, e, field);
    return out;
  };

  const base = (k: Uint8Array, field: string): Uint8Array => {
    const out = new Uint8Array(ELEMENT_BYTES);
    if (!s.scalarMultBase(out, k)) throw new ProtocolError(`${field}: zero scalar`);
    return out;
  };

  const add = (p: Uint8Array, q: Uint8Array): Uint8Array => {
    const out = new Uint8Array(ELEMENT_BYTES);
    if (!s.add(out, p, q)) throw new ProtocolError('point addition failed');
    return out;
  };

  /**
   * RFC 9497 §2.2.1 composites over encoded elements: d_i once per index, then
   * M = Σ d_i·C[i] and, for the verifier, Z = Σ d_i·D[i] (the prover passes
   * `withZ = false` and takes Z = k·M, ComputeCompositesFast).
   */
  const composites = (suite: Suite, B: Uint8Array, C: readonly Uint8Array[], D: readonly Uint8Array[], withZ: boolean): { M: Uint8Array; Z?: Uint8Array } => {
    const seed = compositeSeedOf(suite, B, hashes);
    let M: Uint8Array | undefined;
    let Z: Uint8Array | undefined;
    for (let i = 0; i < C.length; i++) {
      const ci = C[i] as Uint8Array;
      const di = D[i] as Uint8Array;
      const d = encodeScalar(compositeScalarOf(suite, seed, i, ci, di, hashes));
      const m = mult(d, ci, `composite[${i}]`);
      M = M ? add(M, m) : m;
      if (withZ) {
        const z = mult(d, di, `composite[${i}]`);
        Z = Z ? add(Z, z) : z;
      }
    }
    if (!M) throw new ProofError('batch: empty');
    return Z ? { M, Z } : { M };
  };

  return {
    name,
    hashToGroup(suite: Suite, inputs: readonly Uint8Array[]): Uint8Array {
      const expand = expanderFor(suite);
      const out = new Uint8Array(inputs.length * ELEMENT_BYTES);
      inputs.forEach((x, i) => mapInto(expand, out.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES), x));
      return out;
    },
    blind(suite: Suite, sk: Uint8Array, inputs: readonly Uint8Array[]): Uint8Array {
      decodeScalar('sk', sk);
      const expand = expanderFor(suite);
      const out = new Uint8Array(inputs.length * ELEMENT_BYTES);
      const h = new Uint8Array(ELEMENT_BYTES);
      inputs.forEach((x, i) => {
        mapInto(expand, h, x);
        multInto(out.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES), sk, h, `input[${i}]`);
      });
      return out;
    },
    evaluate(sk: Uint8Array, elements: Uint8Array, label = 'element'): Uint8Array {
      decodeScalar('sk', sk);
      const n = checkPacked(label, elements);
      const out = new Uint8Array(elements.length);
      for (let i = 0; i < n; i++) {
        const at = i * ELEMENT_BYTES;
        multInto(out.subarray(at, at + ELEMENT_BYTES), sk, elements.subarray(at, at + ELEMENT_BYTES), `${label}[${i}]`);
      }
      return out;
    },
    checkElements(elements: Uint8Array, label = 'element'): void {
      const n = checkPacked(label, elements);
      for (let i = 0; i < n; i++) {
        const e = elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
        if (!isZero(e) && s.isValid(e)) continue;
        checkPoint(`${label}[${i}]`, e);
      }
    },
    tokenize(suite: Suite, sk: Uint8Array, elements: Uint8Array, label = 'element'): Uint8Array {
      decodeScalar('sk', sk);
      const n = checkPacked(label, elements);
      // protocol/SPEC.md §1.6: Token(k·E) = SHA-512("Token-" ‖ contextString ‖ encode(k·E))[0..16].
      const buf = tokenBufferFor(suite);
      const at = buf.length - ELEMENT_BYTES;
      const ke = buf.subarray(at);
      const out = new Uint8Array(n * TOKEN_BYTES);
      for (let i = 0; i < n; i++) {
        multInto(ke, sk, elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES), `${label}[${i}]`);
        s.sha512(digest, buf);
        out.set(digest.subarray(0, TOKEN_BYTES), i * TOKEN_BYTES);
      }
      return out;
    },
    evaluateWithProof(suite: Suite, sk: Uint8Array, blinded: readonly Uint8Array[], rng: (n: number) => Uint8Array): ProvenEvaluation {
      decodeScalar('sk', sk);
      const evaluated = blinded.map((b, i) => mult(sk, b, `blinded[${i}]`));
      // Composites and the challenge involve public values only; every
      // operation on k or on the proof nonce r runs in libsodium.
      checkBatch(blinded, evaluated);
      const pk = base(sk, 'sk');
      const { M } = composites(suite, pk, blinded, evaluated, false);
      const Z = mult(sk, M, 'M');
      const r = encodeScalar(randomScalar(rng));
      const t2 = base(r, 'r');
      const t3 = mult(r, M, 'M');
      const c = encodeScalar(challengeOf(suite, pk, M, Z, t2, t3, hashes));
      const ck = new Uint8Array(SCALAR_BYTES);
      s.scalarMul(ck, c, sk);
      const sc = new Uint8Array(SCALAR_BYTES);
      s.scalarSub(sc, r, ck);
      return { evaluated, proof: concatBytes(c, sc) };
    },
    verifyProof(suite: Suite, pk: Uint8Array, blinded: readonly Uint8Array[], evaluated: readonly Uint8Array[], proof: Uint8Array): boolean {
      checkPoint('pk', pk);
      checkBatch(blinded, evaluated);
      if (!(proof instanceof Uint8Array) || proof.length !== PROOF_BYTES) {
        throw new ProofError(`proof: expected ${PROOF_BYTES} bytes, got ${proof?.length ?? 'none'}`);
      }
      const c = proof.subarray(0, SCALAR_BYTES);
      const sc = proof.subarray(SCALAR_BYTES);
      decodeScalar('proof.c', c, true);
      decodeScalar('proof.s', sc, true);
      try {
        const { M, Z } = composites(suite, pk, blinded, evaluated, true) as { M: Uint8Array; Z: Uint8Array };
        // t2 = s·G + c·B, t3 = s·M + c·Z (RFC 9497 §2.2.2); all public values.
        const t2 = add(base(sc, 'proof.s'), mult(c, pk, 'pk'));
        const t3 = add(mult(sc, M, 'M'), mult(c, Z, 'Z'));
        return equalBytes(encodeScalar(challengeOf(suite, pk, M, Z, t2, t3, hashes)), c);
      } catch {
        // libsodium refuses identity intermediates (a zero scalar, or a composite
        // that cancels out); the reference path handles those exactly.
        return referenceVerify(suite, pk, [...blinded], [...evaluated], proof);
      }
    },
    publicKey(sk: Uint8Array): Uint8Array {
      decodeScalar('sk', sk);
      return base(sk, 'sk');
    },
  };
}
