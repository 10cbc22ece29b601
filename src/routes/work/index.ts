// Pending partner work: chunks of partners' sides the caller has not tokenised
// yet, each with the uploader's signed manifest (src/API.md, "Agency: partner work").
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { bytesToHex } from '../../../protocol/bytes.js';
import { getWork, type workResponse } from '../../../wire/index.js';
import type { AgencyRecord } from '../../store/types.js';
import type { AppEnv, Services } from '../../context.js';
import { activePairsOf, contextFor, settlePair } from '../../pairs.js';
import { mount } from '../mount.js';

export function workRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, getWork, async (c) => {
    const me = c.get('caller').agency as AgencyRecord;
    const epoch = await svc.store.currentEpoch();
    const tasks: z.infer<typeof workResponse>['tasks'] = [];
    for (const { pair, agreement } of await activePairsOf(svc, me.id)) {
      // A partner's chunk is offered only once its audit entry is published.
      await settlePair(svc, { pair, agreement, ps: svc.store.pair(pair.id) });
      // Tokenising before publishing the pair's epoch key would let a partner
      // dodge the canary check (the owner derives expected tokens from that key).
      if (!(await svc.store.getPairEpochKey(me.id, epoch.id, pair.id))) continue;
      {
        const ctx = contextFor(svc, pair, agreement, epoch, me.id);
        const summary = await ctx.ps.summary(epoch.id);
        if (summary.state?.state === 'failed') continue;
        if (summary.sides[ctx.partnerSide].tokenizedChunks === summary.sides[ctx.partnerSide].chunks) continue;
        for (const chunk of await ctx.ps.listChunks(epoch.id, ctx.partnerSide)) {
          // A chunk without the uploader's signature cannot pass the tokeniser's check (protocol/SPEC.md §8.8).
          if (chunk.tokensSha256 || !chunk.signature || chunk.agreementVersion === null) continue;
          tasks.push({
            pair: pair.id,
            partner: ctx.partner,
            agreement: { id: agreement.id, version: chunk.agreementVersion },
            epoch: epoch.id,
            index: chunk.index,
            firstPosition: chunk.firstPosition,
            count: chunk.count,
            sha256: bytesToHex(chunk.sha256),
            signature: bytesToHex(chunk.signature),
          });
        }
      }
    }
    return c.json({ tasks });
  });

  return app;
}
