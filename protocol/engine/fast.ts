// Fast engine: libsodium's WebAssembly build. expand_message_xmd runs once per
// element in JS (RFC 9380 §5.3.1), libsodium does the RFC 9496 one-way map
// (crypto_core_ristretto255_from_hash) and the constant-time scalar
// multiplication (crypto_scalarmult_ristretto255). Output is byte-identical to
// the reference engine; the vector tests run both.
import sodium from 'libsodium-wrappers-sumo';
import { ELEMENT_BYTES, TOKEN_BYTES, type Suite } from '../constants.js';
import { DecodeError, ProtocolError } from '../errors.js';
import { decodePoint, decodeScalar } from '../group.js';
import { hashToGroupBytes } from '../hash-to-group.js';
import { tokenOfEncoded } from '../token.js';
import { challenge, compositeSeed, compositeScalar, decodeBatch, verifyProof as referenceVerify } from '../dleq.js';
import { ProofError } from '../errors.js';
import { PROOF_BYTES, SCALAR_BYTES } from '../constants.js';
import { decodePoint as decodeP, encodePoint, encodeScalar, Point, randomScalar } from '../group.js';
import { concatBytes, equalBytes } from '../bytes.js';
import type { Engine, ProvenEvaluation } from './types.js';

let ready: Promise<void> | undefined;

/** libsodium initialises its WebAssembly module asynchronously, once per thread. */
export function loadSodium(): Promise<void> {
  ready ??= sodium.ready;
  return ready;
}

function checkPacked(label: string, elements: Uint8Array): number {
  if (elements.length % ELEMENT_BYTES !== 0) {
    throw new DecodeError(label, 'length', `packed elements must be a multiple of ${ELEMENT_BYTES} bytes, got ${elements.length}`);
  }
  return elements.length / ELEMENT_BYTES;
}

function mapToGroup(suite: Suite, x: Uint8Array): Uint8Array {
  const p = sodium.crypto_core_ristretto255_from_hash(hashToGroupBytes(suite, x));
  // RFC 9497 §3.3.1: the identity is an error (probability ~2^-252).
  if (p.every((b) => b === 0)) throw new ProtocolError('HashToGroup produced the identity element');
  return p;
}

/**
 * libsodium refuses a non-canonical input and an identity result with one
 * generic error; re-decode with the strict decoder so the error names the
 * field and the rule.
 */
function scalarMult(k: Uint8Array, e: Uint8Array, field: string): Uint8Array {
  try {
    return sodium.crypto_scalarmult_ristretto255(k, e);
  } catch {
    decodePoint(field, e);
    throw new ProtocolError(`${field}: scalar multiplication failed`);
  }
}

function makeFastEngine(): Engine {
  return {
    name: 'fast',
    hashToGroup(suite: Suite, inputs: readonly Uint8Array[]): Uint8Array {
      const out = new Uint8Array(inputs.length * ELEMENT_BYTES);
      inputs.forEach((x, i) => out.set(mapToGroup(suite, x), i * ELEMENT_BYTES));
      return out;
    },
    blind(suite: Suite, sk: Uint8Array, inputs: readonly Uint8Array[]): Uint8Array {
      decodeScalar('sk', sk);
      const out = new Uint8Array(inputs.length * ELEMENT_BYTES);
      inputs.forEach((x, i) => out.set(scalarMult(sk, mapToGroup(suite, x), `input[${i}]`), i * ELEMENT_BYTES));
      return out;
    },
    evaluate(sk: Uint8Array, elements: Uint8Array, label = 'element'): Uint8Array {
      decodeScalar('sk', sk);
      const n = checkPacked(label, elements);
      const out = new Uint8Array(elements.length);
      for (let i = 0; i < n; i++) {
        const e = elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
        out.set(scalarMult(sk, e, `${label}[${i}]`), i * ELEMENT_BYTES);
      }
      return out;
    },
    tokenize(suite: Suite, sk: Uint8Array, elements: Uint8Array, label = 'element'): Uint8Array {
      const evaluated = this.evaluate(sk, elements, label);
      const n = evaluated.length / ELEMENT_BYTES;
      const out = new Uint8Array(n * TOKEN_BYTES);
      for (let i = 0; i < n; i++) {
        out.set(tokenOfEncoded(suite, evaluated.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES)), i * TOKEN_BYTES);
      }
      return out;
    },
    evaluateWithProof(suite: Suite, sk: Uint8Array, blinded: readonly Uint8Array[], rng: (n: number) => Uint8Array): ProvenEvaluation {
      decodeScalar('sk', sk);
      const evaluated = blinded.map((b, i) => scalarMult(sk, b, `blinded[${i}]`));
      // Composites and the challenge involve public values only; every
      // operation on k or on the proof nonce r runs in libsodium.
      const { Cp, Dp } = decodeBatch([...blinded], evaluated);
      const pk = sodium.crypto_scalarmult_ristretto255_base(sk);
      const B = decodeP('pk', pk);
      const M = Point.fromBytes(composite(suite, B, Cp, Dp, 'C'));
      const Z = Point.fromBytes(composite(suite, B, Cp, Dp, 'D'));
      const r = encodeScalar(randomScalar(rng));
      const t2 = sodium.crypto_scalarmult_ristretto255_base(r);
      const t3 = sodium.crypto_scalarmult_ristretto255(r, encodePoint(M));
      const c = encodeScalar(challenge(suite, B, M, Z, Point.fromBytes(t2), Point.fromBytes(t3)));
      const s = sodium.crypto_core_ristretto255_scalar_sub(r, sodium.crypto_core_ristretto255_scalar_mul(c, sk));
      return { evaluated, proof: concatBytes(c, s) };
    },
    verifyProof(suite: Suite, pk: Uint8Array, blinded: readonly Uint8Array[], evaluated: readonly Uint8Array[], proof: Uint8Array): boolean {
      const B = decodeP('pk', pk);
      const { Cp, Dp } = decodeBatch([...blinded], [...evaluated]);
      if (!(proof instanceof Uint8Array) || proof.length !== PROOF_BYTES) {
        throw new ProofError(`proof: expected ${PROOF_BYTES} bytes, got ${proof?.length ?? 'none'}`);
      }
      const c = proof.subarray(0, SCALAR_BYTES);
      const s = proof.subarray(SCALAR_BYTES);
      decodeScalar('proof.c', c, true);
      decodeScalar('proof.s', s, true);
      try {
        const M = composite(suite, B, Cp, Dp, 'C');
        const Z = composite(suite, B, Cp, Dp, 'D');
        // t2 = s·G + c·B, t3 = s·M + c·Z (RFC 9497 §2.2.2); all public values.
        const t2 = sodium.crypto_core_ristretto255_add(sodium.crypto_scalarmult_ristretto255_base(s), sodium.crypto_scalarmult_ristretto255(c, pk));
        const t3 = sodium.crypto_core_ristretto255_add(sodium.crypto_scalarmult_ristretto255(s, M), sodium.crypto_scalarmult_ristretto255(c, Z));
        const expected = challenge(suite, B, Point.fromBytes(M), Point.fromBytes(Z), Point.fromBytes(t2), Point.fromBytes(t3));
        return equalBytes(encodeScalar(expected), c);
      } catch {
        // libsodium refuses identity intermediates (a zero scalar, or a composite
        // that cancels out); the reference path handles those exactly.
        return referenceVerify(suite, pk, Cp.map((p) => encodePoint(p)), Dp.map((p) => encodePoint(p)), proof);
      }
    },
  };
}

/** Σ d_i·X_i over the batch with libsodium, X = C or D (RFC 9497 §2.2.1 ComputeComposites). */
function composite(suite: Suite, B: InstanceType<typeof Point>, Cp: InstanceType<typeof Point>[], Dp: InstanceType<typeof Point>[], which: 'C' | 'D'): Uint8Array {
  const seed = compositeSeed(suite, B);
  let acc: Uint8Array | undefined;
  for (let i = 0; i < Cp.length; i++) {
    const ci = Cp[i] as InstanceType<typeof Point>;
    const di = Dp[i] as InstanceType<typeof Point>;
    const d = encodeScalar(compositeScalar(suite, seed, i, ci, di));
    const term = sodium.crypto_scalarmult_ristretto255(d, encodePoint(which === 'C' ? ci : di));
    acc = acc ? sodium.crypto_core_ristretto255_add(acc, term) : term;
  }
  if (!acc) throw new ProofError('batch: empty');
  return acc;
}

/** The fast engine, ready to use once libsodium has loaded. */
export async function loadFastEngine(): Promise<Engine> {
  await loadSodium();
  return makeFastEngine();
}
