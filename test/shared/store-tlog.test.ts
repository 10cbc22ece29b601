// Store contract: the audit transparency log (protocol/SPEC.md §9) — every
// append adds its leaf and completed subtrees in the same batch as the entry,
// racing appends keep one tree, heads are stored once per size, and a
// retention purge removes entries but keeps every hash proofs need.
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../protocol/bytes.js';
import { signingPublicKey } from '../../protocol/signed.js';
import { consistencyProof, inclusionProof, leafHash, nodeHash, storedHashCount, treeRoot, verifyConsistency, verifyInclusion, verifyTreeHead } from '../../protocol/tlog.js';
import { checkpointDetail, entryLeafHash, RETENTION_PURGED, type AuditCheckpoint, type AuditInput } from '../../src/audit.js';
import { currentHead, overStoredTree, signHead } from '../../src/tlog.js';
import { eachStore } from './store-fixture.js';

const fx = eachStore();

const entry = (at: string, n: number, detail: Record<string, unknown> = {}): AuditInput => ({
  at,
  actor: 'admin',
  action: 'test.event',
  subject: `s${n}`,
  outcome: 'ok',
  detail: { n, ...detail } as AuditInput['detail'],
});
const purgeRecord = (removed: number, checkpoint: AuditCheckpoint | undefined): AuditInput => ({
  at: '2026-06-01T00:00:00.000Z',
  actor: 'coordinator',
  action: RETENTION_PURGED,
  subject: 'coordinator',
  outcome: 'ok',
  detail: { removed, auditCheckpoint: checkpointDetail(checkpoint) },
});

/** RFC 9162 §2.1.1 MTH straight from the leaf hashes, for comparison with the stored tree. */
function naiveRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

async function leavesOfEntries(): Promise<Uint8Array[]> {
  const { saltKey } = await fx.store.auditKeys();
  return (await fx.store.readAudit(0, 10_000)).map((e) => entryLeafHash(e, saltKey));
}

describe('audit tree in the store', () => {
  it('grows by one leaf per append, storing 2n − popcount(n) hashes, whose root is the MTH of the entries', async () => {
    expect(await fx.store.auditTreeSize()).toBe(0);
    for (let i = 1; i <= 13; i++) {
      await fx.store.appendAudit(entry('2026-01-01T00:00:00.000Z', i, i % 3 === 0 ? { officer: `o${i}`, hits: i } : {}));
      expect(await fx.store.auditTreeSize()).toBe(i);
      expect((await fx.t.controlRows('SELECT count(*) AS n FROM audit_tree'))[0]?.n).toBe(storedHashCount(i));
    }
    const leaves = await leavesOfEntries();
    for (const n of [1, 2, 5, 8, 13]) expect(bytesToHex(await overStoredTree(fx.store, (h) => treeRoot(n, h)))).toBe(bytesToHex(naiveRoot(leaves.slice(0, n))));
  });

  it('keeps one tree under racing appends: every entry has its leaf and the root covers them all', async () => {
    await Promise.all(Array.from({ length: 24 }, (_, i) => fx.store.appendAudit(entry('2026-01-01T00:00:00.000Z', i))));
    expect(await fx.store.auditTreeSize()).toBe(24);
    expect((await fx.t.controlRows('SELECT count(*) AS n FROM audit_tree'))[0]?.n).toBe(storedHashCount(24));
    const leaves = await leavesOfEntries();
    expect(bytesToHex(await overStoredTree(fx.store, (h) => treeRoot(24, h)))).toBe(bytesToHex(naiveRoot(leaves)));
  });

  it('makes the log keys once and keeps them', async () => {
    const a = await fx.store.auditKeys();
    await fx.store.appendAudit(entry('2026-01-01T00:00:00.000Z', 1));
    const b = await fx.store.auditKeys();
    expect(bytesToHex(b.logKey)).toBe(bytesToHex(a.logKey));
    expect(a.logKey).toHaveLength(32);
    expect(a.saltKey).toHaveLength(32);
    expect(bytesToHex(a.logKey)).not.toBe(bytesToHex(a.saltKey));
  });

  it('stores one head per size: the first signed wins', async () => {
    for (let i = 1; i <= 3; i++) await fx.store.appendAudit(entry('2026-01-01T00:00:00.000Z', i));
    const first = await signHead(fx.store, 3, new Date('2026-01-02T00:00:00Z'));
    const again = await signHead(fx.store, 3, new Date('2026-01-03T00:00:00Z'));
    expect(again.at).toBe(first.at);
    expect((await fx.store.getAuditHead())?.size).toBe(3);
    const served = await currentHead(fx.store, new Date('2026-01-04T00:00:00Z'));
    expect(served.head.at).toBe('2026-01-02T00:00:00.000Z');
    const pk = signingPublicKey((await fx.store.auditKeys()).logKey);
    expect(verifyTreeHead(served.head, Buffer.from(served.signature, 'hex'), pk)).toBe(true);
  });
});

describe('audit tree across a retention purge', () => {
  it('removes entries but keeps the hashes: proofs over retained entries and consistency with an earlier head still verify', async () => {
    for (const [i, at] of ['2026-01-01', '2026-01-02', '2026-01-03', '2026-03-01', '2026-03-02'].entries()) await fx.store.appendAudit(entry(`${at}T00:00:00.000Z`, i));
    const leaves = await leavesOfEntries();
    const before = await signHead(fx.store, 5, new Date('2026-03-03T00:00:00Z'));
    const { removed, entry: record } = await fx.store.purgeAudit('2026-02-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', purgeRecord);
    expect(removed).toBe(3);
    expect(record.seq).toBe(6);
    expect((await fx.store.readAudit(0, 100)).map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(await fx.store.auditTreeSize()).toBe(6);
    expect((await fx.t.controlRows('SELECT count(*) AS n FROM audit_tree'))[0]?.n).toBe(storedHashCount(6));
    const { saltKey } = await fx.store.auditKeys();
    const all = [...leaves, entryLeafHash(record, saltKey)];
    const root6 = await overStoredTree(fx.store, (h) => treeRoot(6, h));
    expect(bytesToHex(root6)).toBe(bytesToHex(naiveRoot(all)));
    // A retained entry's leaf, recomputed from the entry, is in the tree after the purge.
    const [fourth] = await fx.store.readAudit(3, 1);
    const proof = await overStoredTree(fx.store, (h) => inclusionProof(3, 6, h));
    expect(verifyInclusion(entryLeafHash(fourth!, saltKey), 3, 6, proof, root6)).toBe(true);
    // An agency that kept the head from before the purge sees the log only grew.
    const cons = await overStoredTree(fx.store, (h) => consistencyProof(5, 6, h));
    expect(verifyConsistency(5, 6, before.root, root6, cons)).toBe(true);
    // A head of a tree of removed entries only (size ≤ 3) is dropped; later heads stay.
    expect((await fx.store.getAuditHead(5))?.size).toBe(5);
    // Appends after the purge extend the same tree.
    await fx.store.appendAudit(entry('2026-06-02T00:00:00.000Z', 7));
    expect(bytesToHex(await overStoredTree(fx.store, (h) => treeRoot(7, h)))).toBe(bytesToHex(naiveRoot([...all, entryLeafHash((await fx.store.readAudit(6, 1))[0]!, saltKey)])));
  });

  it('a leaf the entry no longer reproduces shows against the stored tree', async () => {
    for (let i = 1; i <= 4; i++) await fx.store.appendAudit(entry('2026-01-01T00:00:00.000Z', i, { officer: `o${i}` }));
    await fx.t.controlRows(`UPDATE audit_log SET subject = 'edited' WHERE seq = 2 RETURNING seq`);
    const { saltKey } = await fx.store.auditKeys();
    const [stored] = await fx.store.readAuditTree([{ level: 0, index: 1 }]);
    const [edited] = await fx.store.readAudit(1, 1);
    expect(bytesToHex(entryLeafHash(edited!, saltKey))).not.toBe(bytesToHex(stored!));
    expect(bytesToHex(leafHash(new Uint8Array(0)))).not.toBe(bytesToHex(stored!));
  });
});
