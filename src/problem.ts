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

/** Seconds a client is asked to wait after a storage failure (RFC 9110 §10.2.3); /readyz stays unready as long. */
export const STORAGE_RETRY_AFTER_S = 30;

/**
 * The storage failure underneath `err`, if any: SQLite's result codes for a
 * full disk or database (SQLITE_FULL), a read-only file or directory
 * (SQLITE_READONLY*), an I/O error (SQLITE_IOERR*), a file that cannot be
 * opened (SQLITE_CANTOPEN) or a lock held too long (SQLITE_BUSY), as
 * better-sqlite3 names them in `code` and as D1 and Durable Objects name them
 * in the message. Walks the `cause` chain (drizzle wraps driver errors).
 * These are states of the machine, not of the request: the answer is a
 * retryable 503, never "internal error".
 */
export function storageFailure(err: unknown): string | undefined {
  const re = /\b(SQLITE_(?:FULL|READONLY\w*|IOERR\w*|CANTOPEN\w*|BUSY\w*|NOMEM))\b|database or disk is full|attempt to write a readonly database|disk I\/O error|database is locked/i;
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (typeof e !== 'object') break;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|NOMEM)/.test(code)) return code;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') {
      const m = re.exec(message);
      if (m) return m[1]?.toUpperCase() ?? storageCodeOf(m[0]);
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function storageCodeOf(text: string): string {
  const t = text.toLowerCase();
  if (t.includes('full')) return 'SQLITE_FULL';
  if (t.includes('readonly')) return 'SQLITE_READONLY';
  if (t.includes('locked')) return 'SQLITE_BUSY';
  return 'SQLITE_IOERR';
}

/** The 503 a storage failure answers: a problem document with Retry-After, its cause only in the log line. */
export function storageProblem(code: string, cause: unknown): ProblemError {
  const what = code === 'SQLITE_FULL' ? 'full' : code.startsWith('SQLITE_READONLY') ? 'read-only' : code.startsWith('SQLITE_BUSY') ? 'busy' : 'unavailable';
  return new ProblemError('unavailable', `the coordinator's storage is ${what} (${code}); retry later`, {
    audit: false,
    extensions: { storage: code },
    headers: { 'Retry-After': String(STORAGE_RETRY_AFTER_S) },
    cause,
  });
}
