// vectors/concordat-v1.json and vectors/concordat-v2.json through the one
// loader, against every engine available here (reference, fast, native), and
// the generators' determinism. The CLI's tamper detection is tested too.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { availableEngines, referenceEngine, type Engine } from '../protocol/engine/index.js';
import { verifyVectors } from '../protocol/vectors.js';
import { renderConcordatV2Vectors, renderConcordatVectors } from '../protocol/vectors-generate.js';
import { CanonicalJsonError } from '../protocol/canonical.js';
import { agreementTermsSchema, canonicalAgreement, parseAgreement, verifyAcceptance } from '../protocol/agreement.js';
import { bytesToHex, hexToBytes } from '../protocol/bytes.js';
import { CONCORDAT_V2_SUITE, hitEvidenceSuite } from '../protocol/constants.js';
import { generateProof, verifyProof } from '../protocol/dleq.js';
import { encodePoint, Point } from '../protocol/group.js';
import { checkHitEvidence } from '../protocol/hit-evidence.js';
import { randomBytes } from '../protocol/rng.js';
import { DocumentError, signingInput, verifyDocument } from '../protocol/signed.js';
import { renderConcordatV2PsiVectors } from '../protocol/vectors-generate.js';
import type { DocumentType } from '../protocol/constants.js';

const root = new URL('../', import.meta.url);
const file = (name: string): unknown => JSON.parse(readFileSync(new URL(`vectors/${name}`, root), 'utf8'));
const engines: Engine[] = await availableEngines();
const concordat = file('concordat-v1.json') as Record<string, unknown[]>;

describe('vectors/concordat-v1.json', () => {
  test('has the documented sections and at least 40 cases', () => {
    const sections = ['hashToGroup', 'deriveKeyPair', 'evaluate', 'token', 'pairs', 'canonicalization', 'invalidElements', 'proofs'];
    for (const s of sections) expect(Array.isArray(concordat[s]) && concordat[s]!.length > 0, s).toBe(true);
    expect(sections.reduce((n, s) => n + concordat[s]!.length, 0)).toBeGreaterThanOrEqual(40);
  });

  test('is exactly what the generator produces (re-runnable, deterministic)', () => {
    expect(renderConcordatVectors()).toBe(readFileSync(new URL('vectors/concordat-v1.json', root), 'utf8'));
  });

  test.each(engines.map((e) => ({ name: e.name, e })))('every case passes on the $name engine', ({ e }) => {
    const r = verifyVectors(concordat, [e]);
    expect(r.format).toBe('concordat-v1');
    expect(r.failures).toEqual([]);
    expect(r.cases).toBeGreaterThan(60);
  });

  test('RFC 9497 file passes on every engine through the same loader', () => {
    const r = verifyVectors(file('rfc9497-ristretto255-sha512.json'), engines);
    expect(r.format).toBe('rfc9497');
    expect(r.failures).toEqual([]);
  });

  test.each([
    ['hashToGroup', 3, 'element'],
    ['evaluate', 1, 'result'],
    ['token', 0, 'token'],
    ['pairs', 2, 'token'],
    ['proofs', 1, 'proof'],
    ['deriveKeyPair', 0, 'pk'],
  ] as const)('a tampered %s[%i].%s is reported by case name', (section, i, field) => {
    const copy = structuredClone(concordat) as Record<string, Array<Record<string, string>>>;
    const entry = copy[section]![i]!;
    const v = entry[field]!;
    entry[field] = (v.startsWith('0') ? '1' : '0') + v.slice(1);
    const r = verifyVectors(copy, engines);
    expect(r.failures.length).toBeGreaterThan(0);
    expect(r.failures.every((f) => f.case.startsWith(`${section}[${i}]`))).toBe(true);
  });

  test('a tampered canonicalization case is reported by case name: canonical value, error code, or dropped default country', () => {
    type Canon = { kind: string; raw: string; defaultCountry?: string; canonical?: string; error?: string };
    const cases = concordat.canonicalization as Canon[];
    const tampered = (edit: (t: Canon) => void, pick: (t: Canon) => boolean): string[] => {
      const copy = structuredClone(concordat) as { canonicalization: Canon[] };
      const i = cases.findIndex(pick);
      expect(i).toBeGreaterThanOrEqual(0);
      edit(copy.canonicalization[i]!);
      const r = verifyVectors(copy, engines);
      expect(r.failures.length).toBeGreaterThan(0);
      expect(r.failures.every((f) => f.case === `canonicalization[${i}] ${cases[i]!.kind}`)).toBe(true);
      return r.failures.map((f) => f.case);
    };
    // The punycode and the Unicode spelling of a domain have one canonical value.
    tampered((t) => (t.canonical = 'hans@bücher.de'), (t) => t.raw === 'hans@bücher.de');
    // The 15-digit form is no canonical value any more: the body is.
    tampered((t) => (t.canonical = '490154203237510'), (t) => t.raw === '490154203237510');
    tampered((t) => (t.error = 'iban.checksum'), (t) => t.error === 'iban.bban');
    tampered((t) => delete t.defaultCountry, (t) => t.raw === '089/3072904');
  });

  test('a valid element slipped into invalidElements is reported', () => {
    const copy = structuredClone(concordat) as { invalidElements: string[]; token: Array<{ element: string }> };
    copy.invalidElements.push(copy.token[0]!.element);
    const r = verifyVectors(copy, engines);
    expect(r.failures.map((f) => f.case)).toEqual([`invalidElements[${copy.invalidElements.length - 1}]`]);
  });

  test('a file that is not a vector file fails with the offending path', () => {
    const r = verifyVectors({ suite: 'something-else' }, engines);
    expect(r.failures.length).toBeGreaterThan(0);
    expect(r.failures[0]!.case).toBe('suite');
  });
});

type HitCase = { input: string; responderSk: string; blind: string; blinded: string; evaluated: string; element: string; blindPublic: string; proof: string };

describe('hit evidence (protocol/SPEC.md §8.11) beside its vectors', () => {
  const cases = (file('concordat-v2.json') as { hitEvidence: HitCase[] }).hitEvidence;
  const [a, b] = cases as [HitCase, HitCase];
  const given = (t: HitCase, over: Partial<Record<'element' | 'blindPublic' | 'proof', string>> = {}) => ({
    element: hexToBytes(over.element ?? t.element),
    blindPublic: hexToBytes(over.blindPublic ?? t.blindPublic),
    proof: hexToBytes(over.proof ?? t.proof),
  });
  const checkOn = (e: Engine | undefined, t: HitCase, evaluated: string, over: Partial<Record<'element' | 'blindPublic' | 'proof', string>> = {}) =>
    checkHitEvidence(CONCORDAT_V2_SUITE, hexToBytes(evaluated), given(t, over), e ? (...x) => e.verifyProof(...x) : undefined);
  const check = (t: HitCase, evaluated: string, over: Partial<Record<'element' | 'blindPublic' | 'proof', string>> = {}) => checkOn(undefined, t, evaluated, over);
  const flip = (x: string, at = 2) => x.slice(0, at) + (x[at] === '0' ? '1' : '0') + x.slice(at + 1);

  test('the vectors hold', () => {
    for (const t of cases) expect(check(t, t.evaluated)).toEqual({ ok: true });
  });

  test('a flipped proof, another value’s element or blind, or another value’s answer do not verify', () => {
    expect(check(a, a.evaluated, { proof: flip(a.proof) })).toEqual({ ok: false, field: 'proof', reason: 'proof' });
    expect(check(a, a.evaluated, { element: b.element })).toEqual({ ok: false, field: 'proof', reason: 'proof' });
    expect(check(a, a.evaluated, { blindPublic: b.blindPublic })).toEqual({ ok: false, field: 'proof', reason: 'proof' });
    expect(check(a, b.evaluated)).toEqual({ ok: false, field: 'proof', reason: 'proof' });
  });

  test('the proof is bound to its label: under the query proofs’ suite it does not verify, and a query proof is no evidence', () => {
    const t = given(a);
    expect(verifyProof(CONCORDAT_V2_SUITE, t.blindPublic, [t.element], [hexToBytes(a.evaluated)], t.proof)).toBe(false);
    expect(verifyProof(hitEvidenceSuite(CONCORDAT_V2_SUITE), t.blindPublic, [t.element], [hexToBytes(a.evaluated)], t.proof)).toBe(true);
    // The responder's own query proof: log_G(K) = log_R(E), the same shape with U = R and P = K.
    const K = referenceEngine.evaluate(hexToBytes(a.responderSk), encodePoint(Point.BASE));
    const queryProof = generateProof(CONCORDAT_V2_SUITE, { sk: hexToBytes(a.responderSk), blinded: [hexToBytes(a.blinded)], evaluated: [hexToBytes(a.evaluated)] }, randomBytes);
    expect(check(a, a.evaluated, { element: a.blinded, blindPublic: bytesToHex(K), proof: bytesToHex(queryProof) })).toEqual({ ok: false, field: 'proof', reason: 'proof' });
  });

  // The coordinator checks evidence on its own engine (native libsodium where it loads): every engine gives the reference's verdicts.
  test.each([{ name: 'default', e: undefined as Engine | undefined }, ...engines.map((e) => ({ name: e.name, e }))])(
    'malformed members are refused under their own name, never as a proof ($name verifier)',
    ({ e }) => {
      const on = (t: HitCase, ev: string, over: Partial<Record<'element' | 'blindPublic' | 'proof', string>> = {}) => checkOn(e, t, ev, over);
      expect(on(a, a.evaluated)).toEqual({ ok: true });
      expect(on(a, a.evaluated, { element: '00'.repeat(32) })).toEqual({ ok: false, field: 'element', reason: 'identity' });
      expect(on(a, a.evaluated, { element: 'ff'.repeat(32) })).toMatchObject({ ok: false, field: 'element' });
      expect(on(a, a.evaluated, { element: '00'.repeat(32), blindPublic: '00'.repeat(32) })).toEqual({ ok: false, field: 'element', reason: 'identity' });
      expect(on(a, a.evaluated, { blindPublic: '00'.repeat(32) })).toEqual({ ok: false, field: 'blindPublic', reason: 'identity' });
      expect(on(a, a.evaluated, { blindPublic: 'ab'.repeat(31) })).toEqual({ ok: false, field: 'blindPublic', reason: 'length' });
      expect(on(a, a.evaluated, { proof: 'ab'.repeat(63) })).toEqual({ ok: false, field: 'proof', reason: 'length' });
      expect(on(a, a.evaluated, { proof: 'ff'.repeat(64) })).toEqual({ ok: false, field: 'proof', reason: 'out-of-range' });
      expect(on(a, a.evaluated, { proof: flip(a.proof) })).toEqual({ ok: false, field: 'proof', reason: 'proof' });
      expect(on(a, b.evaluated)).toEqual({ ok: false, field: 'proof', reason: 'proof' });
    },
  );
});

type SignedCase = {
  name: string;
  type: DocumentType;
  signer: string;
  document: Record<string, unknown>;
  canonical: string;
  signingInput: string;
  publicKey: string;
  signature: string;
  fingerprint: string;
};
const v2 = file('concordat-v2.json') as { suite: string; signed: SignedCase[] } & Record<string, unknown[]>;

describe('vectors/concordat-v2.json', () => {
  const sections = ['canonical', 'ratchet', 'pairKeys', 'signed', 'hitEvidence'];
  test('has the documented sections, every document type, and at least 30 cases', () => {
    expect(v2.suite).toBe('CONCORDAT-V2-ristretto255-SHA512');
    for (const s of sections) expect(Array.isArray(v2[s]) && v2[s]!.length > 0, s).toBe(true);
    expect(sections.reduce((n, s) => n + v2[s]!.length, 0)).toBeGreaterThanOrEqual(30);
    expect(new Set(v2.signed.map((s) => s.type))).toEqual(new Set(['agreement', 'epoch-key', 'chunk', 'query']));
    expect((v2.canonical as Array<Record<string, unknown>>).some((c) => 'error' in c)).toBe(true);
  });

  test('is exactly what the generator produces (re-runnable, deterministic)', () => {
    expect(renderConcordatV2Vectors()).toBe(readFileSync(new URL('vectors/concordat-v2.json', root), 'utf8'));
  });

  test('every case passes on every engine', () => {
    const r = verifyVectors(v2, engines);
    expect(r.format).toBe('concordat-v2');
    expect(r.failures).toEqual([]);
    expect(r.cases).toBeGreaterThanOrEqual(30);
  });

  test.each([
    ['canonical', 0, 'canonical'],
    ['canonical', 8, 'json'],
    ['ratchet', 3, 'result'],
    ['pairKeys', 1, 'pk'],
    ['signed', 0, 'signature'],
    ['signed', 4, 'signingInput'],
    ['signed', 5, 'fingerprint'],
    ['hitEvidence', 0, 'proof'],
    ['hitEvidence', 1, 'element'],
    ['hitEvidence', 1, 'evaluated'],
  ] as const)('a tampered %s[%i].%s is reported by case name', (section, i, field) => {
    const copy = structuredClone(v2) as unknown as Record<string, Array<Record<string, unknown>>>;
    const entry = copy[section]![i]!;
    const v = String(entry[field]);
    // Flip one hex digit, or make a refused JSON input acceptable.
    entry[field] = field === 'json' ? '{"n":0}' : (v.startsWith('0') ? '1' : '0') + v.slice(1);
    const r = verifyVectors(copy, engines);
    expect(r.failures.length).toBeGreaterThan(0);
    expect(r.failures.every((f) => f.case.startsWith(`${section}[${i}]`))).toBe(true);
  });

  test.each(v2.signed)('$name: tampered, mislabelled or wrongly keyed, it does not verify', (s) => {
    const pk = hexToBytes(s.publicKey);
    const sig = hexToBytes(s.signature);
    expect(verifyDocument(s.type, s.document, pk, sig)).toBe(true);
    // A tampered document: every top-level field changed in turn.
    for (const key of Object.keys(s.document)) {
      const doc = structuredClone(s.document);
      const value = doc[key];
      doc[key] = typeof value === 'number' ? value + 1 : typeof value === 'string' ? `${value}x` : null;
      expect(verifyDocument(s.type, doc, pk, sig), key).toBe(false);
    }
    // The same document under another type label.
    for (const other of ['agreement', 'epoch-key', 'chunk', 'query'] as const) {
      if (other !== s.type) expect(verifyDocument(other, s.document, pk, sig)).toBe(false);
    }
    // Another key: the other signer's.
    const otherKey = v2.signed.find((o) => o.signer !== s.signer)!.publicKey;
    expect(verifyDocument(s.type, s.document, hexToBytes(otherKey), sig)).toBe(false);
    // The signing input names the type between NUL bytes.
    expect(Buffer.from(signingInput(s.type, s.document)).toString('hex')).toBe(s.signingInput);
  });

  test('an acceptance is bound to the signer named in the terms', () => {
    const [es, pt] = v2.signed.filter((s) => s.type === 'agreement');
    const terms = agreementTermsSchema.parse(es!.document);
    expect(verifyAcceptance(terms, 'ES-MIR', hexToBytes(es!.signature))).toBe(true);
    expect(verifyAcceptance(terms, 'PT-PJ', hexToBytes(pt!.signature))).toBe(true);
    expect(verifyAcceptance(terms, 'PT-PJ', hexToBytes(es!.signature))).toBe(false);
  });

  test('non-canonical input is refused, not signed: a float, unsorted parties, an unknown key', () => {
    const s = v2.signed.find((x) => x.type === 'chunk')!;
    expect(() => verifyDocument('chunk', { ...s.document, count: 3.5 }, hexToBytes(s.publicKey), hexToBytes(s.signature))).toThrow(CanonicalJsonError);
    const terms = v2.signed.find((x) => x.type === 'agreement')!.document as { parties: unknown[] };
    expect(() => canonicalAgreement({ ...terms, parties: [...terms.parties].reverse() } as never)).toThrow(DocumentError);
    expect(() => parseAgreement({ ...terms, note: 'x' })).toThrow(DocumentError);
    expect(Buffer.from(canonicalAgreement(parseAgreement(terms))).toString('hex')).toBe(v2.signed.find((x) => x.type === 'agreement')!.canonical);
  });

  test('a v2 file with an unknown section fails with the offending path', () => {
    const r = verifyVectors({ ...v2, extra: [] }, engines);
    expect(r.format).toBe('concordat-v2');
    expect(r.failures.length).toBeGreaterThan(0);
  });
});

describe('concordat vectors verify (CLI)', () => {
  const bin = new URL('bin/concordat.js', root).pathname;

  test('passes on the shipped files with a summary line last', () => {
    const out = execFileSync(bin, ['vectors', 'verify'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('ok ')).length).toBe(5);
    expect(lines.some((l) => l.includes('concordat-v2-tlog.json') && l.includes('concordat-v2-tlog'))).toBe(true);
    expect(lines.some((l) => l.includes('concordat-v2.json') && l.includes('concordat-v2'))).toBe(true);
    expect(lines.some((l) => l.includes('concordat-v2-psi.json') && l.includes('concordat-v2-psi'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  test('a tampered copy fails, naming the case, with a non-zero exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vectors-'));
    const copy = structuredClone(concordat) as { evaluate: Array<{ result: string }> };
    copy.evaluate[2]!.result = copy.evaluate[2]!.result.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    const path = join(dir, 'tampered.json');
    writeFileSync(path, JSON.stringify(copy));
    const r = spawnSync(bin, ['vectors', 'verify', path], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('evaluate[2]');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, [1-9]\d* failed$/);
  });
});

describe('vectors/concordat-v2-psi.json (the core constructions under the v2 context string)', () => {
  const psi = file('concordat-v2-psi.json') as Record<string, unknown>;

  test('is exactly what the generator produces', () => {
    expect(renderConcordatV2PsiVectors()).toBe(readFileSync(new URL('vectors/concordat-v2-psi.json', root), 'utf8'));
  });

  test.each(engines.map((e) => ({ name: e.name, e })))('every case passes on the $name engine', ({ e }) => {
    const r = verifyVectors(psi, [e]);
    expect(r.format).toBe('concordat-v2-psi');
    expect(r.failures).toEqual([]);
    expect(r.cases).toBeGreaterThan(60);
  });

  test('no element or token equals its v1 counterpart (the context string separates the versions)', () => {
    const v1 = concordat as unknown as { hashToGroup: Array<{ element: string }>; pairs: Array<{ token: string }> };
    const v2 = psi as unknown as typeof v1;
    v2.hashToGroup.forEach((t, i) => expect(t.element).not.toBe(v1.hashToGroup[i]?.element));
    v2.pairs.forEach((t, i) => expect(t.token).not.toBe(v1.pairs[i]?.token));
  });

  test('a v1 file relabelled as v2 fails', () => {
    const copy = structuredClone(concordat) as Record<string, unknown>;
    copy.suite = 'CONCORDAT-V2-ristretto255-SHA512';
    const r = verifyVectors(copy, engines);
    expect(r.failures.length).toBeGreaterThan(0);
  });
});

describe('vectors/concordat-v2-tlog.json (the audit transparency log, protocol/SPEC.md §9)', () => {
  const tlog = file('concordat-v2-tlog.json') as any;

  test('every case verifies through the one loader, and the generator reproduces the file', async () => {
    const { renderConcordatV2TlogVectors } = await import('../protocol/vectors-tlog.js');
    const report = verifyVectors(tlog, engines);
    expect(report.format).toBe('concordat-v2-tlog');
    expect(report.failures).toEqual([]);
    expect(report.cases).toBeGreaterThan(30);
    expect(renderConcordatV2TlogVectors()).toBe(readFileSync(new URL('vectors/concordat-v2-tlog.json', root), 'utf8'));
  });

  test('the loader notices an edited root, proof or leaf', () => {
    const edited = JSON.parse(JSON.stringify(tlog));
    edited.inclusion[2].proof[0] = edited.inclusion[2].proof[0].replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
    edited.leaves[3].entry.detail.officer = 'someone-else';
    const r = verifyVectors(edited, engines);
    expect(r.failures.map((f) => f.case)).toEqual(expect.arrayContaining(['inclusion[2]', 'leaves[3]']));
  });

  test('proofs fail with a wrong sibling, a wrong size or index, swapped order, an extra or a missing hash', async () => {
    const { verifyInclusion, verifyConsistency } = await import('../protocol/tlog.js');
    const h = (x: string) => hexToBytes(x);
    const roots = new Map<number, Uint8Array>(tlog.roots.map((r: any) => [r.size, h(r.root)]));
    const leaf = (i: number) => h(tlog.leaves[i].leafHash);
    const inc = tlog.inclusion.find((t: any) => t.index === 3 && t.size === 7);
    const proof: Uint8Array[] = inc.proof.map(h);
    const root7 = roots.get(7) as Uint8Array;
    expect(verifyInclusion(leaf(3), 3, 7, proof, root7)).toBe(true);
    const wrongSibling = proof.map((p, i) => (i === 0 ? leaf(5) : p));
    expect(verifyInclusion(leaf(3), 3, 7, wrongSibling, root7)).toBe(false);
    expect(verifyInclusion(leaf(3), 3, 6, proof, roots.get(6) as Uint8Array)).toBe(false);
    // (Sizes 7 and 8 give leaf 3 paths of one shape: the signed head, not the path, binds a root to its size.)
    expect(verifyInclusion(leaf(3), 3, 4, proof, root7)).toBe(false);
    expect(verifyInclusion(leaf(3), 2, 7, proof, root7)).toBe(false);
    expect(verifyInclusion(leaf(2), 3, 7, proof, root7)).toBe(false);
    expect(verifyInclusion(leaf(3), 3, 7, [...proof].reverse(), root7)).toBe(false);
    expect(verifyInclusion(leaf(3), 3, 7, [...proof, leaf(0)], root7)).toBe(false);
    expect(verifyInclusion(leaf(3), 3, 7, proof.slice(0, -1), root7)).toBe(false);
    expect(verifyInclusion(leaf(3), 7, 7, proof, root7)).toBe(false);
    const cons = tlog.consistency.find((t: any) => t.from === 3 && t.to === 7);
    const cp: Uint8Array[] = cons.proof.map(h);
    const root3 = roots.get(3) as Uint8Array;
    expect(verifyConsistency(3, 7, root3, root7, cp)).toBe(true);
    expect(verifyConsistency(3, 7, root3, root7, cp.map((p, i) => (i === 1 ? leaf(0) : p)))).toBe(false);
    expect(verifyConsistency(3, 6, root3, roots.get(6) as Uint8Array, cp)).toBe(false);
    expect(verifyConsistency(4, 7, roots.get(4) as Uint8Array, root7, cp)).toBe(false);
    expect(verifyConsistency(3, 7, root3, root7, [...cp].reverse())).toBe(false);
    expect(verifyConsistency(3, 7, root3, root7, cp.slice(1))).toBe(false);
    expect(verifyConsistency(3, 7, roots.get(2) as Uint8Array, root7, cp)).toBe(false);
    expect(verifyConsistency(7, 3, root7, root3, cp)).toBe(false);
    // The trivial cases take the empty proof only, and a tree extends itself only with its own root.
    expect(verifyConsistency(7, 7, root7, root7, [])).toBe(true);
    expect(verifyConsistency(7, 7, root7, root3, [])).toBe(false);
    expect(verifyConsistency(7, 7, root7, root7, [leaf(0)])).toBe(false);
    expect(verifyConsistency(0, 7, roots.get(0) as Uint8Array, root7, [])).toBe(true);
    expect(verifyConsistency(0, 7, root3, root7, [])).toBe(false);
  });

  test('a head fails under another key, as another log, or with any member changed', async () => {
    const { verifyTreeHead } = await import('../protocol/tlog.js');
    const [a, b] = tlog.heads;
    const pk = hexToBytes(a.logPublicKey);
    expect(verifyTreeHead(a.head, hexToBytes(a.signature), pk)).toBe(true);
    for (const change of [{ size: a.head.size + 1 }, { root: b.head.root }, { at: b.head.at }, { log: '00'.repeat(32) }]) {
      expect(verifyTreeHead({ ...a.head, ...change }, hexToBytes(a.signature), pk)).toBe(false);
    }
    expect(verifyTreeHead(a.head, hexToBytes(b.signature), pk)).toBe(false);
    expect(verifyTreeHead(a.head, hexToBytes(a.signature), hexToBytes(bytesToHex(randomBytes(32))))).toBe(false);
    expect(() => verifyTreeHead({ ...a.head, extra: 1 }, hexToBytes(a.signature), pk)).toThrow(DocumentError);
  });
});
