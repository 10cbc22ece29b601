// What the shared suite (test/shared/: the store contract and the coordinator
// over HTTP) needs from the runtime it runs on: a fresh store and a way to
// look at its tables, a blinding engine, a notifier for long polls, the
// element checkers the runtime offers. Each test config's setup file
// registers one runtime before any test file loads:
//   vitest.config.ts          → test/coordinator-setup.ts → coordinator-runtime.node.ts (SQLite, libsodium)
//   vitest.workers.config.ts  → test/workers-setup.ts     → coordinator-runtime.workers.ts (D1, Durable Objects)
import type { Engine } from '../protocol/engine/index.js';
import type { ElementChecker } from '../src/elements.js';
import type { Notifier } from '../src/notify.js';
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

export interface Runtime {
  /** Shown in test names where a runtime differs. */
  readonly name: 'node' | 'workers';
  openTestStore(): Promise<TestStore>;
  /** The engine agencies blind with on this runtime. */
  loadTestEngine(): Promise<Engine>;
  /** Wakes long polls at once where the runtime can (as `coordinator serve` does); none on Workers, whose long polls re-read D1. */
  testNotifier(): Notifier | undefined;
  /** The element checkers a coordinator on this runtime may use. */
  elementCheckers(): Promise<Array<[string, ElementChecker]>>;
}

let registered: Runtime | undefined;

export function useRuntime(runtime: Runtime): void {
  registered = runtime;
}

export function runtime(): Runtime {
  if (!registered) throw new Error('no test runtime registered: run the suite through vitest.config.ts or vitest.workers.config.ts');
  return registered;
}

export const openTestStore = (): Promise<TestStore> => runtime().openTestStore();
export const loadTestEngine = (): Promise<Engine> => runtime().loadTestEngine();
export const testNotifier = (): Notifier | undefined => runtime().testNotifier();
export const elementCheckers = (): Promise<Array<[string, ElementChecker]>> => runtime().elementCheckers();
