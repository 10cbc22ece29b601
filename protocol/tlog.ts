// The audit transparency log (protocol/SPEC.md §9): a Merkle tree over the
// coordinator's audit entries in the manner of Certificate Transparency
// (RFC 9162 §2.1), its redactable leaves and its signed heads. Pure: the
// tree's stored hashes come in through `hashAt`, keys and times are parameters.
//
// Every hash a proof needs is the hash of a complete, aligned subtree (§9.3),
// and such a subtree's hash never changes once its last leaf is appended. The
// coordinator stores each one once, in append order (`storedHashIndex`), so a
// proof over a tree of 10^6 leaves reads O(log n) stored hashes and never
// rehashes leaves.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { bytesToHex, concatBytes, equalBytes, hexToBytes, i2osp, utf8 } from './bytes.js';
import { canonicalJson, type JsonValue } from './canonical.js';
import { V2_DOCUMENT_TYPE, V2_LABEL } from './constants.js';
import { DecodeError } from './errors.js';
import { hex32Schema, parseDocument, signatureVerifies, signDocument, signingPublicKey } from './signed.js';

export const TLOG_HASH_BYTES = 32;

// ---- RFC 9162 §2.1.1: leaf and node hashes, the Merkle Tree Hash ----

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 9162 §2.1.1: SHA-256(0x00 ‖ leaf). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256(concatBytes(LEAF_PREFIX, leaf));
}

/** RFC 9162 §2.1.1: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(NODE_PREFIX, left, right));
}

/** RFC 9162 §2.1.1: the hash of the empty tree, SHA-256 of no bytes. */
export const EMPTY_TREE_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** The largest power of two strictly below n (n ≥ 2): where RFC 9162 §2.1.1 splits D[n]. */
export function splitPoint(n: number): number {
  if (!Number.isSafeInteger(n) || n < 2) throw new RangeError(`splitPoint: ${n} < 2`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number): boolean => n >= 1 && 2 ** Math.round(Math.log2(n)) === n;

function assertSize(name: string, n: number, min = 0): void {
  if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`${name}: expected an integer ≥ ${min}, got ${n}`);
}

// ---- §9.3 stored hashes ----

/**
 * A complete subtree: the 2^level leaves from index·2^level on. Level 0 is a
 * leaf hash; the coordinator stores every such hash once all its leaves exist.
 */
export interface TreeNode {
  readonly level: number;
  readonly index: number;
}

/** The stored hash of a complete subtree; throws when the store lacks it. */
export type HashAt = (level: number, index: number) => Uint8Array;

function popcount(n: number): number {
  let c = 0;
  for (let v = n; v > 0; v = Math.floor(v / 2)) c += v % 2;
  return c;
}

/**
 * §9.3: how many hashes the tree of n leaves stores. Appending leaf i stores
 * its hash and one parent per trailing 1 bit of i, so n leaves store
 * 2n − popcount(n) hashes.
 */
export function storedHashCount(n: number): number {
  assertSize('storedHashCount', n);
  return 2 * n - popcount(n);
}

/**
 * §9.3: the position of a subtree's hash in append order. Node (level, index)
 * is stored while appending its last leaf m = (index+1)·2^level − 1, after
 * the storedHashCount(m) hashes of the leaves before it, the leaf hash and the
 * level − 1 parents below it.
 */
export function storedHashIndex(level: number, index: number): number {
  assertSize('storedHashIndex level', level);
  assertSize('storedHashIndex index', index);
  const last = (index + 1) * 2 ** level - 1;
  return storedHashCount(last) + level;
}

/**
 * §9.3: the hashes appending leaf i (0-based) to a tree of i leaves stores,
 * in storedHashIndex order: the leaf hash, then one parent per trailing 1 bit
 * of i, each combining the left sibling already stored with the hash before it.
 */
export function appendHashes(i: number, leaf: Uint8Array, hashAt: HashAt): Array<TreeNode & { hash: Uint8Array }> {
  assertSize('appendHashes', i);
  const out: Array<TreeNode & { hash: Uint8Array }> = [{ level: 0, index: i, hash: leaf }];
  let h = leaf;
  for (let level = 0, index = i; index % 2 === 1; level++, index = (index - 1) / 2) {
    h = nodeHash(hashAt(level, index - 1), h);
    out.push({ level: level + 1, index: (index - 1) / 2, hash: h });
  }
  return out;
}

/** The stored hashes a computation reads, in the order it first reads them (run with dummy hashes). */
export function nodesRead(compute: (hashAt: HashAt) => unknown): TreeNode[] {
  const seen = new Map<string, TreeNode>();
  const dummy = new Uint8Array(TLOG_HASH_BYTES);
  compute((level, index) => {
    const key = `${level}/${index}`;
    if (!seen.has(key)) seen.set(key, { level, index });
    return dummy;
  });
  return [...seen.values()];
}

/**
 * RFC 9162 §2.1.1 MTH(D[lo:hi]) from stored hashes. Every range the RFC's
 * recursions reach starts at a multiple of the next power of two ≥ its size,
 * so a range whose size is a power of two is one stored complete subtree.
 */
export function subtreeHash(lo: number, hi: number, hashAt: HashAt): Uint8Array {
  const n = hi - lo;
  if (n === 0) return EMPTY_TREE_ROOT;
  if (isPowerOfTwo(n)) {
    if (lo % n !== 0) throw new RangeError(`subtreeHash: [${lo}, ${hi}) is not an aligned subtree`);
    return hashAt(Math.log2(n), lo / n);
  }
  const k = splitPoint(n);
  return nodeHash(subtreeHash(lo, lo + k, hashAt), subtreeHash(lo + k, hi, hashAt));
}

/** RFC 9162 §2.1.1: the root of the tree of `size` leaves. */
export function treeRoot(size: number, hashAt: HashAt): Uint8Array {
  assertSize('treeRoot', size);
  return subtreeHash(0, size, hashAt);
}

// ---- RFC 9162 §2.1.3 inclusion proofs ----

/** RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]), leaf-to-root order. */
function path(m: number, lo: number, hi: number, hashAt: HashAt): Uint8Array[] {
  const n = hi - lo;
  if (n === 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...path(m, lo, lo + k, hashAt), subtreeHash(lo + k, hi, hashAt)];
  return [...path(m - k, lo + k, hi, hashAt), subtreeHash(lo, lo + k, hashAt)];
}

/** RFC 9162 §2.1.3.1: the inclusion proof of leaf `leafIndex` (0-based) in the tree of `treeSize` leaves. */
export function inclusionProof(leafIndex: number, treeSize: number, hashAt: HashAt): Uint8Array[] {
  assertSize('inclusionProof treeSize', treeSize, 1);
  assertSize('inclusionProof leafIndex', leafIndex);
  if (leafIndex >= treeSize) throw new RangeError(`inclusionProof: leaf ${leafIndex} is not in a tree of ${treeSize}`);
  return path(leafIndex, 0, treeSize, hashAt);
}

const isHash = (h: unknown): h is Uint8Array => h instanceof Uint8Array && h.length === TLOG_HASH_BYTES;

/** RFC 9162 §2.1.3.2: does `proof` show the leaf hash at `leafIndex` in the tree of `treeSize` leaves with `root`? */
export function verifyInclusion(leaf: Uint8Array, leafIndex: number, treeSize: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) return false;
  if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return false;
  // fn and sn walk the leaf's and the last leaf's positions up the tree.
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // On the right edge the tree has no right sibling at these levels: skip them.
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) ((fn /= 2), (sn = Math.floor(sn / 2)));
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

// ---- RFC 9162 §2.1.4 consistency proofs ----

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b). */
function subproof(m: number, lo: number, hi: number, whole: boolean, hashAt: HashAt): Uint8Array[] {
  const n = hi - lo;
  if (m === n) return whole ? [] : [subtreeHash(lo, hi, hashAt)];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(m, lo, lo + k, whole, hashAt), subtreeHash(lo + k, hi, hashAt)];
  return [...subproof(m - k, lo + k, hi, false, hashAt), subtreeHash(lo, lo + k, hashAt)];
}

/**
 * RFC 9162 §2.1.4.1 PROOF(m, D[n]): that the tree of m leaves is a prefix of
 * the tree of n. Empty for m = n and for m = 0 (every tree extends the empty one).
 */
export function consistencyProof(m: number, n: number, hashAt: HashAt): Uint8Array[] {
  assertSize('consistencyProof m', m);
  assertSize('consistencyProof n', n);
  if (m > n) throw new RangeError(`consistencyProof: ${m} > ${n}`);
  if (m === 0 || m === n) return [];
  return subproof(m, 0, n, true, hashAt);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of m leaves with `oldRoot` to be a prefix of the tree of n with `newRoot`? */
export function verifyConsistency(m: number, n: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !proof.every(isHash)) return false;
  // The empty tree and a tree itself need no proof; a non-empty proof for them is refused.
  if (m === 0) return proof.length === 0 && equalBytes(oldRoot, EMPTY_TREE_ROOT) && (n > 0 || equalBytes(newRoot, EMPTY_TREE_ROOT));
  if (m === n) return proof.length === 0 && equalBytes(oldRoot, newRoot);
  if (proof.length === 0) return false;
  // When m is a power of two its whole tree is one node of the new tree, which the proof leaves out.
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : [...proof];
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) ((fn = (fn - 1) / 2), (sn = Math.floor(sn / 2)));
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) ((fn /= 2), (sn = Math.floor(sn / 2)));
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
}

// ---- §9.2 redactable leaves ----

/**
 * The parts of an entry committed as salted hashes, named as paths: the
 * entry's `outcome` and these members of its `detail`. A view without them
 * (another party's officer; a query's result, withheld from the responder)
 * still reproduces the leaf hash.
 */
export const AUDIT_SEALED_PATHS = ['outcome', 'detail.officer', 'detail.hits', 'detail.noHits', 'detail.unlocated', 'detail.error'] as const;
export type AuditSealedPath = (typeof AUDIT_SEALED_PATHS)[number];
const SEALED: ReadonlySet<string> = new Set(AUDIT_SEALED_PATHS);
const DETAIL = 'detail.';

export const AUDIT_SALT_BYTES = 32;

/** §9.2: salt_p = HMAC-SHA256(saltKey, auditSalt ‖ 0x00 ‖ I2OSP(seq, 8) ‖ UTF8(p)): unguessable without the coordinator's key. */
export function auditFieldSalt(saltKey: Uint8Array, seq: number, path: string): Uint8Array {
  if (!(saltKey instanceof Uint8Array) || saltKey.length < 32) throw new DecodeError('saltKey', 'length', 'expected at least 32 bytes');
  return hmac(sha256, saltKey, concatBytes(V2_LABEL.auditSalt, LEAF_PREFIX, i2osp(seq, 8), utf8(path)));
}

/** §9.2: commitment_p = SHA-256(auditCommitment ‖ 0x00 ‖ salt_p ‖ UTF8(p) ‖ 0x00 ‖ JCS(value)). */
export function auditFieldCommitment(salt: Uint8Array, path: string, value: unknown): Uint8Array {
  if (!(salt instanceof Uint8Array) || salt.length !== AUDIT_SALT_BYTES) throw new DecodeError('salt', 'length', `expected ${AUDIT_SALT_BYTES} bytes`);
  return sha256(concatBytes(V2_LABEL.auditCommitment, LEAF_PREFIX, salt, utf8(path), LEAF_PREFIX, canonicalJson(value)));
}

/**
 * An audit entry as a party sees it (§9.2): `salts` holds the salt of each
 * sealed part shown, `sealed` the commitment of each sealed part withheld
 * (a withheld member is absent from `detail`; a withheld `outcome` is ignored).
 * The coordinator's full view has no `sealed`.
 */
export interface AuditLeafView {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  outcome: string;
  detail: { [key: string]: JsonValue };
  /** Lower-case hex salt per sealed path shown. */
  salts?: Record<string, string>;
  /** Lower-case hex commitment per sealed path withheld. */
  sealed?: Record<string, string>;
}

/** Why a view has no leaf; `field` names the part. */
export class AuditLeafError extends Error {
  override readonly name = 'AuditLeafError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

const HEX32 = /^[0-9a-f]{64}$/;

function saltOf(view: AuditLeafView, path: string): Uint8Array {
  const salt = view.salts?.[path];
  if (typeof salt !== 'string' || !HEX32.test(salt)) throw new AuditLeafError(`salts["${path}"]`, 'a sealed part that is shown needs its salt as 32 bytes of lower-case hex');
  return hexToBytes(salt);
}

/** The sealed parts a view shows, with their values. */
function shownSealed(view: AuditLeafView): Array<[string, JsonValue]> {
  const out: Array<[string, JsonValue]> = [];
  if (!(view.sealed && 'outcome' in view.sealed)) out.push(['outcome', view.outcome]);
  for (const [k, v] of Object.entries(view.detail)) if (SEALED.has(DETAIL + k)) out.push([DETAIL + k, v]);
  return out;
}

/**
 * §9.2 leaf = JCS({seq, at, actor, action, subject, detail, sealed}): `detail`
 * without its sealed members, `sealed` the commitment of every sealed part the
 * entry has (computed from value and salt, or given for a withheld one).
 */
export function auditLeaf(view: AuditLeafView): Uint8Array {
  const detail: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(view.detail)) if (!SEALED.has(DETAIL + k)) detail[k] = v;
  const sealed: { [key: string]: JsonValue } = {};
  const shown = shownSealed(view);
  for (const [path, value] of shown) {
    if (view.sealed && path in view.sealed) throw new AuditLeafError(`sealed["${path}"]`, 'a part is either shown or withheld, not both');
    sealed[path] = bytesToHex(auditFieldCommitment(saltOf(view, path), path, value));
  }
  const shownPaths = new Set(shown.map(([p]) => p));
  for (const path of Object.keys(view.salts ?? {})) if (!shownPaths.has(path)) throw new AuditLeafError(`salts["${path}"]`, 'a salt for a part the entry does not show');
  for (const [path, commitment] of Object.entries(view.sealed ?? {})) {
    if (!SEALED.has(path)) throw new AuditLeafError(`sealed["${path}"]`, 'not a sealed part');
    if (typeof commitment !== 'string' || !HEX32.test(commitment)) throw new AuditLeafError(`sealed["${path}"]`, 'must be 32 bytes as lower-case hex');
    sealed[path] = commitment;
  }
  return canonicalJson({ seq: view.seq, at: view.at, actor: view.actor, action: view.action, subject: view.subject, detail, sealed });
}

/** RFC 9162 §2.1.1 leaf hash of an entry's §9.2 leaf. */
export function auditLeafHash(view: AuditLeafView): Uint8Array {
  return leafHash(auditLeaf(view));
}

/** The coordinator's full view of an entry: every sealed part shown with its salt. */
export function sealedView(entry: Omit<AuditLeafView, 'salts' | 'sealed'>, saltKey: Uint8Array): AuditLeafView {
  const salts: Record<string, string> = {};
  for (const [path] of shownSealed(entry)) salts[path] = bytesToHex(auditFieldSalt(saltKey, entry.seq, path));
  return { ...entry, salts };
}

/**
 * A view with the sealed part at `path` withheld: its salt (and a member, its
 * value) leave the view and its commitment takes their place, so the leaf hash
 * does not change. A withheld `outcome` keeps whatever placeholder the view has.
 */
export function withhold<V extends AuditLeafView>(view: V, path: string): V {
  if (!SEALED.has(path)) throw new AuditLeafError(path, 'only sealed parts can be withheld');
  const member = path.startsWith(DETAIL) ? path.slice(DETAIL.length) : undefined;
  if (view.sealed && path in view.sealed) return view;
  if (member !== undefined && !(member in view.detail)) return view;
  const value = member === undefined ? view.outcome : (view.detail[member] as JsonValue);
  const commitment = bytesToHex(auditFieldCommitment(saltOf(view, path), path, value));
  const { [path]: _salt, ...salts } = view.salts ?? {};
  const detail = { ...view.detail };
  if (member !== undefined) delete detail[member];
  return { ...view, detail, salts, sealed: { ...(view.sealed ?? {}), [path]: commitment } };
}

// ---- §9.4 signed tree heads ----

/** A signed tree head's document: which log, how many leaves, their root, when signed. */
export interface TreeHead {
  /** §9.4 log id: lower-case hex SHA-256(auditLog ‖ log public key). */
  log: string;
  size: number;
  /** Lower-case hex of the RFC 9162 §2.1.1 root. */
  root: string;
  /** RFC 3339 UTC time of signing. */
  at: string;
}

export const treeHeadSchema = z
  .object({
    log: hex32Schema,
    size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    root: hex32Schema,
    at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, 'must be an RFC 3339 UTC time'),
  })
  .strict();

/** §9.4 log id of a log public key. */
export function auditLogId(logPublicKey: Uint8Array): string {
  if (!(logPublicKey instanceof Uint8Array) || logPublicKey.length !== 32) throw new DecodeError('logPublicKey', 'length', 'expected 32 bytes');
  return bytesToHex(sha256(concatBytes(V2_LABEL.auditLog, logPublicKey)));
}

/** §9.4: the head of the tree of `size` leaves with `root`, signed (§8.3, type `tree-head`) with the log's key. */
export function signTreeHead(size: number, root: Uint8Array, at: string, logSecretKey: Uint8Array): { head: TreeHead; signature: Uint8Array } {
  const head = parseDocument(treeHeadSchema, { log: auditLogId(signingPublicKey(logSecretKey)), size, root: bytesToHex(root), at }, 'head');
  return { head, signature: signDocument(V2_DOCUMENT_TYPE.treeHead, head, logSecretKey) };
}

/**
 * §9.4: parse a received head and check it is the pinned log's, signed by its
 * key. Throws DocumentError for a malformed head; false for a head of another
 * log or a signature that does not verify.
 */
export function verifyTreeHead(head: unknown, signature: unknown, logPublicKey: Uint8Array): head is TreeHead {
  const h = parseDocument(treeHeadSchema, head, 'head');
  if (h.log !== auditLogId(logPublicKey)) return false;
  return signatureVerifies(V2_DOCUMENT_TYPE.treeHead, h, logPublicKey, signature);
}
