// The exit-code table is a contract operators' scripts depend on: the one in
// clients/sdk/errors.ts and the one in clients/README-cli.md must agree.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomPermutation } from '../clients/agency/sync/shuffle.js';
import { EXIT_MEANINGS, EXIT_TABLE_BEGIN, EXIT_TABLE_END, exitCodeTable } from '../clients/cli/exit-codes.js';
import { AgencyError, CoordinatorError, CoordinatorUnreachableError, EXIT, exitCodeFor, UsageError } from '../clients/sdk/errors.js';

describe('exit codes', () => {
  it('are the table of clients/README-cli.md', () => {
    const doc = readFileSync(new URL('../clients/README-cli.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Exit codes'), doc.indexOf('## Local store'));
    const rows = [...section.matchAll(/^\| (\d+) \| `([a-zA-Z]+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(rows)).toEqual(EXIT);
  });

  it('are one table, rendered from EXIT, that README.md and clients/README-cli.md both hold exactly', () => {
    for (const name of Object.keys(EXIT)) expect(EXIT_MEANINGS[name as keyof typeof EXIT], `EXIT.${name} has no meaning in clients/cli/exit-codes.ts`).toBeTruthy();
    const table = exitCodeTable();
    for (const file of ['../README.md', '../clients/README-cli.md']) {
      const url = new URL(file, import.meta.url);
      const doc = readFileSync(url, 'utf8');
      const from = doc.indexOf(EXIT_TABLE_BEGIN);
      const to = doc.indexOf(EXIT_TABLE_END) + EXIT_TABLE_END.length;
      expect(from, `${file} has no generated exit-code table`).toBeGreaterThanOrEqual(0);
      // CONCORDAT_DOCS_WRITE=1 npx vitest run test/client-errors.test.ts rewrites both tables from EXIT.
      if (process.env.CONCORDAT_DOCS_WRITE === '1') writeFileSync(url, doc.slice(0, from) + table + doc.slice(to));
      else expect(doc.slice(from, to), `${file}: the exit-code table differs from EXIT (CONCORDAT_DOCS_WRITE=1 regenerates it)`).toBe(table);
    }
  });

  it('follow the error: usage errors 2, an absent or unavailable coordinator 7, every other failure 1', () => {
    expect(exitCodeFor(new CoordinatorUnreachableError('http://127.0.0.1:1', 4, new Error('ECONNREFUSED')))).toBe(EXIT.unavailable);
    expect(exitCodeFor(new CoordinatorError({ status: 503, type: 'urn:concordat:problem:unavailable', title: 'Service Unavailable', method: 'GET', path: '/v1/me' }))).toBe(EXIT.unavailable);
    expect(exitCodeFor(new CoordinatorError({ status: 500, type: 'urn:concordat:problem:internal', title: 'Internal error', method: 'GET', path: '/v1/me' }))).toBe(EXIT.error);
    expect(exitCodeFor(new UsageError('--kind: not an identifier kind'))).toBe(EXIT.usage);
    expect(exitCodeFor(new AgencyError('cannot lock'))).toBe(EXIT.error);
    expect(exitCodeFor(new CoordinatorError({ status: 403, type: 'urn:concordat:problem:purpose', title: 'Forbidden', method: 'POST', path: '/v1/queries' }))).toBe(EXIT.error);
    expect(exitCodeFor(new Error('anything'))).toBe(EXIT.error);
    expect(exitCodeFor('a string')).toBe(EXIT.error);
  });
});

describe('randomPermutation', () => {
  it('is a permutation of 0..n-1', () => {
    for (const n of [0, 1, 2, 41, 1000]) {
      const p = randomPermutation(n);
      expect([...p].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
    }
  });
});
