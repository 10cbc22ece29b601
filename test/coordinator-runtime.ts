// What the shared coordinator suite needs from the runtime it runs on: a
// fresh store, a blinding engine, a notifier for long polls, the element
// checkers the runtime offers. This is the Node runtime (the SQLite store in
// a temp directory, the libsodium engine and checker, the in-memory notifier
// of `coordinator serve`); the Workers test config (vitest.workers.config.ts)
// swaps in coordinator-runtime.workers.ts, which runs the same suite inside
// workerd on D1 and Durable Objects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFastEngine, type Engine } from '../protocol/engine/index.js';
import { checkElements, type ElementChecker } from '../src/elements.js';
import { loadSodiumElementChecker } from '../src/node/elements.js';
import { memoryNotifier } from '../src/node/notifier.js';
import type { Notifier } from '../src/notify.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/types.js';


export type Row = Record<string, any>;

/** A fresh, empty store and a way to look at its tables. */
export interface TestStore<S extends Store = Store> {
  store: S;
  /** Rows of a query on the control-plane tables (agencies … hits). */
  controlRows(sql: string, ...params: unknown[]): Promise<Row[]>;
  /** Rows of a query on the per-pair tables (chunks, tokens, matches …) holding `pairId`'s data. */
  pairRows(pairId: string, sql: string, ...params: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

export interface SqliteTestStore extends TestStore<SqliteStore> {
  dir: string;
  dbPath: string;
}

export async function openSqliteTestStore(): Promise<SqliteTestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'concordat-coord-'));
  const dbPath = join(dir, 'coordinator.db');
  const store = openSqliteStore(dbPath);
  // One database holds every pair, so the per-pair tables are queried in the same file.
  const rows = async (sql: string, ...params: unknown[]) => store.client.prepare(sql).all(...params) as Row[];
  return {
    dir,
    dbPath,
    store,
    controlRows: rows,
    pairRows: (_pairId, sql, ...params) => rows(sql, ...params),
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const openTestStore: () => Promise<TestStore> = openSqliteTestStore;

/** The engine agencies blind with here: libsodium's WebAssembly build. */
export function loadTestEngine(): Promise<Engine> {
  return loadFastEngine();
}

/** Long polls wake at once, as under `coordinator serve`. */
export function testNotifier(): Notifier | undefined {
  return memoryNotifier();
}

/** The element checkers a coordinator on this runtime may use. */
export async function elementCheckers(): Promise<Array<[string, ElementChecker]>> {
  return [
    ['portable (@noble/curves)', checkElements],
    ['libsodium', await loadSodiumElementChecker()],
  ];
}
