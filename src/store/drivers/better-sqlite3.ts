// The embedded Node store: one SQLite file through better-sqlite3, WAL
// journal, drizzle's migrator at open. The control plane is the shared SQL
// (src/store/sql/), its atomic batches one IMMEDIATE transaction each; every
// pair's bulk data lives in the same file, keyed by the pair's integer key,
// and is written by prepared statements inside one transaction per call, so
// a 100,000-element side is written and matched in well under a second.
import { closeSync, existsSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { AuditCheckpoint, AuditEntry } from '../../audit.js';
import * as schema from '../schema.js';
import { auditHeadsQuery, auditKeysQuery, auditPage, auditTreeQuery, checkpointQuery } from '../sql/audit.js';
import { controlPlane, type ControlPlane } from '../sql/control.js';
import type { Executor, Query, StatementResult } from '../sql/executor.js';
import { prepareBulk, SqlPairStore, type Bulk } from '../sql/pair.js';
import { auditOf, u8 } from '../sql/rows.js';
import type { AuditHeadRecord, AuditKeys, Store } from '../types.js';

/** drizzle/ sits at the package root, above both src/store/drivers and dist/src/store/drivers. */
export function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'drizzle');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('coordinator: the drizzle/ migrations folder was not found');
    dir = parent;
  }
}

export interface SqliteStoreOptions {
  /** Open read-only (no migrations, no writes), e.g. for `audit verify`. */
  readonly?: boolean;
  /**
   * SQLite's own check of the file before anything is read or migrated:
   * `quick` (PRAGMA quick_check, the default for a writable open), `full`
   * (PRAGMA integrity_check, which also compares every index with its table:
   * `coordinator serve` at start) or `none`. A file that fails it is refused
   * with {@link DatabaseCorruptError}.
   */
  integrity?: 'quick' | 'full' | 'none';
}

/** What to do about a database that fails SQLite's integrity check (README.md, "Backups"). */
export const CORRUPT_RECOVERY =
  'stop every process using it, keep a copy of the damaged file, then restore the last good backup with ' +
  '`concordat coordinator restore --from BACKUP --data DIR` and let every agency run `concordat sync` twice ' +
  '(agencies re-upload what the backup lacks); `concordat coordinator doctor --data DIR` shows what is wrong';

/** A database file SQLite itself finds damaged: never served, never migrated. */
export class DatabaseCorruptError extends Error {
  override readonly name = 'DatabaseCorruptError';
  constructor(
    readonly file: string,
    /** SQLite's findings (the first few lines of the check), or the error it raised. */
    readonly findings: readonly string[],
  ) {
    super(`${file} is damaged: SQLite's integrity check reports ${findings.slice(0, 3).join('; ')}${findings.length > 3 ? ` (and ${findings.length - 3} more)` : ''}. To recover: ${CORRUPT_RECOVERY}`);
  }
}

/** SQLite's result codes that mean the file itself is damaged or is not a database. */
export function isCorruptionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code);
}

/**
 * PRAGMA quick_check (or integrity_check with `full`) on an open database:
 * an empty list when the file is sound, else SQLite's findings, at most
 * `max` of them. A check that cannot even read the file reports that.
 */
export function integrityFindings(client: Database.Database, full = false, max = 100): string[] {
  try {
    const rows = client.pragma(`${full ? 'integrity_check' : 'quick_check'}(${max})`) as Record<string, unknown>[];
    const lines = rows.map((r) => String(Object.values(r)[0]));
    return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
  } catch (e) {
    if (isCorruptionError(e)) return [`${(e as { code: string }).code}: ${(e as Error).message}`];
    throw e;
  }
}

export type SqliteStore = Store &
  Pick<ControlPlane, 'setAdminKey'> & {
    /** The open database, for what only a file has (checkpoints, tests that read or tamper with it). */
    readonly client: Database.Database;
  };

function open(file: string, opts: SqliteStoreOptions) {
  // The database holds the coordinator's secrets: owner-only from its first byte (SQLite gives
  // its -wal and -shm files the database file's mode).
  if (!opts.readonly && !existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  const client = new Database(file, opts.readonly ? { readonly: true, fileMustExist: true } : {});
  try {
    const integrity = opts.integrity ?? (opts.readonly ? 'none' : 'quick');
    if (integrity !== 'none') {
      const findings = integrityFindings(client, integrity === 'full');
      if (findings.length > 0) throw new DatabaseCorruptError(file, findings);
    }
    if (!opts.readonly) {
      client.pragma('journal_mode = WAL');
      client.pragma('synchronous = NORMAL');
      // 64 MiB of page cache (the default is 2 MiB): a pair's token index is keyed by random tokens, and
      // a cache smaller than its working set turns every insert and match probe into a read.
      client.pragma('cache_size = -65536');
    }
    client.pragma('foreign_keys = ON');
    client.pragma('busy_timeout = 5000');
    const db = drizzle({ client, schema });
    if (!opts.readonly) migrate(db, { migrationsFolder: migrationsFolder() });
    return { client, db };
  } catch (e) {
    client.close();
    // A header or a schema page too damaged to read shows as SQLITE_CORRUPT or SQLITE_NOTADB before any check can run.
    if (isCorruptionError(e) || (e instanceof Error && isCorruptionError(e.cause))) throw new DatabaseCorruptError(file, [(e as Error).message]);
    throw e;
  }
}

export function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): SqliteStore {
  const { client, db } = open(file, opts);
  const statements = new Map<string, Database.Statement>();
  const prepared = (text: string) => {
    let st = statements.get(text);
    if (!st) statements.set(text, (st = client.prepare(text)));
    return st;
  };
  // IMMEDIATE: take the write lock at BEGIN, so a batch that reads (a RETURNING, a subquery) never has to upgrade.
  const transaction = client.transaction((queries: readonly Query[]) =>
    queries.map(({ sql, params }): StatementResult => {
      const st = prepared(sql);
      return st.reader ? { rows: st.all(...params) as Record<string, unknown>[], changes: 0 } : { rows: [], changes: st.run(...params).changes };
    }),
  );
  const x: Executor = {
    db,
    changes: (result) => (result as Database.RunResult).changes,
    batch: async (queries) => transaction.immediate(queries),
    initHint: 'run `concordat coordinator init`',
  };

  // Pairs never change once created, so their integer keys are cached.
  const pairKeys = new Map<string, number>();
  const pairKey = (pairId: string): number => {
    let key = pairKeys.get(pairId);
    if (key === undefined) {
      const r = db.select({ key: schema.pairs.key }).from(schema.pairs).where(eq(schema.pairs.id, pairId)).get();
      if (!r) throw new Error('coordinator: unknown pair');
      pairKeys.set(pairId, (key = r.key));
    }
    return key;
  };
  let bulk: Bulk | undefined;

  return {
    ...controlPlane(x),
    client,
    pair: (pairId) => new SqlPairStore(db, (bulk ??= prepareBulk(db)), pairId, () => pairKey(pairId), (r) => (r as Database.RunResult).changes),
    async close() {
      if (!client.open) return;
      if (!client.readonly) client.pragma('wal_checkpoint(TRUNCATE)');
      client.close();
    },
  };
}

/** better-sqlite3 answers every query synchronously; the shared queries are typed for either kind of driver. */
function now<T>(result: T | Promise<T>): T {
  if (result instanceof Promise) throw new Error('coordinator: better-sqlite3 answered asynchronously');
  return result;
}

/** The retention checkpoint of a database file, read-only (for `audit verify` and `audit export`). */
export function readAuditCheckpointFile(file: string): AuditCheckpoint | undefined {
  const { client, db } = open(file, { readonly: true });
  try {
    // A database from before retention existed has no checkpoint table yet.
    const exists = client.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_checkpoint'").get();
    if (!exists) return undefined;
    const r = now(checkpointQuery(db).get());
    return r ? { seq: r.seq, hash: u8(r.hash) } : undefined;
  } finally {
    client.close();
  }
}

/** Every audit entry of a database file in seq order, read-only (for `audit verify`). */
export function* readAuditFile(file: string, pageSize = 10_000): Generator<AuditEntry> {
  const { client, db } = open(file, { readonly: true });
  try {
    for (let after = 0; ; ) {
      const page = now(auditPage(db, after, pageSize).all());
      const last = page.at(-1);
      if (!last) return;
      for (const r of page) yield auditOf(r);
      after = last.seq;
    }
  } finally {
    client.close();
  }
}

/** The audit transparency log of a database file, read-only (for `audit verify`): keys, heads, and the stored tree hashes in id order. */
export function readAuditTreeFile(file: string): { keys: AuditKeys | undefined; heads: AuditHeadRecord[]; hashes(pageSize?: number): Generator<{ id: number; hash: Uint8Array }> } {
  const { client, db } = open(file, { readonly: true });
  try {
    // A database from before the transparency log has none of its tables.
    if (!client.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_tree'").get()) {
      return { keys: undefined, heads: [], hashes: function* () {} };
    }
    const k = now(auditKeysQuery(db).get());
    const heads = now(auditHeadsQuery(db).all()).map((r) => ({ size: r.size, root: u8(r.root), at: r.at, signature: u8(r.signature) }));
    return {
      keys: k ? { logKey: u8(k.logKey), saltKey: u8(k.saltKey) } : undefined,
      heads,
      *hashes(pageSize = 10_000) {
        const reader = open(file, { readonly: true });
        try {
          for (let after = -1; ; ) {
            const page = now(auditTreeQuery(reader.db, after, pageSize).all());
            const last = page.at(-1);
            if (!last) return;
            for (const r of page) yield { id: r.id, hash: u8(r.hash) };
            after = last.id;
          }
        } finally {
          reader.client.close();
        }
      },
    };
  } finally {
    client.close();
  }
}
