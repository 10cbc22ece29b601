// Phase 1 of a pair's sync: what changed since the side was last built
// (protocol/SPEC.md §3.1 step 6). The watchlist, restricted to the
// agreement's kinds, is diffed against the side's live positions: identifiers
// no longer listed are withdrawn, those without a live position are staged as
// additions. Runs inside the transaction that commits the delta (blind.ts),
// so a diff is never stored without its blinded chunks.
import type { MePair } from '../../sdk/api.js';
import type { SyncContext } from './context.js';
import type { PairSyncSummary } from './report.js';

export interface Delta {
  /** The side did not exist in this epoch yet: it is built now, with canaries. */
  firstBuild: boolean;
  /** Identifiers staged for new positions (`temp.additions`, numbered 0..added-1). */
  added: number;
  /** Canaries to plant: some on a first build, none later. */
  canaries: number;
  /** Positions withdrawn by this delta (their removal is sent by the upload). */
  withdrawn: number;
}

export function computeDelta(ctx: SyncContext, p: MePair, s: PairSyncSummary): Delta {
  const firstBuild = ctx.sides.side(p.pair, ctx.epoch) === undefined;
  const withdrawn = ctx.sides.withdraw(p.pair, ctx.epoch, p.kinds);
  s.withdrawn = withdrawn;
  const added = ctx.sides.stageAdditions(p.pair, ctx.epoch, p.kinds);
  const canaries = firstBuild ? ctx.canaryCount() : 0;
  s.added = added;
  s.canaries = canaries;
  return { firstBuild, added, canaries, withdrawn };
}
