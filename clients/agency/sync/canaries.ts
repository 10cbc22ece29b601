// Phase 5 of a pair's sync: registers the expected canary tokens
// Token(r_j·K_partner) of every chunk not yet covered — every chunk carries
// its own canaries, on every night (protocol/SPEC.md §1.6, §3.1 steps 2 and
// 4) — and then tells the coordinator with `canaries/done`, which covers the
// chunks the side holds at that moment. The tokens are computed with the
// partner key whose signed statement accept.ts verified under the partner's
// pinned signing key (§8.7), never a key the coordinator merely relays. The
// key they were computed with is kept: a targeted query's proof must be
// checked against that same key, and a partner that publishes another one
// mid-epoch is refused.
import { bytesToHex } from '../../../protocol/bytes.js';
import { CONCORDAT_SUITE } from '../../../protocol/constants.js';
import { MAX_CANARIES_PER_CALL } from '../../../wire/limits.js';
import type { MePair, PairStatus } from '../../sdk/api.js';
import { AgencyError } from '../../sdk/errors.js';
import { pairCrypto, type SyncContext } from './context.js';
import type { PairSyncSummary } from './report.js';

export async function registerCanaries(ctx: SyncContext, p: MePair, status: PairStatus, s: PairSyncSummary): Promise<void> {
  const side = ctx.sides.side(p.pair, ctx.epoch);
  if (!side) return;
  // `status` was read before this sync's upload: chunks 0..covered−1 were covered at the coordinator then.
  // A chunk covered there but not marked here (a sync interrupted after `canaries/done`) is only marked.
  const covered = status.mine.canaryChunks;
  const awaiting = ctx.sides.chunksAwaitingCanaries(p.pair, ctx.epoch);
  const coveredThere = awaiting.filter((idx) => idx < covered);
  if (coveredThere.length > 0) ctx.sides.markCanariesRegistered(p.pair, ctx.epoch, coveredThere);
  // The coordinator not covering a chunk marked here (a record from before every chunk carried canaries)
  // is repaired by registering those chunks again: registration is idempotent.
  const pending = status.mine.canariesRegistered
    ? awaiting.filter((idx) => idx >= covered)
    : ctx.sides.chunks(p.pair, ctx.epoch).map((c) => c.index).filter((idx) => idx >= covered);
  if (pending.length === 0) {
    s.canariesRegistered = true;
    return;
  }
  const verified = pairCrypto(ctx, p.pair).partnerKey;
  if (verified === null) {
    s.waitingForPartnerKey = true;
    return;
  }
  const partnerKey = bytesToHex(verified);
  if (side.canaryPartnerKey !== null && side.canaryPartnerKey !== partnerKey) {
    throw new AgencyError(`the partner ${p.partner} published another epoch key for epoch ${ctx.epoch} than the one seen before`);
  }
  ctx.sides.setCanaryPartnerKey(p.pair, ctx.epoch, partnerKey);
  const K = verified;
  // Token(r·K) is the engine's tokenize of K under r (protocol/token.ts canaryFromScalar;
  // test/engine-native.test.ts): the native engine instead of pure JS, ≈1.5 ms saved per canary.
  const pool = await ctx.pool();
  const rows = ctx.sides.canaryScalars(p.pair, ctx.epoch, pending);
  const tokens = await Promise.all(rows.map((row) => pool.tokenize(CONCORDAT_SUITE, new Uint8Array(row.r), K, { label: 'partnerKey' })));
  const canaries = rows.map((row, i) => ({ position: row.position, token: bytesToHex(tokens[i] as Uint8Array) }));
  for (let i = 0; i < canaries.length; i += MAX_CANARIES_PER_CALL) {
    await ctx.client.putCanaries(p.pair, canaries.slice(i, i + MAX_CANARIES_PER_CALL), ctx.epoch);
  }
  // Every chunk is uploaded by now (upload.ts), so `done` covers each one registered above.
  await ctx.client.canariesDone(p.pair, ctx.epoch);
  ctx.sides.markCanariesRegistered(p.pair, ctx.epoch, pending);
  s.canariesRegistered = true;
  s.canariesRegisteredNow = true;
  s.canaryChunksRegistered = pending.length;
}
