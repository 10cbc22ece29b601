// Resource exhaustion on the real SQLite database is a clear, retryable state:
// a full database (PRAGMA max_page_count) and a read-only one (PRAGMA
// query_only, SQLite's own SQLITE_READONLY) answer 503 `unavailable` with a
// problem document and Retry-After, never "500 internal error", and /readyz
// turns unready until a write succeeds again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storageFailure } from '../src/problem.js';
import { makeSqliteHarness, type SqliteHarness } from './coordinator-harness-sqlite.js';
import type { Signer } from './coordinator-harness.js';

let h: SqliteHarness;
let es: Signer;

beforeEach(async () => {
  h = await makeSqliteHarness();
  es = await h.addAgency('ES-CNP', 'ESP');
});
afterEach(async () => {
  h.store.client.pragma('query_only = OFF');
  h.store.client.pragma('max_page_count = 1073741823');
  await h.close();
});

/** Caps the database at its current size and fills every free page: the next page it needs is refused with SQLITE_FULL. */
function fillDatabase(): void {
  const db = h.store.client;
  db.exec('CREATE TABLE filler (x BLOB)');
  db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true })) + 8}`);
  const insert = db.prepare('INSERT INTO filler VALUES (randomblob(?))');
  for (const size of [3000, 500, 60, 8]) {
    for (;;) {
      try {
        insert.run(size);
      } catch (e) {
        expect((e as { code?: string }).code).toBe('SQLITE_FULL');
        break;
      }
    }
  }
}

function expectStorageProblem(r: { status: number; body: any }, headers: Headers | undefined, code: string): void {
  expect(r.status).toBe(503);
  const { requestId: _, ...doc } = r.body;
  expect(doc).toMatchObject({ type: 'urn:concordat:problem:unavailable', status: 503, storage: code });
  expect(doc.detail).toMatch(/retry later/);
  if (headers) expect(headers.get('retry-after')).toBe('30');
}

describe('a full or read-only database answers 503 with Retry-After', () => {
  it('GET /v1/me on a full database: 503 unavailable with Retry-After, never 500; /readyz unready until writes succeed', async () => {
    expect((await h.json(es, 'GET', '/v1/me')).status).toBe(200);
    fillDatabase();
    // Every request writes its nonce; once a nonce needs a page the database cannot have, the answer is 503.
    let full: Response | undefined;
    for (let i = 0; i < 2000 && !full; i++) {
      const res = await h.send(es, 'GET', '/v1/me');
      expect(res.status, 'never "internal error"').not.toBe(500);
      if (res.status === 503) full = res;
      else expect(res.status).toBe(200);
    }
    expect(full, 'the database filled up').toBeDefined();
    const res = full as Response;
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expectStorageProblem({ status: res.status, body: await res.json() }, res.headers, 'SQLITE_FULL');
    // The log line names the cause; the answer does not carry the driver's text.
    expect(h.logs.at(-1)).toMatchObject({ status: 503, route: '/v1/me' });
    expect(h.logs.at(-1)?.error).toMatch(/database or disk is full/);

    const ready = await h.app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('30');
    expect(((await ready.json()) as { detail: string }).detail).toMatch(/SQLITE_FULL/);

    // Space again: the next signed request succeeds and readiness comes back.
    h.store.client.exec('DROP TABLE filler');
    expect((await h.json(es, 'GET', '/v1/me')).status).toBe(200);
    expect((await h.app.request('/readyz')).status).toBe(200);
  });

  it('a read-only database (SQLITE_READONLY): 503 with Retry-After on a write, readiness off', async () => {
    h.store.client.pragma('query_only = ON');
    const res = await h.send(es, 'GET', '/v1/me');
    expectStorageProblem({ status: res.status, body: await res.json() }, res.headers, 'SQLITE_READONLY');
    expect((await h.app.request('/readyz')).status).toBe(503);
    // GET / reads only: still served.
    expect((await h.app.request('/')).status).toBe(200);
    h.store.client.pragma('query_only = OFF');
    expect((await h.json(es, 'GET', '/v1/me')).status).toBe(200);
    expect((await h.app.request('/readyz')).status).toBe(200);
  });

  it('names the storage failures of every runtime, and nothing else', () => {
    const sqliteError = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(storageFailure(sqliteError('SQLITE_FULL', 'database or disk is full'))).toBe('SQLITE_FULL');
    expect(storageFailure(sqliteError('SQLITE_IOERR_WRITE', 'disk I/O error'))).toBe('SQLITE_IOERR_WRITE');
    expect(storageFailure(sqliteError('SQLITE_READONLY_DBMOVED', 'attempt to write a readonly database'))).toBe('SQLITE_READONLY_DBMOVED');
    // drizzle wraps the driver's error; D1 and Durable Objects name the code in the message.
    expect(storageFailure(new Error('Failed query', { cause: sqliteError('SQLITE_FULL', 'database or disk is full') }))).toBe('SQLITE_FULL');
    expect(storageFailure(new Error('D1_ERROR: database or disk is full: SQLITE_FULL'))).toBe('SQLITE_FULL');
    expect(storageFailure(new Error('Durable Object storage: attempt to write a readonly database'))).toBe('SQLITE_READONLY');
    expect(storageFailure(sqliteError('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed'))).toBeUndefined();
    expect(storageFailure(new TypeError('x is undefined'))).toBeUndefined();
  });
});
