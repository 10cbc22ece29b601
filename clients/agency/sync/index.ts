// `concordat sync`: push this agency's delta to every pair, do the partner
// work the coordinator hands out, pull results (protocol/SPEC.md §3.1,
// clients/README-cli.md "concordat sync").
//
// Every step is safe to repeat and an interrupted sync resumes: new positions,
// their blinded chunks and canary scalars are committed to the local store in
// one transaction before anything is sent; uploads are idempotent and checked
// against GET …/status first; removals, canary registration and partner tokens
// are idempotent on the coordinator. Killing a sync at any point and running
// it again reaches the same end state as one clean run.
//
// Per pair the phases run in this order, each handed what the one before
// computed: accept.ts (only locally accepted agreements, their local terms,
// the verified partner key) → delta.ts → blind.ts (one transaction) →
// upload.ts → links.ts → upload.ts (removals) → canaries.ts; then, for all
// accepted pairs, partner-work.ts, results.ts, report.ts and audit-log.ts
// (the coordinator's transparency log checked against the heads kept here).
import { randomInt } from 'node:crypto';
import { canariesForChunk } from '../../../protocol/canary.js';
import { engineNameFrom, type EngineName } from '../../../protocol/engine/index.js';
import { createPool, type EnginePool } from '../../../protocol/engine/pool.js';
import type { MePair } from '../../sdk/api.js';
import { agencyClient } from '../../sdk/agency-client.js';
import type { CoordinatorClient } from '../../sdk/client.js';
import { AuditLogError, isCoordinatorUnavailable, describeFailure, endsSync } from '../../sdk/errors.js';
import type { Store } from '../../store/db.js';
import type { Agency } from '../config.js';
import { silentProgress, type ProgressFactory } from '../progress.js';
import { gatePair } from './accept.js';
import { commitDelta } from './blind.js';
import { registerCanaries } from './canaries.js';
import { nowIso, type PairCrypto, type SyncContext } from './context.js';
import { computeDelta } from './delta.js';
import { inCurrentEpoch, openEpoch, withEpochKey } from './epochs.js';
import { sendLinks } from './links.js';
import { doPartnerWork } from './partner-work.js';
import { checkSyncAuditLog } from './audit-log.js';
import { PartnerStore } from './partner-store.js';
import { emptySummary, reportPairs, type PairSyncSummary, type SyncReport } from './report.js';
import { pullSyncResults } from './results.js';
import { SyncStore } from './store.js';
import { sendRemovals, uploadChunks } from './upload.js';

export type { PairSyncSummary, SyncReport } from './report.js';

/** src/API.md: a chunk holds 1..65,536 elements. */
const CHUNK_ELEMENTS = 65_536;

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
  /**
   * Canaries for a chunk holding this many real elements; default
   * canariesForChunk (protocol/canary.ts: at least 48 in every chunk). Tests
   * pass a smaller count.
   */
  canaryCount?: (realElements: number) => number;
  /** Elements per chunk (≤ 65,536); smaller only in tests. */
  chunkElements?: number;
  /** Stops the sync between steps (a daemon shutting down); it resumes at the next run. */
  signal?: AbortSignal;
}

export async function sync(agency: Agency, store: Store, o: SyncOptions = {}): Promise<SyncReport> {
  const warn = o.warn ?? (() => {});
  const engine = o.engine ?? engineNameFrom(undefined, process.env.CONCORDAT_ENGINE);
  let poolPromise: Promise<EnginePool> | undefined;
  const base: Base = {
    agency,
    client: o.client ?? agencyClient(agency, { warn }),
    store,
    sides: new SyncStore(store),
    partners: new PartnerStore(store),
    log: o.log ?? (() => {}),
    warn,
    progress: o.progress ?? silentProgress,
    pool: () => (poolPromise ??= createPool({ engine, ...(o.threads !== undefined ? { threads: o.threads } : {}) })),
    canaryCount: o.canaryCount ?? ((real) => canariesForChunk(real, (n) => randomInt(n))),
    chunkElements: Math.min(CHUNK_ELEMENTS, Math.max(1, o.chunkElements ?? CHUNK_ELEMENTS)),
    signal: o.signal,
  };
  const run = base.sides.startRun(nowIso());
  try {
    const report = await inCurrentEpoch(() => syncOnce(base, store), warn);
    base.sides.finishRun(run, nowIso(), report.errors.length === 0, report.epoch, report.errors);
    return report;
  } catch (e) {
    base.sides.finishRun(run, nowIso(), false, null, [o.signal?.aborted ? 'interrupted' : describeFailure(e)]);
    throw e;
  } finally {
    if (poolPromise) await (await poolPromise).close();
  }
}

/** The context of a sync before it knows its epoch. */
type Base = Omit<SyncContext, 'me' | 'epoch' | 'pairs' | 'hashed'>;

/** One round in one epoch: every pair's side, then partner work, then results. */
async function syncOnce(base: Base, store: Store): Promise<SyncReport> {
  const { agency, client, sides, log, warn, signal } = base;
  signal?.throwIfAborted();
  const listed = await openEpoch(client, store, agency);
  const epoch = listed.epoch.id;
  const pairs = new Map<string, PairCrypto>();
  const ctx: SyncContext = { ...base, me: { ...listed, pairs: [] }, epoch, pairs, hashed: listed.pairs.length > 1 ? new Map() : undefined };
  log(`sync: agency ${agency.agency}, epoch ${epoch}, ${listed.pairs.length} pair(s)`);
  if (!sides.hasImported()) warn('sync: warning: no watchlist has been imported yet (concordat import); sides hold only canaries');
  // A pair's data of an older epoch goes once its current side has sent its handle links (links.ts);
  // pairs that left every valid agreement go at once. Older partner tokens stay while a query is open.
  sides.purgeOtherEpochs(epoch, listed.pairs.map((p) => p.pair));

  const summaries: PairSyncSummary[] = [];
  const errors: string[] = [];
  let unavailable = 0;
  const partnerChunks = new Map<string, number | null>();
  const today = nowIso().slice(0, 10);
  for (const listedPair of listed.pairs) {
    signal?.throwIfAborted();
    const s = emptySummary(listedPair);
    summaries.push(s);
    try {
      const gate = await gatePair(ctx, listedPair, today);
      if (!gate.ok) {
        s.skipped = gate.message;
        if (gate.skipped) warn(`sync: warning: pair ${listedPair.pair} skipped: ${gate.message}`);
        else {
          s.error = gate.message;
          errors.push(`pair ${listedPair.pair}: ${gate.message}`);
          warn(`sync: !!! PAIR REFUSED ${listedPair.pair}: ${gate.message}`);
        }
        continue;
      }
      const p = gate.pair;
      pairs.set(p.pair, gate.crypto);
      ctx.me.pairs.push(p);
      s.mode = p.mode;
      await withEpochKey(ctx, [p.pair], () => syncSide(ctx, p, s, partnerChunks));
    } catch (e) {
      if (endsSync(e)) throw e;
      if (isCoordinatorUnavailable(e)) unavailable++;
      s.error = e instanceof Error ? e.message : String(e);
      errors.push(`pair ${listedPair.pair}: ${s.error}`);
      warn(`sync: ERROR pair ${listedPair.pair}: ${s.error}`);
    }
  }

  sides.pruneChanges(epoch);
  let tokenized = 0;
  try {
    tokenized = await withEpochKey(ctx, [...pairs.keys()], () => doPartnerWork(ctx, partnerChunks, summaries, errors));
  } catch (e) {
    if (endsSync(e)) throw e;
    if (isCoordinatorUnavailable(e)) unavailable++;
    const msg = e instanceof Error ? e.message : String(e);
    errors.push(`partner work: ${msg}`);
    warn(`sync: ERROR partner work: ${msg}`);
  }

  const failedPairs = reportPairs(summaries, await pullSyncResults(ctx, store), log, warn);
  const auditLog = await checkSyncAuditLog(ctx, errors, () => unavailable++);
  const report: SyncReport = { epoch, pairs: summaries, partnerChunksTokenized: tokenized, failedPairs, errors, auditLogFailed: auditLog instanceof AuditLogError };
  if (errors.length > 0 && unavailable === errors.length) report.unavailable = true;
  return report;
}

/**
 * One pair's side. `partnerChunks` gets the partner's chunk count as soon as
 * the pair's status is known, so the partner work can use it even when a
 * later step of this pair fails.
 */
async function syncSide(ctx: SyncContext, p: MePair, s: PairSyncSummary, partnerChunks: Map<string, number | null>): Promise<void> {
  // Nothing is sent before the delta and its blinded chunks are committed.
  const outbox = await ctx.sides.immediate(() => commitDelta(ctx, p, computeDelta(ctx, p, s)));
  const status = await ctx.client.status(p.pair);
  partnerChunks.set(p.pair, status.state === 'failed' ? null : status.partner.chunks);
  await uploadChunks(ctx, p, status, outbox.chunks, s);
  await sendLinks(ctx, p, s);
  await sendRemovals(ctx, p, status, outbox.removals, s);
  await registerCanaries(ctx, p, status, s);
  s.live = ctx.sides.liveCount(p.pair, ctx.epoch);
}
