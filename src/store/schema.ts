// The coordinator's SQLite schema: the single source of truth for the tables;
// `npx drizzle-kit generate` derives the migrations in drizzle/ from it.
//
// Per-pair bulk tables (chunks, tokens, removals, canaries, side_state,
// pair_state, handles, matches) are keyed by an integer pair key and carry the
// epoch, so rotation can purge one epoch and a Workers store can move them
// into a Durable Object per pair unchanged. Elements and tokens are BLOBs:
// a chunk is one row (≤ 65,536 × 32 bytes), tokens one row per position
// because matching and retraction work per position.
import { blob, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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

export const epochKeys = sqliteTable(
  'epoch_keys',
  {
    agency: text('agency')
      .notNull()
      .references(() => agencies.id),
    epoch: text('epoch').notNull(),
    publicKey: blob('public_key', { mode: 'buffer' }).notNull(),
    publishedAt: text('published_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agency, t.epoch] })],
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
  },
  (t) => [primaryKey({ columns: [t.pairKey, t.epoch, t.side, t.idx] })],
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
