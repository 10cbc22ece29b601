// The Workers runtime of the shared suite (see coordinator-runtime.ts): the
// suite runs inside workerd through @cloudflare/vitest-pool-workers, on the
// Workers store: D1 for the control plane and one SQLite Durable Object per
// pair, the bindings of wrangler.toml. The engine is the portable reference
// engine (workerd compiles no WebAssembly at run time) and there is no
// notifier: long polls re-read D1, as they do on Workers.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { bytesToHex } from '../protocol/bytes.js';
import { referenceEngine } from '../protocol/engine/reference.js';
import { randomBytes } from '../protocol/rng.js';
import { checkElements } from '../src/elements.js';
import { openD1Store, type PairNamespace } from '../src/store/drivers/d1.js';
import type { Row, Runtime, TestStore } from './coordinator-runtime.js';

interface D1Like {
  prepare(sql: string): { bind(...params: unknown[]): { all(): Promise<{ results: Row[] }> } & { run(): Promise<unknown> }; all(): Promise<{ results: Row[] }> };
  batch(statements: unknown[]): Promise<unknown>;
}

const db = env.DB as D1Like;
const pairs = env.PAIRS as PairNamespace;

/**
 * Storage is isolated per test file, not per test: each store starts by
 * emptying the D1 tables, and names its pair objects with a fresh prefix so
 * no pair object of an earlier store is reached again.
 */
async function openTestStore(): Promise<TestStore> {
  const { results } = await db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'")
    .all();
  await db.batch([db.prepare('PRAGMA defer_foreign_keys = ON'), ...results.map((r) => db.prepare(`DELETE FROM "${String(r.name)}"`))]);
  const prefix = `${bytesToHex(randomBytes(8))}:`;
  const store = openD1Store(env.DB, pairs, { pairNamePrefix: prefix });
  return {
    store,
    async controlRows(sql, ...params) {
      return (await db.prepare(sql).bind(...params).all()).results;
    },
    async pairRows(pairId, sql, ...params) {
      const stub = pairs.get(pairs.idFromName(`${prefix}${pairId}`));
      return runInDurableObject(stub as never, (_instance: unknown, state: { storage: { sql: { exec(q: string, ...b: unknown[]): { toArray(): Row[] } } } }) =>
        state.storage.sql.exec(sql, ...params).toArray(),
      );
    },
    async close() {},
  };
}

export const workersRuntime: Runtime = {
  name: 'workers',
  openTestStore,
  loadTestEngine: async () => referenceEngine,
  testNotifier: () => undefined,
  elementCheckers: async () => [['portable (@noble/curves)', checkElements]],
};
