// The coordinator's side of the audit transparency log (protocol/SPEC.md §9;
// src/API.md, "Audit transparency log"): signed heads and proofs computed
// from the stored subtree hashes. Every computation first lists the stored
// hashes it reads (protocol/tlog.ts nodesRead), fetches them in one query,
// then runs on them: O(log n) rows per head or proof. Runs on Node and Workers.
import { bytesToHex } from '../protocol/bytes.js';
import { signingPublicKey } from '../protocol/signed.js';
import { auditLogId, consistencyProof, inclusionProof, nodesRead, signTreeHead, treeRoot, type HashAt, type TreeHead } from '../protocol/tlog.js';
import type { AuditHeadRecord, Store } from './store/types.js';

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

/** The log's public key and id (§9.4), as GET /v1/me publishes them. */
export async function auditLogKey(store: Store): Promise<{ publicKey: string; log: string }> {
  const publicKey = signingPublicKey((await store.auditKeys()).logKey);
  return { publicKey: bytesToHex(publicKey), log: auditLogId(publicKey) };
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
