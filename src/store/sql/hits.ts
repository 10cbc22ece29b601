// Nightly and query hits and the holders' final statuses (src/API.md, "Hits
// (nightly matches and query hits, two-step status)"). Lists of pairs or
// handles travel as one JSON value, under D1's limit on bound values.
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { bytesToHex } from '../../../protocol/bytes.js';
import * as schema from '../schema.js';
import type { AuditInput } from '../../audit.js';
import type { HitStatusRecord, MatchedHandle, NightlyHitRecord, NightlyHitsSync, QueryHitRecord, SetHitStatusResult } from '../types.js';
import { type AppendWith, insertOnce } from './audit.js';
import type { ControlPlane } from './control.js';
import { atomic, inJson, JSON_ROWS, pieces, type Executor, type Statement } from './executor.js';
import { queryHitColumns, u8 } from './rows.js';

const { hitStatus, hitsRevision, nightlyHits, queries, queryHits } = schema;

/**
 * A new hits revision (src/store/schema.ts, hitsRevision): part of the batch
 * of every statement that writes nightly hits, query hits or hit statuses, so
 * GET /v1/hits never answers 304 over a change. A batch that ends up writing
 * nothing still renews it, which costs one document sent again.
 */
export function bumpHits(): SQL {
  return sql`INSERT INTO ${hitsRevision} (id, revision) VALUES (1, randomblob(16)) ON CONFLICT (id) DO UPDATE SET revision = excluded.revision`;
}

export function hitRows(x: Executor, appendWith: AppendWith) {
  const { db } = x;
  const queryHitsWhere = (where: SQL) => db.select(queryHitColumns).from(queryHits).innerJoin(queries, eq(queries.id, queryHits.queryId)).where(where).all();

  const upserts = (pairId: string, epoch: string, list: readonly MatchedHandle[]): Statement[] =>
    [...pieces(list, JSON_ROWS)].map((part) => {
      const rows = JSON.stringify(part.map((m) => [m.handle, m.posA, m.posB, m.firstSeen]));
      // First-seen times (created_at) never change on a refresh.
      return sql`INSERT INTO ${nightlyHits} (pair_id, handle, epoch, pos_a, pos_b, created_at)
        SELECT ${pairId}, json_extract(j.value, '$[0]'), ${epoch}, json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]')
        FROM json_each(${rows}) j WHERE true
        ON CONFLICT (pair_id, handle) DO UPDATE SET epoch = excluded.epoch, pos_a = excluded.pos_a, pos_b = excluded.pos_b`;
    });
  // A hit a holder already confirmed or declined stays, whatever the matching says now; one a
  // concurrent refresh moved to another epoch is not this epoch's to drop.
  const deletes = (pairId: string, epoch: string, gone: readonly string[]): Statement[] =>
    [...pieces(gone, JSON_ROWS)].map(
      (part) => sql`DELETE FROM ${nightlyHits}
        WHERE pair_id = ${pairId} AND epoch = ${epoch} AND handle IN (SELECT value FROM json_each(${JSON.stringify(part)}))
        AND NOT EXISTS (SELECT 1 FROM ${hitStatus} s WHERE s.handle = ${nightlyHits}.handle)`,
    );

  /** Rows the statements wrote, run in one batch with a new hits revision (none when there is nothing to write). */
  const written = async (statements: readonly Statement[]): Promise<number> => {
    if (statements.length === 0) return 0;
    return (await atomic(x, [...statements, bumpHits()])).slice(0, statements.length).reduce((n, r) => n + r.changes, 0);
  };

  return {
    async syncNightlyHits(pairId: string, epoch: string, matched: readonly MatchedHandle[], add: boolean): Promise<NightlyHitsSync> {
      const held = new Map(
        (
          await db
            .select({ handle: nightlyHits.handle, epoch: nightlyHits.epoch, posA: nightlyHits.posA, posB: nightlyHits.posB })
            .from(nightlyHits)
            .where(eq(nightlyHits.pairId, pairId))
            .all()
        ).map((h) => [h.handle, h]),
      );
      const keep = new Set(matched.map((m) => m.handle));
      // Only what differs is written: a night with little churn rewrites little.
      const changed = add
        ? matched.filter((m) => {
            const h = held.get(m.handle);
            return !h || h.epoch !== epoch || h.posA !== m.posA || h.posB !== m.posB;
          })
        : [];
      const gone = [...held.values()].filter((h) => h.epoch === epoch && !keep.has(h.handle)).map((h) => h.handle);
      const up = upserts(pairId, epoch, changed);
      const del = deletes(pairId, epoch, gone);
      if (up.length + del.length === 0) return { upserted: 0, removed: 0 };
      const results = await atomic(x, [...up, ...del, bumpHits()]);
      const count = (from: number, to: number) => results.slice(from, to).reduce((n, r) => n + r.changes, 0);
      return { upserted: count(0, up.length), removed: count(up.length, up.length + del.length) };
    },

    async upsertNightlyHits(pairId: string, epoch: string, list: readonly MatchedHandle[]): Promise<number> {
      return written(upserts(pairId, epoch, list));
    },

    async pruneNightlyHits(pairId: string, epoch: string, matched: readonly string[]): Promise<number> {
      const keep = new Set(matched);
      const held = await db
        .select({ handle: nightlyHits.handle })
        .from(nightlyHits)
        .where(and(eq(nightlyHits.pairId, pairId), eq(nightlyHits.epoch, epoch)))
        .all();
      return written(deletes(pairId, epoch, held.map((r) => r.handle).filter((h) => !keep.has(h))));
    },

    async listNightlyHits(pairIds: readonly string[]): Promise<NightlyHitRecord[]> {
      const out: NightlyHitRecord[] = [];
      // Plain value rows, mapped here: drizzle's per-row mapping cost as much as the read (an agency's hits are read whole).
      const h = nightlyHits;
      for (const part of pieces(pairIds, JSON_ROWS)) {
        const rows = (await db.select({ pairId: h.pairId, handle: h.handle, epoch: h.epoch, posA: h.posA, posB: h.posB, createdAt: h.createdAt }).from(h).where(inJson(h.pairId, part)).values()) as [string, string, string, number, number, string][];
        for (const [pairId, handle, epoch, posA, posB, createdAt] of rows) out.push({ pairId, handle, epoch, posA, posB, createdAt });
      }
      return out;
    },

    async listQueryHits(agency: string): Promise<QueryHitRecord[]> {
      const held = await queryHitsWhere(eq(queryHits.partner, agency));
      const asked = await db.select(queryHitColumns).from(queries).innerJoin(queryHits, eq(queryHits.queryId, queries.id)).where(eq(queries.requester, agency)).all();
      return [...held, ...asked];
    },

    async hitsByHandle(handle: string): Promise<{ nightly: NightlyHitRecord[]; query: QueryHitRecord[] }> {
      return {
        nightly: await db.select().from(nightlyHits).where(eq(nightlyHits.handle, handle)).all(),
        query: await queryHitsWhere(eq(queryHits.handle, handle)),
      };
    },

    async hitStatuses(list: readonly string[]): Promise<HitStatusRecord[]> {
      const out: HitStatusRecord[] = [];
      for (const part of pieces([...new Set(list)], JSON_ROWS)) out.push(...(await db.select().from(hitStatus).where(inJson(hitStatus.handle, part)).all()));
      return out;
    },

    async hitsRevision(): Promise<string | null> {
      const r = await db.select({ revision: hitsRevision.revision }).from(hitsRevision).get();
      return r ? bytesToHex(u8(r.revision)) : null;
    },

    async setHitStatus(r: HitStatusRecord, audit?: AuditInput): Promise<SetHitStatusResult> {
      const existing = async (): Promise<SetHitStatusResult | undefined> => {
        const cur = await db
          .select({ status: hitStatus.status })
          .from(hitStatus)
          .where(and(eq(hitStatus.handle, r.handle), eq(hitStatus.agency, r.agency)))
          .get();
        return cur === undefined ? undefined : cur.status === r.status ? 'same' : 'conflict';
      };
      if (!audit) {
        const [set] = await atomic(x, [db.insert(hitStatus).values(r).onConflictDoNothing(), bumpHits()]);
        return set?.changes === 1 ? 'set' : ((await existing()) ?? 'conflict');
      }
      // The status, the hits revision and the audit entry in one batch.
      const insert = { plain: () => [db.insert(hitStatus).values(r), bumpHits()], ignoring: () => undefined };
      return insertOnce<SetHitStatusResult>(x, appendWith, audit, insert, existing, 'set', 'conflict');
    },
  } satisfies Partial<ControlPlane>;
}
