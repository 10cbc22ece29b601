// `concordat sync`: push this agency's delta to every pair, do the partner
// work the coordinator hands out, pull results (protocol/SPEC.md §3.1).
//
// Every step is safe to repeat and an interrupted sync resumes: new positions,
// their blinded chunks and canary scalars are committed to the local store in
// one transaction before anything is sent; uploads are idempotent and checked
// against GET …/status first; removals, canary registration and partner tokens
// are idempotent on the coordinator. Killing a sync at any point and running
// it again reaches the same end state as one clean run.
import { randomInt } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { CONCORDAT_SUITE, ELEMENT_BYTES, TOKEN_BYTES, epochInfo } from '../../protocol/constants.js';
import { engineNameFrom, type EngineName } from '../../protocol/engine/index.js';
import { createPool, type EnginePool } from '../../protocol/engine/pool.js';
import { encodePoint, encodeScalar, randomScalar, reduceScalarLE, scalarMulBase } from '../../protocol/group.js';
import { identifierInput, type IdentifierKind } from '../../protocol/identifiers/index.js';
import { deriveKeyPair, type KeyPair } from '../../protocol/keys.js';
import { randomBytes } from '../../protocol/rng.js';
import { canaryFromScalar } from '../../protocol/token.js';
import type { Me, MePair, PairStatus } from '../sdk/api.js';
import { CoordinatorClient } from '../sdk/client.js';
import { ChunkConflictError, CoordinatorError, CoordinatorUnreachableError, describeNetworkError } from '../sdk/errors.js';
import type { Store } from '../store/db.js';
import { AgencyError, type Agency } from './config.js';
import { silentProgress, type ProgressFactory } from './progress.js';
import { pullHitStatuses } from './hits.js';
import { pullResults, type PairPull } from './results.js';

/** API.md: a chunk holds 1..65,536 elements. */
export const CHUNK_ELEMENTS = 65_536;
/** API.md: at most 1,000,000 positions per removals call. */
const REMOVALS_PER_CALL = 100_000;
/** Canaries planted when a side is first built: 24..40, so the count itself says little. */
const CANARIES_MIN = 24;
const CANARIES_MAX = 40;

export interface SyncOptions {
  /** Summary lines (stdout). */
  log?: (line: string) => void;
  /** Warnings and failures (stderr). */
  warn?: (line: string) => void;
  progress?: ProgressFactory;
  engine?: EngineName;
  /** Worker threads for blinding and tokenising; default: all cores. */
  threads?: number;
  client?: CoordinatorClient;
  /** Canaries for a newly built side; default uniform in 24..40. */
  canaryCount?: () => number;
  /** Elements per chunk (≤ 65,536); smaller only in tests. */
  chunkElements?: number;
  /** Stops the sync between steps (a daemon shutting down); it resumes at the next run. */
  signal?: AbortSignal;
}

export interface PairSyncSummary {
  pair: string;
  partner: string;
  mode: string;
  added: number;
  canaries: number;
  withdrawn: number;
  live: number;
  chunksUploaded: number;
  removalsSent: number;
  canariesRegistered: boolean;
  /** Registered during this sync. */
  canariesRegisteredNow: boolean;
  partnerChunksTokenized: number;
  waitingForPartnerKey: boolean;
  /** Positions linked to the previous epoch's matches (handle continuity). */
  linked?: number;
  error?: string;
  result?: PairPull;
}

export interface SyncReport {
  epoch: string;
  pairs: PairSyncSummary[];
  partnerChunksTokenized: number;
  failedPairs: PairPull[];
  errors: string[];
}

export function clientFor(
  agency: Agency,
  o: { retries?: number; timeoutMs?: number; warn?: (l: string) => void; label?: string; backoffMaxMs?: number } = {},
): CoordinatorClient {
  const label = o.label ?? 'sync';
  return new CoordinatorClient({
    baseUrl: agency.coordinator,
    keyId: agency.agency,
    secretKey: agency.signingKey,
    ...(o.retries !== undefined ? { retries: o.retries } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.backoffMaxMs !== undefined ? { backoffMaxMs: o.backoffMaxMs } : {}),
    onRetry: (e) => o.warn?.(`${label}: ${e.method} ${e.path} failed (${e.reason}); retry ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s`),
  });
}

/** Fisher–Yates with a CSPRNG: the upload order reveals neither record order nor which positions are canaries. */
export function randomPermutation(n: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

const nowIso = (): string => new Date().toISOString();

interface Ctx {
  agency: Agency;
  store: Store;
  client: CoordinatorClient;
  me: Me;
  epoch: string;
  key: KeyPair;
  log: (l: string) => void;
  warn: (l: string) => void;
  progress: ProgressFactory;
  pool: () => Promise<EnginePool>;
  canaryCount: () => number;
  chunkElements: number;
  signal: AbortSignal | undefined;
  /** Partner chunk count per pair, from GET …/status (null: the pair failed, its partner set is closed). */
  partnerChunks: Map<string, number | null>;
}

export async function sync(agency: Agency, store: Store, o: SyncOptions = {}): Promise<SyncReport> {
  const log = o.log ?? (() => {});
  const warn = o.warn ?? (() => {});
  const client = o.client ?? clientFor(agency, { warn });
  const engine = o.engine ?? engineNameFrom(undefined, process.env.CONCORDAT_ENGINE);
  let poolPromise: Promise<EnginePool> | undefined;
  const pool = () => (poolPromise ??= createPool({ engine, ...(o.threads !== undefined ? { threads: o.threads } : {}) }));
  const chunkElements = Math.min(CHUNK_ELEMENTS, Math.max(1, o.chunkElements ?? CHUNK_ELEMENTS));
  const run = store.sqlite.prepare('INSERT INTO sync_runs (started_at) VALUES (?)').run(new Date().toISOString()).lastInsertRowid;
  const finish = (ok: boolean, epoch: string | null, errors: string[]) =>
    store.sqlite
      .prepare('UPDATE sync_runs SET finished_at = ?, ok = ?, epoch = ?, errors = ? WHERE id = ?')
      .run(new Date().toISOString(), ok ? 1 : 0, epoch, JSON.stringify(errors), run);
  try {
    // The epoch can rotate while a sync runs: every upload names its epoch and
    // the coordinator refuses a stale one; the whole sync then starts over in
    // the new epoch (everything it had done is kept and resumes).
    for (let round = 1; ; round++) {
      try {
        const report = await syncOnce(agency, store, o, { log, warn, client, pool, chunkElements });
        finish(report.errors.length === 0, report.epoch, report.errors);
        return report;
      } catch (e) {
        if (!isStaleEpoch(e) || round >= MAX_EPOCH_RESTARTS) {
          finish(false, null, [o.signal?.aborted ? 'interrupted' : e instanceof CoordinatorError ? e.message : e instanceof Error ? describeNetworkError(e) : String(e)]);
          throw e;
        }
        warn('sync: the coordinator moved to a new epoch during the sync; starting over in the new epoch');
      }
    }
  } finally {
    if (poolPromise) await (await poolPromise).close();
  }
}

/** Restarts of a sync after a `409 stale-epoch` before giving up (one is usual: a rotation mid-sync). */
const MAX_EPOCH_RESTARTS = 3;

export function isStaleEpoch(e: unknown): boolean {
  return e instanceof StaleEpochError || (e instanceof CoordinatorError && e.slug === 'stale-epoch');
}

/** The coordinator's epoch is not the one this sync started in (seen in /v1/work). */
class StaleEpochError extends Error {
  override readonly name = 'StaleEpochError';
}

function isEpochKeyRequired(e: unknown): boolean {
  return e instanceof CoordinatorError && e.slug === 'epoch-key-required';
}

/** Errors that end the whole sync instead of one pair's work. */
function isFatal(e: unknown): boolean {
  return e instanceof CoordinatorUnreachableError || isStaleEpoch(e) || (e instanceof Error && e.name === 'AbortError');
}

async function syncOnce(
  agency: Agency,
  store: Store,
  o: SyncOptions,
  base: { log: (l: string) => void; warn: (l: string) => void; client: CoordinatorClient; pool: () => Promise<EnginePool>; chunkElements: number },
): Promise<SyncReport> {
  const { log, warn, client } = base;
  o.signal?.throwIfAborted();
  // (a) who we are, the epoch, and our epoch key.
  let me = await client.me();
  let key = deriveKeyPair(CONCORDAT_SUITE, agency.epochSeed, epochInfo(me.epoch.id));
  try {
    await publishEpochKey(client, me, key);
  } catch (e) {
    // The epoch rotated between GET /v1/me and the PUT: start over once on the new epoch.
    if (!isStaleEpoch(e)) throw e;
    me = await client.me();
    key = deriveKeyPair(CONCORDAT_SUITE, agency.epochSeed, epochInfo(me.epoch.id));
    await publishEpochKey(client, me, key);
  }
  const ctx: Ctx = {
    agency,
    store,
    client,
    me,
    epoch: me.epoch.id,
    key,
    log,
    warn,
    progress: o.progress ?? silentProgress,
    pool: base.pool,
    canaryCount: o.canaryCount ?? (() => randomInt(CANARIES_MIN, CANARIES_MAX + 1)),
    chunkElements: base.chunkElements,
    signal: o.signal,
    partnerChunks: new Map(),
  };
  log(`sync: agency ${agency.agency}, epoch ${me.epoch.id}, ${me.pairs.length} pair(s)`);
  if (store.sqlite.prepare('SELECT count(*) FROM imports').pluck().get() === 0) {
    warn('sync: warning: no watchlist has been imported yet (concordat import); sides hold only canaries');
  }
  purgeOtherEpochs(store, me);

  // Publishes the key again when the coordinator says it lacks it, then retries once.
  const withKey = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (!isEpochKeyRequired(e)) throw e;
      warn(`sync: the coordinator has no epoch key of this agency for ${ctx.epoch}; publishing it again`);
      await client.putEpochKey(ctx.epoch, key.pk);
      return f();
    }
  };

  // (b) our side of every pair.
  const summaries: PairSyncSummary[] = [];
  const errors: string[] = [];
  for (const p of me.pairs) {
    o.signal?.throwIfAborted();
    const s = emptySummary(p);
    summaries.push(s);
    try {
      await withKey(() => syncSide(ctx, p, s));
    } catch (e) {
      if (isFatal(e)) throw e;
      s.error = e instanceof Error ? e.message : String(e);
      errors.push(`pair ${p.pair}: ${s.error}`);
      warn(`sync: ERROR pair ${p.pair}: ${s.error}`);
    }
  }

  // (c) partner work, and the local copy of the tokens targeted queries check against.
  let tokenized = 0;
  try {
    tokenized = await withKey(() => doPartnerWork(ctx, summaries));
  } catch (e) {
    if (isFatal(e)) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    errors.push(`partner work: ${msg}`);
    warn(`sync: ERROR partner work: ${msg}`);
  }

  // (d) results, and the status of every hit (shown next to the matches).
  const pulled = await pullResults(client, store);
  try {
    await pullHitStatuses(client, store);
  } catch (e) {
    if (isFatal(e)) throw e;
    warn(`sync: warning: could not refresh hit statuses (${e instanceof Error ? e.message : String(e)})`);
  }
  const failedPairs: PairPull[] = [];
  for (const r of pulled.pairs) {
    const s = summaries.find((x) => x.pair === r.pair);
    if (s) s.result = r;
    if (r.state === 'failed') failedPairs.push(r);
  }
  for (const s of summaries) log(formatPairSummary(s));
  for (const f of failedPairs) {
    warn(`sync: !!! PAIR FAILED ${f.pair} (partner ${f.partner}): ${f.reason ?? 'no reason given'}`);
    warn('sync: !!! no results are released for this pair for the rest of the epoch; earlier matches with it were cleared.');
  }
  return { epoch: me.epoch.id, pairs: summaries, partnerChunksTokenized: tokenized, failedPairs, errors };
}

async function publishEpochKey(client: CoordinatorClient, me: Me, key: KeyPair): Promise<void> {
  const mine = bytesToHex(key.pk);
  for (const p of me.pairs) {
    if (p.myEpochKey !== null && p.myEpochKey !== mine) {
      throw new AgencyError(
        `the coordinator holds another epoch key for this agency in epoch ${me.epoch.id}: this directory's epoch.seed is not the one that published it`,
      );
    }
  }
  if (me.pairs.length === 0 || me.pairs.some((p) => p.myEpochKey === null)) await client.putEpochKey(me.epoch.id, key.pk);
}

function emptySummary(p: MePair): PairSyncSummary {
  return {
    pair: p.pair,
    partner: p.partner,
    mode: p.mode,
    added: 0,
    canaries: 0,
    withdrawn: 0,
    live: 0,
    chunksUploaded: 0,
    removalsSent: 0,
    canariesRegistered: false,
    canariesRegisteredNow: false,
    partnerChunksTokenized: 0,
    waitingForPartnerKey: false,
  };
}

/**
 * An epoch rotation re-blinds everything. A pair's data of an older epoch is
 * dropped once its side in the current epoch has sent its handle links (the
 * old positions are the only map from the previous epoch's matches to
 * identifiers); pairs that left every valid agreement are dropped at once.
 * Partner tokens of older epochs stay while a query of this agency is open:
 * its answer may come in the epoch the query was asked in.
 */
function purgeOtherEpochs(store: Store, me: Me): void {
  const db = store.sqlite;
  const epoch = me.epoch.id;
  const current = JSON.stringify(me.pairs.map((p) => p.pair));
  db.transaction(() => {
    for (const t of ['positions', 'chunks', 'sides']) {
      db.prepare(
        `DELETE FROM ${t} WHERE epoch <> @epoch AND (pair NOT IN (SELECT value FROM json_each(@current))
           OR pair IN (SELECT pair FROM sides WHERE epoch = @epoch AND links_sent = 1))`,
      ).run({ epoch, current });
    }
    const open = db.prepare('SELECT count(*) FROM queries WHERE closed_at IS NULL').pluck().get() as number;
    if (open > 0) return;
    // partner_chunks is the catalogue of kept tokens: each (pair, epoch) is one range of partner_tokens' key.
    const stale = db.prepare('SELECT DISTINCT pair, epoch FROM partner_chunks WHERE epoch <> ?').all(epoch) as Array<{ pair: string; epoch: string }>;
    const dropTokens = db.prepare('DELETE FROM partner_tokens WHERE pair = ? AND epoch = ?');
    for (const x of stale) dropTokens.run(x.pair, x.epoch);
    db.prepare('DELETE FROM partner_chunks WHERE epoch <> ?').run(epoch);
  })();
}

async function syncSide(ctx: Ctx, p: MePair, s: PairSyncSummary): Promise<void> {
  await buildDelta(ctx, p, s);
  const status = await ctx.client.status(p.pair);
  ctx.partnerChunks.set(p.pair, status.state === 'failed' ? null : status.partner.chunks);
  await uploadChunks(ctx, p, status, s);
  await sendLinks(ctx, p, s);
  await sendRemovals(ctx, p, status, s);
  await registerCanaries(ctx, p, status, s);
  s.live = ctx.store.sqlite
    .prepare('SELECT count(*) FROM positions WHERE pair = ? AND epoch = ? AND removed = 0')
    .pluck()
    .get(p.pair, ctx.epoch) as number;
}

/** API.md sets no limit per links call; this keeps one request well under the body limit. */
const LINKS_PER_CALL = 100_000;

/**
 * Handle continuity across a rotation (reveal pairs): once every chunk of the
 * new side is uploaded, tells the coordinator which previous-epoch position
 * each previously matched identifier held, so a new-epoch match of the same
 * two identifiers keeps its handle, first sighting and hit status. Only
 * matched positions are linked: the coordinator learns nothing about the rest.
 * Then the pair's older positions and chunks are dropped (partner tokens go with purgeOtherEpochs).
 */
async function sendLinks(ctx: Ctx, p: MePair, s: PairSyncSummary): Promise<void> {
  const db = ctx.store.sqlite;
  const side = db.prepare('SELECT links_sent AS sent FROM sides WHERE pair = ? AND epoch = ?').get(p.pair, ctx.epoch) as { sent: number } | undefined;
  if (!side || side.sent) return;
  const pendingUploads = db.prepare('SELECT count(*) FROM chunks WHERE pair = ? AND epoch = ? AND uploaded = 0').pluck().get(p.pair, ctx.epoch) as number;
  if (pendingUploads > 0) return;
  // The matches kept from the last complete pull, if they are of an older epoch whose positions are still here.
  const previous = db
    .prepare(
      `SELECT DISTINCT m.epoch FROM matches m WHERE m.pair = ? AND m.epoch <> ?
       AND EXISTS (SELECT 1 FROM positions o WHERE o.pair = m.pair AND o.epoch = m.epoch)`,
    )
    .pluck()
    .all(p.pair, ctx.epoch) as string[];
  const previousEpoch = previous.length === 1 ? previous[0] : undefined;
  if (p.mode === 'reveal' && previousEpoch !== undefined) {
    const links = db
      .prepare(
        `SELECT DISTINCT n.position AS position, o.position AS previous FROM matches m
         JOIN positions o ON o.pair = m.pair AND o.epoch = m.epoch AND o.position = m.position
         JOIN positions n ON n.pair = o.pair AND n.epoch = @epoch AND n.kind = o.kind AND n.canonical = o.canonical AND n.removed = 0
         WHERE m.pair = @pair AND m.epoch = @previous ORDER BY n.position`,
      )
      .all({ pair: p.pair, epoch: ctx.epoch, previous: previousEpoch }) as Array<{ position: number; previous: number }>;
    try {
      for (let i = 0; i < links.length; i += LINKS_PER_CALL) {
        await ctx.client.putLinks(p.pair, ctx.epoch, previousEpoch, links.slice(i, i + LINKS_PER_CALL));
      }
      s.linked = links.length;
      if (links.length > 0) ctx.log(`sync: ${p.pair}: linked ${links.length} previously matched position(s) to epoch ${previousEpoch}, keeping their handles`);
    } catch (e) {
      // A refusal here costs handle continuity, never correctness: the matches
      // are found again with new handles. Anything retryable is retried next sync.
      if (!(e instanceof CoordinatorError) || e.status >= 500 || e.status === 429 || isStaleEpoch(e) || isEpochKeyRequired(e)) throw e;
      ctx.warn(`sync: warning: ${p.pair}: the coordinator refused the handle links (${e.message}); matches of epoch ${previousEpoch} will get new handles`);
    }
  }
  db.transaction(() => {
    db.prepare('UPDATE sides SET links_sent = 1 WHERE pair = ? AND epoch = ?').run(p.pair, ctx.epoch);
    for (const t of ['positions', 'chunks', 'sides']) db.prepare(`DELETE FROM ${t} WHERE pair = ? AND epoch <> ?`).run(p.pair, ctx.epoch);
  })();
}

/**
 * Diffs the watchlist (restricted to the pair's kinds) against the side's
 * positions and commits the result: removed flags for withdrawn identifiers,
 * and for additions (plus canaries on first build) shuffled positions, their
 * blinded chunks and the canary scalars. The transaction spans the blinding,
 * so either all of it is stored or none (and nothing has been sent yet).
 */
async function buildDelta(ctx: Ctx, p: MePair, s: PairSyncSummary): Promise<void> {
  const db = ctx.store.sqlite;
  const kinds = JSON.stringify(p.kinds);
  const wantedClause = 'i.kind IN (SELECT value FROM json_each(@kinds))';
  const args = { pair: p.pair, epoch: ctx.epoch, kinds };
  db.exec('BEGIN IMMEDIATE');
  let done = false;
  try {
    const side = db.prepare('SELECT canaries FROM sides WHERE pair = @pair AND epoch = @epoch').get({ pair: p.pair, epoch: ctx.epoch }) as
      | { canaries: number }
      | undefined;
    const firstBuild = side === undefined;
    const withdrawn = db
      .prepare(
        `UPDATE positions AS p SET removed = 1 WHERE p.pair = @pair AND p.epoch = @epoch AND p.removed = 0 AND p.canary_r IS NULL
         AND NOT EXISTS (SELECT 1 FROM identifiers i WHERE i.kind = p.kind AND i.canonical = p.canonical AND ${wantedClause})`,
      )
      .run(args).changes;
    s.withdrawn = withdrawn;
    // Additions, in a fixed order; their positions come from a random permutation.
    db.exec('CREATE TEMP TABLE IF NOT EXISTS additions (n INTEGER PRIMARY KEY, kind TEXT NOT NULL, canonical TEXT NOT NULL)');
    db.exec('DELETE FROM temp.additions');
    db.prepare(
      `INSERT INTO temp.additions (n, kind, canonical)
       SELECT row_number() OVER (ORDER BY kind, canonical) - 1, kind, canonical FROM (
         SELECT DISTINCT i.kind, i.canonical FROM identifiers i WHERE ${wantedClause}
         AND NOT EXISTS (SELECT 1 FROM positions p WHERE p.pair = @pair AND p.epoch = @epoch AND p.removed = 0
                         AND p.kind = i.kind AND p.canonical = i.canonical))`,
    ).run(args);
    const added = db.prepare('SELECT count(*) FROM temp.additions').pluck().get() as number;
    const canaries = firstBuild ? ctx.canaryCount() : 0;
    const total = added + canaries;
    s.added = added;
    s.canaries = canaries;
    if (total > 0) {
      const live = db.prepare('SELECT count(*) FROM positions WHERE pair = @pair AND epoch = @epoch AND removed = 0').pluck().get(args) as number;
      if (live + total > p.maxSetSize) {
        throw new AgencyError(
          `the side would hold ${live + total} elements, over the agreement's maximum set size of ${p.maxSetSize}; nothing was uploaded`,
        );
      }
      await assignAndBlind(ctx, p, added, canaries);
    }
    if (firstBuild) {
      db.prepare('INSERT INTO sides (pair, epoch, agreement, partner, created_at, canaries) VALUES (?, ?, ?, ?, ?, ?)').run(
        p.pair,
        ctx.epoch,
        p.agreement,
        p.partner,
        nowIso(),
        canaries,
      );
    }
    db.exec('DELETE FROM temp.additions');
    db.exec('COMMIT');
    done = true;
  } finally {
    if (!done && db.inTransaction) db.exec('ROLLBACK');
  }
}

async function assignAndBlind(ctx: Ctx, p: MePair, added: number, canaries: number): Promise<void> {
  const db = ctx.store.sqlite;
  const key = { pair: p.pair, epoch: ctx.epoch };
  const firstPosition = ((db.prepare('SELECT max(position) FROM positions WHERE pair = @pair AND epoch = @epoch').pluck().get(key) as number | null) ?? -1) + 1;
  const firstChunk = ((db.prepare('SELECT max(idx) FROM chunks WHERE pair = @pair AND epoch = @epoch').pluck().get(key) as number | null) ?? -1) + 1;
  const total = added + canaries;
  const perm = randomPermutation(total);
  const chunkOf = (slot: number) => firstChunk + Math.floor(slot / ctx.chunkElements);

  // Slot perm[i] of the new positions holds addition i (i < added) or a canary.
  const insertAddition = db.prepare(
    'INSERT INTO positions (pair, epoch, position, chunk, kind, canonical) SELECT ?, ?, ?, ?, kind, canonical FROM temp.additions WHERE n = ?',
  );
  const insertCanary = db.prepare('INSERT INTO positions (pair, epoch, position, chunk, canary_r) VALUES (?, ?, ?, ?, ?)');
  for (let i = 0; i < total; i++) {
    const slot = perm[i] as number;
    if (i < added) insertAddition.run(p.pair, ctx.epoch, firstPosition + slot, chunkOf(slot), i);
    else insertCanary.run(p.pair, ctx.epoch, firstPosition + slot, chunkOf(slot), Buffer.from(encodeScalar(randomScalar(randomBytes))));
  }

  // Blind chunk by chunk (bounded memory), each chunk on all cores.
  const bar = added > 0 ? ctx.progress('blinding', added) : silentProgress('', 0);
  let blinded = 0;
  let reused = 0;
  ctx.log(`sync: ${p.pair}: blinding ${added} new identifier(s) and planting ${canaries} canar${canaries === 1 ? 'y' : 'ies'}`);
  const rows = db.prepare('SELECT position, kind, canonical, canary_r AS r FROM positions WHERE pair = ? AND epoch = ? AND position >= ? AND position < ? ORDER BY position');
  const insertChunk = db.prepare('INSERT INTO chunks (pair, epoch, idx, first_position, count, sha256, data) VALUES (?, ?, ?, ?, ?, ?, ?)');
  // k·HashToGroup(x) is the same in every pair of the epoch: reuse what another pair already blinded.
  const blindedElsewhere = db
    .prepare(
      `SELECT substr(c.data, (q.position - c.first_position) * ${ELEMENT_BYTES} + 1, ${ELEMENT_BYTES}) FROM positions q
       JOIN chunks c ON c.pair = q.pair AND c.epoch = q.epoch AND c.idx = q.chunk
       WHERE q.epoch = ? AND q.kind = ? AND q.canonical = ? AND q.pair <> ? LIMIT 1`,
    )
    .pluck();
  try {
    for (let from = 0, idx = firstChunk; from < total; from += ctx.chunkElements, idx++) {
      const to = Math.min(total, from + ctx.chunkElements);
      const list = rows.all(p.pair, ctx.epoch, firstPosition + from, firstPosition + to) as Array<{
        position: number;
        kind: string | null;
        canonical: string | null;
        r: Buffer | null;
      }>;
      if (list.length !== to - from) throw new Error(`internal: chunk ${idx} expected ${to - from} positions, found ${list.length}`);
      const inputs: Uint8Array[] = [];
      const inputAt: number[] = [];
      const data = new Uint8Array(list.length * ELEMENT_BYTES);
      list.forEach((row, j) => {
        if (row.r) {
          data.set(encodePoint(scalarMulBase(reduceScalarLE(row.r))), j * ELEMENT_BYTES);
          return;
        }
        const known = blindedElsewhere.get(ctx.epoch, row.kind, row.canonical, p.pair) as Buffer | undefined;
        if (known && known.length === ELEMENT_BYTES) {
          data.set(known, j * ELEMENT_BYTES);
          reused++;
          return;
        }
        inputs.push(identifierInput(row.kind as IdentifierKind, row.canonical as string));
        inputAt.push(j);
      });
      bar.update(blinded + reused);
      if (inputs.length > 0) {
        const pool = await ctx.pool();
        const base = blinded;
        const out = await pool.blind(CONCORDAT_SUITE, ctx.key.sk, inputs, { onProgress: (d) => bar.update(base + reused + d) });
        inputAt.forEach((j, k) => data.set(out.subarray(k * ELEMENT_BYTES, (k + 1) * ELEMENT_BYTES), j * ELEMENT_BYTES));
      }
      blinded += inputs.length;
      bar.update(blinded + reused);
      insertChunk.run(p.pair, ctx.epoch, idx, firstPosition + from, list.length, bytesToHex(sha256(data)), Buffer.from(data));
    }
  } finally {
    bar.stop();
  }
  if (reused > 0) ctx.log(`sync: ${p.pair}: ${reused} element(s) reused from other pairs of the epoch, ${blinded} blinded`);
}

interface LocalChunk {
  index: number;
  count: number;
  sha256: string;
  uploaded: number;
}

async function uploadChunks(ctx: Ctx, p: MePair, status: PairStatus, s: PairSyncSummary): Promise<void> {
  const db = ctx.store.sqlite;
  const local = db
    .prepare('SELECT idx AS "index", count, sha256, uploaded FROM chunks WHERE pair = ? AND epoch = ? ORDER BY idx')
    .all(p.pair, ctx.epoch) as LocalChunk[];
  const remote = new Map(status.mine.chunks.map((c) => [c.index, c]));
  const extra = status.mine.chunks.filter((c) => !local.some((l) => l.index === c.index));
  if (extra.length > 0) {
    throw new AgencyError(
      `the coordinator holds ${status.mine.chunks.length} chunk(s) of this agency's side but the local store knows only ${local.length}; ` +
        'the local store is not the one that uploaded them (restored from an older backup?)',
    );
  }
  const markUploaded = db.prepare('UPDATE chunks SET uploaded = 1 WHERE pair = ? AND epoch = ? AND idx = ?');
  const pending: LocalChunk[] = [];
  for (const c of local) {
    const r = remote.get(c.index);
    if (r) {
      if (r.sha256 !== c.sha256 || r.count !== c.count) throw new ChunkConflictError(p.pair, c.index, 'chunk', conflictFromStatus(p.pair, c.index));
      if (!c.uploaded) markUploaded.run(p.pair, ctx.epoch, c.index);
    } else pending.push(c);
  }
  if (pending.length === 0) return;
  const totalElements = pending.reduce((a, c) => a + c.count, 0);
  const bar = ctx.progress('uploading', totalElements);
  const dataOf = db.prepare('SELECT data FROM chunks WHERE pair = ? AND epoch = ? AND idx = ?').pluck();
  let sent = 0;
  try {
    for (const c of pending) {
      const data = new Uint8Array(dataOf.get(p.pair, ctx.epoch, c.index) as Buffer);
      ctx.signal?.throwIfAborted();
      await ctx.client.putChunk(p.pair, c.index, data, ctx.epoch);
      markUploaded.run(p.pair, ctx.epoch, c.index);
      s.chunksUploaded++;
      sent += c.count;
      bar.update(sent);
    }
  } finally {
    bar.stop();
  }
}

function conflictFromStatus(pair: string, index: number): CoordinatorError {
  return new CoordinatorError({
    status: 409,
    type: 'urn:concordat:problem:conflict',
    title: 'Conflict',
    detail: `GET /v1/pairs/${pair}/status lists chunk ${index} with another digest`,
    method: 'GET',
    path: `/v1/pairs/${pair}/status`,
  });
}

async function sendRemovals(ctx: Ctx, p: MePair, status: PairStatus, s: PairSyncSummary): Promise<void> {
  const db = ctx.store.sqlite;
  const sentCount = db
    .prepare('SELECT count(*) FROM positions WHERE pair = ? AND epoch = ? AND removed = 1 AND removal_sent = 1')
    .pluck()
    .get(p.pair, ctx.epoch) as number;
  // The coordinator knowing fewer removals than we sent means it lost some:
  // send them all again (removals are idempotent).
  const resendAll = status.mine.removed < sentCount;
  const positionsToSend = db
    .prepare(`SELECT position FROM positions WHERE pair = ? AND epoch = ? AND removed = 1 ${resendAll ? '' : 'AND removal_sent = 0'} ORDER BY position`)
    .pluck()
    .all(p.pair, ctx.epoch) as number[];
  const mark = db.prepare('UPDATE positions SET removal_sent = 1 WHERE pair = ? AND epoch = ? AND position = ?');
  for (let i = 0; i < positionsToSend.length; i += REMOVALS_PER_CALL) {
    const batch = positionsToSend.slice(i, i + REMOVALS_PER_CALL);
    await ctx.client.postRemovals(p.pair, batch, ctx.epoch);
    db.transaction(() => {
      for (const pos of batch) mark.run(p.pair, ctx.epoch, pos);
    })();
    s.removalsSent += batch.length;
  }
}

async function registerCanaries(ctx: Ctx, p: MePair, status: PairStatus, s: PairSyncSummary): Promise<void> {
  const db = ctx.store.sqlite;
  const side = db.prepare('SELECT canary_partner_key AS partnerKey, canaries_registered AS registered FROM sides WHERE pair = ? AND epoch = ?').get(p.pair, ctx.epoch) as
    | { partnerKey: string | null; registered: number }
    | undefined;
  if (!side) return;
  if (status.mine.canariesRegistered) {
    if (!side.registered) db.prepare('UPDATE sides SET canaries_registered = 1 WHERE pair = ? AND epoch = ?').run(p.pair, ctx.epoch);
    s.canariesRegistered = true;
    return;
  }
  if (p.partnerEpochKey === null) {
    s.waitingForPartnerKey = true;
    return;
  }
  if (side.partnerKey !== null && side.partnerKey !== p.partnerEpochKey) {
    throw new AgencyError(`the partner ${p.partner} published another epoch key for epoch ${ctx.epoch} than the one seen before`);
  }
  db.prepare('UPDATE sides SET canary_partner_key = ? WHERE pair = ? AND epoch = ?').run(p.partnerEpochKey, p.pair, ctx.epoch);
  const K = hexToBytes(p.partnerEpochKey);
  const rows = db
    .prepare('SELECT position, canary_r AS r FROM positions WHERE pair = ? AND epoch = ? AND canary_r IS NOT NULL ORDER BY position')
    .all(p.pair, ctx.epoch) as Array<{ position: number; r: Buffer }>;
  const canaries = rows.map((row) => ({
    position: row.position,
    token: bytesToHex(canaryFromScalar(CONCORDAT_SUITE, new Uint8Array(row.r), K).expectedToken),
  }));
  if (canaries.length > 0) await ctx.client.putCanaries(p.pair, canaries, ctx.epoch);
  await ctx.client.canariesDone(p.pair, ctx.epoch);
  db.prepare('UPDATE sides SET canaries_registered = 1 WHERE pair = ? AND epoch = ?').run(p.pair, ctx.epoch);
  s.canariesRegistered = true;
  s.canariesRegisteredNow = true;
}

interface PartnerJob {
  pair: string;
  index: number;
  /** Count and digest when known (from /v1/work or the local log), checked on download. */
  expect?: { count: number; sha256: string };
  /** True for /v1/work tasks: the tokens go to the coordinator. False: only the local copy is missing. */
  upload: boolean;
}

/**
 * Tokenises every partner chunk the coordinator lists in GET /v1/work and
 * keeps every token locally (partner_tokens): a targeted query's answer is
 * checked against exactly these values. Chunks tokenised before this store
 * kept tokens (or whose local copy is missing) are downloaded and tokenised
 * again for the local copy only. Tokens are a deterministic function of the
 * epoch key and the chunk, so a rerun recomputes byte-identical tokens.
 */
async function doPartnerWork(ctx: Ctx, summaries: PairSyncSummary[]): Promise<number> {
  const db = ctx.store.sqlite;
  const tasks = await ctx.client.work();
  const stale = tasks.find((t) => t.epoch !== undefined && t.epoch !== ctx.epoch);
  if (stale) throw new StaleEpochError(`the coordinator hands out work of epoch ${stale.epoch}, not ${ctx.epoch}`);
  const logged = db.prepare('SELECT count, sha256 FROM partner_chunks WHERE pair = ? AND epoch = ? AND idx = ?');
  const haveLocal = db.prepare('SELECT idx FROM partner_chunks WHERE pair = ? AND epoch = ? AND tokens_kept = 1').pluck();
  const jobs: PartnerJob[] = [];
  const pairs = new Set([...ctx.me.pairs.map((p) => p.pair), ...tasks.map((t) => t.pair)]);
  for (const pair of pairs) {
    const mine = tasks.filter((t) => t.pair === pair);
    const known = ctx.partnerChunks.get(pair);
    if (known === null) continue;
    const n = Math.max(known ?? 0, ...mine.map((t) => t.index + 1));
    const local = new Set(haveLocal.all(pair, ctx.epoch) as number[]);
    for (let index = 0; index < n; index++) {
      const t = mine.find((x) => x.index === index);
      if (t) jobs.push({ pair, index, expect: { count: t.count, sha256: t.sha256 }, upload: true });
      else if (!local.has(index)) {
        const l = logged.get(pair, ctx.epoch, index) as { count: number; sha256: string } | undefined;
        jobs.push({ pair, index, ...(l ? { expect: l } : {}), upload: false });
      }
    }
  }
  if (jobs.length === 0) return 0;
  const uploads = jobs.filter((j) => j.upload);
  const total = jobs.reduce((a, j) => a + (j.expect?.count ?? 0), 0);
  if (uploads.length > 0) ctx.log(`sync: tokenising ${uploads.length} partner chunk(s), ${uploads.reduce((a, j) => a + (j.expect?.count ?? 0), 0)} element(s)`);
  if (jobs.length > uploads.length) ctx.log(`sync: keeping a local copy of the tokens of ${jobs.length - uploads.length} partner chunk(s) tokenised earlier`);
  const pool = await ctx.pool();
  const bar = ctx.progress('tokenising', total);
  const record = db.prepare(
    `INSERT INTO partner_chunks (pair, epoch, idx, count, sha256, tokenized_at, tokens_kept) VALUES (?, ?, ?, ?, ?, ?, 1)
     ON CONFLICT DO UPDATE SET count = excluded.count, sha256 = excluded.sha256, tokenized_at = excluded.tokenized_at, tokens_kept = 1`,
  );
  const countOf = db.prepare('SELECT count FROM partner_chunks WHERE pair = ? AND epoch = ? AND idx = ?').pluck();
  const keepTokens = keepTokensStatement(ctx.store);
  /** First position of chunk `index` of the partner's side: the counts of the chunks before it. */
  const firstPosition = (pair: string, index: number): number => {
    let sum = 0;
    for (let k = 0; k < index; k++) {
      const c = countOf.get(pair, ctx.epoch, k) as number | undefined;
      if (c === undefined) throw new Error(`internal: partner chunk ${k} of ${pair} is not logged`);
      sum += c;
    }
    return sum;
  };
  let done = 0;
  let count = 0;
  // A pair can fail its canary check while this sync runs (its partner's honesty is checked on the
  // partner's uploads): the coordinator then refuses its partner work (409), and only that pair stops.
  const failed = new Set<string>();
  const pairFailed = async (pair: string, e: unknown): Promise<boolean> => {
    if (!(e instanceof CoordinatorError && e.status === 409)) return false;
    const st = await ctx.client.status(pair).catch(() => undefined);
    if (st?.state !== 'failed') return false;
    failed.add(pair);
    ctx.warn(`sync: pair ${pair} failed its canary check${st.reason ? ` (${st.reason})` : ''}; its partner work stops`);
    return true;
  };
  const fetchJob = (i: number) => {
    const j = jobs[i];
    if (!j || failed.has(j.pair)) return undefined;
    const pr = ctx.client.getPartnerChunk(j.pair, j.index, j.expect);
    pr.catch(() => {}); // Observed when awaited below; avoids an unhandled rejection meanwhile.
    return pr;
  };
  // Download the next chunk while the current one is tokenised.
  let next = fetchJob(0);
  try {
    for (let i = 0; i < jobs.length; i++) {
      ctx.signal?.throwIfAborted();
      const j = jobs[i] as PartnerJob;
      const current = next;
      let elements: Uint8Array;
      try {
        if (failed.has(j.pair) || current === undefined) {
          next = fetchJob(i + 1);
          continue;
        }
        elements = await current;
      } catch (e) {
        if (!(await pairFailed(j.pair, e))) throw e;
        next = fetchJob(i + 1);
        continue;
      }
      next = fetchJob(i + 1);
      if (elements.length === 0 || elements.length % ELEMENT_BYTES !== 0) {
        throw new Error(`pair ${j.pair}: partner chunk ${j.index} has ${elements.length} bytes, not a whole number of elements`);
      }
      const n = elements.length / ELEMENT_BYTES;
      const base = done;
      const tokens = await pool.tokenize(CONCORDAT_SUITE, ctx.key.sk, elements, { onProgress: (d) => bar.update(base + d), label: 'element' });
      if (j.upload) {
        try {
          await ctx.client.putTokens(j.pair, j.index, tokens, ctx.epoch);
        } catch (e) {
          if (await pairFailed(j.pair, e)) continue;
          throw e;
        }
      }
      const digest = j.expect?.sha256 ?? bytesToHex(sha256(elements));
      db.transaction(() => {
        record.run(j.pair, ctx.epoch, j.index, n, digest, nowIso());
        keepTokens(j.pair, ctx.epoch, j.index, firstPosition(j.pair, j.index), tokens);
      })();
      done += n;
      bar.update(done);
      if (j.upload) {
        count++;
        const s = summaries.find((x) => x.pair === j.pair);
        if (s) s.partnerChunksTokenized++;
      }
    }
  } finally {
    bar.stop();
  }
  return count;
}

/** Writes the tokens of one partner chunk (n×16 bytes) into partner_tokens, replacing any earlier copy. */
export function keepTokensStatement(store: Store): (pair: string, epoch: string, chunk: number, firstPosition: number, tokens: Uint8Array) => void {
  const del = store.sqlite.prepare('DELETE FROM partner_tokens WHERE pair = ? AND epoch = ? AND position >= ? AND position < ?');
  const ins = store.sqlite.prepare('INSERT OR REPLACE INTO partner_tokens (pair, epoch, position, chunk, token) VALUES (?, ?, ?, ?, ?)');
  return (pair, epoch, chunk, firstPosition, tokens) => {
    del.run(pair, epoch, firstPosition, firstPosition + tokens.length / TOKEN_BYTES);
    const buf = Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength);
    for (let k = 0; k * TOKEN_BYTES < tokens.length; k++) {
      ins.run(pair, epoch, firstPosition + k, chunk, buf.subarray(k * TOKEN_BYTES, (k + 1) * TOKEN_BYTES));
    }
  };
}

export function formatPairSummary(s: PairSyncSummary): string {
  const parts = [
    `side ${s.live} live (+${s.added} added${s.canaries ? `, +${s.canaries} canaries` : ''}, -${s.withdrawn} withdrawn)`,
    `${s.chunksUploaded} chunk(s) uploaded`,
  ];
  if (s.removalsSent) parts.push(`${s.removalsSent} removal(s) sent`);
  parts.push(s.canariesRegistered ? (s.canariesRegisteredNow ? 'canaries registered' : 'canaries in place') : s.waitingForPartnerKey ? "canaries wait for the partner's epoch key" : 'canaries not registered');
  parts.push(`${s.partnerChunksTokenized} partner chunk(s) tokenised`);
  const r = s.result;
  if (r) {
    if (r.state === 'complete') parts.push(r.mode === 'count' ? `complete: ${r.count ?? 0} matched` : `complete: ${r.records ?? 0} matched record(s)`);
    else if (r.state === 'failed') parts.push(`FAILED: ${r.reason ?? 'no reason given'}`);
    else parts.push(r.records || r.count ? `waiting (keeping ${r.mode === 'count' ? `count ${r.count}` : `${r.records} earlier matched record(s)`})` : 'waiting');
  }
  if (s.error) parts.push(`ERROR: ${s.error}`);
  return `sync: ${s.pair} with ${s.partner} (${s.mode}): ${parts.join('; ')}`;
}
