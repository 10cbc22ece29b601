// Every statement a sync runs on this agency's sides, positions and chunks,
// and the log of sync runs (table layout: clients/store/schema.ts); the
// partner side's tables are in partner-store.ts. The phases call these named
// methods and never write SQL themselves.
import type { Database, Statement } from 'better-sqlite3';
import { ELEMENT_BYTES } from '../../../protocol/constants.js';
import type { Store } from '../../store/db.js';

/** This agency's side of a pair in an epoch (table `sides`). */
export interface SideRecord {
  /** Canaries over all the side's chunks. */
  canaries: number;
  /** Hex of the partner's epoch key the expected canary tokens were computed with. */
  canaryPartnerKey: string | null;
  /** Every chunk's canaries are registered (protocol/SPEC.md §1.6). */
  canariesRegistered: boolean;
  linksSent: boolean;
}

/** A chunk of a side as committed locally (its bytes stay in the store until sent). */
export interface LocalChunk {
  index: number;
  firstPosition: number;
  count: number;
  sha256: string;
  uploaded: boolean;
}

/** A position of a side: an identifier, or a canary's secret scalar. */
export interface PositionRow {
  position: number;
  kind: string | null;
  canonical: string | null;
  canaryR: Buffer | null;
}

export interface PreviousLink {
  /** Position in the current epoch. */
  position: number;
  /** Position of the same identifier in the previous epoch, where it was matched. */
  previous: number;
}

const WANTED = 'i.kind IN (SELECT value FROM json_each(@kinds))';

/** A pair's kinds as the side's watermark records them: order does not matter. */
function kindsKey(kinds: readonly string[]): string {
  return JSON.stringify([...kinds].sort());
}

/**
 * Statements prepared on first use and then reused: the phases run the same
 * ones for every pair and chunk. (Prepared lazily because some name the
 * temporary table a delta creates.)
 */
export function statementCache(db: Database): (text: string) => Statement {
  const statements = new Map<string, Statement>();
  return (text) => {
    let s = statements.get(text);
    if (!s) statements.set(text, (s = db.prepare(text)));
    return s;
  };
}

export class SyncStore {
  private readonly db: Database;
  private readonly sql: (text: string) => Statement;

  constructor(store: Store) {
    this.db = store.sqlite;
    this.sql = statementCache(this.db);
  }

  // ---- runs ----

  startRun(at: string): number | bigint {
    return this.sql('INSERT INTO sync_runs (started_at) VALUES (?)').run(at).lastInsertRowid;
  }

  finishRun(id: number | bigint, at: string, ok: boolean, epoch: string | null, errors: string[]): void {
    this.sql('UPDATE sync_runs SET finished_at = ?, ok = ?, epoch = ?, errors = ? WHERE id = ?').run(at, ok ? 1 : 0, epoch, JSON.stringify(errors), id);
  }

  hasImported(): boolean {
    return this.sql('SELECT count(*) FROM imports').pluck().get() !== 0;
  }

  /**
   * Drops other epochs' sides, positions and chunks of pairs that left every
   * valid agreement or already sent their handle links in `epoch`; and, when no
   * query of this agency is open, the partner tokens of other epochs.
   */
  purgeOtherEpochs(epoch: string, currentPairs: string[]): void {
    const db = this.db;
    const current = JSON.stringify(currentPairs);
    db.transaction(() => {
      // The (pair, epoch) ranges to drop, from the small chunk and side tables (every position
      // was written with its chunk and side in one transaction): each delete is then a seek on the
      // primary key rather than a scan of every position kept.
      const stale = db
        .prepare(
          `SELECT pair, epoch FROM (SELECT pair, epoch FROM chunks UNION SELECT pair, epoch FROM sides) WHERE epoch <> @epoch
             AND (pair NOT IN (SELECT value FROM json_each(@current)) OR pair IN (SELECT pair FROM sides WHERE epoch = @epoch AND links_sent = 1))`,
        )
        .all({ epoch, current }) as Array<{ pair: string; epoch: string }>;
      for (const x of stale) {
        for (const t of ['positions', 'chunks', 'sides']) this.sql(`DELETE FROM ${t} WHERE pair = ? AND epoch = ?`).run(x.pair, x.epoch);
      }
      const open = db.prepare('SELECT count(*) FROM queries WHERE closed_at IS NULL').pluck().get() as number;
      if (open > 0) return;
      // partner_chunks is the catalogue of kept tokens: each (pair, epoch) is one range of partner_tokens' key.
      const staleTokens = db.prepare('SELECT DISTINCT pair, epoch FROM partner_chunks WHERE epoch <> ?').all(epoch) as Array<{ pair: string; epoch: string }>;
      const dropTokens = db.prepare('DELETE FROM partner_tokens WHERE pair = ? AND epoch = ?');
      for (const x of staleTokens) dropTokens.run(x.pair, x.epoch);
      db.prepare('DELETE FROM partner_chunks WHERE epoch <> ?').run(epoch);
      // The partner's withdrawals only qualify tokens of their own epoch.
      db.prepare('DELETE FROM partner_removals WHERE epoch <> ?').run(epoch);
    })();
  }

  /**
   * Runs `f` in one write transaction, committed only if it resolves. A
   * delta's transaction spans its blinding: all of it is stored or none.
   */
  async immediate<T>(f: () => Promise<T>): Promise<T> {
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    let done = false;
    try {
      const r = await f();
      db.exec('COMMIT');
      done = true;
      return r;
    } finally {
      if (!done && db.inTransaction) db.exec('ROLLBACK');
    }
  }

  // ---- sides ----

  side(pair: string, epoch: string): SideRecord | undefined {
    const r = this.sql(
      'SELECT canaries, canary_partner_key AS canaryPartnerKey, canaries_registered AS registered, links_sent AS linksSent FROM sides WHERE pair = ? AND epoch = ?',
    ).get(pair, epoch) as { canaries: number; canaryPartnerKey: string | null; registered: number; linksSent: number } | undefined;
    return r && { canaries: r.canaries, canaryPartnerKey: r.canaryPartnerKey, canariesRegistered: r.registered === 1, linksSent: r.linksSent === 1 };
  }

  createSide(pair: string, epoch: string, agreement: string, partner: string, at: string, canaries: number): void {
    this.sql('INSERT INTO sides (pair, epoch, agreement, partner, created_at, canaries) VALUES (?, ?, ?, ?, ?, ?)').run(pair, epoch, agreement, partner, at, canaries);
  }

  setCanaryPartnerKey(pair: string, epoch: string, key: string): void {
    this.sql('UPDATE sides SET canary_partner_key = ? WHERE pair = ? AND epoch = ?').run(key, pair, epoch);
  }

  /** A later night's chunks brought `canaries` more: the side is no longer fully registered until they are. */
  addCanaries(pair: string, epoch: string, canaries: number): void {
    this.sql('UPDATE sides SET canaries = canaries + ?, canaries_registered = 0 WHERE pair = ? AND epoch = ?').run(canaries, pair, epoch);
  }

  /** Chunks whose canaries the coordinator was not yet told are registered, in index order. */
  chunksAwaitingCanaries(pair: string, epoch: string): number[] {
    return this.sql('SELECT idx FROM chunks WHERE pair = ? AND epoch = ? AND canaries_registered = 0 ORDER BY idx').pluck().all(pair, epoch) as number[];
  }

  /** After `canaries/done`: these chunks are covered; the side is when none is left. */
  markCanariesRegistered(pair: string, epoch: string, chunks: readonly number[]): void {
    const mark = this.sql('UPDATE chunks SET canaries_registered = 1 WHERE pair = ? AND epoch = ? AND idx = ?');
    this.db.transaction(() => {
      for (const idx of chunks) mark.run(pair, epoch, idx);
      this.sql(
        `UPDATE sides SET canaries_registered = NOT EXISTS (SELECT 1 FROM chunks c WHERE c.pair = sides.pair AND c.epoch = sides.epoch AND c.canaries_registered = 0)
         WHERE pair = ? AND epoch = ?`,
      ).run(pair, epoch);
    })();
  }

  // ---- positions ----

  /** Marks removed the live positions whose identifier left the watchlist (or the pair's kinds); returns how many. */
  withdraw(pair: string, epoch: string, kinds: readonly string[]): number {
    return this.sql(
      `UPDATE positions AS p SET removed = 1 WHERE p.pair = @pair AND p.epoch = @epoch AND p.removed = 0 AND p.canary_r IS NULL
       AND NOT EXISTS (SELECT 1 FROM identifiers i WHERE i.kind = p.kind AND i.canonical = p.canonical AND ${WANTED})`,
    ).run({ pair, epoch, kinds: JSON.stringify(kinds) }).changes;
  }

  // ---- the watchlist changelog (identifier_changes) ----

  /** The newest change to the watchlist recorded so far (0 when none ever was). */
  changeSeq(): number {
    return this.sql("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'identifier_changes'), 0)").pluck().get() as number;
  }

  /** The watermark of the side's last committed delta, if it was computed for these kinds. */
  deltaWatermark(pair: string, epoch: string, kinds: readonly string[]): number | undefined {
    const r = this.sql('SELECT delta_seq AS seq, delta_kinds AS kinds FROM sides WHERE pair = ? AND epoch = ?').get(pair, epoch) as
      | { seq: number | null; kinds: string | null }
      | undefined;
    return r && r.seq !== null && r.kinds === kindsKey(kinds) ? r.seq : undefined;
  }

  setDeltaWatermark(pair: string, epoch: string, kinds: readonly string[], seq: number): void {
    this.sql('UPDATE sides SET delta_seq = ?, delta_kinds = ? WHERE pair = ? AND epoch = ?').run(seq, kindsKey(kinds), pair, epoch);
  }

  /**
   * Drops the changes every side of `epoch` has seen. Sides of other epochs
   * never take a delta again, and a side without a watermark diffs the whole
   * watchlist, so neither holds the changelog back.
   */
  pruneChanges(epoch: string): void {
    const seen = this.sql('SELECT min(delta_seq) FROM sides WHERE epoch = ? AND delta_seq IS NOT NULL').pluck().get(epoch) as number | null;
    this.sql('DELETE FROM identifier_changes WHERE seq <= ?').run(seen ?? this.changeSeq());
  }

  /**
   * {@link withdraw} restricted to the identifiers changed after `since`:
   * after a committed delta every live position has its identifier in the
   * watchlist, so only a change since can have broken that.
   */
  withdrawChanged(pair: string, epoch: string, kinds: readonly string[], since: number): number {
    return this.sql(
      `UPDATE positions SET removed = 1 WHERE rowid IN (
         SELECT p.rowid FROM (SELECT DISTINCT kind, canonical FROM identifier_changes WHERE seq > @since) c
         CROSS JOIN positions p ON p.pair = @pair AND p.epoch = @epoch AND p.kind = c.kind AND p.canonical = c.canonical
         WHERE p.removed = 0 AND p.canary_r IS NULL
         AND NOT EXISTS (SELECT 1 FROM identifiers i WHERE i.kind = c.kind AND i.canonical = c.canonical AND ${WANTED}))`,
    ).run({ pair, epoch, kinds: JSON.stringify(kinds), since }).changes;
  }

  /**
   * Stages the watchlist identifiers of `kinds` the side holds no live position
   * for, like {@link stageAdditions}, looking only at those changed after
   * `since`: after a committed delta every listed identifier has a live position.
   */
  stageChangedAdditions(pair: string, epoch: string, kinds: readonly string[], since: number): number {
    this.db.exec('CREATE TEMP TABLE IF NOT EXISTS additions (n INTEGER PRIMARY KEY, kind TEXT NOT NULL, canonical TEXT NOT NULL)');
    this.db.exec('DELETE FROM temp.additions');
    this.sql(
      `INSERT INTO temp.additions (n, kind, canonical)
       SELECT row_number() OVER (ORDER BY kind, canonical) - 1, kind, canonical FROM (
         SELECT DISTINCT c.kind, c.canonical FROM identifier_changes c
         WHERE c.seq > @since AND c.kind IN (SELECT value FROM json_each(@kinds))
         AND EXISTS (SELECT 1 FROM identifiers i WHERE i.kind = c.kind AND i.canonical = c.canonical)
         AND NOT EXISTS (SELECT 1 FROM positions p WHERE p.pair = @pair AND p.epoch = @epoch AND p.removed = 0
                         AND p.kind = c.kind AND p.canonical = c.canonical))`,
    ).run({ pair, epoch, kinds: JSON.stringify(kinds), since });
    return this.sql('SELECT count(*) FROM temp.additions').pluck().get() as number;
  }

  /**
   * Stages the watchlist identifiers of `kinds` the side holds no live position
   * for, numbered 0.. in (kind, canonical) order; returns how many. They stay
   * in a temporary table (a first build after a rotation stages the whole
   * watchlist) until {@link placeChunk} gives each its position.
   */
  stageAdditions(pair: string, epoch: string, kinds: readonly string[]): number {
    this.db.exec('CREATE TEMP TABLE IF NOT EXISTS additions (n INTEGER PRIMARY KEY, kind TEXT NOT NULL, canonical TEXT NOT NULL)');
    this.db.exec('DELETE FROM temp.additions');
    this.sql(
      `INSERT INTO temp.additions (n, kind, canonical)
       SELECT row_number() OVER (ORDER BY kind, canonical) - 1, kind, canonical FROM (
         SELECT DISTINCT i.kind, i.canonical FROM identifiers i WHERE ${WANTED}
         AND NOT EXISTS (SELECT 1 FROM positions p WHERE p.pair = @pair AND p.epoch = @epoch AND p.removed = 0
                         AND p.kind = i.kind AND p.canonical = i.canonical))`,
    ).run({ pair, epoch, kinds: JSON.stringify(kinds) });
    return this.sql('SELECT count(*) FROM temp.additions').pluck().get() as number;
  }

  clearStagedAdditions(): void {
    this.db.exec('DELETE FROM temp.additions');
  }

  /**
   * Writes one chunk's positions in one statement, in slot order: slot k
   * (position firstPosition + k) holds staged addition `slots[k]` when that is
   * a number, else the canary scalar whose hex it is.
   */
  placeChunk(pair: string, epoch: string, chunk: number, firstPosition: number, slots: ReadonlyArray<number | string>): void {
    const written = this.sql(
      `INSERT INTO positions (pair, epoch, position, chunk, kind, canonical, canary_r)
       SELECT @pair, @epoch, @first + j.key, @chunk, a.kind, a.canonical, CASE WHEN j.type = 'text' THEN unhex(j.value) END
       FROM json_each(@slots) j LEFT JOIN temp.additions a ON j.type = 'integer' AND a.n = j.value
       WHERE j.type = 'text' OR a.n IS NOT NULL ORDER BY j.key`,
    ).run({ pair, epoch, first: firstPosition, chunk, slots: JSON.stringify(slots) }).changes;
    if (written !== slots.length) throw new Error(`internal: chunk ${chunk} has ${slots.length} slots, ${written} positions written`);
  }

  /** Live positions that hold an identifier (not a canary). */
  liveIdentifierCount(pair: string, epoch: string): number {
    // The live positions less the live canaries: the side counts its canaries, and any withdrawn are among the few
    // withdrawn positions (a seek each), not found by reading every position.
    return (
      this.liveCount(pair, epoch) -
      (this.sql(
        `SELECT coalesce((SELECT canaries FROM sides WHERE pair = @pair AND epoch = @epoch), 0)
              - (SELECT count(*) FROM positions WHERE pair = @pair AND epoch = @epoch AND removed = 1 AND canary_r IS NOT NULL)`,
      )
        .pluck()
        .get({ pair, epoch }) as number)
    );
  }

  liveCount(pair: string, epoch: string): number {
    // Every position is written with its chunk, in one transaction, and goes only with its whole epoch: the
    // chunks' counts less the withdrawn (a seek on positions_pending_removal), not a count of every position.
    return this.sql(
      `SELECT (SELECT coalesce(sum(count), 0) FROM chunks WHERE pair = @pair AND epoch = @epoch)
            - (SELECT count(*) FROM positions WHERE pair = @pair AND epoch = @epoch AND removed = 1)`,
    )
      .pluck()
      .get({ pair, epoch }) as number;
  }

  nextPosition(pair: string, epoch: string): number {
    return ((this.sql('SELECT max(position) FROM positions WHERE pair = ? AND epoch = ?').pluck().get(pair, epoch) as number | null) ?? -1) + 1;
  }

  positionsIn(pair: string, epoch: string, from: number, to: number): PositionRow[] {
    return this.sql(
      'SELECT position, kind, canonical, canary_r AS canaryR FROM positions WHERE pair = ? AND epoch = ? AND position >= ? AND position < ? ORDER BY position',
    ).all(pair, epoch, from, to) as PositionRow[];
  }

  /** Withdrawn positions whose removal is not known to be sent (`all`: every withdrawn one), in position order. */
  removals(pair: string, epoch: string, all: boolean): number[] {
    // Left to itself SQLite walks the primary key for the ORDER BY, every position of the side (0.1 s at 3·10^5).
    return this.sql(`SELECT position FROM positions INDEXED BY positions_pending_removal WHERE pair = ? AND epoch = ? AND removed = 1 ${all ? '' : 'AND removal_sent = 0'} ORDER BY position`)
      .pluck()
      .all(pair, epoch) as number[];
  }

  removalsSent(pair: string, epoch: string): number {
    return this.sql('SELECT count(*) FROM positions WHERE pair = ? AND epoch = ? AND removed = 1 AND removal_sent = 1').pluck().get(pair, epoch) as number;
  }

  markRemovalsSent(pair: string, epoch: string, positions: readonly number[]): void {
    const mark = this.sql('UPDATE positions SET removal_sent = 1 WHERE pair = ? AND epoch = ? AND position = ?');
    this.db.transaction(() => {
      for (const pos of positions) mark.run(pair, epoch, pos);
    })();
  }

  /** The canary scalars of the given chunks (all chunks when `chunks` is omitted), in position order. */
  canaryScalars(pair: string, epoch: string, chunks?: readonly number[]): Array<{ position: number; r: Buffer }> {
    const only = chunks === undefined ? '' : 'AND chunk IN (SELECT value FROM json_each(?))';
    const args: unknown[] = chunks === undefined ? [pair, epoch] : [pair, epoch, JSON.stringify(chunks)];
    return this.sql(`SELECT position, canary_r AS r FROM positions WHERE pair = ? AND epoch = ? AND canary_r IS NOT NULL ${only} ORDER BY position`).all(...args) as Array<{
      position: number;
      r: Buffer;
    }>;
  }

  // ---- chunks ----

  nextChunk(pair: string, epoch: string): number {
    return ((this.sql('SELECT max(idx) FROM chunks WHERE pair = ? AND epoch = ?').pluck().get(pair, epoch) as number | null) ?? -1) + 1;
  }

  insertChunk(pair: string, epoch: string, index: number, firstPosition: number, count: number, sha256: string, data: Uint8Array): void {
    const sql = 'INSERT INTO chunks (pair, epoch, idx, first_position, count, sha256, data) VALUES (?, ?, ?, ?, ?, ?, ?)';
    this.sql(sql).run(pair, epoch, index, firstPosition, count, sha256, Buffer.from(data));
  }

  chunks(pair: string, epoch: string): LocalChunk[] {
    const rows = this.sql('SELECT idx AS "index", first_position AS firstPosition, count, sha256, uploaded FROM chunks WHERE pair = ? AND epoch = ? ORDER BY idx').all(pair, epoch) as Array<
      Omit<LocalChunk, 'uploaded'> & { uploaded: number }
    >;
    return rows.map((r) => ({ ...r, uploaded: r.uploaded === 1 }));
  }

  chunkData(pair: string, epoch: string, index: number): Uint8Array {
    return new Uint8Array(this.sql('SELECT data FROM chunks WHERE pair = ? AND epoch = ? AND idx = ?').pluck().get(pair, epoch, index) as Buffer);
  }

  markUploaded(pair: string, epoch: string, index: number): void {
    this.sql('UPDATE chunks SET uploaded = 1 WHERE pair = ? AND epoch = ? AND idx = ?').run(pair, epoch, index);
  }

  // ---- handle links (a rotation's previous epoch) ----

  /** Older epochs of the matches kept from the last complete pull whose positions are still here. */
  matchedEpochsBefore(pair: string, epoch: string): string[] {
    return this.sql(
      // The distinct epochs first, then one primary-key seek each: as a correlated EXISTS over
      // every match, SQLite plans a scan of the pair's positions per match.
      `SELECT e.epoch FROM (SELECT DISTINCT epoch FROM matches WHERE pair = @pair AND epoch <> @epoch) e
       WHERE EXISTS (SELECT 1 FROM positions o WHERE o.pair = @pair AND o.epoch = e.epoch)`,
    )
      .pluck()
      .all({ pair, epoch }) as string[];
  }

  /** Each live position of `epoch` whose identifier was matched at a position of `previous`. */
  linksTo(pair: string, epoch: string, previous: string): PreviousLink[] {
    return this.sql(
      `SELECT DISTINCT n.position AS position, o.position AS previous FROM matches m
       JOIN positions o ON o.pair = m.pair AND o.epoch = m.epoch AND o.position = m.position
       JOIN positions n ON n.pair = o.pair AND n.epoch = @epoch AND n.kind = o.kind AND n.canonical = o.canonical AND n.removed = 0
       WHERE m.pair = @pair AND m.epoch = @previous ORDER BY n.position`,
    ).all({ pair, epoch, previous }) as PreviousLink[];
  }

  /** Records the links as sent and drops the pair's positions, chunks and sides of other epochs. */
  finishLinks(pair: string, epoch: string): void {
    this.db.transaction(() => {
      this.sql('UPDATE sides SET links_sent = 1 WHERE pair = ? AND epoch = ?').run(pair, epoch);
      for (const t of ['positions', 'chunks', 'sides']) this.sql(`DELETE FROM ${t} WHERE pair = ? AND epoch <> ?`).run(pair, epoch);
    })();
  }
}
