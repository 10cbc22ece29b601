// The signed coordinator client of one agency directory: its agency id is the
// signature keyid and signing.key signs every request (src/API.md,
// "Authentication"). Every agency command builds its client here, so retries
// are logged the same way everywhere.
import { CoordinatorClient } from './client.js';
import { nodeEd25519Sign } from './node-ed25519.js';

/** What the client needs from an agency directory (clients/agency/config.ts loads it). */
export interface AgencyCredentials {
  /** The agency id, e.g. `ES-CNP`. */
  agency: string;
  /** The coordinator's base URL from agency.json. */
  coordinator: string;
  /** The Ed25519 secret key of signing.key. */
  signingKey: Uint8Array;
}

/** The protocol this client speaks, as the coordinator's `GET /` names it (src/API.md, "Unauthenticated"). */
export const CLIENT_PROTOCOL = 'concordat-v2';

export interface AgencyClientOptions {
  retries?: number;
  timeoutMs?: number;
  backoffMaxMs?: number;
  /** Hears one line per retried request. */
  warn?: (line: string) => void;
  /** Prefix of those lines: the command that retries; default `sync`. */
  label?: string;
}

export function agencyClient(agency: AgencyCredentials, o: AgencyClientOptions = {}): CoordinatorClient {
  const label = o.label ?? 'sync';
  return new CoordinatorClient({
    baseUrl: agency.coordinator,
    keyId: agency.agency,
    secretKey: agency.signingKey,
    protocol: CLIENT_PROTOCOL,
    sign: nodeEd25519Sign,
    ...(o.retries !== undefined ? { retries: o.retries } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.backoffMaxMs !== undefined ? { backoffMaxMs: o.backoffMaxMs } : {}),
    onRetry: (e) => o.warn?.(`${label}: ${e.method} ${e.path} failed (${e.reason}); retry ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s`),
  });
}
