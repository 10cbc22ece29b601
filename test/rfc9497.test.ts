// RFC 9497 Appendix A.1 ristretto255-SHA512 vectors, replayed through every
// construction with the RFC's own context string, on every engine available here.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { bytesToHex, hexToBytes } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, makeSuite, rfc9497Context } from '../protocol/constants.js';
import { generateProofWithR, verifyProof } from '../protocol/dleq.js';
import { availableEngines, type Engine } from '../protocol/engine/index.js';
import { deriveKeyPair } from '../protocol/keys.js';

const file = JSON.parse(readFileSync(new URL('../vectors/rfc9497-ristretto255-sha512.json', import.meta.url), 'utf8')) as {
  modes: Array<{
    mode: 'OPRF' | 'VOPRF' | 'POPRF';
    Seed: string;
    KeyInfo: string;
    skSm: string;
    pkSm?: string;
    tests: Array<{ name: string; Input: string[]; Blind: string[]; BlindedElement: string[]; EvaluationElement: string[]; Proof?: string; ProofRandomScalar?: string }>;
  }>;
};
const h = (s: string): Uint8Array => hexToBytes(s);
const engines: Engine[] = await availableEngines();
const modes = file.modes.filter((m) => m.mode !== 'POPRF');

describe.each(modes)('RFC 9497 $mode', (m) => {
  const suite = makeSuite(rfc9497Context(m.mode));

  test('DeriveKeyPair reproduces skSm and pkSm', () => {
    const kp = deriveKeyPair(suite, h(m.Seed), h(m.KeyInfo));
    expect(bytesToHex(kp.sk)).toBe(m.skSm);
    if (m.pkSm) expect(bytesToHex(kp.pk)).toBe(m.pkSm);
  });

  const cases = m.tests.flatMap((t) => engines.map((e) => ({ t, e, label: `${t.name} [${e.name}]` })));
  test.each(cases)('$label: BlindedElement and EvaluationElement', ({ t, e }) => {
    t.Input.forEach((inp, j) => {
      const blinded = e.blind(suite, h(t.Blind[j]!), [h(inp)]);
      expect(bytesToHex(blinded)).toBe(t.BlindedElement[j]);
      expect(bytesToHex(e.evaluate(h(m.skSm), blinded))).toBe(t.EvaluationElement[j]);
    });
  });

  const proofCases = m.tests.filter((t) => t.Proof);
  if (proofCases.length > 0) {
    test.each(proofCases)('$name: Proof', (t) => {
      const blinded = t.BlindedElement.map(h);
      const evaluated = t.EvaluationElement.map(h);
      const proof = generateProofWithR(suite, { sk: h(m.skSm), blinded, evaluated }, h(t.ProofRandomScalar!));
      expect(bytesToHex(proof)).toBe(t.Proof);
      expect(verifyProof(suite, h(m.pkSm!), blinded, evaluated, proof)).toBe(true);
      // The same proof under another context string must not verify.
      expect(verifyProof(CONCORDAT_SUITE, h(m.pkSm!), blinded, evaluated, proof)).toBe(false);
    });

    // randomScalar reduces 64 bytes mod ℓ: the RFC's nonce followed by 32 zero bytes is the nonce itself.
    const engineProofCases = proofCases.flatMap((t) => engines.map((e) => ({ t, e, label: `${t.name} [${e.name}]` })));
    test.each(engineProofCases)('$label: evaluateWithProof reproduces the Proof and verifyProof accepts it', ({ t, e }) => {
      const blinded = t.BlindedElement.map(h);
      const nonce = new Uint8Array(64);
      nonce.set(h(t.ProofRandomScalar!));
      const r = e.evaluateWithProof(suite, h(m.skSm), blinded, () => nonce.slice());
      expect(r.evaluated.map(bytesToHex)).toEqual(t.EvaluationElement);
      expect(bytesToHex(r.proof)).toBe(t.Proof);
      expect(e.verifyProof(suite, h(m.pkSm!), blinded, t.EvaluationElement.map(h), h(t.Proof!))).toBe(true);
      expect(e.verifyProof(CONCORDAT_SUITE, h(m.pkSm!), blinded, t.EvaluationElement.map(h), h(t.Proof!))).toBe(false);
    });
  }
});
