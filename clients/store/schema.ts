// The agency's local store (DIR/agency.db). It is the only place identifiers
// exist in the clear: they leave it only as blinded elements. Everything a
// sync computes is written here before it is sent, so an interrupted sync
// resumes by re-sending byte-identical data instead of re-deriving it.
import { blob, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** The current watchlist: one row per (record, identifier). Replaced by each import. */
export const identifiers = sqliteTable(
  'identifiers',
  {
    recordId: text('record_id').notNull(),
    kind: text('kind').notNull(),
    canonical: text('canonical').notNull(),
  },
  (t) => [primaryKey({ columns: [t.recordId, t.kind, t.canonical] }), index('identifiers_kind_canonical').on(t.kind, t.canonical)],
);

/**
 * The changelog of `identifiers`: one row per (kind, canonical form) inserted
 * or deleted, written by triggers (drizzle-client/0008_identifier_changes.sql)
 * whoever writes the watchlist. A side's delta reads only the rows after its
 * watermark (`sides.delta_seq`) instead of diffing the whole watchlist
 * against the whole side; rows every side of the current epoch has seen are
 * pruned after each sync. AUTOINCREMENT: a pruned sequence number is never
 * reused, so a watermark stays meaningful.
 */
export const identifierChanges = sqliteTable('identifier_changes', {
  seq: integer('seq').primaryKey({ autoIncrement: true }),
  kind: text('kind').notNull(),
  canonical: text('canonical').notNull(),
});

/** One row per import, for the operator's history (counts only, never values). */
export const imports = sqliteTable('imports', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  file: text('file').notNull(),
  importedAt: text('imported_at').notNull(),
  rows: integer('rows').notNull(),
  rejected: integer('rejected').notNull(),
  identifiers: integer('identifiers').notNull(),
  records: integer('records').notNull(),
  added: integer('added').notNull(),
  withdrawn: integer('withdrawn').notNull(),
});

/**
 * What the last import read, so the next one canonicalises only the lines
 * that changed (clients/agency/watchlist.ts). One row: the context the lines
 * were read in (format, encoding, CSV header, default country, a fingerprint
 * of the canonicalisation code) and the counts it was written with; a
 * mismatch of any of them makes the next import read every line afresh.
 */
export const importCache = sqliteTable('import_cache', {
  id: integer('id').primaryKey(),
  context: text('context').notNull(),
  entries: integer('entries').notNull(),
  /** Rows of `identifiers` when the cache was written. */
  identifiers: integer('identifiers').notNull(),
});

/**
 * The cached lines in chunks of up to 65,536: per line a 128-bit digest of
 * its bytes and the identifier (record, kind, canonical form) it gave. The
 * identifiers are the watchlist's own, already held in the clear in
 * `identifiers`; the digests are of the lines that produced them.
 */
export const importCacheChunks = sqliteTable('import_cache_chunks', {
  index: integer('idx').primaryKey(),
  entries: integer('entries').notNull(),
  data: blob('data', { mode: 'buffer' }).notNull(),
});

/**
 * Per cached chunk, a bitmap of its entries no longer live (bit j of byte
 * j >> 3: their lines left the watchlist); a chunk without a row has none.
 * An import that changed a few lines marks them here and appends its new
 * lines as a chunk of their own instead of rewriting every chunk. A table of
 * its own: SQLite rewrites a whole row on update, blob included.
 */
export const importCacheDead = sqliteTable('import_cache_dead', {
  index: integer('idx').primaryKey(),
  dead: blob('dead', { mode: 'buffer' }).notNull(),
});

/**
 * This agency's side of a pair in an epoch: when it was first built, how many
 * canaries it carries (over all its chunks) and whether the expected tokens of
 * every chunk's canaries are registered (per chunk in `chunks`).
 */
export const sides = sqliteTable(
  'sides',
  {
    pair: text('pair').notNull(),
    epoch: text('epoch').notNull(),
    agreement: text('agreement').notNull(),
    partner: text('partner').notNull(),
    createdAt: text('created_at').notNull(),
    canaries: integer('canaries').notNull(),
    /** Hex of the partner's epoch key the expected canary tokens were computed with. */
    canaryPartnerKey: text('canary_partner_key'),
    canariesRegistered: integer('canaries_registered', { mode: 'boolean' }).notNull().default(false),
    /**
     * Handle continuity after a rotation (reveal pairs): set once the links from
     * this side's positions to the previous epoch's matched positions were
     * sent (or none were needed). The previous epoch's local data of the pair is
     * kept until then, because it is the only map from old positions to identifiers.
     */
    linksSent: integer('links_sent', { mode: 'boolean' }).notNull().default(false),
    /**
     * The last `identifier_changes.seq` the side's committed delta took into
     * account, and the pair's kinds (JSON, sorted) it was computed for: with
     * the same kinds, the next delta looks only at later changes. Null: the
     * next delta diffs the whole watchlist.
     */
    deltaSeq: integer('delta_seq'),
    deltaKinds: text('delta_kinds'),
  },
  (t) => [primaryKey({ columns: [t.pair, t.epoch] })],
);

/**
 * Positions of a side. A position holds either an identifier (kind +
 * canonical) or a canary (its secret scalar r; the element is r·G). Each
 * distinct identifier gets one live position per side, whichever records
 * carry it; a withdrawn identifier's position is marked removed, and a
 * re-added one gets a new position.
 */
export const positions = sqliteTable(
  'positions',
  {
    pair: text('pair').notNull(),
    epoch: text('epoch').notNull(),
    position: integer('position').notNull(),
    chunk: integer('chunk').notNull(),
    kind: text('kind'),
    canonical: text('canonical'),
    canaryR: blob('canary_r', { mode: 'buffer' }),
    removed: integer('removed', { mode: 'boolean' }).notNull().default(false),
    removalSent: integer('removal_sent', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.pair, t.epoch, t.position] }),
    index('positions_identifier').on(t.pair, t.epoch, t.kind, t.canonical),
    // An identifier blinds to the same element in every pair of an epoch (one epoch key per agency).
    index('positions_epoch_identifier').on(t.epoch, t.kind, t.canonical),
    index('positions_pending_removal').on(t.pair, t.epoch, t.removed, t.removalSent),
  ],
);

/** Chunks of a side, with their exact bytes, so a resumed upload sends what was computed. */
export const chunks = sqliteTable(
  'chunks',
  {
    pair: text('pair').notNull(),
    epoch: text('epoch').notNull(),
    index: integer('idx').notNull(),
    firstPosition: integer('first_position').notNull(),
    count: integer('count').notNull(),
    /** Lower-case hex SHA-256 of `data`. */
    sha256: text('sha256').notNull(),
    data: blob('data', { mode: 'buffer' }).notNull(),
    uploaded: integer('uploaded', { mode: 'boolean' }).notNull().default(false),
    /**
     * The expected tokens of this chunk's canaries are registered and the
     * coordinator was told so (`canaries/done`); every chunk carries its own
     * canaries (protocol/SPEC.md §1.6).
     */
    canariesRegistered: integer('canaries_registered', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.pair, t.epoch, t.index] })],
);

/** Partner chunks this agency has tokenised (the coordinator's /v1/work is authoritative; this is the log). */
export const partnerChunks = sqliteTable(
  'partner_chunks',
  {
    pair: text('pair').notNull(),
    epoch: text('epoch').notNull(),
    index: integer('idx').notNull(),
    count: integer('count').notNull(),
    sha256: text('sha256').notNull(),
    tokenizedAt: text('tokenized_at').notNull(),
    /** Its tokens are in partner_tokens (false for chunks tokenised before the store kept them). */
    tokensKept: integer('tokens_kept', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.pair, t.epoch, t.index] })],
);

/**
 * Tokens this agency computed for the partner's side of a pair,
 * Token(k_mine · element) per partner position. A targeted query's finished
 * answer is Token(k_mine · k_partner · H(x)), so a hit is a lookup here: the
 * same value the nightly flow produced for the partner's identifier.
 */
export const partnerTokens = sqliteTable(
  'partner_tokens',
  {
    pair: text('pair').notNull(),
    epoch: text('epoch').notNull(),
    position: integer('position').notNull(),
    chunk: integer('chunk').notNull(),
    token: blob('token', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.pair, t.epoch, t.position] }), index('partner_tokens_token').on(t.token)],
);

/**
 * Positions the partner withdrew from its side of a pair in an epoch, as the
 * coordinator listed them (GET …/partner-set/removals, in the order withdrawn;
 * their count is where the next page starts). The tokens kept for these
 * positions no longer answer a targeted query (protocol/SPEC.md §3.1 step 6).
 */
export const partnerRemovals = sqliteTable(
  'partner_removals',
  {
    pair: text('pair').notNull(),
    epoch: text('epoch').notNull(),
    position: integer('position').notNull(),
    removedAt: text('removed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pair, t.epoch, t.position] })],
);

/**
 * Targeted queries this agency asked. The blinds (secret per-value scalars r)
 * are kept only until every leg is answered or expired: they are what turns a
 * partner's answer into tokens, and nothing else.
 */
export const queries = sqliteTable('queries', {
  id: text('id').primaryKey(),
  createdAt: text('created_at').notNull(),
  kind: text('kind').notNull(),
  purpose: text('purpose').notNull(),
  caseRef: text('case_ref').notNull(),
  officer: text('officer').notNull(),
  /** Number of values asked. */
  values: integer('values_count').notNull(),
  /** n×32 bytes: the blinds r, then null once the query is closed. */
  blinds: blob('blinds', { mode: 'buffer' }),
  /** n×32 bytes: r·HashToGroup(Input(x)) as sent (the proof covers them), null once closed. */
  blinded: blob('blinded', { mode: 'buffer' }),
  closedAt: text('closed_at'),
});

/** One leg per partner asked: its state and, once finished, the outcome. */
export const queryLegs = sqliteTable(
  'query_legs',
  {
    queryId: text('query_id')
      .notNull()
      .references(() => queries.id, { onDelete: 'cascade' }),
    partner: text('partner').notNull(),
    /**
     * The pair, agreement version and epoch this agency signed the leg's
     * `query` statement for (protocol/SPEC.md §8.9): the answer is checked
     * against these, never against what the coordinator relays.
     */
    pair: text('pair'),
    agreement: text('agreement'),
    agreementVersion: integer('agreement_version'),
    signedEpoch: text('signed_epoch'),
    /** pending | done (hits below are final) | error (see error) | expired. */
    state: text('state').notNull(),
    epoch: text('epoch'),
    /** bad-proof | unanswered | incomplete | … */
    error: text('error'),
    detail: text('detail'),
    outcomeSent: integer('outcome_sent', { mode: 'boolean' }).notNull().default(false),
    finishedAt: text('finished_at'),
  },
  (t) => [primaryKey({ columns: [t.queryId, t.partner] })],
);

/** Per leg and value: hit or not, and the handle the coordinator gave a hit. Never the value. */
export const queryResults = sqliteTable(
  'query_results',
  {
    queryId: text('query_id').notNull(),
    partner: text('partner').notNull(),
    valueIndex: integer('value_index').notNull(),
    hit: integer('hit', { mode: 'boolean' }).notNull(),
    handle: text('handle'),
  },
  (t) => [primaryKey({ columns: [t.queryId, t.partner, t.valueIndex] })],
);

/** Status of every hit this agency is a party of, as last pulled from GET /v1/hits. */
export const hitStatus = sqliteTable('hit_status', {
  handle: text('handle').primaryKey(),
  pair: text('pair').notNull(),
  partner: text('partner').notNull(),
  source: text('source').notNull(),
  status: text('status').notNull(),
  myStatus: text('my_status'),
  partnerStatus: text('partner_status'),
  updatedAt: text('updated_at').notNull(),
});

/** Last known state of each pair as pulled from GET /v1/results. */
export const pairResults = sqliteTable('pair_results', {
  pair: text('pair').primaryKey(),
  agreement: text('agreement').notNull(),
  partner: text('partner').notNull(),
  mode: text('mode').notNull(),
  epoch: text('epoch').notNull(),
  state: text('state').notNull(),
  reason: text('reason'),
  /** Count-mode pairs: matched identifier pairs at the last complete pull. */
  count: integer('count'),
  updatedAt: text('updated_at').notNull(),
  /** When the matches/count below were last replaced by a complete pull. */
  completedAt: text('completed_at'),
});

/** Matches of reveal-mode pairs, mapped back to local records at pull time. */
export const matches = sqliteTable(
  'matches',
  {
    pair: text('pair').notNull(),
    partner: text('partner').notNull(),
    epoch: text('epoch').notNull(),
    position: integer('position').notNull(),
    recordId: text('record_id').notNull(),
    kind: text('kind').notNull(),
    handle: text('handle').notNull(),
    firstSeen: text('first_seen').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pair, t.position, t.recordId] }), index('matches_partner_record').on(t.partner, t.recordId)],
);

/**
 * Officers who may log in to the investigator console. The password is kept
 * only as an scrypt hash (`scrypt$N$r$p$salt$hash`, base64url).
 */
export const officers = sqliteTable('officers', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  passwordHash: text('password_hash').notNull(),
  createdAt: text('created_at').notNull(),
  disabledAt: text('disabled_at'),
});

/**
 * This agency's own audit trail: officers' actions in the console and the CLI
 * (logins, queries, hit decisions, exports). Like the coordinator's, it never
 * holds an identifier value: queries are recorded by kind, count and case.
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    at: text('at').notNull(),
    officer: text('officer'),
    action: text('action').notNull(),
    subject: text('subject').notNull(),
    outcome: text('outcome').notNull(),
    caseRef: text('case_ref'),
    /** JSON object. */
    detail: text('detail').notNull(),
  },
  (t) => [index('audit_log_at').on(t.at)],
);

/** One row per sync run (CLI or daemon): when, and why it failed if it did. */
export const syncRuns = sqliteTable('sync_runs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  startedAt: text('started_at').notNull(),
  finishedAt: text('finished_at'),
  ok: integer('ok', { mode: 'boolean' }),
  epoch: text('epoch'),
  /** JSON array of failure reasons (never identifiers). */
  errors: text('errors').notNull().default('[]'),
});

/** Overlaps per pair per UTC night, as of the last complete results pull of that night (for trends). */
export const pairNights = sqliteTable(
  'pair_nights',
  {
    pair: text('pair').notNull(),
    date: text('date').notNull(),
    partner: text('partner').notNull(),
    mode: text('mode').notNull(),
    overlaps: integer('overlaps').notNull(),
    at: text('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pair, t.date] })],
);

/**
 * Agreement versions this agency decided on (protocol/SPEC.md §8.6). The
 * terms are kept as the canonical JSON the officer saw and signed: sync,
 * queries and the responder act on this copy, never on what the coordinator
 * lists, so a coordinator cannot widen an agreement after it was accepted.
 */
export const agreements = sqliteTable(
  'agreements',
  {
    id: text('id').notNull(),
    version: integer('version').notNull(),
    /** RFC 8785 canonical JSON of the terms. */
    terms: text('terms').notNull(),
    /** accepted | rejected */
    status: text('status').notNull(),
    officer: text('officer').notNull(),
    decidedAt: text('decided_at').notNull(),
    /** Hex of this agency's acceptance signature (null for a rejection). */
    signature: text('signature'),
  },
  (t) => [primaryKey({ columns: [t.id, t.version] })],
);

/**
 * Local protocol state (one row per key). `highest_epoch` is the highest
 * epoch number the coordinator ever presented: epochs only move forward at
 * this client (protocol/SPEC.md §5.3, item 4).
 */
export const localState = sqliteTable('local_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/**
 * Targeted queries the responder decided on (protocol/SPEC.md §8.9): the
 * replay table (an id is answered at most once) and the per-requester
 * per-UTC-day count of answered queries. Never a value.
 */
export const seenQueries = sqliteTable(
  'seen_queries',
  {
    id: text('id').primaryKey(),
    requester: text('requester').notNull(),
    /** UTC day (YYYY-MM-DD) of the decision. */
    day: text('day').notNull(),
    /** answered | refused */
    decision: text('decision').notNull(),
    reason: text('reason'),
    at: text('at').notNull(),
  },
  (t) => [index('seen_queries_requester_day').on(t.requester, t.day, t.decision)],
);

/**
 * Signed heads of the coordinator's audit transparency log (protocol/SPEC.md
 * §9.4) this agency verified, one per tree size: each under the log key
 * pinned in local_state (`audit_log_key`), each consistent with the one
 * before it. The newest is what the next check proves consistency from, and
 * what `concordat audit head` shows for comparison with other parties.
 */
export const auditHeads = sqliteTable('audit_heads', {
  size: integer('size').primaryKey(),
  /** Lower-case hex log id (§9.4). */
  log: text('log').notNull(),
  /** Lower-case hex root. */
  root: text('root').notNull(),
  /** The head's own `at`, as signed. */
  at: text('at').notNull(),
  /** Lower-case hex Ed25519 signature by the log key. */
  signature: text('signature').notNull(),
  /** When this agency verified it. */
  verifiedAt: text('verified_at').notNull(),
});
