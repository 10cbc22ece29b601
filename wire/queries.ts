// Targeted hit/no-hit queries (src/API.md part 2, "Targeted queries";
// protocol/SPEC.md §3.2): the requester's blinded values, the responder's
// evaluated elements with a DLEQ proof (RFC 9497 §2.2), the outcome by token.
import { z } from '@hono/zod-openapi';
import { ELEMENT_BYTES, MAX_PARTNERS, MAX_QUERY_VALUES, MAX_WAIT_SECONDS, PROOF_BYTES, TOKEN_BYTES } from './limits.js';
import { agencyIdSchema, epochIdSchema, hexSchema, hexString, identifierKindSchema, nonNegInt, queryIdParam } from './primitives.js';
import { jsonBody, jsonResponse, problemResponse, retryAfterHeaders, signedRoute } from './route.js';

const WAIT_RE = /^(\d{1,2})(\.\d{1,3})?$/;

/** `?wait=S`: seconds a long poll may hold the request, 0..30, up to millisecond precision. */
export const waitParam = z
  .string()
  .meta({ description: `Seconds to wait, 0..${MAX_WAIT_SECONDS} (at most three decimals).`, example: '25' })
  .refine((s) => WAIT_RE.test(s) && Number(s) <= MAX_WAIT_SECONDS, `seconds, 0..${MAX_WAIT_SECONDS}`)
  .transform(Number);

const waitQuery = z.object({ wait: waitParam.optional() });
const queryParams = z.object({ id: queryIdParam });

export const createQueryBody = z
  .object({
    partners: z.array(agencyIdSchema).min(1).max(MAX_PARTNERS),
    kind: identifierKindSchema,
    purpose: z.string().min(1).max(64),
    caseRef: z.string().trim().min(1).max(100),
    officer: z.string().trim().min(1).max(64),
    blinded: z.array(hexSchema(ELEMENT_BYTES)).min(1).max(MAX_QUERY_VALUES),
  })
  .strict();

export const createQueryResponse = z.object({
  queryId: z.string().min(1),
  legs: z.array(z.object({ partner: z.string(), status: z.string() })),
});

export const postQuery = signedRoute({
  method: 'post',
  path: '/v1/queries',
  tags: ['queries'],
  summary: 'Ask partners whether they hold blinded values (not idempotent: each call is a new query)',
  request: { body: jsonBody(createQueryBody) },
  responses: {
    201: jsonResponse(createQueryResponse, 'Created; one pending leg per partner.'),
    403: problemResponse('`no-agreement`, `count-mode`, `kind` or `purpose`: no agreement allows this query with a partner.'),
    429: problemResponse('`quota`: the agreement’s queries per day are used up (`resetsAt`).', retryAfterHeaders),
  },
});

export const inboxQuerySchema = z.object({
  queryId: z.string().min(1),
  from: z.string(),
  kind: z.string(),
  purpose: z.string(),
  caseRef: z.string(),
  epoch: z.string().min(1),
  blinded: z.array(hexString(ELEMENT_BYTES)).min(1),
  createdAt: z.string(),
});
export const inboxResponse = z.object({ queries: z.array(inboxQuerySchema) });

export const getInbox = signedRoute({
  method: 'get',
  path: '/v1/queries/inbox',
  tags: ['queries'],
  summary: 'Long poll for pending query legs addressed to the caller',
  request: { query: waitQuery },
  responses: { 200: jsonResponse(inboxResponse, 'Pending legs, oldest first; answers as soon as there is one.') },
});

export const answerBody = z
  .object({
    epoch: epochIdSchema,
    evaluated: z.array(hexSchema(ELEMENT_BYTES)).min(1).max(MAX_QUERY_VALUES),
    proof: hexSchema(PROOF_BYTES),
  })
  .strict();

export const answerResponse = z.object({ queryId: z.string(), status: z.literal('answered'), proofValid: z.boolean() });

export const postAnswer = signedRoute({
  method: 'post',
  path: '/v1/queries/{id}/answer',
  tags: ['queries'],
  summary: 'Answer a query addressed to the caller: evaluated elements and a batched DLEQ proof',
  request: { params: queryParams, body: jsonBody(answerBody) },
  responses: {
    200: jsonResponse(answerResponse, 'Stored and relayed; `proofValid` is the coordinator’s own check.'),
    404: problemResponse('`not-found`: no such query.'),
    409: problemResponse('`conflict` (answered differently, or expired), `stale-epoch` or `epoch-key-required`.'),
  },
});

export const legStatusSchema = z.enum(['pending', 'answered', 'expired']);
export const queryLegSchema = z.object({
  partner: z.string(),
  status: legStatusSchema,
  epoch: z.string().optional(),
  partnerEpochKey: hexString(ELEMENT_BYTES).optional(),
  evaluated: z.array(z.string()).optional(),
  proof: z.string().optional(),
  proofValid: z.boolean().optional(),
});
export const queryStateSchema = z.object({
  queryId: z.string(),
  kind: z.string(),
  purpose: z.string(),
  caseRef: z.string(),
  createdAt: z.string(),
  legs: z.array(queryLegSchema),
});

export const getQuery = signedRoute({
  method: 'get',
  path: '/v1/queries/{id}',
  tags: ['queries'],
  summary: "The requester's view of a query; with `wait`, a long poll for the next answer",
  request: { params: queryParams, query: waitQuery },
  responses: { 200: jsonResponse(queryStateSchema, 'The query and its legs.'), 404: problemResponse('`not-found`: no such query.') },
});

export const outcomeBody = z
  .object({
    legs: z
      .array(
        z
          .object({
            partner: agencyIdSchema,
            hits: z.array(z.object({ index: z.number().int().min(0).max(MAX_QUERY_VALUES - 1), token: hexSchema(TOKEN_BYTES) }).strict()).max(MAX_QUERY_VALUES),
            noHits: z.number().int().min(0).max(MAX_QUERY_VALUES),
            error: z.enum(['bad-proof', 'unanswered']).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_PARTNERS),
  })
  .strict();

export const outcomeResponse = z.object({
  legs: z.array(z.object({ partner: z.string(), hits: z.array(z.object({ index: nonNegInt, handle: z.string().min(1) })) })),
});

export const postOutcome = signedRoute({
  method: 'post',
  path: '/v1/queries/{id}/outcome',
  tags: ['queries'],
  summary: 'Report what the requester concluded per leg; hits come back with their handles',
  request: { params: queryParams, body: jsonBody(outcomeBody) },
  responses: {
    200: jsonResponse(outcomeResponse, 'Recorded (the identical report again returns the same handles).'),
    404: problemResponse('`not-found`: no such query.'),
    409: problemResponse('`conflict`: a leg is not answered, or was reported differently.'),
  },
});
