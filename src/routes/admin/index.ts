// Admin routes (keyid `admin` only): agencies, agreements, the deployment
// configuration, epoch rotation and the retention purge. Agreements are
// first-class: no agreement, no data flows between two agencies.
import { ed25519 } from '@noble/curves/ed25519.js';
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { bytesToHex } from '../../../protocol/bytes.js';
import type { IdentifierKind } from '../../../protocol/identifiers/index.js';
import {
  agencyBody,
  agreementBody,
  configBody,
  DEFAULT_MAX_SET_SIZE,
  emptyBody,
  getAgreements,
  getConfig,
  postAgency,
  postAgreement,
  postPurge,
  postRotate,
  putConfig,
  type agencySchema,
  type agreementSchema,
  type configSchema,
  type purgeResponse,
  type rotateResponse,
} from '../../../wire/index.js';
import { DEFAULT_QUERY_MAX_VALUES, DEFAULT_QUERY_PER_DAY, type DeploymentConfig } from '../../config.js';
import type { AppEnv, Services } from '../../context.js';
import { pairsOf } from '../../pairs.js';
import { ProblemError } from '../../problem.js';
import { purgeExpired } from '../../retention.js';
import type { AgencyRecord, AgreementRecord } from '../../store/types.js';
import { parseJsonBody, todayUTC } from '../../validation.js';
import { mount } from '../mount.js';

function configJson(c: DeploymentConfig): z.infer<typeof configSchema> {
  return { purposes: c.purposes, retention: { dataDays: c.retention.dataDays, auditDays: c.retention.auditDays } };
}

function agencyJson(a: AgencyRecord): z.infer<typeof agencySchema> {
  return { id: a.id, name: a.name, country: a.country, signingKey: bytesToHex(a.signingKey), createdAt: a.createdAt };
}

function agreementJson(a: AgreementRecord): z.infer<typeof agreementSchema> {
  return {
    id: a.id,
    parties: a.parties,
    // Checked against the kind list when the agreement was created.
    kinds: a.kinds as IdentifierKind[],
    mode: a.mode,
    validFrom: a.validFrom,
    validUntil: a.validUntil,
    maxSetSize: a.maxSetSize,
    legalBasis: a.legalBasis,
    purposes: a.purposes,
    queryQuota: { perDay: a.queryQuota.perDay, maxValues: a.queryQuota.maxValues },
    createdAt: a.createdAt,
    pairs: pairsOf(a.id, a.parties).map((p) => p.id),
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function adminRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, postAgency, async (c) => {
    const body = parseJsonBody(c.get('body'), agencyBody);
    try {
      ed25519.Point.fromBytes(body.signingKey);
    } catch {
      throw new ProblemError('validation', 'body.signingKey: not an Ed25519 public key', { field: 'body.signingKey' });
    }
    const record: AgencyRecord = { ...body, createdAt: svc.now().toISOString() };
    const result = await svc.store.putAgency(record);
    if (result === 'conflict') {
      throw new ProblemError('conflict', 'an agency with this id exists with other data', { audit: { action: 'agency.refused', subject: body.id } });
    }
    const stored = (await svc.store.getAgency(body.id)) as AgencyRecord;
    if (result === 'created') {
      await svc.audit({ actor: 'admin', action: 'agency.added', subject: body.id, detail: { country: body.country } });
      return c.json({ agency: agencyJson(stored) }, 201);
    }
    return c.json({ agency: agencyJson(stored) }, 200);
  });

  mount(app, postAgreement, async (c) => {
    const body = parseJsonBody(c.get('body'), agreementBody);
    const now = svc.now();
    const today = todayUTC(now);
    const parties = [...body.parties].sort();
    if (new Set(parties).size !== parties.length) {
      throw new ProblemError('validation', 'body.parties: parties must be distinct', { field: 'body.parties' });
    }
    for (let i = 0; i < body.parties.length; i++) {
      if (!(await svc.store.getAgency(body.parties[i] as string))) {
        throw new ProblemError('validation', `body.parties[${i}]: not a registered agency`, { field: `body.parties[${i}]` });
      }
    }
    const kinds = [...new Set(body.kinds)].sort();
    if (kinds.length !== body.kinds.length) throw new ProblemError('validation', 'body.kinds: kinds must be distinct', { field: 'body.kinds' });
    const validFrom = body.validFrom ?? today;
    if (body.validUntil < validFrom) {
      throw new ProblemError('validation', 'body.validUntil: must not be before validFrom', { field: 'body.validUntil' });
    }
    if (body.validUntil < today) throw new ProblemError('validation', 'body.validUntil: must not be in the past', { field: 'body.validUntil' });
    const deployment = await svc.store.getConfig();
    const allowed = new Set(deployment.purposes);
    for (let i = 0; i < (body.purposes ?? []).length; i++) {
      if (!allowed.has(body.purposes?.[i] as string)) {
        throw new ProblemError('validation', `body.purposes[${i}]: not in the deployment's list of purposes`, { field: `body.purposes[${i}]` });
      }
    }
    const purposes = [...new Set(body.purposes ?? deployment.purposes)].sort();
    if (body.purposes && purposes.length !== body.purposes.length) {
      throw new ProblemError('validation', 'body.purposes: purposes must be distinct', { field: 'body.purposes' });
    }
    const record: AgreementRecord = {
      id: body.id,
      parties,
      kinds,
      mode: body.mode,
      validFrom,
      validUntil: body.validUntil,
      maxSetSize: body.maxSetSize ?? DEFAULT_MAX_SET_SIZE,
      legalBasis: body.legalBasis,
      createdAt: now.toISOString(),
      purposes,
      queryQuota: { perDay: body.queryQuota?.perDay ?? DEFAULT_QUERY_PER_DAY, maxValues: body.queryQuota?.maxValues ?? DEFAULT_QUERY_MAX_VALUES },
    };
    const existing = await svc.store.getAgreement(body.id);
    const identical = (e: AgreementRecord) =>
      sameList(e.parties, record.parties) &&
      sameList(e.kinds, record.kinds) &&
      e.mode === record.mode &&
      (body.validFrom === undefined || e.validFrom === record.validFrom) &&
      e.validUntil === record.validUntil &&
      e.maxSetSize === record.maxSetSize &&
      e.legalBasis === record.legalBasis &&
      (body.purposes === undefined || sameList(e.purposes, record.purposes)) &&
      e.queryQuota.perDay === record.queryQuota.perDay &&
      e.queryQuota.maxValues === record.queryQuota.maxValues;
    if (existing) {
      if (identical(existing)) return c.json({ agreement: agreementJson(existing) }, 200);
      throw new ProblemError('conflict', 'an agreement with this id exists with other terms', {
        audit: { action: 'agreement.refused', subject: body.id },
      });
    }
    if (!(await svc.store.insertAgreement(record, pairsOf(record.id, record.parties)))) {
      const raced = await svc.store.getAgreement(body.id);
      if (raced && identical(raced)) return c.json({ agreement: agreementJson(raced) }, 200);
      throw new ProblemError('conflict', 'an agreement with this id exists with other terms', {
        audit: { action: 'agreement.refused', subject: body.id },
      });
    }
    await svc.audit({
      actor: 'admin',
      action: 'agreement.added',
      subject: record.id,
      detail: {
        parties: record.parties,
        kinds: record.kinds,
        mode: record.mode,
        validFrom,
        validUntil: record.validUntil,
        maxSetSize: record.maxSetSize,
        purposes: record.purposes,
        queryQuota: { perDay: record.queryQuota.perDay, maxValues: record.queryQuota.maxValues },
      },
    });
    return c.json({ agreement: agreementJson(record) }, 201);
  });

  mount(app, getAgreements, async (c) => {
    const list = await svc.store.listAgreements();
    return c.json({ agreements: list.map(agreementJson) });
  });

  mount(app, getConfig, async (c) => c.json(configJson(await svc.store.getConfig())));

  mount(app, putConfig, async (c) => {
    const body = parseJsonBody(c.get('body'), configBody);
    const current = await svc.store.getConfig();
    if (body.purposes && new Set(body.purposes).size !== body.purposes.length) {
      throw new ProblemError('validation', 'body.purposes: purposes must be distinct', { field: 'body.purposes' });
    }
    const next: DeploymentConfig = {
      purposes: body.purposes ?? current.purposes,
      retention: {
        dataDays: body.retention?.dataDays === undefined ? current.retention.dataDays : body.retention.dataDays,
        auditDays: body.retention?.auditDays ?? current.retention.auditDays,
      },
    };
    await svc.store.putConfig(next, svc.now().toISOString());
    await svc.audit({ actor: 'admin', action: 'config.updated', subject: 'coordinator', detail: configJson(next) });
    return c.json(configJson(next));
  });

  mount(app, postRotate, async (c) => {
    parseJsonBody(c.get('body'), emptyBody);
    const { epoch, previous } = await svc.store.rotateEpoch(svc.now().toISOString());
    await svc.audit({ actor: 'admin', action: 'epoch.rotated', subject: epoch.id, detail: { previous, startedAt: epoch.startedAt } });
    return c.json({ epoch: { id: epoch.id, startedAt: epoch.startedAt }, previous } satisfies z.infer<typeof rotateResponse>, 201);
  });

  mount(app, postPurge, async (c) => {
    parseJsonBody(c.get('body'), emptyBody);
    return c.json({ purged: await purgeExpired(svc, 'admin') } satisfies z.infer<typeof purgeResponse>);
  });

  return app;
}
