// Signed documents (protocol/SPEC.md §8.3): Ed25519 (RFC 8032 §5.1) over the
// context string, the document type and the RFC 8785 canonical form. Agencies
// sign what they agree to, so a coordinator that relays documents can drop
// them but cannot alter or invent them.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { bytesToHex, concatBytes, utf8 } from './bytes.js';
import { canonicalJson } from './canonical.js';
import { V2_DOCUMENT_TYPE, V2_LABEL, type DocumentType } from './constants.js';
import { DecodeError } from './errors.js';
import { nodeBuiltin } from './engine/sha512.js';

export const SIGNING_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const FINGERPRINT_BYTES = 16;

/** A document as it travels: the JSON value and the signer's 64-byte signature over it. */
export interface SignedDocument<T = unknown> {
  readonly document: T;
  readonly signature: Uint8Array;
}

const TYPES: ReadonlySet<string> = new Set(Object.values(V2_DOCUMENT_TYPE));

/** A document that does not match its schema; `field` is the path of the first issue. */
export class DocumentError extends Error {
  override readonly name = 'DocumentError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field || '(document)'}: ${detail}`);
  }
}

function pathOf(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** Parse with a strict schema; the first issue becomes a DocumentError naming its path. */
export function parseDocument<T extends z.ZodType>(schema: T, value: unknown, label: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  // An unknown member is named itself, not the object that holds it.
  const path = issue ? [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [])] : [];
  throw new DocumentError(pathOf(label, path), issue?.message ?? 'invalid');
}

function assertType(type: string): asserts type is DocumentType {
  if (!TYPES.has(type)) throw new DocumentError('type', `unknown document type "${type}"`);
}

function assertLength(field: string, b: Uint8Array, n: number): void {
  if (!(b instanceof Uint8Array) || b.length !== n) {
    throw new DecodeError(field, 'length', `expected ${n} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`);
  }
}

/** §8.3: UTF8(contextString) ‖ 0x00 ‖ UTF8(type) ‖ 0x00 ‖ JCS(doc). */
export function signingInput(type: DocumentType, doc: unknown): Uint8Array {
  assertType(type);
  const zero = new Uint8Array([0]);
  return concatBytes(V2_LABEL.signature, zero, utf8(type), zero, canonicalJson(doc));
}

/** RFC 8032 §5.1.5: the public key of a 32-byte Ed25519 secret key. */
export function signingPublicKey(secretKey: Uint8Array): Uint8Array {
  assertLength('secretKey', secretKey, SIGNING_KEY_BYTES);
  return ed25519.getPublicKey(secretKey);
}

/** RFC 8032 §5.1.6 signature (deterministic) over signingInput(type, doc). */
export function signDocument(type: DocumentType, doc: unknown, secretKey: Uint8Array): Uint8Array {
  assertLength('secretKey', secretKey, SIGNING_KEY_BYTES);
  const msg = signingInput(type, doc);
  return nodeSignEd25519(msg, secretKey) ?? ed25519.sign(msg, secretKey);
}

/**
 * RFC 8032 §5.1.7 verification with canonical encodings required (not ZIP-215)
 * and small-order public keys refused, as libsodium does: a key of small order
 * would let one signature verify for more than one message. Wrong lengths and
 * non-canonical documents throw; only a well-formed signature that verifies is `true`.
 */
export function verifyDocument(type: DocumentType, doc: unknown, publicKey: Uint8Array, signature: Uint8Array): boolean {
  assertLength('publicKey', publicKey, SIGNING_KEY_BYTES);
  assertLength('signature', signature, SIGNATURE_BYTES);
  return verifyEd25519(signature, signingInput(type, doc), publicKey);
}

type NodeCrypto = typeof import('node:crypto');
type NodeKey = import('node:crypto').KeyObject;

/** RFC 8410 §4 SubjectPublicKeyInfo of an Ed25519 key, before its 32 bytes. */
const ED25519_SPKI_PREFIX = new Uint8Array([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const KEY_CACHE_SIZE = 256;
// Signers are a few pinned keys (agencies, the admin): each is decoded and
// imported once and serves every later signature.
const usableKeys = new Map<string, boolean>();
const nodeKeys = new Map<string, NodeKey | null>();
let nodeCrypto: NodeCrypto | null | undefined;

function remember<V>(cache: Map<string, V>, id: string, value: V): V {
  if (cache.size >= KEY_CACHE_SIZE) cache.clear();
  cache.set(id, value);
  return value;
}

/** A canonical encoding of a point that is not of small order: the only keys a document signature may verify under. */
function usableKey(id: string, publicKey: Uint8Array): boolean {
  const known = usableKeys.get(id);
  if (known !== undefined) return known;
  let usable: boolean;
  try {
    usable = !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    usable = false;
  }
  return remember(usableKeys, id, usable);
}

/**
 * OpenSSL's Ed25519 verification through node:crypto (synchronous, with the
 * imported key kept): undefined where node:crypto is not there (Workers,
 * browsers) or refuses the key, so the caller decides another way.
 */
export function nodeVerifyEd25519(signature: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean | undefined {
  nodeCrypto ??= nodeBuiltin<NodeCrypto>('node:crypto') ?? null;
  if (!nodeCrypto || publicKey.length !== SIGNING_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return undefined;
  const id = bytesToHex(publicKey);
  let key = nodeKeys.get(id);
  if (key === undefined) {
    try {
      key = nodeCrypto.createPublicKey({ key: Buffer.from(concatBytes(ED25519_SPKI_PREFIX, publicKey)), format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
    remember(nodeKeys, id, key);
  }
  if (!key) return undefined;
  try {
    return nodeCrypto.verify(null, msg, key, signature);
  } catch {
    return undefined;
  }
}

// RFC 8410 §7: a PKCS #8 OneAsymmetricKey for Ed25519 is this prefix and the 32-byte seed.
const PKCS8_ED25519_PREFIX = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
// Keyed by the caller's own array, so no copy of a secret is kept beyond its owner's.
const privateKeys = new WeakMap<Uint8Array, NodeKey>();

/**
 * RFC 8032 §5.1.6 signing through node:crypto (OpenSSL, about twenty times
 * faster than the portable code); RFC 8032 signatures are deterministic, so
 * the bytes are @noble/curves' (test/http-signature-interop.test.ts).
 * Undefined where node:crypto is not there.
 */
export function nodeSignEd25519(msg: Uint8Array, secretKey: Uint8Array): Uint8Array | undefined {
  nodeCrypto ??= nodeBuiltin<NodeCrypto>('node:crypto') ?? null;
  if (!nodeCrypto || secretKey.length !== SIGNING_KEY_BYTES) return undefined;
  let key = privateKeys.get(secretKey);
  if (!key) {
    key = nodeCrypto.createPrivateKey({ key: Buffer.from(concatBytes(PKCS8_ED25519_PREFIX, secretKey)), format: 'der', type: 'pkcs8' });
    privateKeys.set(secretKey, key);
  }
  return new Uint8Array(nodeCrypto.sign(null, msg, key));
}

/**
 * On Node a signature is first checked by OpenSSL (node:crypto), about
 * thirty times faster than the portable code. OpenSSL's check is
 * cofactorless and compares R byte for byte, so what it accepts the strict
 * portable check accepts too; what it refuses is decided by @noble/curves, so
 * every runtime (Node, Workers, the browser) gives the same verdict.
 */
function verifyEd25519(signature: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  if (!usableKey(bytesToHex(publicKey), publicKey)) return false;
  if (nodeVerifyEd25519(signature, msg, publicKey) === true) return true;
  try {
    return ed25519.verify(signature, msg, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * For checks on received documents: a signature of the wrong length (or not
 * bytes at all) is simply not a valid signature. The key is the verifier's
 * own pinned key, so a bad key is still an error.
 */
export function signatureVerifies(type: DocumentType, doc: unknown, publicKey: Uint8Array, signature: unknown): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
  return verifyDocument(type, doc, publicKey, signature);
}

/**
 * §8.3 fingerprint of a signing key, for comparing keys out of band (read
 * aloud on the phone): SHA-256(UTF8("Fingerprint-" ‖ contextString) ‖ key)[0..16),
 * as 8 space-separated groups of 4 lower-case hex digits.
 */
export function fingerprint(signingKey: Uint8Array): string {
  assertLength('signingKey', signingKey, SIGNING_KEY_BYTES);
  const hex = bytesToHex(sha256(concatBytes(V2_LABEL.fingerprint, signingKey)).subarray(0, FINGERPRINT_BYTES));
  return hex.match(/.{4}/g)!.join(' ');
}

// ---- Field schemas shared by the §8 documents ----

const HEX32_RE = /^[0-9a-f]{64}$/;
export const PAIR_SEPARATOR = '~';
// C0 controls and DEL: never meaningful in an identifier, and invisible when
// a document is shown to the person who signs it.
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

const codePoints = (s: string): number => [...s].length;
// Lone surrogates are refused here so that a received document fails its
// schema (and is refused as malformed) rather than failing canonicalisation.
const wellFormed = (s: string): boolean => !/\p{Cs}/u.test(s);

/** 32 bytes as 64 lower-case hex digits (one spelling per value, so one signature per value). */
export const hex32Schema = z.string().regex(HEX32_RE, 'must be 32 bytes as lower-case hex');

/** A name: 1..max code points, no control characters. */
export function nameSchema(max = 128) {
  return z
    .string()
    .refine(wellFormed, 'must not contain lone surrogates')
    .refine((s) => codePoints(s) >= 1 && codePoints(s) <= max, `must be 1..${max} characters`)
    .refine((s) => !CONTROL_RE.test(s), 'must not contain control characters');
}

/**
 * An agency or agreement identifier: a name without "~", the separator of
 * pair identifiers (§8.5), so that every pair identifier has one reading.
 */
export function idSchema(max = 64) {
  return nameSchema(max).refine((s) => !s.includes(PAIR_SEPARATOR), `must not contain "${PAIR_SEPARATOR}"`);
}

/** Free text: 1..max code points (line breaks allowed). */
export function textSchema(max: number) {
  return z
    .string()
    .refine(wellFormed, 'must not contain lone surrogates')
    .refine((s) => codePoints(s) >= 1 && codePoints(s) <= max, `must be 1..${max} characters`);
}
