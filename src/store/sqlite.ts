// The embedded Node store: drizzle-orm over better-sqlite3, one database
// file, WAL journal. Control-plane calls are plain drizzle queries; the bulk
// paths (chunk and token writes, matching, removals) run as one transaction of
// prepared statements each, so a 100,000-element side is written and matched
// in well under a second of database time.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { and, asc, between, count, desc, eq, gt, gte, inArray, isNotNull, lt, ne, or, sql, sum } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { AUDIT_GENESIS_HASH, canonicalJSON, chainHash, type AuditCheckpoint, type AuditDetail, type AuditEntry, type AuditInput } from '../audit.js';
import { defaultConfig, type DeploymentConfig } from '../config.js';
import { matchHandle } from '../matching.js';
import * as schema from './schema.js';
import type {
  AgencyRecord,
  AgreementRecord,
  AnswerInput,
  AnswerResult,
  CanaryInput,
  CreateQueryResult,
  HitStatusRecord,
  InboxEntry,
  LinkInput,
  MatchedHandle,
  NewQuery,
  NightlyHitRecord,
  OutcomeInput,
  OutcomeResult,
  PurgeCounts,
  PutLinksResult,
  QueryHitRecord,
  QueryLegRecord,
  QueryRecord,
  SetHitStatusResult,
  TokenLookup,
  ChunkInfo,
  CoordinatorSecrets,
  EpochKeyRecord,
  EpochRecord,
  InitialiseInput,
  MatchRecord,
  PairRecord,
  PairStateName,
  PairStateRecord,
  PairStore,
  PairSummary,
  PutChunkInput,
  PutChunkResult,
  PutResult,
  PutTokensInput,
  PutTokensResult,
  RegisterCanariesResult,
  RemoveResult,
  Side,
  SideSummary,
  Store,
} from './types.js';

const {
  agencies,
  agreements,
  auditCheckpoint,
  auditLog,
  canaries,
  carriedMatches,
  chunks,
  config,
  coordinator,
  epochKeys,
  epochs,
  handles,
  hitStatus,
  links,
  matches,
  nightlyHits,
  nonces,
  pairState,
  pairs,
  queries,
  queryHits,
  queryLegs,
  queryQuota,
  removals,
  sideState,
  tokens,
} = schema;

type Db = BetterSQLite3Database<typeof schema>;

const ELEMENT_BYTES = 32;
const TOKEN_BYTES = 16;
/** Nonces older than this are refused as stale anyway (RFC 9421 `created` window is 300 s). */
const NONCE_RETENTION_S = 600;
const NONCE_PRUNE_EVERY_S = 60;

/** A view of the bytes as a Buffer, without copying (better-sqlite3 binds Buffers as BLOBs). */
function buf(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return buf(a).equals(buf(b));
}

function sameNullableBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : sameBytes(a, b);
}

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

function agencyOf(r: typeof agencies.$inferSelect): AgencyRecord {
  return { id: r.id, name: r.name, country: r.country, signingKey: u8(r.signingKey), createdAt: r.createdAt };
}

function agreementOf(r: typeof agreements.$inferSelect): AgreementRecord {
  return {
    id: r.id,
    parties: JSON.parse(r.parties) as string[],
    kinds: JSON.parse(r.kinds) as string[],
    mode: r.mode,
    validFrom: r.validFrom,
    validUntil: r.validUntil,
    maxSetSize: r.maxSetSize,
    legalBasis: r.legalBasis,
    createdAt: r.createdAt,
    purposes: JSON.parse(r.purposes) as string[],
    queryQuota: { perDay: r.queryPerDay, maxValues: r.queryMaxValues },
  };
}

function legOf(r: typeof queryLegs.$inferSelect): QueryLegRecord {
  return {
    partner: r.partner,
    agreementId: r.agreementId,
    pairId: r.pairId,
    createdAt: r.createdAt,
    status: r.status,
    answerEpoch: r.answerEpoch,
    evaluated: r.evaluated ? u8(r.evaluated) : null,
    proof: r.proof ? u8(r.proof) : null,
    proofValid: r.proofValid === null ? null : r.proofValid === 1,
    answeredAt: r.answeredAt,
    outcome:
      r.outcomeAt === null
        ? null
        : { at: r.outcomeAt, hits: r.outcomeHits ?? 0, noHits: r.outcomeNoHits ?? 0, error: r.outcomeError },
  };
}

const queryHitColumns = {
  queryId: queryHits.queryId,
  partner: queryHits.partner,
  requester: queries.requester,
  index: queryHits.idx,
  handle: queryHits.handle,
  pairId: queryHits.pairId,
  epoch: queryHits.epoch,
  position: queryHits.position,
  caseRef: queries.caseRef,
  purpose: queries.purpose,
  createdAt: queryHits.createdAt,
};

function pairOf(r: typeof pairs.$inferSelect): PairRecord {
  return { id: r.id, agreementId: r.agreementId, agencies: [r.agencyA, r.agencyB] };
}

function auditOf(r: typeof auditLog.$inferSelect): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    outcome: r.outcome,
    detail: JSON.parse(r.detail) as AuditDetail,
    hash: u8(r.hash),
  };
}

function chunkOf(r: { idx: number; firstPosition: number; count: number; sha256: Buffer; tokensSha256: Buffer | null; createdAt: string }): ChunkInfo {
  return {
    index: r.idx,
    firstPosition: r.firstPosition,
    count: r.count,
    sha256: u8(r.sha256),
    tokensSha256: r.tokensSha256 ? u8(r.tokensSha256) : null,
    createdAt: r.createdAt,
  };
}

const chunkColumns = {
  idx: chunks.idx,
  firstPosition: chunks.firstPosition,
  count: chunks.count,
  sha256: chunks.sha256,
  tokensSha256: chunks.tokensSha256,
  createdAt: chunks.createdAt,
};

export class SqliteStore implements Store {
  private readonly pairKeys = new Map<string, number>();
  private lastNoncePrune = 0;
  private readonly stmts: ReturnType<typeof prepareBulk>;

  constructor(
    readonly db: Db,
    readonly client: Database.Database,
  ) {
    this.stmts = client.readonly ? (undefined as unknown as ReturnType<typeof prepareBulk>) : prepareBulk(db);
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
    return {
      id: q.id,
      requester: q.requester,
      kind: q.kind,
      purpose: q.purpose,
      caseRef: q.caseRef,
      officer: q.officer,
      values: q.values,
      epoch: q.epoch,
      blinded: q.blinded ? u8(q.blinded) : null,
      createdAt: q.createdAt,
      legs,
    };
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
    return new SqlitePairStore(this, pairId);
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

  /** @internal */
  get bulk(): ReturnType<typeof prepareBulk> {
    return this.stmts;
  }

  async close(): Promise<void> {
    if (this.client.open) {
      if (!this.client.readonly) this.client.pragma('wal_checkpoint(TRUNCATE)');
      this.client.close();
    }
  }
}

/** Prepared statements for the per-position hot loops. */
function prepareBulk(db: Db) {
  const p = (name: string) => sql.placeholder(name);
  return {
    insertToken: db
      .insert(tokens)
      .values({ pairKey: p('k'), epoch: p('e'), side: p('s'), position: p('pos'), token: p('t'), removed: p('r'), canary: p('c') })
      .prepare(),
    markRemoved: db
      .update(tokens)
      .set({ removed: 1 })
      .where(and(eq(tokens.pairKey, p('k')), eq(tokens.epoch, p('e')), eq(tokens.side, p('s')), eq(tokens.position, p('pos'))))
      .prepare(),
    markCanary: db
      .update(tokens)
      .set({ canary: 1 })
      .where(and(eq(tokens.pairKey, p('k')), eq(tokens.epoch, p('e')), eq(tokens.side, p('s')), eq(tokens.position, p('pos'))))
      .prepare(),
    insertRemoval: db
      .insert(removals)
      .values({ pairKey: p('k'), epoch: p('e'), side: p('s'), position: p('pos'), removedAt: p('at') })
      .onConflictDoNothing()
      .prepare(),
    retractA: db
      .delete(matches)
      .where(and(eq(matches.pairKey, p('k')), eq(matches.epoch, p('e')), eq(matches.posA, p('pos'))))
      .prepare(),
    retractB: db
      .delete(matches)
      .where(and(eq(matches.pairKey, p('k')), eq(matches.epoch, p('e')), eq(matches.posB, p('pos'))))
      .prepare(),
    insertHandle: db
      .insert(handles)
      .values({ pairKey: p('k'), epoch: p('e'), handle: p('h'), firstSeen: p('at') })
      .onConflictDoNothing()
      .prepare(),
    insertMatch: db
      .insert(matches)
      .values({ pairKey: p('k'), epoch: p('e'), posA: p('a'), posB: p('b'), handle: p('h'), createdAt: p('at') })
      .onConflictDoNothing()
      .prepare(),
    anyLink: db
      .select({ one: sql<number>`1` })
      .from(links)
      .where(and(eq(links.pairKey, p('k')), eq(links.epoch, p('e'))))
      .limit(1)
      .prepare(),
    getLink: db
      .select({ previousEpoch: links.previousEpoch, previousPosition: links.previousPosition })
      .from(links)
      .where(and(eq(links.pairKey, p('k')), eq(links.epoch, p('e')), eq(links.side, p('s')), eq(links.position, p('pos'))))
      .prepare(),
    getPreviousMatch: db
      .select({ handle: matches.handle, firstSeen: handles.firstSeen })
      .from(matches)
      .innerJoin(handles, and(eq(handles.pairKey, matches.pairKey), eq(handles.epoch, matches.epoch), eq(handles.handle, matches.handle)))
      .where(and(eq(matches.pairKey, p('k')), eq(matches.epoch, p('e')), eq(matches.posA, p('a')), eq(matches.posB, p('b'))))
      .prepare(),
    getCarried: db
      .select({ handle: carriedMatches.handle, firstSeen: carriedMatches.firstSeen })
      .from(carriedMatches)
      .where(and(eq(carriedMatches.pairKey, p('k')), eq(carriedMatches.epoch, p('e')), eq(carriedMatches.posA, p('a')), eq(carriedMatches.posB, p('b'))))
      .prepare(),
  };
}

type Bulk = ReturnType<typeof prepareBulk>;

/**
 * The previous-epoch match a new-epoch match (a, b) continues: both positions
 * link to the two positions of one match of the same previous epoch, still
 * live or carried past its purge.
 */
function continuedHandle(bulk: Bulk, k: number, epoch: string, a: number, b: number): { handle: string; firstSeen: string } | undefined {
  const la = bulk.getLink.get({ k, e: epoch, s: 0, pos: a });
  if (!la) return undefined;
  const lb = bulk.getLink.get({ k, e: epoch, s: 1, pos: b });
  if (!lb || lb.previousEpoch !== la.previousEpoch) return undefined;
  const key = { k, e: la.previousEpoch, a: la.previousPosition, b: lb.previousPosition };
  return bulk.getPreviousMatch.get(key) ?? bulk.getCarried.get(key);
}

class SqlitePairStore implements PairStore {
  constructor(
    private readonly store: SqliteStore,
    readonly pairId: string,
  ) {}

  private get db(): Db {
    return this.store.db;
  }

  private get key(): number {
    return this.store.pairKey(this.pairId);
  }

  private chunkWhere(epoch: string, side: Side) {
    return and(eq(chunks.pairKey, this.key), eq(chunks.epoch, epoch), eq(chunks.side, side));
  }

  async listChunks(epoch: string, side: Side): Promise<ChunkInfo[]> {
    return this.db.select(chunkColumns).from(chunks).where(this.chunkWhere(epoch, side)).orderBy(asc(chunks.idx)).all().map(chunkOf);
  }

  async getChunk(epoch: string, side: Side, index: number): Promise<ChunkInfo | undefined> {
    const r = this.db
      .select(chunkColumns)
      .from(chunks)
      .where(and(this.chunkWhere(epoch, side), eq(chunks.idx, index)))
      .get();
    return r ? chunkOf(r) : undefined;
  }

  async getChunkElements(epoch: string, side: Side, index: number): Promise<Uint8Array | undefined> {
    const r = this.db
      .select({ elements: chunks.elements })
      .from(chunks)
      .where(and(this.chunkWhere(epoch, side), eq(chunks.idx, index)))
      .get();
    return r ? u8(r.elements) : undefined;
  }

  /** Positions uploaded on a side (the next chunk's firstPosition) and the number of chunks. */
  private extent(db: Db, epoch: string, side: Side): { chunks: number; size: number } {
    const last = db
      .select({ idx: chunks.idx, firstPosition: chunks.firstPosition, count: chunks.count })
      .from(chunks)
      .where(this.chunkWhere(epoch, side))
      .orderBy(desc(chunks.idx))
      .limit(1)
      .get();
    return last ? { chunks: last.idx + 1, size: last.firstPosition + last.count } : { chunks: 0, size: 0 };
  }

  private removedCount(db: Db, epoch: string, side: Side): number {
    const r = db
      .select({ n: count() })
      .from(removals)
      .where(and(eq(removals.pairKey, this.key), eq(removals.epoch, epoch), eq(removals.side, side)))
      .get();
    return r?.n ?? 0;
  }

  async putChunk(input: PutChunkInput): Promise<PutChunkResult> {
    const key = this.key;
    const n = input.elements.length / ELEMENT_BYTES;
    return this.db.transaction(
      (tx) => {
        const existing = tx
          .select(chunkColumns)
          .from(chunks)
          .where(and(this.chunkWhere(input.epoch, input.side), eq(chunks.idx, input.index)))
          .get();
        if (existing) {
          const chunk = chunkOf(existing);
          return { status: sameBytes(existing.sha256, input.sha256) ? 'same' : 'conflict', chunk } as PutChunkResult;
        }
        const ext = this.extent(tx as unknown as Db, input.epoch, input.side);
        if (input.index !== ext.chunks) return { status: 'gap', nextIndex: ext.chunks };
        const live = ext.size - this.removedCount(tx as unknown as Db, input.epoch, input.side);
        if (live + n > input.maxLiveSize) return { status: 'too-large', liveSize: live };
        tx.insert(chunks)
          .values({
            pairKey: key,
            epoch: input.epoch,
            side: input.side,
            idx: input.index,
            firstPosition: ext.size,
            count: n,
            sha256: buf(input.sha256),
            elements: buf(input.elements),
            createdAt: input.at,
          })
          .run();
        return {
          status: 'created',
          chunk: { index: input.index, firstPosition: ext.size, count: n, sha256: input.sha256, tokensSha256: null, createdAt: input.at },
        };
      },
      { behavior: 'immediate' },
    );
  }

  async removePositions(epoch: string, side: Side, positions: readonly number[], at: string): Promise<RemoveResult> {
    const k = this.key;
    const { markRemoved, insertRemoval, retractA, retractB } = this.store.bulk;
    return this.db.transaction(
      (tx) => {
        const { size } = this.extent(tx as unknown as Db, epoch, side);
        for (let i = 0; i < positions.length; i++) if ((positions[i] as number) >= size) return { ok: false, badIndex: i };
        const distinct = new Set(positions);
        let retracted = 0;
        const retract = side === 0 ? retractA : retractB;
        for (const pos of distinct) {
          if (insertRemoval.run({ k, e: epoch, s: side, pos, at }).changes === 0) continue;
          markRemoved.run({ k, e: epoch, s: side, pos });
          retracted += retract.run({ k, e: epoch, pos }).changes;
        }
        return { ok: true, removed: distinct.size, retracted };
      },
      { behavior: 'immediate' },
    );
  }

  async registerCanaries(epoch: string, side: Side, list: readonly CanaryInput[], at: string): Promise<RegisterCanariesResult> {
    const k = this.key;
    const { markCanary, retractA, retractB } = this.store.bulk;
    return this.db.transaction(
      (tx) => {
        const { size } = this.extent(tx as unknown as Db, epoch, side);
        const seen = new Map<number, Uint8Array>();
        const fresh: CanaryInput[] = [];
        for (let i = 0; i < list.length; i++) {
          const c = list[i] as CanaryInput;
          if (c.position >= size) return { ok: false, reason: 'unknown-position', badIndex: i };
          const earlier = seen.get(c.position);
          if (earlier) {
            if (!sameBytes(earlier, c.token)) return { ok: false, reason: 'conflict', badIndex: i };
            continue;
          }
          seen.set(c.position, c.token);
          const r = tx
            .select({ token: canaries.token })
            .from(canaries)
            .where(and(eq(canaries.pairKey, k), eq(canaries.epoch, epoch), eq(canaries.side, side), eq(canaries.position, c.position)))
            .get();
          if (r) {
            if (!sameBytes(r.token, c.token)) return { ok: false, reason: 'conflict', badIndex: i };
            continue;
          }
          fresh.push(c);
        }
        let retracted = 0;
        const retract = side === 0 ? retractA : retractB;
        for (const c of fresh) {
          tx.insert(canaries).values({ pairKey: k, epoch, side, position: c.position, token: buf(c.token), registeredAt: at }).run();
          markCanary.run({ k, e: epoch, s: side, pos: c.position });
          retracted += retract.run({ k, e: epoch, pos: c.position }).changes;
        }
        return { ok: true, registered: seen.size, added: fresh.length, retracted };
      },
      { behavior: 'immediate' },
    );
  }

  async markCanariesDone(epoch: string, side: Side, at: string): Promise<boolean> {
    const k = this.key;
    return this.db.transaction((tx) => {
      const r = tx
        .select({ done: sideState.canariesDoneAt })
        .from(sideState)
        .where(and(eq(sideState.pairKey, k), eq(sideState.epoch, epoch), eq(sideState.side, side)))
        .get();
      if (r?.done) return false;
      tx.insert(sideState)
        .values({ pairKey: k, epoch, side, canariesDoneAt: at })
        .onConflictDoUpdate({ target: [sideState.pairKey, sideState.epoch, sideState.side], set: { canariesDoneAt: at } })
        .run();
      return true;
    });
  }

  async putTokens(input: PutTokensInput): Promise<PutTokensResult> {
    const k = this.key;
    const { epoch, side, at } = input;
    const other = (1 - side) as Side;
    const { insertToken, insertHandle, insertMatch } = this.store.bulk;
    const pairId = this.pairId;
    return this.db.transaction(
      (tx) => {
        const chunk = tx
          .select({ firstPosition: chunks.firstPosition, count: chunks.count, tokensSha256: chunks.tokensSha256 })
          .from(chunks)
          .where(and(this.chunkWhere(epoch, side), eq(chunks.idx, input.index)))
          .get();
        if (!chunk) return { status: 'not-found' };
        if (chunk.tokensSha256) {
          return sameBytes(chunk.tokensSha256, input.sha256) ? { status: 'same', count: chunk.count } : { status: 'conflict' };
        }
        if (input.tokens.length !== chunk.count * TOKEN_BYTES) return { status: 'count-mismatch', expected: chunk.count };
        const first = chunk.firstPosition;
        const last = first + chunk.count - 1;
        const inRange = (t: typeof removals | typeof canaries) =>
          new Set(
            tx
              .select({ position: t.position })
              .from(t)
              .where(and(eq(t.pairKey, k), eq(t.epoch, epoch), eq(t.side, side), between(t.position, first, last)))
              .all()
              .map((r) => r.position),
          );
        const removedSet = inRange(removals);
        const canarySet = inRange(canaries);
        const all = buf(input.tokens);
        for (let i = 0; i < chunk.count; i++) {
          const pos = first + i;
          insertToken.run({
            k,
            e: epoch,
            s: side,
            pos,
            t: all.subarray(i * TOKEN_BYTES, (i + 1) * TOKEN_BYTES),
            r: removedSet.has(pos) ? 1 : 0,
            c: canarySet.has(pos) ? 1 : 0,
          });
        }
        tx.update(chunks)
          .set({ tokensSha256: buf(input.sha256), tokenizedAt: at })
          .where(and(this.chunkWhere(epoch, side), eq(chunks.idx, input.index)))
          .run();
        // Match only the new positions against the other side: O(new · log n) through tokens_match.
        const n = alias(tokens, 'n');
        const o = alias(tokens, 'o');
        const found = tx
          .select({ mine: n.position, theirs: o.position, token: n.token })
          .from(n)
          .innerJoin(
            o,
            and(eq(o.pairKey, n.pairKey), eq(o.epoch, n.epoch), eq(o.side, other), eq(o.token, n.token), eq(o.removed, 0), eq(o.canary, 0)),
          )
          .where(and(eq(n.pairKey, k), eq(n.epoch, epoch), eq(n.side, side), between(n.position, first, last), eq(n.removed, 0), eq(n.canary, 0)))
          .all();
        let newMatches = 0;
        const bulk = this.store.bulk;
        const linked = found.length > 0 && bulk.anyLink.get({ k, e: epoch }) !== undefined;
        for (const m of found) {
          const [a, b] = side === 0 ? [m.mine, m.theirs] : [m.theirs, m.mine];
          const continued = linked ? continuedHandle(bulk, k, epoch, a, b) : undefined;
          const h = continued?.handle ?? matchHandle(input.handleKey, pairId, m.token);
          insertHandle.run({ k, e: epoch, h, at: continued?.firstSeen ?? at });
          newMatches += insertMatch.run({ k, e: epoch, a, b, h, at }).changes;
        }
        return { status: 'created', count: chunk.count, newMatches };
      },
      { behavior: 'immediate' },
    );
  }

  async summary(epoch: string): Promise<PairSummary> {
    const k = this.key;
    const empty = (): SideSummary => ({
      chunks: 0,
      tokenizedChunks: 0,
      size: 0,
      removed: 0,
      canaries: 0,
      canariesDone: false,
      canariesChecked: 0,
      canariesFailed: 0,
    });
    const sides: [SideSummary, SideSummary] = [empty(), empty()];
    const at = (s: number) => sides[s === 1 ? 1 : 0];
    for (const r of this.db
      .select({
        side: chunks.side,
        n: count(),
        tokenized: count(chunks.tokensSha256),
        size: sum(chunks.count).mapWith(Number),
      })
      .from(chunks)
      .where(and(eq(chunks.pairKey, k), eq(chunks.epoch, epoch)))
      .groupBy(chunks.side)
      .all()) {
      Object.assign(at(r.side), { chunks: r.n, tokenizedChunks: r.tokenized, size: r.size ?? 0 });
    }
    for (const r of this.db
      .select({ side: removals.side, n: count() })
      .from(removals)
      .where(and(eq(removals.pairKey, k), eq(removals.epoch, epoch)))
      .groupBy(removals.side)
      .all()) {
      at(r.side).removed = r.n;
    }
    for (const r of this.db
      .select({ side: canaries.side, n: count() })
      .from(canaries)
      .where(and(eq(canaries.pairKey, k), eq(canaries.epoch, epoch)))
      .groupBy(canaries.side)
      .all()) {
      at(r.side).canaries = r.n;
    }
    for (const r of this.db
      .select({
        side: canaries.side,
        checked: count(),
        failed: sum(sql<number>`${canaries.token} != ${tokens.token}`).mapWith(Number),
      })
      .from(canaries)
      .innerJoin(
        tokens,
        and(eq(tokens.pairKey, canaries.pairKey), eq(tokens.epoch, canaries.epoch), eq(tokens.side, canaries.side), eq(tokens.position, canaries.position)),
      )
      .where(and(eq(canaries.pairKey, k), eq(canaries.epoch, epoch)))
      .groupBy(canaries.side)
      .all()) {
      Object.assign(at(r.side), { canariesChecked: r.checked, canariesFailed: r.failed ?? 0 });
    }
    for (const r of this.db
      .select({ side: sideState.side, done: sideState.canariesDoneAt })
      .from(sideState)
      .where(and(eq(sideState.pairKey, k), eq(sideState.epoch, epoch)))
      .all()) {
      at(r.side).canariesDone = r.done !== null;
    }
    const st = this.db
      .select()
      .from(pairState)
      .where(and(eq(pairState.pairKey, k), eq(pairState.epoch, epoch)))
      .get();
    return { sides, state: st ? { state: st.state, reason: st.reason, updatedAt: st.updatedAt } : undefined };
  }

  async transitionState(epoch: string, from: PairStateName | undefined, to: PairStateRecord): Promise<boolean> {
    const k = this.key;
    return this.db.transaction(
      (tx) => {
        const cur = tx
          .select({ state: pairState.state })
          .from(pairState)
          .where(and(eq(pairState.pairKey, k), eq(pairState.epoch, epoch)))
          .get();
        if (cur?.state !== from || from === to.state) return false;
        tx.insert(pairState)
          .values({ pairKey: k, epoch, state: to.state, reason: to.reason, updatedAt: to.updatedAt })
          .onConflictDoUpdate({ target: [pairState.pairKey, pairState.epoch], set: { state: to.state, reason: to.reason, updatedAt: to.updatedAt } })
          .run();
        return true;
      },
      { behavior: 'immediate' },
    );
  }

  async listMatches(epoch: string, side: Side): Promise<MatchRecord[]> {
    const k = this.key;
    const pos = side === 0 ? matches.posA : matches.posB;
    return this.db
      .selectDistinct({ position: pos, handle: matches.handle, firstSeen: handles.firstSeen })
      .from(matches)
      .innerJoin(handles, and(eq(handles.pairKey, matches.pairKey), eq(handles.epoch, matches.epoch), eq(handles.handle, matches.handle)))
      .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch)))
      .orderBy(asc(pos), asc(matches.handle))
      .all();
  }

  async countMatches(epoch: string): Promise<number> {
    const r = this.db
      .select({ n: count() })
      .from(matches)
      .where(and(eq(matches.pairKey, this.key), eq(matches.epoch, epoch)))
      .get();
    return r?.n ?? 0;
  }

  async putLinks(epoch: string, side: Side, previousEpoch: string, list: readonly LinkInput[], at: string): Promise<PutLinksResult> {
    const k = this.key;
    const bulk = this.store.bulk;
    return this.db.transaction(
      (tx) => {
        const { size } = this.extent(tx as unknown as Db, epoch, side);
        const seen = new Map<number, number>();
        const fresh: LinkInput[] = [];
        for (let i = 0; i < list.length; i++) {
          const l = list[i] as LinkInput;
          if (l.position >= size) return { ok: false, reason: 'unknown-position', badIndex: i };
          const earlier = seen.get(l.position);
          if (earlier !== undefined) {
            if (earlier !== l.previous) return { ok: false, reason: 'conflict', badIndex: i };
            continue;
          }
          seen.set(l.position, l.previous);
          const r = bulk.getLink.get({ k, e: epoch, s: side, pos: l.position });
          if (r) {
            if (r.previousEpoch !== previousEpoch || r.previousPosition !== l.previous) return { ok: false, reason: 'conflict', badIndex: i };
            continue;
          }
          fresh.push(l);
        }
        for (const l of fresh) {
          tx.insert(links).values({ pairKey: k, epoch, side, position: l.position, previousEpoch, previousPosition: l.previous, linkedAt: at }).run();
        }
        // Links may arrive after the partner's tokens: matches already made take over the previous handle now.
        let rehandled = 0;
        const pos = side === 0 ? matches.posA : matches.posB;
        for (const l of fresh) {
          const made = tx
            .select({ posA: matches.posA, posB: matches.posB, handle: matches.handle })
            .from(matches)
            .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch), eq(pos, l.position)))
            .all();
          for (const m of made) {
            const continued = continuedHandle(bulk, k, epoch, m.posA, m.posB);
            if (!continued || continued.handle === m.handle) continue;
            bulk.insertHandle.run({ k, e: epoch, h: continued.handle, at: continued.firstSeen });
            tx.update(matches)
              .set({ handle: continued.handle })
              .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch), eq(matches.posA, m.posA), eq(matches.posB, m.posB)))
              .run();
            rehandled++;
          }
        }
        return { ok: true, linked: seen.size, added: fresh.length, rehandled };
      },
      { behavior: 'immediate' },
    );
  }

  async matchedHandles(epoch: string): Promise<MatchedHandle[]> {
    const k = this.key;
    return this.db
      .select({
        handle: matches.handle,
        posA: sql<number>`min(${matches.posA})`,
        posB: sql<number>`min(${matches.posB})`,
        firstSeen: handles.firstSeen,
      })
      .from(matches)
      .innerJoin(handles, and(eq(handles.pairKey, matches.pairKey), eq(handles.epoch, matches.epoch), eq(handles.handle, matches.handle)))
      .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch)))
      .groupBy(matches.handle, handles.firstSeen)
      .orderBy(asc(matches.handle))
      .all();
  }

  async lookupToken(epoch: string, side: Side, token: Uint8Array): Promise<TokenLookup | undefined> {
    const k = this.key;
    // tokens_match (pair_key, epoch, side, token) finds the token in O(log n). No ORDER BY or min():
    // either makes SQLite walk the primary key (the whole side) in position order instead.
    const found = this.db
      .select({ position: tokens.position })
      .from(tokens)
      .where(and(eq(tokens.pairKey, k), eq(tokens.epoch, epoch), eq(tokens.side, side), eq(tokens.token, buf(token)), eq(tokens.removed, 0), eq(tokens.canary, 0)))
      .all();
    if (found.length === 0) return undefined;
    const t = { position: Math.min(...found.map((r) => r.position)) };
    const pos = side === 0 ? matches.posA : matches.posB;
    const m = this.db
      .select({ handle: matches.handle })
      .from(matches)
      .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch), eq(pos, t.position)))
      .limit(1)
      .get();
    return { position: t.position, matchHandle: m?.handle };
  }

  async dataEpochs(): Promise<{ bulk: string[]; carried: string[] }> {
    const k = this.key;
    // Tokens, removals, canaries, matches and links exist only for positions of chunks, so chunks stand for them.
    const bulk = new Set<string>();
    for (const t of [chunks, sideState, pairState] as const) {
      for (const r of this.db.selectDistinct({ epoch: t.epoch }).from(t).where(eq(t.pairKey, k)).all()) bulk.add(r.epoch);
    }
    const carried = this.db.selectDistinct({ epoch: carriedMatches.epoch }).from(carriedMatches).where(eq(carriedMatches.pairKey, k)).all();
    return { bulk: [...bulk], carried: carried.map((r) => r.epoch) };
  }

  async purgeEpochs(list: readonly string[], carry: string | undefined): Promise<PurgeCounts> {
    const k = this.key;
    return this.db.transaction(
      (tx) => {
        const counts: PurgeCounts = { epochs: [...list], chunks: 0, tokens: 0, removals: 0, canaries: 0, matches: 0, links: 0 };
        for (const epoch of list) {
          if (epoch === carry) {
            tx.run(sql`INSERT OR IGNORE INTO ${carriedMatches} (pair_key, epoch, pos_a, pos_b, handle, first_seen)
              SELECT m.pair_key, m.epoch, m.pos_a, m.pos_b, m.handle, h.first_seen FROM ${matches} m
              JOIN ${handles} h ON h.pair_key = m.pair_key AND h.epoch = m.epoch AND h.handle = m.handle
              WHERE m.pair_key = ${k} AND m.epoch = ${epoch}`);
          }
          const del = (t: typeof chunks | typeof tokens | typeof removals | typeof canaries | typeof matches | typeof links | typeof sideState | typeof pairState | typeof handles) =>
            tx.delete(t).where(and(eq(t.pairKey, k), eq(t.epoch, epoch))).run().changes;
          counts.chunks += del(chunks);
          counts.tokens += del(tokens);
          counts.removals += del(removals);
          counts.canaries += del(canaries);
          counts.matches += del(matches);
          counts.links += del(links);
          del(sideState);
          del(pairState);
          del(handles);
        }
        tx.delete(carriedMatches)
          .where(carry === undefined ? eq(carriedMatches.pairKey, k) : and(eq(carriedMatches.pairKey, k), ne(carriedMatches.epoch, carry)))
          .run();
        return counts;
      },
      { behavior: 'immediate' },
    );
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
