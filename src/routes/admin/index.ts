// Admin routes (keyid `admin` only): agencies and agreements. Agreements are
// first-class: no agreement, no data flows between two agencies.
import { ed25519 } from '@noble/curves/ed25519.js';
import { Hono } from 'hono';
import { z } from 'zod';
import { bytesToHex } from '../../../protocol/bytes.js';
import { ISO_3166_ALPHA3 } from '../../../protocol/identifiers/countries.js';
import { identifierKindSchema } from '../../../protocol/identifiers/index.js';
import type { AppEnv, Services } from '../../context.js';
import { pairsOf } from '../../pairs.js';
import { ProblemError } from '../../problem.js';
import type { AgencyRecord, AgreementRecord } from '../../store/types.js';
import { agencyIdSchema, agreementIdSchema, dateSchema, hexSchema, parseJsonBody, todayUTC } from '../../validation.js';

export const DEFAULT_MAX_SET_SIZE = 10_000_000;
const MAX_PARTIES = 64;
const COUNTRIES: ReadonlySet<string> = new Set(ISO_3166_ALPHA3);

const agencyBody = z
  .object({
    id: agencyIdSchema,
    name: z.string().trim().min(1).max(200),
    country: z.string().refine((c) => COUNTRIES.has(c), 'must be an ISO 3166-1 alpha-3 code'),
    signingKey: hexSchema(32),
  })
  .strict();

const agreementBody = z
  .object({
    id: agreementIdSchema,
    parties: z.array(agencyIdSchema).min(2).max(MAX_PARTIES),
    kinds: z.array(identifierKindSchema).min(1),
    mode: z.enum(['reveal', 'count']),
    validFrom: dateSchema.optional(),
    validUntil: dateSchema,
    maxSetSize: z.number().int().min(1).max(1_000_000_000).optional(),
    legalBasis: z.string().trim().min(1).max(500),
  })
  .strict();

export function agencyJson(a: AgencyRecord) {
  return { id: a.id, name: a.name, country: a.country, signingKey: bytesToHex(a.signingKey), createdAt: a.createdAt };
}

export function agreementJson(a: AgreementRecord) {
  return {
    id: a.id,
    parties: a.parties,
    kinds: a.kinds,
    mode: a.mode,
    validFrom: a.validFrom,
    validUntil: a.validUntil,
    maxSetSize: a.maxSetSize,
    legalBasis: a.legalBasis,
    createdAt: a.createdAt,
    pairs: pairsOf(a.id, a.parties).map((p) => p.id),
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function adminRoutes(svc: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/agencies', async (c) => {
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

  app.post('/agreements', async (c) => {
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
    };
    const existing = await svc.store.getAgreement(body.id);
    const identical = (e: AgreementRecord) =>
      sameList(e.parties, record.parties) &&
      sameList(e.kinds, record.kinds) &&
      e.mode === record.mode &&
      (body.validFrom === undefined || e.validFrom === record.validFrom) &&
      e.validUntil === record.validUntil &&
      e.maxSetSize === record.maxSetSize &&
      e.legalBasis === record.legalBasis;
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
      detail: { parties: record.parties, kinds: record.kinds, mode: record.mode, validFrom, validUntil: record.validUntil, maxSetSize: record.maxSetSize },
    });
    return c.json({ agreement: agreementJson(record) }, 201);
  });

  app.get('/agreements', async (c) => {
    const list = await svc.store.listAgreements();
    return c.json({ agreements: list.map(agreementJson) });
  });

  return app;
}
