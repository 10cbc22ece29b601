// After every side: tokenises each partner chunk the coordinator hands out in
// GET /v1/work and keeps every token locally (partner_tokens): a targeted
// query's answer is checked against exactly these values (protocol/SPEC.md
// §3.1 step 3, §3.2). Chunks tokenised before this store kept tokens, or whose
// local copy is missing, are downloaded and tokenised again for the local copy
// only. Tokens are a deterministic function of the pair key and the chunk, so
// a rerun recomputes byte-identical tokens.
//
// Nothing is tokenised that the partner did not sign (protocol/SPEC.md §8.8,
// §5.3 item 1): each chunk's manifest must verify under the partner's pinned
// key and name this pair, the locally accepted agreement version, the current
// epoch, the partner, the index asked for, the position after the chunks
// before it, and the bytes downloaded; and no more positions than
// uploadCap(maxSetSize) (wire/limits.ts, the coordinator's per-epoch upload
// cap, protocol/SPEC.md §3.3) are tokenised per pair and epoch. A refusal
// fails the pair locally and is written to the audit trail; a partner
// uploading over PARTNER_CHURN_FACTOR × maxSetSize in an epoch is noted there.
import { bytesToHex, hexToBytes } from '../../../protocol/bytes.js';
import { CONCORDAT_SUITE } from '../../../protocol/constants.js';
import { checkChunk } from '../../../protocol/manifest.js';
import { epochNumber } from '../../../protocol/ratchet.js';
import { PARTNER_CHURN_FACTOR, uploadCap } from '../../../wire/limits.js';
import type { WorkTask } from '../../sdk/api.js';
import type { PartnerChunk } from '../../sdk/client.js';
import { CoordinatorError, StaleEpochError } from '../../sdk/errors.js';
import { appendAudit } from '../audit.js';
import { nowIso, pairCrypto, type SyncContext } from './context.js';
import type { PairSyncSummary } from './report.js';

/** Per pair, the partner's chunk count from GET …/status; null when the pair failed (its partner set is closed). */
export type PartnerChunkCounts = ReadonlyMap<string, number | null>;

interface PartnerJob {
  pair: string;
  index: number;
  /** Elements, as /v1/work or the local log announce them (for progress only: the manifest decides). */
  count?: number;
  /** The signature /v1/work lists for the chunk, used when the download carries none. */
  signature?: string;
  /** True for /v1/work tasks: the tokens go to the coordinator. False: only the local copy is missing. */
  upload: boolean;
}

/** Tokenises the partner chunks and returns how many /v1/work tasks it completed. */
export async function doPartnerWork(ctx: SyncContext, partnerChunks: PartnerChunkCounts, summaries: readonly PairSyncSummary[], errors: string[] = []): Promise<number> {
  const listed = await ctx.client.work();
  const current = epochNumber(ctx.epoch);
  const tasks: WorkTask[] = [];
  for (const t of listed) {
    let n: number;
    try {
      n = epochNumber(t.epoch);
    } catch {
      continue;
    }
    if (n > current) throw new StaleEpochError(`the coordinator hands out work of epoch ${t.epoch}, not ${ctx.epoch}`);
    if (n < current) {
      appendAudit(ctx.store, { officer: null, action: 'epoch.rollback_refused', subject: t.pair, outcome: 'refused', detail: { source: 'GET /v1/work', epoch: t.epoch, highest: ctx.epoch } });
      ctx.warn(`sync: the coordinator hands out work of ${t.epoch}, older than ${ctx.epoch} already seen: refusing (possible rollback)`);
      continue;
    }
    // Work of a pair this sync did not accept (not accepted here, expired, refused) is not done.
    if (ctx.pairs.has(t.pair)) tasks.push(t);
  }
  await dropWithdrawn(ctx, partnerChunks);
  const jobs = planJobs(ctx, tasks, partnerChunks);
  if (jobs.length === 0) return 0;
  const uploads = jobs.filter((j) => j.upload);
  let total = jobs.reduce((a, j) => a + (j.count ?? 0), 0);
  if (uploads.length > 0) ctx.log(`sync: tokenising ${uploads.length} partner chunk(s), ${uploads.reduce((a, j) => a + (j.count ?? 0), 0)} element(s)`);
  if (jobs.length > uploads.length) ctx.log(`sync: keeping a local copy of the tokens of ${jobs.length - uploads.length} partner chunk(s) tokenised earlier`);
  const pool = await ctx.pool();
  let bar = ctx.progress('tokenising', total);
  let tokenised = 0;
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
    const pr = ctx.client.getPartnerChunk(j.pair, j.index);
    pr.catch(() => {}); // Observed when awaited below; avoids an unhandled rejection meanwhile.
    return pr;
  };
  // The previous chunk's upload and local copy, still running while the next chunk is tokenised.
  let inFlight: { pair: string; index: number; firstPosition: number; count: number; chained: boolean; done: Promise<void> } | undefined;
  const settle = async (): Promise<void> => {
    const f = inFlight;
    inFlight = undefined;
    if (f) await f.done;
  };
  const finish = async (j: PartnerJob, checked: CheckedChunk, tokens: Uint8Array): Promise<void> => {
    if (j.upload) {
      try {
        await ctx.client.putTokens(j.pair, j.index, tokens, ctx.epoch);
      } catch (e) {
        if (await pairFailed(j.pair, e)) return;
        throw e;
      }
    }
    ctx.partners.keepTokens(j.pair, ctx.epoch, j.index, checked.count, checked.sha256, nowIso(), tokens);
    if (j.upload) {
      count++;
      const s = summaries.find((x) => x.pair === j.pair);
      if (s) s.partnerChunksTokenized++;
      notePartnerChurn(ctx, j.pair, j.index, checked.firstPosition, checked.count);
    }
  };
  /**
   * Where chunk `j` must start. The chunk before it may still be in flight
   * (not logged yet): its checked end is then the answer, exactly what the
   * log will say once it lands, so no chunk is checked less strictly.
   */
  const expectedFirst = async (j: PartnerJob): Promise<number | undefined> => {
    const f = inFlight;
    if (f && f.pair === j.pair && f.index === j.index - 1) return f.chained ? f.firstPosition + f.count : undefined;
    if (f && f.pair === j.pair) await settle();
    return ctx.partners.positionOf(j.pair, ctx.epoch, j.index);
  };
  // Download the next chunk while the current one is tokenised, and upload
  // each chunk's tokens while the next one is tokenised.
  let next = fetchJob(0);
  try {
    for (let i = 0; i < jobs.length; i++) {
      ctx.signal?.throwIfAborted();
      const j = jobs[i] as PartnerJob;
      const current = next;
      let chunk: PartnerChunk;
      try {
        if (failed.has(j.pair) || current === undefined) {
          next = fetchJob(i + 1);
          continue;
        }
        chunk = await current;
      } catch (e) {
        if (!(await pairFailed(j.pair, e))) throw e;
        next = fetchJob(i + 1);
        continue;
      }
      next = fetchJob(i + 1);
      const firstPosition = await expectedFirst(j);
      const checked = checkPartnerChunk(ctx, j, chunk, firstPosition);
      if (!checked.ok) {
        failed.add(j.pair);
        const msg = `partner chunk ${j.index} refused (${checked.reason}: ${checked.message}); nothing is tokenised for the pair`;
        const s = summaries.find((x) => x.pair === j.pair);
        if (s) s.error = msg;
        errors.push(`pair ${j.pair}: ${msg}`);
        ctx.warn(`sync: !!! PAIR REFUSED ${j.pair}: ${msg}`);
        continue;
      }
      if (checked.count !== (j.count ?? 0)) {
        // A chunk whose size was not known in advance (its local log was lost): the total grows to the signed count.
        total += checked.count - (j.count ?? 0);
        bar.stop();
        bar = ctx.progress('tokenising', total);
        bar.update(tokenised);
      }
      const base = tokenised;
      const tokens = await pool.tokenize(CONCORDAT_SUITE, pairCrypto(ctx, j.pair).key.sk, chunk.elements, { onProgress: (d) => bar.update(base + d), label: 'element' });
      tokenised += checked.count;
      bar.update(tokenised);
      await settle();
      // The previous chunk's upload may have found the pair failed.
      if (failed.has(j.pair)) continue;
      const done = finish(j, checked, tokens);
      done.catch(() => {}); // Observed by settle(); avoids an unhandled rejection meanwhile.
      inFlight = { pair: j.pair, index: j.index, firstPosition: checked.firstPosition, count: checked.count, chained: firstPosition !== undefined, done };
    }
    await settle();
  } finally {
    // An interrupted loop still lets the upload in flight land (or fail) before the sync returns, so
    // nothing writes to the store after it.
    await inFlight?.done.catch(() => {});
    bar.stop();
  }
  return count;
}

type CheckedChunk = { ok: true; firstPosition: number; count: number; sha256: string };

/**
 * Reads the positions each partner withdrew since the last sync
 * (GET …/partner-set/removals) and records them, so that the tokens kept for
 * them stop answering targeted queries: an identifier the partner withdrew is
 * no hit (protocol/SPEC.md §3.1 step 6, §3.2). A coordinator can withhold a
 * removal (the coordinator then refuses the hit's evidence, §8.11) or invent
 * one (a hit missed: denial of service, §5.3), nothing more.
 */
async function dropWithdrawn(ctx: SyncContext, partnerChunks: PartnerChunkCounts): Promise<void> {
  for (const pair of ctx.pairs.keys()) {
    if (partnerChunks.get(pair) === null) continue;
    let added = 0;
    for (;;) {
      ctx.signal?.throwIfAborted();
      const page = await ctx.client.partnerRemovals(pair, ctx.epoch, ctx.partners.removalsKnown(pair, ctx.epoch));
      if (page.epoch !== ctx.epoch) throw new StaleEpochError(`the coordinator lists removals of epoch ${page.epoch} for ${pair}, not ${ctx.epoch}`);
      const fresh = ctx.partners.recordRemovals(pair, ctx.epoch, page.positions, nowIso());
      added += fresh;
      // A page that adds nothing ends the loop, so a coordinator repeating itself cannot hold the sync.
      if (page.next === null || fresh === 0) break;
    }
    if (added > 0) ctx.log(`sync: ${pair}: ${added} position(s) withdrawn by the partner; their tokens no longer answer queries`);
  }
}

/**
 * checkChunk (protocol/manifest.ts) against what this agency expects, with the
 * manifest and signature relayed with the download (the signature /v1/work
 * listed when the download has none). A refusal is written to the local audit trail.
 */
function checkPartnerChunk(
  ctx: SyncContext,
  j: PartnerJob,
  chunk: PartnerChunk,
  firstPosition: number | undefined,
): CheckedChunk | { ok: false; reason: string; message: string } {
  const c = pairCrypto(ctx, j.pair);
  const partner = ctx.me.pairs.find((p) => p.pair === j.pair)?.partner ?? '';
  const sigHex = j.signature;
  const signature = chunk.signature ?? (sigHex && /^[0-9a-f]{128}$/.test(sigHex) ? hexToBytes(sigHex) : new Uint8Array(0));
  const r = checkChunk(
    { document: chunk.manifest, signature },
    {
      pair: j.pair,
      agreement: c.ref,
      epoch: ctx.epoch,
      agency: partner,
      signingKey: c.partnerSigningKey,
      index: j.index,
      ...(firstPosition !== undefined ? { firstPosition } : {}),
      maxPositions: uploadCap(c.terms.maxSetSize),
    },
    chunk.elements,
  );
  if (r.ok) return { ok: true, firstPosition: r.manifest.firstPosition, count: r.manifest.count, sha256: r.manifest.sha256 };
  appendAudit(ctx.store, {
    officer: null,
    action: r.reason === 'size' ? 'chunk.cap_exceeded' : 'chunk.refused',
    subject: j.pair,
    outcome: 'refused',
    detail: { reason: r.reason, index: j.index, epoch: ctx.epoch, partner, ...(r.reason === 'size' ? { cap: uploadCap(c.terms.maxSetSize) } : {}) },
  });
  return { ok: false, reason: r.reason === 'size' ? 'cap exceeded' : r.reason, message: r.message };
}

/**
 * The chunk whose tokens take the partner's uploads in the epoch past
 * PARTNER_CHURN_FACTOR × maxSetSize: far more than a set re-uploaded once, the
 * pattern of upload, read, withdraw, repeat (protocol/SPEC.md §3.3). Written
 * once per pair and epoch, when that chunk is tokenised.
 */
function notePartnerChurn(ctx: SyncContext, pair: string, index: number, firstPosition: number, count: number): void {
  const c = pairCrypto(ctx, pair);
  const threshold = Math.floor(PARTNER_CHURN_FACTOR * c.terms.maxSetSize);
  if (firstPosition > threshold || firstPosition + count <= threshold) return;
  const partner = ctx.me.pairs.find((p) => p.pair === pair)?.partner ?? '';
  appendAudit(ctx.store, {
    officer: null,
    action: 'pair.partner_churn',
    subject: pair,
    outcome: 'ok',
    detail: { epoch: ctx.epoch, partner, index, uploaded: firstPosition + count, threshold, maxSetSize: c.terms.maxSetSize },
  });
  ctx.warn(`sync: ${pair}: the partner has uploaded ${firstPosition + count} positions this epoch, over ${PARTNER_CHURN_FACTOR} × its maximum set size`);
}

/** Every /v1/work task of an accepted pair, then each partner chunk below the known count whose tokens are not kept locally. */
function planJobs(ctx: SyncContext, tasks: readonly WorkTask[], partnerChunks: PartnerChunkCounts): PartnerJob[] {
  const jobs: PartnerJob[] = [];
  const pairs = new Set([...ctx.me.pairs.map((p) => p.pair), ...tasks.map((t) => t.pair)].filter((p) => ctx.pairs.has(p)));
  for (const pair of pairs) {
    const mine = tasks.filter((t) => t.pair === pair);
    const known = partnerChunks.get(pair);
    if (known === null) continue;
    const n = Math.max(known ?? 0, ...mine.map((t) => t.index + 1));
    const local = ctx.partners.chunksKept(pair, ctx.epoch);
    for (let index = 0; index < n; index++) {
      const t = mine.find((x) => x.index === index);
      if (t) jobs.push({ pair, index, count: t.count, signature: t.signature, upload: true });
      else if (!local.has(index)) {
        const l = ctx.partners.loggedChunk(pair, ctx.epoch, index);
        jobs.push({ pair, index, ...(l ? { count: l.count } : {}), upload: false });
      }
    }
  }
  return jobs;
}
