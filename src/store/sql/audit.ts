// The audit hash chain and transparency log (src/API.md, "Audit log";
// "Audit export and retention"; protocol/SPEC.md §9). `seq` is the primary
// key, so an append is optimistic: read the head, then in one batch insert the
// next entry and the hashes it adds to the tree (its leaf and the subtrees it
// completes); when another request took that seq first the batch fails whole
// and the append reads the head again. Entry and tree therefore never
// disagree about the size. A retention purge is one batch that ends with such
// an append, so it too lands whole or not at all; it removes entries but
// keeps every stored tree hash.
import { and, asc, desc, eq, gt, gte, lt, lte, sql } from 'drizzle-orm';
import { randomBytes } from '../../../protocol/rng.js';
import { appendHashes, nodesRead, storedHashCount, storedHashIndex, treeRoot, TLOG_HASH_BYTES, type TreeNode } from '../../../protocol/tlog.js';
import { AUDIT_GENESIS_HASH, canonicalJSON, chainHash, entryLeafHash, type AuditCheckpoint, type AuditDetail, type AuditEntry, type AuditInput } from '../../audit.js';
import * as schema from '../schema.js';
import type { AuditHeadRecord, AuditKeys } from '../types.js';
import type { ControlPlane } from './control.js';
import { atomic, backoff, inJson, isConstraintError, once, pieces, type ControlDb, type Executor, type Statement } from './executor.js';
import { auditOf, buf, u8 } from './rows.js';

const { auditCheckpoint, auditHeads, auditKeys, auditLog, auditTree } = schema;

/** Tree rows per insert statement: two bound values each, under D1's 100. */
const TREE_ROWS_PER_INSERT = 40;
/** Entries per batch when the tree catches up with entries appended before it existed. */
const CATCH_UP_ROWS = 200;

/** The audit tree's stored hashes in append order (protocol/tlog.ts storedHashIndex). */
export function auditTreeQuery(db: ControlDb, afterId: number, limit: number) {
  return db.select().from(auditTree).where(gt(auditTree.id, afterId)).orderBy(asc(auditTree.id)).limit(limit);
}

export function auditHeadsQuery(db: ControlDb) {
  return db.select().from(auditHeads).orderBy(asc(auditHeads.size));
}

export function auditKeysQuery(db: ControlDb) {
  return db.select().from(auditKeys).where(eq(auditKeys.id, 1));
}


/** Leaves of a tree whose stored hashes end at position `maxId` (storedHashCount is increasing). */
export function leavesOfStoredCount(count: number): number {
  let n = Math.floor(count / 2);
  while (storedHashCount(n) < count) n++;
  if (storedHashCount(n) !== count) throw new Error(`coordinator: the audit tree holds ${count} hashes, which no whole number of leaves stores`);
  return n;
}

/** How often an append retries after losing the race for the next seq before giving up. */
const AUDIT_ATTEMPTS = 100;

/** Entries after `afterSeq` in seq order (`audit verify` also reads a file page by page with it). */
export function auditPage(db: ControlDb, afterSeq: number, limit: number) {
  return db.select().from(auditLog).where(gt(auditLog.seq, afterSeq)).orderBy(asc(auditLog.seq)).limit(limit);
}

export function checkpointQuery(db: ControlDb) {
  return db.select().from(auditCheckpoint).where(eq(auditCheckpoint.id, 1));
}

/** The newest entry, or the newest before seq `below`. */
const lastEntry = (db: ControlDb, below?: number) =>
  db
    .select({ seq: auditLog.seq, hash: auditLog.hash })
    .from(auditLog)
    .where(below === undefined ? undefined : lt(auditLog.seq, below))
    .orderBy(desc(auditLog.seq))
    .limit(1);

/** The entry that follows `from`, with the detail stored and hashed exactly as it reads back. */
function nextEntry(from: AuditCheckpoint, input: AuditInput, origin?: string): { entry: AuditEntry; row: typeof auditLog.$inferInsert } {
  const seq = from.seq + 1;
  const detailJson = canonicalJSON(input.detail);
  const event = { ...input, seq, detail: JSON.parse(detailJson) as AuditDetail };
  const hash = chainHash(from.hash, event);
  return {
    entry: { ...event, hash },
    row: { seq, at: event.at, actor: event.actor, action: event.action, subject: event.subject, outcome: event.outcome, detail: detailJson, hash: buf(hash), origin: origin ?? null },
  };
}

export function auditRows(x: Executor) {
  const { db } = x;

  const getAuditCheckpoint = async (): Promise<AuditCheckpoint | undefined> => {
    const r = await checkpointQuery(db).get();
    return r ? { seq: r.seq, hash: u8(r.hash) } : undefined;
  };

  /** The last entry; after a purge that removed every entry the chain continues from the checkpoint. */
  const newest = once(() => lastEntry(db).prepare());
  const head = async (): Promise<AuditCheckpoint> => {
    const last = await newest().get();
    if (last) return { seq: last.seq, hash: u8(last.hash) };
    return (await getAuditCheckpoint()) ?? { seq: 0, hash: AUDIT_GENESIS_HASH };
  };

  // The keys never change once stored, so one read per store serves every append.
  let keys: Promise<AuditKeys> | undefined;
  const loadKeys = async (): Promise<AuditKeys> => {
    let r = await auditKeysQuery(db).get();
    if (!r) {
      // A store that was not initialised with keys makes them on first use; the first insert wins.
      await db
        .insert(auditKeys)
        .values({ id: 1, logKey: buf(randomBytes(32)), saltKey: buf(randomBytes(32)), createdAt: new Date().toISOString() })
        .onConflictDoNothing()
        .run();
      r = await auditKeysQuery(db).get();
      if (!r) throw new Error('coordinator: the audit keys could not be stored');
    }
    return { logKey: u8(r.logKey), saltKey: u8(r.saltKey) };
  };
  const getKeys = (): Promise<AuditKeys> => {
    keys ??= loadKeys().catch((err: unknown) => {
      keys = undefined;
      throw err;
    });
    return keys;
  };

  // Every append reads the left siblings it completes: one prepared statement, the ids bound as one JSON list.
  const treeRows = once(() => db.select().from(auditTree).where(sql`${auditTree.id} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))`).prepare());
  const readTree = async (nodes: readonly TreeNode[]): Promise<(Uint8Array | undefined)[]> => {
    if (nodes.length === 0) return [];
    const ids = nodes.map((n) => storedHashIndex(n.level, n.index));
    const rows = await treeRows().all({ ids: JSON.stringify(ids) });
    const byId = new Map(rows.map((r) => [r.id, u8(r.hash)]));
    return ids.map((id) => byId.get(id));
  };

  /** A hashAt over hashes read beforehand; a hash not among them is a tree that lost stored rows. */
  const lookup =
    (known: Map<string, Uint8Array>) =>
    (level: number, index: number): Uint8Array => {
      const h = known.get(`${level}/${index}`);
      if (!h) throw new MissingTreeHash(level, index);
      return h;
    };

  const treeInserts = (nodes: ReadonlyArray<TreeNode & { hash: Uint8Array }>): Statement[] =>
    [...pieces(nodes, TREE_ROWS_PER_INSERT)].map((p) => db.insert(auditTree).values(p.map((n) => ({ id: storedHashIndex(n.level, n.index), hash: buf(n.hash) }))));

  /**
   * The tree holds fewer leaves than the log has entries only for entries
   * appended before the tree existed (migration 0006): add their leaves in
   * order, a batch at a time. Entries a purge removed before then cannot be
   * recovered, and neither can hashes removed from the middle of the tree.
   */
  const catchUp = async (entries: number): Promise<void> => {
    const top = await db.select({ id: auditTree.id }).from(auditTree).orderBy(desc(auditTree.id)).limit(1).get();
    const leaves = top ? leavesOfStoredCount(top.id + 1) : 0;
    if (leaves >= entries) throw new Error(`coordinator: the audit tree lacks stored hashes below its ${leaves} leaves; run \`coordinator audit verify\``);
    const frontier = nodesRead((h) => treeRoot(leaves, h));
    const known = new Map<string, Uint8Array>();
    (await readTree(frontier)).forEach((h, i) => {
      const n = frontier[i] as TreeNode;
      if (h) known.set(`${n.level}/${n.index}`, h);
    });
    const rows = await auditPage(db, leaves, CATCH_UP_ROWS).all();
    if (rows[0]?.seq !== leaves + 1) throw new Error(`coordinator: audit entry ${leaves + 1} was purged before the audit tree existed; its leaf cannot be rebuilt`);
    const { saltKey } = await getKeys();
    const added: Array<TreeNode & { hash: Uint8Array }> = [];
    for (const [k, r] of rows.entries()) {
      if (r.seq !== leaves + 1 + k || r.seq > entries) break;
      for (const n of appendHashes(r.seq - 1, entryLeafHash(auditOf(r), saltKey), lookup(known))) {
        known.set(`${n.level}/${n.index}`, n.hash);
        added.push(n);
      }
    }
    try {
      await atomic(x, treeInserts(added));
    } catch (err) {
      // Another append caught up first.
      if (!isConstraintError(err)) throw err;
    }
  };

  /**
   * The entry that follows `from` and the statements that append it and its
   * tree hashes, or undefined when the tree first had to catch up.
   */
  const appendOf = async (from: AuditCheckpoint, input: AuditInput, origin?: string): Promise<{ entry: AuditEntry; statements: Statement[] } | undefined> => {
    const { entry, row } = nextEntry(from, input, origin);
    const i = entry.seq - 1;
    // The left siblings the new leaf completes subtrees with, and the previous leaf (present iff the tree is as long as the log).
    const dummy = new Uint8Array(TLOG_HASH_BYTES);
    const needed = [...nodesRead((h) => appendHashes(i, dummy, h)), ...(i > 0 ? [{ level: 0, index: i - 1 }] : [])];
    const got = await readTree(needed);
    if (got.some((h) => h === undefined)) {
      await catchUp(i);
      return undefined;
    }
    const known = new Map(needed.map((n, k) => [`${n.level}/${n.index}`, got[k] as Uint8Array]));
    const { saltKey } = await getKeys();
    const nodes = appendHashes(i, entryLeafHash(entry, saltKey), lookup(known));
    return { entry, statements: [db.insert(auditLog).values(row), ...treeInserts(nodes)] };
  };

  const headOf = (r: typeof auditHeads.$inferSelect): AuditHeadRecord => ({ size: r.size, root: u8(r.root), at: r.at, signature: u8(r.signature) });

  const byOrigin = async (origin: string): Promise<AuditEntry | undefined> => {
    const r = await db.select().from(auditLog).where(eq(auditLog.origin, origin)).get();
    return r ? auditOf(r) : undefined;
  };

  /**
   * Append `input` in one batch with `before`, the statements of the state
   * change it records: both land or neither. `before` must fail with a
   * constraint error when its change is no longer to be made (then
   * `settled` tells what happened instead, or undefined to try again).
   * With `origin`, an entry already appended under it is returned instead.
   */
  const appendWith = async <T>(
    input: AuditInput,
    before: () => Statement[],
    settled: () => Promise<T | undefined>,
    origin?: string,
  ): Promise<{ entry: AuditEntry } | { settled: T }> => {
    for (let attempt = 0; attempt < AUDIT_ATTEMPTS; attempt++) {
      const append = await appendOf(await head(), input, origin);
      if (!append) continue;
      try {
        // Plain inserts: if another append took this seq, the batch (the tree hashes and the change too) rolls back.
        await atomic(x, [...before(), ...append.statements]);
        return { entry: append.entry };
      } catch (err) {
        if (!isConstraintError(err)) throw err;
      }
      const done = await settled();
      if (done !== undefined) return { settled: done };
      await backoff(attempt);
    }
    throw new Error('coordinator: the audit log is too busy to append to');
  };

  return {
    appendWith,

    async appendAudit(input: AuditInput, origin?: string): Promise<AuditEntry> {
      if (origin !== undefined) {
        const earlier = await byOrigin(origin);
        if (earlier) return earlier;
      }
      const r = await appendWith(input, () => [], async () => (origin === undefined ? undefined : byOrigin(origin)), origin);
      return 'entry' in r ? r.entry : r.settled;
    },

    async readAudit(afterSeq: number, limit: number): Promise<AuditEntry[]> {
      return (await auditPage(db, afterSeq, limit).all()).map(auditOf);
    },

    getAuditCheckpoint,

    async purgeAudit(
      cutoff: string,
      at: string,
      record: (removed: number, checkpoint: AuditCheckpoint | undefined) => AuditInput,
    ): Promise<{ removed: number; entry: AuditEntry }> {
      for (let attempt = 0; attempt < AUDIT_ATTEMPTS; attempt++) {
        // The head first: entries up to it are fixed (the log only grows), and the insert of the
        // next seq below fails if anything was appended since, so no recent entry can be removed.
        const from = await head();
        // Remove a prefix of the chain only: everything before the first entry that is still recent.
        // Walking seq order from the oldest reads only that prefix (there is no index on `at`).
        const keep = await db
          .select({ seq: auditLog.seq })
          .from(auditLog)
          .where(and(gte(auditLog.at, cutoff), lte(auditLog.seq, from.seq)))
          .orderBy(asc(auditLog.seq))
          .limit(1)
          .get();
        const lastRemoved = await lastEntry(db, keep?.seq ?? from.seq + 1).get();
        const removed = lastRemoved ? ((await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM ${auditLog} WHERE seq <= ${lastRemoved.seq}`))?.n ?? 0) : 0;
        const checkpoint = lastRemoved ? { seq: lastRemoved.seq, hash: u8(lastRemoved.hash) } : await getAuditCheckpoint();
        const append = await appendOf(from, record(removed, checkpoint));
        if (!append) continue;
        const statements: Statement[] = [];
        if (lastRemoved) {
          const values = { seq: lastRemoved.seq, hash: lastRemoved.hash, purgedAt: at };
          statements.push(
            // Entries go; the tree's hashes stay, so heads and proofs over what remains still verify.
            db.delete(auditLog).where(sql`${auditLog.seq} <= ${lastRemoved.seq}`),
            db
              .insert(auditCheckpoint)
              .values({ id: 1, ...values })
              .onConflictDoUpdate({ target: auditCheckpoint.id, set: values }),
            // Heads of trees that hold only removed entries vouch for nothing that remains.
            db.delete(auditHeads).where(lte(auditHeads.size, lastRemoved.seq)),
          );
        }
        statements.push(...append.statements);
        try {
          await atomic(x, statements);
          return { removed, entry: append.entry };
        } catch (err) {
          if (!isConstraintError(err)) throw err;
        }
        await backoff(attempt);
      }
      throw new Error('coordinator: the audit log is too busy to purge');
    },

    auditKeys: getKeys,

    async auditTreeSize(): Promise<number> {
      return (await head()).seq;
    },

    readAuditTree: readTree,

    async getAuditHead(size?: number): Promise<AuditHeadRecord | undefined> {
      const r =
        size === undefined
          ? await db.select().from(auditHeads).orderBy(desc(auditHeads.size)).limit(1).get()
          : await db.select().from(auditHeads).where(eq(auditHeads.size, size)).get();
      return r ? headOf(r) : undefined;
    },

    async putAuditHead(h: AuditHeadRecord): Promise<AuditHeadRecord> {
      await db
        .insert(auditHeads)
        .values({ size: h.size, root: buf(h.root), at: h.at, signature: buf(h.signature) })
        .onConflictDoNothing()
        .run();
      const r = await db.select().from(auditHeads).where(eq(auditHeads.size, h.size)).get();
      if (!r) throw new Error('coordinator: the audit head could not be stored');
      return headOf(r);
    },
  } satisfies Partial<ControlPlane> & { appendWith: unknown };
}

export type AppendWith = ReturnType<typeof auditRows>['appendWith'];

/**
 * A row inserted once: `inserted` when this call inserted it, otherwise what
 * `existing` says of the row already there (the same one, or a conflict).
 * With `audit`, the row and its entry land in one batch through
 * {@link AppendWith}: a plain insert, so a row written meanwhile fails the
 * batch whole and `existing` settles it.
 */
export async function insertOnce<T extends string>(
  x: Executor,
  appendWith: AppendWith,
  audit: AuditInput | undefined,
  insert: { plain: () => Statement | readonly Statement[]; ignoring: () => unknown },
  existing: () => Promise<T | undefined>,
  inserted: T,
  conflict: T,
): Promise<T> {
  if (!audit) {
    if (x.changes(await insert.ignoring()) === 1) return inserted;
    return (await existing()) ?? conflict;
  }
  const before = await existing();
  if (before) return before;
  const done = await appendWith(audit, () => [insert.plain()].flat() as Statement[], existing);
  return 'entry' in done ? inserted : done.settled;
}

/** A stored tree hash the computation needs is missing: the tree lost rows. */
export class MissingTreeHash extends Error {
  constructor(
    readonly level: number,
    readonly index: number,
  ) {
    super(`coordinator: the audit tree has no stored hash for the subtree at level ${level}, index ${index}`);
  }
}
