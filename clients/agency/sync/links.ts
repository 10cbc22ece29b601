// Phase 4 of a pair's sync: handle continuity across an epoch rotation
// (src/API.md, "Epochs"). Once every chunk of the new side is uploaded, a
// reveal pair tells the coordinator which previous-epoch position each
// previously matched identifier held, so the new-epoch match of the same two
// identifiers keeps its handle, first sighting and hit status. Only matched
// positions are linked: the coordinator learns nothing about the rest. Then
// the pair's older positions and chunks are dropped (partner tokens go with
// the purge at the start of the next sync).
import type { MePair } from '../../sdk/api.js';
import { CoordinatorError, isEpochKeyRequired, isStaleEpoch } from '../../sdk/errors.js';
import type { SyncContext } from './context.js';
import type { PairSyncSummary } from './report.js';

/** src/API.md sets no limit per links call; this keeps one request well under the body limit. */
const LINKS_PER_CALL = 100_000;

/** Runs once uploadChunks (upload.ts) has returned, i.e. with the whole side uploaded. */
export async function sendLinks(ctx: SyncContext, p: MePair, s: PairSyncSummary): Promise<void> {
  const side = ctx.sides.side(p.pair, ctx.epoch);
  if (!side || side.linksSent) return;
  const previous = ctx.sides.matchedEpochsBefore(p.pair, ctx.epoch);
  const previousEpoch = previous.length === 1 ? previous[0] : undefined;
  if (p.mode === 'reveal' && previousEpoch !== undefined) {
    const links = ctx.sides.linksTo(p.pair, ctx.epoch, previousEpoch);
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
  ctx.sides.finishLinks(p.pair, ctx.epoch);
}
