// Partner work: download a chunk of the partner's side, upload its tokens
// Token(k_caller · element). Tokens are matched as they arrive. The positions
// the partner withdrew are served too, so the tokenising agency stops finding
// them in its own copy of the tokens (protocol/SPEC.md §3.1 step 6, §3.2).
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { bytesToHex } from '../../../protocol/bytes.js';
import { canonicalJson } from '../../../protocol/canonical.js';
import { chunkManifestSchema } from '../../../protocol/manifest.js';
import { byteSequence } from '../../signatures.js';
import {
  BINARY_TYPE,
  CHUNK_MANIFEST_HEADER,
  CHUNK_SIGNATURE_HEADER,
  EPOCH_HEADER,
  getPartnerChunk,
  getPartnerRemovals,
  partnerRemovalsQuery,
  putTokens,
  TOKEN_BYTES,
  type partnerRemovalsResponse,
  type tokensReceiptSchema,
} from '../../../wire/index.js';
import type { AppEnv, Services } from '../../context.js';
import { auditEntry, pairAccess, refreshPairState, type PairContext } from '../../pairs.js';
import { ProblemError } from '../../problem.js';
import { parseIndexParam, parsePairParam, parseWith } from '../../validation.js';
import { mount } from '../mount.js';

async function refuseIfFailed(ctx: PairContext): Promise<void> {
  const s = await ctx.ps.summary(ctx.epoch.id);
  if (s.state?.state === 'failed') {
    throw new ProblemError('conflict', 'the pair failed its canary check for this epoch', { audit: { action: 'pair.refused', subject: ctx.pair.id } });
  }
}

export function partnerRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, getPartnerChunk, async (c) => {
    const ctx = await pairAccess(svc, c.get('caller'), parsePairParam(c.req.param('pair')), c.req.header(EPOCH_HEADER));
    const index = parseIndexParam(c.req.param('index'));
    await refuseIfFailed(ctx);
    const chunk = await ctx.ps.getChunk(ctx.epoch.id, ctx.partnerSide, index);
    const elements = chunk ? await ctx.ps.getChunkElements(ctx.epoch.id, ctx.partnerSide, index) : undefined;
    // A chunk without its uploader's signature is one the partner would refuse to tokenise (protocol/SPEC.md §8.8).
    if (!chunk || !elements || !chunk.signature || chunk.agreementVersion === null) {
      throw new ProblemError('not-found', `the partner's side has no chunk ${index}`, { audit: false });
    }
    const manifest = chunkManifestSchema.parse({
      pair: ctx.pair.id,
      agreement: { id: ctx.agreement.id, version: chunk.agreementVersion },
      epoch: ctx.epoch.id,
      agency: ctx.partner,
      index,
      firstPosition: chunk.firstPosition,
      count: chunk.count,
      sha256: bytesToHex(chunk.sha256),
    });
    await svc.audit({ actor: ctx.me, action: 'partner_set.served', subject: ctx.pair.id, detail: { epoch: ctx.epoch.id, index } });
    return c.body(elements as Uint8Array<ArrayBuffer>, 200, {
      'content-type': BINARY_TYPE,
      [CHUNK_MANIFEST_HEADER]: byteSequence(canonicalJson(manifest)),
      [CHUNK_SIGNATURE_HEADER]: byteSequence(chunk.signature),
    });
  });

  mount(app, getPartnerRemovals, async (c) => {
    const ctx = await pairAccess(svc, c.get('caller'), parsePairParam(c.req.param('pair')), c.req.header(EPOCH_HEADER));
    const params: Record<string, string> = {};
    for (const [name, values] of Object.entries(c.req.queries())) {
      if (name !== 'after' && name !== 'limit') throw new ProblemError('validation', `query.${name}: unknown parameter`, { field: `query.${name}` });
      if (values.length !== 1) throw new ProblemError('validation', `query.${name}: give it once`, { field: `query.${name}` });
      params[name] = values[0] as string;
    }
    const { after, limit } = parseWith(partnerRemovalsQuery, params, 'query');
    // A read appends nothing to the audit log: every sync asks, and the removals themselves were audited when posted.
    const positions = await ctx.ps.listRemovals(ctx.epoch.id, ctx.partnerSide, after, limit);
    const next = positions.length === limit ? after + positions.length : null;
    return c.json({ epoch: ctx.epoch.id, positions, next } satisfies z.infer<typeof partnerRemovalsResponse>);
  });

  mount(app, putTokens, async (c) => {
    const ctx = await pairAccess(svc, c.get('caller'), parsePairParam(c.req.param('pair')), c.req.header(EPOCH_HEADER));
    const index = parseIndexParam(c.req.param('index'));
    await refuseIfFailed(ctx);
    const chunk = await ctx.ps.getChunk(ctx.epoch.id, ctx.partnerSide, index);
    if (!chunk) throw new ProblemError('not-found', `the partner's side has no chunk ${index}`, { audit: false });
    const body = c.get('body');
    if (body.length !== chunk.count * TOKEN_BYTES) {
      throw new ProblemError('validation', `body must be ${chunk.count}×${TOKEN_BYTES} bytes: one token per element of the chunk`, {
        field: 'body',
        audit: { action: 'tokens.refused', subject: ctx.pair.id },
      });
    }
    const sha256 = c.get('bodySha256');
    const r = await ctx.ps.putTokens({
      epoch: ctx.epoch.id,
      side: ctx.partnerSide,
      index,
      tokens: body,
      sha256,
      handleKey: (await svc.secrets()).handleKey,
      at: svc.now().toISOString(),
      // Committed with the tokens and the matches they make.
      audit: auditEntry(svc, { actor: ctx.me, action: 'tokens.stored', subject: ctx.pair.id, detail: { epoch: ctx.epoch.id, side: ctx.partner, index, count: chunk.count } }),
    });
    switch (r.status) {
      case 'not-found':
        throw new ProblemError('not-found', `the partner's side has no chunk ${index}`, { audit: false });
      case 'count-mismatch':
        throw new ProblemError('validation', `body must be ${r.expected}×${TOKEN_BYTES} bytes`, { field: 'body' });
      case 'conflict':
        throw new ProblemError('conflict', `tokens for chunk ${index} were already stored with a different SHA-256`, {
          audit: { action: 'tokens.refused', subject: ctx.pair.id },
        });
      case 'same':
        return c.json({ index, count: r.count, sha256: bytesToHex(sha256) } satisfies z.infer<typeof tokensReceiptSchema>, 200);
      case 'created':
        break;
    }
    // The response never says whether anything matched: results are released only for complete pairs.
    await refreshPairState(svc, ctx);
    return c.json({ index, count: r.count, sha256: bytesToHex(sha256) } satisfies z.infer<typeof tokensReceiptSchema>, 201);
  });

  return app;
}
