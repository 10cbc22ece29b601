// Per-pair bulk data on SQLite through drizzle's synchronous drivers: the
// same code serves the Node store (better-sqlite3, every pair in one file,
// src/store/drivers/better-sqlite3.ts) and each pair's Durable Object on
// Workers (drizzle-orm/durable-sqlite, src/store/drivers/durable-object.ts).
// Unlike the control plane, a pair's data always sits in a synchronous SQLite
// that serialises its writers, so each method may be one interactive
// transaction. Runtime-neutral: no
// Node API beyond the global Buffer, which drizzle's BLOB columns use on both
// runtimes. Each method is one transaction, so a pair's state never shows a
// half-written chunk or a half-matched token upload.
import { and, asc, between, count, desc, eq, ne, sql, sum } from 'drizzle-orm';
import { alias, type BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import { ELEMENT_BYTES, TOKEN_BYTES } from '../../../protocol/constants.js';
import type { AuditDetail, AuditInput } from '../../audit.js';
import { matchHandle } from '../../matching.js';
import { bytesToHex } from '../../../protocol/bytes.js';
import { buf, sameBytes, u8 } from './rows.js';
import * as schema from '../schema.js';
import type {
  CanaryInput,
  ChunkInfo,
  ChurnAlertResult,
  CountSnapshot,
  ElementLocation,
  LinkInput,
  MatchedHandle,
  MatchRecord,
  PairPending,
  PairStateName,
  PairStateRecord,
  PairStore,
  PairSummary,
  PurgeCounts,
  PutChunkInput,
  PutChunkResult,
  PutLinksResult,
  PutTokensInput,
  PutTokensResult,
  RegisterCanariesResult,
  RemoveResult,
  Side,
  SideSummary,
  SnapshotPolicy,
} from '../types.js';

const { canaries, carriedMatches, chunkPieces, chunks, countSnapshots, handles, links, matchRevisions, matches, pairHitsDue, pairOutbox, pairState, removals, sideState, tokens } = schema;

/** A synchronous drizzle SQLite database over the coordinator schema (better-sqlite3 or Durable Object storage). */
export type SyncDb = BaseSQLiteDatabase<'sync', unknown, typeof schema>;

/** Rows changed by the statement that returned `result` (drivers report it differently). */
export type ChangesOf = (result: unknown) => number;

/**
 * Largest element BLOB in one row: 1 MiB (32,768 elements). D1 and Durable
 * Object SQLite refuse rows over 2,000,000 bytes, and a full chunk is 2 MiB.
 */
export const CHUNK_PIECE_BYTES = 1 << 20;

function chunkOf(r: {
  idx: number;
  firstPosition: number;
  count: number;
  sha256: Buffer;
  tokensSha256: Buffer | null;
  createdAt: string;
  signature: Buffer | null;
  agreementVersion: number | null;
}): ChunkInfo {
  return {
    index: r.idx,
    firstPosition: r.firstPosition,
    count: r.count,
    sha256: u8(r.sha256),
    tokensSha256: r.tokensSha256 ? u8(r.tokensSha256) : null,
    createdAt: r.createdAt,
    signature: r.signature ? u8(r.signature) : null,
    agreementVersion: r.agreementVersion,
  };
}

const chunkColumns = {
  idx: chunks.idx,
  firstPosition: chunks.firstPosition,
  count: chunks.count,
  sha256: chunks.sha256,
  tokensSha256: chunks.tokensSha256,
  createdAt: chunks.createdAt,
  signature: chunks.signature,
  agreementVersion: chunks.agreementVersion,
};

/** Prepared statements for the per-position hot loops. */
export function prepareBulk(db: SyncDb) {
  const p = (name: string) => sql.placeholder(name);
  return {
    markRemoved: db
      .update(tokens)
      .set({ removed: 1 })
      .where(and(eq(tokens.pairKey, p('k')), eq(tokens.epoch, p('e')), eq(tokens.side, p('s')), eq(tokens.position, p('pos'))))
      .prepare(),
    markCanary: db
      .update(tokens)
      .set({ canary: 1 })
      .where(and(eq(tokens.pairKey, p('k')), eq(tokens.epoch, p('e')), eq(tokens.side, p('s')), eq(tokens.position, p('pos'))))
      .prepare(),
    insertRemoval: db
      .insert(removals)
      .values({ pairKey: p('k'), epoch: p('e'), side: p('s'), position: p('pos'), removedAt: p('at') })
      .onConflictDoNothing()
      .prepare(),
    retractA: db
      .delete(matches)
      .where(and(eq(matches.pairKey, p('k')), eq(matches.epoch, p('e')), eq(matches.posA, p('pos'))))
      .prepare(),
    retractB: db
      .delete(matches)
      .where(and(eq(matches.pairKey, p('k')), eq(matches.epoch, p('e')), eq(matches.posB, p('pos'))))
      .prepare(),
    insertHandle: db
      .insert(handles)
      .values({ pairKey: p('k'), epoch: p('e'), handle: p('h'), firstSeen: p('at') })
      .onConflictDoNothing()
      .prepare(),
    insertMatch: db
      .insert(matches)
      .values({ pairKey: p('k'), epoch: p('e'), posA: p('a'), posB: p('b'), handle: p('h'), createdAt: p('at') })
      .onConflictDoNothing()
      .prepare(),
    anyLink: db
      .select({ one: sql<number>`1` })
      .from(links)
      .where(and(eq(links.pairKey, p('k')), eq(links.epoch, p('e'))))
      .limit(1)
      .prepare(),
    getLink: db
      .select({ previousEpoch: links.previousEpoch, previousPosition: links.previousPosition })
      .from(links)
      .where(and(eq(links.pairKey, p('k')), eq(links.epoch, p('e')), eq(links.side, p('s')), eq(links.position, p('pos'))))
      .prepare(),
    getPreviousMatch: db
      .select({ handle: matches.handle, firstSeen: handles.firstSeen })
      .from(matches)
      .innerJoin(handles, and(eq(handles.pairKey, matches.pairKey), eq(handles.epoch, matches.epoch), eq(handles.handle, matches.handle)))
      .where(and(eq(matches.pairKey, p('k')), eq(matches.epoch, p('e')), eq(matches.posA, p('a')), eq(matches.posB, p('b'))))
      .prepare(),
    getCarried: db
      .select({ handle: carriedMatches.handle, firstSeen: carriedMatches.firstSeen })
      .from(carriedMatches)
      .where(and(eq(carriedMatches.pairKey, p('k')), eq(carriedMatches.epoch, p('e')), eq(carriedMatches.posA, p('a')), eq(carriedMatches.posB, p('b'))))
      .prepare(),
  };
}

export type Bulk = ReturnType<typeof prepareBulk>;

/**
 * The previous-epoch match a new-epoch match (a, b) continues: both positions
 * link to the two positions of one match of the same previous epoch, still
 * live or carried past its purge.
 */
function continuedHandle(bulk: Bulk, k: number, epoch: string, a: number, b: number): { handle: string; firstSeen: string } | undefined {
  const la = bulk.getLink.get({ k, e: epoch, s: 0, pos: a });
  if (!la) return undefined;
  const lb = bulk.getLink.get({ k, e: epoch, s: 1, pos: b });
  if (!lb || lb.previousEpoch !== la.previousEpoch) return undefined;
  const key = { k, e: la.previousEpoch, a: la.previousPosition, b: lb.previousPosition };
  return bulk.getPreviousMatch.get(key) ?? bulk.getCarried.get(key);
}

export class SqlPairStore implements PairStore {
  /**
   * `keyOf` gives the pair's integer key in the per-pair tables (a lookup in
   * `pairs` when every pair shares one database, a constant in a pair's own
   * Durable Object).
   */
  constructor(
    private readonly db: SyncDb,
    private readonly bulk: Bulk,
    readonly pairId: string,
    private readonly keyOf: () => number,
    private readonly changed: ChangesOf,
  ) {}

  private get key(): number {
    return this.keyOf();
  }

  /** The audit entry a change implies, in the change's own transaction (published by `pending`). */
  private outbox(db: SyncDb, audit: AuditInput | undefined, found?: AuditDetail): void {
    if (!audit) return;
    const entry: AuditInput = found ? { ...audit, detail: { ...audit.detail, ...found } } : audit;
    db.insert(pairOutbox).values({ pairKey: this.key, entry: JSON.stringify(entry) }).run();
  }

  /** The epoch's matches changed: its nightly hits must follow (in the change's own transaction). */
  private hitsDue(db: SyncDb, epoch: string): void {
    db.insert(pairHitsDue)
      .values({ pairKey: this.key, epoch, mark: 1 })
      .onConflictDoUpdate({ target: [pairHitsDue.pairKey, pairHitsDue.epoch], set: { mark: sql`${pairHitsDue.mark} + 1` } })
      .run();
  }

  async pending(): Promise<PairPending> {
    const k = this.key;
    const audits = this.db
      .select({ id: pairOutbox.id, entry: pairOutbox.entry })
      .from(pairOutbox)
      .where(eq(pairOutbox.pairKey, k))
      .orderBy(asc(pairOutbox.id))
      .all()
      .map((r) => ({ id: r.id, entry: JSON.parse(r.entry) as AuditInput }));
    const hits = this.db
      .select({ epoch: pairHitsDue.epoch, mark: pairHitsDue.mark, state: pairState.state })
      .from(pairHitsDue)
      .leftJoin(pairState, and(eq(pairState.pairKey, pairHitsDue.pairKey), eq(pairState.epoch, pairHitsDue.epoch)))
      .where(eq(pairHitsDue.pairKey, k))
      .all()
      .map((r) => ({ epoch: r.epoch, mark: r.mark, complete: r.state === 'complete' }));
    return { audits, hits };
  }

  async clearAudits(ids: readonly number[]): Promise<void> {
    const k = this.key;
    this.db.transaction((tx) => {
      for (const id of ids) tx.delete(pairOutbox).where(and(eq(pairOutbox.pairKey, k), eq(pairOutbox.id, id))).run();
    });
  }

  async clearHitsDue(epoch: string, mark: number): Promise<void> {
    this.db
      .delete(pairHitsDue)
      .where(and(eq(pairHitsDue.pairKey, this.key), eq(pairHitsDue.epoch, epoch), eq(pairHitsDue.mark, mark)))
      .run();
  }

  private chunkWhere(epoch: string, side: Side) {
    return and(eq(chunks.pairKey, this.key), eq(chunks.epoch, epoch), eq(chunks.side, side));
  }

  async listChunks(epoch: string, side: Side): Promise<ChunkInfo[]> {
    return this.db.select(chunkColumns).from(chunks).where(this.chunkWhere(epoch, side)).orderBy(asc(chunks.idx)).all().map(chunkOf);
  }

  async getChunk(epoch: string, side: Side, index: number): Promise<ChunkInfo | undefined> {
    const r = this.db
      .select(chunkColumns)
      .from(chunks)
      .where(and(this.chunkWhere(epoch, side), eq(chunks.idx, index)))
      .get();
    return r ? chunkOf(r) : undefined;
  }

  async getChunkElements(epoch: string, side: Side, index: number): Promise<Uint8Array | undefined> {
    const k = this.key;
    return this.db.transaction((tx) => {
      const r = tx
        .select({ elements: chunks.elements, count: chunks.count })
        .from(chunks)
        .where(and(this.chunkWhere(epoch, side), eq(chunks.idx, index)))
        .get();
      if (!r) return undefined;
      if (r.elements.length === r.count * ELEMENT_BYTES) return u8(r.elements);
      const out = new Uint8Array(r.count * ELEMENT_BYTES);
      out.set(r.elements, 0);
      let offset = r.elements.length;
      const pieces = tx
        .select({ elements: chunkPieces.elements })
        .from(chunkPieces)
        .where(and(eq(chunkPieces.pairKey, k), eq(chunkPieces.epoch, epoch), eq(chunkPieces.side, side), eq(chunkPieces.idx, index)))
        .orderBy(asc(chunkPieces.piece))
        .all();
      for (const p of pieces) {
        out.set(p.elements, offset);
        offset += p.elements.length;
      }
      if (offset !== out.length) throw new Error('coordinator: a chunk is missing pieces');
      return out;
    });
  }

  /** Positions uploaded on a side (the next chunk's firstPosition) and the number of chunks. */
  private extent(db: SyncDb, epoch: string, side: Side): { chunks: number; size: number } {
    const last = db
      .select({ idx: chunks.idx, firstPosition: chunks.firstPosition, count: chunks.count })
      .from(chunks)
      .where(this.chunkWhere(epoch, side))
      .orderBy(desc(chunks.idx))
      .limit(1)
      .get();
    return last ? { chunks: last.idx + 1, size: last.firstPosition + last.count } : { chunks: 0, size: 0 };
  }

  private removedCount(db: SyncDb, epoch: string, side: Side): number {
    const r = db
      .select({ n: count() })
      .from(removals)
      .where(and(eq(removals.pairKey, this.key), eq(removals.epoch, epoch), eq(removals.side, side)))
      .get();
    return r?.n ?? 0;
  }

  async putChunk(input: PutChunkInput): Promise<PutChunkResult> {
    const key = this.key;
    const n = input.elements.length / ELEMENT_BYTES;
    return this.db.transaction(
      (tx) => {
        const existing = tx
          .select(chunkColumns)
          .from(chunks)
          .where(and(this.chunkWhere(input.epoch, input.side), eq(chunks.idx, input.index)))
          .get();
        if (existing) {
          const chunk = chunkOf(existing);
          return { status: sameBytes(existing.sha256, input.sha256) ? 'same' : 'conflict', chunk } as PutChunkResult;
        }
        const ext = this.extent(tx as unknown as SyncDb, input.epoch, input.side);
        // The signature covers firstPosition: a chunk that would land elsewhere is not the chunk signed.
        if (input.index !== ext.chunks || input.firstPosition !== ext.size) return { status: 'gap', nextIndex: ext.chunks, nextPosition: ext.size };
        const live = ext.size - this.removedCount(tx as unknown as SyncDb, input.epoch, input.side);
        if (live + n > input.maxLiveSize) return { status: 'too-large', liveSize: live };
        // The per-epoch probing bound (protocol/SPEC.md §3.3): withdrawn positions still count.
        if (ext.size + n > input.maxEpochPositions) return { status: 'upload-cap', uploaded: ext.size };
        tx.insert(chunks)
          .values({
            pairKey: key,
            epoch: input.epoch,
            side: input.side,
            idx: input.index,
            firstPosition: ext.size,
            count: n,
            sha256: buf(input.sha256),
            elements: buf(input.elements.subarray(0, CHUNK_PIECE_BYTES)),
            createdAt: input.at,
            signature: buf(input.signature),
            agreementVersion: input.agreementVersion,
          })
          .run();
        for (let piece = 1; piece * CHUNK_PIECE_BYTES < input.elements.length; piece++) {
          const elements = buf(input.elements.subarray(piece * CHUNK_PIECE_BYTES, (piece + 1) * CHUNK_PIECE_BYTES));
          tx.insert(chunkPieces).values({ pairKey: key, epoch: input.epoch, side: input.side, idx: input.index, piece, elements }).run();
        }
        this.outbox(tx as unknown as SyncDb, input.audit);
        return {
          status: 'created',
          chunk: {
            index: input.index,
            firstPosition: ext.size,
            count: n,
            sha256: input.sha256,
            tokensSha256: null,
            createdAt: input.at,
            signature: input.signature,
            agreementVersion: input.agreementVersion,
          },
        };
      },
      { behavior: 'immediate' },
    );
  }

  async removePositions(epoch: string, side: Side, positions: readonly number[], at: string, audit?: AuditInput): Promise<RemoveResult> {
    const k = this.key;
    const { markRemoved, insertRemoval, retractA, retractB } = this.bulk;
    return this.db.transaction(
      (tx) => {
        const { size } = this.extent(tx as unknown as SyncDb, epoch, side);
        for (let i = 0; i < positions.length; i++) if ((positions[i] as number) >= size) return { ok: false, badIndex: i };
        const distinct = new Set(positions);
        let retracted = 0;
        const retract = side === 0 ? retractA : retractB;
        for (const pos of distinct) {
          if (this.changed(insertRemoval.run({ k, e: epoch, s: side, pos, at })) === 0) continue;
          markRemoved.run({ k, e: epoch, s: side, pos });
          retracted += this.changed(retract.run({ k, e: epoch, pos }));
        }
        if (retracted > 0) this.hitsDue(tx as unknown as SyncDb, epoch);
        this.outbox(tx as unknown as SyncDb, audit);
        return { ok: true, removed: distinct.size, retracted };
      },
      { behavior: 'immediate' },
    );
  }

  async registerCanaries(epoch: string, side: Side, list: readonly CanaryInput[], at: string, audit?: AuditInput): Promise<RegisterCanariesResult> {
    const k = this.key;
    const { markCanary, retractA, retractB } = this.bulk;
    return this.db.transaction(
      (tx) => {
        const { size } = this.extent(tx as unknown as SyncDb, epoch, side);
        const seen = new Map<number, Uint8Array>();
        const fresh: CanaryInput[] = [];
        for (let i = 0; i < list.length; i++) {
          const c = list[i] as CanaryInput;
          if (c.position >= size) return { ok: false, reason: 'unknown-position', badIndex: i };
          const earlier = seen.get(c.position);
          if (earlier) {
            if (!sameBytes(earlier, c.token)) return { ok: false, reason: 'conflict', badIndex: i };
            continue;
          }
          seen.set(c.position, c.token);
          const r = tx
            .select({ token: canaries.token })
            .from(canaries)
            .where(and(eq(canaries.pairKey, k), eq(canaries.epoch, epoch), eq(canaries.side, side), eq(canaries.position, c.position)))
            .get();
          if (r) {
            if (!sameBytes(r.token, c.token)) return { ok: false, reason: 'conflict', badIndex: i };
            continue;
          }
          fresh.push(c);
        }
        let retracted = 0;
        const retract = side === 0 ? retractA : retractB;
        for (const c of fresh) {
          tx.insert(canaries).values({ pairKey: k, epoch, side, position: c.position, token: buf(c.token), registeredAt: at }).run();
          markCanary.run({ k, e: epoch, s: side, pos: c.position });
          retracted += this.changed(retract.run({ k, e: epoch, pos: c.position }));
        }
        if (retracted > 0) this.hitsDue(tx as unknown as SyncDb, epoch);
        if (fresh.length > 0) this.outbox(tx as unknown as SyncDb, audit, { count: fresh.length });
        return { ok: true, registered: seen.size, added: fresh.length, retracted };
      },
      { behavior: 'immediate' },
    );
  }

  async markCanariesDone(epoch: string, side: Side, at: string, audit?: AuditInput): Promise<boolean> {
    const k = this.key;
    return this.db.transaction(
      (tx) => {
        // Every chunk carries its own canaries (protocol/SPEC.md §1.6): `done` covers the chunks held now,
        // and a chunk uploaded later leaves the side not done until it calls again.
        const held = this.extent(tx as unknown as SyncDb, epoch, side).chunks;
        const r = tx
          .select({ done: sideState.canariesDoneAt, covered: sideState.canaryChunks })
          .from(sideState)
          .where(and(eq(sideState.pairKey, k), eq(sideState.epoch, epoch), eq(sideState.side, side)))
          .get();
        if (r?.done && r.covered >= held) return false;
        const canaryChunks = Math.max(held, r?.covered ?? 0);
        tx.insert(sideState)
          .values({ pairKey: k, epoch, side, canariesDoneAt: at, canaryChunks })
          .onConflictDoUpdate({ target: [sideState.pairKey, sideState.epoch, sideState.side], set: { canariesDoneAt: at, canaryChunks } })
          .run();
        this.outbox(tx as unknown as SyncDb, audit);
        return true;
      },
      { behavior: 'immediate' },
    );
  }

  async putTokens(input: PutTokensInput): Promise<PutTokensResult> {
    const k = this.key;
    const { epoch, side, at } = input;
    const other = (1 - side) as Side;
    const { insertHandle, insertMatch } = this.bulk;
    const pairId = this.pairId;
    return this.db.transaction(
      (tx) => {
        const chunk = tx
          .select({ firstPosition: chunks.firstPosition, count: chunks.count, tokensSha256: chunks.tokensSha256 })
          .from(chunks)
          .where(and(this.chunkWhere(epoch, side), eq(chunks.idx, input.index)))
          .get();
        if (!chunk) return { status: 'not-found' };
        if (chunk.tokensSha256) {
          return sameBytes(chunk.tokensSha256, input.sha256) ? { status: 'same', count: chunk.count } : { status: 'conflict' };
        }
        if (input.tokens.length !== chunk.count * TOKEN_BYTES) return { status: 'count-mismatch', expected: chunk.count };
        const first = chunk.firstPosition;
        const last = first + chunk.count - 1;
        // One set-based insert per chunk instead of a statement per position: measured on a 300,000-token
        // chunk, 1.3–1.4 s CPU against 1.8–2.3 s. Position order, not token order: with the store's page
        // cache holding the token index, sorting costs more (1.6 s) than the index's random pages save.
        tx.run(sql`WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < ${chunk.count})
          INSERT INTO ${tokens} (pair_key, epoch, side, position, token, removed, canary)
          SELECT ${k}, ${epoch}, ${side}, ${first} + n, substr(${buf(input.tokens)}, n * ${TOKEN_BYTES} + 1, ${TOKEN_BYTES}),
            EXISTS (SELECT 1 FROM ${removals} r WHERE r.pair_key = ${k} AND r.epoch = ${epoch} AND r.side = ${side} AND r.position = ${first} + n),
            EXISTS (SELECT 1 FROM ${canaries} c WHERE c.pair_key = ${k} AND c.epoch = ${epoch} AND c.side = ${side} AND c.position = ${first} + n)
          FROM i`);
        tx.update(chunks)
          .set({ tokensSha256: buf(input.sha256), tokenizedAt: at })
          .where(and(this.chunkWhere(epoch, side), eq(chunks.idx, input.index)))
          .run();
        // Match only the new positions against the other side: O(new · log n) through tokens_match.
        const n = alias(tokens, 'n');
        const o = alias(tokens, 'o');
        const found = tx
          .select({ mine: n.position, theirs: o.position, token: n.token })
          .from(n)
          .innerJoin(
            o,
            and(eq(o.pairKey, n.pairKey), eq(o.epoch, n.epoch), eq(o.side, other), eq(o.token, n.token), eq(o.removed, 0), eq(o.canary, 0)),
          )
          .where(and(eq(n.pairKey, k), eq(n.epoch, epoch), eq(n.side, side), between(n.position, first, last), eq(n.removed, 0), eq(n.canary, 0)))
          .all();
        let newMatches = 0;
        const bulk = this.bulk;
        const linked = found.length > 0 && bulk.anyLink.get({ k, e: epoch }) !== undefined;
        for (const m of found) {
          const [a, b] = side === 0 ? [m.mine, m.theirs] : [m.theirs, m.mine];
          const continued = linked ? continuedHandle(bulk, k, epoch, a, b) : undefined;
          const h = continued?.handle ?? matchHandle(input.handleKey, pairId, m.token);
          insertHandle.run({ k, e: epoch, h, at: continued?.firstSeen ?? at });
          newMatches += this.changed(insertMatch.run({ k, e: epoch, a, b, h, at }));
        }
        if (newMatches > 0) this.hitsDue(tx as unknown as SyncDb, epoch);
        this.outbox(tx as unknown as SyncDb, input.audit);
        return { status: 'created', count: chunk.count, newMatches };
      },
      { behavior: 'immediate' },
    );
  }

  async summary(epoch: string): Promise<PairSummary> {
    const k = this.key;
    const empty = (): SideSummary => ({
      chunks: 0,
      tokenizedChunks: 0,
      size: 0,
      removed: 0,
      canaries: 0,
      canariesDone: false,
      canaryChunks: 0,
      canariesChecked: 0,
      canariesFailed: 0,
    });
    const sides: [SideSummary, SideSummary] = [empty(), empty()];
    const at = (s: number) => sides[s === 1 ? 1 : 0];
    for (const r of this.db
      .select({
        side: chunks.side,
        n: count(),
        tokenized: count(chunks.tokensSha256),
        size: sum(chunks.count).mapWith(Number),
      })
      .from(chunks)
      .where(and(eq(chunks.pairKey, k), eq(chunks.epoch, epoch)))
      .groupBy(chunks.side)
      .all()) {
      Object.assign(at(r.side), { chunks: r.n, tokenizedChunks: r.tokenized, size: r.size ?? 0 });
    }
    for (const r of this.db
      .select({ side: removals.side, n: count() })
      .from(removals)
      .where(and(eq(removals.pairKey, k), eq(removals.epoch, epoch)))
      .groupBy(removals.side)
      .all()) {
      at(r.side).removed = r.n;
    }
    for (const r of this.db
      .select({ side: canaries.side, n: count() })
      .from(canaries)
      .where(and(eq(canaries.pairKey, k), eq(canaries.epoch, epoch)))
      .groupBy(canaries.side)
      .all()) {
      at(r.side).canaries = r.n;
    }
    for (const r of this.db
      .select({
        side: canaries.side,
        checked: count(),
        failed: sum(sql<number>`${canaries.token} != ${tokens.token}`).mapWith(Number),
      })
      .from(canaries)
      .innerJoin(
        tokens,
        and(eq(tokens.pairKey, canaries.pairKey), eq(tokens.epoch, canaries.epoch), eq(tokens.side, canaries.side), eq(tokens.position, canaries.position)),
      )
      .where(and(eq(canaries.pairKey, k), eq(canaries.epoch, epoch)))
      .groupBy(canaries.side)
      .all()) {
      Object.assign(at(r.side), { canariesChecked: r.checked, canariesFailed: r.failed ?? 0 });
    }
    for (const r of this.db
      .select({ side: sideState.side, done: sideState.canariesDoneAt, covered: sideState.canaryChunks })
      .from(sideState)
      .where(and(eq(sideState.pairKey, k), eq(sideState.epoch, epoch)))
      .all()) {
      const s = at(r.side);
      if (r.done === null) continue;
      // Done only while `canaries/done` covers every chunk the side holds (protocol/SPEC.md §1.6).
      s.canaryChunks = r.covered;
      s.canariesDone = r.covered >= s.chunks;
    }
    const st = this.db
      .select()
      .from(pairState)
      .where(and(eq(pairState.pairKey, k), eq(pairState.epoch, epoch)))
      .get();
    return { sides, state: st ? { state: st.state, reason: st.reason, updatedAt: st.updatedAt } : undefined };
  }

  async transitionState(epoch: string, from: PairStateName | undefined, to: PairStateRecord, audit?: AuditInput): Promise<boolean> {
    const k = this.key;
    return this.db.transaction(
      (tx) => {
        const cur = tx
          .select({ state: pairState.state })
          .from(pairState)
          .where(and(eq(pairState.pairKey, k), eq(pairState.epoch, epoch)))
          .get();
        if (cur?.state !== from || from === to.state) return false;
        tx.insert(pairState)
          .values({ pairKey: k, epoch, state: to.state, reason: to.reason, updatedAt: to.updatedAt })
          .onConflictDoUpdate({ target: [pairState.pairKey, pairState.epoch], set: { state: to.state, reason: to.reason, updatedAt: to.updatedAt } })
          .run();
        // Completing releases the matches: the hits follow in the same transaction's outbox.
        if (to.state === 'complete') this.hitsDue(tx as unknown as SyncDb, epoch);
        this.outbox(tx as unknown as SyncDb, audit);
        return true;
      },
      { behavior: 'immediate' },
    );
  }

  async listMatches(epoch: string, side: Side): Promise<MatchRecord[]> {
    const k = this.key;
    const pos = side === 0 ? matches.posA : matches.posB;
    // Two index-ordered reads joined here: SQLite's join looked every handle
    // up in its random-keyed index and sorted the result twice more (for
    // DISTINCT and the handle order), twice the time of both reads together.
    // Plain value rows: drizzle's per-row mapping cost as much as the reads.
    const rows = this.db
      .select({ position: pos, handle: matches.handle })
      .from(matches)
      .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch)))
      .orderBy(asc(pos))
      .values()
      .map(([position, handle]) => ({ position: position as number, handle: handle as string }));
    const seen = new Map(
      this.db
        .select({ handle: handles.handle, firstSeen: handles.firstSeen })
        .from(handles)
        .where(and(eq(handles.pairKey, k), eq(handles.epoch, epoch)))
        .values() as [string, string][],
    );
    // Rows of one position are adjacent: within it, distinct handles in code-unit order (SQLite's BINARY).
    const out: MatchRecord[] = [];
    for (let i = 0; i < rows.length; ) {
      const position = (rows[i] as { position: number }).position;
      let j = i + 1;
      while (j < rows.length && (rows[j] as { position: number }).position === position) j++;
      const here = j - i === 1 ? [(rows[i] as { handle: string }).handle] : [...new Set(rows.slice(i, j).map((r) => r.handle))].sort();
      for (const handle of here) {
        const firstSeen = seen.get(handle);
        // A match always has its handle row (both are written in one transaction); one without is not listed, as the join did.
        if (firstSeen !== undefined) out.push({ position, handle, firstSeen });
      }
      i = j;
    }
    return out;
  }

  async matchRevision(epoch: string): Promise<string | null> {
    const r = this.db
      .select({ revision: matchRevisions.revision })
      .from(matchRevisions)
      .where(and(eq(matchRevisions.pairKey, this.key), eq(matchRevisions.epoch, epoch)))
      .get();
    return r ? bytesToHex(u8(r.revision)) : null;
  }

  async churnMark(epoch: string): Promise<number> {
    return this.churnMarkOf(this.db, epoch);
  }

  /** Positions uploaded (chunk counts) plus positions removed, both sides (protocol/SPEC.md §3.3). */
  private churnMarkOf(db: SyncDb, epoch: string): number {
    const k = this.key;
    const up = db
      .select({ n: sum(chunks.count).mapWith(Number) })
      .from(chunks)
      .where(and(eq(chunks.pairKey, k), eq(chunks.epoch, epoch)))
      .get();
    const rm = db
      .select({ n: count() })
      .from(removals)
      .where(and(eq(removals.pairKey, k), eq(removals.epoch, epoch)))
      .get();
    return (up?.n ?? 0) + (rm?.n ?? 0);
  }

  private snapshotOf(db: SyncDb, epoch: string): CountSnapshot | undefined {
    return db
      .select({ count: countSnapshots.count, churn: countSnapshots.churn, takenAt: countSnapshots.takenAt })
      .from(countSnapshots)
      .where(and(eq(countSnapshots.pairKey, this.key), eq(countSnapshots.epoch, epoch)))
      .get();
  }

  async getCountSnapshot(epoch: string): Promise<CountSnapshot | undefined> {
    return this.snapshotOf(this.db, epoch);
  }

  async takeCountSnapshot(epoch: string, policy: SnapshotPolicy, audit?: AuditInput): Promise<{ snapshot: CountSnapshot | undefined; taken: boolean }> {
    const k = this.key;
    return this.db.transaction(
      (tx) => {
        const db = tx as unknown as SyncDb;
        const last = this.snapshotOf(db, epoch);
        // Completeness is read in the same transaction: a count is never taken of a pair still waiting for tokens.
        const st = tx
          .select({ state: pairState.state })
          .from(pairState)
          .where(and(eq(pairState.pairKey, k), eq(pairState.epoch, epoch)))
          .get();
        if (st?.state !== 'complete') return { snapshot: last, taken: false };
        const churn = this.churnMarkOf(db, epoch);
        if (last && (last.takenAt > policy.takenBefore || churn - last.churn < policy.minChurn)) return { snapshot: last, taken: false };
        const n = tx
          .select({ n: count() })
          .from(matches)
          .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch)))
          .get();
        const snapshot: CountSnapshot = { count: n?.n ?? 0, churn, takenAt: policy.at };
        tx.insert(countSnapshots)
          .values({ pairKey: k, epoch, ...snapshot })
          .onConflictDoUpdate({ target: [countSnapshots.pairKey, countSnapshots.epoch], set: snapshot })
          .run();
        // The entry records the churn the snapshot was taken at, known only here.
        this.outbox(db, audit, { churn });
        return { snapshot, taken: true };
      },
      { behavior: 'immediate' },
    );
  }

  async raiseChurnAlert(epoch: string, side: Side, threshold: number, at: string, audit?: AuditInput): Promise<ChurnAlertResult> {
    const k = this.key;
    return this.db.transaction(
      (tx) => {
        const removed = this.removedCount(tx as unknown as SyncDb, epoch, side);
        if (removed <= threshold) return { alerted: false };
        const r = tx
          .select({ at: sideState.churnAlertAt })
          .from(sideState)
          .where(and(eq(sideState.pairKey, k), eq(sideState.epoch, epoch), eq(sideState.side, side)))
          .get();
        if (r?.at) return { alerted: false };
        tx.insert(sideState)
          .values({ pairKey: k, epoch, side, churnAlertAt: at })
          .onConflictDoUpdate({ target: [sideState.pairKey, sideState.epoch, sideState.side], set: { churnAlertAt: at } })
          .run();
        this.outbox(tx as unknown as SyncDb, audit, { removed });
        return { alerted: true, removed };
      },
      { behavior: 'immediate' },
    );
  }

  async countMatches(epoch: string): Promise<number> {
    const r = this.db
      .select({ n: count() })
      .from(matches)
      .where(and(eq(matches.pairKey, this.key), eq(matches.epoch, epoch)))
      .get();
    return r?.n ?? 0;
  }

  async putLinks(epoch: string, side: Side, previousEpoch: string, list: readonly LinkInput[], at: string, audit?: AuditInput): Promise<PutLinksResult> {
    const k = this.key;
    const bulk = this.bulk;
    return this.db.transaction(
      (tx) => {
        const { size } = this.extent(tx as unknown as SyncDb, epoch, side);
        const seen = new Map<number, number>();
        const fresh: LinkInput[] = [];
        for (let i = 0; i < list.length; i++) {
          const l = list[i] as LinkInput;
          if (l.position >= size) return { ok: false, reason: 'unknown-position', badIndex: i };
          const earlier = seen.get(l.position);
          if (earlier !== undefined) {
            if (earlier !== l.previous) return { ok: false, reason: 'conflict', badIndex: i };
            continue;
          }
          seen.set(l.position, l.previous);
          const r = bulk.getLink.get({ k, e: epoch, s: side, pos: l.position });
          if (r) {
            if (r.previousEpoch !== previousEpoch || r.previousPosition !== l.previous) return { ok: false, reason: 'conflict', badIndex: i };
            continue;
          }
          fresh.push(l);
        }
        for (const l of fresh) {
          tx.insert(links).values({ pairKey: k, epoch, side, position: l.position, previousEpoch, previousPosition: l.previous, linkedAt: at }).run();
        }
        // Links may arrive after the partner's tokens: matches already made take over the previous handle now.
        let rehandled = 0;
        const pos = side === 0 ? matches.posA : matches.posB;
        for (const l of fresh) {
          const made = tx
            .select({ posA: matches.posA, posB: matches.posB, handle: matches.handle })
            .from(matches)
            .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch), eq(pos, l.position)))
            .all();
          for (const m of made) {
            const continued = continuedHandle(bulk, k, epoch, m.posA, m.posB);
            if (!continued || continued.handle === m.handle) continue;
            bulk.insertHandle.run({ k, e: epoch, h: continued.handle, at: continued.firstSeen });
            tx.update(matches)
              .set({ handle: continued.handle })
              .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch), eq(matches.posA, m.posA), eq(matches.posB, m.posB)))
              .run();
            rehandled++;
          }
        }
        if (rehandled > 0) this.hitsDue(tx as unknown as SyncDb, epoch);
        if (fresh.length > 0) this.outbox(tx as unknown as SyncDb, audit, { count: fresh.length, rehandled });
        return { ok: true, linked: seen.size, added: fresh.length, rehandled };
      },
      { behavior: 'immediate' },
    );
  }

  async matchedHandles(epoch: string): Promise<MatchedHandle[]> {
    const k = this.key;
    return this.db
      .select({
        handle: matches.handle,
        posA: sql<number>`min(${matches.posA})`,
        posB: sql<number>`min(${matches.posB})`,
        firstSeen: handles.firstSeen,
      })
      .from(matches)
      .innerJoin(handles, and(eq(handles.pairKey, matches.pairKey), eq(handles.epoch, matches.epoch), eq(handles.handle, matches.handle)))
      .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch)))
      .groupBy(matches.handle, handles.firstSeen)
      .orderBy(asc(matches.handle))
      .all();
  }

  async locateElements(epoch: string, side: Side, elements: readonly Uint8Array[]): Promise<(ElementLocation | null)[]> {
    const k = this.key;
    // The wanted elements by their first four bytes: each element of the side costs one Map probe,
    // and the side is read one chunk (at most 2 MiB) at a time.
    const want = new Map<number, number[]>();
    elements.forEach((e, i) => {
      if (e.length !== ELEMENT_BYTES) throw new Error('coordinator: an element to locate is not 32 bytes');
      const head = new DataView(e.buffer, e.byteOffset, e.byteLength).getUint32(0, true);
      want.set(head, [...(want.get(head) ?? []), i]);
    });
    const positions: number[][] = elements.map(() => []);
    const scan = (bytes: Uint8Array, first: number) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let off = 0; off + ELEMENT_BYTES <= bytes.length; off += ELEMENT_BYTES) {
        const candidates = want.get(view.getUint32(off, true));
        if (!candidates) continue;
        for (const i of candidates) {
          if (sameBytes(bytes.subarray(off, off + ELEMENT_BYTES), elements[i] as Uint8Array)) positions[i]?.push(first + off / ELEMENT_BYTES);
        }
      }
    };
    return this.db.transaction((tx) => {
      if (elements.length === 0) return [];
      const list = tx.select({ idx: chunks.idx, firstPosition: chunks.firstPosition }).from(chunks).where(this.chunkWhere(epoch, side)).orderBy(asc(chunks.idx)).all();
      for (const c of list) {
        const head = tx
          .select({ elements: chunks.elements })
          .from(chunks)
          .where(and(this.chunkWhere(epoch, side), eq(chunks.idx, c.idx)))
          .get();
        if (!head) continue;
        scan(head.elements, c.firstPosition);
        let at = c.firstPosition + head.elements.length / ELEMENT_BYTES;
        const pieces = tx
          .select({ elements: chunkPieces.elements })
          .from(chunkPieces)
          .where(and(eq(chunkPieces.pairKey, k), eq(chunkPieces.epoch, epoch), eq(chunkPieces.side, side), eq(chunkPieces.idx, c.idx)))
          .orderBy(asc(chunkPieces.piece))
          .all();
        for (const p of pieces) {
          scan(p.elements, at);
          at += p.elements.length / ELEMENT_BYTES;
        }
      }
      const mark = (t: typeof removals | typeof canaries, pos: number) =>
        tx
          .select({ one: sql<number>`1` })
          .from(t)
          .where(and(eq(t.pairKey, k), eq(t.epoch, epoch), eq(t.side, side), eq(t.position, pos)))
          .get() !== undefined;
      const matchPos = side === 0 ? matches.posA : matches.posB;
      return positions.map((found): ElementLocation | null => {
        if (found.length === 0) return null;
        const states = found.map((position) => ({ position, state: mark(removals, position) ? ('removed' as const) : mark(canaries, position) ? ('canary' as const) : ('live' as const) }));
        const chosen = states.find((x) => x.state === 'live') ?? (states[0] as (typeof states)[number]);
        const t = tx
          .select({ token: tokens.token })
          .from(tokens)
          .where(and(eq(tokens.pairKey, k), eq(tokens.epoch, epoch), eq(tokens.side, side), eq(tokens.position, chosen.position)))
          .get();
        const m = tx
          .select({ handle: matches.handle })
          .from(matches)
          .where(and(eq(matches.pairKey, k), eq(matches.epoch, epoch), eq(matchPos, chosen.position)))
          .limit(1)
          .get();
        return { ...chosen, token: t ? u8(t.token) : null, matchHandle: m?.handle };
      });
    });
  }

  async listRemovals(epoch: string, side: Side, after: number, limit: number): Promise<number[]> {
    // Removals are only ever appended within an epoch, so rowid order is the order they were removed in
    // and a count of those already read is a stable cursor.
    return this.db
      .select({ position: removals.position })
      .from(removals)
      .where(and(eq(removals.pairKey, this.key), eq(removals.epoch, epoch), eq(removals.side, side)))
      .orderBy(sql`rowid`)
      .limit(limit)
      .offset(after)
      .all()
      .map((r) => r.position);
  }

  async dataEpochs(): Promise<{ bulk: string[]; carried: string[] }> {
    const k = this.key;
    // Tokens, removals, canaries, matches and links exist only for positions of chunks, so chunks stand for them.
    const bulk = new Set<string>();
    for (const t of [chunks, sideState, pairState] as const) {
      for (const r of this.db.selectDistinct({ epoch: t.epoch }).from(t).where(eq(t.pairKey, k)).all()) bulk.add(r.epoch);
    }
    const carried = this.db.selectDistinct({ epoch: carriedMatches.epoch }).from(carriedMatches).where(eq(carriedMatches.pairKey, k)).all();
    return { bulk: [...bulk], carried: carried.map((r) => r.epoch) };
  }

  async lastActivity(): Promise<string | null> {
    const k = this.key;
    // Retention's idle test (src/retention.ts) reads the times the upload rows carry anyway: no column of its own.
    const r = this.db.get<{ at: string | null }>(sql`SELECT max(at) AS at FROM (
      SELECT max(max(${chunks.createdAt}), coalesce(max(${chunks.tokenizedAt}), '')) AS at FROM ${chunks} WHERE ${chunks.pairKey} = ${k}
      UNION ALL SELECT max(${removals.removedAt}) FROM ${removals} WHERE ${removals.pairKey} = ${k}
      UNION ALL SELECT max(${canaries.registeredAt}) FROM ${canaries} WHERE ${canaries.pairKey} = ${k}
      UNION ALL SELECT max(${links.linkedAt}) FROM ${links} WHERE ${links.pairKey} = ${k})`);
    return r?.at ? r.at : null;
  }

  async purgeEpochs(list: readonly string[], carry: string | undefined): Promise<PurgeCounts> {
    const k = this.key;
    return this.db.transaction(
      (tx) => {
        const counts: PurgeCounts = { epochs: [...list], chunks: 0, tokens: 0, removals: 0, canaries: 0, matches: 0, links: 0 };
        for (const epoch of list) {
          if (epoch === carry) {
            tx.run(sql`INSERT OR IGNORE INTO ${carriedMatches} (pair_key, epoch, pos_a, pos_b, handle, first_seen)
              SELECT m.pair_key, m.epoch, m.pos_a, m.pos_b, m.handle, h.first_seen FROM ${matches} m
              JOIN ${handles} h ON h.pair_key = m.pair_key AND h.epoch = m.epoch AND h.handle = m.handle
              WHERE m.pair_key = ${k} AND m.epoch = ${epoch}`);
          }
          const del = (
            t: typeof chunks | typeof chunkPieces | typeof tokens | typeof removals | typeof canaries | typeof matches | typeof links | typeof sideState | typeof pairState | typeof handles | typeof countSnapshots | typeof pairHitsDue | typeof matchRevisions,
          ) =>
            this.changed(tx.delete(t).where(and(eq(t.pairKey, k), eq(t.epoch, epoch))).run());
          counts.chunks += del(chunks);
          del(chunkPieces);
          counts.tokens += del(tokens);
          counts.removals += del(removals);
          counts.canaries += del(canaries);
          counts.matches += del(matches);
          counts.links += del(links);
          del(sideState);
          del(pairState);
          del(handles);
          del(countSnapshots);
          del(pairHitsDue);
          // Last: deleting the matches and handles above renewed it (triggers).
          del(matchRevisions);
        }
        tx.delete(carriedMatches)
          .where(carry === undefined ? eq(carriedMatches.pairKey, k) : and(eq(carriedMatches.pairKey, k), ne(carriedMatches.epoch, carry)))
          .run();
        return counts;
      },
      { behavior: 'immediate' },
    );
  }
}
