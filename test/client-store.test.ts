// The local store's migrations: a store created before targeted queries
// (only drizzle-client/0000) opens with every later migration applied and its
// data intact.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientMigrationsDir, DB_FILE, openStore } from '../clients/store/db.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'concordat-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A store as the first release of the client left it: migration 0000 only. */
function firstReleaseStore(): void {
  const src = clientMigrationsDir();
  const journal = JSON.parse(readFileSync(join(src, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
  const first = journal.entries[0] as { tag: string };
  const old = join(dir, 'migrations-0000');
  mkdirSync(join(old, 'meta'), { recursive: true });
  copyFileSync(join(src, `${first.tag}.sql`), join(old, `${first.tag}.sql`));
  writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: [first] }));
  const sqlite = new Database(join(dir, DB_FILE));
  migrate(drizzle(sqlite), { migrationsFolder: old });
  sqlite.prepare("INSERT INTO identifiers (record_id, kind, canonical) VALUES ('r1', 'email', 'a@mail.example')").run();
  sqlite.prepare("INSERT INTO sides (pair, epoch, agreement, partner, created_at, canaries) VALUES ('es-pt~ES-CNP~PT-PJ', 'e1', 'es-pt', 'PT-PJ', 't', 30)").run();
  sqlite.prepare("INSERT INTO partner_chunks (pair, epoch, idx, count, sha256, tokenized_at) VALUES ('es-pt~ES-CNP~PT-PJ', 'e1', 0, 12, 'x', 't')").run();
  sqlite.close();
}

describe('local store migrations', () => {
  it('brings a store of the first release up to date without losing data', () => {
    firstReleaseStore();
    const store = openStore(dir);
    try {
      const db = store.sqlite;
      expect(db.prepare('SELECT record_id FROM identifiers').pluck().all()).toEqual(['r1']);
      expect(db.prepare('SELECT canaries, links_sent AS linksSent FROM sides').get()).toEqual({ canaries: 30, linksSent: 0 });
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
      for (const t of ['partner_tokens', 'queries', 'query_legs', 'query_results', 'hit_status']) expect(tables).toContain(t);
      expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'partner_tokens_token'").pluck().get()).toBe(1);
      // The partner chunks tokenised before stay logged; their tokens are rebuilt by the next sync.
      expect(db.prepare('SELECT tokens_kept FROM partner_chunks').pluck().all()).toEqual([0]);
      expect(db.prepare('SELECT count(*) FROM partner_tokens').pluck().get()).toBe(0);
    } finally {
      store.close();
    }
    // Opening again applies nothing twice.
    openStore(dir).close();
  });
});
