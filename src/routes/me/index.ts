// The calling agency's own context: its pairs today, each with both sides'
// signed per-pair epoch keys (src/API.md, "Agency: context").
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { bytesToHex } from '../../../protocol/bytes.js';
import type { AppEnv, Services } from '../../context.js';
import { activePairsOf, sideOf } from '../../pairs.js';
import type { AgencyRecord, EpochKeyRecord, Side } from '../../store/types.js';
import { getMe, type meResponse, type signedEpochKeySchema } from '../../../wire/index.js';
import { auditLogKey } from '../../tlog.js';
import { todayUTC } from '../../validation.js';
import { mount } from '../mount.js';

/** A published key with its signature, when it was signed under the version that governs now. */
export function signedKeyJson(k: EpochKeyRecord | undefined, version: number): z.infer<typeof signedEpochKeySchema> | null {
  return k && k.agreementVersion === version ? { publicKey: bytesToHex(k.publicKey), signature: bytesToHex(k.signature) } : null;
}

export function meRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, getMe, async (c) => {
    const me = c.get('caller').agency as AgencyRecord;
    const epoch = await svc.store.currentEpoch();
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
      const myKey = await svc.store.getPairEpochKey(me.id, epoch.id, pair.id);
      const partnerKey = await svc.store.getPairEpochKey(partner, epoch.id, pair.id);
      pairs.push({
        pair: pair.id,
        agreement: agreement.id,
        agreementVersion: agreement.version,
        partner,
        mode: agreement.mode,
        kinds: agreement.kinds,
        validUntil: agreement.validUntil,
        maxSetSize: agreement.maxSetSize,
        // A key published under an earlier version of the agreement is not this pair's key now.
        myEpochKey: signedKeyJson(myKey, agreement.version),
        partnerEpochKey: signedKeyJson(partnerKey, agreement.version),
        purposes: agreement.purposes.filter((p) => deployment.has(p)),
        queryQuota: { perDay: agreement.queryQuota.perDay, maxValues: agreement.queryQuota.maxValues },
        queriesLeftToday: left,
      });
    }
    return c.json({
      agency: { id: me.id, name: me.name, country: me.country },
      epoch: { id: epoch.id, startedAt: epoch.startedAt },
      pairs,
      auditLog: await auditLogKey(svc.store),
    } satisfies z.infer<typeof meResponse>);
  });

  return app;
}
