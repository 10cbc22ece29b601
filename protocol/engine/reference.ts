// Reference engine: @noble/curves, audited pure TypeScript. Slower; it is the
// yardstick the fast engine must match byte for byte.
import { ELEMENT_BYTES, TOKEN_BYTES, type Suite } from '../constants.js';
import { DecodeError } from '../errors.js';
import { decodePoint, decodeScalar, encodePoint, Point } from '../group.js';
import { hashToGroup } from '../hash-to-group.js';
import { tokenOfEncoded } from '../token.js';
import { generateProof, verifyProof } from '../dleq.js';
import type { Engine, ProvenEvaluation } from './types.js';

function checkPacked(label: string, elements: Uint8Array): number {
  if (elements.length % ELEMENT_BYTES !== 0) {
    throw new DecodeError(label, 'length', `packed elements must be a multiple of ${ELEMENT_BYTES} bytes, got ${elements.length}`);
  }
  return elements.length / ELEMENT_BYTES;
}

export const referenceEngine: Engine = {
  name: 'reference',
  hashToGroup(suite: Suite, inputs: readonly Uint8Array[]): Uint8Array {
    const out = new Uint8Array(inputs.length * ELEMENT_BYTES);
    inputs.forEach((x, i) => out.set(encodePoint(hashToGroup(suite, x)), i * ELEMENT_BYTES));
    return out;
  },
  blind(suite: Suite, sk: Uint8Array, inputs: readonly Uint8Array[]): Uint8Array {
    const k = decodeScalar('sk', sk);
    const out = new Uint8Array(inputs.length * ELEMENT_BYTES);
    inputs.forEach((x, i) => out.set(encodePoint(hashToGroup(suite, x).multiply(k)), i * ELEMENT_BYTES));
    return out;
  },
  evaluate(sk: Uint8Array, elements: Uint8Array, label = 'element'): Uint8Array {
    const k = decodeScalar('sk', sk);
    const n = checkPacked(label, elements);
    const out = new Uint8Array(elements.length);
    for (let i = 0; i < n; i++) {
      const e = elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
      out.set(encodePoint(decodePoint(`${label}[${i}]`, e).multiply(k)), i * ELEMENT_BYTES);
    }
    return out;
  },
  checkElements(elements: Uint8Array, label = 'element'): void {
    const n = checkPacked(label, elements);
    for (let i = 0; i < n; i++) decodePoint(`${label}[${i}]`, elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES));
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
    const k = decodeScalar('sk', sk);
    const evaluated = blinded.map((b, i) => encodePoint(decodePoint(`blinded[${i}]`, b).multiply(k)));
    return { evaluated, proof: generateProof(suite, { sk, blinded: [...blinded], evaluated }, rng) };
  },
  verifyProof(suite: Suite, pk: Uint8Array, blinded: readonly Uint8Array[], evaluated: readonly Uint8Array[], proof: Uint8Array): boolean {
    return verifyProof(suite, pk, [...blinded], [...evaluated], proof);
  },
  publicKey(sk: Uint8Array): Uint8Array {
    return encodePoint(Point.BASE.multiply(decodeScalar('sk', sk)));
  },
};
