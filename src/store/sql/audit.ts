// The audit hash chain (src/API.md, "Audit log"; "Audit export and
// retention"). `seq` is the primary key, so an append is optimistic: read
// the head, insert the next entry, and when another request took that seq
// first, read the head again. A retention purge is one batch that ends with
// such an insert, so it too lands whole or not at all.
import { and, asc, desc, eq, gt, gte, lt, lte, sql } from 'drizzle-orm';
import { AUDIT_GENESIS_HASH, canonicalJSON, chainHash, type AuditCheckpoint, type AuditDetail, type AuditEntry, type AuditInput } from '../../audit.js';
import * as schema from '../schema.js';
import type { ControlPlane } from './control.js';
import { atomic, backoff, isConstraintError, type ControlDb, type Executor, type Statement } from './executor.js';
import { auditOf, buf, u8 } from './rows.js';

const { auditCheckpoint, auditLog } = schema;

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
function nextEntry(from: AuditCheckpoint, input: AuditInput): { entry: AuditEntry; row: typeof auditLog.$inferInsert } {
  const seq = from.seq + 1;
  const detailJson = canonicalJSON(input.detail);
  const event = { ...input, seq, detail: JSON.parse(detailJson) as AuditDetail };
  const hash = chainHash(from.hash, event);
  return {
    entry: { ...event, hash },
    row: { seq, at: event.at, actor: event.actor, action: event.action, subject: event.subject, outcome: event.outcome, detail: detailJson, hash: buf(hash) },
  };
}

export function auditRows(x: Executor) {
  const { db } = x;

  const getAuditCheckpoint = async (): Promise<AuditCheckpoint | undefined> => {
    const r = await checkpointQuery(db).get();
    return r ? { seq: r.seq, hash: u8(r.hash) } : undefined;
  };

  /** The last entry; after a purge that removed every entry the chain continues from the checkpoint. */
  const head = async (): Promise<AuditCheckpoint> => {
    const last = await lastEntry(db).get();
    if (last) return { seq: last.seq, hash: u8(last.hash) };
    return (await getAuditCheckpoint()) ?? { seq: 0, hash: AUDIT_GENESIS_HASH };
  };

  return {
    async appendAudit(input: AuditInput): Promise<AuditEntry> {
      for (let attempt = 0; attempt < AUDIT_ATTEMPTS; attempt++) {
        const { entry, row } = nextEntry(await head(), input);
        if (x.changes(await db.insert(auditLog).values(row).onConflictDoNothing().run()) === 1) return entry;
        await backoff(attempt);
      }
      throw new Error('coordinator: the audit log is too busy to append to');
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
        const { entry, row } = nextEntry(from, record(removed, checkpoint));
        const statements: Statement[] = [];
        if (lastRemoved) {
          const values = { seq: lastRemoved.seq, hash: lastRemoved.hash, purgedAt: at };
          statements.push(
            db.delete(auditLog).where(sql`${auditLog.seq} <= ${lastRemoved.seq}`),
            db
              .insert(auditCheckpoint)
              .values({ id: 1, ...values })
              .onConflictDoUpdate({ target: auditCheckpoint.id, set: values }),
          );
        }
        // A plain insert: if another append took this seq, the whole batch (the deletion too) rolls back.
        statements.push(db.insert(auditLog).values(row));
        try {
          await atomic(x, statements);
          return { removed, entry };
        } catch (err) {
          if (!isConstraintError(err)) throw err;
        }
        await backoff(attempt);
      }
      throw new Error('coordinator: the audit log is too busy to purge');
    },
  } satisfies Partial<ControlPlane>;
}
