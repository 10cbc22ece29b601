// RFC 9421 interoperability: requests signed by two independent third-party
// implementations (http-message-signatures, http-message-sig) with
// node:crypto Ed25519 must pass verifyRequest whatever the order of their
// components and parameters, and every tampering must be refused with its
// reason. The signature base is also checked against RFC 9421's own examples.
import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { createSignature, type SignatureComponent, type SignatureParameters } from 'http-message-sig';
import { httpbis } from 'http-message-signatures';
import { parseDictionary, type InnerList } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { nodeEd25519Sign } from '../clients/sdk/node-ed25519.js';
import { utf8 } from '../protocol/bytes.js';
import {
  contentDigest,
  fromBase64,
  signatureBase,
  SignatureError,
  signRequest,
  SIGNATURE_TAG,
  toBase64,
  verifyRequest,
  type SignatureFailure,
  type VerifyInput,
} from '../protocol/http-signature.js';

const NOW = 1_750_000_000;
const URL_ = 'https://coordinator.example/v1/pairs/x~ES-CNP~PT-PJ/set/chunks/3?part=1';
const BODY = utf8('{"elements":"AAAA"}');
const seed = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
const publicKey = ed25519.getPublicKey(seed);
const b64url = (b: Uint8Array) => toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const privateKey: KeyObject = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(publicKey) }, format: 'jwk' });
const nodeEd25519 = (data: Uint8Array): Uint8Array => new Uint8Array(nodeSign(null, data, privateKey));

let nonceCounter = 0;
const freshNonce = () => `interop-nonce-${String(++nonceCounter).padStart(6, '0')}`;

interface Signed {
  method: string;
  url: string;
  headers: Headers;
  body: Uint8Array;
}

/** Verify with a fresh nonce store unless one is given; the request's own parts unless overridden. */
function verify(r: Signed, over: Partial<Omit<VerifyInput, 'url' | 'path' | 'query' | 'authority'>> = {}, seen = new Set<string>()) {
  return verifyRequest({
    method: r.method,
    url: r.url,
    headers: r.headers,
    body: r.body,
    now: NOW,
    lookupKey: (k) => (k === 'ES-CNP' ? publicKey : undefined),
    useNonce: (k, n) => !seen.has(`${k} ${n}`) && (seen.add(`${k} ${n}`), true),
    ...over,
  });
}

async function refused(p: Promise<unknown>, reason: SignatureFailure, message?: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SignatureError);
  expect((err as SignatureError).reason).toBe(reason);
  if (message) expect((err as SignatureError).message).toMatch(message);
}

const BASE_FIELDS = ['@method', '@authority', '@path', '@query', 'content-digest'];

/** Signed by `http-message-signatures` (its `params` list fixes the parameter order). */
async function signWithHms(o: { fields?: string[]; params?: string[]; expires?: number; created?: number; extraHeaders?: Record<string, string>; url?: string; method?: string; alg?: string } = {}): Promise<Signed> {
  const method = o.method ?? 'PUT';
  const url = o.url ?? URL_;
  const headers: Record<string, string> = { 'content-digest': contentDigest(BODY), 'content-type': 'application/octet-stream', ...o.extraHeaders };
  const signed = await httpbis.signMessage(
    {
      key: { id: 'ES-CNP', alg: o.alg ?? 'ed25519', sign: async (d: Buffer) => Buffer.from(nodeEd25519(d)) },
      name: 'sig1',
      fields: o.fields ?? BASE_FIELDS,
      params: o.params ?? ['created', 'keyid', 'nonce', 'alg', 'tag'],
      paramValues: {
        created: new Date((o.created ?? NOW) * 1000),
        ...(o.expires !== undefined ? { expires: new Date(o.expires * 1000) } : {}),
        nonce: freshNonce(),
        tag: SIGNATURE_TAG,
      },
    },
    { method, url, headers },
  );
  const h = new Headers();
  for (const [k, v] of Object.entries(signed.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : v);
  return { method, url, headers: h, body: BODY };
}

/** Signed by `http-message-sig` over a fetch Request (parameters in the object's key order). */
async function signWithHmsig(o: { components?: SignatureComponent[]; parameters?: Partial<Record<string, string | number>>; extraHeaders?: Record<string, string> } = {}): Promise<Signed> {
  const headers = new Headers({ 'content-digest': contentDigest(BODY), ...o.extraHeaders });
  const request = new Request(URL_, { method: 'PUT', headers, body: BODY });
  const parameters = (o.parameters ?? { keyid: 'ES-CNP', nonce: freshNonce(), tag: SIGNATURE_TAG, created: NOW }) as SignatureParameters;
  const fields = await createSignature(request, {
    label: 'sig1',
    components: o.components ?? BASE_FIELDS,
    parameters,
    signer: { algorithm: 'ed25519', sign: nodeEd25519 },
  });
  headers.set('signature-input', fields.signatureInput);
  headers.set('signature', fields.signature);
  return { method: 'PUT', url: URL_, headers, body: BODY };
}

function withInput(r: Signed, edit: (s: string) => string): Signed {
  const headers = new Headers(r.headers);
  headers.set('signature-input', edit(headers.get('signature-input') ?? ''));
  return { ...r, headers };
}

describe('third-party signers are accepted', () => {
  it('http-message-signatures, our parameter order', async () => {
    const r = await signWithHms();
    expect(r.headers.get('signature-input')).toMatch(/^sig1=\("@method" "@authority" "@path" "@query" "content-digest"\);created=\d+;keyid="ES-CNP";nonce="[^"]+";alg="ed25519";tag="concordat-v2"$/);
    await expect(verify(r)).resolves.toMatchObject({ keyid: 'ES-CNP', created: NOW });
  });

  it('http-message-signatures, other parameter and component orders, with expires', async () => {
    const r = await signWithHms({
      fields: ['content-digest', '@query', '@authority', '@path', '@method'],
      params: ['tag', 'nonce', 'expires', 'keyid', 'alg', 'created'],
      expires: NOW + 60,
    });
    expect(r.headers.get('signature-input')).toMatch(/^sig1=\("content-digest" "@query" "@authority" "@path" "@method"\);tag="concordat-v2";nonce="[^"]+";expires=\d+;keyid="ES-CNP";alg="ed25519";created=\d+$/);
    await expect(verify(r)).resolves.toMatchObject({ keyid: 'ES-CNP' });
  });

  it('http-message-signatures, extra covered fields and the epoch header', async () => {
    const r = await signWithHms({ fields: [...BASE_FIELDS, 'content-type', 'concordat-epoch'], extraHeaders: { 'concordat-epoch': 'e2' } });
    await expect(verify(r)).resolves.toMatchObject({ keyid: 'ES-CNP' });
  });

  it('http-message-sig, no alg parameter, parameters in its own order', async () => {
    const r = await signWithHmsig();
    expect(r.headers.get('signature-input')).toMatch(/;keyid="ES-CNP";nonce="[^"]+";tag="concordat-v2";created=\d+$/);
    await expect(verify(r)).resolves.toMatchObject({ keyid: 'ES-CNP' });
  });

  it('http-message-sig with alg, expires and the epoch header first', async () => {
    const r = await signWithHmsig({
      components: ['concordat-epoch', '@authority', 'content-digest', '@method', '@query', '@path', '@target-uri', '@scheme'],
      parameters: { created: NOW, expires: NOW + 30, alg: 'ed25519', nonce: freshNonce(), keyid: 'ES-CNP', tag: SIGNATURE_TAG },
      extraHeaders: { 'concordat-epoch': 'e1' },
    });
    await expect(verify(r)).resolves.toMatchObject({ keyid: 'ES-CNP' });
  });

  it('our own signer verifies, covering the epoch header it is given', async () => {
    const headers = signRequest({ method: 'put', url: URL_, body: BODY, headers: { 'Concordat-Epoch': 'e3' }, keyid: 'ES-CNP', secretKey: seed, created: NOW, nonce: freshNonce() });
    expect(headers['signature-input']).toMatch(
      /^sig1=\("@method" "@authority" "@path" "@query" "content-digest" "concordat-epoch"\);created=\d+;keyid="ES-CNP";nonce="[^"]+";alg="ed25519";tag="concordat-v2"$/,
    );
    const r: Signed = { method: 'PUT', url: URL_, headers: new Headers({ ...headers, 'concordat-epoch': 'e3' }), body: BODY };
    await expect(verify(r)).resolves.toMatchObject({ keyid: 'ES-CNP' });
    // The same signature from the authority and parts instead of the URL.
    const parts = signRequest({ method: 'PUT', authority: 'coordinator.example', path: '/v1/pairs/x~ES-CNP~PT-PJ/set/chunks/3', query: '?part=1', body: BODY, headers: { 'concordat-epoch': 'e3' }, keyid: 'ES-CNP', secretKey: seed, created: NOW, nonce: 'fixed-nonce-0000001' });
    const viaUrl = signRequest({ method: 'PUT', url: URL_, body: BODY, headers: { 'concordat-epoch': 'e3' }, keyid: 'ES-CNP', secretKey: seed, created: NOW, nonce: 'fixed-nonce-0000001' });
    expect(parts).toEqual(viaUrl);
    // Signed through node:crypto as the agency client signs (clients/sdk/node-ed25519.ts): the same headers, byte for byte.
    expect(signRequest({ method: 'PUT', url: URL_, body: BODY, headers: { 'concordat-epoch': 'e3' }, keyid: 'ES-CNP', secretKey: seed, created: NOW, nonce: 'fixed-nonce-0000001', sign: nodeEd25519Sign })).toEqual(viaUrl);
  });

  it('takes @authority from the Host header when given only path and query', async () => {
    const r = await signWithHms();
    r.headers.set('host', 'coordinator.example');
    const parts = { method: r.method, path: '/v1/pairs/x~ES-CNP~PT-PJ/set/chunks/3', query: '?part=1', headers: r.headers, body: r.body, now: NOW, lookupKey: () => publicKey, useNonce: () => true };
    await expect(verifyRequest(parts)).resolves.toMatchObject({ keyid: 'ES-CNP' });
    r.headers.set('host', 'other-coordinator.example');
    await refused(verifyRequest(parts), 'bad-signature');
    await refused(verifyRequest({ ...parts, authority: 'other-coordinator.example' }), 'bad-signature');
    r.headers.delete('host');
    await refused(verifyRequest(parts), 'components', /"@authority" is not in the request/);
  });
});

describe('tampering is refused with its reason', () => {
  it('method, path, query and authority', async () => {
    const r = await signWithHms();
    await refused(verify({ ...r, method: 'POST' }), 'bad-signature');
    await refused(verify({ ...r, url: URL_.replace('/chunks/3', '/chunks/4') }), 'bad-signature');
    await refused(verify({ ...r, url: URL_.replace('part=1', 'part=2') }), 'bad-signature');
    await refused(verify({ ...r, url: URL_.replace('?part=1', '') }), 'bad-signature');
    // The replay this project cares about: a request signed for one coordinator sent to another.
    await refused(verify({ ...r, url: URL_.replace('coordinator.example', 'other-coordinator.example') }), 'bad-signature');
    await refused(verify({ ...r, url: URL_.replace('coordinator.example', 'coordinator.example:8443') }), 'bad-signature');
    // The default port is not part of @authority (RFC 9421 §2.2.3), nor is the host's case.
    await expect(verify({ ...r, url: URL_.replace('coordinator.example', 'Coordinator.EXAMPLE:443') })).resolves.toMatchObject({ keyid: 'ES-CNP' });
  });

  it('body and digest', async () => {
    const r = await signWithHms();
    const body = utf8('{"elements":"BBBB"}');
    await refused(verify({ ...r, body }), 'digest');
    const headers = new Headers(r.headers);
    headers.set('content-digest', contentDigest(body));
    await refused(verify({ ...r, headers, body }), 'bad-signature');
  });

  it('a covered extra field or the epoch header', async () => {
    const r = await signWithHms({ fields: [...BASE_FIELDS, 'concordat-epoch'], extraHeaders: { 'concordat-epoch': 'e2' } });
    const headers = new Headers(r.headers);
    headers.set('concordat-epoch', 'e3');
    await refused(verify({ ...r, headers }), 'bad-signature');
  });

  it('a signature parameter', async () => {
    const r = await signWithHms();
    await refused(verify(withInput(r, (s) => s.replace(/nonce="[^"]+"/, 'nonce="another-nonce-0000000"'))), 'bad-signature');
    await refused(verify(withInput(r, (s) => s.replace(`created=${NOW}`, `created=${NOW - 1}`))), 'bad-signature');
    // Same parameters, another order: the base follows the order received, so the signature no longer matches.
    await refused(verify(withInput(r, (s) => s.replace(/;(alg="ed25519");(tag="concordat-v2")$/, ';$2;$1'))), 'bad-signature');
    await refused(verify(withInput(r, (s) => s.replace('"@path" "@query"', '"@query" "@path"'))), 'bad-signature');
    await refused(verify(withInput(r, (s) => `${s};extra=1`)), 'bad-signature');
  });

  it('the signature bytes', async () => {
    const r = await signWithHms();
    const sig = fromBase64(/^sig1=:([^:]+):$/.exec(r.headers.get('signature') ?? '')?.[1] ?? '');
    for (const i of [0, 31, 63]) {
      const bad = sig.slice();
      bad[i] = (bad[i] as number) ^ 0x01;
      const headers = new Headers(r.headers);
      headers.set('signature', `sig1=:${toBase64(bad)}:`);
      await refused(verify({ ...r, headers }), 'bad-signature');
    }
    const short = new Headers(r.headers);
    short.set('signature', `sig1=:${toBase64(sig.slice(0, 63))}:`);
    await refused(verify({ ...r, headers: short }), 'bad-signature');
  });
});

describe('policy', () => {
  it('refuses an expired signature, and accepts it until then', async () => {
    const r = await signWithHms({ params: ['created', 'expires', 'keyid', 'nonce', 'alg', 'tag'], created: NOW - 120, expires: NOW - 1 });
    await refused(verify(r), 'stale', /expire/);
    await expect(verify(r, { now: NOW - 2 })).resolves.toMatchObject({ keyid: 'ES-CNP' });
  });

  it('refuses a stale or future created', async () => {
    await refused(verify(await signWithHms({ created: NOW - 301 })), 'stale');
    await refused(verify(await signWithHms({ created: NOW + 301 })), 'stale');
  });

  it('refuses a signature that does not cover @authority, naming it', async () => {
    const r = await signWithHms({ fields: ['@method', '@path', '@query', 'content-digest'] });
    await refused(verify(r), 'components', /"@authority"/);
    const s = await signWithHmsig({ components: ['@method', '@authority', '@path', '@query'] });
    await refused(verify(s), 'components', /"content-digest"/);
  });

  it('refuses a request whose epoch header is not signed', async () => {
    const r = await signWithHms();
    r.headers.set('concordat-epoch', 'e2');
    await refused(verify(r), 'components', /"concordat-epoch"/);
  });

  it('refuses a covered field the request does not carry, and components it cannot reproduce', async () => {
    const r = await signWithHms({ fields: [...BASE_FIELDS, 'x-trace'], extraHeaders: { 'x-trace': 't' } });
    r.headers.delete('x-trace');
    await refused(verify(r), 'components', /"x-trace" is not in the request/);
    const sf = await signWithHms();
    await refused(verify(withInput(sf, (s) => s.replace('"content-digest"', '"content-digest";sf'))), 'components', /parameters on covered component "content-digest"/);
    await refused(verify(withInput(sf, (s) => s.replace('"@query"', '"@query" "@status"'))), 'components', /"@status"/);
    await refused(verify(withInput(sf, (s) => s.replace('"@query"', '"@query" "@path"'))), 'malformed', /twice/);
  });

  it('checks alg when given, and tag', async () => {
    const rsa = await signWithHms({ alg: 'rsa-pss-sha512' });
    await refused(verify(rsa), 'algorithm', /"alg"/);
    const tag = await signWithHmsig({ parameters: { keyid: 'ES-CNP', nonce: freshNonce(), tag: 'other-v1', created: NOW } });
    await refused(verify(tag), 'algorithm', /"tag"/);
    const noTag = await signWithHmsig({ parameters: { keyid: 'ES-CNP', nonce: freshNonce(), created: NOW } });
    await refused(verify(noTag), 'algorithm', /"tag"/);
  });

  it('requires created, keyid and nonce, naming the missing one', async () => {
    await refused(verify(await signWithHmsig({ parameters: { keyid: 'ES-CNP', nonce: freshNonce(), tag: SIGNATURE_TAG } })), 'malformed', /"created"/);
    await refused(verify(await signWithHmsig({ parameters: { nonce: freshNonce(), tag: SIGNATURE_TAG, created: NOW } })), 'malformed', /"keyid"/);
    await refused(verify(await signWithHmsig({ parameters: { keyid: 'ES-CNP', tag: SIGNATURE_TAG, created: NOW } })), 'malformed', /"nonce"/);
    await refused(verify(await signWithHmsig({ parameters: { keyid: 'ES-CNP', nonce: 'short', tag: SIGNATURE_TAG, created: NOW } })), 'malformed', /"nonce"/);
  });

  it('refuses an unknown key, a missing or mislabelled signature, and a replayed nonce', async () => {
    const r = await signWithHms();
    await refused(verify(r, { lookupKey: () => undefined }), 'unknown-key');
    await refused(verify({ ...r, headers: new Headers({ 'content-digest': contentDigest(BODY) }) }), 'missing');
    await refused(verify(withInput(r, (s) => s.replace(/^sig1=/, 'sig2='))), 'malformed');
    const seen = new Set<string>();
    await expect(verify(r, {}, seen)).resolves.toMatchObject({ keyid: 'ES-CNP' });
    await refused(verify(r, {}, seen), 'replay');
  });

  it('spends no nonce on a request that does not verify', async () => {
    const r = await signWithHms();
    const seen = new Set<string>();
    await refused(verify({ ...r, method: 'POST' }, {}, seen), 'bad-signature');
    expect(seen.size).toBe(0);
    await expect(verify(r, {}, seen)).resolves.toMatchObject({ keyid: 'ES-CNP' });
  });
});

// RFC 9421 Appendix B.2: the example request and, in B.1.4, the Ed25519 test key.
const RFC_URL = 'https://example.com/foo?param=Value&Pet=dog';
const rfcHeaders = () =>
  new Headers({
    host: 'example.com',
    date: 'Tue, 20 Apr 2021 02:07:55 GMT',
    'content-type': 'application/json',
    'content-digest': 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
    'content-length': '18',
  });
const entry = (signatureInput: string, label: string): InnerList => parseDictionary(signatureInput).get(label) as InnerList;

describe('signature base (RFC 9421 §2.5) against the RFC examples', () => {
  it('B.2.6: Ed25519 over the example request, base and signature byte for byte', () => {
    // B.1.4 test-key-ed25519: the seed is the last 32 bytes of its PKCS#8 encoding, the public key of its SPKI.
    const rfcSeed = fromBase64('MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF').slice(16);
    const rfcPublic = fromBase64('MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=').slice(12);
    expect(ed25519.getPublicKey(rfcSeed)).toEqual(rfcPublic);
    const input = 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';
    const base = signatureBase({ method: 'POST', url: RFC_URL, headers: rfcHeaders() }, entry(input, 'sig-b26'));
    expect(base).toBe(
      [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
      ].join('\n'),
    );
    const sig = 'wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==';
    expect(toBase64(ed25519.sign(utf8(base), rfcSeed))).toBe(sig);
    expect(ed25519.verify(fromBase64(sig), utf8(base), rfcPublic)).toBe(true);
  });

  it('B.2.1: no covered components, only the parameters', () => {
    const input = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"';
    expect(signatureBase({ method: 'POST', url: RFC_URL, headers: rfcHeaders() }, entry(input, 'sig-b21'))).toBe(
      '"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"',
    );
  });

  it('§2.2 derived components of the example request', () => {
    const input = 'x=("@method" "@target-uri" "@authority" "@scheme" "@request-target" "@path" "@query");created=1';
    const lines = signatureBase({ method: 'POST', url: RFC_URL, headers: rfcHeaders() }, entry(input, 'x')).split('\n');
    expect(lines.slice(0, -1)).toEqual([
      '"@method": POST',
      '"@target-uri": https://example.com/foo?param=Value&Pet=dog',
      '"@authority": example.com',
      '"@scheme": https',
      '"@request-target": /foo?param=Value&Pet=dog',
      '"@path": /foo',
      '"@query": ?param=Value&Pet=dog',
    ]);
    // §2.2.7: no query is `?` alone; §2.2.6: an empty path is `/`; §2.2.3: lowercased host, default port removed.
    const bare = signatureBase({ method: 'GET', url: 'HTTPS://WWW.Example.COM:443', headers: new Headers() }, entry('x=("@authority" "@path" "@query")', 'x'));
    expect(bare.split('\n').slice(0, -1)).toEqual(['"@authority": www.example.com', '"@path": /', '"@query": ?']);
    const port = signatureBase({ method: 'GET', url: 'http://example.com:8080/a?', headers: new Headers() }, entry('x=("@authority" "@query")', 'x'));
    expect(port.split('\n').slice(0, -1)).toEqual(['"@authority": example.com:8080', '"@query": ?']);
  });

  it('§2.1: field values are trimmed and repeated fields joined with ", "', () => {
    const headers = new Headers();
    headers.append('x-list', '  a ');
    headers.append('x-list', 'b');
    const base = signatureBase({ method: 'GET', url: RFC_URL, headers }, entry('x=("x-list")', 'x'));
    expect(base.split('\n')[0]).toBe('"x-list": a, b');
  });
});
