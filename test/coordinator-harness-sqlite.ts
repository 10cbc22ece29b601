// The harness on the SQLite store with its file exposed, for the Node-only
// tests that read or tamper with the database file the CLI works on.
import { harnessOn, type Harness, type HarnessOptions } from './coordinator-harness.js';
import { openSqliteTestStore } from './coordinator-runtime.node.js';
import type { SqliteStore } from '../src/store/sqlite.js';

export type SqliteHarness = Harness<SqliteStore> & { dir: string; dbPath: string };

export async function makeSqliteHarness(opts: HarnessOptions = {}): Promise<SqliteHarness> {
  return harnessOn(await openSqliteTestStore(), opts);
}
