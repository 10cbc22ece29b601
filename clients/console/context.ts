// What the console's routes share: the agency client they act as, and the
// logged-in officer of each request.
import type { Context } from 'hono';
import type { Engine } from '../../protocol/engine/index.js';
import type { Agency } from '../agency/config.js';
import type { CoordinatorClient } from '../sdk/client.js';
import type { Store } from '../store/db.js';
import type { Session } from './security.js';

export interface ConsoleDeps {
  agency: Agency;
  /** The agency's local store (its own connection). */
  store: Store;
  client: CoordinatorClient;
  /** Engine of targeted queries (blinding, proof checks). */
  engine: Engine;
  now?: () => Date;
  /** One line per request: method, path, status, time. Never a body, never a query string. */
  log?: (line: string) => void;
  /** When the daemon will sync next (undefined: no schedule). */
  nextSync?: () => Date | undefined;
  /** `Host` header values the console answers to (DNS-rebinding defence); empty: any. */
  allowedHosts?: readonly string[];
  /** Adds `Secure` to the session cookie (served over https by a proxy). */
  secureCookie?: boolean;
  /** The caller's address, for login throttling. */
  addressOf?: (c: Context) => string;
  /** Seconds a console query waits for answers at most (default 60). */
  queryWaitMaxSeconds?: number;
}

export interface ConsoleEnv {
  Variables: { session: Session };
}

export class ConsoleProblem extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 502,
    readonly slug: string,
    override readonly message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
    /** Further members of the problem document (e.g. every bad value of a query). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const PROBLEM_PREFIX = 'urn:concordat:console:';

const TITLES: Record<string, string> = {
  unauthenticated: 'Not logged in',
  'bad-credentials': 'Wrong officer id or password',
  csrf: 'Missing or wrong CSRF token',
  origin: 'Cross-origin request refused',
  host: 'Unknown host',
  'not-found': 'Not found',
  invalid: 'Invalid request',
  'rate-limited': 'Too many attempts',
  coordinator: 'The coordinator could not be reached or failed',
  refused: 'Refused by the coordinator',
  agreement: 'Not allowed by the agreements this agency accepted',
  quota: 'Query quota used up',
  conflict: 'Conflict',
  'too-large': 'Request too large',
  internal: 'Internal error',
};

export function problemBody(p: ConsoleProblem): Record<string, unknown> {
  return {
    type: `${PROBLEM_PREFIX}${p.slug}`,
    title: TITLES[p.slug] ?? p.slug,
    status: p.status,
    detail: p.message,
    ...(p.field ? { field: p.field } : {}),
    ...p.extra,
  };
}
