// Nightly and query hits and the holders' final statuses (src/API.md, "Hits
// (nightly matches and query hits, two-step status)"). Lists of pairs or
// handles travel as one JSON value, under D1's limit on bound values.
import { and, eq, sql, type SQL } from 'drizzle-orm';
import * as schema from '../schema.js';
import type { HitStatusRecord, MatchedHandle, NightlyHitRecord, QueryHitRecord, SetHitStatusResult } from '../types.js';
import type { ControlPlane } from './control.js';
import { atomic, inJson, JSON_ROWS, pieces, type Executor } from './executor.js';
import { queryHitColumns } from './rows.js';

const { hitStatus, nightlyHits, queries, queryHits } = schema;

export function hitRows(x: Executor) {
  const { db } = x;
  const queryHitsWhere = (where: SQL) => db.select(queryHitColumns).from(queryHits).innerJoin(queries, eq(queries.id, queryHits.queryId)).where(where).all();

  return {
    async upsertNightlyHits(pairId: string, epoch: string, list: readonly MatchedHandle[]): Promise<number> {
      const statements = [...pieces(list, JSON_ROWS)].map((part) => {
        const rows = JSON.stringify(part.map((m) => [m.handle, m.posA, m.posB, m.firstSeen]));
        // First-seen times (created_at) never change on a refresh.
        return sql`INSERT INTO ${nightlyHits} (pair_id, handle, epoch, pos_a, pos_b, created_at)
          SELECT ${pairId}, json_extract(j.value, '$[0]'), ${epoch}, json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]')
          FROM json_each(${rows}) j WHERE true
          ON CONFLICT (pair_id, handle) DO UPDATE SET epoch = excluded.epoch, pos_a = excluded.pos_a, pos_b = excluded.pos_b`;
      });
      return (await atomic(x, statements)).reduce((n, r) => n + r.changes, 0);
    },

    async pruneNightlyHits(pairId: string, epoch: string, matched: readonly string[]): Promise<number> {
      const keep = new Set(matched);
      const held = await db
        .select({ handle: nightlyHits.handle })
        .from(nightlyHits)
        .where(and(eq(nightlyHits.pairId, pairId), eq(nightlyHits.epoch, epoch)))
        .all();
      const gone = held.map((r) => r.handle).filter((h) => !keep.has(h));
      // A hit a holder already confirmed or declined stays, whatever the matching says now; one a
      // concurrent refresh moved to another epoch is not this epoch's to drop.
      const statements = [...pieces(gone, JSON_ROWS)].map(
        (part) => sql`DELETE FROM ${nightlyHits}
          WHERE pair_id = ${pairId} AND epoch = ${epoch} AND handle IN (SELECT value FROM json_each(${JSON.stringify(part)}))
          AND NOT EXISTS (SELECT 1 FROM ${hitStatus} s WHERE s.handle = ${nightlyHits}.handle)`,
      );
      return (await atomic(x, statements)).reduce((n, r) => n + r.changes, 0);
    },

    async listNightlyHits(pairIds: readonly string[]): Promise<NightlyHitRecord[]> {
      const out: NightlyHitRecord[] = [];
      for (const part of pieces(pairIds, JSON_ROWS)) out.push(...(await db.select().from(nightlyHits).where(inJson(nightlyHits.pairId, part)).all()));
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

    async setHitStatus(r: HitStatusRecord): Promise<SetHitStatusResult> {
      if (x.changes(await db.insert(hitStatus).values(r).onConflictDoNothing().run()) === 1) return 'set';
      const cur = await db
        .select({ status: hitStatus.status })
        .from(hitStatus)
        .where(and(eq(hitStatus.handle, r.handle), eq(hitStatus.agency, r.agency)))
        .get();
      return cur?.status === r.status ? 'same' : 'conflict';
    },
  } satisfies Partial<ControlPlane>;
}
