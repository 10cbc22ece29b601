// Shapes of the console's local API (clients/console/API.md, v1), shared by
// the server (clients/console/routes) and the page (clients/console/ui). Types
// only: nothing here may import, so the page's build never pulls in Node code.

export interface Officer {
  id: string;
  name: string;
}

export type Language = 'en' | 'es' | 'pt' | 'fr';

export interface Preferences {
  language: Language;
}

export interface Session {
  officer: Officer;
  csrf: string;
  agency: { id: string; name: string };
  preferences: Preferences;
  /** The officer's previous sign-in (or when the officer was added): what "since your last sign-in" counts from. */
  since: string | null;
  /** Seconds without a request after which the session ends. */
  idleTimeoutSeconds: number;
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
  /** Reveal pairs: distinct local records (people) among the matches. */
  people?: number;
  count?: number;
  /** Where kinds, purposes and validity come from: the coordinator now, the copy kept at its last answer, the terms this agency accepted, or nowhere. */
  termsFrom?: 'coordinator' | 'cache' | 'accepted' | 'none';
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

/** What happened since the officer's previous sign-in; every count is of people (local records) or queries. */
export interface OverviewSince {
  since: string | null;
  newMatches: { partner: string; people: number }[];
  partnerDecisions: { partner: string; decision: 'confirmed' | 'declined'; people: number }[];
  /** Answers that arrived after the console stopped waiting for them. */
  lateAnswers: { queryId: string; caseRef: string; partner: string; at: string; hits: number }[];
  failedPairs: { partner: string; agreement: string; reason: string; at: string }[];
}

export interface Overview {
  agency: { id: string; name: string; country: string };
  sinceLastSignIn: OverviewSince;
  /** First failed contact with the coordinator since it last answered (null while it answers). */
  coordinatorUnreachableSince: string | null;
  /** When the agreement terms shown were last fetched from the coordinator. */
  termsCachedAt: string | null;
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
  /** `records` is the number of people; `identifiers` (several per person) belongs in technical details. */
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

/**
 * What the partner did, in the officer's terms: `answered` (a verified
 * answer), `waiting` (asked, no answer yet), `offline` (no answer within
 * the console's wait, or the query expired unanswered), `refused` (the
 * partner's client refused), `failed` (an answer that could not be used).
 */
export type LegAnswer = 'answered' | 'waiting' | 'offline' | 'refused' | 'failed';

export interface QueryLeg {
  partner: string;
  state: LegState;
  answer: LegAnswer;
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
  quota: { partner: string; queriesLeftToday: number; perDay?: number }[];
}

/** One value of a refused query (problem `invalid`, member `values`): its index and the rule it broke, in words. */
export interface BadValue {
  index: number;
  rule: string;
  message: string;
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

/**
 * One action as a person reads it: the local entry and the coordinator's
 * record of the same action merged, with the sources that recorded it.
 */
export interface AuditAction {
  at: string;
  /** The local action code when this agency recorded it, else the coordinator's. */
  action: string;
  actor: string;
  officer: string | null;
  subject: string;
  outcome: string;
  caseRef: string | null;
  detail: Record<string, unknown>;
  recordedBy: Array<'local' | 'coordinator'>;
  local?: { seq: number; at: string };
  coordinator?: { seq: number; at: string; action: string; hash?: string };
  /** A step of the nightly exchange (uploads, tokens, links …), hidden unless asked for. */
  plumbing: boolean;
}

export interface AuditList {
  entries: AuditEntry[];
  /** The entries merged per action, newest first (plumbing left out unless `plumbing=1`). */
  actions: AuditAction[];
  /** Plumbing actions the filters left out. */
  hiddenPlumbing: number;
  coordinatorReachable: boolean;
  coordinatorError?: string;
}

export interface Trends {
  nights: { date: string; partner: string; overlaps: number }[];
  queries: { date: string; queries: number; quota: number | null }[];
}

// ---- worklist and request reports (API.md, "Worklist", "Request reports") ----

/** This agency's decision on a worklist row: `awaiting` while any of its handles is undecided here. */
export type WorkStatus = 'awaiting' | 'confirmed' | 'declined';

/** One hit behind a worklist row (a nightly match of one identifier, or a partner's query hit). */
export interface WorkHandle {
  handle: string;
  source: 'nightly' | 'query';
  kinds: string[];
  firstSeen: string;
  status: MatchStatus;
  myStatus: MatchStatus | null;
  partnerStatus: MatchStatus | null;
  caseRef?: string;
  purpose?: string;
  /** Further hits with this handle folded into it: repeated queries, or a query about an identifier that also matched nightly. */
  repeats: number;
}

export interface WorkHistoryEntry {
  at: string;
  officer: string | null;
  action: 'confirm' | 'decline' | 'report';
  /** Handles the entry covers (a row decision decides each undecided handle at once). */
  handles: number;
  note?: string;
  /** A note was given where it is not kept here (a decision from the command line). */
  noteElsewhere?: boolean;
  /** report.create: the report's id (`GET /api/reports/{id}`). */
  report?: number;
}

export interface WorkRow {
  /** `<partner>/<recordId>`. */
  key: string;
  recordId: string;
  partner: string;
  /** Matched kinds, sorted. */
  kinds: string[];
  /** Distinct matched kinds of the record's distinct kinds here. */
  strength: { matched: number; of: number };
  /** Matched on name_dob_phonetic alone: names that sound alike and one birth date, to be confirmed on both sides. */
  candidate: boolean;
  handles: WorkHandle[];
  myStatus: WorkStatus;
  /** confirmed once any handle is confirmed by both, declined once all are declined, else unverified. */
  status: MatchStatus;
  partnerStatus: MatchStatus | null;
  firstSeen: string;
  lastSeen: string;
  caseRefs: string[];
  /** Some handle is still undecided here: Confirm and Decline are offered. */
  canDecide: boolean;
  /** This agency confirmed a handle: a request report can be prepared. */
  canReport: boolean;
  history: WorkHistoryEntry[];
}

export interface Worklist {
  rows: WorkRow[];
  /** Rows matching the filters (before paging). */
  total: number;
  offset: number;
  limit: number;
  /** Rows awaiting this agency's decision, whatever the filters. */
  awaiting: number;
  partners: string[];
  kinds: string[];
  caseRefs: string[];
  stale: boolean;
  staleReason?: string;
}

export interface WorkDecisionResult {
  key: string;
  decided: number;
  ok: boolean;
  error?: string;
}

export interface WorkDecisionReply {
  results: WorkDecisionResult[];
  rows: WorkRow[];
  awaiting: number;
}

/** A hit of one of this agency's own queries: the partner holds the data. */
export interface RequestedHit {
  handle: string;
  partner: string;
  queryId: string;
  kind: string;
  /** The value's 0-based index in the query as sent. */
  index: number;
  caseRef: string;
  purpose: string;
  officer: string;
  firstSeen: string;
  status: MatchStatus;
  partnerStatus: MatchStatus | null;
  proofVerified: boolean;
}

export interface RequestedHitList {
  hits: RequestedHit[];
  stale: boolean;
}

export type ReportFormat = 'mla' | 'siena';

export interface ReportRequest {
  handle: string;
  format: ReportFormat;
  legalBasis: string;
  caseRef?: string;
  purpose?: string;
  /** The row's record, when the handle's identifier is held by several records. */
  recordId?: string;
  /** A hit of this query of this agency's own (the same handle can also be a match it holds). */
  queryId?: string;
}

export interface RequestReport {
  id: number;
  format: ReportFormat;
  createdAt: string;
  officer: Officer;
  agency: string;
  partner: string;
  handle: string;
  source: 'nightly' | 'query';
  caseRef: string;
  legalBasis: string;
  purpose: string;
  firstSeen: string;
  proofVerified: boolean;
  /** How the match was verified, in words. */
  proof: string;
  /** This agency's own record references (never an identifier value). */
  recordIds: string[];
  kinds: string[];
  queryId?: string;
  status: MatchStatus;
  myStatus: MatchStatus | null;
  partnerStatus: MatchStatus | null;
}
