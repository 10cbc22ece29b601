// Hits: nightly matches and targeted-query hits, each with a two-step status
// per holding agency (unverified → confirmed | declined, API.md part 2). The
// coordinator knows positions and handles only; this module maps this
// agency's own positions back to record ids and kinds from the local store.
import type { Hit } from '../sdk/api.js';
import type { Conditional, CoordinatorClient } from '../sdk/client.js';
import { ENTITY_TAG_PATTERN } from '../../wire/agency.js';
import { AgencyError, CoordinatorError } from '../sdk/errors.js';
import type { Store } from '../store/db.js';
import { appendAudit } from './audit.js';
import { byCodeUnits, printable, table } from './text.js';

import { HIT_STATUSES, NOTE_MAX, OFFICER_MAX, type HitStatusName } from './hit-names.js';
export { HIT_STATUSES, NOTE_MAX, OFFICER_MAX, type HitStatusName };

/**
 * Replaces the local copy of every hit status (GET /v1/hits without a
 * filter). A coordinator without hits (404) leaves the copy untouched.
 */
export async function pullHitStatuses(client: CoordinatorClient, store: Store, now = new Date()): Promise<number | undefined> {
  const keptTag = store.sqlite.prepare('SELECT value FROM local_state WHERE key = ?').pluck().get(HITS_TAG_KEY) as string | undefined;
  const kept = keptTag !== undefined && ENTITY_TAG_PATTERN.test(keptTag) ? keptTag : undefined;
  let r: Conditional<Hit[]>;
  try {
    r = await client.hitsIfChanged(kept);
  } catch (e) {
    if (e instanceof CoordinatorError && e.status === 404 && e.slug === 'not-found') return undefined;
    throw e;
  }
  // 304: the copy saved from the document of that tag is still current.
  if (r.notModified) return store.sqlite.prepare('SELECT count(*) FROM hit_status').pluck().get() as number;
  saveHitStatuses(store, r.data, now);
  if (r.etag !== null) {
    store.sqlite.prepare('INSERT INTO local_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(HITS_TAG_KEY, r.etag);
  }
  return r.data.length;
}

/** local_state key of the ETag of the GET /v1/hits document the local copy was last replaced from. */
const HITS_TAG_KEY = 'hits.etag';

/** Like {@link saveHitStatuses}, but a store busy with a long sync transaction only skips the local copy. */
function trySave(store: Store, hits: readonly Hit[], replace: boolean): void {
  try {
    saveHitStatuses(store, hits, new Date(), replace);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'SQLITE_BUSY') throw e;
  }
}

export function saveHitStatuses(store: Store, hits: readonly Hit[], now = new Date(), replace = true): void {
  const db = store.sqlite;
  const at = now.toISOString();
  const upsert = db.prepare(
    `INSERT INTO hit_status (handle, pair, partner, source, status, my_status, partner_status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (handle) DO UPDATE SET pair = excluded.pair, partner = excluded.partner, source = excluded.source, status = excluded.status,
       my_status = excluded.my_status, partner_status = excluded.partner_status, updated_at = excluded.updated_at`,
  );
  // A handle can be both a nightly match and a query hit; the nightly status (both parties hold it) is what results show.
  const ordered = [...hits].sort((a, b) => (a.source === b.source ? 0 : a.source === 'query' ? -1 : 1));
  db.transaction(() => {
    // Any write makes the copy other than the document last pulled whole: the next pull asks unconditionally.
    db.prepare('DELETE FROM local_state WHERE key = ?').run(HITS_TAG_KEY);
    if (replace) db.prepare('DELETE FROM hit_status').run();
    for (const h of ordered) upsert.run(h.handle, h.pair, h.partner, h.source, h.status, h.myStatus ?? null, h.partnerStatus ?? null, at);
  })();
}

export interface HitView {
  handle: string;
  source: 'nightly' | 'query';
  pair: string;
  partner: string;
  status: string;
  my_status: string | null;
  partner_status: string | null;
  epoch: string;
  /** My own position, when I hold the data (see API.md "Hits"). */
  position?: number;
  /** Local records carrying the matched identifier (empty when I am the requester, or it was withdrawn/purged). */
  record_ids: string[];
  kinds: string[];
  query_id?: string;
  case_ref?: string;
  purpose?: string;
  created_at: string;
  confirmed_at?: string;
}

/** Maps the coordinator's hits to local records: by my position in the hit's epoch, else by the handle of a kept nightly match. */
export function mapHits(store: Store, hits: readonly Hit[]): HitView[] {
  const db = store.sqlite;
  const positionOf = db.prepare('SELECT kind, canonical FROM positions WHERE pair = ? AND epoch = ? AND position = ? AND canary_r IS NULL');
  const recordsOf = db.prepare('SELECT record_id FROM identifiers WHERE kind = ? AND canonical = ?').pluck();
  const byHandle = db.prepare('SELECT record_id AS recordId, kind FROM matches WHERE pair = ? AND handle = ?');
  return hits.map((h) => {
    const records = new Set<string>();
    const kinds = new Set<string>();
    if (h.position !== undefined) {
      const pos = positionOf.get(h.pair, h.epoch, h.position) as { kind: string; canonical: string } | undefined;
      if (pos) {
        kinds.add(pos.kind);
        for (const r of recordsOf.all(pos.kind, pos.canonical) as string[]) records.add(r);
      }
    }
    if (records.size === 0) {
      for (const m of byHandle.all(h.pair, h.handle) as Array<{ recordId: string; kind: string }>) {
        records.add(m.recordId);
        kinds.add(m.kind);
      }
    }
    const v: HitView = {
      handle: h.handle,
      source: h.source,
      pair: h.pair,
      partner: h.partner,
      status: h.status,
      my_status: h.myStatus ?? null,
      partner_status: h.partnerStatus ?? null,
      epoch: h.epoch,
      record_ids: [...records].sort(byCodeUnits),
      kinds: [...kinds].sort(byCodeUnits),
      created_at: h.createdAt,
    };
    if (h.position !== undefined) v.position = h.position;
    if (h.queryId !== undefined) v.query_id = h.queryId;
    if (h.caseRef !== undefined) v.case_ref = h.caseRef;
    if (h.purpose !== undefined) v.purpose = h.purpose;
    if (h.confirmedAt) v.confirmed_at = h.confirmedAt;
    return v;
  });
}

/**
 * The hits as last pulled (hit_status) with their kept nightly matches, for
 * when the coordinator cannot be asked: no positions, so only hits with a
 * kept match show.
 */
export function localHitViews(store: Store): HitView[] {
  const db = store.sqlite;
  const rows = db
    .prepare(
      `SELECT h.handle, h.pair, h.partner, h.source, h.status, h.my_status AS myStatus, h.partner_status AS partnerStatus,
              m.record_id AS recordId, m.kind, m.first_seen AS firstSeen, m.epoch
       FROM hit_status h JOIN matches m ON m.handle = h.handle ORDER BY h.handle`,
    )
    .all() as Array<{ handle: string; pair: string; partner: string; source: string; status: string; myStatus: string | null; partnerStatus: string | null; recordId: string; kind: string; firstSeen: string; epoch: string }>;
  const byHandle = new Map<string, HitView>();
  for (const r of rows) {
    let v = byHandle.get(r.handle);
    if (!v) {
      v = {
        handle: r.handle,
        source: r.source === 'query' ? 'query' : 'nightly',
        pair: r.pair,
        partner: r.partner,
        status: r.status,
        my_status: r.myStatus,
        partner_status: r.partnerStatus,
        epoch: r.epoch,
        record_ids: [],
        kinds: [],
        created_at: r.firstSeen,
      };
      byHandle.set(r.handle, v);
    }
    if (!v.record_ids.includes(r.recordId)) v.record_ids.push(r.recordId);
    if (!v.kinds.includes(r.kind)) v.kinds.push(r.kind);
  }
  return [...byHandle.values()];
}

export async function listHits(client: CoordinatorClient, store: Store, status?: HitStatusName): Promise<HitView[]> {
  const hits = await client.hits(status ? { status } : {});
  // An unfiltered list is the full picture: the local copy is replaced. A filtered one only updates.
  trySave(store, hits, status === undefined);
  return mapHits(store, hits);
}

export function checkOfficer(officer: string): string {
  const o = officer.trim();
  if (o.length < 1 || o.length > OFFICER_MAX) throw new AgencyError(`--officer: 1..${OFFICER_MAX} characters`);
  return o;
}

export async function decideHit(
  client: CoordinatorClient,
  store: Store,
  handle: string,
  decision: 'confirm' | 'decline',
  officer: string,
  note?: string,
): Promise<HitView> {
  if (!/^[0-9a-f]{8,128}$/.test(handle)) throw new AgencyError('HANDLE: expected the hexadecimal match handle shown by `concordat hits` or `concordat results`');
  if (note !== undefined && note.length > NOTE_MAX) throw new AgencyError(`--note: at most ${NOTE_MAX} characters`);
  const audit = { officer: checkOfficer(officer), action: `hit.${decision}`, subject: handle };
  let hit: Hit;
  try {
    hit = await client.decideHit(handle, decision, { officer: audit.officer, ...(note !== undefined ? { note } : {}) });
  } catch (e) {
    if (e instanceof CoordinatorError && e.status >= 400 && e.status < 500) {
      appendAudit(store, { ...audit, outcome: 'refused', detail: { reason: e.slug ?? String(e.status) } });
    }
    throw e;
  }
  trySave(store, [hit], false);
  // The note goes to the coordinator's audit with the decision; here only whether there was one.
  appendAudit(store, { ...audit, outcome: 'ok', caseRef: hit.caseRef ?? null, detail: { partner: hit.partner, source: hit.source, status: hit.status, note: note !== undefined && note !== '' } });
  return mapHits(store, [hit])[0] as HitView;
}

// ---- presentation ----

export function formatHitsJson(hits: readonly HitView[]): string {
  return JSON.stringify({ hits });
}

export function formatHitsTable(hits: readonly HitView[]): string {
  if (hits.length === 0) return 'No hits.\n';
  const rows = hits.map((h) => [
    h.handle,
    h.source,
    h.partner,
    h.record_ids.length > 0 ? h.record_ids.join(';') : h.position !== undefined ? '(not in the local store)' : '-',
    h.kinds.join(';') || '-',
    h.status,
    h.my_status ?? '-',
    h.partner_status ?? '-',
    h.case_ref !== undefined ? printable(h.case_ref) : '-',
    h.created_at,
  ]);
  const out = table(['HANDLE', 'SOURCE', 'PARTNER', 'RECORD_IDS', 'KINDS', 'STATUS', 'MINE', 'PARTNER_STATUS', 'CASE', 'CREATED'], rows);
  out.push('', `${hits.length} hit(s): ${HIT_STATUSES.map((s) => `${hits.filter((h) => h.status === s).length} ${s}`).join(', ')}.`);
  return `${out.join('\n')}\n`;
}
