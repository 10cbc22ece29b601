// Phase 1 of a pair's sync: what changed since the side was last built
// (protocol/SPEC.md §3.1 step 6). The watchlist, restricted to the
// agreement's kinds, is diffed against the side's live positions: identifiers
// no longer listed are withdrawn, those without a live position are staged as
// additions. Runs inside the transaction that commits the delta (blind.ts),
// so a diff is never stored without its blinded chunks. The additions are cut
// into chunks here, each with its own canaries (protocol/SPEC.md §1.6): every
// night's upload carries canaries, not only a side's first build.
import { planChunks, type PlannedChunk } from '../../../protocol/canary.js';
import type { MePair } from '../../sdk/api.js';
import type { SyncContext } from './context.js';
import type { PairSyncSummary } from './report.js';

export interface Delta {
  /** The side did not exist in this epoch yet: it is built now (one canary-only chunk if it has no identifiers). */
  firstBuild: boolean;
  /** Identifiers staged for new positions (`temp.additions`, numbered 0..added-1). */
  added: number;
  /** The new chunks in index order: how many additions and canaries each holds (none when nothing was added). */
  chunks: PlannedChunk[];
  /** Canaries to plant, over all new chunks. */
  canaries: number;
  /** Positions withdrawn by this delta (their removal is sent by the upload). */
  withdrawn: number;
  /** The last watchlist change (identifier_changes.seq) this delta took into account: the side's next watermark. */
  seq: number;
}

export function computeDelta(ctx: SyncContext, p: MePair, s: PairSyncSummary): Delta {
  const firstBuild = ctx.sides.side(p.pair, ctx.epoch) === undefined;
  // The watchlist's changelog position this delta accounts for, read in the delta's transaction.
  const seq = ctx.sides.changeSeq();
  // With the kinds the side was last diffed for, only the watchlist's changes since matter.
  const since = firstBuild ? undefined : ctx.sides.deltaWatermark(p.pair, ctx.epoch, p.kinds);
  const withdrawn = since === undefined ? ctx.sides.withdraw(p.pair, ctx.epoch, p.kinds) : ctx.sides.withdrawChanged(p.pair, ctx.epoch, p.kinds, since);
  s.withdrawn = withdrawn;
  const added = since === undefined ? ctx.sides.stageAdditions(p.pair, ctx.epoch, p.kinds) : ctx.sides.stageChangedAdditions(p.pair, ctx.epoch, p.kinds, since);
  const chunks = planChunks(added, ctx.chunkElements, firstBuild, ctx.canaryCount);
  const canaries = chunks.reduce((n, c) => n + c.canaries, 0);
  s.added = added;
  s.canaries = canaries;
  return { firstBuild, added, chunks, canaries, withdrawn, seq };
}
