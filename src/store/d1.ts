// The Workers store (docs/ARCHITECTURE.md §Coordinator): the control plane (agencies, agreements,
// epochs, keys, nonces, configuration, audit, queries, hits) in D1 through
// drizzle-orm/d1, and each agency pair's bulk data in its own Durable Object
// (src/store/do-pair.ts). Same schema and migrations as the Node store.
//
// D1 refuses interactive transactions (BEGIN), so every read-modify-write of
// the SQLite store becomes either one conditional statement, one atomic
// `batch`, or an optimistic append that retries when another request took its
// sequence number first (the audit chain). D1 binds at most 100 parameters
// per statement: lists travel as one JSON parameter expanded by json_each.
import { and, asc, desc, eq, gt, gte, is, isNotNull, lt, or, SQL, sql } from 'drizzle-orm';
import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import { AUDIT_GENESIS_HASH, canonicalJSON, chainHash, type AuditCheckpoint, type AuditDetail, type AuditEntry, type AuditInput } from '../audit.js';
import { defaultConfig, type DeploymentConfig } from '../config.js';
import type { PairRpc } from './do-pair.js';
import { agencyOf, agreementOf, auditOf, buf, legOf, pairOf, queryHitColumns, queryOf, sameBytes, sameNullableBytes, u8 } from './rows.js';
import * as schema from './schema.js';
import type {
  AgencyRecord,
  AgreementRecord,
  AnswerInput,
  AnswerResult,
  CanaryInput,
  CoordinatorSecrets,
  CreateQueryResult,
  EpochKeyRecord,
  EpochRecord,
  HitStatusRecord,
  InboxEntry,
  InitialiseInput,
  LinkInput,
  MatchedHandle,
  NewQuery,
  NightlyHitRecord,
  OutcomeInput,
  OutcomeResult,
  PairRecord,
  PairStateName,
  PairStateRecord,
  PairStore,
  PutChunkInput,
  PutResult,
  PutTokensInput,
  QueryHitRecord,
  QueryRecord,
  SetHitStatusResult,
  Side,
  Store,
} from './types.js';

const {
  agencies,
  agreements,
  auditCheckpoint,
  auditLog,
  config,
  coordinator,
  epochKeys,
  epochs,
  hitStatus,
  nightlyHits,
  nonces,
  pairs,
  queries,
  queryHits,
  queryLegs,
  queryQuota,
} = schema;

type Db = DrizzleD1Database<typeof schema>;

/** A pair object's RPC stub: every method answers asynchronously. */
export type PairStub = { [M in keyof PairRpc]: (...args: Parameters<PairRpc[M]>) => Promise<Awaited<ReturnType<PairRpc[M]>>> };

/** The Durable Object namespace binding of the pair objects. */
export interface PairNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): PairStub;
}

export interface WorkersStoreOptions {
  /**
   * Prefix of the pair objects' names. Tests give each coordinator its own so
   * that coordinators sharing one namespace never share a pair's data.
   */
  pairNamePrefix?: string;
}

/** Nonces older than this are refused as stale anyway (RFC 9421 `created` window is 300 s). */
const NONCE_RETENTION_S = 600;
const NONCE_PRUNE_EVERY_S = 60;
/** Rows per JSON list parameter: well under D1's 2,000,000-byte limit on a bound value. */
const JSON_ROWS = 2000;
/** Rows per multi-row insert: D1 binds at most 100 parameters per statement. */
const MAX_PARAMS = 100;
/** An audit append races other appends for the next sequence number; it retries this often before giving up. */
const AUDIT_ATTEMPTS = 100;

/** The D1 binding, as far as this store uses it directly (atomic batches). */
interface D1Binding {
  prepare(query: string): { bind(...values: unknown[]): unknown };
  batch(statements: unknown[]): Promise<D1BatchResult[]>;
}

interface D1BatchResult {
  results: Record<string, unknown>[];
  meta: { changes: number };
}

/** A statement of a batch: a drizzle query builder or a raw `sql` template. */
type BatchStatement = SQL | { toSQL(): { sql: string; params: unknown[] } };

const dialect = new SQLiteAsyncDialect();

function changes(result: unknown): number {
  return (result as { meta: { changes: number } }).meta.changes;
}

function* pieces<T>(xs: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < xs.length; i += size) yield xs.slice(i, i + size);
}

function isConstraintError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    if (/constraint failed/i.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A short pause with jitter between optimistic retries, so racing appends spread out. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.min(50, 2 + attempt * 2) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class D1Store implements Store {
  readonly db: Db;
  private readonly d1: D1Binding;
  private lastNoncePrune = 0;

  constructor(
    d1: unknown,
    private readonly pairObjects: PairNamespace,
    private readonly options: WorkersStoreOptions = {},
  ) {
    this.d1 = d1 as D1Binding;
    this.db = drizzle(d1 as never, { schema });
  }

  /**
   * Run statements as one D1 batch: atomic, in order, all or nothing. Raw
   * results (rows and `meta.changes`), because drizzle's D1 batch cannot bind
   * the parameters of raw `sql` statements.
   */
  private async batch(statements: readonly BatchStatement[]): Promise<D1BatchResult[]> {
    if (statements.length === 0) return [];
    return this.d1.batch(
      statements.map((st) => {
        const q = is(st, SQL) ? dialect.sqlToQuery(st) : (st as Exclude<BatchStatement, SQL>).toSQL();
        return this.d1.prepare(q.sql).bind(...q.params);
      }),
    );
  }

  async initialise(input: InitialiseInput): Promise<void> {
    if (await this.db.select({ id: coordinator.id }).from(coordinator).get()) throw new Error('coordinator: this database is already initialised');
    const statements: BatchStatement[] = [
      this.db.insert(coordinator).values({ id: 1, adminKey: buf(input.adminKey), handleKey: buf(input.handleKey), createdAt: input.at }),
      this.db.insert(epochs).values({ seq: 1, id: input.epoch.id, startedAt: input.epoch.startedAt }),
    ];
    if (input.config) statements.push(this.configUpsert(input.config, input.at));
    try {
      await this.batch(statements);
    } catch (err) {
      if (isConstraintError(err)) throw new Error('coordinator: this database is already initialised');
      throw err;
    }
  }

  /** Replace the admin public key (the Worker's `ADMIN_PUBLIC_KEY` secret is authoritative). */
  async setAdminKey(adminKey: Uint8Array): Promise<void> {
    await this.db.update(coordinator).set({ adminKey: buf(adminKey) }).where(eq(coordinator.id, 1)).run();
  }

  private configUpsert(c: DeploymentConfig, at: string) {
    const values = { purposes: JSON.stringify(c.purposes), dataDays: c.retention.dataDays, auditDays: c.retention.auditDays, updatedAt: at };
    return this.db
      .insert(config)
      .values({ id: 1, ...values })
      .onConflictDoUpdate({ target: config.id, set: values });
  }

  async getConfig(): Promise<DeploymentConfig> {
    const r = await this.db.select().from(config).where(eq(config.id, 1)).get();
    if (!r) return defaultConfig();
    return { purposes: JSON.parse(r.purposes) as string[], retention: { dataDays: r.dataDays, auditDays: r.auditDays } };
  }

  async putConfig(c: DeploymentConfig, at: string): Promise<void> {
    await this.configUpsert(c, at).run();
  }

  async getSecrets(): Promise<CoordinatorSecrets | undefined> {
    const r = await this.db.select().from(coordinator).where(eq(coordinator.id, 1)).get();
    return r ? { adminKey: u8(r.adminKey), handleKey: u8(r.handleKey) } : undefined;
  }

  async getAgency(id: string): Promise<AgencyRecord | undefined> {
    const r = await this.db.select().from(agencies).where(eq(agencies.id, id)).get();
    return r ? agencyOf(r) : undefined;
  }

  async putAgency(a: AgencyRecord): Promise<PutResult> {
    const inserted = await this.db
      .insert(agencies)
      .values({ id: a.id, name: a.name, country: a.country, signingKey: buf(a.signingKey), createdAt: a.createdAt })
      .onConflictDoNothing()
      .run();
    if (changes(inserted) === 1) return 'created';
    const r = await this.db.select().from(agencies).where(eq(agencies.id, a.id)).get();
    return r && r.name === a.name && r.country === a.country && sameBytes(r.signingKey, a.signingKey) ? 'same' : 'conflict';
  }

  async getAgreement(id: string): Promise<AgreementRecord | undefined> {
    const r = await this.db.select().from(agreements).where(eq(agreements.id, id)).get();
    return r ? agreementOf(r) : undefined;
  }

  async listAgreements(): Promise<AgreementRecord[]> {
    return (await this.db.select().from(agreements).orderBy(asc(agreements.id)).all()).map(agreementOf);
  }

  async insertAgreement(a: AgreementRecord, ps: readonly PairRecord[]): Promise<boolean> {
    if (await this.db.select({ id: agreements.id }).from(agreements).where(eq(agreements.id, a.id)).get()) return false;
    const statements: BatchStatement[] = [
      this.db.insert(agreements).values({
        id: a.id,
        parties: JSON.stringify(a.parties),
        kinds: JSON.stringify(a.kinds),
        mode: a.mode,
        validFrom: a.validFrom,
        validUntil: a.validUntil,
        maxSetSize: a.maxSetSize,
        legalBasis: a.legalBasis,
        createdAt: a.createdAt,
        purposes: JSON.stringify(a.purposes),
        queryPerDay: a.queryQuota.perDay,
        queryMaxValues: a.queryQuota.maxValues,
      }),
    ];
    const rows = ps.map((p) => ({ id: p.id, agreementId: p.agreementId, agencyA: p.agencies[0], agencyB: p.agencies[1] }));
    for (const part of pieces(rows, Math.floor(MAX_PARAMS / 4))) statements.push(this.db.insert(pairs).values(part));
    try {
      // One batch: the agreement and all its pairs, or nothing.
      await this.batch(statements);
    } catch (err) {
      if (isConstraintError(err) && (await this.db.select({ id: agreements.id }).from(agreements).where(eq(agreements.id, a.id)).get())) return false;
      throw err;
    }
    return true;
  }

  async getPair(id: string): Promise<PairRecord | undefined> {
    const r = await this.db.select().from(pairs).where(eq(pairs.id, id)).get();
    return r ? pairOf(r) : undefined;
  }

  async listPairsOf(agencyId: string): Promise<PairRecord[]> {
    const rows = await this.db
      .select()
      .from(pairs)
      .where(or(eq(pairs.agencyA, agencyId), eq(pairs.agencyB, agencyId)))
      .orderBy(asc(pairs.id))
      .all();
    return rows.map(pairOf);
  }

  async listPairs(): Promise<PairRecord[]> {
    return (await this.db.select().from(pairs).orderBy(asc(pairs.id)).all()).map(pairOf);
  }

  async currentEpoch(): Promise<EpochRecord> {
    const r = await this.db.select().from(epochs).orderBy(desc(epochs.seq)).limit(1).get();
    if (!r) throw new Error('coordinator: the database is not initialised (set ADMIN_PUBLIC_KEY and send any request)');
    return { id: r.id, startedAt: r.startedAt };
  }

  async listEpochs(): Promise<EpochRecord[]> {
    return this.db.select({ id: epochs.id, startedAt: epochs.startedAt }).from(epochs).orderBy(asc(epochs.seq)).all();
  }

  async rotateEpoch(at: string): Promise<{ epoch: EpochRecord; previous: string }> {
    // One statement picks the next sequence number and inserts it, so two rotations never take the same one.
    const [inserted, prev] = (await this.batch([
      sql`INSERT INTO ${epochs} (seq, id, started_at)
        SELECT max(seq) + 1, 'e' || (max(seq) + 1), ${at} FROM ${epochs} HAVING count(*) > 0
        RETURNING seq, id, started_at AS startedAt`,
      sql`SELECT id FROM ${epochs} WHERE seq = (SELECT max(seq) - 1 FROM ${epochs})`,
    ])) as [D1BatchResult, D1BatchResult];
    const epoch = inserted.results[0] as { id: string; startedAt: string } | undefined;
    const previous = prev.results[0] as { id: string } | undefined;
    if (!epoch || !previous) throw new Error('coordinator: the database is not initialised');
    return { epoch: { id: epoch.id, startedAt: epoch.startedAt }, previous: previous.id };
  }

  async getEpochKey(agency: string, epoch: string): Promise<EpochKeyRecord | undefined> {
    const r = await this.db
      .select()
      .from(epochKeys)
      .where(and(eq(epochKeys.agency, agency), eq(epochKeys.epoch, epoch)))
      .get();
    return r ? { agency: r.agency, epoch: r.epoch, publicKey: u8(r.publicKey), publishedAt: r.publishedAt } : undefined;
  }

  async putEpochKey(k: EpochKeyRecord): Promise<PutResult> {
    const inserted = await this.db
      .insert(epochKeys)
      .values({ agency: k.agency, epoch: k.epoch, publicKey: buf(k.publicKey), publishedAt: k.publishedAt })
      .onConflictDoNothing()
      .run();
    if (changes(inserted) === 1) return 'created';
    const r = await this.getEpochKey(k.agency, k.epoch);
    return r && sameBytes(r.publicKey, k.publicKey) ? 'same' : 'conflict';
  }

  async useNonce(keyid: string, nonce: string, createdS: number, nowS: number): Promise<boolean> {
    if (nowS - this.lastNoncePrune >= NONCE_PRUNE_EVERY_S) {
      this.lastNoncePrune = nowS;
      await this.db.delete(nonces).where(lt(nonces.created, nowS - NONCE_RETENTION_S)).run();
    }
    return changes(await this.db.insert(nonces).values({ keyid, nonce, created: createdS }).onConflictDoNothing().run()) === 1;
  }

  private async auditHead(): Promise<AuditCheckpoint> {
    const last = await this.db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1).get();
    if (last) return { seq: last.seq, hash: u8(last.hash) };
    return (await this.getAuditCheckpoint()) ?? { seq: 0, hash: AUDIT_GENESIS_HASH };
  }

  /** The entry that follows `from`, with the detail stored and hashed exactly as it reads back. */
  private nextEntry(from: AuditCheckpoint, input: AuditInput): { entry: AuditEntry; row: typeof auditLog.$inferInsert } {
    const seq = from.seq + 1;
    const detailJson = canonicalJSON(input.detail);
    const event = { ...input, seq, detail: JSON.parse(detailJson) as AuditDetail };
    const hash = chainHash(from.hash, event);
    return {
      entry: { ...event, hash },
      row: { seq, at: event.at, actor: event.actor, action: event.action, subject: event.subject, outcome: event.outcome, detail: detailJson, hash: buf(hash) },
    };
  }

  async appendAudit(input: AuditInput): Promise<AuditEntry> {
    // seq is the primary key: of two appends that read the same head, one inserts and the other reads again.
    for (let attempt = 0; attempt < AUDIT_ATTEMPTS; attempt++) {
      const { entry, row } = this.nextEntry(await this.auditHead(), input);
      if (changes(await this.db.insert(auditLog).values(row).onConflictDoNothing().run()) === 1) return entry;
      await backoff(attempt);
    }
    throw new Error('coordinator: the audit log is too busy to append to');
  }

  async getAuditCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const r = await this.db.select().from(auditCheckpoint).where(eq(auditCheckpoint.id, 1)).get();
    return r ? { seq: r.seq, hash: u8(r.hash) } : undefined;
  }

  async purgeAudit(
    cutoff: string,
    at: string,
    record: (removed: number, checkpoint: AuditCheckpoint | undefined) => AuditInput,
  ): Promise<{ removed: number; entry: AuditEntry }> {
    for (let attempt = 0; attempt < AUDIT_ATTEMPTS; attempt++) {
      // Remove a prefix of the chain only: everything before the first entry that is still recent.
      const keep = await this.db.select({ seq: auditLog.seq }).from(auditLog).where(gte(auditLog.at, cutoff)).orderBy(asc(auditLog.seq)).limit(1).get();
      const head = await this.auditHead();
      const lastRemoved =
        keep === undefined
          ? await this.db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1).get()
          : await this.db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).where(lt(auditLog.seq, keep.seq)).orderBy(desc(auditLog.seq)).limit(1).get();
      const removed = lastRemoved
        ? ((await this.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM ${auditLog} WHERE seq <= ${lastRemoved.seq}`))?.n ?? 0)
        : 0;
      const checkpoint = lastRemoved ? { seq: lastRemoved.seq, hash: u8(lastRemoved.hash) } : await this.getAuditCheckpoint();
      const { entry, row } = this.nextEntry(head, record(removed, checkpoint));
      const statements: BatchStatement[] = [];
      if (lastRemoved) {
        const values = { seq: lastRemoved.seq, hash: lastRemoved.hash, purgedAt: at };
        statements.push(
          this.db.delete(auditLog).where(sql`${auditLog.seq} <= ${lastRemoved.seq}`),
          this.db
            .insert(auditCheckpoint)
            .values({ id: 1, ...values })
            .onConflictDoUpdate({ target: auditCheckpoint.id, set: values }),
        );
      }
      // A plain insert: if another append took this seq, the whole batch (the deletion too) rolls back.
      statements.push(this.db.insert(auditLog).values(row));
      try {
        await this.batch(statements);
        return { removed, entry };
      } catch (err) {
        if (!isConstraintError(err)) throw err;
      }
      await backoff(attempt);
    }
    throw new Error('coordinator: the audit log is too busy to purge');
  }

  async readAudit(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    return (await this.db.select().from(auditLog).where(gt(auditLog.seq, afterSeq)).orderBy(asc(auditLog.seq)).limit(limit).all()).map(auditOf);
  }

  async createQuery(q: NewQuery, quotas: readonly { agreementId: string; perDay: number }[], day: string): Promise<CreateQueryResult> {
    const quotaJson = JSON.stringify(quotas.map((x) => [x.agreementId, x.perDay]));
    const agreementIds = JSON.stringify(quotas.map((x) => x.agreementId));
    const legsJson = JSON.stringify(q.legs.map((l) => [l.partner, l.agreementId, l.pairId]));
    const created = sql`EXISTS (SELECT 1 FROM ${queries} WHERE id = ${q.id})`;
    // One atomic batch: count the query against every quota, create it only if no
    // quota went over, then take the counts back if it was not created.
    await this.batch([
      sql`INSERT INTO ${queryQuota} (agency, agreement_id, day, used)
        SELECT ${q.requester}, j.value, ${day}, 1 FROM json_each(${agreementIds}) j WHERE true
        ON CONFLICT (agency, agreement_id, day) DO UPDATE SET used = used + 1`,
      sql`INSERT INTO ${queries} (id, requester, kind, purpose, case_ref, officer, n_values, epoch, blinded, created_at)
        SELECT ${q.id}, ${q.requester}, ${q.kind}, ${q.purpose}, ${q.caseRef}, ${q.officer}, ${q.values}, ${q.epoch}, ${buf(q.blinded)}, ${q.createdAt}
        WHERE NOT EXISTS (SELECT 1 FROM ${queryQuota} u, json_each(${quotaJson}) j
          WHERE u.agency = ${q.requester} AND u.day = ${day} AND u.agreement_id = json_extract(j.value, '$[0]') AND u.used > json_extract(j.value, '$[1]'))`,
      sql`INSERT INTO ${queryLegs} (query_id, partner, agreement_id, pair_id, created_at, status)
        SELECT ${q.id}, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), ${q.createdAt}, 'pending'
        FROM json_each(${legsJson}) j WHERE ${created}`,
      sql`UPDATE ${queryQuota} SET used = used - 1
        WHERE agency = ${q.requester} AND day = ${day} AND agreement_id IN (SELECT value FROM json_each(${agreementIds})) AND NOT ${created}`,
      sql`DELETE FROM ${queryQuota}
        WHERE agency = ${q.requester} AND day = ${day} AND used = 0 AND agreement_id IN (SELECT value FROM json_each(${agreementIds}))`,
    ]);
    if (await this.db.select({ id: queries.id }).from(queries).where(eq(queries.id, q.id)).get()) return { ok: true };
    for (const quota of quotas) {
      const used = await this.queriesUsed(q.requester, quota.agreementId, day);
      if (used >= quota.perDay) return { ok: false, agreementId: quota.agreementId, used };
    }
    throw new Error('coordinator: the query was not created');
  }

  async queriesUsed(agency: string, agreementId: string, day: string): Promise<number> {
    const r = await this.db
      .select({ used: queryQuota.used })
      .from(queryQuota)
      .where(and(eq(queryQuota.agency, agency), eq(queryQuota.agreementId, agreementId), eq(queryQuota.day, day)))
      .get();
    return r?.used ?? 0;
  }

  async getQuery(id: string): Promise<QueryRecord | undefined> {
    const q = await this.db.select().from(queries).where(eq(queries.id, id)).get();
    if (!q) return undefined;
    const legs = (await this.db.select().from(queryLegs).where(eq(queryLegs.queryId, id)).orderBy(asc(queryLegs.partner)).all()).map(legOf);
    return queryOf(q, legs);
  }

  async inbox(agency: string, since: string): Promise<InboxEntry[]> {
    const rows = await this.db
      .select({
        queryId: queries.id,
        from: queries.requester,
        kind: queries.kind,
        purpose: queries.purpose,
        caseRef: queries.caseRef,
        epoch: queries.epoch,
        blinded: queries.blinded,
        values: queries.values,
        createdAt: queries.createdAt,
      })
      .from(queryLegs)
      .innerJoin(queries, eq(queries.id, queryLegs.queryId))
      .where(and(eq(queryLegs.partner, agency), eq(queryLegs.status, 'pending'), gt(queryLegs.createdAt, since)))
      .orderBy(asc(queryLegs.createdAt), asc(queryLegs.queryId))
      .all();
    return rows.map((r) => ({ ...r, blinded: r.blinded ? u8(r.blinded) : null }));
  }

  async answerQuery(queryId: string, partner: string, a: AnswerInput): Promise<AnswerResult> {
    const where = and(eq(queryLegs.queryId, queryId), eq(queryLegs.partner, partner));
    // Only a pending leg takes an answer, so of two racing answers exactly one lands.
    const updated = await this.db
      .update(queryLegs)
      .set({ status: 'answered', answerEpoch: a.epoch, evaluated: buf(a.evaluated), proof: buf(a.proof), proofValid: a.proofValid ? 1 : 0, answeredAt: a.at })
      .where(and(where, eq(queryLegs.status, 'pending')))
      .run();
    if (changes(updated) === 1) return 'answered';
    const leg = await this.db.select().from(queryLegs).where(where).get();
    if (!leg) throw new Error('coordinator: no such query leg');
    const same =
      leg.answerEpoch === a.epoch &&
      sameNullableBytes(leg.evaluated ? u8(leg.evaluated) : null, a.evaluated) &&
      sameNullableBytes(leg.proof ? u8(leg.proof) : null, a.proof);
    return same ? 'same' : 'conflict';
  }

  async recordOutcome(queryId: string, partner: string, o: OutcomeInput): Promise<OutcomeResult> {
    const where = and(eq(queryLegs.queryId, queryId), eq(queryLegs.partner, partner));
    const leg = await this.db.select({ outcomeAt: queryLegs.outcomeAt }).from(queryLegs).where(where).get();
    if (!leg) throw new Error('coordinator: no such query leg');
    if (leg.outcomeAt === null) {
      const hitsJson = JSON.stringify(o.hits.map((h) => [h.index, h.handle, h.pairId, h.epoch, h.position]));
      // The leg takes the first outcome only; the hits are written only with the outcome that landed.
      const [updated] = await this.batch([
        this.db
          .update(queryLegs)
          .set({ outcomeAt: o.at, outcomeHits: o.hits.length, outcomeNoHits: o.noHits, outcomeError: o.error })
          .where(and(where, sql`${queryLegs.outcomeAt} IS NULL`)),
        sql`INSERT INTO ${queryHits} (query_id, partner, idx, handle, pair_id, epoch, position, created_at)
          SELECT ${queryId}, ${partner}, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'),
            json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'), ${o.at}
          FROM json_each(${hitsJson}) j
          WHERE EXISTS (SELECT 1 FROM ${queryLegs} WHERE query_id = ${queryId} AND partner = ${partner} AND outcome_at = ${o.at}
            AND outcome_hits = ${o.hits.length} AND outcome_no_hits = ${o.noHits} AND outcome_error IS ${o.error})
          ON CONFLICT DO NOTHING`,
      ]);
      if (changes(updated) === 1) return 'recorded';
    }
    const stored = await this.db.select().from(queryLegs).where(where).get();
    const hits = await this.db
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

  async purgeQueryValues(before: string): Promise<number> {
    const [n] = await this.batch([
      this.db
        .update(queries)
        .set({ blinded: null })
        .where(and(lt(queries.createdAt, before), isNotNull(queries.blinded))),
      this.db
        .update(queryLegs)
        .set({ evaluated: null, proof: null })
        .where(and(lt(queryLegs.createdAt, before), or(isNotNull(queryLegs.evaluated), isNotNull(queryLegs.proof)))),
    ]);
    return changes(n);
  }

  async purgeQuotaCounters(day: string): Promise<number> {
    return changes(await this.db.delete(queryQuota).where(lt(queryQuota.day, day)).run());
  }

  async upsertNightlyHits(pairId: string, epoch: string, list: readonly MatchedHandle[]): Promise<number> {
    const statements = [...pieces(list, JSON_ROWS)].map((part) => {
      const rows = JSON.stringify(part.map((m) => [m.handle, m.posA, m.posB, m.firstSeen]));
      return sql`INSERT INTO ${nightlyHits} (pair_id, handle, epoch, pos_a, pos_b, created_at)
        SELECT ${pairId}, json_extract(j.value, '$[0]'), ${epoch}, json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]')
        FROM json_each(${rows}) j WHERE true
        ON CONFLICT (pair_id, handle) DO UPDATE SET epoch = excluded.epoch, pos_a = excluded.pos_a, pos_b = excluded.pos_b`;
    });
    return (await this.batch(statements)).reduce((n: number, r) => n + changes(r), 0);
  }

  async pruneNightlyHits(pairId: string, epoch: string, matched: readonly string[]): Promise<number> {
    const keep = new Set(matched);
    const held = await this.db
      .select({ handle: nightlyHits.handle })
      .from(nightlyHits)
      .where(and(eq(nightlyHits.pairId, pairId), eq(nightlyHits.epoch, epoch)))
      .all();
    const gone = held.map((r) => r.handle).filter((h) => !keep.has(h));
    const statements = [...pieces(gone, JSON_ROWS)].map((part) =>
      sql`DELETE FROM ${nightlyHits}
        WHERE pair_id = ${pairId} AND handle IN (SELECT value FROM json_each(${JSON.stringify(part)}))
        AND NOT EXISTS (SELECT 1 FROM ${hitStatus} s WHERE s.handle = ${nightlyHits}.handle)`,
    );
    return (await this.batch(statements)).reduce((n: number, r) => n + changes(r), 0);
  }

  async listNightlyHits(pairIds: readonly string[]): Promise<NightlyHitRecord[]> {
    const out: NightlyHitRecord[] = [];
    for (const part of pieces(pairIds, JSON_ROWS)) {
      out.push(
        ...(await this.db
          .select()
          .from(nightlyHits)
          .where(sql`${nightlyHits.pairId} IN (SELECT value FROM json_each(${JSON.stringify(part)}))`)
          .all()),
      );
    }
    return out;
  }

  async listQueryHits(agency: string): Promise<QueryHitRecord[]> {
    const held = await this.db.select(queryHitColumns).from(queryHits).innerJoin(queries, eq(queries.id, queryHits.queryId)).where(eq(queryHits.partner, agency)).all();
    const asked = await this.db.select(queryHitColumns).from(queries).innerJoin(queryHits, eq(queryHits.queryId, queries.id)).where(eq(queries.requester, agency)).all();
    return [...held, ...asked];
  }

  async hitsByHandle(handle: string): Promise<{ nightly: NightlyHitRecord[]; query: QueryHitRecord[] }> {
    return {
      nightly: await this.db.select().from(nightlyHits).where(eq(nightlyHits.handle, handle)).all(),
      query: await this.db.select(queryHitColumns).from(queryHits).innerJoin(queries, eq(queries.id, queryHits.queryId)).where(eq(queryHits.handle, handle)).all(),
    };
  }

  async hitStatuses(list: readonly string[]): Promise<HitStatusRecord[]> {
    const out: HitStatusRecord[] = [];
    for (const part of pieces([...new Set(list)], JSON_ROWS)) {
      out.push(
        ...(await this.db
          .select()
          .from(hitStatus)
          .where(sql`${hitStatus.handle} IN (SELECT value FROM json_each(${JSON.stringify(part)}))`)
          .all()),
      );
    }
    return out;
  }

  async setHitStatus(r: HitStatusRecord): Promise<SetHitStatusResult> {
    if (changes(await this.db.insert(hitStatus).values(r).onConflictDoNothing().run()) === 1) return 'set';
    const cur = await this.db
      .select({ status: hitStatus.status })
      .from(hitStatus)
      .where(and(eq(hitStatus.handle, r.handle), eq(hitStatus.agency, r.agency)))
      .get();
    return cur?.status === r.status ? 'same' : 'conflict';
  }

  pair(pairId: string): PairStore {
    const ns = this.pairObjects;
    return new DurablePairStore(pairId, ns.get(ns.idFromName(`${this.options.pairNamePrefix ?? ''}${pairId}`)));
  }

  async close(): Promise<void> {}
}

/** PairStore over a pair's Durable Object: each call is one RPC, one storage transaction there. */
class DurablePairStore implements PairStore {
  constructor(
    readonly pairId: string,
    private readonly stub: PairStub,
  ) {}

  listChunks(epoch: string, side: Side) {
    return this.stub.listChunks(this.pairId, epoch, side);
  }
  getChunk(epoch: string, side: Side, index: number) {
    return this.stub.getChunk(this.pairId, epoch, side, index);
  }
  getChunkElements(epoch: string, side: Side, index: number) {
    return this.stub.getChunkElements(this.pairId, epoch, side, index);
  }
  putChunk(input: PutChunkInput) {
    return this.stub.putChunk(this.pairId, input);
  }
  removePositions(epoch: string, side: Side, positions: readonly number[], at: string) {
    return this.stub.removePositions(this.pairId, epoch, side, positions, at);
  }
  registerCanaries(epoch: string, side: Side, canaries: readonly CanaryInput[], at: string) {
    return this.stub.registerCanaries(this.pairId, epoch, side, canaries, at);
  }
  markCanariesDone(epoch: string, side: Side, at: string) {
    return this.stub.markCanariesDone(this.pairId, epoch, side, at);
  }
  putTokens(input: PutTokensInput) {
    return this.stub.putTokens(this.pairId, input);
  }
  summary(epoch: string) {
    return this.stub.summary(this.pairId, epoch);
  }
  transitionState(epoch: string, from: PairStateName | undefined, to: PairStateRecord) {
    return this.stub.transitionState(this.pairId, epoch, from, to);
  }
  listMatches(epoch: string, side: Side) {
    return this.stub.listMatches(this.pairId, epoch, side);
  }
  countMatches(epoch: string) {
    return this.stub.countMatches(this.pairId, epoch);
  }
  putLinks(epoch: string, side: Side, previousEpoch: string, links: readonly LinkInput[], at: string) {
    return this.stub.putLinks(this.pairId, epoch, side, previousEpoch, links, at);
  }
  matchedHandles(epoch: string) {
    return this.stub.matchedHandles(this.pairId, epoch);
  }
  lookupToken(epoch: string, side: Side, token: Uint8Array) {
    return this.stub.lookupToken(this.pairId, epoch, side, token);
  }
  dataEpochs() {
    return this.stub.dataEpochs(this.pairId);
  }
  purgeEpochs(epochs: readonly string[], carry: string | undefined) {
    return this.stub.purgeEpochs(this.pairId, epochs, carry);
  }
}
