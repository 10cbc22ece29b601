// Results per pair, released only for complete pairs: in `reveal` mode the
// caller's own matched positions with their handles, in `count` mode only the
// number of matched pairs, from the pair's count snapshot (protocol/SPEC.md
// §3.3): a new count is taken at most once per snapshot interval and only
// after the minimum churn, so withdrawing one position and re-reading shows
// nothing. Never the partner's positions.
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { getResults, type pairResultSchema, type resultsResponse } from '../../../wire/index.js';
import { snapshotMinChurn } from '../../config.js';
import type { AgencyRecord } from '../../store/types.js';
import type { AppEnv, Services } from '../../context.js';
import { activePairsOf, auditEntry, contextFor, refreshPairState, settlePair, type PairContext } from '../../pairs.js';
import { mount } from '../mount.js';
import { basisTag, conditionalJson } from './etag.js';

type PairResult = z.infer<typeof pairResultSchema>;

const HOUR_MS = 3_600_000;

/** The count snapshot in force for a complete count pair, taking a new one when it is due (audited `pair.count_snapshot`). */
async function releasedCount(svc: Services, ctx: PairContext): Promise<{ count: number; takenAt: string } | undefined> {
  const { probing } = await svc.store.getConfig();
  const now = svc.now();
  const minChurn = snapshotMinChurn(probing, ctx.agreement.maxSetSize);
  // The snapshot and its audit entry commit together; settlePair appends the entry to the chain.
  const r = await ctx.ps.takeCountSnapshot(
    ctx.epoch.id,
    { takenBefore: new Date(now.getTime() - probing.snapshotHours * HOUR_MS).toISOString(), minChurn, at: now.toISOString() },
    auditEntry(svc, { actor: 'coordinator', action: 'pair.count_snapshot', subject: ctx.pair.id, detail: { epoch: ctx.epoch.id, minChurn } }),
  );
  if (r.taken) await settlePair(svc, ctx);
  return r.snapshot ? { count: r.snapshot.count, takenAt: r.snapshot.takenAt } : undefined;
}

export function resultsRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, getResults, async (c) => {
    const me = c.get('caller').agency as AgencyRecord;
    const epoch = await svc.store.currentEpoch();
    const out: PairResult[] = [];
    // The matches of a released reveal pair are read only for a 200; its revision, read first, stands for them in the tag.
    const reveal: { r: PairResult; ctx: PairContext }[] = [];
    const basis: unknown[] = [epoch.id];
    let released = 0;
    for (const { pair, agreement } of await activePairsOf(svc, me.id)) {
      const ctx = contextFor(svc, pair, agreement, epoch, me.id);
      const { state } = await refreshPairState(svc, ctx);
      const r: PairResult = { pair: pair.id, agreement: agreement.id, partner: ctx.partner, mode: agreement.mode, state: state.state };
      if (state.reason) r.reason = state.reason;
      // The pair's part of the tag: its entry, and for a released reveal pair the revision standing for its matches.
      let entry: unknown = r;
      if (state.state === 'complete') {
        if (agreement.mode === 'reveal') {
          released++;
          reveal.push({ r, ctx });
          entry = [r, ctx.side, await ctx.ps.matchRevision(epoch.id)];
        } else {
          const snap = await releasedCount(svc, ctx);
          // Undefined only if the pair stopped being complete between the two reads: nothing is released.
          if (snap) {
            released++;
            r.count = snap.count;
            r.countTakenAt = snap.takenAt;
          }
        }
      }
      basis.push(entry);
      out.push(r);
    }
    await svc.audit({ actor: me.id, action: 'results.served', subject: me.id, detail: { epoch: epoch.id, pairs: out.length, released } });
    // Audited above either way: a 304 serves the same document the caller already holds.
    return await conditionalJson(c, await basisTag('results', basis), async () => {
      for (const { r, ctx } of reveal) r.matches = await ctx.ps.listMatches(epoch.id, ctx.side);
      return { epoch: epoch.id, pairs: out } satisfies z.infer<typeof resultsResponse>;
    });
  });

  return app;
}
