// Pending partner work: chunks of partners' sides the caller has not tokenised yet.
import { Hono } from 'hono';
import { bytesToHex } from '../../../protocol/bytes.js';
import type { AgencyRecord } from '../../store/types.js';
import type { AppEnv, Services } from '../../context.js';
import { activePairsOf, contextFor } from '../../pairs.js';

export function workRoutes(svc: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/work', async (c) => {
    const me = c.get('caller').agency as AgencyRecord;
    const epoch = await svc.store.currentEpoch();
    const tasks: { pair: string; partner: string; epoch: string; index: number; count: number; sha256: string }[] = [];
    // Tokenising before publishing the epoch key would let a partner dodge the
    // canary check (the owner derives expected tokens from that key).
    if (await svc.store.getEpochKey(me.id, epoch.id)) {
      for (const { pair, agreement } of await activePairsOf(svc, me.id)) {
        const ctx = contextFor(svc, pair, agreement, epoch, me.id);
        const summary = await ctx.ps.summary(epoch.id);
        if (summary.state?.state === 'failed') continue;
        if (summary.sides[ctx.partnerSide].tokenizedChunks === summary.sides[ctx.partnerSide].chunks) continue;
        for (const chunk of await ctx.ps.listChunks(epoch.id, ctx.partnerSide)) {
          if (chunk.tokensSha256) continue;
          tasks.push({ pair: pair.id, partner: ctx.partner, epoch: epoch.id, index: chunk.index, count: chunk.count, sha256: bytesToHex(chunk.sha256) });
        }
      }
    }
    return c.json({ tasks });
  });

  return app;
}
