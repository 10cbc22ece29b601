// A row's history folds the per-handle audit entries of one decision into one
// entry, even when they straddle a second boundary, and keeps decisions made
// apart as separate entries.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { appendAudit } from '../clients/agency/audit.js';
import type { HitView } from '../clients/agency/hits.js';
import type { WorkRow } from '../clients/console/api-types.js';
import { attachHistory, recordNote, type RowWithHits } from '../clients/console/worklist-store.js';
import { openStore, type Store } from '../clients/store/db.js';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'concordat-history-'));
  store = openStore(dir);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const decide = (handle: string, at: string, note: string): void => {
  appendAudit(store, { officer: 'insp.garcia', action: 'hit.confirm', subject: handle, outcome: 'ok', detail: { note: true } }, new Date(at));
  recordNote(store, 'insp.garcia', handle, 'confirm', note, null, new Date(at));
};

const rowOf = (handles: string[]): RowWithHits => ({
  row: { recordId: 'ES-CNP-1', history: [] } as unknown as WorkRow,
  hits: handles.map((handle) => ({ handle }) as HitView),
});

it('one decision over two handles across a second boundary is one entry', () => {
  decide('h1', '2026-12-01T10:00:00.998Z', 'Same person.');
  decide('h2', '2026-12-01T10:00:01.004Z', 'Same person.');
  const r = rowOf(['h1', 'h2']);
  attachHistory(store, [r]);
  expect(r.row.history).toEqual([{ at: '2026-12-01T10:00:00.998Z', officer: 'insp.garcia', action: 'confirm', handles: 2, note: 'Same person.' }]);
});

it('the same note given again a minute later is a second entry', () => {
  decide('h1', '2026-12-01T10:00:00.000Z', 'Same person.');
  decide('h2', '2026-12-01T10:01:00.000Z', 'Same person.');
  const r = rowOf(['h1', 'h2']);
  attachHistory(store, [r]);
  expect(r.row.history.map((e) => [e.at, e.handles])).toEqual([
    ['2026-12-01T10:00:00.000Z', 1],
    ['2026-12-01T10:01:00.000Z', 1],
  ]);
});
