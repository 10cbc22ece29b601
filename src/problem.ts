// RFC 9457 problem details. Every error the coordinator returns is one of
// these slugs (src/API.md, "Conventions"); a detail names the failing field or
// rule, never an identifier, a blinded element, a token or a key.
import type { AuditDetail, JsonValue } from './audit.js';

export const PROBLEM_STATUS = {
  signature: 401,
  forbidden: 403,
  'no-agreement': 403,
  purpose: 403,
  kind: 403,
  'count-mode': 403,
  'not-found': 404,
  conflict: 409,
  'stale-epoch': 409,
  'epoch-key-required': 409,
  validation: 422,
  'too-large': 413,
  quota: 429,
  internal: 500,
} as const;

export type ProblemSlug = keyof typeof PROBLEM_STATUS;

const TITLES: Record<ProblemSlug, string> = {
  signature: 'Request signature refused',
  forbidden: 'Forbidden',
  'no-agreement': 'No agreement covers this request',
  purpose: 'Purpose not allowed',
  kind: 'Identifier kind not allowed',
  'count-mode': 'Count-mode agreements allow no targeted queries',
  'not-found': 'Not found',
  conflict: 'Conflict',
  'stale-epoch': 'Stale epoch',
  'epoch-key-required': 'Epoch key required',
  validation: 'Validation failed',
  'too-large': 'Too large',
  quota: 'Query quota used up',
  internal: 'Internal error',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** How a refusal is written to the audit log (defaults: `request.refused`, the route, the slug). */
export interface ProblemAudit {
  action?: string;
  subject?: string;
  outcome?: string;
  actor?: string;
  /** Merged into the entry's detail (never an identifier, element or token). */
  detail?: AuditDetail;
}

export interface ProblemOptions {
  field?: string;
  /** RFC 9457 §3.2 extension member: a stable machine-readable reason (signature refusals). */
  reason?: string;
  audit?: ProblemAudit | false;
  /** Further RFC 9457 §3.2 extension members, e.g. `resetsAt` of a quota refusal. */
  extensions?: { [key: string]: JsonValue };
  /** Response headers, e.g. `Retry-After` (RFC 9110 §10.2.3). */
  headers?: Record<string, string>;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
  reason?: string;
  [extension: string]: JsonValue | undefined;
}

export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly status: number;
  readonly field: string | undefined;
  readonly reason: string | undefined;
  readonly audit: ProblemAudit | false;
  readonly extensions: { [key: string]: JsonValue };
  readonly headers: Record<string, string>;

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
    this.extensions = opts.extensions ?? {};
    this.headers = opts.headers ?? {};
  }

  toJSON(): ProblemDocument {
    const doc: ProblemDocument = { ...this.extensions, ...problemDocument(this.slug, this.detail, this.field) };
    if (this.reason !== undefined) doc.reason = this.reason;
    return doc;
  }
}

export function problemDocument(slug: ProblemSlug, detail: string, field?: string): ProblemDocument {
  const doc: ProblemDocument = { type: `urn:concordat:problem:${slug}`, title: TITLES[slug], status: PROBLEM_STATUS[slug], detail };
  if (field !== undefined) doc.field = field;
  return doc;
}

export function problemResponse(doc: ProblemDocument, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(doc), { status: doc.status, headers: { ...headers, 'content-type': PROBLEM_CONTENT_TYPE } });
}
