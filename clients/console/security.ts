// Sessions, CSRF tokens and login throttling of the investigator console.
// Sessions live in the serving process only: a restart logs every officer
// out, which is the safe failure for a console that can reveal hits.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'concordat_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_MAX_MS = 12 * 3600_000;
export const LOGIN_WINDOW_MS = 15 * 60_000;
/** Per officer id. */
export const LOGIN_MAX_FAILURES = 5;
/**
 * Per client address: higher, because every officer of a loopback console
 * shares 127.0.0.1 and one officer's typos must not lock the others out.
 */
export const LOGIN_MAX_FAILURES_PER_ADDRESS = 20;

export interface Session {
  officer: { id: string; name: string };
  csrf: string;
  /** The officer's sign-in before this one (or when the officer was added): the overview's "since". */
  since: string | null;
  createdAt: number;
  lastSeen: number;
}

const token = (): string => randomBytes(32).toString('base64url');
/** The map is keyed by a hash of the cookie, so a heap dump does not hold usable cookies. */
const keyOf = (cookie: string): string => createHash('sha256').update(cookie).digest('base64url');

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  create(officer: { id: string; name: string }, since: string | null = null): { cookie: string; session: Session } {
    this.sweep();
    const cookie = token();
    const t = this.now();
    const session: Session = { officer, csrf: token(), since, createdAt: t, lastSeen: t };
    this.sessions.set(keyOf(cookie), session);
    return { cookie, session };
  }

  /** The live session of a cookie (and marks it used), or undefined. */
  get(cookie: string | undefined): Session | undefined {
    if (!cookie || cookie.length > 100) return undefined;
    const k = keyOf(cookie);
    const s = this.sessions.get(k);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastSeen > SESSION_IDLE_MS || t - s.createdAt > SESSION_MAX_MS) {
      this.sessions.delete(k);
      return undefined;
    }
    s.lastSeen = t;
    return s;
  }

  delete(cookie: string | undefined): void {
    if (cookie) this.sessions.delete(keyOf(cookie));
  }

  /** Ends every session of an officer (e.g. when the officer is disabled). */
  deleteOfficer(id: string): void {
    for (const [k, s] of this.sessions) if (s.officer.id === id) this.sessions.delete(k);
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, s] of this.sessions) if (t - s.lastSeen > SESSION_IDLE_MS || t - s.createdAt > SESSION_MAX_MS) this.sessions.delete(k);
  }
}

export function csrfMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Failed logins per key (an officer id, a client address) in a sliding
 * window. Both keys are checked, so neither guessing many passwords for one
 * officer nor one password for many officers gets far.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds until the keys may try again, or 0. Each key comes with its own limit. */
  blockedFor(keys: ReadonlyArray<readonly [key: string, max: number]>): number {
    const t = this.now();
    let wait = 0;
    for (const [k, max] of keys) {
      const list = this.recent(k, t);
      if (list.length >= max) wait = Math.max(wait, (list[list.length - max] as number) + LOGIN_WINDOW_MS - t);
    }
    return wait;
  }

  fail(keys: ReadonlyArray<readonly [key: string, max: number]>): void {
    const t = this.now();
    for (const [k] of keys) this.failures.set(k, [...this.recent(k, t), t]);
    if (this.failures.size > 10_000) for (const k of this.failures.keys()) if (this.recent(k, t).length === 0) this.failures.delete(k);
  }

  /** A successful login clears its officer's count (not the address's: others may be guessing from there). */
  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(k: string, t: number): number[] {
    return (this.failures.get(k) ?? []).filter((x) => t - x < LOGIN_WINDOW_MS);
  }
}

/**
 * The strict policy the console's pages are built for: only its own script
 * and style files, no inline code, no framing, nothing fetched elsewhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};
