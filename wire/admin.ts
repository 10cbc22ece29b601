// Admin routes (keyid `admin` only, src/API.md "Admin", part 2 "Deployment
// configuration", "Agreements (additions)", "Epochs", "Audit export and
// retention"): agencies, agreements, configuration, rotation, purge.
import { z } from '@hono/zod-openapi';
import { MAX_PARTIES, MAX_QUERY_VALUES, MAX_SET_SIZE } from './limits.js';
import { agencyIdSchema, agreementIdSchema, countrySchema, dateSchema, emptyBody, hexSchema, hexString, identifierKindSchema, purposeSchema } from './primitives.js';
import { modeSchema } from './agency.js';
import { acceptanceSchema, agreementStatusSchema, agreementTermsSchema, rejectionSchema } from './agreements.js';
import { jsonBody, jsonResponse, problemResponse, signedRoute } from './route.js';

export const agencyBody = z
  .object({
    id: agencyIdSchema,
    name: z.string().trim().min(1).max(200),
    country: countrySchema,
    signingKey: hexSchema(32).meta({ description: 'Ed25519 public key.' }),
  })
  .strict();

export const agencySchema = z
  .object({ id: z.string(), name: z.string(), country: z.string(), signingKey: hexString(32), createdAt: z.string() })
  .openapi('Agency');
export const agencyResponse = z.object({ agency: agencySchema });

export const postAgency = signedRoute({
  method: 'post',
  path: '/v1/admin/agencies',
  tags: ['admin'],
  summary: 'Register an agency and its signing key',
  request: { body: jsonBody(agencyBody) },
  responses: {
    200: jsonResponse(agencyResponse, 'The identical agency exists.'),
    201: jsonResponse(agencyResponse, 'Registered.'),
    409: problemResponse('`conflict`: the id exists with other data.'),
  },
});

export const agreementBody = z
  .object({
    id: agreementIdSchema,
    parties: z.array(agencyIdSchema).min(2).max(MAX_PARTIES),
    kinds: z.array(identifierKindSchema).min(1),
    mode: modeSchema,
    validFrom: dateSchema.optional().meta({ description: 'Default: today (UTC).' }),
    validUntil: dateSchema,
    maxSetSize: z.number().int().min(1).max(MAX_SET_SIZE).optional(),
    legalBasis: z.string().trim().min(1).max(500),
    purposes: z.array(z.string().min(1).max(64)).min(1).max(64).optional().meta({ description: "Each from the deployment's list; default: the whole list." }),
    queryQuota: z
      .object({
        perDay: z.number().int().min(0).max(1_000_000).optional(),
        maxValues: z.number().int().min(1).max(MAX_QUERY_VALUES).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const agreementSchema = z
  .object({
    id: z.string(),
    parties: z.array(z.string()),
    kinds: z.array(identifierKindSchema),
    mode: modeSchema,
    validFrom: z.string(),
    validUntil: z.string(),
    maxSetSize: z.number().int(),
    legalBasis: z.string(),
    purposes: z.array(z.string()),
    queryQuota: z.object({ perDay: z.number().int(), maxValues: z.number().int() }),
    createdAt: z.string(),
    version: z.number().int().min(1),
    status: agreementStatusSchema,
    terms: agreementTermsSchema,
    acceptances: z.array(acceptanceSchema),
    rejections: z.array(rejectionSchema),
    pairs: z.array(z.string()).meta({ description: 'The agreement’s pair ids, n·(n−1)/2 of them (pairs exist only while a version is `active`).' }),
  })
  .openapi('Agreement');
export const agreementResponse = z.object({ agreement: agreementSchema });
export const agreementsResponse = z.object({ agreements: z.array(agreementSchema) });

export const postAgreement = signedRoute({
  method: 'post',
  path: '/v1/admin/agreements',
  tags: ['admin'],
  summary: 'Propose an agreement (or a new version of one) between registered agencies',
  description:
    'Builds the canonical terms (protocol/SPEC.md §8.6) with each party’s registered signing key. A new id is version 1; ' +
    'other terms under an existing id are the next version. Every version starts `proposed` and is `active` once every party accepted it.',
  request: { body: jsonBody(agreementBody) },
  responses: {
    200: jsonResponse(agreementResponse, 'The latest version has identical terms.'),
    201: jsonResponse(agreementResponse, 'A new version, `proposed`.'),
  },
});

export const getAgreements = signedRoute({
  method: 'get',
  path: '/v1/admin/agreements',
  tags: ['admin'],
  summary: 'Every version of every agreement',
  responses: { 200: jsonResponse(agreementsResponse, 'By id, then version.') },
});

export const configBody = z
  .object({
    purposes: z.array(purposeSchema).min(1).max(64).optional(),
    retention: z
      .object({
        dataDays: z.number().int().min(0).max(36_500).nullable().optional(),
        idleDays: z.number().int().min(1).max(36_500).nullable().optional().meta({ description: 'Days without an upload by either side after which a pair’s data is purged; null: never.' }),
        auditDays: z.number().int().min(1).max(36_500).optional(),
      })
      .strict()
      .optional(),
    epochs: z
      .object({
        rotateDays: z.number().int().min(0).max(36_500).nullable().optional().meta({ description: 'Rotate once the current epoch is this many days old; 0 or null: only on demand.' }),
      })
      .strict()
      .optional(),
    probing: z
      .object({
        snapshotHours: z.number().int().min(1).max(8_760).optional(),
        snapshotMinChurn: z.number().int().min(1).max(MAX_SET_SIZE).optional(),
        snapshotMinChurnPercent: z.number().int().min(0).max(100).optional().meta({ description: 'Whole percent (audited entries hold integers only).' }),
        churnAlertPercent: z.number().int().min(1).max(1_000).optional().meta({ description: 'Whole percent.' }),
      })
      .strict()
      .optional()
      .meta({ description: 'Count-mode snapshots and churn alerts (protocol/SPEC.md §3.3).' }),
  })
  .strict();

export const probingSchema = z.object({
  snapshotHours: z.number().int(),
  snapshotMinChurn: z.number().int(),
  snapshotMinChurnPercent: z.number(),
  churnAlertPercent: z.number(),
});

export const configSchema = z
  .object({
    purposes: z.array(z.string()),
    retention: z.object({ dataDays: z.number().int().nullable(), idleDays: z.number().int().nullable(), auditDays: z.number().int() }),
    epochs: z.object({ rotateDays: z.number().int().nullable() }),
    probing: probingSchema,
  })
  .openapi('DeploymentConfig');

export const getConfig = signedRoute({
  method: 'get',
  path: '/v1/admin/config',
  tags: ['admin'],
  summary: 'The deployment configuration',
  responses: { 200: jsonResponse(configSchema, 'Purposes and retention.') },
});

export const putConfig = signedRoute({
  method: 'put',
  path: '/v1/admin/config',
  tags: ['admin'],
  summary: 'Change the purposes or retention',
  request: { body: jsonBody(configBody) },
  responses: { 200: jsonResponse(configSchema, 'The new configuration.') },
});

export const rotateResponse = z.object({ epoch: z.object({ id: z.string(), startedAt: z.string() }), previous: z.string() });

export const postRotate = signedRoute({
  method: 'post',
  path: '/v1/admin/epochs/rotate',
  tags: ['admin'],
  summary: 'Start the next epoch; clients re-blind on their next sync',
  request: { body: jsonBody(emptyBody) },
  responses: { 201: jsonResponse(rotateResponse, 'The new epoch.') },
});

const count = z.number().int().nonnegative();
export const purgeResponse = z.object({
  purged: z.object({
    pairEpochs: count,
    chunks: count,
    tokens: count,
    removals: count,
    canaries: count,
    matches: count,
    links: count,
    queryValues: count,
    quotaCounters: count,
    auditEntries: count,
  }),
});

export const postPurge = signedRoute({
  method: 'post',
  path: '/v1/admin/purge',
  tags: ['admin'],
  summary: 'Run the retention purge now',
  request: { body: jsonBody(emptyBody) },
  responses: { 200: jsonResponse(purgeResponse, 'What was removed.') },
});
