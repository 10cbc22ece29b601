// RFC 9421 HTTP Message Signatures (Ed25519, §3.3.6) and RFC 9530
// Content-Digest, as every agency and admin request to the coordinator uses
// them. Pure: the caller supplies the clock and the nonce store.
import { ed25519 } from '@noble/curves/ed25519.js';
import { nodeVerifyEd25519 } from './signed.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { parseDictionary, serializeInnerList, serializeByteSequence, type InnerList } from 'structured-headers';
import { equalBytes, utf8 } from './bytes.js';

/**
 * Components every Concordat request signature covers, in the order
 * {@link signRequest} lists them. `@authority` binds a request to the
 * coordinator it was addressed to, so it cannot be replayed to another host.
 */
export const COVERED_COMPONENTS = ['@method', '@authority', '@path', '@query', 'content-digest'] as const;
/** Header naming the epoch an upload is for; a request that carries it must sign it. */
export const EPOCH_FIELD = 'concordat-epoch';
export const SIGNATURE_LABEL = 'sig1';
/** The RFC 9421 `tag` of Concordat PSI v2 requests (protocol/SPEC.md §8.1); a v1 client's `concordat-v1` is refused. */
export const SIGNATURE_TAG = 'concordat-v2';
export const SIGNATURE_ALG = 'ed25519';
/** Refuse signatures older (or further in the future) than this (seconds). */
export const MAX_SIGNATURE_AGE_S = 300;

export type SignatureFailure =
  | 'missing'
  | 'malformed'
  | 'components'
  | 'algorithm'
  | 'unknown-key'
  | 'stale'
  | 'digest'
  | 'bad-signature'
  | 'replay';

export class SignatureError extends Error {
  override readonly name = 'SignatureError';
  constructor(
    readonly reason: SignatureFailure,
    message: string,
  ) {
    super(message);
  }
}

function b64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** RFC 9530 §2: `sha-256=:<base64>:`. */
export function contentDigest(body: Uint8Array): string {
  return `sha-256=${serializeByteSequence(sha256(body))}`;
}

/** Parse a Content-Digest header; returns the SHA-256 bytes, or undefined if absent/malformed. */
export function parseContentDigest(header: string | null | undefined): Uint8Array | undefined {
  if (!header) return undefined;
  try {
    const item = parseDictionary(header).get('sha-256');
    if (!item || Array.isArray(item[0])) return undefined;
    return byteSequence(item[0]);
  } catch {
    return undefined;
  }
}

function byteSequence(v: unknown): Uint8Array | undefined {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (v instanceof Uint8Array) return v;
  return undefined;
}

export interface HeaderLookup {
  get(name: string): string | null | undefined;
}

/**
 * Where a request is addressed: its absolute URL (which gives `@authority`,
 * `@path`, `@query`, `@scheme` and `@target-uri`), or its parts. Without a
 * URL or an authority a verifier takes `@authority` from the Host header,
 * which is where HTTP/1.1 carries it (RFC 9421 §2.2.3).
 */
export type RequestTarget = { url: string | URL } | { authority?: string; path: string; query?: string };

/** A request as the signature base sees it (RFC 9421 §2.1, §2.2). */
export type SignedMessage = RequestTarget & { method: string; headers: HeaderLookup };

interface Target {
  scheme?: string;
  authority?: string;
  path: string;
  /** With the leading `?`; `?` alone when the request has no query (RFC 9421 §2.2.7). */
  query: string;
}

function hasUrl(t: RequestTarget): t is { url: string | URL } {
  return 'url' in t && t.url !== undefined;
}

function toTarget(t: RequestTarget, headers: HeaderLookup): Target {
  if (hasUrl(t)) {
    // The WHATWG URL parser lowercases the host and drops the scheme's default
    // port, which is the normalisation §2.2.3 asks of `@authority`.
    const u = typeof t.url === 'string' ? new URL(t.url) : t.url;
    return { scheme: u.protocol.replace(/:$/, '').toLowerCase(), authority: u.host, path: u.pathname || '/', query: u.search || '?' };
  }
  const authority = t.authority ?? headers.get('host') ?? undefined;
  const q = t.query ?? '';
  return {
    ...(authority ? { authority: authority.trim().toLowerCase() } : {}),
    path: t.path || '/',
    query: q === '' ? '?' : q.startsWith('?') ? q : `?${q}`,
  };
}

const FIELD_NAME_RE = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** RFC 9421 §2.1: the field's values, each line trimmed, joined by `, ` (a Headers object already joins them). */
function fieldValue(headers: HeaderLookup, name: string): string | undefined {
  const v = headers.get(name);
  return v === null || v === undefined ? undefined : v.replace(/^[ \t]+|[ \t]+$/g, '');
}

function derivedValue(name: string, method: string, t: Target): string | undefined {
  const requestTarget = `${t.path}${t.query === '?' ? '' : t.query}`;
  switch (name) {
    // §2.2.1: the method is case-sensitive and is not normalised.
    case '@method':
      return method;
    case '@authority':
      return t.authority;
    case '@scheme':
      return t.scheme;
    case '@target-uri':
      return t.scheme && t.authority ? `${t.scheme}://${t.authority}${requestTarget}` : undefined;
    case '@request-target':
      return requestTarget;
    case '@path':
      return t.path;
    case '@query':
      return t.query;
    default:
      return undefined;
  }
}

const DERIVED = new Set(['@method', '@authority', '@scheme', '@target-uri', '@request-target', '@path', '@query']);

/** The covered component names of a Signature-Input entry; throws on anything this verifier cannot reproduce. */
function componentNames(input: InnerList): string[] {
  const names: string[] = [];
  for (const [value, params] of input[0]) {
    if (typeof value !== 'string') throw new SignatureError('malformed', 'covered components must be strings');
    const derived = value.startsWith('@');
    if (derived ? !DERIVED.has(value) : !FIELD_NAME_RE.test(value)) {
      throw new SignatureError('components', `covered component "${value}" is not supported`);
    }
    // §2.1.1–§2.1.5 and §2.4 parameters change what a component's value is; refuse rather than sign something else.
    if (params.size > 0) throw new SignatureError('components', `parameters on covered component "${value}" are not supported`);
    // §2.5: a component identifier must not appear twice.
    if (names.includes(value)) throw new SignatureError('malformed', `covered component "${value}" is listed twice`);
    names.push(value);
  }
  return names;
}

/**
 * RFC 9421 §2.5 signature base of `m` for one parsed Signature-Input entry:
 * one line per covered component in the entry's order, then
 * `@signature-params`, the entry itself serialised with its parameters in
 * the order they came (§2.3). Throws {@link SignatureError} `components` for
 * a component the request does not have or this module cannot derive.
 */
export function signatureBase(m: SignedMessage, input: InnerList): string {
  const t = toTarget(m, m.headers);
  const lines = componentNames(input).map((name) => {
    const value = name.startsWith('@') ? derivedValue(name, m.method, t) : fieldValue(m.headers, name);
    if (value === undefined) throw new SignatureError('components', `covered component "${name}" is not in the request`);
    return `"${name}": ${value}`;
  });
  lines.push(`"@signature-params": ${serializeInnerList(input)}`);
  return lines.join('\n');
}

export type SignInput = ({ url: string | URL } | { authority: string; path: string; query?: string }) & {
  method: string;
  body?: Uint8Array;
  /** Further header fields to sign and send (e.g. Concordat-Epoch), covered after Content-Digest. */
  headers?: Readonly<Record<string, string>> | undefined;
  keyid: string;
  secretKey: Uint8Array;
  created: number;
  nonce: string;
  /** Optional `expires` parameter (seconds since the epoch). */
  expires?: number;
  /**
   * Another Ed25519 (RFC 8032) implementation to sign with, e.g. `node:crypto`'s
   * (about 20× faster than pure JS); Ed25519 is deterministic, so the
   * signature is the same bytes. Default @noble/curves.
   */
  sign?: (message: Uint8Array, secretKey: Uint8Array) => Uint8Array;
};

// Headers this module sets itself; a caller's copy would be overwritten on the wire.
const OWN_FIELDS = new Set(['content-digest', 'signature', 'signature-input']);

/**
 * Headers to add to a request: Content-Digest, Signature-Input and Signature,
 * covering {@link COVERED_COMPONENTS} and then every field in `headers`.
 */
export function signRequest(i: SignInput): Record<string, string> {
  const digest = contentDigest(i.body ?? new Uint8Array(0));
  const fields = new Map<string, string>([['content-digest', digest]]);
  for (const [k, v] of Object.entries(i.headers ?? {})) {
    const name = k.toLowerCase();
    if (!OWN_FIELDS.has(name)) fields.set(name, v);
  }
  const covered = [...COVERED_COMPONENTS, ...[...fields.keys()].filter((n) => n !== 'content-digest')];
  const params = new Map<string, string | number>([['created', i.created]]);
  if (i.expires !== undefined) params.set('expires', i.expires);
  params.set('keyid', i.keyid);
  params.set('nonce', i.nonce);
  params.set('alg', SIGNATURE_ALG);
  params.set('tag', SIGNATURE_TAG);
  const input: InnerList = [covered.map((c) => [c, new Map()]), params];
  const target = 'url' in i ? { url: i.url } : { authority: i.authority, path: i.path, query: i.query ?? '?' };
  const base = signatureBase({ ...target, method: wireMethod(i.method), headers: { get: (n) => fields.get(n) } }, input);
  const sig = (i.sign ?? ed25519.sign)(utf8(base), i.secretKey);
  return {
    'content-digest': digest,
    'signature-input': `${SIGNATURE_LABEL}=${serializeInnerList(input)}`,
    signature: `${SIGNATURE_LABEL}=:${b64(sig)}:`,
  };
}

/** The method as fetch sends it: the Fetch standard uppercases these six, and only these. */
function wireMethod(method: string): string {
  return /^(delete|get|head|options|post|put)$/i.test(method) ? method.toUpperCase() : method;
}

export type VerifyInput = RequestTarget & {
  method: string;
  headers: HeaderLookup;
  body: Uint8Array;
  /** Seconds since the epoch. */
  now: number;
  /** Ed25519 public key for a keyid, or undefined when unknown. */
  lookupKey: (keyid: string) => Promise<Uint8Array | undefined> | Uint8Array | undefined;
  /** Records a nonce for keyid; returns false when it was already seen (a replay). */
  useNonce: (keyid: string, nonce: string, created: number) => Promise<boolean> | boolean;
  maxAgeS?: number;
};

export interface Verified {
  keyid: string;
  created: number;
  nonce: string;
}

function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/**
 * Verify an incoming request against the Signature-Input it carries (RFC 9421
 * §3.2): the base is rebuilt from that entry's components and parameters as
 * received, after this policy — headers present and well formed; the required
 * components (and the epoch header when sent) covered and present; `created`,
 * `keyid`, `nonce` present; `alg` ed25519 when given; `tag` ours; `created`
 * fresh and `expires` not past; Content-Digest matching the body; the key
 * known; the Ed25519 signature; and only then the nonce, so an attacker cannot
 * burn nonces with unsigned requests.
 */
export async function verifyRequest(v: VerifyInput): Promise<Verified> {
  const sigInput = v.headers.get('signature-input');
  const sigHeader = v.headers.get('signature');
  if (!sigInput || !sigHeader) throw new SignatureError('missing', 'Signature-Input and Signature headers are required');
  let input: InnerList;
  let sigBytes: Uint8Array;
  try {
    const entry = parseDictionary(sigInput).get(SIGNATURE_LABEL);
    const sigEntry = parseDictionary(sigHeader).get(SIGNATURE_LABEL);
    if (!entry || !Array.isArray(entry[0]) || !sigEntry || Array.isArray(sigEntry[0])) throw new Error('label');
    input = entry as InnerList;
    sigBytes = byteSequence(sigEntry[0]) ?? new Uint8Array(0);
  } catch {
    throw new SignatureError('malformed', `Signature-Input / Signature must carry a "${SIGNATURE_LABEL}" entry`);
  }

  const covered = componentNames(input);
  const required: string[] = [...COVERED_COMPONENTS];
  if (fieldValue(v.headers, EPOCH_FIELD) !== undefined) required.push(EPOCH_FIELD);
  const missing = required.filter((c) => !covered.includes(c));
  if (missing.length > 0) {
    throw new SignatureError('components', `signature must cover ${missing.map((c) => `"${c}"`).join(' ')}`);
  }
  // Every covered component must be derivable before any key is looked up.
  const base = signatureBase(v, input);

  const p = input[1];
  const created = p.get('created');
  const expires = p.get('expires');
  const keyid = p.get('keyid');
  const nonce = p.get('nonce');
  const alg = p.get('alg');
  const tag = p.get('tag');
  if (!isInteger(created)) throw new SignatureError('malformed', 'signature parameter "created" (an integer) is required');
  if (typeof keyid !== 'string') throw new SignatureError('malformed', 'signature parameter "keyid" (a string) is required');
  if (typeof nonce !== 'string') throw new SignatureError('malformed', 'signature parameter "nonce" (a string) is required');
  if (nonce.length < 16 || nonce.length > 128) throw new SignatureError('malformed', 'signature parameter "nonce" must be 16..128 characters');
  if (expires !== undefined && !isInteger(expires)) throw new SignatureError('malformed', 'signature parameter "expires" must be an integer');
  // §2.3: alg is optional; when given it must name the key's algorithm (§3.3.6).
  if (alg !== undefined && alg !== SIGNATURE_ALG) throw new SignatureError('algorithm', `signature parameter "alg" must be "${SIGNATURE_ALG}"`);
  if (tag !== SIGNATURE_TAG) throw new SignatureError('algorithm', `signature parameter "tag" must be "${SIGNATURE_TAG}"`);

  const maxAge = v.maxAgeS ?? MAX_SIGNATURE_AGE_S;
  if (Math.abs(v.now - created) > maxAge) throw new SignatureError('stale', `signature created more than ${maxAge} s from the coordinator's clock`);
  if (expires !== undefined && v.now > expires) throw new SignatureError('stale', 'signature has expired ("expires" is past)');

  const digest = parseContentDigest(v.headers.get('content-digest'));
  if (!digest || !equalBytes(digest, sha256(v.body))) throw new SignatureError('digest', 'Content-Digest is missing or does not match the body');

  const key = await v.lookupKey(keyid);
  if (!key) throw new SignatureError('unknown-key', 'unknown key id');
  const ok = sigBytes.length === 64 && (await verifyEd25519(sigBytes, utf8(base), key));
  if (!ok) throw new SignatureError('bad-signature', 'signature does not verify');
  if (!(await v.useNonce(keyid, nonce, created))) throw new SignatureError('replay', 'nonce already used');
  return { keyid, created, nonce };
}

let webCryptoEd25519: boolean | undefined;

/**
 * Ed25519 verification (RFC 8032), on every request: on Node OpenSSL called
 * synchronously with the key imported once (node:crypto); elsewhere WebCrypto
 * where the runtime has it (Workers), else @noble/curves. All reject
 * non-canonical signatures and keys. WebCrypto on Node is the same OpenSSL
 * check, but a round trip through the thread pool and a key import per request.
 */
async function verifyEd25519(sig: Uint8Array, msg: Uint8Array, key: Uint8Array): Promise<boolean> {
  const onNode = nodeVerifyEd25519(sig, msg, key);
  if (onNode !== undefined) return onNode;
  const subtle = globalThis.crypto?.subtle;
  if (subtle && webCryptoEd25519 !== false) {
    try {
      const k = await subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']);
      webCryptoEd25519 = true;
      return await subtle.verify({ name: 'Ed25519' }, k, sig as Uint8Array<ArrayBuffer>, msg as Uint8Array<ArrayBuffer>);
    } catch (e) {
      // A runtime without Ed25519 in WebCrypto says so on import; a bad key is just invalid.
      if (webCryptoEd25519 === undefined && e instanceof Error && e.name === 'NotSupportedError') webCryptoEd25519 = false;
      else return false;
    }
  }
  try {
    return ed25519.verify(sig, msg, key);
  } catch {
    return false;
  }
}

/** New Ed25519 key pair for signing requests. */
export function generateSigningKey(rng: (n: number) => Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = rng(32);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export { b64 as toBase64, unb64 as fromBase64 };
