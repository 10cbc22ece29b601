// Agreements as signed documents (src/API.md, "Agreements"; protocol/SPEC.md
// §8.6): every version of an agreement is a set of canonical terms that each
// party accepts with its own Ed25519 signature. Only a version every party
// accepted (`active`) makes pairs.
import { z } from '@hono/zod-openapi';
import { MAX_PARTIES } from './limits.js';
import { agreementIdSchema, emptyBody, hexSchema, hexString, nonNegInt } from './primitives.js';
import { jsonBody, jsonResponse, problemResponse, signedRoute } from './route.js';

/** Bytes of an Ed25519 signature (RFC 8032 §5.1.6). */
export const SIGNATURE_BYTES = 64;

export const agreementStatusSchema = z.enum(['proposed', 'active', 'rejected', 'superseded']);
export type AgreementStatus = z.infer<typeof agreementStatusSchema>;

/** `{ id, version }`: which agreement, and which version of it (protocol/SPEC.md §8.3). */
export const agreementRefSchema = z
  .object({ id: z.string().min(1), version: z.number().int().min(1) })
  .openapi('AgreementRef');

/**
 * The terms exactly as the coordinator holds them (protocol/SPEC.md §8.6).
 * Loose on purpose: a client parses them with protocol/agreement.ts's strict
 * schema and signs or checks them, so a member the coordinator added must
 * reach that parse (and be refused there), not be stripped here.
 */
export const agreementTermsSchema = z
  .looseObject({
    id: z.string(),
    version: z.number().int().min(1),
    parties: z.array(z.looseObject({ agency: z.string(), signingKey: z.string() })).min(2).max(MAX_PARTIES),
    kinds: z.array(z.string()),
    mode: z.enum(['reveal', 'count']),
    purposes: z.array(z.string()),
    validFrom: z.string(),
    validUntil: z.string(),
    maxSetSize: z.number().int(),
    queryQuota: z.looseObject({ perDay: z.number().int(), maxValues: z.number().int() }),
    legalBasis: z.string(),
  })
  .openapi('AgreementTerms', { description: 'Canonical agreement terms (protocol/SPEC.md §8.6): what each party signs, as `Sign("agreement", terms, sk)`.' });

export const acceptanceSchema = z
  .object({
    agency: z.string(),
    signature: hexString(SIGNATURE_BYTES).meta({ description: 'Ed25519 over the `agreement` document (protocol/SPEC.md §8.3, §8.6).' }),
    acceptedAt: z.string(),
  })
  .openapi('Acceptance');
export const rejectionSchema = z.object({ agency: z.string(), rejectedAt: z.string() }).openapi('Rejection');

/** One version of an agreement as a party sees it. */
export const agreementVersionSchema = z
  .object({
    terms: agreementTermsSchema,
    status: agreementStatusSchema,
    acceptances: z.array(acceptanceSchema),
    rejections: z.array(rejectionSchema),
  })
  .openapi('AgreementVersion');
export const agreementVersionsResponse = z.object({ agreements: z.array(agreementVersionSchema) });
export const agreementVersionResponse = z.object({ agreement: agreementVersionSchema });

export const getAgreementVersions = signedRoute({
  method: 'get',
  path: '/v1/agreements',
  tags: ['agreements'],
  summary: 'Every proposed or active agreement version that involves the caller',
  responses: { 200: jsonResponse(agreementVersionsResponse, 'Oldest first (by id, then version).') },
});

const versionParam = z
  .string()
  .regex(/^[1-9][0-9]{0,8}$/, 'must be a positive integer')
  .transform(Number)
  .meta({ description: 'The version, 1, 2, …' });
export const agreementVersionParams = z.object({ id: agreementIdSchema, version: versionParam });
/** Routing patterns of the two path parameters (a path that does not match is 404). */
export const AGREEMENT_VERSION_PATTERNS = { id: '[a-z0-9][a-z0-9-]{0,63}', version: '[1-9][0-9]{0,8}' } as const;

export const acceptanceBody = z
  .object({
    signature: hexSchema(SIGNATURE_BYTES).meta({ description: 'The caller’s `Sign("agreement", terms, sk)` (protocol/SPEC.md §8.6).' }),
  })
  .strict();

export const postAcceptance = signedRoute({
  method: 'post',
  path: '/v1/agreements/{id}/versions/{version}/acceptance',
  tags: ['agreements'],
  summary: 'Accept one version of an agreement with the caller’s signature over its terms (idempotent)',
  description:
    'The coordinator verifies the signature under the signing key the terms list for the caller. ' +
    'When every party has accepted, the version becomes `active` and the previously active version `superseded`.',
  request: { params: agreementVersionParams, body: jsonBody(acceptanceBody) },
  responses: {
    200: jsonResponse(agreementVersionResponse, 'Accepted (also when the caller had accepted already).'),
    403: problemResponse('`forbidden`: the caller is not a party.'),
    404: problemResponse('`not-found`: no such agreement version.'),
    409: problemResponse('`conflict`: the version is rejected or superseded.'),
    422: problemResponse('`bad-signature` (`field: "body.signature"`): the signature does not verify under the caller’s key in the terms.'),
  },
});

export const postRejection = signedRoute({
  method: 'post',
  path: '/v1/agreements/{id}/versions/{version}/rejection',
  tags: ['agreements'],
  summary: 'Reject a proposed version of an agreement (idempotent)',
  request: { params: agreementVersionParams, body: jsonBody(emptyBody) },
  responses: {
    200: jsonResponse(agreementVersionResponse, 'Rejected (also when already rejected).'),
    403: problemResponse('`forbidden`: the caller is not a party.'),
    404: problemResponse('`not-found`: no such agreement version.'),
    409: problemResponse('`conflict`: the version is active or superseded.'),
  },
});
