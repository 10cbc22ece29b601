// RFC 9457 problem details. Every error the coordinator returns is one of
// the contract's slugs (wire/problems.ts, src/API.md "Conventions"); a detail
// names the failing field or rule, never an identifier, a blinded element, a
// token or a key.
import { PROBLEM_STATUS, PROBLEM_TITLES, PROBLEM_TYPE, problemType, type ProblemSlug } from '../wire/index.js';
import type { AuditDetail, JsonValue } from './audit.js';

export type { ProblemSlug };

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
  /** What went wrong underneath (a 503's storage error): in the log line, never in the answer. */
  cause?: unknown;
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
    super(detail, opts.cause === undefined ? undefined : { cause: opts.cause });
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
  const doc: ProblemDocument = { type: problemType(slug), title: PROBLEM_TITLES[slug], status: PROBLEM_STATUS[slug], detail };
  if (field !== undefined) doc.field = field;
  return doc;
}

export function problemResponse(doc: ProblemDocument, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(doc), { status: doc.status, headers: { ...headers, 'content-type': PROBLEM_TYPE } });
}
