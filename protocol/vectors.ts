// The one loader for test vectors: recognises the RFC 9497 vector file and the
// Concordat v1 and v2 files, and checks every case against every engine given. Pure:
// the caller reads the file; failures name the case, never stop at the first.
import { z } from 'zod';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, equalBytes, hexToBytes, lengthPrefixed } from './bytes.js';
import { CONCORDAT_V1_CONTEXT, CONCORDAT_V1_SUITE, LABEL, makeSuite, rfc9497Context, type Suite } from './constants.js';
import { generateProofWithR, verifyProof } from './dleq.js';
import { unblind } from './evaluate.js';
import { decodePoint, decodeScalar, encodePoint, Point } from './group.js';
import { deriveKeyPair, publicKey } from './keys.js';
import { tokenOfEncoded } from './token.js';
import { invertScalar, tweakKey } from './poprf.js';
import { canonicalize, identifierInput, IdentifierError, isIdentifierKind } from './identifiers/index.js';
import type { Engine } from './engine/types.js';
import { CONCORDAT_V2_CONTEXT, CONCORDAT_V2_SUITE, V2_DOCUMENT_TYPE, type DocumentType } from './constants.js';
import { CanonicalJsonError, canonicalJson, type JsonValue } from './canonical.js';
import { agreementDigest, agreementTermsSchema, canonicalAgreement, verifyAcceptance } from './agreement.js';
import { ratchetTo } from './ratchet.js';
import { pairKeyInfo, pairKeyPair } from './pair-key.js';
import { fingerprint, signDocument, signingInput, signingPublicKey, verifyDocument } from './signed.js';
import { epochKeyStatementSchema } from './epoch-key.js';
import { chunkDigest, chunkManifestSchema } from './manifest.js';
import { queryStatementSchema, queryValuesDigest } from './signed-query.js';
import { checkHitEvidence, hitEvidenceOn, hitEvidenceWithR } from './hit-evidence.js';
import { treeHeadSchema } from './tlog.js';
import { concordatV2TlogVectorsSchema, verifyConcordatV2Tlog } from './vectors-tlog.js';

const hex = z.string().regex(/^(?:[0-9a-f]{2})*$/, 'lower-case even-length hex');

// ---- Concordat v1 vector file (protocol/SPEC.md §Vectors) ----
export const concordatVectorsSchema = z
  .object({
    suite: z.enum([CONCORDAT_V1_CONTEXT, CONCORDAT_V2_CONTEXT]),
    hashToGroup: z.array(z.object({ input: hex, element: hex }).strict()),
    deriveKeyPair: z.array(z.object({ seed: hex, info: hex, sk: hex, pk: hex }).strict()),
    evaluate: z.array(z.object({ sk: hex, element: hex, result: hex }).strict()),
    token: z.array(z.object({ element: hex, token: hex }).strict()),
    pairs: z.array(
      z
        .object({
          kind: z.string(),
          value: z.string(),
          canonical: z.string(),
          input: hex,
          skA: hex,
          skB: hex,
          blindedA: hex,
          blindedB: hex,
          doubleAB: hex,
          token: hex,
        })
        .strict(),
    ),
    canonicalization: z.array(
      z.union([
        z.object({ kind: z.string(), raw: z.string(), defaultCountry: z.string().optional(), canonical: z.string() }).strict(),
        z.object({ kind: z.string(), raw: z.string(), defaultCountry: z.string().optional(), error: z.string() }).strict(),
      ]),
    ),
    invalidElements: z.array(hex),
    proofs: z.array(
      z
        .object({
          sk: hex,
          pk: hex,
          blinded: z.array(hex).min(1),
          evaluated: z.array(hex).min(1),
          proofRandomScalar: hex,
          proof: hex,
        })
        .strict(),
    ),
  })
  .strict();
export type ConcordatVectors = z.infer<typeof concordatVectorsSchema>;

// ---- RFC 9497 Appendix A.1 file, as shipped in vectors/ ----
const rfcTestSchema = z.object({
  name: z.string(),
  Input: z.array(hex),
  Info: hex.optional(),
  Blind: z.array(hex),
  BlindedElement: z.array(hex),
  EvaluationElement: z.array(hex),
  Proof: hex.optional(),
  ProofRandomScalar: hex.optional(),
  Output: z.array(hex),
});
export const rfc9497VectorsSchema = z.object({
  source: z.string().optional(),
  suite: z.literal('ristretto255-SHA512'),
  modes: z.array(
    z.object({
      mode: z.enum(['OPRF', 'VOPRF', 'POPRF']),
      Seed: hex,
      KeyInfo: hex,
      skSm: hex,
      pkSm: hex.optional(),
      tests: z.array(rfcTestSchema),
    }),
  ),
});
export type Rfc9497Vectors = z.infer<typeof rfc9497VectorsSchema>;

// ---- Concordat v2 vector file (protocol/SPEC.md §8.10) ----
const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);
const documentTypeSchema = z.enum(Object.values(V2_DOCUMENT_TYPE) as [DocumentType, ...DocumentType[]]);

export const concordatV2VectorsSchema = z
  .object({
    suite: z.literal(CONCORDAT_V2_CONTEXT),
    canonical: z.array(
      z.union([
        z.object({ json: z.string(), canonical: hex }).strict(),
        z.object({ json: z.string(), error: z.object({ path: z.string(), rule: z.string() }).strict() }).strict(),
      ]),
    ),
    ratchet: z.array(z.object({ from: z.int().min(1), secret: hex, to: z.int().min(1), result: hex }).strict()),
    pairKeys: z.array(z.object({ secret: hex, epoch: z.string(), pair: z.string(), info: hex, sk: hex, pk: hex }).strict()),
    signed: z.array(
      z
        .object({
          name: z.string(),
          type: documentTypeSchema,
          signer: z.string(),
          document: jsonValue,
          canonical: hex,
          signingInput: hex,
          secretKey: hex,
          publicKey: hex,
          signature: hex,
          fingerprint: z.string(),
          digest: hex.optional(),
          elements: z.array(hex).optional(),
        })
        .strict(),
    ),
    hitEvidence: z.array(
      z
        .object({
          input: hex,
          responderSk: hex,
          blind: hex,
          blinded: hex,
          evaluated: hex,
          element: hex,
          blindPublic: hex,
          proofRandomScalar: hex,
          proof: hex,
        })
        .strict(),
    ),
  })
  .strict();
export type ConcordatV2Vectors = z.infer<typeof concordatV2VectorsSchema>;

export interface VectorFailure {
  readonly case: string;
  readonly message: string;
}
export interface VectorReport {
  readonly format: 'concordat-v1' | 'concordat-v2-psi' | 'concordat-v2' | 'concordat-v2-tlog' | 'rfc9497' | 'unknown';
  readonly cases: number;
  readonly failures: VectorFailure[];
}

const h = (s: string): Uint8Array => hexToBytes(s);

/** Runs checks for one named case and records every failure instead of throwing. */
class Checker {
  cases = 0;
  failures: VectorFailure[] = [];
  run(name: string, body: (expect: (what: string, got: Uint8Array | string | boolean, want: Uint8Array | string | boolean) => void) => void): void {
    this.cases++;
    const before = this.failures.length;
    const expect = (what: string, got: Uint8Array | string | boolean, want: Uint8Array | string | boolean): void => {
      const g = got instanceof Uint8Array ? bytesToHex(got) : String(got);
      const w = want instanceof Uint8Array ? bytesToHex(want) : String(want);
      if (g !== w && this.failures.length === before) this.failures.push({ case: name, message: `${what} differs from the vector` });
    };
    try {
      body(expect);
    } catch (e) {
      if (this.failures.length === before) {
        this.failures.push({ case: name, message: `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` });
      }
    }
  }
}

function verifyConcordat(v: ConcordatVectors, engines: readonly Engine[]): VectorReport {
  const suite = v.suite === CONCORDAT_V1_CONTEXT ? CONCORDAT_V1_SUITE : CONCORDAT_V2_SUITE;
  const c = new Checker();
  const G = encodePoint(Point.BASE);
  v.hashToGroup.forEach((t, i) => {
    for (const e of engines) c.run(`hashToGroup[${i}] (${e.name})`, (expect) => expect('element', e.hashToGroup(suite, [h(t.input)]), h(t.element)));
  });
  v.deriveKeyPair.forEach((t, i) => {
    c.run(`deriveKeyPair[${i}]`, (expect) => {
      const kp = deriveKeyPair(suite, h(t.seed), h(t.info));
      expect('sk', kp.sk, h(t.sk));
      expect('pk', kp.pk, h(t.pk));
    });
    for (const e of engines) c.run(`deriveKeyPair[${i}] pk (${e.name})`, (expect) => expect('pk', e.evaluate(h(t.sk), G), h(t.pk)));
  });
  v.evaluate.forEach((t, i) => {
    for (const e of engines) c.run(`evaluate[${i}] (${e.name})`, (expect) => expect('result', e.evaluate(h(t.sk), h(t.element)), h(t.result)));
  });
  v.token.forEach((t, i) => {
    c.run(`token[${i}]`, (expect) => {
      decodePoint('element', h(t.element));
      expect('token', tokenOfEncoded(suite, h(t.element)), h(t.token));
    });
  });
  v.pairs.forEach((t, i) => {
    c.run(`pairs[${i}] ${t.kind} canonical`, (expect) => {
      expect('canonical', canonicalize(t.kind, t.value), t.canonical);
      if (!isIdentifierKind(t.kind)) throw new Error(`unknown kind`);
      expect('input', identifierInput(t.kind, t.canonical), h(t.input));
    });
    for (const e of engines) {
      c.run(`pairs[${i}] ${t.kind} (${e.name})`, (expect) => {
        const bA = e.blind(suite, h(t.skA), [h(t.input)]);
        const bB = e.blind(suite, h(t.skB), [h(t.input)]);
        expect('blindedA', bA, h(t.blindedA));
        expect('blindedB', bB, h(t.blindedB));
        const ab = e.evaluate(h(t.skB), h(t.blindedA));
        expect('doubleAB', ab, h(t.doubleAB));
        expect('doubleBA', e.evaluate(h(t.skA), h(t.blindedB)), h(t.doubleAB));
        expect('token', e.tokenize(suite, h(t.skB), h(t.blindedA)), h(t.token));
        expect('token', tokenOfEncoded(suite, ab), h(t.token));
      });
    }
  });
  v.canonicalization.forEach((t, i) => {
    c.run(`canonicalization[${i}] ${t.kind}`, (expect) => {
      const opts = t.defaultCountry === undefined ? undefined : { defaultCountry: t.defaultCountry };
      if ('canonical' in t) {
        expect('canonical', canonicalize(t.kind, t.raw, opts), t.canonical);
        return;
      }
      try {
        canonicalize(t.kind, t.raw, opts);
        expect('error', 'accepted', t.error);
      } catch (e) {
        if (!(e instanceof IdentifierError)) throw e;
        expect('error', e.code, t.error);
      }
    });
  });
  const sk1 = deriveKeyPair(suite, new Uint8Array(32).fill(1), new Uint8Array(0)).sk;
  v.invalidElements.forEach((t, i) => {
    c.run(`invalidElements[${i}]`, (expect) => {
      let rejected = false;
      try {
        decodePoint('element', h(t));
      } catch {
        rejected = true;
      }
      expect('decodePoint rejects', rejected, true);
      for (const e of engines) {
        let engineRejected = false;
        try {
          e.evaluate(sk1, h(t));
        } catch {
          engineRejected = true;
        }
        expect(`${e.name} engine rejects`, engineRejected, true);
      }
    });
  });
  v.proofs.forEach((t, i) => {
    c.run(`proofs[${i}]`, (expect) => {
      const blinded = t.blinded.map(h);
      const evaluated = t.evaluated.map(h);
      expect('pk', deriveKeyPairPk(h(t.sk)), h(t.pk));
      expect('proof', generateProofWithR(suite, { sk: h(t.sk), blinded, evaluated }, h(t.proofRandomScalar)), h(t.proof));
      expect('verifyProof', verifyProof(suite, h(t.pk), blinded, evaluated, h(t.proof)), true);
    });
    for (const e of engines) {
      c.run(`proofs[${i}] evaluated (${e.name})`, (expect) =>
        expect('evaluated', e.evaluate(h(t.sk), concatBytes(...t.blinded.map(h))), concatBytes(...t.evaluated.map(h))),
      );
    }
  });
  return { format: v.suite === CONCORDAT_V1_CONTEXT ? 'concordat-v1' : 'concordat-v2-psi', cases: c.cases, failures: c.failures };
}

function deriveKeyPairPk(sk: Uint8Array): Uint8Array {
  return publicKey(decodeScalar('sk', sk));
}

function verifyRfc9497(v: Rfc9497Vectors, engines: readonly Engine[]): VectorReport {
  const c = new Checker();
  for (const m of v.modes) {
    const suite: Suite = makeSuite(rfc9497Context(m.mode));
    c.run(`${m.mode} DeriveKeyPair`, (expect) => {
      const kp = deriveKeyPair(suite, h(m.Seed), h(m.KeyInfo));
      expect('skSm', kp.sk, h(m.skSm));
      if (m.pkSm) expect('pkSm', kp.pk, h(m.pkSm));
    });
    for (const t of m.tests) {
      for (const e of engines) {
        c.run(`${m.mode} ${t.name} (${e.name})`, (expect) => {
          const info = t.Info !== undefined ? h(t.Info) : undefined;
          const key = m.mode === 'POPRF' && info ? invertScalar(tweakKey(suite, h(m.skSm), info)) : h(m.skSm);
          t.Input.forEach((inp, j) => {
            const blinded = e.blind(suite, h(t.Blind[j] ?? ''), [h(inp)]);
            expect(`BlindedElement[${j}]`, blinded, h(t.BlindedElement[j] ?? ''));
            const evaluated = e.evaluate(key, blinded);
            expect(`EvaluationElement[${j}]`, evaluated, h(t.EvaluationElement[j] ?? ''));
            const n = unblind(h(t.Blind[j] ?? ''), evaluated);
            const out = sha512(
              concatBytes(lengthPrefixed(h(inp)), ...(info ? [lengthPrefixed(info)] : []), lengthPrefixed(n), LABEL.finalize),
            );
            expect(`Output[${j}]`, out, h(t.Output[j] ?? ''));
          });
          if (t.Proof && t.ProofRandomScalar) {
            const blinded = t.BlindedElement.map(h);
            const evaluated = t.EvaluationElement.map(h);
            if (m.mode === 'POPRF' && info) {
              // RFC 9497 §3.3.3: the proof is over the tweaked key with C and D swapped.
              const tk = tweakKey(suite, h(m.skSm), info);
              const proof = generateProofWithR(suite, { sk: tk, blinded: evaluated, evaluated: blinded }, h(t.ProofRandomScalar));
              expect('Proof', proof, h(t.Proof));
            } else {
              const proof = generateProofWithR(suite, { sk: h(m.skSm), blinded, evaluated }, h(t.ProofRandomScalar));
              expect('Proof', proof, h(t.Proof));
              expect('VerifyProof', verifyProof(suite, h(m.pkSm ?? ''), blinded, evaluated, h(t.Proof)), true);
            }
          }
        });
      }
    }
  }
  return { format: 'rfc9497', cases: c.cases, failures: c.failures };
}

const DOCUMENT_SCHEMA: Record<DocumentType, z.ZodType> = {
  agreement: agreementTermsSchema,
  'epoch-key': epochKeyStatementSchema,
  chunk: chunkManifestSchema,
  query: queryStatementSchema,
  'tree-head': treeHeadSchema,
};

function verifyConcordatV2(v: ConcordatV2Vectors, engines: readonly Engine[]): VectorReport {
  const suite = CONCORDAT_V2_SUITE;
  const c = new Checker();
  const G = encodePoint(Point.BASE);
  v.canonical.forEach((t, i) => {
    c.run(`canonical[${i}]`, (expect) => {
      const value: unknown = JSON.parse(t.json);
      if ('canonical' in t) {
        expect('canonical', canonicalJson(value), h(t.canonical));
        return;
      }
      try {
        canonicalJson(value);
        expect('error', 'accepted', `${t.error.rule} at ${t.error.path}`);
      } catch (e) {
        if (!(e instanceof CanonicalJsonError)) throw e;
        expect('error', `${e.rule} at ${e.path}`, `${t.error.rule} at ${t.error.path}`);
      }
    });
  });
  v.ratchet.forEach((t, i) => {
    c.run(`ratchet[${i}]`, (expect) => expect('result', ratchetTo(h(t.secret), t.from, t.to), h(t.result)));
  });
  v.pairKeys.forEach((t, i) => {
    c.run(`pairKeys[${i}]`, (expect) => {
      expect('info', pairKeyInfo(suite, t.epoch, t.pair), h(t.info));
      const kp = pairKeyPair(suite, h(t.secret), t.epoch, t.pair);
      expect('sk', kp.sk, h(t.sk));
      expect('pk', kp.pk, h(t.pk));
    });
    for (const e of engines) c.run(`pairKeys[${i}] pk (${e.name})`, (expect) => expect('pk', e.evaluate(h(t.sk), G), h(t.pk)));
  });
  v.signed.forEach((t, i) => {
    c.run(`signed[${i}] ${t.type}`, (expect) => {
      const doc = DOCUMENT_SCHEMA[t.type].parse(t.document);
      expect('canonical', canonicalJson(doc), h(t.canonical));
      expect('signingInput', signingInput(t.type, doc), h(t.signingInput));
      const sk = h(t.secretKey);
      const pk = h(t.publicKey);
      expect('publicKey', signingPublicKey(sk), pk);
      expect('signature', signDocument(t.type, doc, sk), h(t.signature));
      expect('verifyDocument', verifyDocument(t.type, doc, pk, h(t.signature)), true);
      expect('fingerprint', fingerprint(pk), t.fingerprint);
      const elements = (t.elements ?? []).map((x, j) => {
        decodePoint(`elements[${j}]`, h(x));
        return h(x);
      });
      switch (t.type) {
        case 'agreement': {
          const terms = agreementTermsSchema.parse(doc);
          expect('canonicalAgreement', canonicalAgreement(terms), h(t.canonical));
          expect('digest', agreementDigest(terms), t.digest ?? '(missing)');
          expect('verifyAcceptance', verifyAcceptance(terms, t.signer, h(t.signature)), true);
          break;
        }
        case 'epoch-key': {
          const st = epochKeyStatementSchema.parse(doc);
          expect('signer', st.agency, t.signer);
          decodePoint('publicKey', h(st.publicKey));
          break;
        }
        case 'chunk': {
          const m = chunkManifestSchema.parse(doc);
          expect('signer', m.agency, t.signer);
          expect('count', String(m.count), String(elements.length));
          expect('sha256', chunkDigest(concatBytes(...elements)), m.sha256);
          break;
        }
        case 'query': {
          const q = queryStatementSchema.parse(doc);
          expect('signer', q.requester, t.signer);
          expect('count', String(q.count), String(elements.length));
          expect('valuesSha256', queryValuesDigest(elements), q.valuesSha256);
          break;
        }
      }
    });
  });
  v.hitEvidence.forEach((t, i) => {
    c.run(`hitEvidence[${i}]`, (expect) => {
      const ev = hitEvidenceWithR(suite, h(t.blind), h(t.evaluated), h(t.proofRandomScalar));
      expect('element', ev.element, h(t.element));
      expect('blindPublic', ev.blindPublic, h(t.blindPublic));
      expect('proof', ev.proof, h(t.proof));
      const given = { element: h(t.element), blindPublic: h(t.blindPublic), proof: h(t.proof) };
      expect('checkHitEvidence', checkHitEvidence(suite, h(t.evaluated), given).ok, true);
    });
    for (const e of engines) {
      c.run(`hitEvidence[${i}] (${e.name})`, (expect) => {
        expect('blinded', e.blind(suite, h(t.blind), [h(t.input)]), h(t.blinded));
        expect('evaluated', e.evaluate(h(t.responderSk), h(t.blinded)), h(t.evaluated));
        // §8.11: U is the responder's own blinded element of the input.
        expect('element', e.blind(suite, h(t.responderSk), [h(t.input)]), h(t.element));
        // The evidence built and checked on the engine itself, with the vector's proof scalar as the draw.
        const draw = (n: number): Uint8Array => {
          const out = new Uint8Array(n);
          out.set(h(t.proofRandomScalar));
          return out;
        };
        const ev = hitEvidenceOn(e, suite, h(t.blind), h(t.evaluated), draw);
        expect('element (engine)', ev.element, h(t.element));
        expect('blindPublic (engine)', ev.blindPublic, h(t.blindPublic));
        expect('proof (engine)', ev.proof, h(t.proof));
        const given = { element: h(t.element), blindPublic: h(t.blindPublic), proof: h(t.proof) };
        expect('checkHitEvidence (engine)', checkHitEvidence(suite, h(t.evaluated), given, (...a) => e.verifyProof(...a)).ok, true);
      });
    }
  });
  return { format: 'concordat-v2', cases: c.cases, failures: c.failures };
}

/** Check one parsed vector file against the given engines. */
export function verifyVectors(json: unknown, engines: readonly Engine[]): VectorReport {
  if (json && typeof json === 'object' && 'modes' in json) {
    const p = rfc9497VectorsSchema.safeParse(json);
    if (!p.success) return schemaFailure('rfc9497', p.error);
    return verifyRfc9497(p.data, engines);
  }
  if (json && typeof json === 'object' && 'tlog' in json) {
    // §9: the audit transparency log; no engine is involved.
    const p = concordatV2TlogVectorsSchema.safeParse(json);
    if (!p.success) return schemaFailure('concordat-v2-tlog', p.error);
    return { format: 'concordat-v2-tlog', ...verifyConcordatV2Tlog(p.data) };
  }
  if (json && typeof json === 'object' && 'signed' in json) {
    const p = concordatV2VectorsSchema.safeParse(json);
    if (!p.success) return schemaFailure('concordat-v2', p.error);
    return verifyConcordatV2(p.data, engines);
  }
  const p = concordatVectorsSchema.safeParse(json);
  if (!p.success) return schemaFailure('unknown', p.error);
  return verifyConcordat(p.data, engines);
}

function schemaFailure(format: VectorReport['format'], err: z.ZodError): VectorReport {
  return {
    format,
    cases: 1,
    failures: err.issues.slice(0, 10).map((i) => ({ case: i.path.join('.') || '(file)', message: i.message })),
  };
}
