// Epochs: keys are stable within an epoch; rotation (by the admin, or every
// epochs.rotateDays by the maintenance tick) starts e2, e3, … and the
// previous epoch's pair data is purged once the pair is complete in the new
// epoch (or retention.dataDays after the epoch ended). Every per-pair row
// carries its epoch.
import type { Services } from './context.js';
import type { EpochRecord, PairStore, PurgeCounts } from './store/types.js';

export const FIRST_EPOCH = 'e1';

const DAY_MS = 86_400_000;

/**
 * Scheduled rotation (src/API.md, "Epochs"): start the next epoch once the
 * current one is `epochs.rotateDays` old, audited `epoch.rotated` by the
 * coordinator. Run by every maintenance tick; the age check is part of the
 * inserting statement, so ticks racing on two processes or isolates rotate
 * once. Returns the new epoch, or undefined when none was due (or rotation is
 * off: `rotateDays` 0 or null).
 */
export async function rotateIfDue(svc: Services): Promise<EpochRecord | undefined> {
  const { epochs } = await svc.store.getConfig();
  const days = epochs.rotateDays;
  if (days === null || days <= 0) return undefined;
  const now = svc.now();
  const startedBy = new Date(now.getTime() - days * DAY_MS).toISOString();
  const r = await svc.store.rotateEpochIfStartedBy(startedBy, now.toISOString());
  if (!r) return undefined;
  await svc.audit({ actor: 'coordinator', action: 'epoch.rotated', subject: r.epoch.id, detail: { previous: r.previous, startedAt: r.epoch.startedAt, rotateDays: days } });
  return r.epoch;
}

/** The epoch right before `current` in `all` (oldest first). */
export function epochBefore(all: readonly EpochRecord[], current: string): string | undefined {
  const i = all.findIndex((e) => e.id === current);
  return i > 0 ? all[i - 1]?.id : undefined;
}

export function purgeCountsDetail(c: PurgeCounts) {
  return { epochs: c.epochs, chunks: c.chunks, tokens: c.tokens, removals: c.removals, canaries: c.canaries, matches: c.matches, links: c.links };
}

/**
 * Purge a pair's data of `epochs` (carrying the matches of the epoch right
 * before the current one as positions and handles, for links still to come)
 * and audit it as `epoch.purged`.
 */
export async function purgePairEpochs(
  svc: Services,
  pairId: string,
  ps: PairStore,
  epochs: readonly string[],
  carry: string | undefined,
  reason: 'complete' | 'retention',
): Promise<PurgeCounts> {
  const counts = await ps.purgeEpochs(epochs, carry);
  if (epochs.length > 0) {
    await svc.audit({ actor: 'coordinator', action: 'epoch.purged', subject: pairId, detail: { reason, ...purgeCountsDetail(counts) } });
  }
  return counts;
}

/** On a pair's transition to complete in `current`: drop what older epochs left behind. */
export async function purgeBehind(svc: Services, pairId: string, ps: PairStore, current: string): Promise<void> {
  const all = await svc.store.listEpochs();
  const seqOf = new Map(all.map((e, i) => [e.id, i]));
  const now = seqOf.get(current) ?? all.length;
  const previous = epochBefore(all, current);
  const held = await ps.dataEpochs();
  const older = held.bulk.filter((e) => (seqOf.get(e) ?? 0) < now);
  const staleCarry = held.carried.some((e) => e !== previous);
  if (older.length > 0 || staleCarry) await purgePairEpochs(svc, pairId, ps, older, previous, 'complete');
}
