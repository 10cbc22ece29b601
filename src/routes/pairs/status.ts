// Progress of a pair, as the calling agency may see it.
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { bytesToHex } from '../../../protocol/bytes.js';
import { getPairStatus, type pairStatusSchema } from '../../../wire/index.js';
import type { AppEnv, Services } from '../../context.js';
import { pairAccess, refreshPairState } from '../../pairs.js';
import { parsePairParam } from '../../validation.js';
import { mount } from '../mount.js';

export function statusRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, getPairStatus, async (c) => {
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
        canaryChunks: mine.canaryChunks,
        tokenizedByPartner: mine.tokenizedChunks,
      },
      partner: { chunks: theirs.chunks, size: theirs.size, tokenizedByMe: theirs.tokenizedChunks },
    } satisfies z.infer<typeof pairStatusSchema>);
  });

  return app;
}
