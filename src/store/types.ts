// The coordinator's storage interface. Every method is async so the same app
// runs over SQLite on Node (src/store/sqlite.ts) and over D1 plus one Durable
// Object per agency pair on Cloudflare Workers: control-plane methods live on
// `Store`, per-pair bulk data (chunks, tokens, canaries, matching) behind
// `Store.pair(pairId)`, so a Workers store can route each pair to its own
// object. Pure types only: no Node API may appear here.
import type { AuditEntry, AuditInput } from '../audit.js';

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

export interface AgreementRecord {
  id: string;
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

export interface EpochKeyRecord {
  agency: string;
  epoch: string;
  publicKey: Uint8Array;
  publishedAt: string;
}

export interface CoordinatorSecrets {
  /** Ed25519 public key of the `admin` keyid. */
  adminKey: Uint8Array;
  /** HMAC key for match handles (32 random bytes created at init). */
  handleKey: Uint8Array;
}

export interface InitialiseInput extends CoordinatorSecrets {
  epoch: EpochRecord;
  at: string;
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
}

export interface PutChunkInput {
  epoch: string;
  side: Side;
  index: number;
  /** n×32 bytes, already validated by the caller. */
  elements: Uint8Array;
  sha256: Uint8Array;
  /** Refuse the chunk if the side's live size (positions minus removals) would exceed this. */
  maxLiveSize: number;
  at: string;
}

export type PutChunkResult =
  | { status: 'created' | 'same'; chunk: ChunkInfo }
  | { status: 'conflict'; chunk: ChunkInfo }
  | { status: 'gap'; nextIndex: number }
  | { status: 'too-large'; liveSize: number };

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
  canariesDone: boolean;
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

/** Per-pair bulk data for one pair; a Workers store maps this to one Durable Object. */
export interface PairStore {
  readonly pairId: string;
  listChunks(epoch: string, side: Side): Promise<ChunkInfo[]>;
  getChunk(epoch: string, side: Side, index: number): Promise<ChunkInfo | undefined>;
  getChunkElements(epoch: string, side: Side, index: number): Promise<Uint8Array | undefined>;
  /** Atomically: idempotent by index and digest, append only at the next index, enforce the live-size limit. */
  putChunk(input: PutChunkInput): Promise<PutChunkResult>;
  /** Mark positions removed and retract their matches; idempotent. */
  removePositions(epoch: string, side: Side, positions: readonly number[], at: string): Promise<RemoveResult>;
  /** Register expected canary tokens; positions stop matching at once. Idempotent per (position, token). */
  registerCanaries(epoch: string, side: Side, canaries: readonly CanaryInput[], at: string): Promise<RegisterCanariesResult>;
  /** Returns true when this call marked the side done. */
  markCanariesDone(epoch: string, side: Side, at: string): Promise<boolean>;
  /** Store the partner's tokens for a chunk and match them against the other side's tokens. */
  putTokens(input: PutTokensInput): Promise<PutTokensResult>;
  summary(epoch: string): Promise<PairSummary>;
  /** Compare-and-set of the pair state; true when the state changed. */
  transitionState(epoch: string, from: PairStateName | undefined, to: PairStateRecord): Promise<boolean>;
  /** Matched positions of one side (distinct per position and handle), by position. */
  listMatches(epoch: string, side: Side): Promise<MatchRecord[]>;
  /** Number of matched position pairs. */
  countMatches(epoch: string): Promise<number>;
}

export interface Store {
  /** One-time set-up (`coordinator init`): secrets, the first epoch. Throws if already initialised. */
  initialise(input: InitialiseInput): Promise<void>;
  getSecrets(): Promise<CoordinatorSecrets | undefined>;

  getAgency(id: string): Promise<AgencyRecord | undefined>;
  /** 'same' when an identical agency exists, 'conflict' when the id exists with other data. */
  putAgency(agency: AgencyRecord): Promise<PutResult>;

  getAgreement(id: string): Promise<AgreementRecord | undefined>;
  listAgreements(): Promise<AgreementRecord[]>;
  /** Inserts the agreement and its pairs; false when the id already exists. */
  insertAgreement(agreement: AgreementRecord, pairs: readonly PairRecord[]): Promise<boolean>;
  getPair(id: string): Promise<PairRecord | undefined>;
  listPairsOf(agencyId: string): Promise<PairRecord[]>;

  currentEpoch(): Promise<EpochRecord>;
  getEpochKey(agency: string, epoch: string): Promise<EpochKeyRecord | undefined>;
  putEpochKey(key: EpochKeyRecord): Promise<PutResult>;

  /**
   * Record a signature nonce (RFC 9421 §7.2.2 replay protection); false when
   * (keyid, nonce) was already used. Prunes nonces created more than ten
   * minutes before `nowS`, which the freshness window already refuses.
   */
  useNonce(keyid: string, nonce: string, createdS: number, nowS: number): Promise<boolean>;

  /** Append to the hash chain; the store assigns `seq` and the hash atomically. */
  appendAudit(input: AuditInput): Promise<AuditEntry>;
  /** Entries with seq > afterSeq in seq order. */
  readAudit(afterSeq: number, limit: number): Promise<AuditEntry[]>;

  pair(pairId: string): PairStore;
  close(): Promise<void>;
}
