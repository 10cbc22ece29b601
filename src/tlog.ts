// The coordinator's side of the audit transparency log (protocol/SPEC.md §9;
// src/API.md, "Audit transparency log"): signed heads and proofs computed
// from the stored subtree hashes. Every computation first lists the stored
// hashes it reads (protocol/tlog.ts nodesRead), fetches them in one query,
// then runs on them: O(log n) rows per head or proof. Runs on Node and Workers.
import { bytesToHex, equalBytes } from '../protocol/bytes.js';
import { signingPublicKey } from '../protocol/signed.js';
import {
  appendHashes,
  auditLogId,
  consistencyProof,
  inclusionProof,
  nodesRead,
  signTreeHead,
  storedHashIndex,
  treeRoot,
  verifyTreeHead,
  type HashAt,
  type TreeHead,
  type TreeNode,
} from '../protocol/tlog.js';
import { entryLeafHash, type AuditEntry } from './audit.js';
import type { AuditHeadRecord, AuditKeys, Store } from './store/types.js';

/** Run `compute` over the stored hashes it needs; a hash the store lacks throws. */
export async function overStoredTree<T>(store: Store, compute: (hashAt: HashAt) => T): Promise<T> {
  const nodes = nodesRead(compute);
  const hashes = await store.readAuditTree(nodes);
  const known = new Map(nodes.map((n, i) => [`${n.level}/${n.index}`, hashes[i]]));
  return compute((level, index) => {
    const h = known.get(`${level}/${index}`);
    if (!h) throw new Error(`coordinator: the audit tree has no stored hash for the subtree at level ${level}, index ${index}`);
    return h;
  });
}

let lastLogKey: { secret: string; value: { publicKey: string; log: string } } | undefined;

/**
 * The log's public key and id (§9.4), as GET /v1/me publishes them. Deriving
 * a public key is a scalar multiplication (about 7 % of a signed GET /v1/me
 * under load), so the last one is kept, keyed by the secret it came from.
 */
export async function auditLogKey(store: Store): Promise<{ publicKey: string; log: string }> {
  const secret = (await store.auditKeys()).logKey;
  const hex = bytesToHex(secret);
  if (lastLogKey?.secret === hex) return lastLogKey.value;
  const publicKey = signingPublicKey(secret);
  const value = { publicKey: bytesToHex(publicKey), log: auditLogId(publicKey) };
  lastLogKey = { secret: hex, value };
  return value;
}

export interface SignedHeadJson {
  head: TreeHead;
  /** Lower-case hex Ed25519 signature (§8.3, type `tree-head`) by the log key. */
  signature: string;
}

async function headJson(store: Store, r: AuditHeadRecord): Promise<SignedHeadJson> {
  const { log } = await auditLogKey(store);
  return { head: { log, size: r.size, root: bytesToHex(r.root), at: r.at }, signature: bytesToHex(r.signature) };
}

/**
 * The signed head of the current tree. A size already signed is served as
 * stored, so repeated reads of an unchanged log get one head and write
 * nothing; a new size is signed now and stored (the first of racing signers wins).
 */
export async function currentHead(store: Store, now: Date): Promise<SignedHeadJson> {
  const size = await store.auditTreeSize();
  const stored = await store.getAuditHead(size);
  if (stored) return headJson(store, stored);
  return headJson(store, await signHead(store, size, now));
}

/** Sign and store the head of the tree of `size` leaves (a retention purge keeps the one at its own entry). */
export async function signHead(store: Store, size: number, now: Date): Promise<AuditHeadRecord> {
  const root = await overStoredTree(store, (h) => treeRoot(size, h));
  const { head, signature } = signTreeHead(size, root, now.toISOString(), (await store.auditKeys()).logKey);
  return store.putAuditHead({ size: head.size, root, at: head.at, signature });
}

/** RFC 9162 §2.1.3 proof of entry `seq` (leaf seq − 1) in the tree of `size` leaves, hex. */
export async function inclusionProofJson(store: Store, seq: number, size: number): Promise<string[]> {
  return (await overStoredTree(store, (h) => inclusionProof(seq - 1, size, h))).map(bytesToHex);
}

/** RFC 9162 §2.1.4 proof that the tree of `from` leaves is a prefix of the tree of `to`, hex. */
export async function consistencyProofJson(store: Store, from: number, to: number): Promise<string[]> {
  return (await overStoredTree(store, (h) => consistencyProof(from, to, h))).map(bytesToHex);
}

export type TreeVerification = { ok: true; leaves: number; heads: number; root: string } | { ok: false; seq?: number; reason: string };

export interface StoredTree {
  /** The stored hashes in id (append) order. */
  hashes: Iterable<{ id: number; hash: Uint8Array }>;
  /** The retained entries in seq order. */
  entries: Iterable<AuditEntry>;
  /** Entries the log holds or held: the newest seq, or the purge checkpoint's when none is retained. */
  size: number;
  /** Entries up to this seq were removed by retention purges (0 before any). */
  purgedThrough: number;
  /** The stored signed heads, by size. */
  heads: readonly AuditHeadRecord[];
  keys: AuditKeys;
}

/**
 * `coordinator audit verify` for the tree: rebuild it leaf by leaf from the
 * stored hashes in append order, recomputing each retained entry's leaf from
 * the entry and each subtree hash from its children, and check every stored
 * head's root and signature at its size. Holds only the tree's right edge
 * (one hash per level) in memory, so it walks a log of any length.
 */
export function verifyStoredTree(t: StoredTree): TreeVerification {
  const publicKey = signingPublicKey(t.keys.logKey);
  const log = auditLogId(publicKey);
  const frontier = new Map<number, { index: number; hash: Uint8Array }>();
  const hashAt: HashAt = (level, index) => {
    const f = frontier.get(level);
    if (!f || f.index !== index) throw new Error(`no subtree at level ${level}, index ${index} on the tree's edge`);
    return f.hash;
  };
  const rows = t.hashes[Symbol.iterator]();
  const entries = t.entries[Symbol.iterator]();
  let entry = entries.next();
  let head = 0;
  const heads = t.heads;
  let verifiedHeads = 0;
  const checkHeads = (leaves: number): TreeVerification | undefined => {
    for (; head < heads.length && (heads[head] as AuditHeadRecord).size === leaves; head++) {
      const h = heads[head] as AuditHeadRecord;
      const root = treeRoot(leaves, hashAt);
      if (!equalBytes(root, h.root)) return { ok: false, reason: `the head signed at ${h.at} for ${leaves} entries has a root the stored tree does not reproduce` };
      if (!verifyTreeHead({ log, size: h.size, root: bytesToHex(h.root), at: h.at }, h.signature, publicKey)) {
        return { ok: false, reason: `the head signed at ${h.at} for ${leaves} entries does not verify under the log key` };
      }
      verifiedHeads++;
    }
    return undefined;
  };
  const early = checkHeads(0);
  if (early) return early;
  for (let i = 0; i < t.size; i++) {
    const seq = i + 1;
    let leaf: Uint8Array;
    const r = rows.next();
    if (r.done || r.value.id !== storedHashIndex(0, i)) return { ok: false, seq, reason: `the tree has no stored leaf for entry ${seq}` };
    if (!entry.done && entry.value.seq === seq) {
      leaf = entryLeafHash(entry.value, t.keys.saltKey);
      if (!equalBytes(leaf, r.value.hash)) return { ok: false, seq, reason: 'the entry does not reproduce its leaf in the tree: it was edited' };
      entry = entries.next();
    } else if (seq <= t.purgedThrough) {
      // Removed by a retention purge: its leaf stands for it.
      leaf = r.value.hash;
    } else {
      return { ok: false, seq, reason: 'the tree has a leaf for an entry the log does not hold: it was removed outside a retention purge' };
    }
    const nodes = appendHashes(i, leaf, hashAt);
    for (const n of nodes.slice(1)) {
      const s = rows.next();
      if (s.done || s.value.id !== storedHashIndex(n.level, n.index)) return { ok: false, seq, reason: `the tree has no stored hash for the subtree at level ${n.level}, index ${n.index}` };
      if (!equalBytes(s.value.hash, n.hash)) return { ok: false, seq, reason: `the stored hash of the subtree at level ${n.level}, index ${n.index} is not the hash of its children` };
    }
    const top = nodes.at(-1) as TreeNode & { hash: Uint8Array };
    for (let l = 0; l < top.level; l++) frontier.delete(l);
    frontier.set(top.level, { index: top.index, hash: top.hash });
    const bad = checkHeads(seq);
    if (bad) return bad;
  }
  if (!entry.done) return { ok: false, seq: entry.value.seq, reason: 'the entry has no leaf in the tree' };
  if (!rows.next().done) return { ok: false, reason: `the tree holds hashes beyond its ${t.size} entries: newer entries were removed` };
  const beyond = heads[head];
  if (beyond) return { ok: false, reason: `a head was signed at ${beyond.at} for ${beyond.size} entries, more than the log's ${t.size}: entries were removed` };
  return { ok: true, leaves: t.size, heads: verifiedHeads, root: bytesToHex(treeRoot(t.size, hashAt)) };
}
