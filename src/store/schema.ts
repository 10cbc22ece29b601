// The coordinator's SQLite schema: the single source of truth for the tables;
// `npx drizzle-kit generate` derives the migrations in drizzle/ from it.
//
// Per-pair bulk tables (chunks, tokens, removals, canaries, side_state,
// pair_state, handles, matches, links, carried_matches) are keyed by an
// integer pair key and carry the epoch, so rotation can purge one epoch and a
// Workers store can move them into a Durable Object per pair unchanged.
// Elements and tokens are BLOBs: a chunk's elements are one row of at most
// 1 MiB plus `chunk_pieces` rows for the rest (a full chunk is 65,536 × 32
// bytes = 2 MiB, more than the 2,000,000-byte row limit of D1 and Durable
// Object SQLite), tokens one row per position because matching and
// retraction work per position. Queries, quotas, hits and their statuses are
// control-plane rows keyed by pair id: they outlive every purge of pair data.
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { DEFAULT_IDLE_DAYS, DEFAULT_PURPOSES, DEFAULT_QUERY_MAX_VALUES, DEFAULT_QUERY_PER_DAY, DEFAULT_ROTATE_DAYS } from '../config.js';

/** Agreements created before purposes existed allow every default purpose. */
const DEFAULT_PURPOSES_JSON = JSON.stringify(DEFAULT_PURPOSES);

export const coordinator = sqliteTable('coordinator', {
  /** Always 1: one coordinator per database. */
  id: integer('id').primaryKey(),
  adminKey: blob('admin_key', { mode: 'buffer' }).notNull(),
  handleKey: blob('handle_key', { mode: 'buffer' }).notNull(),
  createdAt: text('created_at').notNull(),
});

export const agencies = sqliteTable('agencies', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  country: text('country').notNull(),
  signingKey: blob('signing_key', { mode: 'buffer' }).notNull(),
  createdAt: text('created_at').notNull(),
});

export const agreements = sqliteTable('agreements', {
  id: text('id').primaryKey(),
  /** JSON array of agency ids, sorted. */
  parties: text('parties').notNull(),
  /** JSON array of identifier kinds, sorted. */
  kinds: text('kinds').notNull(),
  mode: text('mode', { enum: ['reveal', 'count'] }).notNull(),
  validFrom: text('valid_from').notNull(),
  validUntil: text('valid_until').notNull(),
  maxSetSize: integer('max_set_size').notNull(),
  legalBasis: text('legal_basis').notNull(),
  createdAt: text('created_at').notNull(),
  /** JSON array of purposes (from the deployment list) targeted queries may cite, sorted. */
  purposes: text('purposes').notNull().default(DEFAULT_PURPOSES_JSON),
  /** Targeted queries per requesting agency per UTC day; 0 allows none. */
  queryPerDay: integer('query_per_day').notNull().default(DEFAULT_QUERY_PER_DAY),
  /** Values (blinded elements) per targeted query. */
  queryMaxValues: integer('query_max_values').notNull().default(DEFAULT_QUERY_MAX_VALUES),
});

export const pairs = sqliteTable(
  'pairs',
  {
    key: integer('key').primaryKey({ autoIncrement: true }),
    id: text('id').notNull().unique(),
    agreementId: text('agreement_id')
      .notNull()
      .references(() => agreements.id),
    agencyA: text('agency_a')
      .notNull()
      .references(() => agencies.id),
    agencyB: text('agency_b')
      .notNull()
      .references(() => agencies.id),
  },
  (t) => [index('pairs_agency_a').on(t.agencyA), index('pairs_agency_b').on(t.agencyB)],
);

export const epochs = sqliteTable('epochs', {
  seq: integer('seq').primaryKey(),
  id: text('id').notNull().unique(),
  startedAt: text('started_at').notNull(),
});

/**
 * One version of an agreement (protocol/SPEC.md §8.6): its canonical terms,
 * which every party accepts with its own signature. `agreements` mirrors the
 * latest version's terms; what governs is the `active` version.
 */
export const agreementVersions = sqliteTable(
  'agreement_versions',
  {
    agreementId: text('agreement_id')
      .notNull()
      .references(() => agreements.id),
    version: integer('version').notNull(),
    /** RFC 8785 canonical JSON of the terms, exactly what the parties sign. */
    terms: text('terms').notNull(),
    status: text('status', { enum: ['proposed', 'active', 'rejected', 'superseded'] }).notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agreementId, t.version] })],
);

/** A party's acceptance of one version: its Ed25519 signature over the terms. */
export const agreementAcceptances = sqliteTable(
  'agreement_acceptances',
  {
    agreementId: text('agreement_id').notNull(),
    version: integer('version').notNull(),
    agency: text('agency').notNull(),
    signature: blob('signature', { mode: 'buffer' }).notNull(),
    acceptedAt: text('accepted_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agreementId, t.version, t.agency] })],
);

export const agreementRejections = sqliteTable(
  'agreement_rejections',
  {
    agreementId: text('agreement_id').notNull(),
    version: integer('version').notNull(),
    agency: text('agency').notNull(),
    rejectedAt: text('rejected_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agreementId, t.version, t.agency] })],
);

/**
 * An agency's per-pair key for one epoch (protocol/SPEC.md §8.5) with its
 * signature over the `epoch-key` statement (§8.7) under `agreementVersion`.
 */
export const pairEpochKeys = sqliteTable(
  'pair_epoch_keys',
  {
    agency: text('agency')
      .notNull()
      .references(() => agencies.id),
    epoch: text('epoch').notNull(),
    pairId: text('pair_id').notNull(),
    agreementId: text('agreement_id').notNull(),
    agreementVersion: integer('agreement_version').notNull(),
    publicKey: blob('public_key', { mode: 'buffer' }).notNull(),
    signature: blob('signature', { mode: 'buffer' }).notNull(),
    publishedAt: text('published_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agency, t.epoch, t.pairId] })],
);

export const nonces = sqliteTable(
  'nonces',
  {
    keyid: text('keyid').notNull(),
    nonce: text('nonce').notNull(),
    /** The signature's `created` parameter, seconds. */
    created: integer('created').notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyid, t.nonce] }), index('nonces_created').on(t.created)],
);

/** Deployment configuration (src/API.md, "Deployment configuration"); absent row = defaults. */
export const config = sqliteTable('config', {
  /** Always 1. */
  id: integer('id').primaryKey(),
  /** JSON array: the closed list of purposes. */
  purposes: text('purposes').notNull(),
  /** Days an epoch's pair data outlives the epoch; null = until the pair completes in the next epoch. */
  dataDays: integer('data_days'),
  auditDays: integer('audit_days').notNull(),
  /** Days without an upload after which an idle pair's data goes; null = never. */
  idleDays: integer('idle_days').default(DEFAULT_IDLE_DAYS),
  /** Scheduled rotation period in days; null or 0 = only the admin rotates. */
  rotateDays: integer('rotate_days').default(DEFAULT_ROTATE_DAYS),
  /** JSON of the probing settings (src/config.ts ProbingConfig); null = the defaults. */
  probing: text('probing'),
  updatedAt: text('updated_at').notNull(),
});

/**
 * The last audit entry removed by a retention purge: verification of what
 * remains starts from its seq and hash instead of the genesis hash.
 */
export const auditCheckpoint = sqliteTable('audit_checkpoint', {
  /** Always 1. */
  id: integer('id').primaryKey(),
  seq: integer('seq').notNull(),
  hash: blob('hash', { mode: 'buffer' }).notNull(),
  purgedAt: text('purged_at').notNull(),
});

export const auditLog = sqliteTable('audit_log', {
  seq: integer('seq').primaryKey(),
  at: text('at').notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  subject: text('subject').notNull(),
  outcome: text('outcome').notNull(),
  /** Canonical JSON of the detail object. */
  detail: text('detail').notNull(),
  hash: blob('hash', { mode: 'buffer' }).notNull(),
  /**
   * The pending entry of a pair's outbox (`pair_outbox`) this entry publishes,
   * as `pair id#outbox id`; null for entries appended directly. Unique, so
   * publishing an outbox entry twice (a retry after a crash between the
   * append and clearing the outbox) appends it once. Not part of the hash.
   */
  origin: text('origin'),
}, (t) => [uniqueIndex('audit_log_origin').on(t.origin)]);

/**
 * The audit transparency log (protocol/SPEC.md §9): the hash of every
 * complete subtree, keyed by its position in append order
 * (protocol/tlog.ts `storedHashIndex`; leaf i is entry seq i + 1). Written in
 * the same batch as its entry; a retention purge keeps them all, so proofs
 * over retained entries and heads signed before the purge still verify.
 */
export const auditTree = sqliteTable('audit_tree', {
  id: integer('id').primaryKey(),
  hash: blob('hash', { mode: 'buffer' }).notNull(),
});

/** Signed heads of the audit tree (§9.4) the coordinator has published, one per size: the first signed stays. */
export const auditHeads = sqliteTable('audit_heads', {
  size: integer('size').primaryKey(),
  root: blob('root', { mode: 'buffer' }).notNull(),
  at: text('at').notNull(),
  signature: blob('signature', { mode: 'buffer' }).notNull(),
});

/**
 * The audit log's secrets (§9.2, §9.4): the Ed25519 log key that signs heads
 * and the key the per-entry salts of sealed detail members derive from.
 * Always one row (id 1), created at `coordinator init` or on first use.
 */
export const auditKeys = sqliteTable('audit_keys', {
  id: integer('id').primaryKey(),
  logKey: blob('log_key', { mode: 'buffer' }).notNull(),
  saltKey: blob('salt_key', { mode: 'buffer' }).notNull(),
  createdAt: text('created_at').notNull(),
});

export const chunks = sqliteTable(
  'chunks',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    side: integer('side').notNull(),
    idx: integer('idx').notNull(),
    firstPosition: integer('first_position').notNull(),
    count: integer('count').notNull(),
    sha256: blob('sha256', { mode: 'buffer' }).notNull(),
    elements: blob('elements', { mode: 'buffer' }).notNull(),
    createdAt: text('created_at').notNull(),
    tokensSha256: blob('tokens_sha256', { mode: 'buffer' }),
    tokenizedAt: text('tokenized_at'),
    /** The uploader's signature over the chunk manifest (protocol/SPEC.md §8.8), and the agreement version it names. */
    signature: blob('signature', { mode: 'buffer' }),
    agreementVersion: integer('agreement_version'),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch, t.side, t.idx] })],
);

/**
 * The elements of a chunk beyond its first piece, in pieces of at most
 * CHUNK_PIECE_BYTES (src/store/sql/pair.ts): piece 1 holds the second MiB.
 */
export const chunkPieces = sqliteTable(
  'chunk_pieces',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    side: integer('side').notNull(),
    idx: integer('idx').notNull(),
    piece: integer('piece').notNull(),
    elements: blob('elements', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch, t.side, t.idx, t.piece] })],
);

export const tokens = sqliteTable(
  'tokens',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    side: integer('side').notNull(),
    position: integer('position').notNull(),
    token: blob('token', { mode: 'buffer' }).notNull(),
    removed: integer('removed').notNull().default(0),
    canary: integer('canary').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.pairKey, t.epoch, t.side, t.position] }),
    // The matching index: a new token finds its partners in O(log n).
    index('tokens_match').on(t.pairKey, t.epoch, t.side, t.token),
  ],
);

export const removals = sqliteTable(
  'removals',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    side: integer('side').notNull(),
    position: integer('position').notNull(),
    removedAt: text('removed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch, t.side, t.position] })],
);

export const canaries = sqliteTable(
  'canaries',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    side: integer('side').notNull(),
    position: integer('position').notNull(),
    /** Expected token (16 bytes) the partner must produce. */
    token: blob('token', { mode: 'buffer' }).notNull(),
    registeredAt: text('registered_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch, t.side, t.position] })],
);

export const sideState = sqliteTable(
  'side_state',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    side: integer('side').notNull(),
    canariesDoneAt: text('canaries_done_at'),
    /**
     * Chunks 0..canaryChunks−1 of the side have their canaries registered
     * (protocol/SPEC.md §1.6: every chunk carries canaries); the side is done
     * only when this covers every chunk it uploaded.
     */
    canaryChunks: integer('canary_chunks').notNull().default(0),
    /** When the side's churn in the epoch first crossed the alert threshold (one audited alert per side and epoch). */
    churnAlertAt: text('churn_alert_at'),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch, t.side] })],
);

export const pairState = sqliteTable(
  'pair_state',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    state: text('state', { enum: ['waiting', 'complete', 'failed'] }).notNull(),
    reason: text('reason'),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch] })],
);

/**
 * Audit entries a pair's state change implies, written in the same
 * transaction as the change (docs/ARCHITECTURE.md §Coordinator, "One
 * transaction per state change"). The audit log is a control-plane table
 * (D1 on Workers, beside the pair's Durable Object), so an entry waits here
 * until it is appended to the chain; every request that touches the pair
 * publishes what waits before it reads anything.
 */
export const pairOutbox = sqliteTable(
  'pair_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    pairKey: integer('pair_key').notNull(),
    /** The AuditInput as JSON. */
    entry: text('entry').notNull(),
  },
  (t) => [index('pair_outbox_pair').on(t.pairKey)],
);

/**
 * The pair's matches changed in this epoch (tokens matched, a removal or a
 * canary retracted, links re-handled, the pair completed) and its nightly
 * hits have not yet followed. Set in the transaction of the change; `mark`
 * grows with every change, so clearing after a sync removes the row only if
 * no change came in between.
 */
export const pairHitsDue = sqliteTable(
  'pair_hits_due',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    mark: integer('mark').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch] })],
);

/**
 * The count a count-mode pair last released (protocol/SPEC.md §6): a new
 * count is taken at most once per snapshot interval and only after the
 * minimum churn, so withdrawing one item and re-reading reveals nothing.
 * `churn` is the pair's churn mark when it was taken (positions uploaded plus
 * positions removed, both sides).
 */
export const countSnapshots = sqliteTable(
  'count_snapshots',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    count: integer('count').notNull(),
    churn: integer('churn').notNull(),
    takenAt: text('taken_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch] })],
);

/** One row per handle so re-adding a removed item keeps its first-seen time. */
export const handles = sqliteTable(
  'handles',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    handle: text('handle').notNull(),
    firstSeen: text('first_seen').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch, t.handle] })],
);

export const matches = sqliteTable(
  'matches',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    /** Position in side 0 and side 1. */
    posA: integer('pos_a').notNull(),
    posB: integer('pos_b').notNull(),
    handle: text('handle').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch, t.posA, t.posB] }), index('matches_pos_b').on(t.pairKey, t.epoch, t.posB)],
);

/**
 * The version of a pair's matches and handles in an epoch: a fresh random
 * value whenever a row of either changes, set by triggers (migration 0009),
 * so no write path can forget it. GET /v1/results tags its document with the
 * revisions it was built from and answers 304 without reading the matches
 * (src/routes/results/etag.ts). Random rather than counted: a store restored
 * from a backup cannot hand an old revision to a different set of matches.
 */
export const matchRevisions = sqliteTable(
  'match_revisions',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    revision: blob('revision', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch] })],
);

/**
 * Handle continuity across rotation: a new-epoch position of one side that
 * held an identifier matched in the previous epoch, and that previous position.
 */
export const links = sqliteTable(
  'links',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    side: integer('side').notNull(),
    position: integer('position').notNull(),
    previousEpoch: text('previous_epoch').notNull(),
    previousPosition: integer('previous_position').notNull(),
    linkedAt: text('linked_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch, t.side, t.position] })],
);

/**
 * The matches of a purged epoch (positions and handles only, no element or
 * token), kept while links from the next epoch may still refer to them.
 */
export const carriedMatches = sqliteTable(
  'carried_matches',
  {
    pairKey: integer('pair_key').notNull(),
    epoch: text('epoch').notNull(),
    posA: integer('pos_a').notNull(),
    posB: integer('pos_b').notNull(),
    handle: text('handle').notNull(),
    firstSeen: text('first_seen').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch, t.posA, t.posB] })],
);

/** A targeted query (blinded values are dropped by the retention purge once the query is old). */
export const queries = sqliteTable(
  'queries',
  {
    id: text('id').primaryKey(),
    requester: text('requester').notNull(),
    kind: text('kind').notNull(),
    purpose: text('purpose').notNull(),
    caseRef: text('case_ref').notNull(),
    officer: text('officer').notNull(),
    values: integer('n_values').notNull(),
    /** Current epoch when the query was made. */
    epoch: text('epoch').notNull(),
    /** n×32 bytes; null once purged. */
    blinded: blob('blinded', { mode: 'buffer' }),
    createdAt: text('created_at').notNull(),
    /** The requester's `createdAt` of the signed statements (protocol/SPEC.md §8.9). */
    statedAt: text('stated_at'),
  },
  (t) => [index('queries_requester').on(t.requester, t.createdAt), index('queries_created').on(t.createdAt)],
);

/** One leg per partner asked. */
export const queryLegs = sqliteTable(
  'query_legs',
  {
    queryId: text('query_id')
      .notNull()
      .references(() => queries.id),
    partner: text('partner').notNull(),
    agreementId: text('agreement_id').notNull(),
    pairId: text('pair_id').notNull(),
    createdAt: text('created_at').notNull(),
    status: text('status', { enum: ['pending', 'answered', 'refused'] }).notNull(),
    /** The agreement version and epoch the leg's signed statement names, and the requester's signature over it. */
    agreementVersion: integer('agreement_version'),
    legEpoch: text('leg_epoch'),
    signature: blob('signature', { mode: 'buffer' }),
    refusalReason: text('refusal_reason'),
    refusedAt: text('refused_at'),
    answerEpoch: text('answer_epoch'),
    /** n×32 bytes; null until answered and once purged. */
    evaluated: blob('evaluated', { mode: 'buffer' }),
    proof: blob('proof', { mode: 'buffer' }),
    proofValid: integer('proof_valid'),
    answeredAt: text('answered_at'),
    outcomeAt: text('outcome_at'),
    outcomeHits: integer('outcome_hits'),
    outcomeNoHits: integer('outcome_no_hits'),
    outcomeError: text('outcome_error'),
  },
  (t) => [primaryKey({ columns: [t.queryId, t.partner] }), index('query_legs_inbox').on(t.partner, t.status, t.createdAt)],
);

/** Queries made per requesting agency, agreement and UTC day. */
export const queryQuota = sqliteTable(
  'query_quota',
  {
    agency: text('agency').notNull(),
    agreementId: text('agreement_id').notNull(),
    day: text('day').notNull(),
    used: integer('used').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agency, t.agreementId, t.day] })],
);

/** Hits reported by a requester, held by the partner that was asked. */
export const queryHits = sqliteTable(
  'query_hits',
  {
    queryId: text('query_id').notNull(),
    partner: text('partner').notNull(),
    idx: integer('idx').notNull(),
    handle: text('handle').notNull(),
    pairId: text('pair_id').notNull(),
    epoch: text('epoch').notNull(),
    /** The partner's position holding the value, when its token was found. */
    position: integer('position'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.queryId, t.partner, t.idx] }), index('query_hits_partner').on(t.partner), index('query_hits_handle').on(t.handle)],
);

/** Nightly match handles of complete reveal pairs; they outlive the pair data. */
export const nightlyHits = sqliteTable(
  'nightly_hits',
  {
    pairId: text('pair_id').notNull(),
    handle: text('handle').notNull(),
    /** Latest epoch the match was seen in, and its positions there. */
    epoch: text('epoch').notNull(),
    posA: integer('pos_a').notNull(),
    posB: integer('pos_b').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pairId, t.handle] }), index('nightly_hits_handle').on(t.handle)],
);

/** Status of a handle per holding agency; no row = unverified. */
export const hitStatus = sqliteTable(
  'hit_status',
  {
    handle: text('handle').notNull(),
    agency: text('agency').notNull(),
    status: text('status', { enum: ['confirmed', 'declined'] }).notNull(),
    officer: text('officer').notNull(),
    note: text('note'),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.handle, t.agency] })],
);

/**
 * The version of every hits document (one row): a fresh random value in the
 * same batch as every write to nightly hits, query hits or hit statuses
 * (bumpHits, src/store/sql/hits.ts; not triggers: D1's change counts would
 * include the rows they write). GET /v1/hits tags its document with it and
 * answers 304 without building the document.
 */
export const hitsRevision = sqliteTable('hits_revision', {
  id: integer('id').primaryKey(),
  revision: blob('revision', { mode: 'buffer' }).notNull(),
});
