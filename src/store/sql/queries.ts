// Targeted queries (src/API.md, "Targeted queries"): a query and its legs,
// the daily quota counters it is charged to, a partner's answer and the
// requester's outcome. Each write lands once: a re-send is told apart from a
// conflicting one by comparing with what is stored.
//
// With an audit entry, a write and its entry are one batch (appendWith): the
// batch takes the chain's next seq, so of two writes that read the same state
// before writing, the second fails whole and is settled by reading again. A
// batch has no branches, so a write that would not land (a quota gone, a leg
// no longer pending) fails the batch through `failUnless` instead of leaving
// an entry for a change that did not happen.
import { and, asc, eq, gt, isNotNull, lt, or, sql, type SQL } from 'drizzle-orm';
import * as schema from '../schema.js';
import type { AnswerInput, AnswerResult, CreateQueryResult, InboxEntry, NewQuery, OutcomeInput, OutcomeResult, QueryRecord, RefuseResult } from '../types.js';
import type { AuditInput } from '../../audit.js';
import type { AppendWith } from './audit.js';
import type { ControlPlane } from './control.js';
import { atomic, isConstraintError, once, type Executor, type Statement } from './executor.js';
import { bumpHits } from './hits.js';
import { buf, legOf, queryOf, sameNullableBytes, u8 } from './rows.js';

const { queries, queryHits, queryLegs, queryQuota } = schema;

/** Fails the batch it is in (a NOT NULL constraint, which every driver reports as one) unless `holds`. */
function failUnless(holds: SQL): SQL {
  return sql`INSERT INTO ${queryQuota} (agency, agreement_id, day, used) SELECT NULL, NULL, NULL, 0 WHERE NOT (${holds})`;
}

export function queryRows(x: Executor, appendWith: AppendWith) {
  const { db } = x;
  const legWhere = (queryId: string, partner: string) => and(eq(queryLegs.queryId, queryId), eq(queryLegs.partner, partner));

  const usedOn = once(() =>
    db
      .select({ used: queryQuota.used })
      .from(queryQuota)
      .where(and(eq(queryQuota.agency, sql.placeholder('agency')), eq(queryQuota.agreementId, sql.placeholder('agreementId')), eq(queryQuota.day, sql.placeholder('day'))))
      .prepare(),
  );
  const queryById = once(() => db.select().from(queries).where(eq(queries.id, sql.placeholder('id'))).prepare());
  const legsOf = once(() => db.select().from(queryLegs).where(eq(queryLegs.queryId, sql.placeholder('id'))).orderBy(asc(queryLegs.partner)).prepare());
  // The responder's long poll reads its inbox on every wake.
  const inboxOf = once(() =>
    db
      .select({
        queryId: queries.id,
        from: queries.requester,
        pairId: queryLegs.pairId,
        agreementId: queryLegs.agreementId,
        agreementVersion: queryLegs.agreementVersion,
        signature: queryLegs.signature,
        kind: queries.kind,
        purpose: queries.purpose,
        caseRef: queries.caseRef,
        epoch: sql<string>`coalesce(${queryLegs.legEpoch}, ${queries.epoch})`,
        blinded: queries.blinded,
        values: queries.values,
        createdAt: sql<string>`coalesce(${queries.statedAt}, ${queries.createdAt})`,
      })
      .from(queryLegs)
      .innerJoin(queries, eq(queries.id, queryLegs.queryId))
      .where(and(eq(queryLegs.partner, sql.placeholder('agency')), eq(queryLegs.status, 'pending'), gt(queryLegs.createdAt, sql.placeholder('since'))))
      .orderBy(asc(queryLegs.createdAt), asc(queryLegs.queryId))
      .prepare(),
  );
  /**
   * A pending leg's one move (answered, or refused): with `audit`, one batch
   * with its entry that fails unless the move `landed`; without, a plain
   * conditional update. When the leg had moved already, `judge` tells a
   * re-send ('same') from another move ('conflict').
   */
  const leavePending = async <L extends { status: string }, R extends string>(
    read: () => Promise<L>,
    judge: (leg: L) => R,
    update: () => Statement,
    landed: SQL,
    audit: AuditInput | undefined,
    moved: R,
  ): Promise<R> => {
    if (audit) {
      const before = await read();
      if (before.status !== 'pending') return judge(before);
      const done = await appendWith(audit, () => [update(), failUnless(landed)], async () => {
        const leg = await read();
        return leg.status === 'pending' ? undefined : judge(leg);
      });
      return 'entry' in done ? moved : done.settled;
    }
    const [r] = await atomic(x, [update()]);
    if (r?.changes === 1) return moved;
    return judge(await read());
  };

  const queriesUsed = async (agency: string, agreementId: string, day: string): Promise<number> => {
    const r = await usedOn().get({ agency, agreementId, day });
    return r?.used ?? 0;
  };

  return {
    async createQuery(q: NewQuery, quotas: readonly { agreementId: string; perDay: number }[], day: string, audit?: AuditInput): Promise<CreateQueryResult> {
      const quotaJson = JSON.stringify(quotas.map((x) => [x.agreementId, x.perDay]));
      const agreementIds = JSON.stringify(quotas.map((x) => x.agreementId));
      // The id is the requester's: one that exists already is refused, not overwritten.
      if (await db.select({ id: queries.id }).from(queries).where(eq(queries.id, q.id)).get()) return { ok: false, reason: 'taken' };
      const created = sql`EXISTS (SELECT 1 FROM ${queries} WHERE id = ${q.id} AND stated_at = ${q.statedAt} AND requester = ${q.requester})`;
      const overQuota = async (): Promise<CreateQueryResult | undefined> => {
        for (const quota of quotas) {
          const used = await queriesUsed(q.requester, quota.agreementId, day);
          if (used >= quota.perDay) return { ok: false, reason: 'quota', agreementId: quota.agreementId, used };
        }
        return undefined;
      };
      // Count the query against every quota, then create it only if no quota went over.
      const charge = [
        sql`INSERT INTO ${queryQuota} (agency, agreement_id, day, used)
          SELECT ${q.requester}, j.value, ${day}, 1 FROM json_each(${agreementIds}) j WHERE true
          ON CONFLICT (agency, agreement_id, day) DO UPDATE SET used = used + 1`,
        sql`INSERT INTO ${queries} (id, requester, kind, purpose, case_ref, officer, n_values, epoch, blinded, created_at, stated_at)
          SELECT ${q.id}, ${q.requester}, ${q.kind}, ${q.purpose}, ${q.caseRef}, ${q.officer}, ${q.values}, ${q.epoch}, ${buf(q.blinded)}, ${q.createdAt}, ${q.statedAt}
          WHERE NOT EXISTS (SELECT 1 FROM ${queryQuota} u, json_each(${quotaJson}) j
            WHERE u.agency = ${q.requester} AND u.day = ${day} AND u.agreement_id = json_extract(j.value, '$[0]') AND u.used > json_extract(j.value, '$[1]'))`,
        // One statement per leg (at most MAX_PARTNERS): each binds its signature as a BLOB.
        ...q.legs.map(
          (l) => sql`INSERT INTO ${queryLegs} (query_id, partner, agreement_id, agreement_version, pair_id, leg_epoch, signature, created_at, status)
            SELECT ${q.id}, ${l.partner}, ${l.agreementId}, ${l.agreementVersion}, ${l.pairId}, ${l.epoch}, ${buf(l.signature)}, ${q.createdAt}, 'pending'
            WHERE ${created}`,
        ),
      ];
      if (audit) {
        // Audited: the quotas read here are the ones the batch meets (see the top of this file); one
        // that went over since fails the batch whole, counts and entry included.
        const over = await overQuota();
        if (over) return over;
        const done = await appendWith(
          audit,
          () => [...charge, failUnless(created)],
          async () => ((await db.select({ id: queries.id }).from(queries).where(eq(queries.id, q.id)).get()) ? ({ ok: false, reason: 'taken' } as const) : overQuota()),
        );
        return 'entry' in done ? { ok: true } : done.settled;
      }
      // One atomic batch: the counts, the query if no quota went over, and the counts taken back if it was not created.
      const batch = [
        ...charge,
        sql`UPDATE ${queryQuota} SET used = used - 1
          WHERE agency = ${q.requester} AND day = ${day} AND agreement_id IN (SELECT value FROM json_each(${agreementIds})) AND NOT ${created}`,
        sql`DELETE FROM ${queryQuota}
          WHERE agency = ${q.requester} AND day = ${day} AND used = 0 AND agreement_id IN (SELECT value FROM json_each(${agreementIds}))`,
      ];
      try {
        await atomic(x, batch);
      } catch (err) {
        // Another request took the id between the check and the batch.
        if (isConstraintError(err)) return { ok: false, reason: 'taken' };
        throw err;
      }
      const made = await db.select({ statedAt: queries.statedAt, requester: queries.requester }).from(queries).where(eq(queries.id, q.id)).get();
      if (made) return made.statedAt === q.statedAt && made.requester === q.requester ? { ok: true } : { ok: false, reason: 'taken' };
      const over = await overQuota();
      if (over) return over;
      throw new Error('coordinator: the query was not created');
    },

    queriesUsed,

    async getQuery(id: string): Promise<QueryRecord | undefined> {
      const q = await queryById().get({ id });
      if (!q) return undefined;
      const legs = (await legsOf().all({ id })).map(legOf);
      return queryOf(q, legs);
    },

    async inbox(agency: string, since: string): Promise<InboxEntry[]> {
      const rows = await inboxOf().all({ agency, since });
      return rows.map((r) => ({ ...r, blinded: r.blinded ? u8(r.blinded) : null, signature: r.signature ? u8(r.signature) : null }));
    },

    async refuseQuery(queryId: string, partner: string, reason: string, at: string, audit?: AuditInput): Promise<RefuseResult> {
      const where = legWhere(queryId, partner);
      const read = async () => {
        const leg = await db.select({ status: queryLegs.status, reason: queryLegs.refusalReason }).from(queryLegs).where(where).get();
        if (!leg) throw new Error('coordinator: no such query leg');
        return leg;
      };
      const judge = (leg: { status: string; reason: string | null }): RefuseResult => (leg.status === 'refused' && leg.reason === reason ? 'same' : 'conflict');
      // Only a pending leg can be refused, so a refusal and an answer never both land.
      const update = () =>
        db
          .update(queryLegs)
          .set({ status: 'refused', refusalReason: reason, refusedAt: at })
          .where(and(where, eq(queryLegs.status, 'pending')));
      const landed = sql`EXISTS (SELECT 1 FROM ${queryLegs} WHERE query_id = ${queryId} AND partner = ${partner} AND status = 'refused' AND refused_at = ${at} AND refusal_reason = ${reason})`;
      return leavePending(read, judge, update, landed, audit, 'refused');
    },

    async answerQuery(queryId: string, partner: string, a: AnswerInput, audit?: AuditInput): Promise<AnswerResult> {
      const where = legWhere(queryId, partner);
      const read = async () => {
        const leg = await db.select().from(queryLegs).where(where).get();
        if (!leg) throw new Error('coordinator: no such query leg');
        return leg;
      };
      const judge = (leg: typeof queryLegs.$inferSelect): AnswerResult =>
        leg.answerEpoch === a.epoch &&
        sameNullableBytes(leg.evaluated ? u8(leg.evaluated) : null, a.evaluated) &&
        sameNullableBytes(leg.proof ? u8(leg.proof) : null, a.proof)
          ? 'same'
          : 'conflict';
      // Only a pending leg takes an answer, so of two racing answers exactly one lands.
      const update = () =>
        db
          .update(queryLegs)
          .set({ status: 'answered', answerEpoch: a.epoch, evaluated: buf(a.evaluated), proof: buf(a.proof), proofValid: a.proofValid ? 1 : 0, answeredAt: a.at })
          .where(and(where, eq(queryLegs.status, 'pending')));
      const landed = sql`EXISTS (SELECT 1 FROM ${queryLegs} WHERE query_id = ${queryId} AND partner = ${partner} AND status = 'answered' AND answered_at = ${a.at} AND answer_epoch = ${a.epoch})`;
      return leavePending(read, judge, update, landed, audit, 'answered');
    },

    async recordOutcome(queryId: string, partner: string, o: OutcomeInput, audit?: AuditInput): Promise<OutcomeResult> {
      const where = legWhere(queryId, partner);
      const leg = await db.select({ outcomeAt: queryLegs.outcomeAt }).from(queryLegs).where(where).get();
      if (!leg) throw new Error('coordinator: no such query leg');
      if (leg.outcomeAt === null) {
        const hitsJson = JSON.stringify(o.hits.map((h) => [h.index, h.handle, h.pairId, h.epoch, h.position]));
        const landed = sql`EXISTS (SELECT 1 FROM ${queryLegs} WHERE query_id = ${queryId} AND partner = ${partner} AND outcome_at = ${o.at}
              AND outcome_hits = ${o.hits.length} AND outcome_no_hits = ${o.noHits} AND outcome_error IS ${o.error})`;
        // The leg takes the first outcome only; the hits are written only with the outcome that landed.
        const statements = () => [
          db
            .update(queryLegs)
            .set({ outcomeAt: o.at, outcomeHits: o.hits.length, outcomeNoHits: o.noHits, outcomeError: o.error })
            .where(and(where, sql`${queryLegs.outcomeAt} IS NULL`)),
          sql`INSERT INTO ${queryHits} (query_id, partner, idx, handle, pair_id, epoch, position, created_at)
            SELECT ${queryId}, ${partner}, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'),
              json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'), ${o.at}
            FROM json_each(${hitsJson}) j
            WHERE ${landed}
            ON CONFLICT DO NOTHING`,
          ...(o.hits.length > 0 ? [bumpHits()] : []),
        ];
        if (audit) {
          const done = await appendWith(audit, () => [...statements(), failUnless(landed)], async () => {
            const now = await db.select({ outcomeAt: queryLegs.outcomeAt }).from(queryLegs).where(where).get();
            return now?.outcomeAt === null ? undefined : judge();
          });
          return 'entry' in done ? 'recorded' : done.settled;
        }
        const [updated] = await atomic(x, statements());
        if (updated?.changes === 1) return 'recorded';
      }
      return judge();

      async function judge(): Promise<OutcomeResult> {
        const stored = await db.select().from(queryLegs).where(where).get();
        const hits = await db
          .select({ idx: queryHits.idx, handle: queryHits.handle })
          .from(queryHits)
          .where(and(eq(queryHits.queryId, queryId), eq(queryHits.partner, partner)))
          .orderBy(asc(queryHits.idx))
          .all();
        const given = [...o.hits].sort((x, y) => x.index - y.index);
        const same =
          stored?.outcomeNoHits === o.noHits &&
          stored.outcomeError === o.error &&
          hits.length === given.length &&
          hits.every((s, i) => s.idx === given[i]?.index && s.handle === given[i]?.handle);
        return same ? 'same' : 'conflict';
      }
    },

    async purgeQueryValues(before: string): Promise<number> {
      const [n] = await atomic(x, [
        db
          .update(queries)
          .set({ blinded: null })
          .where(and(lt(queries.createdAt, before), isNotNull(queries.blinded))),
        db
          .update(queryLegs)
          .set({ evaluated: null, proof: null })
          .where(and(lt(queryLegs.createdAt, before), or(isNotNull(queryLegs.evaluated), isNotNull(queryLegs.proof)))),
      ]);
      return n?.changes ?? 0;
    },

    async purgeQuotaCounters(day: string): Promise<number> {
      return x.changes(await db.delete(queryQuota).where(lt(queryQuota.day, day)).run());
    },
  } satisfies Partial<ControlPlane>;
}
