// The Workers store (docs/ARCHITECTURE.md §Coordinator): the control plane in
// D1 through drizzle-orm/d1, each agency pair's bulk data in its own Durable
// Object (durable-object.ts). Same schema and migrations as the Node store;
// `wrangler d1 migrations apply` migrates D1.
import { drizzle } from 'drizzle-orm/d1';
import * as schema from '../schema.js';
import { controlPlane, type ControlPlane } from '../sql/control.js';
import type { ControlDb, Executor, StatementResult } from '../sql/executor.js';
import type { Store } from '../types.js';
import { durablePairStore, type PairNamespace } from './durable-object.js';

export type { PairNamespace } from './durable-object.js';

/** The D1 binding, as far as this driver uses it directly: atomic batches of raw statements. */
interface D1Binding {
  prepare(query: string): { bind(...values: unknown[]): unknown };
  batch(statements: unknown[]): Promise<Array<{ results: Record<string, unknown>[]; meta: { changes: number } }>>;
}

export interface D1StoreOptions {
  /**
   * Prefix of the pair objects' names. Tests give each coordinator its own so
   * that coordinators sharing one namespace never share a pair's data.
   */
  pairNamePrefix?: string;
}

export type D1Store = Store & Pick<ControlPlane, 'setAdminKey'>;

export function openD1Store(binding: unknown, pairObjects: PairNamespace, options: D1StoreOptions = {}): D1Store {
  const d1 = binding as D1Binding;
  const x: Executor = {
    db: drizzle(binding as never, { schema }) as unknown as ControlDb,
    changes: (result) => (result as { meta: { changes: number } }).meta.changes,
    // D1 refuses BEGIN; a batch is its unit of atomicity. Raw statements, because
    // drizzle's own D1 batch cannot bind the parameters of `sql` templates.
    async batch(queries): Promise<StatementResult[]> {
      const results = await d1.batch(queries.map((q) => d1.prepare(q.sql).bind(...q.params)));
      return results.map((r) => ({ rows: r.results, changes: r.meta.changes }));
    },
    initHint: 'set ADMIN_PUBLIC_KEY and send any request',
  };
  return {
    ...controlPlane(x),
    pair: (pairId) => durablePairStore(pairId, pairObjects.get(pairObjects.idFromName(`${options.pairNamePrefix ?? ''}${pairId}`))),
    async close() {},
  };
}
