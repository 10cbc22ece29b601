// What the agency client requires of the way it reaches the coordinator
// (protocol/SPEC.md §5.3, "Network"): HTTPS to any coordinator that is not on
// this machine, and a coordinator that speaks the protocol this client
// speaks, checked on `GET /` before the first signed request (the SDK's
// `protocol` option, set by clients/sdk/agency-client.ts).
import { AgencyError, CoordinatorError } from '../sdk/errors.js';

export const INSECURE_HTTP_ENV = 'CONCORDAT_INSECURE_HTTP';
export const INSECURE_HTTP_WARNING = `WARNING: plain http to a non-loopback coordinator (${INSECURE_HTTP_ENV}=1): test rigs only`;

/** localhost, 127.0.0.0/8 and ::1: traffic that never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Refuses `http://` to a non-loopback coordinator unless
 * CONCORDAT_INSECURE_HTTP=1, in which case `warn` hears the warning (once per
 * run: every command loads the agency once). `what` names where the URL came from.
 */
export function checkCoordinatorUrl(url: string, what: string, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`), env: NodeJS.ProcessEnv = process.env): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AgencyError(`${what}: not a URL`);
  }
  if (u.protocol !== 'http:' || isLoopbackHost(u.hostname)) return;
  if (env[INSECURE_HTTP_ENV] === '1') {
    warn(INSECURE_HTTP_WARNING);
    return;
  }
  throw new AgencyError(
    `${what}: the coordinator ${u.host} is reached over plain http; a coordinator that is not on this machine must use https:// ` +
      `(set ${INSECURE_HTTP_ENV}=1 only on a test rig)`,
  );
}

/**
 * A coordinator that answered 503 `unavailable` after every retry (the SDK
 * retries 503 with backoff, honouring Retry-After up to its cap): its storage
 * is full or cannot be written, a state of the coordinator, not a bug of this
 * client. Nothing is lost here; the next run resumes.
 */
export function coordinatorUnavailable(e: unknown): string | undefined {
  if (!(e instanceof CoordinatorError) || e.status !== 503) return undefined;
  const storage = /\((SQLITE_[A-Z_]+)\)/.exec(e.detail ?? '')?.[1];
  const after = e.retryAfter ? `; it asked to retry after ${e.retryAfter} s` : '';
  return `coordinator storage full/unavailable (503${storage ? ` ${storage}` : ''}) on ${e.method} ${e.path}, retry later${after}; nothing was lost, run the command again`;
}
