// After every side: tokenises each partner chunk the coordinator hands out in
// GET /v1/work and keeps every token locally (partner_tokens): a targeted
// query's answer is checked against exactly these values (protocol/SPEC.md
// §3.1 step 3, §3.2). Chunks tokenised before this store kept tokens, or whose
// local copy is missing, are downloaded and tokenised again for the local copy
// only. Tokens are a deterministic function of the epoch key and the chunk, so
// a rerun recomputes byte-identical tokens.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '../../../protocol/bytes.js';
import { CONCORDAT_SUITE, ELEMENT_BYTES } from '../../../protocol/constants.js';
import type { WorkTask } from '../../sdk/api.js';
import { CoordinatorError, StaleEpochError } from '../../sdk/errors.js';
import { nowIso, type SyncContext } from './context.js';
import type { PairSyncSummary } from './report.js';

/** Per pair, the partner's chunk count from GET …/status; null when the pair failed (its partner set is closed). */
export type PartnerChunkCounts = ReadonlyMap<string, number | null>;

interface PartnerJob {
  pair: string;
  index: number;
  /** Count and digest when known (from /v1/work or the local log), checked on download. */
  expect?: { count: number; sha256: string };
  /** True for /v1/work tasks: the tokens go to the coordinator. False: only the local copy is missing. */
  upload: boolean;
}

/** Tokenises the partner chunks and returns how many /v1/work tasks it completed. */
export async function doPartnerWork(ctx: SyncContext, partnerChunks: PartnerChunkCounts, summaries: readonly PairSyncSummary[]): Promise<number> {
  const tasks = await ctx.client.work();
  const stale = tasks.find((t) => t.epoch !== undefined && t.epoch !== ctx.epoch);
  if (stale) throw new StaleEpochError(`the coordinator hands out work of epoch ${stale.epoch}, not ${ctx.epoch}`);
  const jobs = planJobs(ctx, tasks, partnerChunks);
  if (jobs.length === 0) return 0;
  const uploads = jobs.filter((j) => j.upload);
  const total = jobs.reduce((a, j) => a + (j.expect?.count ?? 0), 0);
  if (uploads.length > 0) ctx.log(`sync: tokenising ${uploads.length} partner chunk(s), ${uploads.reduce((a, j) => a + (j.expect?.count ?? 0), 0)} element(s)`);
  if (jobs.length > uploads.length) ctx.log(`sync: keeping a local copy of the tokens of ${jobs.length - uploads.length} partner chunk(s) tokenised earlier`);
  const pool = await ctx.pool();
  const bar = ctx.progress('tokenising', total);
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
      ctx.partners.keepTokens(j.pair, ctx.epoch, j.index, n, j.expect?.sha256 ?? bytesToHex(sha256(elements)), nowIso(), tokens);
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

/** Every /v1/work task, then each partner chunk below the known count whose tokens are not kept locally. */
function planJobs(ctx: SyncContext, tasks: readonly WorkTask[], partnerChunks: PartnerChunkCounts): PartnerJob[] {
  const jobs: PartnerJob[] = [];
  const pairs = new Set([...ctx.me.pairs.map((p) => p.pair), ...tasks.map((t) => t.pair)]);
  for (const pair of pairs) {
    const mine = tasks.filter((t) => t.pair === pair);
    const known = partnerChunks.get(pair);
    if (known === null) continue;
    const n = Math.max(known ?? 0, ...mine.map((t) => t.index + 1));
    const local = ctx.partners.chunksKept(pair, ctx.epoch);
    for (let index = 0; index < n; index++) {
      const t = mine.find((x) => x.index === index);
      if (t) jobs.push({ pair, index, expect: { count: t.count, sha256: t.sha256 }, upload: true });
      else if (!local.has(index)) {
        const l = ctx.partners.loggedChunk(pair, ctx.epoch, index);
        jobs.push({ pair, index, ...(l ? { expect: l } : {}), upload: false });
      }
    }
  }
  return jobs;
}
