// Admin routes (keyid `admin` only): agencies, agreements, the deployment
// configuration, epoch rotation and the retention purge. Agreements are
// first-class: no agreement, no data flows between two agencies.
import { ed25519 } from '@noble/curves/ed25519.js';
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { agreementDigest, canonicalAgreement, parseAgreement, type AgreementTerms } from '../../../protocol/agreement.js';
import { bytesToHex, equalBytes } from '../../../protocol/bytes.js';
import { DocumentError } from '../../../protocol/signed.js';
import { adminAgreementJson } from '../../agreements.js';
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
  type configSchema,
  type purgeResponse,
  type rotateResponse,
} from '../../../wire/index.js';
import { DEFAULT_QUERY_MAX_VALUES, DEFAULT_QUERY_PER_DAY, type DeploymentConfig } from '../../config.js';
import type { AppEnv, Services } from '../../context.js';
import { pairsOf } from '../../pairs.js';
import { ProblemError } from '../../problem.js';
import { purgeExpired } from '../../retention.js';
import type { AgencyRecord, AgreementVersionRecord } from '../../store/types.js';
import { parseJsonBody, todayUTC } from '../../validation.js';
import { mount } from '../mount.js';

function configJson(c: DeploymentConfig): z.infer<typeof configSchema> {
  return {
    purposes: c.purposes,
    retention: { dataDays: c.retention.dataDays, idleDays: c.retention.idleDays, auditDays: c.retention.auditDays },
    epochs: { rotateDays: c.epochs.rotateDays },
    probing: { ...c.probing },
  };
}

function agencyJson(a: AgencyRecord): z.infer<typeof agencySchema> {
  return { id: a.id, name: a.name, country: a.country, signingKey: bytesToHex(a.signingKey), createdAt: a.createdAt };
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
    const signingKeys = new Map<string, string>();
    for (const p of parties) signingKeys.set(p, bytesToHex(((await svc.store.getAgency(p)) as AgencyRecord).signingKey));
    const versions = await svc.store.listAgreementVersions(body.id);
    const latest = versions.at(-1);
    // Members the body leaves out keep the latest version's value when comparing, as they did before versions.
    const build = (version: number, base: AgreementTerms | undefined): AgreementTerms => ({
      id: body.id,
      version,
      parties: parties.map((agency) => ({ agency, signingKey: signingKeys.get(agency) as string })),
      kinds,
      mode: body.mode,
      purposes: body.purposes === undefined && base ? [...base.purposes] : purposes,
      validFrom: body.validFrom === undefined && base ? base.validFrom : validFrom,
      validUntil: body.validUntil,
      maxSetSize: body.maxSetSize ?? DEFAULT_MAX_SET_SIZE,
      queryQuota: { perDay: body.queryQuota?.perDay ?? DEFAULT_QUERY_PER_DAY, maxValues: body.queryQuota?.maxValues ?? DEFAULT_QUERY_MAX_VALUES },
      legalBasis: body.legalBasis,
    });
    const same = (a: AgreementTerms, b: AgreementTerms) => equalBytes(canonicalAgreement(a), canonicalAgreement(b));
    if (latest) {
      try {
        if (same(latest.terms, build(latest.version, latest.terms))) return c.json({ agreement: adminAgreementJson(latest) }, 200);
      } catch (err) {
        if (!(err instanceof DocumentError)) throw err;
      }
    }
    let terms: AgreementTerms;
    try {
      terms = parseAgreement(build((latest?.version ?? 0) + 1, undefined));
    } catch (err) {
      // Two parties registered with one signing key: one signature would count as two acceptances (protocol/SPEC.md §8.6).
      if (err instanceof DocumentError) throw new ProblemError('validation', `body.parties: ${err.message}`, { field: 'body.parties' });
      throw err;
    }
    if (!(await svc.store.insertAgreementVersion({ terms, legalBasis: body.legalBasis, createdAt: now.toISOString() }, pairsOf(terms.id, parties)))) {
      const raced = (await svc.store.listAgreementVersions(body.id)).at(-1);
      if (raced && same(raced.terms, { ...terms, version: raced.version })) return c.json({ agreement: adminAgreementJson(raced) }, 200);
      throw new ProblemError('conflict', 'another version of this agreement was proposed at the same time', {
        audit: { action: 'agreement.refused', subject: body.id },
      });
    }
    const stored = (await svc.store.getAgreementVersion(terms.id, terms.version)) as AgreementVersionRecord;
    await svc.audit({
      actor: 'admin',
      action: 'agreement.proposed',
      subject: terms.id,
      detail: {
        version: terms.version,
        digest: agreementDigest(terms),
        parties,
        kinds: terms.kinds,
        mode: terms.mode,
        validFrom: terms.validFrom,
        validUntil: terms.validUntil,
        maxSetSize: terms.maxSetSize,
        purposes: terms.purposes,
        queryQuota: { perDay: terms.queryQuota.perDay, maxValues: terms.queryQuota.maxValues },
      },
    });
    return c.json({ agreement: adminAgreementJson(stored) }, 201);
  });

  mount(app, getAgreements, async (c) => {
    const list = await svc.store.listAgreementVersions();
    return c.json({ agreements: list.map(adminAgreementJson) });
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
        idleDays: body.retention?.idleDays === undefined ? current.retention.idleDays : body.retention.idleDays,
        auditDays: body.retention?.auditDays ?? current.retention.auditDays,
      },
      epochs: { rotateDays: body.epochs?.rotateDays === undefined ? current.epochs.rotateDays : body.epochs.rotateDays },
      probing: { ...current.probing, ...body.probing },
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
