// The embedded Node store: drizzle-orm over better-sqlite3, one database
// file, WAL journal. Control-plane calls are plain drizzle queries; the bulk
// paths (chunk and token writes, matching, removals) run as one transaction of
// prepared statements each, so a 100,000-element side is written and matched
// in well under a second of database time.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { and, asc, desc, eq, gt, gte, inArray, isNotNull, lt, or, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { AUDIT_GENESIS_HASH, canonicalJSON, chainHash, type AuditCheckpoint, type AuditDetail, type AuditEntry, type AuditInput } from '../audit.js';
import { defaultConfig, type DeploymentConfig } from '../config.js';
import { prepareBulk, SqlPairStore, type Bulk } from './pair-sql.js';
import { agencyOf, agreementOf, auditOf, buf, legOf, pairOf, queryHitColumns, queryOf, sameBytes, sameNullableBytes, u8 } from './rows.js';
import * as schema from './schema.js';
import type {
  AgencyRecord,
  AgreementRecord,
  AnswerInput,
  AnswerResult,
  CreateQueryResult,
  HitStatusRecord,
  InboxEntry,
  MatchedHandle,
  NewQuery,
  NightlyHitRecord,
  OutcomeInput,
  OutcomeResult,
  QueryHitRecord,
  QueryRecord,
  SetHitStatusResult,
  CoordinatorSecrets,
  EpochKeyRecord,
  EpochRecord,
  InitialiseInput,
  PairRecord,
  PairStore,
  PutResult,
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

type Db = BetterSQLite3Database<typeof schema>;

/** Nonces older than this are refused as stale anyway (RFC 9421 `created` window is 300 s). */
const NONCE_RETENTION_S = 600;
const NONCE_PRUNE_EVERY_S = 60;

/** Bound list parameters well under SQLite's host-parameter limit. */
function* batches<T>(xs: readonly T[], size = 500): Generator<T[]> {
  for (let i = 0; i < xs.length; i += size) yield xs.slice(i, i + size);
}

/** drizzle/ sits at the package root, above both src/store and dist/src/store. */
export function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'drizzle');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('coordinator: the drizzle/ migrations folder was not found');
    dir = parent;
  }
}

export interface SqliteStoreOptions {
  /** Open read-only (no migrations, no writes), e.g. for `audit verify`. */
  readonly?: boolean;
}

export function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): SqliteStore {
  const client = new Database(file, opts.readonly ? { readonly: true, fileMustExist: true } : {});
  if (!opts.readonly) {
    client.pragma('journal_mode = WAL');
    client.pragma('synchronous = NORMAL');
  }
  client.pragma('foreign_keys = ON');
  client.pragma('busy_timeout = 5000');
  const db = drizzle({ client, schema });
  if (!opts.readonly) migrate(db, { migrationsFolder: migrationsFolder() });
  return new SqliteStore(db, client);
}

export class SqliteStore implements Store {
  private readonly pairKeys = new Map<string, number>();
  private lastNoncePrune = 0;
  private readonly stmts: Bulk;

  constructor(
    readonly db: Db,
    readonly client: Database.Database,
  ) {
    this.stmts = client.readonly ? (undefined as unknown as Bulk) : prepareBulk(db);
  }

  async initialise(input: InitialiseInput): Promise<void> {
    this.db.transaction((tx) => {
      if (tx.select({ id: coordinator.id }).from(coordinator).get()) throw new Error('coordinator: this database is already initialised');
      tx.insert(coordinator)
        .values({ id: 1, adminKey: buf(input.adminKey), handleKey: buf(input.handleKey), createdAt: input.at })
        .run();
      tx.insert(epochs).values({ seq: 1, id: input.epoch.id, startedAt: input.epoch.startedAt }).run();
      if (input.config) this.writeConfig(tx as unknown as Db, input.config, input.at);
    });
  }

  private writeConfig(db: Db, c: DeploymentConfig, at: string): void {
    const values = { purposes: JSON.stringify(c.purposes), dataDays: c.retention.dataDays, auditDays: c.retention.auditDays, updatedAt: at };
    db.insert(config)
      .values({ id: 1, ...values })
      .onConflictDoUpdate({ target: config.id, set: values })
      .run();
  }

  async getConfig(): Promise<DeploymentConfig> {
    const r = this.db.select().from(config).where(eq(config.id, 1)).get();
    if (!r) return defaultConfig();
    return { purposes: JSON.parse(r.purposes) as string[], retention: { dataDays: r.dataDays, auditDays: r.auditDays } };
  }

  async putConfig(c: DeploymentConfig, at: string): Promise<void> {
    this.writeConfig(this.db, c, at);
  }

  async getSecrets(): Promise<CoordinatorSecrets | undefined> {
    const r = this.db.select().from(coordinator).where(eq(coordinator.id, 1)).get();
    return r ? { adminKey: u8(r.adminKey), handleKey: u8(r.handleKey) } : undefined;
  }

  async getAgency(id: string): Promise<AgencyRecord | undefined> {
    const r = this.db.select().from(agencies).where(eq(agencies.id, id)).get();
    return r ? agencyOf(r) : undefined;
  }

  async putAgency(a: AgencyRecord): Promise<PutResult> {
    return this.db.transaction((tx) => {
      const r = tx.select().from(agencies).where(eq(agencies.id, a.id)).get();
      if (r) {
        return r.name === a.name && r.country === a.country && sameBytes(r.signingKey, a.signingKey) ? 'same' : 'conflict';
      }
      tx.insert(agencies).values({ id: a.id, name: a.name, country: a.country, signingKey: buf(a.signingKey), createdAt: a.createdAt }).run();
      return 'created';
    });
  }

  async getAgreement(id: string): Promise<AgreementRecord | undefined> {
    const r = this.db.select().from(agreements).where(eq(agreements.id, id)).get();
    return r ? agreementOf(r) : undefined;
  }

  async listAgreements(): Promise<AgreementRecord[]> {
    return this.db.select().from(agreements).orderBy(asc(agreements.id)).all().map(agreementOf);
  }

  async insertAgreement(a: AgreementRecord, ps: readonly PairRecord[]): Promise<boolean> {
    return this.db.transaction((tx) => {
      if (tx.select({ id: agreements.id }).from(agreements).where(eq(agreements.id, a.id)).get()) return false;
      tx.insert(agreements)
        .values({
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
        })
        .run();
      for (const p of ps) {
        tx.insert(pairs).values({ id: p.id, agreementId: p.agreementId, agencyA: p.agencies[0], agencyB: p.agencies[1] }).run();
      }
      return true;
    });
  }

  async getPair(id: string): Promise<PairRecord | undefined> {
    const r = this.db.select().from(pairs).where(eq(pairs.id, id)).get();
    return r ? pairOf(r) : undefined;
  }

  async listPairsOf(agencyId: string): Promise<PairRecord[]> {
    return this.db
      .select()
      .from(pairs)
      .where(or(eq(pairs.agencyA, agencyId), eq(pairs.agencyB, agencyId)))
      .orderBy(asc(pairs.id))
      .all()
      .map(pairOf);
  }

  async listPairs(): Promise<PairRecord[]> {
    return this.db.select().from(pairs).orderBy(asc(pairs.id)).all().map(pairOf);
  }

  async currentEpoch(): Promise<EpochRecord> {
    const r = this.db.select().from(epochs).orderBy(desc(epochs.seq)).limit(1).get();
    if (!r) throw new Error('coordinator: the database is not initialised (run `concordat coordinator init`)');
    return { id: r.id, startedAt: r.startedAt };
  }

  async listEpochs(): Promise<EpochRecord[]> {
    return this.db
      .select({ id: epochs.id, startedAt: epochs.startedAt })
      .from(epochs)
      .orderBy(asc(epochs.seq))
      .all();
  }

  async rotateEpoch(at: string): Promise<{ epoch: EpochRecord; previous: string }> {
    return this.db.transaction(
      (tx) => {
        const last = tx.select().from(epochs).orderBy(desc(epochs.seq)).limit(1).get();
        if (!last) throw new Error('coordinator: the database is not initialised (run `concordat coordinator init`)');
        const seq = last.seq + 1;
        const epoch = { id: `e${seq}`, startedAt: at };
        tx.insert(epochs).values({ seq, ...epoch }).run();
        return { epoch, previous: last.id };
      },
      { behavior: 'immediate' },
    );
  }

  async getEpochKey(agency: string, epoch: string): Promise<EpochKeyRecord | undefined> {
    const r = this.db
      .select()
      .from(epochKeys)
      .where(and(eq(epochKeys.agency, agency), eq(epochKeys.epoch, epoch)))
      .get();
    return r ? { agency: r.agency, epoch: r.epoch, publicKey: u8(r.publicKey), publishedAt: r.publishedAt } : undefined;
  }

  async putEpochKey(k: EpochKeyRecord): Promise<PutResult> {
    return this.db.transaction((tx) => {
      const r = tx
        .select()
        .from(epochKeys)
        .where(and(eq(epochKeys.agency, k.agency), eq(epochKeys.epoch, k.epoch)))
        .get();
      if (r) return sameBytes(r.publicKey, k.publicKey) ? 'same' : 'conflict';
      tx.insert(epochKeys).values({ agency: k.agency, epoch: k.epoch, publicKey: buf(k.publicKey), publishedAt: k.publishedAt }).run();
      return 'created';
    });
  }

  async useNonce(keyid: string, nonce: string, createdS: number, nowS: number): Promise<boolean> {
    if (nowS - this.lastNoncePrune >= NONCE_PRUNE_EVERY_S) {
      this.db.delete(nonces).where(lt(nonces.created, nowS - NONCE_RETENTION_S)).run();
      this.lastNoncePrune = nowS;
    }
    const r = this.db.insert(nonces).values({ keyid, nonce, created: createdS }).onConflictDoNothing().run();
    return r.changes === 1;
  }

  async appendAudit(input: AuditInput): Promise<AuditEntry> {
    return this.db.transaction((tx) => this.appendIn(tx as unknown as Db, input), { behavior: 'immediate' });
  }

  private checkpointIn(db: Db): AuditCheckpoint | undefined {
    const r = db.select().from(auditCheckpoint).where(eq(auditCheckpoint.id, 1)).get();
    return r ? { seq: r.seq, hash: u8(r.hash) } : undefined;
  }

  /** Append inside a transaction; after a purge that removed every entry the chain continues from the checkpoint. */
  private appendIn(db: Db, input: AuditInput): AuditEntry {
    const last = db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1).get();
    const from = last ? { seq: last.seq, hash: u8(last.hash) } : (this.checkpointIn(db) ?? { seq: 0, hash: AUDIT_GENESIS_HASH });
    const seq = from.seq + 1;
    // Store and hash the detail as it reads back, so verification sees exactly what was hashed.
    const detailJson = canonicalJSON(input.detail);
    const event = { ...input, seq, detail: JSON.parse(detailJson) as AuditDetail };
    const hash = chainHash(from.hash, event);
    db.insert(auditLog)
      .values({
        seq,
        at: event.at,
        actor: event.actor,
        action: event.action,
        subject: event.subject,
        outcome: event.outcome,
        detail: detailJson,
        hash: buf(hash),
      })
      .run();
    return { ...event, hash };
  }

  async getAuditCheckpoint(): Promise<AuditCheckpoint | undefined> {
    return this.checkpointIn(this.db);
  }

  async purgeAudit(
    cutoff: string,
    at: string,
    record: (removed: number, checkpoint: AuditCheckpoint | undefined) => AuditInput,
  ): Promise<{ removed: number; entry: AuditEntry }> {
    return this.db.transaction(
      (tx) => {
        const db = tx as unknown as Db;
        // Remove a prefix of the chain only: everything before the first entry that is still recent.
        // Walking seq order from the oldest reads only that prefix (there is no index on `at`).
        const keep = db.select({ seq: auditLog.seq }).from(auditLog).where(gte(auditLog.at, cutoff)).orderBy(asc(auditLog.seq)).limit(1).get();
        const lastRemoved =
          keep === undefined
            ? db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1).get()
            : db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).where(lt(auditLog.seq, keep.seq)).orderBy(desc(auditLog.seq)).limit(1).get();
        let removed = 0;
        if (lastRemoved) {
          removed = db.delete(auditLog).where(sql`${auditLog.seq} <= ${lastRemoved.seq}`).run().changes;
          const values = { seq: lastRemoved.seq, hash: lastRemoved.hash, purgedAt: at };
          db.insert(auditCheckpoint)
            .values({ id: 1, ...values })
            .onConflictDoUpdate({ target: auditCheckpoint.id, set: values })
            .run();
        }
        const entry = this.appendIn(db, record(removed, this.checkpointIn(db)));
        return { removed, entry };
      },
      { behavior: 'immediate' },
    );
  }

  async createQuery(q: NewQuery, quotas: readonly { agreementId: string; perDay: number }[], day: string): Promise<CreateQueryResult> {
    return this.db.transaction(
      (tx) => {
        for (const quota of quotas) {
          const r = tx
            .select({ used: queryQuota.used })
            .from(queryQuota)
            .where(and(eq(queryQuota.agency, q.requester), eq(queryQuota.agreementId, quota.agreementId), eq(queryQuota.day, day)))
            .get();
          const used = r?.used ?? 0;
          if (used >= quota.perDay) return { ok: false, agreementId: quota.agreementId, used };
        }
        for (const quota of quotas) {
          tx.insert(queryQuota)
            .values({ agency: q.requester, agreementId: quota.agreementId, day, used: 1 })
            .onConflictDoUpdate({ target: [queryQuota.agency, queryQuota.agreementId, queryQuota.day], set: { used: sql`${queryQuota.used} + 1` } })
            .run();
        }
        tx.insert(queries)
          .values({
            id: q.id,
            requester: q.requester,
            kind: q.kind,
            purpose: q.purpose,
            caseRef: q.caseRef,
            officer: q.officer,
            values: q.values,
            epoch: q.epoch,
            blinded: buf(q.blinded),
            createdAt: q.createdAt,
          })
          .run();
        for (const leg of q.legs) {
          tx.insert(queryLegs)
            .values({ queryId: q.id, partner: leg.partner, agreementId: leg.agreementId, pairId: leg.pairId, createdAt: q.createdAt, status: 'pending' })
            .run();
        }
        return { ok: true };
      },
      { behavior: 'immediate' },
    );
  }

  async queriesUsed(agency: string, agreementId: string, day: string): Promise<number> {
    const r = this.db
      .select({ used: queryQuota.used })
      .from(queryQuota)
      .where(and(eq(queryQuota.agency, agency), eq(queryQuota.agreementId, agreementId), eq(queryQuota.day, day)))
      .get();
    return r?.used ?? 0;
  }

  async getQuery(id: string): Promise<QueryRecord | undefined> {
    const q = this.db.select().from(queries).where(eq(queries.id, id)).get();
    if (!q) return undefined;
    const legs = this.db.select().from(queryLegs).where(eq(queryLegs.queryId, id)).orderBy(asc(queryLegs.partner)).all().map(legOf);
    return queryOf(q, legs);
  }

  async inbox(agency: string, since: string): Promise<InboxEntry[]> {
    return this.db
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
      .all()
      .map((r) => ({ ...r, blinded: r.blinded ? u8(r.blinded) : null }));
  }

  async answerQuery(queryId: string, partner: string, a: AnswerInput): Promise<AnswerResult> {
    return this.db.transaction(
      (tx) => {
        const where = and(eq(queryLegs.queryId, queryId), eq(queryLegs.partner, partner));
        const leg = tx.select().from(queryLegs).where(where).get();
        if (!leg) throw new Error('coordinator: no such query leg');
        if (leg.status === 'answered') {
          const same =
            leg.answerEpoch === a.epoch &&
            sameNullableBytes(leg.evaluated ? u8(leg.evaluated) : null, a.evaluated) &&
            sameNullableBytes(leg.proof ? u8(leg.proof) : null, a.proof);
          return same ? 'same' : 'conflict';
        }
        tx.update(queryLegs)
          .set({
            status: 'answered',
            answerEpoch: a.epoch,
            evaluated: buf(a.evaluated),
            proof: buf(a.proof),
            proofValid: a.proofValid ? 1 : 0,
            answeredAt: a.at,
          })
          .where(where)
          .run();
        return 'answered';
      },
      { behavior: 'immediate' },
    );
  }

  async recordOutcome(queryId: string, partner: string, o: OutcomeInput): Promise<OutcomeResult> {
    return this.db.transaction(
      (tx) => {
        const where = and(eq(queryLegs.queryId, queryId), eq(queryLegs.partner, partner));
        const leg = tx.select().from(queryLegs).where(where).get();
        if (!leg) throw new Error('coordinator: no such query leg');
        if (leg.outcomeAt !== null) {
          const stored = tx
            .select({ idx: queryHits.idx, handle: queryHits.handle })
            .from(queryHits)
            .where(and(eq(queryHits.queryId, queryId), eq(queryHits.partner, partner)))
            .orderBy(asc(queryHits.idx))
            .all();
          const given = [...o.hits].sort((x, y) => x.index - y.index);
          const same =
            leg.outcomeNoHits === o.noHits &&
            leg.outcomeError === o.error &&
            stored.length === given.length &&
            stored.every((s, i) => s.idx === given[i]?.index && s.handle === given[i]?.handle);
          return same ? 'same' : 'conflict';
        }
        tx.update(queryLegs)
          .set({ outcomeAt: o.at, outcomeHits: o.hits.length, outcomeNoHits: o.noHits, outcomeError: o.error })
          .where(where)
          .run();
        for (const h of o.hits) {
          tx.insert(queryHits)
            .values({ queryId, partner, idx: h.index, handle: h.handle, pairId: h.pairId, epoch: h.epoch, position: h.position, createdAt: o.at })
            .run();
        }
        return 'recorded';
      },
      { behavior: 'immediate' },
    );
  }

  async purgeQueryValues(before: string): Promise<number> {
    return this.db.transaction(
      (tx) => {
        const n = tx
          .update(queries)
          .set({ blinded: null })
          .where(and(lt(queries.createdAt, before), isNotNull(queries.blinded)))
          .run().changes;
        tx.update(queryLegs)
          .set({ evaluated: null, proof: null })
          .where(and(lt(queryLegs.createdAt, before), or(isNotNull(queryLegs.evaluated), isNotNull(queryLegs.proof))))
          .run();
        return n;
      },
      { behavior: 'immediate' },
    );
  }

  async purgeQuotaCounters(day: string): Promise<number> {
    return this.db.delete(queryQuota).where(lt(queryQuota.day, day)).run().changes;
  }

  async upsertNightlyHits(pairId: string, epoch: string, list: readonly MatchedHandle[]): Promise<number> {
    if (list.length === 0) return 0;
    return this.db.transaction(
      (tx) => {
        let n = 0;
        for (const m of list) {
          n += tx
            .insert(nightlyHits)
            .values({ pairId, handle: m.handle, epoch, posA: m.posA, posB: m.posB, createdAt: m.firstSeen })
            .onConflictDoUpdate({ target: [nightlyHits.pairId, nightlyHits.handle], set: { epoch, posA: m.posA, posB: m.posB } })
            .run().changes;
        }
        return n;
      },
      { behavior: 'immediate' },
    );
  }

  async pruneNightlyHits(pairId: string, epoch: string, matched: readonly string[]): Promise<number> {
    const keep = new Set(matched);
    return this.db.transaction(
      (tx) => {
        let n = 0;
        const held = tx
          .select({ handle: nightlyHits.handle })
          .from(nightlyHits)
          .where(and(eq(nightlyHits.pairId, pairId), eq(nightlyHits.epoch, epoch)))
          .all();
        for (const { handle } of held) {
          if (keep.has(handle)) continue;
          if (tx.select({ one: sql<number>`1` }).from(hitStatus).where(eq(hitStatus.handle, handle)).limit(1).get()) continue;
          n += tx
            .delete(nightlyHits)
            .where(and(eq(nightlyHits.pairId, pairId), eq(nightlyHits.handle, handle)))
            .run().changes;
        }
        return n;
      },
      { behavior: 'immediate' },
    );
  }

  async listNightlyHits(pairIds: readonly string[]): Promise<NightlyHitRecord[]> {
    const out: NightlyHitRecord[] = [];
    for (const part of batches(pairIds)) out.push(...this.db.select().from(nightlyHits).where(inArray(nightlyHits.pairId, part)).all());
    return out;
  }

  async listQueryHits(agency: string): Promise<QueryHitRecord[]> {
    const held = this.db.select(queryHitColumns).from(queryHits).innerJoin(queries, eq(queries.id, queryHits.queryId)).where(eq(queryHits.partner, agency)).all();
    const asked = this.db.select(queryHitColumns).from(queries).innerJoin(queryHits, eq(queryHits.queryId, queries.id)).where(eq(queries.requester, agency)).all();
    return [...held, ...asked];
  }

  async hitsByHandle(handle: string): Promise<{ nightly: NightlyHitRecord[]; query: QueryHitRecord[] }> {
    return {
      nightly: this.db.select().from(nightlyHits).where(eq(nightlyHits.handle, handle)).all(),
      query: this.db.select(queryHitColumns).from(queryHits).innerJoin(queries, eq(queries.id, queryHits.queryId)).where(eq(queryHits.handle, handle)).all(),
    };
  }

  async hitStatuses(list: readonly string[]): Promise<HitStatusRecord[]> {
    const out: HitStatusRecord[] = [];
    for (const part of batches([...new Set(list)])) out.push(...this.db.select().from(hitStatus).where(inArray(hitStatus.handle, part)).all());
    return out;
  }

  async setHitStatus(r: HitStatusRecord): Promise<SetHitStatusResult> {
    return this.db.transaction(
      (tx) => {
        const cur = tx
          .select({ status: hitStatus.status })
          .from(hitStatus)
          .where(and(eq(hitStatus.handle, r.handle), eq(hitStatus.agency, r.agency)))
          .get();
        if (cur) return cur.status === r.status ? 'same' : 'conflict';
        tx.insert(hitStatus).values(r).run();
        return 'set';
      },
      { behavior: 'immediate' },
    );
  }

  async readAudit(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    return this.db.select().from(auditLog).where(gt(auditLog.seq, afterSeq)).orderBy(asc(auditLog.seq)).limit(limit).all().map(auditOf);
  }

  pair(pairId: string): PairStore {
    return new SqlPairStore(this.db, this.stmts, pairId, () => this.pairKey(pairId), (r) => (r as Database.RunResult).changes);
  }

  /** @internal Integer key of a pair (pairs never change once created). */
  pairKey(pairId: string): number {
    let key = this.pairKeys.get(pairId);
    if (key === undefined) {
      const r = this.db.select({ key: pairs.key }).from(pairs).where(eq(pairs.id, pairId)).get();
      if (!r) throw new Error('coordinator: unknown pair');
      key = r.key;
      this.pairKeys.set(pairId, key);
    }
    return key;
  }

  async close(): Promise<void> {
    if (this.client.open) {
      if (!this.client.readonly) this.client.pragma('wal_checkpoint(TRUNCATE)');
      this.client.close();
    }
  }
}

/** The retention checkpoint of a database file, read-only (for `audit verify` and `audit export`). */
export function readAuditCheckpointFile(file: string): AuditCheckpoint | undefined {
  const store = openSqliteStore(file, { readonly: true });
  try {
    // A database from before retention existed has no checkpoint table yet.
    const exists = store.client.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_checkpoint'").get();
    if (!exists) return undefined;
    const r = store.db.select().from(auditCheckpoint).where(eq(auditCheckpoint.id, 1)).get();
    return r ? { seq: r.seq, hash: u8(r.hash) } : undefined;
  } finally {
    store.client.close();
  }
}

/** Every audit entry of a database file in seq order, read-only (for `audit verify`). */
export function* readAuditFile(file: string, pageSize = 10_000): Generator<AuditEntry> {
  const store = openSqliteStore(file, { readonly: true });
  try {
    let after = 0;
    for (;;) {
      const page = store.db.select().from(auditLog).where(gt(auditLog.seq, after)).orderBy(asc(auditLog.seq)).limit(pageSize).all();
      if (page.length === 0) return;
      for (const r of page) yield auditOf(r);
      after = (page[page.length - 1] as typeof auditLog.$inferSelect).seq;
    }
  } finally {
    store.client.close();
  }
}
