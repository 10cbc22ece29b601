// The exit-code table is a contract operators' scripts depend on: the one in
// clients/sdk/errors.ts and the one in clients/README-cli.md must agree.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomPermutation } from '../clients/agency/sync/shuffle.js';
import { AgencyError, CoordinatorError, EXIT, exitCodeFor, UsageError } from '../clients/sdk/errors.js';

describe('exit codes', () => {
  it('are the table of clients/README-cli.md', () => {
    const doc = readFileSync(new URL('../clients/README-cli.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Exit codes'), doc.indexOf('## Local store'));
    const rows = [...section.matchAll(/^\| (\d+) \| `([a-zA-Z]+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(rows)).toEqual(EXIT);
  });

  it('follow the error: usage errors 2, every other failure 1', () => {
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
