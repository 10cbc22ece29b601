// Deterministic generators of vectors/concordat-v1.json (protocol/SPEC.md §4)
// and vectors/concordat-v2.json (§8.10). Every secret comes from SHA-512 of a fixed label, so re-running
// it reproduces the file byte for byte; it computes with the reference
// engine and the loader then checks both engines against the result.
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from './bytes.js';
import { CONCORDAT_V1_CONTEXT, makeSuite, epochInfo } from './constants.js';
import { generateProofWithR } from './dleq.js';
import { decodePoint, encodePoint, encodeScalar, reduceScalarLE, Point } from './group.js';
import { deriveKeyPair } from './keys.js';
import { referenceEngine as ref } from './engine/reference.js';
import { tokenOfEncoded } from './token.js';
import { canonicalize, identifierInput, IdentifierError, type IdentifierKind } from './identifiers/index.js';
import type { ConcordatV2Vectors, ConcordatVectors } from './vectors.js';
import { CONCORDAT_V2_CONTEXT, CONCORDAT_V2_SUITE, V2_DOCUMENT_TYPE, type DocumentType } from './constants.js';
import { CanonicalJsonError, canonicalJson, type JsonValue } from './canonical.js';
import { agreementDigest, agreementRef, parseAgreement, type AgreementTerms } from './agreement.js';
import { ratchetTo } from './ratchet.js';
import { pairKeyInfo, pairKeyPair } from './pair-key.js';
import { fingerprint, signDocument, signingInput, signingPublicKey } from './signed.js';
import { chunkManifest } from './manifest.js';
import { queryValuesDigest, type QueryStatement } from './signed-query.js';
import type { EpochKeyStatement } from './epoch-key.js';
import { hitEvidenceWithR } from './hit-evidence.js';


/** Fixed pseudo-random bytes for a label (not a secret: these are test vectors). */
function fixedBytes(label: string, n = 32): Uint8Array {
  let out: Uint8Array = new Uint8Array(0);
  for (let i = 0; out.length < n; i++) out = concatBytes(out, sha512(utf8(`concordat-vectors:${label}:${i}`)));
  return out.subarray(0, n);
}
const fixedScalar = (label: string): Uint8Array => encodeScalar(reduceScalarLE(fixedBytes(label, 64)));

/** RFC 9496 Appendix A.2 bad encodings (non-canonical, negative, non-square, bad xy), plus identity and wrong lengths. */
export const INVALID_ELEMENTS: readonly string[] = [
  '00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20',
  'c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562',
  'c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78',
  '47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24',
  'f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72',
  '87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309',
  '26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371',
  '4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f',
  'de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b',
  'bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042',
  '2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08',
  'f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22',
  '8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731',
  '2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b',
  '3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e',
  'a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220',
  'd483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e',
  '8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32',
  '32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b',
  '227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165',
  '5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e',
  '445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b',
  // the identity element
  '0000000000000000000000000000000000000000000000000000000000000000',
  // wrong lengths: 31 and 33 bytes
  'e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d',
  'e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d7600',
];

/** Identifier samples for the pairs section: every kind, raw as an agency might write it. */
const PAIR_SAMPLES: ReadonlyArray<{ kind: IdentifierKind; value: string }> = [
  { kind: 'passport', value: 'esp:P1234567' },
  { kind: 'national_id', value: 'FRA 123 456 789 012' },
  { kind: 'phone', value: '+34 91 123 45 67' },
  { kind: 'email', value: '  Suspect.One@Example.ORG ' },
  { kind: 'iban', value: 'GB82 WEST 1234 5698 7654 32' },
  { kind: 'name_dob', value: 'José María García-López|1980-02-29' },
  { kind: 'imei', value: '49-015420-323751-8' },
  { kind: 'vin', value: '1M8GDM9AXKP042788' },
  { kind: 'crypto_address', value: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4' },
  { kind: 'crypto_address', value: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' },
];

/**
 * Canonicalisation samples: accepted forms and rejected ones (with the error
 * code), with the importing agency's default country where one is given.
 */
const CANON_SAMPLES: ReadonlyArray<{ kind: string; raw: string; defaultCountry?: string }> = [
  { kind: 'passport', raw: 'ESP-P1234567' },
  { kind: 'passport', raw: 'Esp P 123 4567' },
  { kind: 'passport', raw: 'P1234567' },
  { kind: 'passport', raw: 'ZZZ:P1234567' },
  { kind: 'national_id', raw: 'deu:T22000129' },
  { kind: 'national_id', raw: 'DEU' },
  { kind: 'email', raw: 'Agent.Smith@Example.COM' },
  { kind: 'email', raw: 'not-an-email' },
  { kind: 'email', raw: 'hans@bücher.de' },
  { kind: 'email', raw: 'Hans@XN--BCHER-KVA.DE' },
  { kind: 'email', raw: 'mailto:hans@b%C3%BCcher.de?subject=x' },
  { kind: 'email', raw: 'info@faß.de' },
  { kind: 'email', raw: 'x@-ex.com' },
  { kind: 'email', raw: 'x@ex_ample.com' },
  { kind: 'email', raw: 'x@192.0.2.1' },
  { kind: 'email', raw: 'x@xn--a.com' },
  { kind: 'phone', raw: '0034 91 123 45 67' },
  { kind: 'phone', raw: '(+34) 911-234-567' },
  { kind: 'phone', raw: '911234567' },
  { kind: 'phone', raw: '+34 91 abc' },
  { kind: 'phone', raw: '089/3072904', defaultCountry: 'DE' },
  { kind: 'phone', raw: '911234567', defaultCountry: 'ES' },
  { kind: 'phone', raw: 'tel:+49-89-3072904;ext=12' },
  { kind: 'phone', raw: 'tel:3072904;phone-context=+4989' },
  { kind: 'phone', raw: '+49 89 3072904 ext. 12' },
  { kind: 'phone', raw: '911234567', defaultCountry: 'XX' },
  { kind: 'iban', raw: 'de89 3704 0044 0532 0130 00' },
  { kind: 'iban', raw: 'DE89 3704 0044 0532 0130 01' },
  { kind: 'iban', raw: 'DE89 3704 0044 0532 0130' },
  { kind: 'iban', raw: 'IR11 0170 0000 0012 3456 7890 01' },
  { kind: 'iban', raw: 'DE89 3704 0044 0532 0130 0O' },
  { kind: 'iban', raw: 'US12 3456 7890 1234 5678 90' },
  { kind: 'name_dob', raw: 'Müller, Hans|19750105' },
  { kind: 'name_dob', raw: "Seán O'Brien|1990-12-31" },
  { kind: 'name_dob', raw: 'Hans Müller|1975-02-30' },
  { kind: 'name_dob', raw: 'Hans Müller' },
  { kind: 'imei', raw: '49015420323751' },
  { kind: 'imei', raw: '490154203237519' },
  { kind: 'imei', raw: '490154203237510' },
  { kind: 'imei', raw: '4901542032375101' },
  { kind: 'imei', raw: '4901542032375' },
  { kind: 'vin', raw: '1m8gdm9axkp042788' },
  { kind: 'vin', raw: '1M8GDM9A1KP042788' },
  { kind: 'vin', raw: 'WVWZZZ1JZXW000001' },
  { kind: 'vin', raw: '1M8GDM9AXKP04278O' },
  { kind: 'crypto_address', raw: '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2' },
  { kind: 'crypto_address', raw: '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3' },
  { kind: 'crypto_address', raw: '0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' },
  { kind: 'tax_number', raw: '12345' },
  { kind: 'email', raw: '   ' },
];

/** The context strings the core vector files are generated under. */
export type ConcordatCoreContext = typeof CONCORDAT_V1_CONTEXT | typeof CONCORDAT_V2_CONTEXT;

/**
 * Build the vector object of the core constructions (§1) under a context
 * string: v1 for vectors/concordat-v1.json, v2 (the protocol in use) for
 * vectors/concordat-v2-psi.json. Pure and deterministic.
 */
export function generateConcordatVectors(context: ConcordatCoreContext = CONCORDAT_V1_CONTEXT): ConcordatVectors {
  const suite = makeSuite(context);
  const hex = bytesToHex;
  const h2gInputs: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array([0]),
    utf8('a'),
    utf8('passport\u0000ESP:P1234567'),
    utf8('email\u0000suspect.one@example.org'),
    fixedBytes('h2g-medium', 200),
    fixedBytes('h2g-long', 1000),
    new Uint8Array(4096).fill(0x5a),
  ];
  const hashToGroup = h2gInputs.map((input) => ({ input: hex(input), element: hex(ref.hashToGroup(suite, [input])) }));

  const dkpCases: Array<[Uint8Array, Uint8Array]> = [
    [new Uint8Array(32).fill(0xa3), epochInfo('e1')],
    [fixedBytes('seed-es'), epochInfo('2026-11')],
    [fixedBytes('seed-pt'), epochInfo('2026-11')],
    [fixedBytes('seed-es'), epochInfo('2026-12')],
    [fixedBytes('seed-empty-info'), new Uint8Array(0)],
  ];
  const deriveKeyPairVectors = dkpCases.map(([seed, info]) => {
    const kp = deriveKeyPair(suite, seed, info);
    return { seed: hex(seed), info: hex(info), sk: hex(kp.sk), pk: hex(kp.pk) };
  });

  const evalElements = [
    encodePoint(Point.BASE),
    ...h2gInputs.slice(0, 4).map((x) => ref.hashToGroup(suite, [x])),
  ];
  const evaluate = evalElements.map((element, i) => {
    const sk = fixedScalar(`evaluate-${i}`);
    return { sk: hex(sk), element: hex(element), result: hex(ref.evaluate(sk, element)) };
  });

  const token = [encodePoint(Point.BASE), ...h2gInputs.slice(0, 4).map((x) => ref.hashToGroup(suite, [x]))].map((e) => ({
    element: hex(e),
    token: hex(tokenOfEncoded(suite, e)),
  }));

  const skA = deriveKeyPair(suite, fixedBytes('seed-es'), epochInfo('2026-11')).sk;
  const skB = deriveKeyPair(suite, fixedBytes('seed-pt'), epochInfo('2026-11')).sk;
  const pairs = PAIR_SAMPLES.map(({ kind, value }) => {
    const canonical = canonicalize(kind, value);
    const input = identifierInput(kind, canonical);
    const blindedA = ref.blind(suite, skA, [input]);
    const blindedB = ref.blind(suite, skB, [input]);
    const doubleAB = ref.evaluate(skB, blindedA);
    return {
      kind,
      value,
      canonical,
      input: hex(input),
      skA: hex(skA),
      skB: hex(skB),
      blindedA: hex(blindedA),
      blindedB: hex(blindedB),
      doubleAB: hex(doubleAB),
      token: hex(tokenOfEncoded(suite, doubleAB)),
    };
  });

  const canonicalization = CANON_SAMPLES.map(({ kind, raw, defaultCountry }) => {
    const given = defaultCountry === undefined ? { kind, raw } : { kind, raw, defaultCountry };
    try {
      return { ...given, canonical: canonicalize(kind, raw, { defaultCountry }) };
    } catch (e) {
      if (!(e instanceof IdentifierError)) throw e;
      return { ...given, error: e.code };
    }
  });

  for (const bad of INVALID_ELEMENTS) {
    let rejected = false;
    try {
      decodePoint('element', hexToBytes(bad));
    } catch {
      rejected = true;
    }
    if (!rejected) throw new Error(`invalid element vector unexpectedly decodes: ${bad}`);
  }

  const proofs = [1, 2, 5].map((n) => {
    const kp = deriveKeyPair(suite, fixedBytes(`proof-seed-${n}`), epochInfo('e1'));
    const blinded = Array.from({ length: n }, (_, i) => ref.hashToGroup(suite, [utf8(`proof ${n} element ${i}`)]));
    const evaluated = blinded.map((b) => ref.evaluate(kp.sk, b));
    const r = fixedScalar(`proof-r-${n}`);
    return {
      sk: hex(kp.sk),
      pk: hex(kp.pk),
      blinded: blinded.map(hex),
      evaluated: evaluated.map(hex),
      proofRandomScalar: hex(r),
      proof: hex(generateProofWithR(suite, { sk: kp.sk, blinded, evaluated }, r)),
    };
  });

  return {
    suite: context,
    hashToGroup,
    deriveKeyPair: deriveKeyPairVectors,
    evaluate,
    token,
    pairs,
    canonicalization,
    invalidElements: [...INVALID_ELEMENTS],
    proofs,
  };
}

/** Serialised exactly as committed: two-space JSON and a final newline. */
export function renderConcordatVectors(): string {
  return `${JSON.stringify(generateConcordatVectors(CONCORDAT_V1_CONTEXT), null, 2)}\n`;
}

/** vectors/concordat-v2-psi.json: the same core cases under the v2 context string. */
export function renderConcordatV2PsiVectors(): string {
  return `${JSON.stringify(generateConcordatVectors(CONCORDAT_V2_CONTEXT), null, 2)}\n`;
}

// ---- vectors/concordat-v2.json (protocol/SPEC.md §8.10) ----

const suite2 = CONCORDAT_V2_SUITE;

/** Like fixedBytes, under a v2 prefix so no v1 secret is reused. */
function fixedBytesV2(label: string, n = 32): Uint8Array {
  let out: Uint8Array = new Uint8Array(0);
  for (let i = 0; out.length < n; i++) out = concatBytes(out, sha512(utf8(`concordat-v2-vectors:${label}:${i}`)));
  return out.subarray(0, n);
}

/**
 * §8.2 canonicalisation samples as JSON text (parsed with JSON.parse, i.e.
 * RFC 8259 / I-JSON): accepted ones with their canonical bytes, refused ones
 * with the path and rule. Text rather than values, so -0, 1e400 and lone
 * surrogates can be written down at all.
 */
const CANONICAL_JSON_SAMPLES: readonly string[] = [
  String.raw`{"b":1,"a":2}`,
  String.raw` { "z" : [ 3 , { "y" : null , "x" : true } ] , "a" : false } `,
  String.raw`[0, -1, 1.0, 1e2, 10E-0, 9007199254740991, -9007199254740991]`,
  String.raw`"\u0000\u001f\b\t\n\f\r\"\\\/\u007f\u2028\u00e9\ud83d\ude00"`,
  String.raw`{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`,
  String.raw`{"nested":{"z":{},"a":[]},"empty":"","t":true,"f":false,"n":null}`,
  String.raw`null`,
  String.raw`{"parties":[{"agency":"A"},{"agency":1.5}]}`,
  String.raw`{"n":-0}`,
  String.raw`[9007199254740992]`,
  String.raw`{"big":1e400}`,
  String.raw`{"s":"ok\ud800"}`,
  String.raw`{"\udc00":1}`,
  String.raw`{"a b":[0,0.5]}`,
  String.raw`1.5`,
];

/** Build the v2 vector object. Pure and deterministic. */
export function generateConcordatV2Vectors(): ConcordatV2Vectors {
  const hex = bytesToHex;
  const canonical = CANONICAL_JSON_SAMPLES.map((json) => {
    try {
      return { json, canonical: hex(canonicalJson(JSON.parse(json))) };
    } catch (e) {
      if (!(e instanceof CanonicalJsonError)) throw e;
      return { json, error: { path: e.path, rule: e.rule } };
    }
  });

  const initialES = fixedBytesV2('initial-secret-ES-MIR');
  const initialPT = fixedBytesV2('initial-secret-PT-PJ');
  const ratchetCases: Array<[Uint8Array, number, number]> = [
    [initialES, 1, 1],
    [initialES, 1, 2],
    [initialES, 1, 3],
    [initialES, 1, 12],
    [ratchetTo(initialES, 1, 12), 12, 13],
    [initialPT, 1, 100],
    [new Uint8Array(32), 1, 2],
  ];
  const ratchet = ratchetCases.map(([secret, from, to]) => ({ from, secret: hex(secret), to, result: hex(ratchetTo(secret, from, to)) }));

  const agreementId = 'es-pt-fraud';
  const pairId = `${agreementId}~ES-MIR~PT-PJ`;
  const sES = ratchetTo(initialES, 1, 3);
  const sPT = ratchetTo(initialPT, 1, 3);
  const pairKeyCases: Array<[Uint8Array, string, string]> = [
    [sES, 'e3', pairId],
    [sPT, 'e3', pairId],
    [sES, 'e3', `${agreementId}~ES-MIR~FR-DGSI`],
    [ratchetTo(initialES, 1, 4), 'e4', pairId],
    [initialES, 'e1', 'p\u00e4r~\u00fcnicode'],
  ];
  const pairKeys = pairKeyCases.map(([secret, epoch, pair]) => {
    const kp = pairKeyPair(suite2, secret, epoch, pair);
    return { secret: hex(secret), epoch, pair, info: hex(pairKeyInfo(suite2, epoch, pair)), sk: hex(kp.sk), pk: hex(kp.pk) };
  });

  const signer = {
    'ES-MIR': fixedBytesV2('signing-key-ES-MIR'),
    'PT-PJ': fixedBytesV2('signing-key-PT-PJ'),
  } as const;
  type Signer = keyof typeof signer;
  const pub = (a: Signer): string => hex(signingPublicKey(signer[a]));

  const terms: AgreementTerms = parseAgreement({
    id: agreementId,
    version: 2,
    parties: [
      { agency: 'ES-MIR', signingKey: pub('ES-MIR') },
      { agency: 'PT-PJ', signingKey: pub('PT-PJ') },
    ],
    kinds: ['email', 'iban', 'passport'],
    mode: 'reveal',
    purposes: ['fraud', 'organised-crime'],
    validFrom: '2026-01-01',
    validUntil: '2027-06-30',
    maxSetSize: 5_000_000,
    queryQuota: { perDay: 200, maxValues: 20 },
    legalBasis: 'Tratado bilateral ES\u2013PT, art. 7 \u00a7 2; Regulation (EU) 2016/679 art. 6(1)(e).',
  });
  const aref = agreementRef(terms);
  const kpES = pairKeyPair(suite2, sES, 'e3', pairId);
  const kpPT = pairKeyPair(suite2, sPT, 'e3', pairId);
  const chunkElements = ['email\u0000suspect.one@example.org', 'passport\u0000ESP:P1234567', 'iban\u0000GB82WEST12345698765432'].map((x) =>
    ref.blind(suite2, kpES.sk, [utf8(x)]),
  );
  const chunk = chunkManifest({ pair: pairId, agreement: aref, epoch: 'e3', agency: 'ES-MIR', index: 1, firstPosition: 65536 }, concatBytes(...chunkElements));
  const r = fixedScalar('v2-query-blind');
  const queryValues = ['email\u0000suspect.one@example.org', 'email\u0000other@example.com'].map((x) => ref.blind(suite2, r, [utf8(x)]));
  const query: QueryStatement = {
    id: '5f0c6a2e-8d1b-4c3a-9e7f-2b4d6c8a0e1f',
    requester: 'ES-MIR',
    responder: 'PT-PJ',
    pair: pairId,
    agreement: aref,
    epoch: 'e3',
    kind: 'email',
    purpose: 'fraud',
    caseRef: 'ES/2026/0042',
    count: queryValues.length,
    valuesSha256: queryValuesDigest(queryValues),
    createdAt: '2026-03-14T09:26:53.589Z',
  };
  const epochKey = (agency: Signer, pk: Uint8Array): EpochKeyStatement => ({ agency, epoch: 'e3', pair: pairId, agreement: aref, publicKey: hex(pk) });

  const docs: Array<{ name: string; type: DocumentType; signer: Signer; document: unknown; elements?: Uint8Array[] }> = [
    { name: 'agreement accepted by ES-MIR', type: V2_DOCUMENT_TYPE.agreement, signer: 'ES-MIR', document: terms },
    { name: 'agreement accepted by PT-PJ', type: V2_DOCUMENT_TYPE.agreement, signer: 'PT-PJ', document: terms },
    { name: 'epoch key of ES-MIR', type: V2_DOCUMENT_TYPE.epochKey, signer: 'ES-MIR', document: epochKey('ES-MIR', kpES.pk) },
    { name: 'epoch key of PT-PJ', type: V2_DOCUMENT_TYPE.epochKey, signer: 'PT-PJ', document: epochKey('PT-PJ', kpPT.pk) },
    { name: 'chunk 1 of ES-MIR', type: V2_DOCUMENT_TYPE.chunk, signer: 'ES-MIR', document: chunk, elements: chunkElements },
    { name: 'query from ES-MIR', type: V2_DOCUMENT_TYPE.query, signer: 'ES-MIR', document: query, elements: queryValues },
  ];
  const signed = docs.map((d) => {
    const sk = signer[d.signer];
    const pk = signingPublicKey(sk);
    return {
      name: d.name,
      type: d.type,
      signer: d.signer,
      document: d.document as JsonValue,
      canonical: hex(canonicalJson(d.document)),
      signingInput: hex(signingInput(d.type, d.document)),
      secretKey: hex(sk),
      publicKey: hex(pk),
      signature: hex(signDocument(d.type, d.document, sk)),
      fingerprint: fingerprint(pk),
      ...(d.type === V2_DOCUMENT_TYPE.agreement ? { digest: agreementDigest(terms) } : {}),
      ...(d.elements ? { elements: d.elements.map(hex) } : {}),
    };
  });

  // §8.11: the requester (ES-MIR) reports hits on its query to PT-PJ. Each value has its own blind;
  // U = r⁻¹·E is PT-PJ's own blinded element of the value (its side holds it when the value is a hit).
  const hitEvidence = ['email\u0000suspect.one@example.org', 'passport\u0000ESP:P1234567'].map((input, i) => {
    const blind = fixedScalar(`v2-hit-blind-${i}`);
    const blinded = ref.blind(suite2, blind, [utf8(input)]);
    const evaluated = ref.evaluate(kpPT.sk, blinded);
    const proofRandomScalar = fixedScalar(`v2-hit-proof-r-${i}`);
    const ev = hitEvidenceWithR(suite2, blind, evaluated, proofRandomScalar);
    return {
      input: hex(utf8(input)),
      responderSk: hex(kpPT.sk),
      blind: hex(blind),
      blinded: hex(blinded),
      evaluated: hex(evaluated),
      element: hex(ev.element),
      blindPublic: hex(ev.blindPublic),
      proofRandomScalar: hex(proofRandomScalar),
      proof: hex(ev.proof),
    };
  });

  return { suite: CONCORDAT_V2_CONTEXT, canonical, ratchet, pairKeys, signed, hitEvidence };
}

/** Serialised exactly as committed: two-space JSON and a final newline. */
export function renderConcordatV2Vectors(): string {
  return `${JSON.stringify(generateConcordatV2Vectors(), null, 2)}\n`;
}
