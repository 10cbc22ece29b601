// The coordinator's storage interface. Every method is async so the same app
// runs over SQLite on Node and over D1 plus one Durable Object per agency pair
// on Cloudflare Workers: control-plane methods live on `Store` (implemented
// once, in src/store/sql/), per-pair bulk data (chunks, tokens, canaries,
// matching) behind `Store.pair(pairId)` (src/store/sql/pair.ts), so a Workers
// store can route each pair to its own object (src/store/drivers/). Pure
// types only: no Node API may appear here.
import type { AuditCheckpoint, AuditEntry, AuditInput } from '../audit.js';
import type { TreeNode } from '../../protocol/tlog.js';
import type { DeploymentConfig } from '../config.js';
import type { AgreementTerms } from '../../protocol/agreement.js';

export type AgreementMode = 'reveal' | 'count';

export interface AgencyRecord {
  id: string;
  name: string;
  /** ISO 3166-1 alpha-3. */
  country: string;
  /** Ed25519 public key (32 bytes) that verifies the agency's request signatures. */
  signingKey: Uint8Array;
  createdAt: string;
}

export type AgreementStatus = 'proposed' | 'active' | 'rejected' | 'superseded';

/**
 * The governing version of an agreement (the `active` one, else the latest),
 * in the fields the routes enforce; `terms` is what the parties signed.
 */
export interface AgreementRecord {
  id: string;
  version: number;
  status: AgreementStatus;
  /** Registered agency ids, sorted, distinct, at least two. */
  parties: string[];
  /** Identifier kinds the agreement covers, sorted, distinct. */
  kinds: string[];
  mode: AgreementMode;
  /** Inclusive validity window, UTC dates `YYYY-MM-DD`. */
  validFrom: string;
  validUntil: string;
  maxSetSize: number;
  legalBasis: string;
  createdAt: string;
  /** Purposes targeted queries may cite, sorted, distinct. */
  purposes: string[];
  queryQuota: QueryQuota;
}

export interface AgreementAcceptance {
  agency: string;
  /** Ed25519 over the `agreement` document (protocol/SPEC.md §8.6). */
  signature: Uint8Array;
  acceptedAt: string;
}

export interface AgreementRejection {
  agency: string;
  rejectedAt: string;
}

/** One version of an agreement: canonical terms, status, who accepted and who rejected. */
export interface AgreementVersionRecord {
  agreementId: string;
  version: number;
  terms: AgreementTerms;
  status: AgreementStatus;
  createdAt: string;
  updatedAt: string;
  acceptances: AgreementAcceptance[];
  rejections: AgreementRejection[];
}

export interface NewAgreementVersion {
  terms: AgreementTerms;
  /** Mirrored into the agreement's own row (the latest version's terms, src/store/schema.ts). */
  legalBasis: string;
  createdAt: string;
}

export type AcceptResult = 'created' | 'same' | 'conflict' | 'not-found';
export type RejectResult = 'rejected' | 'same' | 'conflict' | 'not-found';

export interface QueryQuota {
  /** Queries per requesting agency per UTC day. */
  perDay: number;
  /** Values per query. */
  maxValues: number;
}

/** Two parties of one agreement; `agencies` is sorted (code-unit order), side 0 first. */
export interface PairRecord {
  id: string;
  agreementId: string;
  agencies: readonly [string, string];
}

export interface EpochRecord {
  id: string;
  startedAt: string;
}

/** An agency's key for one pair and epoch, with its signature over the `epoch-key` statement (protocol/SPEC.md §8.7). */
export interface EpochKeyRecord {
  agency: string;
  epoch: string;
  pairId: string;
  agreementId: string;
  agreementVersion: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
  publishedAt: string;
}

/** The audit transparency log's secrets (protocol/SPEC.md §9.2, §9.4). */
export interface AuditKeys {
  /** Ed25519 secret key (32 bytes) that signs tree heads. */
  logKey: Uint8Array;
  /** Key (32 bytes) the salts of sealed detail members derive from. */
  saltKey: Uint8Array;
}

/** A signed tree head as stored (protocol/SPEC.md §9.4); the log id follows from the log key. */
export interface AuditHeadRecord {
  size: number;
  root: Uint8Array;
  at: string;
  signature: Uint8Array;
}

export interface CoordinatorSecrets {
  /** Ed25519 public key of the `admin` keyid. */
  adminKey: Uint8Array;
  /** HMAC key for match handles (32 random bytes created at init). */
  handleKey: Uint8Array;
}

export interface InitialiseInput extends CoordinatorSecrets {
  /** The audit log's Ed25519 log key and salt key (protocol/SPEC.md §9); generated when absent. */
  auditKeys?: AuditKeys;
  epoch: EpochRecord;
  at: string;
  /** Defaults when absent (src/config.ts). */
  config?: DeploymentConfig;
}

export type PutResult = 'created' | 'same' | 'conflict';

/** Index into `PairRecord.agencies`: whose blinded set this is. */
export type Side = 0 | 1;

export interface ChunkInfo {
  index: number;
  firstPosition: number;
  count: number;
  /** SHA-256 of the chunk's bytes (n×32). */
  sha256: Uint8Array;
  /** SHA-256 of the partner's tokens for this chunk, once they arrived. */
  tokensSha256: Uint8Array | null;
  createdAt: string;
  /** The uploader's signature over the chunk manifest (protocol/SPEC.md §8.8); null for chunks stored before manifests. */
  signature: Uint8Array | null;
  agreementVersion: number | null;
}

export interface PutChunkInput {
  epoch: string;
  side: Side;
  index: number;
  /** n×32 bytes, already validated by the caller. */
  elements: Uint8Array;
  sha256: Uint8Array;
  /** Where the signed manifest says the chunk starts: a chunk that would start elsewhere is a `gap`. */
  firstPosition: number;
  signature: Uint8Array;
  agreementVersion: number;
  /** Refuse the chunk if the side's live size (positions minus removals) would exceed this. */
  maxLiveSize: number;
  /** Refuse the chunk if the positions the side uploaded in the epoch, removed ones included, would exceed this (protocol/SPEC.md §3.3). */
  maxEpochPositions: number;
  at: string;
  /** The audit entry the stored chunk implies, committed with it (a `same` or refused chunk writes none). */
  audit?: AuditInput;
}

export type PutChunkResult =
  | { status: 'created' | 'same'; chunk: ChunkInfo }
  | { status: 'conflict'; chunk: ChunkInfo }
  | { status: 'gap'; nextIndex: number; nextPosition: number }
  | { status: 'too-large'; liveSize: number }
  | { status: 'upload-cap'; uploaded: number };

/** The count a count-mode pair released for an epoch (protocol/SPEC.md §3.3). */
export interface CountSnapshot {
  count: number;
  /** The pair's churn mark when it was taken: positions uploaded plus positions removed, both sides. */
  churn: number;
  takenAt: string;
}

/** When a new count snapshot is due: the previous one is at least `takenBefore` old and the churn since reached `minChurn`. */
export interface SnapshotPolicy {
  takenBefore: string;
  minChurn: number;
  at: string;
}

export type ChurnAlertResult = { alerted: true; removed: number } | { alerted: false };

export interface PutTokensInput {
  epoch: string;
  /** The side the chunk belongs to (the tokens were computed by the other party). */
  side: Side;
  index: number;
  /** n×16 bytes, n = the chunk's count. */
  tokens: Uint8Array;
  sha256: Uint8Array;
  /** Key and pair id for match handles (see src/matching.ts). */
  handleKey: Uint8Array;
  at: string;
  /** The audit entry the stored tokens imply, committed with them. */
  audit?: AuditInput;
}

export interface LinkInput {
  /** Position on the caller's side in the current epoch. */
  position: number;
  /** Position on the same side in `previousEpoch`. */
  previous: number;
}

export type PutLinksResult =
  | { ok: true; linked: number; added: number; rehandled: number }
  | { ok: false; reason: 'unknown-position' | 'conflict'; badIndex: number };

/** A handle matched in an epoch, with one position per side (the lowest when an item repeats). */
export interface MatchedHandle {
  handle: string;
  posA: number;
  posB: number;
  firstSeen: string;
}

/** Where an element sits in a side (protocol/SPEC.md §8.11): the lowest live position holding it, else the lowest position. */
export interface ElementLocation {
  position: number;
  /** `live` (neither removed nor a registered canary), `removed` or `canary`. */
  state: 'live' | 'removed' | 'canary';
  /** The token the partner uploaded for that position, if it has. */
  token: Uint8Array | null;
  /** Handle of a match at that position, if it matched nightly. */
  matchHandle: string | undefined;
}

export interface PurgeCounts {
  epochs: string[];
  chunks: number;
  tokens: number;
  removals: number;
  canaries: number;
  matches: number;
  links: number;
}

export type PutTokensResult =
  | { status: 'created'; count: number; newMatches: number }
  | { status: 'same'; count: number }
  | { status: 'conflict' }
  | { status: 'not-found' }
  | { status: 'count-mismatch'; expected: number };

export type RemoveResult = { ok: true; removed: number; retracted: number } | { ok: false; badIndex: number };

export interface CanaryInput {
  position: number;
  token: Uint8Array;
}

export type RegisterCanariesResult =
  | { ok: true; registered: number; added: number; retracted: number }
  | { ok: false; reason: 'unknown-position' | 'conflict'; badIndex: number };

export interface SideSummary {
  chunks: number;
  /** Chunks whose tokens (computed by the partner) have arrived. */
  tokenizedChunks: number;
  /** Positions uploaded (sum of chunk counts), removed ones included. */
  size: number;
  removed: number;
  canaries: number;
  /** `canaries/done` covers every chunk of the side: canaryChunks ≥ chunks (protocol/SPEC.md §1.6). */
  canariesDone: boolean;
  /** Chunks 0..canaryChunks−1 were held when the side last called `canaries/done` (0 before it ever did). */
  canaryChunks: number;
  /** Registered canaries whose partner token has arrived, and how many of those differ. */
  canariesChecked: number;
  canariesFailed: number;
}

export type PairStateName = 'waiting' | 'complete' | 'failed';

export interface PairStateRecord {
  state: PairStateName;
  reason: string | null;
  updatedAt: string;
}

export interface PairSummary {
  sides: readonly [SideSummary, SideSummary];
  /** Last recorded state for the epoch (absent until the first transition). */
  state: PairStateRecord | undefined;
}

export interface MatchRecord {
  /** A position of the requested side. */
  position: number;
  handle: string;
  firstSeen: string;
}

/**
 * The audit entries and hits a pair's state changes imply, committed with the
 * changes in the pair's own transaction and published from there.
 */
export interface PairPending {
  audits: { id: number; entry: AuditInput }[];
  hits: { epoch: string; mark: number; complete: boolean }[];
}

export interface NightlyHitsSync {
  upserted: number;
  removed: number;
}

/** Per-pair bulk data for one pair; a Workers store maps this to one Durable Object. */
export interface PairStore {
  readonly pairId: string;
  listChunks(epoch: string, side: Side): Promise<ChunkInfo[]>;
  getChunk(epoch: string, side: Side, index: number): Promise<ChunkInfo | undefined>;
  getChunkElements(epoch: string, side: Side, index: number): Promise<Uint8Array | undefined>;
  /** Atomically: idempotent by index and digest, append only at the next index, enforce the live-size limit. */
  putChunk(input: PutChunkInput): Promise<PutChunkResult>;
  /** Mark positions removed and retract their matches; idempotent. */
  removePositions(epoch: string, side: Side, positions: readonly number[], at: string, audit?: AuditInput): Promise<RemoveResult>;
  /** Register expected canary tokens; positions stop matching at once. Idempotent per (position, token). */
  registerCanaries(epoch: string, side: Side, canaries: readonly CanaryInput[], at: string, audit?: AuditInput): Promise<RegisterCanariesResult>;
  /**
   * Records that the side's canaries are registered for every chunk it holds
   * now (side_state.canary_chunks = its chunk count); true when this call
   * covered chunks not covered before (or marked the side done the first time).
   */
  markCanariesDone(epoch: string, side: Side, at: string, audit?: AuditInput): Promise<boolean>;
  /** Store the partner's tokens for a chunk and match them against the other side's tokens. */
  putTokens(input: PutTokensInput): Promise<PutTokensResult>;
  summary(epoch: string): Promise<PairSummary>;
  /** Compare-and-set of the pair state; true when the state changed. */
  transitionState(epoch: string, from: PairStateName | undefined, to: PairStateRecord, audit?: AuditInput): Promise<boolean>;
  /** Matched positions of one side (distinct per position and handle), by position. */
  listMatches(epoch: string, side: Side): Promise<MatchRecord[]>;
  /**
   * The revision of the epoch's matches and handles (hex), new whenever a row
   * of either changes; null while the epoch has never had one. Read before
   * listMatches, a document built from the list is at least as new as it.
   */
  matchRevision(epoch: string): Promise<string | null>;
  /** Number of matched position pairs. */
  countMatches(epoch: string): Promise<number>;
  /** The pair's churn mark in the epoch: positions uploaded plus positions removed, both sides. */
  churnMark(epoch: string): Promise<number>;
  /** The count last released for the epoch, if any. */
  getCountSnapshot(epoch: string): Promise<CountSnapshot | undefined>;
  /**
   * Atomically: when the pair is complete and a snapshot is due (none yet in
   * the epoch, or `policy` allows the next), take the count now; return the
   * snapshot in force and whether this call took it.
   */
  /** With `audit`, a snapshot taken writes the entry (its detail completed with the snapshot's `churn`) in the same transaction. */
  takeCountSnapshot(epoch: string, policy: SnapshotPolicy, audit?: AuditInput): Promise<{ snapshot: CountSnapshot | undefined; taken: boolean }>;
  /** Mark the side's churn alert when its removals in the epoch exceed `threshold` and none was raised yet: true once per side and epoch. */
  raiseChurnAlert(epoch: string, side: Side, threshold: number, at: string, audit?: AuditInput): Promise<ChurnAlertResult>;

  /**
   * Record continuity links of one side and re-handle matches of the epoch
   * they complete (src/API.md, "Handle continuity"). Idempotent per position.
   */
  putLinks(epoch: string, side: Side, previousEpoch: string, links: readonly LinkInput[], at: string, audit?: AuditInput): Promise<PutLinksResult>;
  /**
   * What the pair's committed state changes still imply outside the pair:
   * audit entries not yet appended to the chain (oldest first), and epochs
   * whose nightly hits have not followed the matches yet.
   */
  pending(): Promise<PairPending>;
  /** The outbox entries `ids` are in the audit chain. */
  clearAudits(ids: readonly number[]): Promise<void>;
  /** The nightly hits of `epoch` follow the matches as of `mark`; a later change keeps them due. */
  clearHitsDue(epoch: string, mark: number): Promise<void>;
  /** Every handle matched in the epoch, once each. */
  matchedHandles(epoch: string): Promise<MatchedHandle[]>;
  /**
   * Find each element among the uploaded elements of `side` (a scan of its
   * chunks, protocol/SPEC.md §8.11): null for one the side does not hold.
   */
  locateElements(epoch: string, side: Side, elements: readonly Uint8Array[]): Promise<(ElementLocation | null)[]>;
  /** Positions of `side` removed in `epoch`, in the order they were removed, skipping the first `after`. */
  listRemovals(epoch: string, side: Side, after: number, limit: number): Promise<number[]>;
  /** Epochs for which this pair holds bulk rows, and epochs whose matches are carried. */
  dataEpochs(): Promise<{ bulk: string[]; carried: string[] }>;
  /**
   * The latest upload by either side in any epoch it holds (a chunk, its
   * tokens, a removal, a canary or a link), from the rows' own times; null
   * when it holds none.
   */
  lastActivity(): Promise<string | null>;
  /**
   * Delete every bulk row of `epochs`. The matches of `carry` (when it is one
   * of them) are kept as positions and handles only, for links still to come;
   * carried matches of every epoch other than `carry` are dropped.
   */
  purgeEpochs(epochs: readonly string[], carry: string | undefined): Promise<PurgeCounts>;
}

export type QueryLegStatus = 'pending' | 'answered' | 'refused';

export interface QueryLegRecord {
  partner: string;
  agreementId: string;
  /** The version, epoch and requester signature of the leg's signed statement (protocol/SPEC.md §8.9); null for legs made before signed queries. */
  agreementVersion: number | null;
  epoch: string | null;
  signature: Uint8Array | null;
  pairId: string;
  createdAt: string;
  status: QueryLegStatus;
  refusal: { reason: string; at: string } | null;
  answerEpoch: string | null;
  evaluated: Uint8Array | null;
  proof: Uint8Array | null;
  proofValid: boolean | null;
  answeredAt: string | null;
  outcome: { at: string; hits: number; noHits: number; error: string | null } | null;
}

export interface QueryRecord {
  id: string;
  requester: string;
  kind: string;
  purpose: string;
  caseRef: string;
  officer: string;
  values: number;
  epoch: string;
  /** n×32 bytes, null once purged. */
  blinded: Uint8Array | null;
  createdAt: string;
  /** The requester's `createdAt` in the signed statements. */
  statedAt: string | null;
  legs: QueryLegRecord[];
}

export interface NewQuery {
  id: string;
  requester: string;
  kind: string;
  purpose: string;
  caseRef: string;
  officer: string;
  epoch: string;
  blinded: Uint8Array;
  values: number;
  createdAt: string;
  statedAt: string;
  legs: { partner: string; agreementId: string; agreementVersion: number; pairId: string; epoch: string; signature: Uint8Array }[];
}

export type CreateQueryResult = { ok: true } | { ok: false; reason: 'quota'; agreementId: string; used: number } | { ok: false; reason: 'taken' };

export interface InboxEntry {
  queryId: string;
  from: string;
  pairId: string;
  agreementId: string;
  agreementVersion: number | null;
  signature: Uint8Array | null;
  kind: string;
  purpose: string;
  caseRef: string;
  epoch: string;
  blinded: Uint8Array | null;
  values: number;
  /** The signed statement's `createdAt` (the coordinator's time for legs made before signed queries). */
  createdAt: string;
}

export interface AnswerInput {
  epoch: string;
  evaluated: Uint8Array;
  proof: Uint8Array;
  proofValid: boolean;
  at: string;
}

export type AnswerResult = 'answered' | 'same' | 'conflict';
export type RefuseResult = 'refused' | 'same' | 'conflict';

export interface QueryHitInput {
  index: number;
  handle: string;
  pairId: string;
  epoch: string;
  position: number | null;
}

export interface OutcomeInput {
  hits: QueryHitInput[];
  noHits: number;
  error: string | null;
  at: string;
}

export type OutcomeResult = 'recorded' | 'same' | 'conflict';

export type HitStatusName = 'unverified' | 'confirmed' | 'declined';

export interface HitStatusRecord {
  handle: string;
  agency: string;
  status: 'confirmed' | 'declined';
  officer: string;
  note: string | null;
  updatedAt: string;
}

export interface NightlyHitRecord {
  pairId: string;
  handle: string;
  epoch: string;
  posA: number;
  posB: number;
  createdAt: string;
}

export interface QueryHitRecord {
  queryId: string;
  partner: string;
  requester: string;
  index: number;
  handle: string;
  pairId: string;
  epoch: string;
  position: number | null;
  caseRef: string;
  purpose: string;
  createdAt: string;
}

export type SetHitStatusResult = 'set' | 'same' | 'conflict';

export interface Store {
  /** One-time set-up (`coordinator init`): secrets, the first epoch. Throws if already initialised. */
  initialise(input: InitialiseInput): Promise<void>;
  getSecrets(): Promise<CoordinatorSecrets | undefined>;

  getAgency(id: string): Promise<AgencyRecord | undefined>;
  /** 'same' when an identical agency exists, 'conflict' when the id exists with other data. */
  putAgency(agency: AgencyRecord): Promise<PutResult>;

  /** The governing version of an agreement: the `active` one, else the latest; undefined without any version. */
  getAgreement(id: string): Promise<AgreementRecord | undefined>;
  /** Every version of one agreement, or of every agreement, by id then version. */
  listAgreementVersions(id?: string): Promise<AgreementVersionRecord[]>;
  getAgreementVersion(id: string, version: number): Promise<AgreementVersionRecord | undefined>;
  /**
   * Insert a `proposed` version (terms.version) with the pairs of its parties
   * that do not exist yet; false when that version exists already.
   */
  insertAgreementVersion(version: NewAgreementVersion, pairs: readonly PairRecord[]): Promise<boolean>;
  /** Record a party's acceptance once; 'conflict' when it accepted with another signature, the version is not `proposed` or `active`. */
  acceptAgreementVersion(id: string, version: number, acceptance: AgreementAcceptance): Promise<AcceptResult>;
  /**
   * Atomically make a `proposed` version `active` unless a later version is
   * active, and supersede every earlier proposed or active version; returns
   * whether it became active and the versions superseded.
   */
  activateAgreementVersion(id: string, version: number, at: string): Promise<{ activated: boolean; superseded: number[] }>;
  /** A party rejects a `proposed` version: it becomes `rejected`. */
  rejectAgreementVersion(id: string, version: number, rejection: AgreementRejection): Promise<RejectResult>;
  getPair(id: string): Promise<PairRecord | undefined>;
  listPairsOf(agencyId: string): Promise<PairRecord[]>;

  getConfig(): Promise<DeploymentConfig>;
  putConfig(config: DeploymentConfig, at: string): Promise<void>;

  currentEpoch(): Promise<EpochRecord>;
  /** Every epoch, oldest first. */
  listEpochs(): Promise<EpochRecord[]>;
  /** Start the next epoch (`e<n+1>`) atomically; returns it and the previous one's id. */
  rotateEpoch(at: string): Promise<{ epoch: EpochRecord; previous: string }>;
  /**
   * Start the next epoch only if the current one started at or before
   * `startedBy`, in one conditional statement: of concurrent calls at most one
   * rotates. Undefined when the current epoch is younger.
   */
  rotateEpochIfStartedBy(startedBy: string, at: string): Promise<{ epoch: EpochRecord; previous: string } | undefined>;
  /** Every pair of every agreement. */
  listPairs(): Promise<PairRecord[]>;
  getPairEpochKey(agency: string, epoch: string, pairId: string): Promise<EpochKeyRecord | undefined>;
  /** Once per (agency, epoch, pair): 'same' for the same key, 'conflict' for another. */
  /** With `audit`, the key and its entry commit together or not at all (a 'same' or 'conflict' writes no entry). */
  putPairEpochKey(key: EpochKeyRecord, audit?: AuditInput): Promise<PutResult>;

  /**
   * Record a signature nonce (RFC 9421 §7.2.2 replay protection); false when
   * (keyid, nonce) was already used. Prunes nonces created more than ten
   * minutes before `nowS`, which the freshness window already refuses.
   */
  useNonce(keyid: string, nonce: string, createdS: number, nowS: number): Promise<boolean>;

  /** Append to the hash chain; the store assigns `seq` and the hash atomically. */
  appendAudit(input: AuditInput, origin?: string): Promise<AuditEntry>;
  /** Entries with seq > afterSeq in seq order. */
  readAudit(afterSeq: number, limit: number): Promise<AuditEntry[]>;
  /** Where verification starts after a retention purge (absent before the first one). */
  getAuditCheckpoint(): Promise<AuditCheckpoint | undefined>;
  /**
   * Atomically: remove the oldest entries up to (not including) the first one
   * at or after `cutoff`, store the checkpoint of the last removed entry, and
   * append the entry `record(removed, checkpoint)` built from them.
   */
  purgeAudit(cutoff: string, at: string, record: (removed: number, checkpoint: AuditCheckpoint | undefined) => AuditInput): Promise<{ removed: number; entry: AuditEntry }>;
  /** The audit log's keys (protocol/SPEC.md §9); created on first use when `initialise` did not. */
  auditKeys(): Promise<AuditKeys>;
  /** Leaves of the audit tree: the seq of the newest entry (or of the purge checkpoint), 0 for an empty log. */
  auditTreeSize(): Promise<number>;
  /** Stored subtree hashes (protocol/tlog.ts TreeNode), in the order asked; undefined where none is stored. */
  readAuditTree(nodes: readonly TreeNode[]): Promise<(Uint8Array | undefined)[]>;
  /** The stored signed head of `size` leaves, or the newest one. */
  getAuditHead(size?: number): Promise<AuditHeadRecord | undefined>;
  /** Store a signed head unless one of its size is stored; returns the stored one (the first signed wins). */
  putAuditHead(head: AuditHeadRecord): Promise<AuditHeadRecord>;

  /**
   * Create a query and its legs, counting one query against each agreement's
   * daily quota; refuses (creating nothing) when any agreement's quota for
   * `day` is used up.
   */
  createQuery(query: NewQuery, quotas: readonly { agreementId: string; perDay: number }[], day: string, audit?: AuditInput): Promise<CreateQueryResult>;
  /** Queries `agency` made under `agreementId` on UTC day `day`. */
  queriesUsed(agency: string, agreementId: string, day: string): Promise<number>;
  getQuery(id: string): Promise<QueryRecord | undefined>;
  /** Pending legs addressed to `agency` created after `since`, oldest first. */
  inbox(agency: string, since: string): Promise<InboxEntry[]>;
  /** Store an answer once; 'same' for an identical re-send, 'conflict' for another. */
  answerQuery(queryId: string, partner: string, answer: AnswerInput, audit?: AuditInput): Promise<AnswerResult>;
  /** A responder refuses its pending leg once; 'same' for the same reason again, 'conflict' otherwise. */
  refuseQuery(queryId: string, partner: string, reason: string, at: string, audit?: AuditInput): Promise<RefuseResult>;
  /** Record a leg's outcome and its hits once; 'same' for an identical re-send. */
  recordOutcome(queryId: string, partner: string, outcome: OutcomeInput, audit?: AuditInput): Promise<OutcomeResult>;
  /** Drop blinded and evaluated elements and proofs of queries created before `before`; returns the number of queries. */
  purgeQueryValues(before: string): Promise<number>;
  /** Drop quota counters of days before `day`. */
  purgeQuotaCounters(day: string): Promise<number>;

  /** Insert or refresh (epoch, positions) the nightly hits of a pair; first-seen times never change. */
  upsertNightlyHits(pairId: string, epoch: string, hits: readonly MatchedHandle[]): Promise<number>;
  /**
   * Drop the pair's nightly hits of `epoch` whose handle is no longer matched
   * there (retracted, or taken over by a continued handle), unless a holder
   * already confirmed or declined them.
   */
  pruneNightlyHits(pairId: string, epoch: string, matched: readonly string[]): Promise<number>;
  /**
   * Make the pair's nightly hits of `epoch` follow `matched` in one batch,
   * writing only what differs: with `add`, every matched handle is a hit at
   * its positions; hits of the epoch no longer matched go, unless a holder
   * already confirmed or declined them.
   */
  syncNightlyHits(pairId: string, epoch: string, matched: readonly MatchedHandle[], add: boolean): Promise<NightlyHitsSync>;
  /** Nightly hits of these pairs. */
  listNightlyHits(pairIds: readonly string[]): Promise<NightlyHitRecord[]>;
  /** Query hits the agency asked for or holds. */
  listQueryHits(agency: string): Promise<QueryHitRecord[]>;
  /** Nightly and query hits carrying this handle. */
  hitsByHandle(handle: string): Promise<{ nightly: NightlyHitRecord[]; query: QueryHitRecord[] }>;
  hitStatuses(handles: readonly string[]): Promise<HitStatusRecord[]>;
  /**
   * The revision of everything a hits document lists (hex): new whenever a
   * nightly hit, a query hit or a hit status is written; null while there
   * never was one.
   */
  hitsRevision(): Promise<string | null>;
  /**
   * Set a holder's final status once; 'same' when already that status,
   * 'conflict' when the other one. With `audit`, the status and its entry
   * are one batch: both are written or neither.
   */
  setHitStatus(record: HitStatusRecord, audit?: AuditInput): Promise<SetHitStatusResult>;

  pair(pairId: string): PairStore;
  close(): Promise<void>;
}
