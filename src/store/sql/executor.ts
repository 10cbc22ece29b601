// What the control plane (src/store/sql/*.ts) needs from a database, and all
// a driver (src/store/drivers/) supplies: a drizzle SQLite database whose
// queries are awaited whether the driver answers synchronously
// (better-sqlite3) or not (D1), the rows a write changed, and one way to run
// several statements all or nothing.
//
// D1 has no interactive transactions (docs/ARCHITECTURE.md §Coordinator), so
// every control-plane method is written as one conditional statement, one
// atomic batch, or an optimistic append that retries when another request
// took its key first. The same code runs unchanged on better-sqlite3, where
// `batch` is one transaction.
import { is, SQL, sql } from 'drizzle-orm';
import { SQLiteAsyncDialect, type AnySQLiteColumn, type BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type * as schema from '../schema.js';

/** A drizzle database over the coordinator schema, synchronous or not: every query is awaited. */
export type ControlDb = BaseSQLiteDatabase<'sync' | 'async', unknown, typeof schema>;

/** A statement as SQL text and bound values. */
export interface Query {
  sql: string;
  params: unknown[];
}

/** A statement of a batch: a drizzle query builder or a raw `sql` template. */
export type Statement = SQL | { toSQL(): Query };

export interface StatementResult {
  /** Rows a statement returned (a SELECT, or a write with RETURNING). */
  rows: Record<string, unknown>[];
  /** Rows a write changed. */
  changes: number;
}

export interface Executor {
  readonly db: ControlDb;
  /** Rows changed by the write whose `.run()` returned `result` (drivers report it differently). */
  changes(result: unknown): number;
  /** Run the statements in order as one unit: all of them or none. */
  batch(queries: readonly Query[]): Promise<StatementResult[]>;
  /** How an operator initialises this runtime's database, for the error a store gives before that. */
  readonly initHint: string;
}

/**
 * Bound values per statement: D1 binds at most 100; list arguments travel as
 * one JSON value expanded by json_each instead.
 */
export const MAX_PARAMS = 100;
/** Rows per JSON list value: well under D1's 2,000,000-byte limit on a bound value. */
export const JSON_ROWS = 2000;

const dialect = new SQLiteAsyncDialect();

/** Statements in order, all or nothing (one D1 batch, one better-sqlite3 transaction). */
export async function atomic(x: Executor, statements: readonly Statement[]): Promise<StatementResult[]> {
  if (statements.length === 0) return [];
  // The SQL text does not depend on the dialect's sync or async flavour.
  return x.batch(statements.map((st) => (is(st, SQL) ? dialect.sqlToQuery(st) : (st as Exclude<Statement, SQL>).toSQL())));
}

/**
 * A statement built and prepared once per store, on first use, then run with
 * its placeholders bound (drizzle's `.prepare()`): the requests every signed
 * call makes (the caller's agency, its nonce, the current epoch) skip building
 * the query and SQLite's parse and plan. First use, not construction: the
 * table may not exist before the migrations have run.
 */
export function once<T>(build: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: build() }).value;
}

export function* pieces<T>(xs: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < xs.length; i += size) yield xs.slice(i, i + size);
}

/** `column IN (the list)`, bound as one JSON value. */
export function inJson(column: AnySQLiteColumn, list: readonly unknown[]): SQL {
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(list)}))`;
}

/** A unique or primary-key violation, however deep the driver wrapped it. */
export function isConstraintError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    if (/constraint failed/i.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A short pause with jitter between optimistic retries, so racing writers spread out. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(50, 2 + attempt * 2) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function notInitialised(x: Executor): Error {
  return new Error(`coordinator: the database is not initialised (${x.initHint})`);
}
