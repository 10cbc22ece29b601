// Concordat PSI v2 pieces (protocol/SPEC.md §8): canonical JSON, signed
// documents, agreements, the ratchet, pair keys, and every refusal of the
// epoch-key, chunk and query checks.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, test } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_V1_SUITE, CONCORDAT_V2_SUITE, V2_DOCUMENT_TYPE } from '../protocol/constants.js';
import { referenceEngine } from '../protocol/engine/index.js';
import {
  acceptAgreement,
  agreementDigest,
  agreementRef,
  canonicalAgreement,
  isActiveOn,
  isCalendarDate,
  pairIdOf,
  parseAgreement,
  verifyAcceptance,
  type AgreementTerms,
} from '../protocol/agreement.js';
import { CanonicalJsonError, canonicalJson, canonicalJsonText } from '../protocol/canonical.js';
import { checkEpochKey, signEpochKey, verifyEpochKey, type EpochKeyStatement } from '../protocol/epoch-key.js';
import { checkChunk, chunkManifest, signChunk, verifyChunk, type ChunkExpectation, type ChunkManifest } from '../protocol/manifest.js';
import { pairKeyInfo, pairKeyPair } from '../protocol/pair-key.js';
import { epochId, epochNumber, MAX_EPOCH_NUMBER, nextEpochSecret, ratchetTo } from '../protocol/ratchet.js';
import { DocumentError, fingerprint, signDocument, signingInput, signingPublicKey, verifyDocument } from '../protocol/signed.js';
import {
  checkQuery,
  parseTimestamp,
  queryValuesDigest,
  signQuery,
  verifyQuery,
  type QueryCheckContext,
  type QueryStatement,
} from '../protocol/signed-query.js';
import { DecodeError } from '../protocol/errors.js';

const fixed = (label: string, n = 32): Uint8Array => sha512(utf8(`protocol-v2-test:${label}`)).slice(0, n);
const skES = fixed('ES-MIR signing');
const skPT = fixed('PT-PJ signing');
const skXX = fixed('someone else');
const pkES = signingPublicKey(skES);
const pkPT = signingPublicKey(skPT);
const pkXX = signingPublicKey(skXX);

const terms: AgreementTerms = {
  id: 'es-pt-fraud',
  version: 3,
  parties: [
    { agency: 'ES-MIR', signingKey: bytesToHex(pkES) },
    { agency: 'PT-PJ', signingKey: bytesToHex(pkPT) },
  ],
  kinds: ['email', 'passport'],
  mode: 'reveal',
  purposes: ['fraud', 'organised-crime'],
  validFrom: '2026-01-01',
  validUntil: '2026-12-31',
  maxSetSize: 1_000_000,
  queryQuota: { perDay: 50, maxValues: 10 },
  legalBasis: 'Bilateral treaty, art. 7.',
};

function refusalOf<T extends { ok: boolean }>(r: T): string {
  return r.ok ? 'ok' : (r as unknown as { reason: string }).reason;
}

describe('canonical JSON (RFC 8785, §8.2)', () => {
  test('sorts keys by UTF-16 code units, recursively, with JCS string escapes', () => {
    expect(canonicalJsonText({ b: 1, a: [true, null, { d: 'x', c: -5 }], '\u20ac': 0, '\ud83d\ude00': 1, '\ufb33': 2 })).toBe(
      '{"a":[true,null,{"c":-5,"d":"x"}],"b":1,"\u20ac":0,"\ud83d\ude00":1,"\ufb33":2}',
    );
    expect(canonicalJsonText('a"b\\c\n\u0001\u2028/')).toBe('"a\\"b\\\\c\\n\\u0001\u2028/"');
    expect(bytesToHex(canonicalJson({ é: 'é' }))).toBe('7b22c3a9223a22c3a9227d');
    expect(canonicalJsonText([Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0])).toBe('[9007199254740991,-9007199254740991,0]');
  });

  class Thing {
    x = 1;
  }
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  const cyclic: Record<string, unknown> = { a: {} };
  (cyclic.a as Record<string, unknown>).self = cyclic;
  test.each([
    ['a float', { parties: [{ agency: 'A' }, { agency: 1.5 }] }, 'parties[1].agency', 'not-integer'],
    ['NaN', { n: NaN }, 'n', 'not-integer'],
    ['Infinity', [Infinity], '[0]', 'not-integer'],
    ['an unsafe integer', { big: 2 ** 53 }, 'big', 'unsafe-integer'],
    ['-0', { z: -0 }, 'z', 'negative-zero'],
    ['undefined in an object', { u: undefined }, 'u', 'undefined'],
    ['undefined in an array', [1, undefined], '[1]', 'undefined'],
    ['a bigint', { b: 1n }, 'b', 'bigint'],
    ['a Date', { when: new Date(0) }, 'when', 'non-plain-object'],
    ['a Map', new Map(), '', 'non-plain-object'],
    ['a class instance', { t: new Thing() }, 't', 'non-plain-object'],
    ['a function', { f: () => 1 }, 'f', 'type'],
    ['a symbol value', { s: Symbol('s') }, 's', 'type'],
    ['a symbol key', { [Symbol('k')]: 1 }, '', 'symbol-key'],
    ['a sparse array', { list: sparse }, 'list[1]', 'sparse-array'],
    ['a cycle', cyclic, 'a.self', 'cycle'],
    ['a lone surrogate', { s: 'ok\ud800' }, 's', 'lone-surrogate'],
    ['a lone surrogate in a key', { x: { '\udc00': 1 } }, 'x["\\udc00"]', 'lone-surrogate'],
    ['a float under an odd key', { 'a b': [0, 0.1] }, '["a b"][1]', 'not-integer'],
    ['a getter', { o: Object.defineProperty({}, 'g', { get: () => 1, enumerable: true }) }, 'o.g', 'non-plain-object'],
  ])('refuses %s, naming the path', (_name, value, path, rule) => {
    let err: unknown;
    try {
      canonicalJson(value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CanonicalJsonError);
    expect((err as CanonicalJsonError).path).toBe(path);
    expect((err as CanonicalJsonError).rule).toBe(rule);
  });
});

describe('signed documents (§8.3)', () => {
  const doc = { hello: 'world', n: 1 };
  test('signing input layout', () => {
    expect(bytesToHex(signingInput('chunk', doc))).toBe(
      bytesToHex(concatBytes(utf8('CONCORDAT-V2-ristretto255-SHA512'), new Uint8Array([0]), utf8('chunk'), new Uint8Array([0]), utf8('{"hello":"world","n":1}'))),
    );
  });

  test('signatures are deterministic and verify; any change makes them fail', () => {
    const sig = signDocument('query', doc, skES);
    expect(sig.length).toBe(64);
    expect(bytesToHex(signDocument('query', doc, skES))).toBe(bytesToHex(sig));
    expect(verifyDocument('query', doc, pkES, sig)).toBe(true);
    // Key order does not matter: the canonical form is signed.
    expect(verifyDocument('query', { n: 1, hello: 'world' }, pkES, sig)).toBe(true);
    expect(verifyDocument('query', { ...doc, n: 2 }, pkES, sig)).toBe(false);
    expect(verifyDocument('chunk', doc, pkES, sig)).toBe(false);
    expect(verifyDocument('query', doc, pkPT, sig)).toBe(false);
    const bad = sig.slice();
    bad[10]! ^= 1;
    expect(verifyDocument('query', doc, pkES, bad)).toBe(false);
  });

  test('malformed lengths and non-canonical documents are errors, never true', () => {
    const sig = signDocument('query', doc, skES);
    expect(() => verifyDocument('query', doc, pkES.subarray(0, 31), sig)).toThrow(DecodeError);
    expect(() => verifyDocument('query', doc, pkES, sig.subarray(0, 63))).toThrow(DecodeError);
    expect(() => signDocument('query', doc, skES.subarray(1))).toThrow(DecodeError);
    expect(() => verifyDocument('query', { x: 0.5 }, pkES, sig)).toThrow(CanonicalJsonError);
    expect(() => signingInput('nonsense' as 'query', doc)).toThrow(DocumentError);
  });

  test('small-order and non-canonical public keys never verify', () => {
    const sig = signDocument('query', doc, skES);
    const identity = hexToBytes('0100000000000000000000000000000000000000000000000000000000000000');
    expect(verifyDocument('query', doc, identity, sig)).toBe(false);
    // y = p (non-canonical encoding of 0)
    const nonCanonical = hexToBytes('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    expect(verifyDocument('query', doc, nonCanonical, sig)).toBe(false);
  });

  // On Node OpenSSL checks first and the portable code decides what it refuses: the verdicts are the portable ones.
  test('edge-case signatures get the portable strict verdict on Node: non-canonical S refused, a torsion R as @noble/curves decides', () => {
    const msg = signingInput('query', doc);
    const strict = (sig: Uint8Array): boolean => ed25519.verify(sig, msg, pkES, { zip215: false });
    const L = ed25519.Point.Fn.ORDER;
    const le = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
    const fromLe = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
    const good = signDocument('query', doc, skES);
    // S + ℓ: the same point equation, a non-canonical scalar.
    const sPlusL = concatBytes(good.subarray(0, 32), le(fromLe(good.subarray(32)) + L));
    // R = r·B + T with T of order 8: valid only under the cofactored equation.
    const T = ed25519.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
    expect(T.multiplyUnsafe(8n).is0()).toBe(true);
    const a = ed25519.utils.getExtendedPublicKey(skES).scalar;
    const r = 123456789n;
    const R = ed25519.Point.BASE.multiply(r).add(T).toBytes();
    const k = fromLe(sha512(concatBytes(R, pkES, msg))) % L;
    const torsionR = concatBytes(R, le((r + k * a) % L));
    for (const sig of [good, sPlusL, torsionR]) expect(verifyDocument('query', doc, pkES, sig)).toBe(strict(sig));
    expect(verifyDocument('query', doc, pkES, sPlusL)).toBe(false);
  });

  test('fingerprint: 8 groups of 4 lower-case hex digits', () => {
    const f = fingerprint(pkES);
    expect(f).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){7}$/);
    expect(f).not.toBe(fingerprint(pkPT));
    expect(() => fingerprint(pkES.subarray(0, 16))).toThrow(DecodeError);
  });
});

describe('agreement terms (§8.6)', () => {
  test('valid terms parse; digest and canonical bytes are stable', () => {
    expect(parseAgreement(terms)).toEqual(terms);
    expect(agreementDigest(terms)).toMatch(/^[0-9a-f]{64}$/);
    expect(new TextDecoder().decode(canonicalAgreement(terms))).toMatch(/^\{"id":"es-pt-fraud","kinds":\["email","passport"\],"legalBasis":/);
  });

  test.each([
    ['unsorted parties', { parties: [...terms.parties].reverse() }, 'parties[1]'],
    ['one party', { parties: terms.parties.slice(0, 1) }, 'parties'],
    ['duplicate kinds', { kinds: ['email', 'email'] }, 'kinds[1]'],
    ['no kinds', { kinds: [] }, 'kinds'],
    ['unsorted purposes', { purposes: ['z', 'a'] }, 'purposes[1]'],
    ['an unknown key', { extra: 1 }, 'extra'],
    ['an unknown key in a party', { parties: [{ ...terms.parties[0]!, note: 'x' }, terms.parties[1]] }, 'parties[0].note'],
    ['"~" in an agency', { parties: [{ ...terms.parties[0]!, agency: 'ES~MIR' }, terms.parties[1]] }, 'parties[0].agency'],
    ['"~" in the id', { id: 'es~pt' }, 'id'],
    ['a lone surrogate in the legal basis', { legalBasis: 'art. 7\ud800' }, 'legalBasis'],
    ['a control character in a kind', { kinds: ['e\nmail'] }, 'kinds[0]'],
    ['upper-case hex', { parties: [{ agency: 'ES-MIR', signingKey: bytesToHex(pkES).toUpperCase() }, terms.parties[1]] }, 'parties[0].signingKey'],
    ['the same key twice', { parties: [terms.parties[0], { agency: 'PT-PJ', signingKey: bytesToHex(pkES) }] }, 'parties[1].signingKey'],
    ['version 0', { version: 0 }, 'version'],
    ['an impossible date', { validFrom: '2026-02-30' }, 'validFrom'],
    ['validUntil before validFrom', { validUntil: '2025-12-31' }, 'validUntil'],
    ['maxValues 101', { queryQuota: { perDay: 1, maxValues: 101 } }, 'queryQuota.maxValues'],
    ['a fractional quota', { queryQuota: { perDay: 1.5, maxValues: 1 } }, 'queryQuota.perDay'],
    ['mode "both"', { mode: 'both' }, 'mode'],
    ['an empty legal basis', { legalBasis: '' }, 'legalBasis'],
    ['a legal basis of 1001 characters', { legalBasis: 'x'.repeat(1001) }, 'legalBasis'],
  ])('refuses %s, naming the field', (_name, change, field) => {
    let err: unknown;
    try {
      parseAgreement({ ...terms, ...change });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DocumentError);
    expect((err as DocumentError).field).toBe(field);
  });

  test('acceptance: each party signs with the key the terms list for it', () => {
    const sigES = acceptAgreement(terms, 'ES-MIR', skES);
    const sigPT = acceptAgreement(terms, 'PT-PJ', skPT);
    expect(verifyAcceptance(terms, 'ES-MIR', sigES)).toBe(true);
    expect(verifyAcceptance(terms, 'PT-PJ', sigPT)).toBe(true);
    expect(verifyAcceptance(terms, 'PT-PJ', sigES)).toBe(false);
    expect(verifyAcceptance(terms, 'FR-DGSI', sigES)).toBe(false);
    expect(verifyAcceptance({ ...terms, version: 4 }, 'ES-MIR', sigES)).toBe(false);
    expect(verifyAcceptance({ ...terms, maxSetSize: 2_000_000 }, 'ES-MIR', sigES)).toBe(false);
    expect(() => acceptAgreement(terms, 'ES-MIR', skPT)).toThrow(DocumentError);
    expect(() => acceptAgreement(terms, 'FR-DGSI', skXX)).toThrow(DocumentError);
    expect(verifyDocument(V2_DOCUMENT_TYPE.agreement, terms, pkES, sigES)).toBe(true);
  });

  test('isActiveOn: both ends inclusive; real dates only', () => {
    expect(isActiveOn(terms, '2025-12-31')).toBe(false);
    expect(isActiveOn(terms, '2026-01-01')).toBe(true);
    expect(isActiveOn(terms, '2026-12-31')).toBe(true);
    expect(isActiveOn(terms, '2027-01-01')).toBe(false);
    expect(() => isActiveOn(terms, '2026-13-01')).toThrow(DocumentError);
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2100-02-29')).toBe(false);
  });
});

describe('ratchet (§8.4)', () => {
  test('epoch names are strict', () => {
    expect(epochNumber('e1')).toBe(1);
    expect(epochNumber('e7')).toBe(7);
    expect(epochNumber(`e${MAX_EPOCH_NUMBER}`)).toBe(MAX_EPOCH_NUMBER);
    for (const bad of ['e0', 'e01', 'E1', 'e', 'e-1', 'e1.0', ' e1', 'e1 ', '1', `e${MAX_EPOCH_NUMBER + 1}`, 'e١']) {
      expect(() => epochNumber(bad), bad).toThrow();
    }
    expect(epochId(12)).toBe('e12');
    expect(() => epochId(0)).toThrow();
  });

  test('s_{n+1} = SHA512("Ratchet-" ‖ context ‖ s_n)[0..32), and ratchetTo iterates it', () => {
    const s1 = fixed('initial secret');
    const s2 = nextEpochSecret(s1);
    expect(bytesToHex(s2)).toBe(bytesToHex(sha512(concatBytes(utf8('Ratchet-CONCORDAT-V2-ristretto255-SHA512'), s1)).slice(0, 32)));
    expect(bytesToHex(ratchetTo(s1, 1, 2))).toBe(bytesToHex(s2));
    expect(bytesToHex(ratchetTo(s1, 1, 5))).toBe(bytesToHex(ratchetTo(ratchetTo(s1, 1, 3), 3, 5)));
    const same = ratchetTo(s1, 4, 4);
    expect(bytesToHex(same)).toBe(bytesToHex(s1));
    expect(same).not.toBe(s1);
  });

  test('refuses to go back, bad numbers and bad secrets', () => {
    const s = fixed('s');
    expect(() => ratchetTo(s, 3, 2)).toThrow(/cannot go back/);
    expect(() => ratchetTo(s, 0, 2)).toThrow();
    expect(() => ratchetTo(s, 1, 1.5)).toThrow();
    expect(() => ratchetTo(s.subarray(0, 31), 1, 2)).toThrow(DecodeError);
  });
});

describe('pair keys (§8.5)', () => {
  const s = fixed('epoch secret');
  test('info layout', () => {
    expect(bytesToHex(pairKeyInfo(CONCORDAT_V2_SUITE, 'e3', 'p'))).toBe(
      bytesToHex(concatBytes(utf8('PairKey-CONCORDAT-V2-ristretto255-SHA512'), new Uint8Array([0, 2]), utf8('e3'), new Uint8Array([0, 1]), utf8('p'))),
    );
    expect(() => pairKeyInfo(CONCORDAT_V2_SUITE, 'e03', 'p')).toThrow();
    expect(() => pairKeyInfo(CONCORDAT_V2_SUITE, 'e3', '')).toThrow();
    expect(() => pairKeyInfo(CONCORDAT_V2_SUITE, 'e3', 'a\ud800')).toThrow();
  });

  test('deterministic; different for every pair, epoch and suite, so no blinded element repeats across pairs', () => {
    const a = pairKeyPair(CONCORDAT_V2_SUITE, s, 'e3', 'agr~ES-MIR~PT-PJ');
    expect(bytesToHex(pairKeyPair(CONCORDAT_V2_SUITE, s, 'e3', 'agr~ES-MIR~PT-PJ').sk)).toBe(bytesToHex(a.sk));
    const others = [
      pairKeyPair(CONCORDAT_V2_SUITE, s, 'e3', 'agr~ES-MIR~FR-DGSI'),
      pairKeyPair(CONCORDAT_V2_SUITE, s, 'e4', 'agr~ES-MIR~PT-PJ'),
      pairKeyPair(CONCORDAT_V1_SUITE, s, 'e3', 'agr~ES-MIR~PT-PJ'),
    ];
    const input = utf8('email\u0000suspect@example.org');
    const blinded = bytesToHex(referenceEngine.blind(CONCORDAT_V2_SUITE, a.sk, [input]));
    for (const o of others) {
      expect(bytesToHex(o.pk)).not.toBe(bytesToHex(a.pk));
      expect(bytesToHex(referenceEngine.blind(CONCORDAT_V2_SUITE, o.sk, [input]))).not.toBe(blinded);
    }
  });
});

// ---- the checks ----

const PAIR = pairIdOf(terms, 'PT-PJ', 'ES-MIR');

test('pair identifiers: id ~ a ~ b in code-unit order, two different parties only', () => {
  expect(PAIR).toBe('es-pt-fraud~ES-MIR~PT-PJ');
  expect(pairIdOf(terms, 'ES-MIR', 'PT-PJ')).toBe(PAIR);
  expect(() => pairIdOf(terms, 'ES-MIR', 'ES-MIR')).toThrow(DocumentError);
  expect(() => pairIdOf(terms, 'ES-MIR', 'FR-DGSI')).toThrow(DocumentError);
});
const REF = agreementRef(terms);
const elements = (n: number, tag = 'v'): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => referenceEngine.hashToGroup(CONCORDAT_V2_SUITE, [utf8(`${tag}${i}`)]));

describe('checkEpochKey (§8.7)', () => {
  const kp = pairKeyPair(CONCORDAT_V2_SUITE, fixed('pt epoch secret'), 'e3', PAIR);
  const st: EpochKeyStatement = { agency: 'PT-PJ', epoch: 'e3', pair: PAIR, agreement: REF, publicKey: bytesToHex(kp.pk) };
  const expected = { agency: 'PT-PJ', signingKey: pkPT, epoch: 'e3', pair: PAIR, agreement: REF };
  const signed = (s: unknown, sk = skPT) => ({ document: s, signature: signDocument('epoch-key', s, sk) });

  test('accepts a statement signed by the partner', () => {
    const r = checkEpochKey({ document: st, signature: signEpochKey(st, skPT) }, expected);
    expect(r.ok).toBe(true);
    expect(verifyEpochKey(st, pkPT, signEpochKey(st, skPT))).toBe(true);
  });

  test.each([
    ['malformed', () => signed({ ...st, extra: true })],
    ['signature', () => signed(st, skXX)],
    ['signature', () => ({ document: st, signature: signDocument('chunk', st, skPT) })],
    ['agency', () => signed({ ...st, agency: 'ES-MIR' })],
    ['epoch', () => signed({ ...st, epoch: 'e2' })],
    ['pair', () => signed({ ...st, pair: 'other~ES-MIR~PT-PJ' })],
    ['agreement', () => signed({ ...st, agreement: { id: REF.id, version: 2 } })],
    ['key', () => signed({ ...st, publicKey: '00'.repeat(32) })],
  ] as const)('refuses: %s', (reason, make) => {
    expect(refusalOf(checkEpochKey(make(), expected))).toBe(reason);
  });
});

describe('checkChunk (§8.8)', () => {
  const bytes = concatBytes(...elements(4));
  const m: ChunkManifest = chunkManifest({ pair: PAIR, agreement: REF, epoch: 'e3', agency: 'ES-MIR', index: 2, firstPosition: 131072 }, bytes);
  const expected: ChunkExpectation = { pair: PAIR, agreement: REF, epoch: 'e3', agency: 'ES-MIR', signingKey: pkES, index: 2, firstPosition: 131072 };
  const signed = (doc: unknown, sk = skES) => ({ document: doc, signature: signDocument('chunk', doc, sk) });

  test('the manifest describes the bytes; a signed one is accepted', () => {
    expect(m.count).toBe(4);
    expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    const sig = signChunk(m, skES);
    expect(verifyChunk(m, pkES, sig)).toBe(true);
    expect(checkChunk({ document: m, signature: sig }, expected, bytes)).toEqual({ ok: true, manifest: m });
    const { firstPosition: _ignored, ...withoutPosition } = expected;
    expect(checkChunk({ document: m, signature: sig }, withoutPosition, bytes).ok).toBe(true);
  });

  const tampered = bytes.slice();
  tampered[40]! ^= 1;
  test.each([
    ['malformed', () => signed({ ...m, count: 0 }), bytes],
    ['malformed', () => signed({ ...m, extra: 1 }), bytes],
    ['malformed', () => ({ document: { ...m, pair: 'x\ud800' }, signature: new Uint8Array(64) }), bytes],
    ['signature', () => signed(m, skPT), bytes],
    ['signature', () => ({ document: m, signature: new Uint8Array(63) }), bytes],
    ['signature', () => ({ document: { ...m, index: 3 }, signature: signChunk(m, skES) }), bytes],
    ['pair', () => signed({ ...m, pair: 'x~ES-MIR~FR-DGSI' }), bytes],
    ['agreement', () => signed({ ...m, agreement: { id: 'other', version: 3 } }), bytes],
    ['agreement', () => signed({ ...m, agreement: { id: REF.id, version: 4 } }), bytes],
    ['epoch', () => signed({ ...m, epoch: 'e2' }), bytes],
    ['agency', () => signed({ ...m, agency: 'PT-PJ' }), bytes],
    ['index', () => signed({ ...m, index: 1 }), bytes],
    ['position', () => signed({ ...m, firstPosition: 0 }), bytes],
    ['count', () => signed(m), bytes.subarray(0, 96)],
    ['count', () => signed(m), concatBytes(bytes, new Uint8Array(1))],
    ['digest', () => signed(m), tampered],
  ] as const)('refuses: %s', (reason, make, body) => {
    expect(refusalOf(checkChunk(make(), expected, body))).toBe(reason);
  });

  test('refuses: size (beyond the positions the agreement allows), and accepts a chunk that ends exactly there', () => {
    const s = signed(m);
    expect(refusalOf(checkChunk(s, { ...expected, maxPositions: 131075 }, bytes))).toBe('size');
    expect(checkChunk(s, { ...expected, maxPositions: 131076 }, bytes).ok).toBe(true);
  });
});

describe('checkQuery (§8.9)', () => {
  const values = elements(3, 'q');
  const now = Date.parse('2026-06-15T12:00:00Z');
  const q: QueryStatement = {
    id: '0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b',
    requester: 'ES-MIR',
    responder: 'PT-PJ',
    pair: PAIR,
    agreement: REF,
    epoch: 'e3',
    kind: 'email',
    purpose: 'fraud',
    caseRef: 'ES/2026/0042',
    count: 3,
    valuesSha256: queryValuesDigest(values),
    createdAt: '2026-06-15T11:59:30.250Z',
  };
  const ctx: QueryCheckContext = {
    requesterKey: pkES,
    terms,
    self: 'PT-PJ',
    epochs: ['e3', 'e2'],
    values,
    now,
    seen: () => false,
    todayCount: 0,
  };
  const signed = (doc: unknown, sk = skES) => ({ document: doc, signature: signDocument('query', doc, sk) });

  test('a query within the agreement is accepted', () => {
    const sig = signQuery(q, skES);
    expect(verifyQuery(q, pkES, sig)).toBe(true);
    expect(checkQuery({ document: q, signature: sig }, ctx)).toEqual({ ok: true, query: q });
    expect(checkQuery(signed({ ...q, epoch: 'e2' }), ctx).ok).toBe(true);
    expect(checkQuery(signed({ ...q, createdAt: '2026-06-15T12:04:59Z' }), ctx).ok).toBe(true);
  });

  test('timestamps: RFC 3339 UTC with Z, ms optional', () => {
    expect(parseTimestamp('2026-06-15T11:59:30Z')).toBe(Date.parse('2026-06-15T11:59:30Z'));
    expect(parseTimestamp('2026-06-15T11:59:30.250Z')).toBe(Date.parse('2026-06-15T11:59:30.250Z'));
    for (const bad of ['2026-06-15T11:59:30+00:00', '2026-06-15 11:59:30Z', '2026-06-15T11:59:30.25Z', '2026-02-30T00:00:00Z', '2026-06-15T24:00:00Z', '2026-06-15T23:59:60Z', '2026-06-15t11:59:30z']) {
      expect(parseTimestamp(bad), bad).toBeUndefined();
    }
  });

  test.each<[string, () => { document: unknown; signature: Uint8Array }, Partial<QueryCheckContext>]>([
    ['malformed', () => signed({ ...q, count: 101 }), {}],
    ['malformed', () => signed({ ...q, id: 'not-a-uuid' }), {}],
    ['malformed', () => signed({ ...q, createdAt: '2026-06-15T11:59:30+01:00' }), {}],
    ['malformed', () => ({ document: { ...q, caseRef: 'ES/\udc00' }, signature: new Uint8Array(64) }), {}],
    ['signature', () => signed(q, skXX), {}],
    ['signature', () => ({ document: { ...q, caseRef: 'other' }, signature: signQuery(q, skES) }), {}],
    ['signature', () => ({ document: q, signature: signDocument('chunk', q, skES) }), {}],
    ['parties', () => signed({ ...q, responder: 'FR-DGSI' }), {}],
    ['parties', () => signed({ ...q, requester: 'FR-DGSI' }), {}],
    ['parties', () => signed({ ...q, requester: 'PT-PJ' }), {}],
    ['parties', () => signed(q, skXX), { requesterKey: pkXX }],
    ['pair', () => signed({ ...q, pair: 'es-pt-fraud~ES-MIR~FR-DGSI' }), {}],
    ['agreement', () => signed({ ...q, agreement: { id: REF.id, version: 2 } }), {}],
    ['agreement', () => signed({ ...q, agreement: { id: 'other', version: 3 } }), {}],
    ['validity', () => signed({ ...q, createdAt: '2027-01-01T00:00:00Z' }), { now: Date.parse('2027-01-01T00:00:10Z') }],
    ['mode', () => signed(q), { terms: { ...terms, mode: 'count' } }],
    ['kind', () => signed({ ...q, kind: 'phone' }), {}],
    ['purpose', () => signed({ ...q, purpose: 'curiosity' }), {}],
    ['epoch', () => signed({ ...q, epoch: 'e1' }), {}],
    ['values', () => signed({ ...q, count: 11, valuesSha256: queryValuesDigest(elements(11, 'q')) }), { values: elements(11, 'q') }],
    ['values', () => signed(q), { values: values.slice(0, 2) }],
    ['values', () => signed(q), { values: [values[0]!, values[2]!, values[1]!] }],
    ['values', () => signed(q), { values: [values[0]!, values[1]!, values[2]!.subarray(0, 31)] }],
    ['future', () => signed({ ...q, createdAt: '2026-06-15T12:05:01Z' }), {}],
    ['future', () => signed({ ...q, createdAt: '2026-06-15T12:00:11Z' }), { maxSkewS: 10 }],
    ['expired', () => signed({ ...q, createdAt: '2026-06-14T11:59:59.999Z' }), {}],
    ['expired', () => signed(q), { maxAgeS: 10 }],
    ['replay', () => signed(q), { seen: (id) => id === q.id }],
    ['quota', () => signed(q), { todayCount: 50 }],
    ['quota', () => signed(q), { terms: { ...terms, queryQuota: { perDay: 0, maxValues: 10 } } }],
  ])('refuses: %s', (reason, make, change) => {
    expect(refusalOf(checkQuery(make(), { ...ctx, ...change }))).toBe(reason);
  });

  test('the check reads no clock: the same input gives the same answer whatever the time', () => {
    const s = signed(q);
    expect(checkQuery(s, { ...ctx, now: Date.parse('2026-06-16T11:59:30Z') }).ok).toBe(true);
    expect(refusalOf(checkQuery(s, { ...ctx, now: Date.parse('2026-06-16T11:59:31Z') }))).toBe('expired');
  });
});
