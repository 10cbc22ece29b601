// Retention (src/API.md, "Audit export and retention"): run hourly by
// `coordinator serve` and on demand (`POST /v1/admin/purge`).
// - Pair data of an epoch that ended more than retention.dataDays ago (never
//   the current epoch; with dataDays null, only completion in the next epoch
//   purges it, see src/epochs.ts).
// - Blinded and evaluated elements of targeted queries older than the
//   seven-day lifetime of a query leg; the query's record and hits stay.
// - Quota counters of past days.
// - Audit entries older than retention.auditDays, leaving a checkpoint the
//   appended `retention.purged` entry records (src/audit.ts).
import { checkpointDetail, RETENTION_PURGED } from './audit.js';
import type { Services } from './context.js';
import { epochBefore, purgePairEpochs } from './epochs.js';
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

  if (retention.dataDays !== null) {
    const all = await svc.store.listEpochs();
    const current = all.at(-1)?.id as string;
    const cutoff = new Date(now.getTime() - retention.dataDays * DAY_MS).toISOString();
    // An epoch ends when the next one starts.
    const expired = new Set(all.slice(0, -1).filter((_, i) => (all[i + 1]?.startedAt ?? at) <= cutoff).map((e) => e.id));
    if (expired.size > 0) {
      const previous = epochBefore(all, current);
      const carry = previous !== undefined && !expired.has(previous) ? previous : undefined;
      for (const pair of await svc.store.listPairs()) {
        const ps = svc.store.pair(pair.id);
        const held = await ps.dataEpochs();
        const bulk = held.bulk.filter((e) => expired.has(e));
        if (bulk.length === 0 && !held.carried.some((e) => e !== carry)) continue;
        const c = await purgePairEpochs(svc, pair.id, ps, bulk, carry, 'retention');
        counts.pairEpochs += bulk.length;
        counts.chunks += c.chunks;
        counts.tokens += c.tokens;
        counts.removals += c.removals;
        counts.canaries += c.canaries;
        counts.matches += c.matches;
        counts.links += c.links;
      }
    }
  }

  counts.queryValues = await svc.store.purgeQueryValues(new Date(now.getTime() - QUERY_LEG_TTL_MS).toISOString());
  counts.quotaCounters = await svc.store.purgeQuotaCounters(todayUTC(now));

  const auditCutoff = new Date(now.getTime() - retention.auditDays * DAY_MS).toISOString();
  await svc.store.purgeAudit(auditCutoff, at, (removed, checkpoint) => {
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
        dataDays: retention.dataDays,
        auditDays: retention.auditDays,
      },
    };
  });
  return counts;
}
