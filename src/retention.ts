// Retention (src/API.md, "Audit export and retention"): run hourly by
// `coordinator serve` and the Workers cron (src/maintenance.ts) and on demand
// (`POST /v1/admin/purge`).
// - Every epoch's data of a pair no longer in force (its agreement's validity
//   ended, or it was superseded by a version without both parties), and of a
//   pair neither side uploaded anything to for retention.idleDays: audited
//   `pair.purged` with the reason. Hits are control-plane rows and stay.
// - Pair data of an epoch that ended more than retention.dataDays ago (never
//   the current epoch; with dataDays null, only completion in the next epoch
//   purges it, see src/epochs.ts). The matches of the epoch right before the
//   current one are kept as positions and handles, for links still to come.
// - Blinded and evaluated elements of targeted queries older than the
//   seven-day lifetime of a query leg; the query's record and hits stay.
// - Quota counters of past days.
// - Audit entries older than retention.auditDays, leaving a checkpoint the
//   appended `retention.purged` entry records (src/audit.ts).
import { checkpointDetail, RETENTION_PURGED } from './audit.js';
import type { Services } from './context.js';
import { signHead } from './tlog.js';
import { epochBefore, purgeCountsDetail, purgePairEpochs } from './epochs.js';
import { pairInForce } from './pairs.js';
import type { PurgeCounts } from './store/types.js';
import { todayUTC } from './validation.js';

const DAY_MS = 86_400_000;
/** A pending leg expires after this; its values are no use afterwards. */
export const QUERY_LEG_TTL_MS = 7 * DAY_MS;

export interface PurgedCounts {
  /** Pair epochs whose bulk data was removed. */
  pairEpochs: number;
  chunks: number;
  tokens: number;
  removals: number;
  canaries: number;
  matches: number;
  links: number;
  /** Queries whose blinded and evaluated elements were removed. */
  queryValues: number;
  quotaCounters: number;
  auditEntries: number;
}

export async function purgeExpired(svc: Services, actor: 'admin' | 'coordinator'): Promise<PurgedCounts> {
  const now = svc.now();
  const at = now.toISOString();
  const { retention } = await svc.store.getConfig();
  const counts: PurgedCounts = { pairEpochs: 0, chunks: 0, tokens: 0, removals: 0, canaries: 0, matches: 0, links: 0, queryValues: 0, quotaCounters: 0, auditEntries: 0 };
  const add = (c: PurgeCounts) => {
    counts.pairEpochs += c.epochs.length;
    counts.chunks += c.chunks;
    counts.tokens += c.tokens;
    counts.removals += c.removals;
    counts.canaries += c.canaries;
    counts.matches += c.matches;
    counts.links += c.links;
  };

  const all = await svc.store.listEpochs();
  const current = all.at(-1)?.id as string;
  // An epoch ends when the next one starts.
  const dataCutoff = retention.dataDays === null ? undefined : new Date(now.getTime() - retention.dataDays * DAY_MS).toISOString();
  const expired = new Set(dataCutoff === undefined ? [] : all.slice(0, -1).filter((_, i) => (all[i + 1]?.startedAt ?? at) <= dataCutoff).map((e) => e.id));
  // Its matches outlive its bulk data until the next rotation (src/API.md, "Epochs", handle continuity).
  const carry = epochBefore(all, current);
  const idleCutoff = retention.idleDays === null ? undefined : new Date(now.getTime() - retention.idleDays * DAY_MS).toISOString();
  const agreements = new Map<string, Awaited<ReturnType<typeof svc.store.getAgreement>>>();
  let pairsPurged = 0;
  for (const pair of await svc.store.listPairs()) {
    const ps = svc.store.pair(pair.id);
    const held = await ps.dataEpochs();
    if (held.bulk.length === 0 && held.carried.length === 0) continue;
    if (!agreements.has(pair.agreementId)) agreements.set(pair.agreementId, await svc.store.getAgreement(pair.agreementId));
    const agreement = agreements.get(pair.agreementId);
    const ended = !agreement || !pairInForce(pair, agreement, now);
    const last = ended || idleCutoff === undefined ? null : await ps.lastActivity();
    const idle = !ended && last !== null && idleCutoff !== undefined && last <= idleCutoff;
    if (ended || idle) {
      // Nothing of the pair is kept for continuity: a pair that resumes starts over, its hits stay.
      const c = await ps.purgeEpochs(held.bulk, undefined);
      add(c);
      pairsPurged++;
      await svc.audit({
        actor,
        action: 'pair.purged',
        subject: pair.id,
        detail: { reason: ended ? 'agreement-ended' : 'idle', ...(idle ? { lastUpload: last, idleDays: retention.idleDays } : {}), ...purgeCountsDetail(c) },
      });
      continue;
    }
    const bulk = held.bulk.filter((e) => expired.has(e));
    if (bulk.length === 0 && !held.carried.some((e) => e !== carry)) continue;
    add(await purgePairEpochs(svc, pair.id, ps, bulk, carry, 'retention'));
  }

  counts.queryValues = await svc.store.purgeQueryValues(new Date(now.getTime() - QUERY_LEG_TTL_MS).toISOString());
  counts.quotaCounters = await svc.store.purgeQuotaCounters(todayUTC(now));

  const auditCutoff = new Date(now.getTime() - retention.auditDays * DAY_MS).toISOString();
  const { entry: purged } = await svc.store.purgeAudit(auditCutoff, at, (removed, checkpoint) => {
    counts.auditEntries = removed;
    return {
      at,
      actor,
      action: RETENTION_PURGED,
      subject: 'coordinator',
      outcome: 'ok',
      detail: {
        ...counts,
        auditEntries: removed,
        auditCheckpoint: checkpointDetail(checkpoint),
        pairsPurged,
        dataDays: retention.dataDays,
        idleDays: retention.idleDays,
        auditDays: retention.auditDays,
      },
    };
  });
  // The checkpoint head (protocol/SPEC.md §9.5): the tree up to the purge's own entry, signed and kept.
  await signHead(svc.store, purged.seq, now);
  return counts;
}
