// Types shared by the app factory, its middleware and the feature routes.
import type { ProofCheck } from '../protocol/hit-evidence.js';
import type { AuditDetail } from './audit.js';
import type { ElementChecker } from './elements.js';
import type { Notifier } from './notify.js';
import type { RefusalTracker } from './refusals.js';
import type { AgencyRecord, CoordinatorSecrets, Store } from './store/types.js';

/** One line per request (never bodies, never query values). */
export interface LogEntry {
  at: string;
  /** The request id (X-Request-Id), also in the answer's header and problem document. */
  reqId: string;
  method: string;
  /** Matched route pattern, e.g. `/v1/pairs/:pair/status`, or the path when none matched. */
  route: string;
  status: number;
  ms: number;
  /** keyid of a verified signature, or null. */
  actor: string | null;
  /** Name and message of an unexpected error (5xx only). */
  error?: string;
}

export interface Caller {
  keyid: string;
  /** The agency behind the keyid; absent for `admin`. */
  agency?: AgencyRecord;
}

export interface AppVariables {
  /** The request body, read once; the signature middleware verified Content-Digest over these bytes. */
  body: Uint8Array;
  /** SHA-256 of `body` (RFC 9530 `sha-256`), as verified. */
  bodySha256: Uint8Array;
  caller: Caller;
  /** Set by hono/request-id for every request (src/API.md, "Request ids"). */
  requestId: string;
}

export type AppEnv = { Variables: AppVariables };

export interface AuditRecordInput {
  actor: string;
  action: string;
  subject: string;
  outcome?: string;
  detail?: AuditDetail;
}

export interface Services {
  store: Store;
  now: () => Date;
  checkElements: ElementChecker;
  verifyProof: ProofVerifier;
  /** Wakes long polls; absent, they re-read the store every 250 ms. */
  notifier: Notifier | undefined;
  /** Aborted when the server begins to stop: a long poll then answers with what it has, at once (src/notify.ts). */
  draining: AbortSignal | undefined;
  secrets(): Promise<CoordinatorSecrets>;
  audit(entry: AuditRecordInput): Promise<void>;
  /** Refused authentication per source and hour (src/refusals.ts): what is audited in full, what only counted, who waits. */
  refusals: RefusalTracker;
}

/** Checks a responder's batched DLEQ proof against its epoch public key (CONCORDAT_SUITE). */
/** RFC 9497 §2.2.2 VerifyProof under a suite, with the engines' contract (protocol/hit-evidence.ts ProofCheck). */
export type ProofVerifier = ProofCheck;
