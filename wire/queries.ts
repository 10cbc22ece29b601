// Targeted hit/no-hit queries (src/API.md part 2, "Targeted queries";
// protocol/SPEC.md §3.2): the requester's blinded values, the responder's
// evaluated elements with a DLEQ proof (RFC 9497 §2.2), the outcome with
// evidence for every hit (protocol/SPEC.md §8.11).
import { z } from '@hono/zod-openapi';
import { ELEMENT_BYTES, MAX_PARTNERS, MAX_QUERY_VALUES, MAX_WAIT_SECONDS, PROOF_BYTES } from './limits.js';
import { parseTimestamp } from '../protocol/signed-query.js';
import { agencyIdSchema, agreementIdSchema, epochIdSchema, hexSchema, hexString, identifierKindSchema, nonNegInt, pairParam, queryIdParam } from './primitives.js';
import { SIGNATURE_BYTES, agreementRefSchema } from './agreements.js';
import { signedEpochKeySchema } from './agency.js';
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

/** RFC 3339 §5.6 UTC time as the signed query has it (protocol/SPEC.md §8.9): `YYYY-MM-DDTHH:MM:SS[.mmm]Z`. */
export const timestampSchema = z
  .string()
  .refine((s) => parseTimestamp(s) !== undefined, 'must be an RFC 3339 UTC time YYYY-MM-DDTHH:MM:SS[.mmm]Z')
  .meta({ format: 'date-time' });

/**
 * One leg of a query: the partner asked, under which pair and agreement
 * version, in which epoch, and the requester's signature over the leg's
 * `query` statement `{id, requester, responder, pair, agreement, epoch, kind,
 * purpose, caseRef, count, valuesSha256, createdAt}` (protocol/SPEC.md §8.9).
 */
export const queryLegBody = z
  .object({
    partner: agencyIdSchema,
    agreement: z.object({ id: agreementIdSchema, version: z.number().int().min(1) }).strict(),
    pair: pairParam,
    epoch: epochIdSchema,
    signature: hexSchema(SIGNATURE_BYTES),
  })
  .strict();

export const createQueryBody = z
  .object({
    queryId: queryIdParam.meta({ description: 'Chosen by the requester: a fresh lower-case UUID, the `id` of every leg’s signed statement.' }),
    createdAt: timestampSchema,
    legs: z.array(queryLegBody).min(1).max(MAX_PARTNERS),
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
  summary: 'Ask partners whether they hold blinded values, one signed statement per partner',
  request: { body: jsonBody(createQueryBody) },
  responses: {
    201: jsonResponse(createQueryResponse, 'Created; one pending leg per partner.'),
    403: problemResponse('`no-agreement`, `count-mode`, `kind` or `purpose`: no agreement allows this query with a partner.'),
    409: problemResponse('`conflict`: the query id is taken, a leg names another pair or agreement version than the active one; `stale-epoch`.'),
    422: problemResponse('`validation`, or `bad-signature` (`field: "body.legs[i].signature"`): a leg’s statement does not verify under the requester’s registered key.'),
    429: problemResponse('`quota`: the agreement’s queries per day are used up (`resetsAt`).', retryAfterHeaders),
  },
});

/**
 * A pending leg addressed to the caller: with `responder` the caller,
 * `requester` = `from` and `count`/`valuesSha256` from `blinded`, the members
 * rebuild the requester's signed `query` statement (protocol/SPEC.md §8.9).
 */
export const inboxQuerySchema = z.object({
  queryId: z.string().min(1),
  from: z.string(),
  pair: z.string(),
  agreement: agreementRefSchema,
  kind: z.string(),
  purpose: z.string(),
  caseRef: z.string(),
  epoch: z.string().min(1),
  blinded: z.array(hexString(ELEMENT_BYTES)).min(1),
  createdAt: z.string(),
  signature: hexString(SIGNATURE_BYTES),
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
    409: problemResponse('`conflict` (answered differently, refused, or expired), `stale-epoch` or `epoch-key-required`.'),
  },
});

/** Why a responder refused a query: a protocol/SPEC.md §8.9 check name, or another short slug of the responder. */
export const refusalReasonSchema = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must match ^[a-z][a-z0-9-]{0,63}$');

export const refusalBody = z.object({ reason: refusalReasonSchema }).strict();
export const refusalResponse = z.object({ queryId: z.string(), status: z.literal('refused'), reason: z.string() });

export const postRefusal = signedRoute({
  method: 'post',
  path: '/v1/queries/{id}/refusal',
  tags: ['queries'],
  summary: 'Refuse a query addressed to the caller (its leg becomes `refused`); nothing is evaluated',
  request: { params: queryParams, body: jsonBody(refusalBody) },
  responses: {
    200: jsonResponse(refusalResponse, 'Recorded (also when the same refusal was recorded already).'),
    404: problemResponse('`not-found`: no such query addressed to the caller.'),
    409: problemResponse('`conflict`: the leg is answered, expired or refused for another reason.'),
  },
});

export const legStatusSchema = z.enum(['pending', 'answered', 'expired', 'refused']);
export const queryLegSchema = z.object({
  partner: z.string(),
  status: legStatusSchema,
  reason: z.string().optional().meta({ description: 'Legs `refused` only: the responder’s reason.' }),
  pair: z.string().optional(),
  agreement: agreementRefSchema.optional(),
  epoch: z.string().optional(),
  partnerEpochKey: signedEpochKeySchema
    .optional()
    .meta({ description: 'Answered legs: the responder’s key for the pair and epoch with its signed `epoch-key` statement (protocol/SPEC.md §8.7).' }),
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

/**
 * One hit with its evidence (protocol/SPEC.md §8.11): for value `index`,
 * `element` U = r⁻¹·E (the unblinded answer), `blindPublic` P = r·G and a DLEQ
 * proof that E = r·U, E being the responder's evaluated element for that value.
 */
export const hitEvidenceBody = z
  .object({
    index: z.number().int().min(0).max(MAX_QUERY_VALUES - 1),
    element: hexSchema(ELEMENT_BYTES),
    blindPublic: hexSchema(ELEMENT_BYTES),
    proof: hexSchema(PROOF_BYTES),
  })
  .strict();

export const outcomeBody = z
  .object({
    legs: z
      .array(
        z
          .object({
            partner: agencyIdSchema,
            hits: z.array(hitEvidenceBody).max(MAX_QUERY_VALUES),
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
    422: problemResponse(
      '`validation`, `field: "body.legs[i].hits[j].<member>"`: a hit whose evidence does not hold (protocol/SPEC.md §8.11) — the proof does not verify against the answer relayed, ' +
        'the element is not a live element of the responder’s side, or the side’s token for it is missing. Nothing of the report is recorded (`query.hit_refused`).',
    ),
  },
});
