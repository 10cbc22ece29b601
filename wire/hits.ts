// Hits and their two-step status (src/API.md part 2, "Hits"): an officer of
// a holding agency confirms or declines each nightly match and query hit.
import { z } from '@hono/zod-openapi';
import { handleParam, isCalendarDate, nonNegInt } from './primitives.js';
import { ENTITY_TAG_PATTERN } from './agency.js';
import { jsonBody, jsonResponse, problemResponse, signedRoute } from './route.js';

export const hitStatusSchema = z.enum(['unverified', 'confirmed', 'declined']);

const ISO_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** `?status=`: one of the three; empty means no filter. */
export const hitStatusFilter = z.enum(['', ...hitStatusSchema.options], 'unverified, confirmed or declined');

/** `?since=`: a date `YYYY-MM-DD` or an ISO 8601 time, as an ISO time; empty means no filter. */
export const sinceFilter = z
  .string()
  .meta({ description: 'A date `YYYY-MM-DD` or an ISO 8601 time: hits created or changed since then.' })
  .refine((v) => v === '' || isCalendarDate(v) || (ISO_TIME_RE.test(v) && !Number.isNaN(Date.parse(v))), 'a date YYYY-MM-DD or an ISO 8601 time')
  .transform((v) => (v === '' ? undefined : new Date(isCalendarDate(v) ? `${v}T00:00:00Z` : v).toISOString()));

export const hitSchema = z
  .object({
    handle: z.string().min(1),
    pair: z.string(),
    partner: z.string(),
    source: z.enum(['nightly', 'query']),
    position: nonNegInt.optional().meta({ description: 'The holder’s own position in the epoch of the hit.' }),
    epoch: z.string(),
    status: hitStatusSchema,
    myStatus: z.string().nullable().optional(),
    partnerStatus: z.string().nullable().optional(),
    queryId: z.string().optional(),
    caseRef: z.string().optional(),
    purpose: z.string().optional(),
    createdAt: z.string(),
    confirmedAt: z.string().nullable().optional(),
  })
  .openapi('Hit');
export const hitsResponse = z.object({ hits: z.array(hitSchema) });

export const getHits = signedRoute({
  method: 'get',
  path: '/v1/hits',
  tags: ['hits'],
  summary: 'Hits where the caller is a party',
  request: {
    query: z.object({ status: hitStatusFilter.optional(), since: sinceFilter.optional() }),
    headers: z.object({
      'if-none-match': z.string().regex(ENTITY_TAG_PATTERN).optional().meta({ description: 'The ETag of the hits document the caller last applied (RFC 9110 §13.1.2).' }),
    }),
  },
  responses: {
    200: { ...jsonResponse(hitsResponse, 'Oldest first, with its ETag.'), headers: z.object({ etag: z.string().regex(ENTITY_TAG_PATTERN) }) },
    304: { description: 'The document named by If-None-Match is still current; no body.', headers: z.object({ etag: z.string().regex(ENTITY_TAG_PATTERN) }) },
  },
});

export const decisionBody = z
  .object({
    officer: z.string().trim().min(1).max(64),
    note: z.string().max(500).optional(),
  })
  .strict();

const decisionRoute = <D extends 'confirm' | 'decline'>(decision: D) =>
  signedRoute({
    method: 'post',
    path: `/v1/hits/{handle}/${decision}`,
    tags: ['hits'],
    summary: `${decision === 'confirm' ? 'Confirm' : 'Decline'} a hit the caller holds (final)`,
    request: { params: z.object({ handle: handleParam }), body: jsonBody(decisionBody) },
    responses: {
      200: jsonResponse(hitSchema, 'The hit as `GET /v1/hits` shows it to the caller.'),
      403: problemResponse('`forbidden`: the caller requested the query and does not hold the hit.'),
      404: problemResponse('`not-found`: no hit with this handle involves the caller.'),
      409: problemResponse('`conflict`: the other decision was already taken.'),
    },
  });

export const postConfirm = decisionRoute('confirm');
export const postDecline = decisionRoute('decline');
