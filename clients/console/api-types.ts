// Shapes of the console's local API (clients/console/API.md, v1), shared by
// the server (clients/console/routes) and the page (clients/console/ui). Types
// only: nothing here may import, so the page's build never pulls in Node code.

export interface Officer {
  id: string;
  name: string;
}

export interface Session {
  officer: Officer;
  csrf: string;
  agency: { id: string; name: string };
}

export type PairState = 'waiting' | 'complete' | 'failed' | 'unknown';

export interface Agreement {
  partner: string;
  agreement: string;
  pair: string;
  mode: 'reveal' | 'count';
  kinds: string[];
  purposes: string[];
  validUntil: string;
  queriesLeftToday?: number;
  queryQuota?: { perDay: number; maxValues: number };
  state: PairState;
  reason?: string;
  lastSync?: string;
  mySetSize?: number;
  partnerSetSize?: number;
  matches?: number;
  count?: number;
}

/** An agreement version this agency has not decided on yet (accepted with `concordat agreements accept`). */
export interface AwaitingAgreement {
  id: string;
  version: number;
  /** The coordinator's status of the version (`proposed`, or `active` when every other party accepted already). */
  status: string;
  parties: string[];
  /** Parties whose acceptance the coordinator lists and that verifies under their key in the terms. */
  accepted: string[];
  digest: string;
  validUntil: string;
}

export interface Overview {
  agency: { id: string; name: string; country: string };
  /** Agreement versions awaiting this agency's decision. */
  awaitingAcceptance: AwaitingAgreement[];
  coordinator: string;
  coordinatorReachable: boolean;
  coordinatorError?: string;
  epoch: { id: string; startedAt: string } | null;
  partners: { partner: string; agreements: Agreement[] }[];
  pendingWork: number;
  failedRuns: { at: string; pair?: string; partner?: string; reason: string }[];
  lastSync: { startedAt: string; finishedAt: string | null; ok: boolean; errors: string[] } | null;
  nextSync: string | null;
  watchlist: { records: number; identifiers: number; importedAt: string } | null;
  /**
   * The coordinator's audit log as this agency last checked it
   * (protocol/SPEC.md §9): the latest verified head, and the newest failed
   * check if none verified since.
   */
  auditLog: {
    verified: { size: number; at: string } | null;
    failure: { at: string; check: string; message: string } | null;
  };
}

export type MatchStatus = 'unverified' | 'confirmed' | 'declined';

export interface Match {
  handle: string;
  partner: string;
  source: 'nightly' | 'query';
  recordIds: string[];
  kinds: string[];
  firstSeen: string;
  status: MatchStatus;
  myStatus: MatchStatus | null;
  partnerStatus: MatchStatus | null;
  caseRef?: string;
  purpose?: string;
}

export interface MatchList {
  matches: Match[];
  partners: string[];
  kinds: string[];
  stale: boolean;
  staleReason?: string;
}

export interface QueryOptionPartner {
  partner: string;
  agreement: string;
  kinds: string[];
  purposes: string[];
  queriesLeftToday: number;
  perDay: number;
  maxValues: number;
}

export interface QueryOptions {
  kinds: string[];
  purposes: string[];
  partners: QueryOptionPartner[];
}

export type LegState = 'done' | 'pending' | 'error' | 'expired' | 'incomplete';

export interface QueryLeg {
  partner: string;
  state: LegState;
  proofVerified: boolean;
  error?: string;
  detail?: string;
  results: { index: number; hit: boolean; handle?: string }[];
}

export interface QuerySummary {
  queryId: string;
  createdAt: string;
  kind: string;
  purpose: string;
  caseRef: string;
  officer: string;
  values: number;
  legs: QueryLeg[];
}

export interface QueryReply extends QuerySummary {
  quota: { partner: string; queriesLeftToday: number }[];
}

export interface QueryRequest {
  kind: string;
  values: string[];
  partners: string[] | 'all';
  purpose: string;
  caseRef: string;
  defaultCountry?: string;
  wait?: number;
}

export interface AuditEntry {
  source: 'local' | 'coordinator';
  seq: number;
  at: string;
  actor: string;
  officer: string | null;
  action: string;
  subject: string;
  outcome: string;
  detail: Record<string, unknown>;
  caseRef: string | null;
  /** Coordinator entries: the chain link, as `GET /v1/audit` gives it. */
  hash?: string;
  prevHash?: string;
  redacted?: string[];
}

export interface AuditList {
  entries: AuditEntry[];
  coordinatorReachable: boolean;
  coordinatorError?: string;
}

export interface Trends {
  nights: { date: string; partner: string; overlaps: number }[];
  queries: { date: string; queries: number; quota: number | null }[];
}
