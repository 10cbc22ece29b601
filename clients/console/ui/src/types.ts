// Shapes of the console's local API (clients/console/API.md, v1).

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

export interface Overview {
  agency: { id: string; name: string; country: string };
  coordinator: string;
  coordinatorReachable: boolean;
  coordinatorError?: string;
  epoch: { id: string | number; startedAt: string } | null;
  partners: { partner: string; agreements: Agreement[] }[];
  pendingWork: number;
  failedRuns: { at: string; pair?: string; partner?: string; reason: string }[];
  lastSync: { startedAt: string; finishedAt: string; ok: boolean; errors: string[] } | null;
  nextSync: string | null;
  watchlist: { records: number; identifiers: number; importedAt: string } | null;
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
  seq: number | string;
  at: string;
  actor: string;
  officer: string | null;
  action: string;
  subject: string;
  outcome: string;
  detail: Record<string, unknown> | null;
  caseRef: string | null;
}

export interface AuditList {
  entries: AuditEntry[];
  coordinatorReachable: boolean;
}

export interface Trends {
  nights: { date: string; partner: string; overlaps: number }[];
  queries: { date: string; queries: number; quota: number }[];
}
