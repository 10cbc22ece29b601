// After the partner work: pulls the results (GET /v1/results, as `concordat
// results` does) and the status of every hit (GET /v1/hits), shown next to the
// matches. A failed hit-status pull only warns: the results are complete
// without it.
import type { Store } from '../../store/db.js';
import { endsSync } from '../../sdk/errors.js';
import { pullHitStatuses } from '../hits.js';
import { pullResults, type PairPull } from '../results.js';
import type { SyncContext } from './context.js';

export async function pullSyncResults(ctx: SyncContext, store: Store): Promise<PairPull[]> {
  const pulled = await pullResults(ctx.client, store);
  try {
    await pullHitStatuses(ctx.client, store);
  } catch (e) {
    if (endsSync(e)) throw e;
    ctx.warn(`sync: warning: could not refresh hit statuses (${e instanceof Error ? e.message : String(e)})`);
  }
  return pulled.pairs;
}
