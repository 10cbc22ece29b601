// Errors the SDK raises. Coordinator refusals arrive as RFC 9457 problem
// documents with stable slugs (src/API.md, "Conventions"); callers branch on
// `slug`, never on the human-readable title or detail.

export const PROBLEM_PREFIX = 'urn:concordat:problem:';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  field?: string;
  /** 429 quota refusals: the next UTC midnight, when the quota resets. */
  resetsAt?: string;
  /** 401 signature refusals: why. */
  reason?: string;
}

/** A response the coordinator refused (4xx) or failed on (5xx). */
export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
  readonly status: number;
  /** The problem type URI, e.g. `urn:concordat:problem:conflict`, or `about:blank`. */
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly field: string | undefined;
  readonly resetsAt: string | undefined;
  readonly reason: string | undefined;
  /** The Retry-After header, when the coordinator sent one. */
  readonly retryAfter: string | undefined;
  readonly method: string;
  readonly path: string;

  constructor(p: ProblemDocument & { method: string; path: string; retryAfter?: string }) {
    const where = `${p.method} ${p.path}`;
    const field = p.field ? ` (field ${p.field})` : '';
    super(`coordinator refused ${where}: ${p.status} ${p.title}${p.detail ? `: ${p.detail}` : ''}${field}`);
    this.status = p.status;
    this.type = p.type;
    this.title = p.title;
    this.detail = p.detail;
    this.field = p.field;
    this.resetsAt = p.resetsAt;
    this.reason = p.reason;
    this.retryAfter = p.retryAfter;
    this.method = p.method;
    this.path = p.path;
  }

  /** The stable slug (`conflict`, `stale-epoch`, …), or undefined for non-Concordat problems. */
  get slug(): string | undefined {
    return this.type.startsWith(PROBLEM_PREFIX) ? this.type.slice(PROBLEM_PREFIX.length) : undefined;
  }
}

/** The coordinator could not be reached (connection refused, reset, timeout) after every retry. */
export class CoordinatorUnreachableError extends Error {
  override readonly name = 'CoordinatorUnreachableError';
  constructor(
    readonly url: string,
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(`coordinator unreachable at ${url} after ${attempts} attempt(s): ${describeNetworkError(cause)}`);
  }
}

/** A response that does not have the shape src/API.md promises. */
export class ProtocolViolationError extends Error {
  override readonly name = 'ProtocolViolationError';
}

/**
 * An idempotent chunk upload hit 409: the coordinator already holds different
 * bytes under that index. Retrying cannot help; the local store and the
 * coordinator disagree about the side's history.
 */
export class ChunkConflictError extends Error {
  override readonly name = 'ChunkConflictError';
  constructor(
    readonly pair: string,
    readonly index: number,
    readonly what: 'chunk' | 'tokens',
    readonly problem: CoordinatorError,
  ) {
    super(
      what === 'chunk'
        ? `pair ${pair}: the coordinator holds different data for chunk ${index} of this agency's side. ` +
            'The local store and the coordinator disagree (was the agency directory restored from a backup, ' +
            'copied, or used with another coordinator?). Nothing was overwritten.'
        : `pair ${pair}: the coordinator holds different tokens for partner chunk ${index}. ` +
            "This agency's epoch key or the partner's chunk changed; nothing was overwritten.",
    );
    if (problem.detail) this.message += ` (coordinator: ${problem.detail})`;
  }
}

export function describeNetworkError(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'request timed out';
    const cause = (e as { cause?: unknown }).cause;
    const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
    if (code) return `${e.message} (${code})`;
    return cause instanceof Error && cause.message ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}
