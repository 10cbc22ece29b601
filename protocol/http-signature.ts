// RFC 9421 HTTP Message Signatures (Ed25519, §3.3.6) and RFC 9530
// Content-Digest, as every agency and admin request to the coordinator uses
// them. Pure: the caller supplies the clock and the nonce store.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { parseDictionary, serializeInnerList, serializeByteSequence, Token, type InnerList } from 'structured-headers';
import { equalBytes, utf8 } from './bytes.js';

/** Components every Concordat request signature must cover, in this order. */
export const COVERED_COMPONENTS = ['@method', '@path', '@query', 'content-digest'] as const;
export const SIGNATURE_LABEL = 'sig1';
export const SIGNATURE_TAG = 'concordat-v1';
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
    const v = item[0] as unknown;
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    if (v instanceof Uint8Array) return v;
    return undefined;
  } catch {
    return undefined;
  }
}

export interface SignedComponents {
  method: string;
  /** Path without query, e.g. `/v1/me`. */
  path: string;
  /** Query including the leading `?`, or `?` when empty (RFC 9421 §2.2.7). */
  query: string;
  contentDigest: string;
}

export interface SignatureParams {
  created: number;
  keyid: string;
  nonce: string;
}

function paramsList(p: SignatureParams): string {
  const list: InnerList = [
    COVERED_COMPONENTS.map((c) => [c, new Map()]),
    new Map<string, string | number | Token>([
      ['created', p.created],
      ['keyid', p.keyid],
      ['nonce', p.nonce],
      ['alg', 'ed25519'],
      ['tag', SIGNATURE_TAG],
    ]),
  ];
  return serializeInnerList(list);
}

/** RFC 9421 §2.5 signature base. */
export function signatureBase(c: SignedComponents, signatureParams: string): string {
  const lines = [
    `"@method": ${c.method.toUpperCase()}`,
    `"@path": ${c.path}`,
    `"@query": ${c.query === '' ? '?' : c.query}`,
    `"content-digest": ${c.contentDigest}`,
    `"@signature-params": ${signatureParams}`,
  ];
  return lines.join('\n');
}

export interface SignInput {
  method: string;
  path: string;
  query?: string;
  body?: Uint8Array;
  keyid: string;
  secretKey: Uint8Array;
  created: number;
  nonce: string;
}

/** Headers to add to a request: Content-Digest, Signature-Input and Signature. */
export function signRequest(i: SignInput): Record<string, string> {
  const digest = contentDigest(i.body ?? new Uint8Array(0));
  const params = paramsList({ created: i.created, keyid: i.keyid, nonce: i.nonce });
  const base = signatureBase({ method: i.method, path: i.path, query: i.query ?? '?', contentDigest: digest }, params);
  const sig = ed25519.sign(utf8(base), i.secretKey);
  return {
    'content-digest': digest,
    'signature-input': `${SIGNATURE_LABEL}=${params}`,
    signature: `${SIGNATURE_LABEL}=:${b64(sig)}:`,
  };
}

export interface VerifyInput {
  method: string;
  path: string;
  query: string;
  headers: { get(name: string): string | null | undefined };
  body: Uint8Array;
  /** Seconds since the epoch. */
  now: number;
  /** Ed25519 public key for a keyid, or undefined when unknown. */
  lookupKey: (keyid: string) => Promise<Uint8Array | undefined> | Uint8Array | undefined;
  /** Records a nonce for keyid; returns false when it was already seen (a replay). */
  useNonce: (keyid: string, nonce: string, created: number) => Promise<boolean> | boolean;
  maxAgeS?: number;
}

export interface Verified {
  keyid: string;
  created: number;
  nonce: string;
}

/**
 * Verify an incoming request. Checks, in order: headers present and well
 * formed, exact covered components and alg, freshness, Content-Digest against
 * the body, the key, the Ed25519 signature, and only then the nonce — so an
 * attacker cannot burn nonces with unsigned requests.
 */
export async function verifyRequest(v: VerifyInput): Promise<Verified> {
  const sigInput = v.headers.get('signature-input');
  const sigHeader = v.headers.get('signature');
  if (!sigInput || !sigHeader) throw new SignatureError('missing', 'Signature-Input and Signature headers are required');
  let inner: InnerList;
  let sigBytes: Uint8Array;
  try {
    const inputs = parseDictionary(sigInput);
    const sigs = parseDictionary(sigHeader);
    const entry = inputs.get(SIGNATURE_LABEL);
    const sigEntry = sigs.get(SIGNATURE_LABEL);
    if (!entry || !Array.isArray(entry[0]) || !sigEntry || Array.isArray(sigEntry[0])) throw new Error('label');
    inner = entry as InnerList;
    const raw = sigEntry[0] as unknown;
    sigBytes = raw instanceof ArrayBuffer ? new Uint8Array(raw) : raw instanceof Uint8Array ? raw : new Uint8Array(0);
  } catch {
    throw new SignatureError('malformed', `Signature-Input / Signature must carry a "${SIGNATURE_LABEL}" entry`);
  }
  const components = inner[0].map((it) => it[0]);
  if (components.length !== COVERED_COMPONENTS.length || components.some((c, i) => c !== COVERED_COMPONENTS[i])) {
    throw new SignatureError('components', `signature must cover exactly ${COVERED_COMPONENTS.map((c) => `"${c}"`).join(' ')}`);
  }
  const p = inner[1];
  const created = p.get('created');
  const keyid = p.get('keyid');
  const nonce = p.get('nonce');
  const alg = p.get('alg');
  const tag = p.get('tag');
  if (typeof created !== 'number' || !Number.isInteger(created) || typeof keyid !== 'string' || typeof nonce !== 'string') {
    throw new SignatureError('malformed', 'signature parameters created, keyid and nonce are required');
  }
  if (nonce.length < 16 || nonce.length > 128) throw new SignatureError('malformed', 'nonce must be 16..128 characters');
  if (alg !== 'ed25519' || tag !== SIGNATURE_TAG) throw new SignatureError('algorithm', `alg must be "ed25519" and tag "${SIGNATURE_TAG}"`);
  const maxAge = v.maxAgeS ?? MAX_SIGNATURE_AGE_S;
  if (Math.abs(v.now - created) > maxAge) throw new SignatureError('stale', `signature created more than ${maxAge} s from the coordinator's clock`);
  const digestHeader = v.headers.get('content-digest');
  const digest = parseContentDigest(digestHeader);
  if (!digest || !equalBytes(digest, sha256(v.body))) throw new SignatureError('digest', 'Content-Digest is missing or does not match the body');
  const key = await v.lookupKey(keyid);
  if (!key) throw new SignatureError('unknown-key', 'unknown key id');
  const base = signatureBase(
    { method: v.method, path: v.path, query: v.query, contentDigest: digestHeader as string },
    paramsList({ created, keyid, nonce }),
  );
  const ok = sigBytes.length === 64 && (await verifyEd25519(sigBytes, utf8(base), key));
  if (!ok) throw new SignatureError('bad-signature', 'signature does not verify');
  if (!(await v.useNonce(keyid, nonce, created))) throw new SignatureError('replay', 'nonce already used');
  return { keyid, created, nonce };
}

let webCryptoEd25519: boolean | undefined;

/**
 * Ed25519 verification (RFC 8032): WebCrypto where the runtime has it (Node ≥ 20,
 * Workers; about 7× faster than pure JS, which matters on every request), else
 * @noble/curves. Both reject non-canonical signatures and keys.
 */
async function verifyEd25519(sig: Uint8Array, msg: Uint8Array, key: Uint8Array): Promise<boolean> {
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
