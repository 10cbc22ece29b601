// An agency publishes its key for one pair and the current epoch
// (protocol/SPEC.md §8.5) with its signature over the `epoch-key` statement
// (§8.7) under the active agreement version. The partner verifies that
// statement itself with the key pinned in the terms it accepted; the
// coordinator checks it too, so that a forged key is refused where it arrives.
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { bytesToHex } from '../../../protocol/bytes.js';
import { verifyEpochKey } from '../../../protocol/epoch-key.js';
import { DecodeError } from '../../../protocol/errors.js';
import { decodePoint } from '../../../protocol/group.js';
import { pairEpochKeyBody, putPairEpochKey, type pairEpochKeyResponse } from '../../../wire/index.js';
import type { AppEnv, Services } from '../../context.js';
import { pairAccess } from '../../pairs.js';
import { ProblemError } from '../../problem.js';
import { badSignature, verifies } from '../../signatures.js';
import type { AgencyRecord, EpochKeyRecord } from '../../store/types.js';
import { parseJsonBody, parsePairParam } from '../../validation.js';
import { mount } from '../mount.js';

export function epochKeyRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, putPairEpochKey, async (c) => {
    const ctx = await pairAccess(svc, c.get('caller'), parsePairParam(c.req.param('pair')), undefined, false);
    const me = c.get('caller').agency as AgencyRecord;
    const body = parseJsonBody(c.get('body'), pairEpochKeyBody);
    const audit = { action: 'epoch_key.refused', subject: ctx.pair.id };
    if (body.epoch !== ctx.epoch.id) {
      throw new ProblemError('stale-epoch', `the current epoch is ${ctx.epoch.id}`, { field: 'body.epoch', audit: { ...audit, detail: { epoch: ctx.epoch.id } } });
    }
    try {
      decodePoint('body.publicKey', body.publicKey);
    } catch (err) {
      if (err instanceof DecodeError) throw new ProblemError('validation', err.message, { field: 'body.publicKey', audit });
      throw err;
    }
    const agreement = { id: ctx.agreement.id, version: ctx.agreement.version };
    const statement = { agency: me.id, epoch: ctx.epoch.id, pair: ctx.pair.id, agreement, publicKey: bytesToHex(body.publicKey) };
    if (!verifies(() => verifyEpochKey(statement, me.signingKey, body.signature))) {
      throw badSignature('body.signature', 'the epoch-key statement does not verify under the caller’s registered key', {
        ...audit,
        detail: { epoch: ctx.epoch.id, agreementVersion: agreement.version },
      });
    }
    const record: EpochKeyRecord = {
      agency: me.id,
      epoch: ctx.epoch.id,
      pairId: ctx.pair.id,
      agreementId: agreement.id,
      agreementVersion: agreement.version,
      publicKey: body.publicKey,
      signature: body.signature,
      publishedAt: svc.now().toISOString(),
    };
    // The key and its audit entry commit together: a published key is never unaudited.
    const result = await svc.store.putPairEpochKey(record, {
      at: record.publishedAt,
      outcome: 'ok',
      actor: me.id,
      action: 'epoch_key.published',
      subject: ctx.pair.id,
      detail: { epoch: ctx.epoch.id, agreementVersion: agreement.version },
    });
    if (result === 'conflict') {
      throw new ProblemError('conflict', 'another key is already published for this pair and epoch', { audit });
    }
    const stored = (await svc.store.getPairEpochKey(me.id, ctx.epoch.id, ctx.pair.id)) as EpochKeyRecord;
    return c.json(
      {
        pair: ctx.pair.id,
        agreement,
        epoch: ctx.epoch.id,
        publicKey: bytesToHex(stored.publicKey),
        signature: bytesToHex(stored.signature),
        publishedAt: stored.publishedAt,
      } satisfies z.infer<typeof pairEpochKeyResponse>,
      result === 'created' ? 201 : 200,
    );
  });

  return app;
}
