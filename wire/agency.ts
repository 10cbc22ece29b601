// The calling agency's context, its pending partner work and
// its results (src/API.md, "Agency: context", "Agency: partner work",
// "Matching, canaries, results").
//
// Response schemas are what a client may rely on: objects tolerate unknown
// keys (a newer coordinator may add members), and the members of part 2
// (targeted queries) are optional because coordinators without queries omit them.
import { z } from '@hono/zod-openapi';
import { ELEMENT_BYTES } from './limits.js';
import { hexString, nonNegInt } from './primitives.js';
import { SIGNATURE_BYTES, agreementRefSchema } from './agreements.js';
import { jsonResponse, signedRoute } from './route.js';
import { auditLogKeySchema } from './audit.js';

/**
 * A published per-pair epoch key and its owner's signature over the
 * `epoch-key` statement `{agency, epoch, pair, agreement, publicKey}`
 * (protocol/SPEC.md §8.7); the reader rebuilds the statement from what it
 * expects and verifies it with the owner's pinned key.
 */
export const signedEpochKeySchema = z
  .object({
    publicKey: hexString(ELEMENT_BYTES),
    signature: hexString(SIGNATURE_BYTES),
  })
  .openapi('SignedEpochKey');

export const pairStateSchema = z.enum(['waiting', 'complete', 'failed']);
export const modeSchema = z.enum(['reveal', 'count']);

export const mePairSchema = z
  .object({
    pair: z.string().min(1),
    agreement: z.string().min(1),
    partner: z.string().min(1),
    mode: modeSchema,
    kinds: z.array(z.string()),
    validUntil: z.string(),
    maxSetSize: nonNegInt,
    agreementVersion: z.number().int().min(1).meta({ description: 'The active version of the agreement that makes the pair.' }),
    myEpochKey: signedEpochKeySchema.nullable(),
    partnerEpochKey: signedEpochKeySchema.nullable(),
    purposes: z.array(z.string()).optional().meta({ description: 'Purposes still on the deployment list.' }),
    queryQuota: z.object({ perDay: nonNegInt, maxValues: nonNegInt }).partial().optional(),
    queriesLeftToday: nonNegInt.optional(),
  })
  .openapi('MePair');

export const meResponse = z
  .object({
    agency: z.object({ id: z.string(), name: z.string(), country: z.string() }),
    epoch: z.object({ id: z.string().min(1), startedAt: z.string() }),
    pairs: z.array(mePairSchema),
    auditLog: auditLogKeySchema.optional().meta({ description: 'The key that signs the audit log’s tree heads (GET /v1/audit/head): pin it. Absent from coordinators without the transparency log.' }),
  })
  .openapi('Me');

export const getMe = signedRoute({
  method: 'get',
  path: '/v1/me',
  tags: ['agency'],
  summary: "The caller's agency, the current epoch and its pairs of agreements valid today",
  responses: { 200: jsonResponse(meResponse, 'The calling agency’s context.') },
});

/**
 * A chunk to tokenise, with the uploader's signed `chunk` manifest
 * `{pair, agreement, epoch, agency: partner, index, firstPosition, count, sha256}`
 * (protocol/SPEC.md §8.8): the tokenising agency checks it against what it
 * expects before it evaluates anything.
 */
export const workTaskSchema = z.object({
  pair: z.string(),
  partner: z.string(),
  agreement: agreementRefSchema,
  epoch: z.string(),
  index: nonNegInt,
  firstPosition: nonNegInt,
  count: z.number().int().positive(),
  sha256: hexString(32),
  signature: hexString(SIGNATURE_BYTES),
});
export const workResponse = z.object({ tasks: z.array(workTaskSchema) });

export const getWork = signedRoute({
  method: 'get',
  path: '/v1/work',
  tags: ['pairs'],
  summary: "Chunks of partners' sides the caller has not tokenised yet",
  responses: { 200: jsonResponse(workResponse, 'Pending partner work; a pair’s work is listed once the caller published its epoch key for the pair.') },
});

export const pairResultSchema = z.object({
  pair: z.string(),
  agreement: z.string(),
  partner: z.string(),
  mode: modeSchema,
  state: pairStateSchema,
  reason: z.string().optional(),
  count: nonNegInt.optional().meta({ description: '`count` pairs in state `complete` only: the count of the pair’s latest snapshot (protocol/SPEC.md §3.3).' }),
  countTakenAt: z.string().optional().meta({ description: 'With `count`: when that snapshot was taken.' }),
  matches: z
    .array(z.object({ position: nonNegInt, handle: z.string().min(1), firstSeen: z.string() }))
    .optional()
    .meta({ description: '`reveal` pairs in state `complete` only: the caller’s own matched positions.' }),
});
export const resultsResponse = z.object({ epoch: z.string(), pairs: z.array(pairResultSchema) });

/**
 * A strong entity tag (RFC 9110 §8.8.3) of a results or hits document: an
 * opaque quoted string of at most 100 visible characters. A client sends back
 * only the tag of a document it verified and applied; a 304 then stands for
 * that same document, which the coordinator could have replayed anyway.
 */
export const ENTITY_TAG_PATTERN = /^"[\x21\x23-\x7e]{1,98}"$/;

export const getResults = signedRoute({
  method: 'get',
  path: '/v1/results',
  tags: ['pairs'],
  summary: 'Results per pair, released only for complete pairs',
  request: {
    headers: z.object({
      'if-none-match': z.string().regex(ENTITY_TAG_PATTERN).optional().meta({ description: 'The ETag of the results document the caller last applied (RFC 9110 §13.1.2).' }),
    }),
  },
  responses: {
    200: { ...jsonResponse(resultsResponse, 'One entry per pair of the caller, with its ETag.'), headers: z.object({ etag: z.string().regex(ENTITY_TAG_PATTERN) }) },
    304: { description: 'The document named by If-None-Match is still current; no body.', headers: z.object({ etag: z.string().regex(ENTITY_TAG_PATTERN) }) },
  },
});
