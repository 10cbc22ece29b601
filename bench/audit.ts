// `npm run bench -- audit [--n N] [--appends A] [--proofs P] [--json]`: the
// audit transparency log (protocol/SPEC.md §9) on a real SQLite store in a
// temporary directory.
// - append throughput: A appends through Store.appendAudit (entry, leaf and
//   completed subtrees in one transaction each), median of batches;
// - the tree is then grown to N leaves with the same stored hashes written in
//   bulk (audit entries are not needed for proofs), and P inclusion and
//   consistency proofs at random positions are computed through the store
//   (one SELECT of the O(log n) stored hashes each) and verified: median
//   times, proof sizes and stored rows read;
// - the native limit: node:crypto SHA-256 of the same number of hashes the
//   tree stores (one per stored hash), one after another.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '../protocol/bytes.js';
import {
  appendHashes,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodesRead,
  storedHashCount,
  storedHashIndex,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  type TreeNode,
} from '../protocol/tlog.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { overStoredTree } from '../src/tlog.js';
import { median } from './util.js';

export interface AuditBenchResult {
  n: number;
  appends: number;
  /** Appends per second through Store.appendAudit (median of batches of 500). */
  append_per_s: number;
  /** µs per append. */
  append_us: number;
  /** Seconds to write the stored hashes of N leaves in bulk (for the proof figures). */
  bulk_fill_s: number;
  stored_hashes: number;
  db_bytes: number;
  /** Median µs to compute (read through the store) an inclusion proof at n, and its hashes and bytes. */
  inclusion_us: number;
  inclusion_hashes: number;
  inclusion_bytes: number;
  inclusion_verify_us: number;
  consistency_us: number;
  consistency_hashes: number;
  consistency_bytes: number;
  consistency_verify_us: number;
  /** Median µs to compute the root (a signed head's) at n. */
  root_us: number;
  /** node:crypto SHA-256 of 65-byte inputs, per second: the native limit of hashing the tree. */
  native_sha256_per_s: number;
  /** Seconds of native SHA-256 for as many hashes as the tree of N stores. */
  native_tree_hash_s: number;
}

export async function benchAudit(n: number, appends: number, proofs: number, log: (s: string) => void): Promise<AuditBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'concordat-bench-audit-'));
  const file = join(dir, 'coordinator.db');
  const store = openSqliteStore(file);
  try {
    appends = Math.min(appends, n);
    const at = '2026-03-10T12:00:00.000Z';
    const batch = 500;
    const rates: number[] = [];
    for (let done = 0; done < appends; ) {
      const k = Math.min(batch, appends - done);
      const t = performance.now();
      for (let i = 0; i < k; i++) {
        await store.appendAudit({ at, actor: 'ES-CNP', action: 'bench.event', subject: 'es-pt~ES-CNP~PT-PJ', outcome: 'ok', detail: { n: done + i, officer: 'o-1' } });
      }
      rates.push((k * 1000) / (performance.now() - t));
      done += k;
    }
    const appendPerS = median(rates);
    log(`append: ${appendPerS.toFixed(0)}/s (${(1e6 / appendPerS).toFixed(0)} µs each) over ${appends} appends`);

    // Grow the tree to n leaves with the hashes appends would store (leaves of synthetic entries).
    const t0 = performance.now();
    const edge = new Map<string, Uint8Array>();
    const known = nodesRead((h) => treeRoot(appends, h));
    (await store.readAuditTree(known)).forEach((h, i) => edge.set(`${(known[i] as TreeNode).level}/${(known[i] as TreeNode).index}`, h as Uint8Array));
    const insert = store.client.prepare('INSERT INTO audit_tree (id, hash) VALUES (?, ?)');
    const fill = store.client.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const nodes = appendHashes(i, leafHash(utf8(`bench-leaf-${i}`)), (l, x) => edge.get(`${l}/${x}`) as Uint8Array);
        const top = nodes.at(-1) as TreeNode & { hash: Uint8Array };
        for (const nd of nodes) {
          insert.run(storedHashIndex(nd.level, nd.index), Buffer.from(nd.hash));
          if (nd.level < top.level) edge.delete(`${nd.level}/${nd.index}`);
        }
        for (const nd of nodes.slice(0, -1)) edge.delete(`${nd.level}/${nd.index - 1}`);
        edge.set(`${top.level}/${top.index}`, top.hash);
      }
    });
    for (let i = appends; i < n; i += 50_000) fill(i, Math.min(n, i + 50_000));
    const bulkS = (performance.now() - t0) / 1000;
    const stored = (store.client.prepare('SELECT count(*) AS c FROM audit_tree').get() as { c: number }).c;
    if (stored !== storedHashCount(n)) throw new Error(`bench: ${stored} stored hashes, expected ${storedHashCount(n)}`);
    log(`tree of ${n} leaves: ${stored} stored hashes written in ${bulkS.toFixed(1)} s`);

    const rnd = (k: number): number => Math.floor(Math.random() * k);
    const root = await overStoredTree(store, (h) => treeRoot(n, h));
    const rootT: number[] = [];
    const inc: number[] = [];
    const incV: number[] = [];
    const con: number[] = [];
    const conV: number[] = [];
    let incHashes = 0;
    let conHashes = 0;
    for (let p = 0; p < proofs; p++) {
      let t = performance.now();
      await overStoredTree(store, (h) => treeRoot(n, h));
      rootT.push(performance.now() - t);

      const i = rnd(n);
      t = performance.now();
      const proof = await overStoredTree(store, (h) => inclusionProof(i, n, h));
      inc.push(performance.now() - t);
      const [leaf] = await store.readAuditTree([{ level: 0, index: i }]);
      t = performance.now();
      if (!verifyInclusion(leaf as Uint8Array, i, n, proof, root)) throw new Error(`bench: inclusion proof of ${i} does not verify`);
      incV.push(performance.now() - t);
      incHashes = Math.max(incHashes, proof.length);

      const m = 1 + rnd(n - 1);
      const oldRoot = await overStoredTree(store, (h) => treeRoot(m, h));
      t = performance.now();
      const cproof = await overStoredTree(store, (h) => consistencyProof(m, n, h));
      con.push(performance.now() - t);
      t = performance.now();
      if (!verifyConsistency(m, n, oldRoot, root, cproof)) throw new Error(`bench: consistency proof ${m}→${n} does not verify`);
      conV.push(performance.now() - t);
      conHashes = Math.max(conHashes, cproof.length);
    }
    const us = (xs: number[]): number => Math.round(median(xs) * 1000);
    log(`inclusion at ${n}: ${us(inc)} µs to compute, ≤ ${incHashes} hashes (${incHashes * 32} B), ${us(incV)} µs to verify`);
    log(`consistency to ${n}: ${us(con)} µs to compute, ≤ ${conHashes} hashes (${conHashes * 32} B), ${us(conV)} µs to verify`);

    // The native limit: as many SHA-256 calls of a node's size (1 + 32 + 32 bytes) as the tree stores.
    const input = Buffer.alloc(65, 1);
    const t1 = performance.now();
    for (let k = 0; k < stored; k++) createHash('sha256').update(input).digest();
    const nativeS = (performance.now() - t1) / 1000;
    log(`native node:crypto SHA-256: ${(stored / nativeS).toFixed(0)}/s; ${stored} hashes in ${nativeS.toFixed(2)} s`);

    return {
      n,
      appends,
      append_per_s: Math.round(appendPerS),
      append_us: Math.round(1e6 / appendPerS),
      bulk_fill_s: Number(bulkS.toFixed(2)),
      stored_hashes: stored,
      db_bytes: statSync(file).size,
      inclusion_us: us(inc),
      inclusion_hashes: incHashes,
      inclusion_bytes: incHashes * 32,
      inclusion_verify_us: us(incV),
      consistency_us: us(con),
      consistency_hashes: conHashes,
      consistency_bytes: conHashes * 32,
      consistency_verify_us: us(conV),
      root_us: us(rootT),
      native_sha256_per_s: Math.round(stored / nativeS),
      native_tree_hash_s: Number(nativeS.toFixed(2)),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
