// Results: mapping the coordinator's positions back to local records, keeping
// or clearing them by pair state, and the table / CSV / JSON outputs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatHitsJson, formatHitsTable, mapHits, saveHitStatuses } from '../clients/agency/hits.js';
import { applyResults, formatCsv, formatJson, formatTable, loadResultsView, recordStatus } from '../clients/agency/results.js';
import type { Results } from '../clients/sdk/api.js';
import { openStore, type Store } from '../clients/store/db.js';

let dir: string;
let store: Store;

const PAIR = 'es-pt~ES-CNP~PT-PJ';
const PAIR_FR = 'es-fr~ES-CNP~FR-OC';
const PAIR_IT = 'es-it-stats~ES-CNP~IT-DC';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'concordat-results-'));
  store = openStore(dir);
  const ins = store.sqlite.prepare('INSERT INTO identifiers (record_id, kind, canonical) VALUES (?, ?, ?)');
  ins.run('rec-1', 'passport', 'ESP:P1');
  ins.run('rec-1', 'email', 'a@mail.example');
  ins.run('rec-2', 'email', 'b@mail.example');
  ins.run('rec-3', 'email', 'b@mail.example'); // two records share an identifier
  ins.run('rec-4', 'phone', '+34911111111');
  const pos = store.sqlite.prepare('INSERT INTO positions (pair, epoch, position, chunk, kind, canonical, canary_r) VALUES (?, ?, ?, 0, ?, ?, ?)');
  pos.run(PAIR, 'e1', 0, 'email', 'a@mail.example', null);
  pos.run(PAIR, 'e1', 1, null, null, Buffer.alloc(32, 1));
  pos.run(PAIR, 'e1', 2, 'passport', 'ESP:P1', null);
  pos.run(PAIR, 'e1', 3, 'email', 'b@mail.example', null);
  pos.run(PAIR, 'e1', 4, 'phone', '+34911111111', null);
  pos.run(PAIR_FR, 'e1', 0, 'phone', '+34911111111', null);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const complete: Results = {
  epoch: 'e1',
  pairs: [
    {
      pair: PAIR,
      agreement: 'es-pt',
      partner: 'PT-PJ',
      mode: 'reveal',
      state: 'complete',
      matches: [
        { position: 0, handle: 'bbbb', firstSeen: '2025-01-03T00:00:00Z' },
        { position: 2, handle: 'aaaa', firstSeen: '2025-01-05T00:00:00.000Z' },
        { position: 3, handle: 'cccc', firstSeen: '2025-01-04T00:00:00.000Z' },
        { position: 1, handle: 'dddd', firstSeen: '2025-01-04T00:00:00.000Z' }, // a canary never maps to a record
      ],
    },
    {
      pair: PAIR_FR,
      agreement: 'es-fr',
      partner: 'FR-OC',
      mode: 'reveal',
      state: 'complete',
      matches: [{ position: 0, handle: 'eeee', firstSeen: '2025-01-06T00:00:00.000Z' }],
    },
    { pair: PAIR_IT, agreement: 'es-it-stats', partner: 'IT-DC', mode: 'count', state: 'complete', count: 12 },
  ],
};

describe('results', () => {
  it('maps positions to records and aggregates one entry per partner and record', () => {
    const pulled = applyResults(store, complete);
    expect(pulled.pairs.find((p) => p.pair === PAIR)).toMatchObject({ state: 'complete', records: 3, unmapped: 1 });
    const view = loadResultsView(store);
    expect(JSON.parse(formatJson(view))).toEqual({
      matches: [
        { partner: 'FR-OC', record_id: 'rec-4', kinds: ['phone'], handle: 'eeee', first_seen: '2025-01-06T00:00:00.000Z', status: 'unverified', candidate: false },
        { partner: 'PT-PJ', record_id: 'rec-1', kinds: ['email', 'passport'], handle: 'aaaa', first_seen: '2025-01-03T00:00:00.000Z', status: 'unverified', candidate: false },
        { partner: 'PT-PJ', record_id: 'rec-2', kinds: ['email'], handle: 'cccc', first_seen: '2025-01-04T00:00:00.000Z', status: 'unverified', candidate: false },
        { partner: 'PT-PJ', record_id: 'rec-3', kinds: ['email'], handle: 'cccc', first_seen: '2025-01-04T00:00:00.000Z', status: 'unverified', candidate: false },
      ],
      counts: [{ partner: 'IT-DC', count: 12 }],
    });
    expect(formatCsv(view).split('\n')).toEqual([
      'partner,record_id,kinds,handle,first_seen,status',
      'FR-OC,rec-4,phone,eeee,2025-01-06T00:00:00.000Z,unverified',
      'PT-PJ,rec-1,email;passport,aaaa,2025-01-03T00:00:00.000Z,unverified',
      'PT-PJ,rec-2,email,cccc,2025-01-04T00:00:00.000Z,unverified',
      'PT-PJ,rec-3,email,cccc,2025-01-04T00:00:00.000Z,unverified',
      '',
    ]);
    const table = formatTable(view);
    expect(table).toMatch(/^PARTNER\s+RECORD_ID\s+KINDS\s+HANDLE\s+FIRST_SEEN\s+STATUS$/m);
    expect(table).toMatch(/^PT-PJ\s+rec-1\s+email;passport\s+aaaa\s+2025-01-03T00:00:00.000Z\s+unverified$/m);
    expect(table).toMatch(/IT-DC\s+12/);
    expect(table).toContain('4 matched record(s) with 2 partner(s).');
  });

  it('keeps the last complete results while a pair waits, and replaces them when it completes again', () => {
    applyResults(store, complete);
    const waiting: Results = {
      epoch: 'e1',
      pairs: complete.pairs.map(({ matches: _m, count: _c, ...p }) => ({ ...p, state: 'waiting' as const })),
    };
    applyResults(store, waiting);
    const v = loadResultsView(store);
    expect(v.matches.length).toBe(4);
    expect(v.counts).toEqual([{ partner: 'IT-DC', count: 12 }]);
    expect(v.pairs.every((p) => p.state === 'waiting')).toBe(true);

    const fewer: Results = {
      epoch: 'e1',
      pairs: [{ pair: PAIR, agreement: 'es-pt', partner: 'PT-PJ', mode: 'reveal', state: 'complete', matches: [{ position: 4, handle: 'ffff', firstSeen: '2025-01-07T00:00:00Z' }] }],
    };
    applyResults(store, fewer);
    expect(loadResultsView(store).matches.filter((m) => m.partner === 'PT-PJ').map((m) => m.record_id)).toEqual(['rec-4']);
  });

  it('clears a failed pair and shows its reason', () => {
    applyResults(store, complete);
    const failed: Results = {
      epoch: 'e1',
      pairs: [
        {
          pair: PAIR,
          agreement: 'es-pt',
          partner: 'PT-PJ',
          mode: 'reveal',
          state: 'failed',
          reason: "canary check failed: 3 of 32 canaries in ES-CNP's side did not match",
        },
      ],
    };
    applyResults(store, failed);
    const v = loadResultsView(store);
    expect(v.matches.map((m) => m.partner)).toEqual(['FR-OC']);
    const t = formatTable(v);
    expect(t).toContain("FAILED es-pt~ES-CNP~PT-PJ (partner PT-PJ): canary check failed: 3 of 32 canaries in ES-CNP's side did not match");
  });

  it('writes CSV that a CSV reader reads back field for field (commas, quotes, line breaks in record ids)', () => {
    const ids = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', ' padded ', ''];
    const view = {
      matches: ids.map((record_id, i) => ({ partner: 'PT-PJ', record_id, kinds: ['email', 'passport'], handle: `h${i}`, first_seen: '2025-01-03T00:00:00.000Z', status: 'unverified' })),
      counts: [],
      pairs: [],
    } as unknown as ReturnType<typeof loadResultsView>;
    const rows = parseCsv(formatCsv(view), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.record_id)).toEqual(ids);
    expect(rows[1]).toEqual({ partner: 'PT-PJ', record_id: 'a,b', kinds: 'email;passport', handle: 'h1', first_seen: '2025-01-03T00:00:00.000Z', status: 'unverified' });
  });

  it('prints an empty result set in every format', () => {
    const v = loadResultsView(store);
    expect(formatJson(v)).toBe('{"matches":[],"counts":[]}');
    expect(formatCsv(v)).toBe('partner,record_id,kinds,handle,first_seen,status\n');
    expect(formatTable(v)).toContain('No matched records.');
  });

  it('shows each record with the status of its hits: confirmed by any handle, declined only by all', () => {
    applyResults(store, complete);
    const hit = (handle: string, status: 'unverified' | 'confirmed' | 'declined') => ({
      handle,
      pair: PAIR,
      partner: 'PT-PJ',
      source: 'nightly' as const,
      epoch: 'e1',
      status,
      createdAt: '2025-01-03T00:00:00.000Z',
    });
    // rec-1 matched by passport (aaaa) and email (bbbb); rec-2/rec-3 share cccc.
    saveHitStatuses(store, [hit('aaaa', 'declined'), hit('bbbb', 'confirmed'), hit('cccc', 'declined')]);
    const status = () => Object.fromEntries(loadResultsView(store).matches.map((m) => [`${m.partner}/${m.record_id}`, m.status]));
    expect(status()).toEqual({ 'FR-OC/rec-4': 'unverified', 'PT-PJ/rec-1': 'confirmed', 'PT-PJ/rec-2': 'declined', 'PT-PJ/rec-3': 'declined' });
    saveHitStatuses(store, [hit('aaaa', 'declined'), hit('bbbb', 'declined')]);
    expect(status()).toMatchObject({ 'PT-PJ/rec-1': 'declined', 'PT-PJ/rec-2': 'unverified' });
    expect(recordStatus([])).toBe('unverified');
    expect(recordStatus(['unverified', null])).toBe('unverified');
  });

  it('maps hits to local records by own position, else by the handle of a kept match', () => {
    applyResults(store, complete);
    const views = mapHits(store, [
      { handle: 'zzzz', pair: PAIR, partner: 'PT-PJ', source: 'query', position: 3, epoch: 'e1', status: 'unverified', myStatus: 'unverified', partnerStatus: null, queryId: 'q1', caseRef: 'OP\u00071', purpose: 'terrorism', createdAt: 't' },
      { handle: 'aaaa', pair: PAIR, partner: 'PT-PJ', source: 'nightly', epoch: 'e0', position: 99, status: 'confirmed', createdAt: 't' },
      { handle: 'yyyy', pair: PAIR, partner: 'PT-PJ', source: 'query', epoch: 'e1', status: 'unverified', myStatus: null, createdAt: 't' },
    ]);
    expect(views.map((v) => [v.handle, v.record_ids, v.kinds])).toEqual([
      ['zzzz', ['rec-2', 'rec-3'], ['email']],
      ['aaaa', ['rec-1'], ['passport']],
      ['yyyy', [], []],
    ]);
    // Another agency's case reference is printed without control characters.
    expect(formatHitsTable(views)).toContain('OP 1');
    expect(JSON.parse(formatHitsJson(views)).hits[0]).toMatchObject({ handle: 'zzzz', source: 'query', position: 3, query_id: 'q1', my_status: 'unverified', partner_status: null });
  });
});
