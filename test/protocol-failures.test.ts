// Failure cases beside the vectors: strict decoding, bad proofs, wrong lengths,
// and the same refusals from both engines.
import { describe, expect, test } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, epochInfo, makeSuite } from '../protocol/constants.js';
import { generateProof, generateProofWithR, verifyProof } from '../protocol/dleq.js';
import { loadFastEngine, referenceEngine, type Engine } from '../protocol/engine/index.js';
import { DecodeError, ProofError } from '../protocol/errors.js';
import { decodePoint, decodeScalar, encodePoint, GROUP_ORDER, Point, encodeScalar } from '../protocol/group.js';
import { deriveKeyPair } from '../protocol/keys.js';
import { makeCanary, tokenOfEncoded } from '../protocol/token.js';
import { INVALID_ELEMENTS } from '../protocol/vectors-generate.js';

const suite = CONCORDAT_SUITE;
const engines: Engine[] = [referenceEngine, await loadFastEngine()];
const kp = deriveKeyPair(suite, new Uint8Array(32).fill(7), epochInfo('e1'));
const other = deriveKeyPair(suite, new Uint8Array(32).fill(8), epochInfo('e1'));
let counter = 0;
const detRng = (n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (counter++ * 131 + 7) & 0xff;
  return out;
};

describe('decodePoint', () => {
  test.each(INVALID_ELEMENTS.map((hex) => ({ hex })))('rejects $hex', ({ hex }) => {
    expect(() => decodePoint('body.element', hexToBytes(hex))).toThrow(DecodeError);
  });

  test('errors name the field and the rule, never the bytes', () => {
    const identity = new Uint8Array(32);
    try {
      decodePoint('chunk[3].element[17]', identity);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      const d = e as DecodeError;
      expect(d.field).toBe('chunk[3].element[17]');
      expect(d.reason).toBe('identity');
      expect(d.message).toContain('chunk[3].element[17]');
    }
    const nonCanonical = hexToBytes(INVALID_ELEMENTS[1]!);
    const err = (() => {
      try {
        decodePoint('pk', nonCanonical);
      } catch (e) {
        return e as DecodeError;
      }
      throw new Error('accepted');
    })();
    expect(err.reason).toBe('non-canonical');
    expect(err.message).not.toContain(bytesToHex(nonCanonical));
    expect(() => decodePoint('pk', new Uint8Array(31))).toThrow(/pk: expected 32 bytes, got 31/);
  });

  test('accepts the generator and round-trips', () => {
    const g = encodePoint(Point.BASE);
    expect(bytesToHex(encodePoint(decodePoint('g', g)))).toBe(bytesToHex(g));
  });
});

describe('scalars', () => {
  test('zero, unreduced and wrong-length secret keys are refused', () => {
    expect(() => decodeScalar('sk', new Uint8Array(32))).toThrow(/sk: scalar must not be zero/);
    expect(() => decodeScalar('sk', encodeScalar(GROUP_ORDER))).toThrow(/not reduced/);
    expect(() => decodeScalar('sk', new Uint8Array(33))).toThrow(/expected 32 bytes/);
  });

  test('DeriveKeyPair needs a 32-byte seed; different info gives a different key', () => {
    expect(() => deriveKeyPair(suite, new Uint8Array(16), epochInfo('e1'))).toThrow(/seed/);
    const e2 = deriveKeyPair(suite, new Uint8Array(32).fill(7), epochInfo('e2'));
    expect(bytesToHex(e2.sk)).not.toBe(bytesToHex(kp.sk));
  });

  test('a different context string gives different keys and elements', () => {
    const s2 = makeSuite('CONCORDAT-V1-ristretto255-SHA512');
    expect(bytesToHex(deriveKeyPair(s2, new Uint8Array(32).fill(7), epochInfo('e1')).sk)).not.toBe(bytesToHex(kp.sk));
    expect(bytesToHex(referenceEngine.hashToGroup(s2, [utf8('x')]))).not.toBe(bytesToHex(referenceEngine.hashToGroup(suite, [utf8('x')])));
  });
});

describe.each(engines.map((e) => ({ name: e.name, e })))('$name engine refusals', ({ e }) => {
  test.each(INVALID_ELEMENTS.filter((h) => h.length === 64).map((hex, i) => ({ hex, i })))('evaluate rejects invalid element #$i', ({ hex }) => {
    const packed = concatBytes(encodePoint(Point.BASE), hexToBytes(hex));
    expect(() => e.evaluate(kp.sk, packed, 'element')).toThrow(/element\[1\]/);
    expect(() => e.tokenize(suite, kp.sk, packed, 'element')).toThrow(DecodeError);
  });

  test('packed input of a wrong length is refused', () => {
    expect(() => e.evaluate(kp.sk, new Uint8Array(33))).toThrow(/multiple of 32/);
  });

  test('a zero key is refused', () => {
    expect(() => e.blind(suite, new Uint8Array(32), [utf8('x')])).toThrow(/sk/);
  });
});

describe('DLEQ proofs', () => {
  const blinded = [1, 2, 3].map((i) => referenceEngine.hashToGroup(suite, [utf8(`q${i}`)]));
  const evaluated = blinded.map((b) => referenceEngine.evaluate(kp.sk, b));
  const proof = generateProof(suite, { sk: kp.sk, blinded, evaluated }, detRng);

  test('a valid batched proof verifies', () => {
    expect(verifyProof(suite, kp.pk, blinded, evaluated, proof)).toBe(true);
  });

  test('a responder using another key is caught', () => {
    const wrong = blinded.map((b) => referenceEngine.evaluate(other.sk, b));
    const p = generateProof(suite, { sk: other.sk, blinded, evaluated: wrong }, detRng);
    expect(verifyProof(suite, kp.pk, blinded, wrong, p)).toBe(false);
  });

  test('one wrong element in a batch fails the whole proof', () => {
    const bad = [...evaluated];
    bad[1] = referenceEngine.evaluate(other.sk, blinded[1]!);
    expect(verifyProof(suite, kp.pk, blinded, bad, proof)).toBe(false);
  });

  test('swapped elements, a flipped proof bit, or a proof for other elements fail', () => {
    expect(verifyProof(suite, kp.pk, [blinded[1]!, blinded[0]!, blinded[2]!], [evaluated[1]!, evaluated[0]!, evaluated[2]!], proof)).toBe(false);
    const flipped = proof.slice();
    flipped[5]! ^= 1;
    expect(verifyProof(suite, kp.pk, blinded, evaluated, flipped)).toBe(false);
    expect(verifyProof(suite, kp.pk, blinded.slice(0, 2), evaluated.slice(0, 2), proof)).toBe(false);
  });

  test('malformed proof inputs throw named errors', () => {
    expect(() => verifyProof(suite, kp.pk, blinded, evaluated, proof.subarray(0, 63))).toThrow(ProofError);
    expect(() => verifyProof(suite, kp.pk, blinded, evaluated.slice(0, 2), proof)).toThrow(/batch/);
    expect(() => verifyProof(suite, kp.pk, [], [], proof)).toThrow(/empty/);
    expect(() => verifyProof(suite, new Uint8Array(32), blinded, evaluated, proof)).toThrow(/pk: the identity/);
    const idEval = [...evaluated];
    idEval[2] = new Uint8Array(32);
    expect(() => verifyProof(suite, kp.pk, blinded, idEval, proof)).toThrow(/evaluated\[2\]/);
    const unreduced = concatBytes(encodeScalar(GROUP_ORDER), proof.subarray(32));
    expect(() => verifyProof(suite, kp.pk, blinded, evaluated, unreduced)).toThrow(/proof.c/);
  });

  test('proofs depend on the proof random scalar but all verify', () => {
    const r1 = encodeScalar(5n);
    const r2 = encodeScalar(6n);
    const p1 = generateProofWithR(suite, { sk: kp.sk, blinded, evaluated }, r1);
    const p2 = generateProofWithR(suite, { sk: kp.sk, blinded, evaluated }, r2);
    expect(bytesToHex(p1)).not.toBe(bytesToHex(p2));
    expect(verifyProof(suite, kp.pk, blinded, evaluated, p2)).toBe(true);
  });
});

describe('canaries', () => {
  test('the partner key yields the expected token; any other key does not', () => {
    const c = makeCanary(suite, other.pk, detRng);
    expect(bytesToHex(tokenOfEncoded(suite, referenceEngine.evaluate(other.sk, c.element)))).toBe(bytesToHex(c.expectedToken));
    expect(bytesToHex(referenceEngine.tokenize(suite, other.sk, c.element))).toBe(bytesToHex(c.expectedToken));
    expect(bytesToHex(referenceEngine.tokenize(suite, kp.sk, c.element))).not.toBe(bytesToHex(c.expectedToken));
  });

  test('canary elements are valid group elements, distinct per draw', () => {
    const a = makeCanary(suite, other.pk, detRng);
    const b = makeCanary(suite, other.pk, detRng);
    decodePoint('canary', a.element);
    expect(bytesToHex(a.element)).not.toBe(bytesToHex(b.element));
  });
});
