// Phase 3 of a pair's sync: sends the outbox the delta committed, each chunk
// with this agency's signature over its `chunk` manifest (protocol/SPEC.md
// §8.8), so the partner tokenises only what this agency uploaded. Chunks go
// up in index order, skipping those the coordinator already holds with the
// same SHA-256 (GET …/status); withdrawn positions follow as removals
// (src/API.md, "Agency: own side of a pair"). Both requests are idempotent, so
// an interrupted upload is resumed by sending the same bytes again.
import type { MePair, PairStatus } from '../../sdk/api.js';
import { AgencyError, ChunkConflictError, CoordinatorError } from '../../sdk/errors.js';
import { chunkManifest, signChunk } from '../../../protocol/manifest.js';
import { pairCrypto, type SyncContext } from './context.js';
import type { PairSyncSummary } from './report.js';
import type { LocalChunk } from './store.js';

/** src/API.md: at most 1,000,000 positions per removals call; this stays well under it. */
const REMOVALS_PER_CALL = 100_000;

/** Uploads every chunk of `chunks` the coordinator lacks; on return the whole side is uploaded. */
export async function uploadChunks(ctx: SyncContext, p: MePair, status: PairStatus, chunks: readonly LocalChunk[], s: PairSyncSummary): Promise<void> {
  const remote = new Map(status.mine.chunks.map((c) => [c.index, c]));
  const extra = status.mine.chunks.filter((c) => !chunks.some((l) => l.index === c.index));
  if (extra.length > 0) {
    throw new AgencyError(
      `the coordinator holds ${status.mine.chunks.length} chunk(s) of this agency's side but the local store knows only ${chunks.length}; ` +
        'the local store is not the one that uploaded them (restored from an older backup?)',
    );
  }
  const pending: LocalChunk[] = [];
  for (const c of chunks) {
    const r = remote.get(c.index);
    if (r) {
      if (r.sha256 !== c.sha256 || r.count !== c.count) throw new ChunkConflictError(p.pair, c.index, 'chunk', conflictFromStatus(p.pair, c.index));
      if (!c.uploaded) ctx.sides.markUploaded(p.pair, ctx.epoch, c.index);
    } else pending.push(c);
  }
  if (pending.length === 0) return;
  const bar = ctx.progress('uploading', pending.reduce((a, c) => a + c.count, 0));
  let sent = 0;
  try {
    for (const c of pending) {
      const data = ctx.sides.chunkData(p.pair, ctx.epoch, c.index);
      ctx.signal?.throwIfAborted();
      const manifest = chunkManifest(
        { pair: p.pair, agreement: pairCrypto(ctx, p.pair).ref, epoch: ctx.epoch, agency: ctx.agency.agency, index: c.index, firstPosition: c.firstPosition },
        data,
      );
      await ctx.client.putChunk(p.pair, c.index, data, ctx.epoch, signChunk(manifest, ctx.agency.signingKey));
      ctx.sides.markUploaded(p.pair, ctx.epoch, c.index);
      s.chunksUploaded++;
      sent += c.count;
      bar.update(sent);
    }
  } finally {
    bar.stop();
  }
}

/** The status lists a chunk with other bytes than the local one: the same conflict a PUT would have met. */
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

/** Sends the outbox's removals, or every removal again when the coordinator knows fewer than were sent (removals are idempotent). */
export async function sendRemovals(ctx: SyncContext, p: MePair, status: PairStatus, removals: readonly number[], s: PairSyncSummary): Promise<void> {
  const resendAll = status.mine.removed < ctx.sides.removalsSent(p.pair, ctx.epoch);
  const positions = resendAll ? ctx.sides.removals(p.pair, ctx.epoch, true) : removals;
  for (let i = 0; i < positions.length; i += REMOVALS_PER_CALL) {
    const batch = positions.slice(i, i + REMOVALS_PER_CALL);
    await ctx.client.postRemovals(p.pair, batch, ctx.epoch);
    ctx.sides.markRemovalsSent(p.pair, ctx.epoch, batch);
    s.removalsSent += batch.length;
  }
}
