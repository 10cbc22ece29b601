// Every error the agency client raises, and the exit codes of the `concordat`
// agency commands (clients/README-cli.md, "Exit codes"). Coordinator refusals
// arrive as RFC 9457 problem documents with stable slugs (src/API.md,
// "Conventions"); callers branch on `slug`, never on the human-readable title
// or detail.

/**
 * Exit codes of every agency command. Operators' scripts branch on them, so
 * each keeps its meaning across releases (clients/README-cli.md, "Exit codes").
 */
export const EXIT = {
  ok: 0,
  /** Bad arguments or files, a refused request, an error in some pair. */
  error: 1,
  /** `query`: a bad argument or value; nothing was sent. */
  usage: 2,
  /** `sync` finished, but a pair failed its canary check. */
  pairFailed: 3,
  /** `query`: a partner's answer failed its proof (never a "no hit"). */
  badProof: 4,
  /** `query`: no partner's answer could be used yet; resume with `--status`. */
  unanswered: 5,
  /** `sync`, `audit check|compare|verify-export`: the coordinator's audit transparency log failed a check (a changed log key, a bad signature, a rollback, a rewritten or forked history, an entry that does not verify). */
  auditLog: 6,
  /** The coordinator could not be reached, or answered 503 (its storage full or read-only, maintenance): nothing was lost; run the command again later. For `sync`, every error of the run was of this kind. */
  unavailable: 7,
  /** `serve`: a second SIGINT or SIGTERM while it was stopping (128 + SIGINT, the shell's convention). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A problem the CLI reports in one line, without a stack (exit 1). */
export class AgencyError extends Error {
  override readonly name: string = 'AgencyError';
  readonly exitCode: ExitCode = EXIT.error;
}

/** A bad argument or value of `query`, refused before anything is sent (exit 2). Never carries an identifier value. */
export class UsageError extends AgencyError {
  override readonly name: string = 'UsageError';
  override readonly exitCode: ExitCode = EXIT.usage;
}

/**
 * The coordinator's audit transparency log (protocol/SPEC.md §9) failed a
 * check: `check` names which, `detail` carries sizes and seq (never an
 * identifier). Exit 6.
 */
export class AuditLogError extends AgencyError {
  override readonly name: string = 'AuditLogError';
  override readonly exitCode: ExitCode = EXIT.auditLog;
  constructor(
    readonly check: string,
    message: string,
    readonly detail: Record<string, string | number | null> = {},
  ) {
    super(message);
  }
}

/** `GET /` names another protocol than the client's (or none): nothing signed is sent. */
export class ProtocolMismatchError extends AgencyError {
  override readonly name: string = 'ProtocolMismatchError';
  constructor(url: string, theirs: unknown, ours: string) {
    const named = typeof theirs === 'string' && theirs !== '' ? JSON.stringify(theirs.slice(0, 40)) : 'an older protocol';
    super(`the coordinator at ${url} speaks ${named}; this client speaks ${ours}`);
  }
}

/** The exit code a command that failed with `e` ends with. */
export function exitCodeFor(e: unknown): ExitCode {
  if (isCoordinatorUnavailable(e)) return EXIT.unavailable;
  return e instanceof AgencyError ? e.exitCode : EXIT.error;
}

/**
 * The coordinator was not there to answer — unreachable after every retry, or
 * 503 (storage full or read-only, maintenance): retrying later can succeed
 * and nothing was lost. A 500 is not: that is a fault to look into.
 */
export function isCoordinatorUnavailable(e: unknown): boolean {
  return e instanceof CoordinatorUnreachableError || (e instanceof CoordinatorError && e.status === 503);
}

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

/**
 * The coordinator's epoch is not the one a sync started in, seen in GET /v1/work
 * rather than as a `409 stale-epoch` refusal (src/API.md, "Epochs").
 */
export class StaleEpochError extends Error {
  override readonly name = 'StaleEpochError';
}

/** The coordinator moved to another epoch than the one the request named: start over in the new one. */
export function isStaleEpoch(e: unknown): boolean {
  return e instanceof StaleEpochError || (e instanceof CoordinatorError && e.slug === 'stale-epoch');
}

/** The coordinator has no epoch key of this agency for the epoch (it derives from epoch.seed: publish it again). */
export function isEpochKeyRequired(e: unknown): boolean {
  return e instanceof CoordinatorError && e.slug === 'epoch-key-required';
}

/** Errors that end a whole sync instead of one pair's work: the coordinator unreachable, a new epoch, a shutdown. */
export function endsSync(e: unknown): boolean {
  return e instanceof CoordinatorUnreachableError || isStaleEpoch(e) || (e instanceof Error && e.name === 'AbortError');
}

/** One line for a log: the coordinator's refusal as it stated it, a network failure by its cause. */
export function describeFailure(e: unknown): string {
  return e instanceof CoordinatorError ? e.message : e instanceof Error ? describeNetworkError(e) : String(e);
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
