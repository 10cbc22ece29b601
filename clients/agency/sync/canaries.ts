// Phase 5 of a pair's sync: registers the expected canary tokens
// Token(r_j·K_partner) once the partner's epoch key is published
// (protocol/SPEC.md §3.1 steps 2 and 4), with the partner key whose signed
// statement accept.ts verified under the partner's pinned signing key
// (§8.7), never a key the coordinator merely relays. The key they were computed with is
// kept: a targeted query's proof must be checked against that same key, and a
// partner that publishes another one mid-epoch is refused.
import { bytesToHex } from '../../../protocol/bytes.js';
import { CONCORDAT_SUITE } from '../../../protocol/constants.js';
import { canaryFromScalar } from '../../../protocol/token.js';
import type { MePair, PairStatus } from '../../sdk/api.js';
import { AgencyError } from '../../sdk/errors.js';
import { pairCrypto, type SyncContext } from './context.js';
import type { PairSyncSummary } from './report.js';

export async function registerCanaries(ctx: SyncContext, p: MePair, status: PairStatus, s: PairSyncSummary): Promise<void> {
  const side = ctx.sides.side(p.pair, ctx.epoch);
  if (!side) return;
  if (status.mine.canariesRegistered) {
    if (!side.canariesRegistered) ctx.sides.markCanariesRegistered(p.pair, ctx.epoch);
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
  const canaries = ctx.sides.canaryScalars(p.pair, ctx.epoch).map((row) => ({
    position: row.position,
    token: bytesToHex(canaryFromScalar(CONCORDAT_SUITE, new Uint8Array(row.r), K).expectedToken),
  }));
  if (canaries.length > 0) await ctx.client.putCanaries(p.pair, canaries, ctx.epoch);
  await ctx.client.canariesDone(p.pair, ctx.epoch);
  ctx.sides.markCanariesRegistered(p.pair, ctx.epoch);
  s.canariesRegistered = true;
  s.canariesRegisteredNow = true;
}
