// The Node runtime of the shared suite (see coordinator-runtime.ts): the
// SQLite store in a temp directory, the libsodium engine and checker, the
// in-memory notifier of `coordinator serve`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFastEngine } from '../protocol/engine/index.js';
import { checkElements } from '../src/elements.js';
import { loadSodiumElementChecker } from '../src/node/elements.js';
import { memoryNotifier } from '../src/node/notifier.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';
import type { Row, Runtime, TestStore } from './coordinator-runtime.js';

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

export const nodeRuntime: Runtime = {
  name: 'node',
  openTestStore: openSqliteTestStore,
  loadTestEngine: loadFastEngine,
  testNotifier: memoryNotifier,
  async elementCheckers() {
    return [
      ['portable (@noble/curves)', checkElements],
      ['libsodium', await loadSodiumElementChecker()],
    ];
  },
};
