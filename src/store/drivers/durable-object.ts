// One Durable Object with SQLite storage per agency pair (docs/ARCHITECTURE.md
// §Coordinator): it holds the pair's chunks, tokens, canaries, matches and
// links, and does the pair's matching with the Node store's own code
// (src/store/sql/pair.ts) over drizzle's durable-sqlite driver. A Durable
// Object runs one request at a time and each method is one storage
// transaction, so a pair's uploads and matching are serialised exactly as
// SQLite's write lock serialises them on Node.
//
// The Worker reaches a pair through one RPC method, `call`, named by
// PAIR_METHODS: that list is the only place the PairStore methods are
// spelled out, and both ends are built from it.
import { DurableObject, type DurableObjectState } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/durable-sqlite';
import { migrate } from 'drizzle-orm/durable-sqlite/migrator';
import * as schema from '../schema.js';
import { prepareBulk, SqlPairStore, type Bulk, type SyncDb } from '../sql/pair.js';
import type { PairStore } from '../types.js';
import { doMigrations } from '../do-migrations.js';

export type PairMethod = Exclude<keyof PairStore, 'pairId'>;

/** Every PairStore method; the compiler refuses a list that misses one. */
export const PAIR_METHODS = [
  'listChunks',
  'getChunk',
  'getChunkElements',
  'putChunk',
  'removePositions',
  'registerCanaries',
  'markCanariesDone',
  'putTokens',
  'summary',
  'transitionState',
  'listMatches',
  'matchRevision',
  'countMatches',
  'churnMark',
  'getCountSnapshot',
  'takeCountSnapshot',
  'raiseChurnAlert',
  'putLinks',
  'matchedHandles',
  'locateElements',
  'listRemovals',
  'dataEpochs',
  'lastActivity',
  'purgeEpochs',
  'pending',
  'clearAudits',
  'clearHitsDue',
] as const satisfies readonly PairMethod[];

type Unlisted = Exclude<PairMethod, (typeof PAIR_METHODS)[number]>;
const everyMethodListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyMethodListed;

type Args<M extends PairMethod> = Parameters<PairStore[M]>;
type Answer<M extends PairMethod> = Awaited<ReturnType<PairStore[M]>>;

/** A pair object's RPC stub, as far as the store uses it. */
export interface PairStub {
  call<M extends PairMethod>(pairId: string, method: M, args: Args<M>): Promise<Answer<M>>;
}

/** The Durable Object namespace binding of the pair objects. */
export interface PairNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): PairStub;
}

/** PairStore over a pair's Durable Object: each call is one RPC, one storage transaction there. */
export function durablePairStore(pairId: string, stub: PairStub): PairStore {
  const store: Record<string, unknown> = { pairId };
  for (const m of PAIR_METHODS) store[m] = (...args: unknown[]) => stub.call(pairId, m, args as never);
  return store as unknown as PairStore;
}

/** The per-pair tables are keyed by pair; inside a pair's own object the key is constant. */
const PAIR_KEY = 1;

export class PairObject extends DurableObject {
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

  /** The pair id comes with every call: it keys match handles (src/matching.ts). */
  async call<M extends PairMethod>(pairId: string, method: M, args: Args<M>): Promise<Answer<M>> {
    if (!(PAIR_METHODS as readonly string[]).includes(method)) throw new Error('coordinator: no such pair method');
    if (this.store && this.store.pairId !== pairId) throw new Error('coordinator: a pair object received another pair id');
    // drizzle's durable-sqlite driver discards the cursor, so the count comes from SQLite's changes().
    this.store ??= new SqlPairStore(this.db, this.bulk, pairId, () => PAIR_KEY, () => (this.db.get(sql`SELECT changes() AS n`) as { n: number }).n);
    const fn = this.store[method] as (...a: Args<M>) => Promise<Answer<M>>;
    return fn.apply(this.store, args);
  }
}
