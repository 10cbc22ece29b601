// Progress of a pair, as the calling agency may see it.
import { Hono } from 'hono';
import { bytesToHex } from '../../../protocol/bytes.js';
import type { AppEnv, Services } from '../../context.js';
import { pairAccess, refreshPairState } from '../../pairs.js';
import { parsePairParam } from '../../validation.js';

export function statusRoutes(svc: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/:pair/status', async (c) => {
    const ctx = await pairAccess(svc, c.get('caller'), parsePairParam(c.req.param('pair')));
    const { state, summary } = await refreshPairState(svc, ctx);
    const mine = summary.sides[ctx.side];
    const theirs = summary.sides[ctx.partnerSide];
    const chunks = await ctx.ps.listChunks(ctx.epoch.id, ctx.side);
    return c.json({
      pair: ctx.pair.id,
      state: state.state,
      ...(state.reason ? { reason: state.reason } : {}),
      mine: {
        chunks: chunks.map((k) => ({ index: k.index, count: k.count, sha256: bytesToHex(k.sha256) })),
        size: mine.size,
        removed: mine.removed,
        canariesRegistered: mine.canariesDone,
        tokenizedByPartner: mine.tokenizedChunks,
      },
      partner: { chunks: theirs.chunks, size: theirs.size, tokenizedByMe: theirs.tokenizedChunks },
    });
  });

  return app;
}
