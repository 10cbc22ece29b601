// The coordinator's maintenance tick (src/API.md, "Epochs" and "Audit export
// and retention"): hourly inside `coordinator serve` (src/cli/serve.ts) and
// from the Workers cron trigger (src/worker.ts, wrangler.toml). It rotates the
// epoch when epochs.rotateDays have passed, then runs the retention purge.
// Ticks may overlap (two processes, two isolates): rotation is one
// conditional insert and every purge step is idempotent.
import { flushRefusalSummaries } from './auth.js';
import type { Services } from './context.js';
import { rotateIfDue } from './epochs.js';
import { purgeExpired, type PurgedCounts } from './retention.js';

export interface MaintenanceReport {
  /** The epoch the tick started, if one was due. */
  rotated: string | null;
  purged: PurgedCounts;
}

export async function maintenanceTick(svc: Services): Promise<MaintenanceReport> {
  // Refusals of past hours that were only counted (src/refusals.ts) become their summary entries.
  await flushRefusalSummaries(svc, svc.now());
  const rotated = await rotateIfDue(svc);
  const purged = await purgeExpired(svc, 'coordinator');
  return { rotated: rotated?.id ?? null, purged };
}
