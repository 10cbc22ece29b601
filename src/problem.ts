// RFC 9457 problem details. Every error the coordinator returns is one of
// these slugs (src/API.md, "Conventions"); a detail names the failing field or
// rule, never an identifier, a blinded element, a token or a key.

export const PROBLEM_STATUS = {
  signature: 401,
  forbidden: 403,
  'no-agreement': 403,
  'not-found': 404,
  conflict: 409,
  'stale-epoch': 409,
  validation: 422,
  'too-large': 413,
  internal: 500,
} as const;

export type ProblemSlug = keyof typeof PROBLEM_STATUS;

const TITLES: Record<ProblemSlug, string> = {
  signature: 'Request signature refused',
  forbidden: 'Forbidden',
  'no-agreement': 'No agreement covers this request',
  'not-found': 'Not found',
  conflict: 'Conflict',
  'stale-epoch': 'Stale epoch',
  validation: 'Validation failed',
  'too-large': 'Too large',
  internal: 'Internal error',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** How a refusal is written to the audit log (defaults: `request.refused`, the route, the slug). */
export interface ProblemAudit {
  action?: string;
  subject?: string;
  outcome?: string;
  actor?: string;
}

export interface ProblemOptions {
  field?: string;
  /** RFC 9457 §3.2 extension member: a stable machine-readable reason (signature refusals). */
  reason?: string;
  audit?: ProblemAudit | false;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
  reason?: string;
}

export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly status: number;
  readonly field: string | undefined;
  readonly reason: string | undefined;
  readonly audit: ProblemAudit | false;

  constructor(
    readonly slug: ProblemSlug,
    readonly detail: string,
    opts: ProblemOptions = {},
  ) {
    super(detail);
    this.status = PROBLEM_STATUS[slug];
    this.field = opts.field;
    this.reason = opts.reason;
    this.audit = opts.audit ?? {};
  }

  toJSON(): ProblemDocument {
    const doc = problemDocument(this.slug, this.detail, this.field);
    if (this.reason !== undefined) doc.reason = this.reason;
    return doc;
  }
}

export function problemDocument(slug: ProblemSlug, detail: string, field?: string): ProblemDocument {
  const doc: ProblemDocument = { type: `urn:concordat:problem:${slug}`, title: TITLES[slug], status: PROBLEM_STATUS[slug], detail };
  if (field !== undefined) doc.field = field;
  return doc;
}

export function problemResponse(doc: ProblemDocument): Response {
  return new Response(JSON.stringify(doc), { status: doc.status, headers: { 'content-type': PROBLEM_CONTENT_TYPE } });
}
