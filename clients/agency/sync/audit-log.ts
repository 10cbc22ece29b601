// The last phase of a sync: check the coordinator's audit transparency log
// (clients/agency/transparency.ts; protocol/SPEC.md §9). A failed check is
// already in the local trail; here it becomes a `!!!` warning and an error of
// the sync's report (a non-zero exit). A coordinator that cannot be reached
// for it ends nothing: the check runs again at the next sync.
import { AuditLogError, isCoordinatorUnavailable, describeFailure, endsSync } from '../../sdk/errors.js';
import { checkAuditLog, type AuditLogCheck } from '../transparency.js';
import type { SyncContext } from './context.js';

export async function checkSyncAuditLog(ctx: SyncContext, errors: string[], onUnavailable: () => void = () => {}): Promise<AuditLogCheck | AuditLogError | undefined> {
  try {
    const r = await checkAuditLog(ctx.client, ctx.store, { shown: ctx.me.auditLog });
    ctx.log(`sync: audit log: head of ${r.head.head.size} entries verified${r.previous ? `, consistent with ${r.previous.head.size}` : ''}; ${r.verified} entr${r.verified === 1 ? 'y' : 'ies'} of this agency proved included`);
    return r;
  } catch (e) {
    if (e instanceof AuditLogError) {
      errors.push(`audit log: ${e.message}`);
      ctx.warn(`sync: !!! AUDIT LOG ${e.check.toUpperCase()} CHECK FAILED: ${e.message}`);
      return e;
    }
    if (endsSync(e)) throw e;
    if (isCoordinatorUnavailable(e)) onUnavailable();
    errors.push(`audit log: ${describeFailure(e)}`);
    ctx.warn(`sync: ERROR audit log check: ${describeFailure(e)}`);
    return undefined;
  }
}
