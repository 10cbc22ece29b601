// One Durable Object with SQLite storage per agency pair (docs/ARCHITECTURE.md §Coordinator): it
// holds the pair's chunks, tokens, canaries, matches and links, and does the
// pair's matching. The bulk logic is the Node store's (src/store/pair-sql.ts)
// over drizzle's durable-sqlite driver; the Worker reaches it through the
// RPC methods below, one per PairStore method. A Durable Object runs one
// request at a time and each method is one storage transaction, so a pair's
// uploads and matching are serialised exactly as SQLite's write lock
// serialises them on Node.
import { DurableObject, type DurableObjectState } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/durable-sqlite';
import { migrate } from 'drizzle-orm/durable-sqlite/migrator';
import { doMigrations } from './do-migrations.js';
import { prepareBulk, SqlPairStore, type Bulk, type SyncDb } from './pair-sql.js';
import * as schema from './schema.js';
import type { CanaryInput, LinkInput, PairStateName, PairStateRecord, PairStore, PutChunkInput, PutTokensInput, Side } from './types.js';

/** The per-pair tables are keyed by pair; inside a pair's own object the key is constant. */
const PAIR_KEY = 1;

/** The RPC surface: PairStore with the pair id first (it keys match handles, see src/matching.ts). */
export type PairRpc = {
  [M in Exclude<keyof PairStore, 'pairId'>]: PairStore[M] extends (...args: infer A) => infer R ? (pairId: string, ...args: A) => R : never;
};

export class PairObject extends DurableObject implements PairRpc {
  private readonly db: SyncDb;
  private readonly bulk: Bulk;
  private store: SqlPairStore | undefined;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.db = drizzle(ctx.storage as never, { schema }) as unknown as SyncDb;
    this.bulk = prepareBulk(this.db);
    // No request reaches the object before its tables exist.
    void ctx.blockConcurrencyWhile(() => migrate(this.db as never, doMigrations));
  }

  private pair(pairId: string): SqlPairStore {
    if (this.store && this.store.pairId !== pairId) throw new Error('coordinator: a pair object received another pair id');
    // drizzle's durable-sqlite driver discards the cursor, so the count comes from SQLite's changes().
    this.store ??= new SqlPairStore(this.db, this.bulk, pairId, () => PAIR_KEY, () => (this.db.get(sql`SELECT changes() AS n`) as { n: number }).n);
    return this.store;
  }

  listChunks(pairId: string, epoch: string, side: Side) {
    return this.pair(pairId).listChunks(epoch, side);
  }
  getChunk(pairId: string, epoch: string, side: Side, index: number) {
    return this.pair(pairId).getChunk(epoch, side, index);
  }
  getChunkElements(pairId: string, epoch: string, side: Side, index: number) {
    return this.pair(pairId).getChunkElements(epoch, side, index);
  }
  putChunk(pairId: string, input: PutChunkInput) {
    return this.pair(pairId).putChunk(input);
  }
  removePositions(pairId: string, epoch: string, side: Side, positions: readonly number[], at: string) {
    return this.pair(pairId).removePositions(epoch, side, positions, at);
  }
  registerCanaries(pairId: string, epoch: string, side: Side, canaries: readonly CanaryInput[], at: string) {
    return this.pair(pairId).registerCanaries(epoch, side, canaries, at);
  }
  markCanariesDone(pairId: string, epoch: string, side: Side, at: string) {
    return this.pair(pairId).markCanariesDone(epoch, side, at);
  }
  putTokens(pairId: string, input: PutTokensInput) {
    return this.pair(pairId).putTokens(input);
  }
  summary(pairId: string, epoch: string) {
    return this.pair(pairId).summary(epoch);
  }
  transitionState(pairId: string, epoch: string, from: PairStateName | undefined, to: PairStateRecord) {
    return this.pair(pairId).transitionState(epoch, from, to);
  }
  listMatches(pairId: string, epoch: string, side: Side) {
    return this.pair(pairId).listMatches(epoch, side);
  }
  countMatches(pairId: string, epoch: string) {
    return this.pair(pairId).countMatches(epoch);
  }
  putLinks(pairId: string, epoch: string, side: Side, previousEpoch: string, links: readonly LinkInput[], at: string) {
    return this.pair(pairId).putLinks(epoch, side, previousEpoch, links, at);
  }
  matchedHandles(pairId: string, epoch: string) {
    return this.pair(pairId).matchedHandles(epoch);
  }
  lookupToken(pairId: string, epoch: string, side: Side, token: Uint8Array) {
    return this.pair(pairId).lookupToken(epoch, side, token);
  }
  dataEpochs(pairId: string) {
    return this.pair(pairId).dataEpochs();
  }
  purgeEpochs(pairId: string, epochs: readonly string[], carry: string | undefined) {
    return this.pair(pairId).purgeEpochs(epochs, carry);
  }
}
