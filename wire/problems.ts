// RFC 9457 problem details: the stable slugs, their statuses and titles
// (src/API.md, "Conventions"). A problem's `type` is the slug under
// PROBLEM_TYPE_PREFIX; clients branch on the slug, never on title or detail.
import { z } from '@hono/zod-openapi';
import type { SignatureFailure } from '../protocol/http-signature.js';

export const PROBLEM_TYPE_PREFIX = 'urn:concordat:problem:';

export const PROBLEM_STATUS = {
  signature: 401,
  'protocol-version': 401,
  forbidden: 403,
  'no-agreement': 403,
  purpose: 403,
  kind: 403,
  'count-mode': 403,
  'not-found': 404,
  conflict: 409,
  'stale-epoch': 409,
  'epoch-key-required': 409,
  'upload-cap': 409,
  validation: 422,
  'bad-signature': 422,
  'too-large': 413,
  quota: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ProblemSlug = keyof typeof PROBLEM_STATUS;

export const PROBLEM_SLUGS = Object.keys(PROBLEM_STATUS) as ProblemSlug[];

export const PROBLEM_TITLES: Readonly<Record<ProblemSlug, string>> = {
  signature: 'Request signature refused',
  'protocol-version': 'Protocol version not spoken',
  forbidden: 'Forbidden',
  'no-agreement': 'No agreement covers this request',
  purpose: 'Purpose not allowed',
  kind: 'Identifier kind not allowed',
  'count-mode': 'Count-mode agreements allow no targeted queries',
  'not-found': 'Not found',
  conflict: 'Conflict',
  'stale-epoch': 'Stale epoch',
  'epoch-key-required': 'Epoch key required',
  'upload-cap': 'Per-epoch upload cap reached',
  validation: 'Validation failed',
  'bad-signature': 'Document signature refused',
  'too-large': 'Too large',
  quota: 'Query quota used up',
  internal: 'Internal error',
  unavailable: 'Service unavailable',
};

/** Why a signature was refused (the `reason` member of a 401), as protocol/http-signature.ts names it. */
export const SIGNATURE_REASONS = ['missing', 'malformed', 'components', 'algorithm', 'unknown-key', 'stale', 'digest', 'bad-signature', 'replay'] as const satisfies readonly SignatureFailure[];

export function problemType(slug: ProblemSlug): string {
  return `${PROBLEM_TYPE_PREFIX}${slug}`;
}

export const problemSchema = z
  .object({
    type: z.enum(PROBLEM_SLUGS.map(problemType) as [string, ...string[]]),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().meta({ description: 'Names the failing field or rule; never an identifier, element, token or key.' }),
    field: z.string().optional().meta({ description: 'The failing field, e.g. `body.parties`, `element[17]`, `path.index`, `query.wait`.' }),
    reason: z.enum(SIGNATURE_REASONS).optional().meta({ description: 'Signature refusals (401): why.' }),
    resetsAt: z.string().optional().meta({ description: 'Quota refusals (429): the next UTC midnight, when the quota resets.' }),
    requestId: z.string().optional().meta({ description: 'The request id, as in the `X-Request-Id` response header and the coordinator log line.' }),
  })
  .openapi('Problem', { description: 'An RFC 9457 problem document (src/API.md, "Conventions").' });
export type Problem = z.infer<typeof problemSchema>;
