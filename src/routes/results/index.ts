// Results per pair, released only for complete pairs: in `reveal` mode the
// caller's own matched positions with their handles, in `count` mode only the
// number of matched pairs. Never the partner's positions.
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { getResults, type pairResultSchema, type resultsResponse } from '../../../wire/index.js';
import type { AgencyRecord } from '../../store/types.js';
import type { AppEnv, Services } from '../../context.js';
import { activePairsOf, contextFor, refreshPairState } from '../../pairs.js';
import { mount } from '../mount.js';

type PairResult = z.infer<typeof pairResultSchema>;

export function resultsRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, getResults, async (c) => {
    const me = c.get('caller').agency as AgencyRecord;
    const epoch = await svc.store.currentEpoch();
    const out: PairResult[] = [];
    let released = 0;
    for (const { pair, agreement } of await activePairsOf(svc, me.id)) {
      const ctx = contextFor(svc, pair, agreement, epoch, me.id);
      const { state } = await refreshPairState(svc, ctx);
      const r: PairResult = { pair: pair.id, agreement: agreement.id, partner: ctx.partner, mode: agreement.mode, state: state.state };
      if (state.reason) r.reason = state.reason;
      if (state.state === 'complete') {
        released++;
        if (agreement.mode === 'reveal') r.matches = await ctx.ps.listMatches(epoch.id, ctx.side);
        else r.count = await ctx.ps.countMatches(epoch.id);
      }
      out.push(r);
    }
    await svc.audit({ actor: me.id, action: 'results.served', subject: me.id, detail: { epoch: epoch.id, pairs: out.length, released } });
    return c.json({ epoch: epoch.id, pairs: out } satisfies z.infer<typeof resultsResponse>);
  });

  return app;
}
