// Turns what the coordinator said (or that it said nothing) into a console
// problem. The coordinator's own problem documents name rules and fields,
// never values, so their title and detail can be shown to the officer.
import { CoordinatorError, CoordinatorUnreachableError, ProtocolViolationError } from '../sdk/errors.js';
import { ConsoleProblem } from './context.js';

export function coordinatorProblem(e: unknown): ConsoleProblem | undefined {
  if (e instanceof CoordinatorError) {
    const what = `${e.title}${e.detail ? `: ${e.detail}` : ''}`;
    if (e.status === 429) {
      const headers: Record<string, string> = e.retryAfter ? { 'Retry-After': e.retryAfter } : {};
      return new ConsoleProblem(429, 'quota', `${what}${e.resetsAt ? ` (resets at ${e.resetsAt})` : ''}`, undefined, headers);
    }
    if (e.status === 409) return new ConsoleProblem(409, 'conflict', what);
    if (e.status === 404) return new ConsoleProblem(404, 'not-found', what);
    // The coordinator's reason (purpose, kind, no-agreement …) is in the detail; the slug says who refused.
    if (e.status === 403) return new ConsoleProblem(403, 'refused', what);
    if (e.status === 422) return new ConsoleProblem(422, 'invalid', what, e.field);
    return new ConsoleProblem(502, 'coordinator', `the coordinator answered ${e.status}: ${what}`);
  }
  // The SDK wraps every network failure, after its retries, in CoordinatorUnreachableError.
  if (e instanceof CoordinatorUnreachableError) return new ConsoleProblem(502, 'coordinator', e.message);
  if (e instanceof ProtocolViolationError) return new ConsoleProblem(502, 'coordinator', `the coordinator's answer broke the API contract: ${e.message}`);
  return undefined;
}

/** Rethrows `e` as a console problem when it came from the coordinator. */
export function rethrowCoordinator(e: unknown): never {
  throw coordinatorProblem(e) ?? e;
}

export function reachErrorText(e: unknown): string {
  return coordinatorProblem(e)?.message ?? (e instanceof Error ? e.message : String(e));
}
