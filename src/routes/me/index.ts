// The calling agency's own context: its pairs today, and its epoch key.
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { bytesToHex } from '../../../protocol/bytes.js';
import { DecodeError } from '../../../protocol/errors.js';
import { decodePoint } from '../../../protocol/group.js';
import type { AppEnv, Services } from '../../context.js';
import { activePairsOf, sideOf } from '../../pairs.js';
import { ProblemError } from '../../problem.js';
import type { AgencyRecord, Side } from '../../store/types.js';
import { epochKeyBody, getMe, putEpochKey, type epochKeyResponse, type meResponse } from '../../../wire/index.js';
import { parseJsonBody, todayUTC } from '../../validation.js';
import { mount } from '../mount.js';

export function meRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, getMe, async (c) => {
    const me = c.get('caller').agency as AgencyRecord;
    const epoch = await svc.store.currentEpoch();
    const myKey = await svc.store.getEpochKey(me.id, epoch.id);
    const pairs: z.infer<typeof meResponse>['pairs'] = [];
    const today = todayUTC(svc.now());
    // A purpose the deployment dropped from its list can no longer be cited.
    const deployment = new Set((await svc.store.getConfig()).purposes);
    const used = new Map<string, number>();
    for (const { pair, agreement } of await activePairsOf(svc, me.id)) {
      if (!used.has(agreement.id)) used.set(agreement.id, await svc.store.queriesUsed(me.id, agreement.id, today));
      // Count-mode agreements allow no targeted queries (src/API.md, "Agreements").
      const left = agreement.mode === 'reveal' ? Math.max(0, agreement.queryQuota.perDay - (used.get(agreement.id) ?? 0)) : 0;
      const partner = pair.agencies[1 - (sideOf(pair, me.id) as Side)] as string;
      const partnerKey = await svc.store.getEpochKey(partner, epoch.id);
      pairs.push({
        pair: pair.id,
        agreement: agreement.id,
        partner,
        mode: agreement.mode,
        kinds: agreement.kinds,
        validUntil: agreement.validUntil,
        maxSetSize: agreement.maxSetSize,
        myEpochKey: myKey ? bytesToHex(myKey.publicKey) : null,
        partnerEpochKey: partnerKey ? bytesToHex(partnerKey.publicKey) : null,
        purposes: agreement.purposes.filter((p) => deployment.has(p)),
        queryQuota: { perDay: agreement.queryQuota.perDay, maxValues: agreement.queryQuota.maxValues },
        queriesLeftToday: left,
      });
    }
    return c.json({
      agency: { id: me.id, name: me.name, country: me.country },
      epoch: { id: epoch.id, startedAt: epoch.startedAt },
      pairs,
    } satisfies z.infer<typeof meResponse>);
  });

  mount(app, putEpochKey, async (c) => {
    const me = c.get('caller').agency as AgencyRecord;
    const body = parseJsonBody(c.get('body'), epochKeyBody);
    const epoch = await svc.store.currentEpoch();
    if (body.epoch !== epoch.id) {
      throw new ProblemError('stale-epoch', `the current epoch is ${epoch.id}`, { field: 'body.epoch', audit: { action: 'epoch_key.refused' } });
    }
    try {
      decodePoint('body.publicKey', body.publicKey);
    } catch (err) {
      if (err instanceof DecodeError) throw new ProblemError('validation', err.message, { field: 'body.publicKey' });
      throw err;
    }
    const at = svc.now().toISOString();
    const result = await svc.store.putEpochKey({ agency: me.id, epoch: epoch.id, publicKey: body.publicKey, publishedAt: at });
    if (result === 'conflict') {
      throw new ProblemError('conflict', 'another key is already published for this epoch', { audit: { action: 'epoch_key.refused', subject: me.id } });
    }
    const stored = await svc.store.getEpochKey(me.id, epoch.id);
    if (result === 'created') await svc.audit({ actor: me.id, action: 'epoch_key.published', subject: me.id, detail: { epoch: epoch.id } });
    return c.json(
      { epoch: epoch.id, publicKey: bytesToHex(body.publicKey), publishedAt: stored?.publishedAt ?? at } satisfies z.infer<typeof epochKeyResponse>,
      result === 'created' ? 201 : 200,
    );
  });

  return app;
}
