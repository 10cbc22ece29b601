// An agency's own side of a pair: blinded chunks (each with the uploader's
// signed manifest, protocol/SPEC.md §8.8), removals, canaries.
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { bytesToHex } from '../../../protocol/bytes.js';
import { DecodeError } from '../../../protocol/errors.js';
import { chunkManifest, verifyChunk } from '../../../protocol/manifest.js';
import {
  canariesBody,
  CHUNK_SIGNATURE_HEADER,
  ELEMENT_BYTES,
  emptyBody,
  EPOCH_HEADER,
  linksBody,
  MAX_CHUNK_ELEMENTS,
  postCanariesDone,
  postRemovals,
  putCanaries,
  putChunk,
  putLinks,
  removalsBody,
  liveCap,
  UPLOAD_CAP_ALLOWANCE,
  uploadCap,
  type canariesDoneResponse,
  type canariesResponse,
  type chunkReceiptSchema,
  type linksResponse,
  type removalsResponse,
} from '../../../wire/index.js';
import { churnAlertThreshold } from '../../config.js';
import type { AppEnv, Services } from '../../context.js';
import { epochBefore } from '../../epochs.js';
import { auditEntry, pairAccess, refreshPairState, settlePair } from '../../pairs.js';
import { ProblemError } from '../../problem.js';
import { badSignature, isSignature, parseByteSequence, verifies } from '../../signatures.js';
import type { AgencyRecord, ChunkInfo } from '../../store/types.js';
import { parseIndexParam, parseJsonBody, parsePairParam } from '../../validation.js';
import { mount } from '../mount.js';

export function setRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, putChunk, async (c) => {
    const ctx = await pairAccess(svc, c.get('caller'), parsePairParam(c.req.param('pair')), c.req.header(EPOCH_HEADER));
    const index = parseIndexParam(c.req.param('index'));
    const body = c.get('body');
    if (body.length === 0 || body.length % ELEMENT_BYTES !== 0) {
      throw new ProblemError('validation', `body must be n×${ELEMENT_BYTES} bytes with n ≥ 1`, { field: 'body' });
    }
    const n = body.length / ELEMENT_BYTES;
    if (n > MAX_CHUNK_ELEMENTS) throw new ProblemError('too-large', `a chunk holds at most ${MAX_CHUNK_ELEMENTS} elements`, { field: 'body' });
    const sha256 = c.get('bodySha256');
    const agreement = { id: ctx.agreement.id, version: ctx.agreement.version };
    const reply = (chunk: ChunkInfo, status: 200 | 201) =>
      c.json(
        {
          index: chunk.index,
          firstPosition: chunk.firstPosition,
          count: chunk.count,
          sha256: bytesToHex(chunk.sha256),
          agreement: { id: agreement.id, version: chunk.agreementVersion ?? agreement.version },
          signature: bytesToHex(chunk.signature ?? signature),
        } satisfies z.infer<typeof chunkReceiptSchema>,
        status,
      );
    const conflict = () =>
      new ProblemError('conflict', `chunk ${index} was already stored with a different SHA-256`, { audit: { action: 'chunk.refused', subject: ctx.pair.id } });
    const header = parseByteSequence(c.req.header(CHUNK_SIGNATURE_HEADER));
    const refuseSignature = (detail: string) =>
      badSignature('header.concordat-chunk-signature', detail, { action: 'chunk.refused', subject: ctx.pair.id, detail: { epoch: ctx.epoch.id, index } });
    if (!isSignature(header)) throw refuseSignature(`${CHUNK_SIGNATURE_HEADER} must carry the 64-byte manifest signature as an RFC 8941 byte sequence`);
    const signature: Uint8Array = header;
    // The manifest as the coordinator will hold it (protocol/SPEC.md §8.8): what the uploader must have signed.
    const signs = (firstPosition: number) =>
      verifies(() =>
        verifyChunk(
          chunkManifest({ pair: ctx.pair.id, agreement, epoch: ctx.epoch.id, agency: ctx.me, index, firstPosition }, body),
          (c.get('caller').agency as AgencyRecord).signingKey,
          signature,
        ),
      );

    const existing = await ctx.ps.getChunk(ctx.epoch.id, ctx.side, index);
    if (existing) {
      if (bytesToHex(existing.sha256) !== bytesToHex(sha256)) throw conflict();
      if (!signs(existing.firstPosition)) throw refuseSignature('the manifest signature does not verify under the caller’s registered key');
      return reply(existing, 200);
    }
    const previous = index === 0 ? undefined : await ctx.ps.getChunk(ctx.epoch.id, ctx.side, index - 1);
    const firstPosition = previous ? previous.firstPosition + previous.count : 0;
    if (index > 0 && !previous) {
      const next = (await ctx.ps.listChunks(ctx.epoch.id, ctx.side)).length;
      throw new ProblemError('conflict', `chunk index must be an existing chunk or the next one (${next})`, {
        field: 'path.index',
        audit: { action: 'chunk.refused', subject: ctx.pair.id },
      });
    }
    if (!signs(firstPosition)) throw refuseSignature('the manifest signature does not verify under the caller’s registered key');
    try {
      svc.checkElements(body, 'element');
    } catch (err) {
      if (err instanceof DecodeError) {
        throw new ProblemError('validation', err.message, { field: err.field, audit: { action: 'chunk.refused', subject: ctx.pair.id } });
      }
      throw err;
    }
    const at = svc.now().toISOString();
    const r = await ctx.ps.putChunk({
      epoch: ctx.epoch.id,
      side: ctx.side,
      index,
      elements: body,
      sha256,
      firstPosition,
      signature,
      agreementVersion: agreement.version,
      maxLiveSize: liveCap(ctx.agreement.maxSetSize),
      maxEpochPositions: uploadCap(ctx.agreement.maxSetSize),
      at,
      // Committed with the chunk: a stored chunk is never unaudited, and a retry finds it published.
      audit: auditEntry(svc, {
        actor: ctx.me,
        action: 'chunk.stored',
        subject: ctx.pair.id,
        detail: { epoch: ctx.epoch.id, index, count: n, sha256: bytesToHex(sha256), agreementVersion: agreement.version },
      }),
    });
    switch (r.status) {
      case 'same':
        return reply(r.chunk, 200);
      case 'conflict':
        throw conflict();
      case 'gap':
        throw new ProblemError('conflict', `chunk index must be an existing chunk or the next one (${r.nextIndex})`, {
          field: 'path.index',
          audit: { action: 'chunk.refused', subject: ctx.pair.id },
        });
      case 'too-large':
        throw new ProblemError('too-large', `the side would hold more than ${liveCap(ctx.agreement.maxSetSize)} live positions (maximum set size ${ctx.agreement.maxSetSize} plus ${UPLOAD_CAP_ALLOWANCE} for canaries)`, {
          audit: { action: 'chunk.refused', subject: ctx.pair.id },
        });
      case 'upload-cap': {
        // Upload, read, withdraw, repeat would test any number of guesses: the epoch's uploads are bounded (protocol/SPEC.md §3.3).
        const cap = uploadCap(ctx.agreement.maxSetSize);
        throw new ProblemError('upload-cap', `the side has uploaded ${r.uploaded} positions in this epoch; ${n} more would exceed the per-epoch cap of ${cap}`, {
          field: 'body',
          audit: { action: 'pair.upload_cap', subject: ctx.pair.id, detail: { epoch: ctx.epoch.id, index, uploaded: r.uploaded, count: n, cap } },
        });
      }
      case 'created':
        break;
    }
    await refreshPairState(svc, ctx);
    return reply(r.chunk, 201);
  });

  mount(app, postRemovals, async (c) => {
    const ctx = await pairAccess(svc, c.get('caller'), parsePairParam(c.req.param('pair')), c.req.header(EPOCH_HEADER));
    const body = parseJsonBody(c.get('body'), removalsBody);
    // The removals, the matches they retract, the hits those carried and the audit entry: one transaction.
    const r = await ctx.ps.removePositions(
      ctx.epoch.id,
      ctx.side,
      body.positions,
      svc.now().toISOString(),
      auditEntry(svc, { actor: ctx.me, action: 'removals.applied', subject: ctx.pair.id, detail: { epoch: ctx.epoch.id, positions: new Set(body.positions).size } }),
    );
    if (!r.ok) {
      throw new ProblemError('validation', `body.positions[${r.badIndex}]: no such position on this side`, {
        field: `body.positions[${r.badIndex}]`,
        audit: { action: 'removals.refused', subject: ctx.pair.id },
      });
    }
    // Heavy withdrawal is how count probing works (protocol/SPEC.md §3.3): flagged once per side and epoch.
    const threshold = churnAlertThreshold((await svc.store.getConfig()).probing, ctx.agreement.maxSetSize);
    await ctx.ps.raiseChurnAlert(
      ctx.epoch.id,
      ctx.side,
      threshold,
      svc.now().toISOString(),
      auditEntry(svc, { actor: 'coordinator', action: 'pair.churn_alert', subject: ctx.pair.id, detail: { epoch: ctx.epoch.id, side: ctx.me, threshold } }),
    );
    await settlePair(svc, ctx);
    return c.json({ removed: r.removed } satisfies z.infer<typeof removalsResponse>);
  });

  mount(app, putCanaries, async (c) => {
    const ctx = await pairAccess(svc, c.get('caller'), parsePairParam(c.req.param('pair')), c.req.header(EPOCH_HEADER));
    const body = parseJsonBody(c.get('body'), canariesBody);
    const r = await ctx.ps.registerCanaries(
      ctx.epoch.id,
      ctx.side,
      body.canaries,
      svc.now().toISOString(),
      auditEntry(svc, { actor: ctx.me, action: 'canaries.registered', subject: ctx.pair.id, detail: { epoch: ctx.epoch.id } }),
    );
    if (!r.ok) {
      if (r.reason === 'conflict') {
        throw new ProblemError('conflict', `body.canaries[${r.badIndex}]: a different token is registered for this position`, {
          field: `body.canaries[${r.badIndex}].token`,
          audit: { action: 'canaries.refused', subject: ctx.pair.id },
        });
      }
      throw new ProblemError('validation', `body.canaries[${r.badIndex}].position: no such position on this side`, {
        field: `body.canaries[${r.badIndex}].position`,
        audit: { action: 'canaries.refused', subject: ctx.pair.id },
      });
    }
    // Canaries whose partner tokens already arrived are checked now.
    await refreshPairState(svc, ctx);
    return c.json({ registered: r.registered } satisfies z.infer<typeof canariesResponse>);
  });

  mount(app, postCanariesDone, async (c) => {
    const ctx = await pairAccess(svc, c.get('caller'), parsePairParam(c.req.param('pair')), c.req.header(EPOCH_HEADER));
    parseJsonBody(c.get('body'), emptyBody);
    await ctx.ps.markCanariesDone(
      ctx.epoch.id,
      ctx.side,
      svc.now().toISOString(),
      auditEntry(svc, { actor: ctx.me, action: 'canaries.done', subject: ctx.pair.id, detail: { epoch: ctx.epoch.id } }),
    );
    await refreshPairState(svc, ctx);
    return c.json({ canariesRegistered: true } satisfies z.infer<typeof canariesDoneResponse>);
  });

  // Handle continuity across rotation (src/API.md, "Epochs"): which previous-epoch
  // position each new position continues, for previously matched items only.
  mount(app, putLinks, async (c) => {
    const ctx = await pairAccess(svc, c.get('caller'), parsePairParam(c.req.param('pair')), c.req.header(EPOCH_HEADER));
    const body = parseJsonBody(c.get('body'), linksBody);
    const previous = epochBefore(await svc.store.listEpochs(), ctx.epoch.id);
    if (body.previousEpoch !== previous) {
      throw new ProblemError('validation', `body.previousEpoch: must be the epoch before the current one (${previous ?? 'none'})`, {
        field: 'body.previousEpoch',
        audit: { action: 'links.refused', subject: ctx.pair.id },
      });
    }
    const r = await ctx.ps.putLinks(
      ctx.epoch.id,
      ctx.side,
      body.previousEpoch,
      body.links,
      svc.now().toISOString(),
      auditEntry(svc, { actor: ctx.me, action: 'links.registered', subject: ctx.pair.id, detail: { epoch: ctx.epoch.id, previousEpoch: body.previousEpoch } }),
    );
    if (!r.ok) {
      if (r.reason === 'conflict') {
        throw new ProblemError('conflict', `body.links[${r.badIndex}]: this position is already linked to another previous position`, {
          field: `body.links[${r.badIndex}].previous`,
          audit: { action: 'links.refused', subject: ctx.pair.id },
        });
      }
      throw new ProblemError('validation', `body.links[${r.badIndex}].position: no such position on this side`, {
        field: `body.links[${r.badIndex}].position`,
        audit: { action: 'links.refused', subject: ctx.pair.id },
      });
    }
    // Matches re-handled after the pair completed: their hits follow the continued handle (marked due with the links).
    await settlePair(svc, ctx);
    return c.json({ linked: r.linked } satisfies z.infer<typeof linksResponse>);
  });

  return app;
}
