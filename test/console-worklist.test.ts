// The console's worklist and request reports over real HTTP: ES-CNP's
// console in this process, the real coordinator, PT-PJ's and ES-CNP's
// `concordat serve` responders as child processes. PT-PJ asks ES-CNP about
// one person twice (repeat-query hits to fold) and shares only the e-mail
// address of another (a weaker match). Covers the rows, paging, filters,
// bulk decisions with their notes in the history, the PDF's text, the local
// audit of each report, and a coordinator that claims a confirmation this
// agency never made.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEngine } from '../protocol/engine/index.js';
import { canonicalize } from '../protocol/identifiers/index.js';
import { loadAgency, type Agency } from '../clients/agency/config.js';
import { importWatchlist } from '../clients/agency/watchlist.js';
import { addOfficer } from '../clients/agency/officers.js';
import { agencyClient } from '../clients/sdk/agency-client.js';
import { startConsole, type ConsoleServer } from '../clients/console/server.js';
import { openStore } from '../clients/store/db.js';
import { built, cli, csvOf, email, passport, range, World } from './client-world.js';
import { pdfText } from './console-harness.js';

const both = range(900_000, 5);
const PARTIAL = 800_001;
const PASSWORD = 'correct horse battery staple';
const FAST = { N: 2 ** 12, r: 8, p: 1 };

let w: World;
let es: Agency;
let ui: ConsoleServer;
let cookie = '';
let csrf = '';

interface Res {
  status: number;
  headers: Headers;
  body: string;
  bytes: Uint8Array;
  json: () => any;
}

async function call(path: string, o: { method?: string; body?: unknown; auth?: boolean; csrf?: string } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (o.auth !== false) headers.cookie = cookie;
  if (o.method && o.method !== 'GET') headers['x-csrf-token'] = o.csrf ?? csrf;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, ui.url), { method: o.method ?? 'GET', headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const body = Buffer.from(bytes).toString('utf8');
  return { status: res.status, headers: res.headers, body, bytes, json: () => JSON.parse(body) };
}

const rec = (p: number) => `ES-CNP-${p}`;
const ref = (p: number) => ({ partner: 'PT-PJ', recordId: rec(p) });
const all = async (q = '') => (await call(`/api/worklist?status=any&limit=100${q}`)).json();
const rowOf = async (p: number) => (await all()).rows.find((r: any) => r.recordId === rec(p));

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build` (npm test builds first)');
  w = await World.start();
  es = await w.agency('ES-CNP', 'ESP', [...range(100_000, 30), ...both, PARTIAL]);
  const pt = await w.agency('PT-PJ', 'PRT', [...range(200_000, 20), ...both]);
  // PT-PJ holds only the e-mail address of ES-CNP's record 800001.
  const file = join(w.work, 'PT-PJ-2.csv');
  writeFileSync(file, `${csvOf('PT-PJ', [...range(200_000, 20), ...both])}PT-PJ-X1,email,${email(PARTIAL)}\n`);
  const ptStore = openStore(pt.dir);
  try {
    await importWatchlist(ptStore, file);
  } finally {
    ptStore.close();
  }
  await w.agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], purposes: ['terrorism', 'cybercrime'] });
  await w.syncAll();
  const store = openStore(es.dir);
  try {
    await addOfficer(store, { id: 'insp.garcia', name: 'Inspector García', password: PASSWORD, params: FAST });
  } finally {
    store.close();
  }
  const ptServe = w.serve('PT-PJ');
  const esServe = w.serve('ES-CNP');
  await ptServe.waitFor(/answering targeted queries/);
  await esServe.waitFor(/answering targeted queries/);
  // PT-PJ asks twice about the same person: two query hits ES-CNP holds, one row.
  for (let i = 0; i < 2; i++) {
    const q = await cli(['query', '--dir', pt.dir, '--partner', 'ES-CNP', '--kind', 'email', '--value', email(both[0] as number), '--case', 'PT-OP-9', '--purpose', 'terrorism', '--officer', 'pt.officer']);
    expect(q.code, q.stderr).toBe(0);
  }
  es = loadAgency(w.dir('ES-CNP'));
  ui = await startConsole({
    agency: es,
    client: agencyClient(es, { retries: 1, timeoutMs: 30_000, label: 'console' }),
    engine: await loadEngine('fast'),
    port: 0,
    log: () => {},
    warn: () => {},
  });
  const login = await fetch(new URL('/api/session', ui.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ officer: 'insp.garcia', password: PASSWORD }) });
  cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  csrf = ((await login.json()) as { csrf: string }).csrf;
}, 180_000);

afterAll(async () => {
  await ui?.close();
  await w?.stop();
});

describe('console worklist', () => {
  it('needs a session on every route, and the CSRF token on every change', async () => {
    for (const [method, path] of [
      ['GET', '/api/worklist'],
      ['GET', '/api/worklist/requested'],
      ['POST', '/api/worklist/decisions'],
      ['POST', '/api/reports'],
      ['GET', '/api/reports/1'],
      ['GET', '/api/reports/1/pdf'],
    ] as const) {
      expect((await call(path, { method, auth: false, ...(method === 'POST' ? { body: {} } : {}) })).status, path).toBe(401);
    }
    const r = await call('/api/worklist/decisions', { method: 'POST', csrf: 'wrong', body: { rows: [ref(both[0] as number)], decision: 'confirm' } });
    expect(r.status).toBe(403);
    expect((await rowOf(both[0] as number)).myStatus).toBe('awaiting');
  });

  it('one row per record and partner, its strength, repeat queries folded; awaiting my decision by default', async () => {
    const r = await call('/api/worklist');
    expect(r.status).toBe(200);
    const l = r.json();
    expect(l.stale).toBe(false);
    expect(l.total).toBe(6);
    expect(l.awaiting).toBe(6);
    expect(l.rows.map((x: any) => x.recordId).sort()).toEqual([...both, PARTIAL].map(rec).sort());
    expect(l.rows.every((x: any) => x.myStatus === 'awaiting' && x.canDecide && !x.canReport && x.partner === 'PT-PJ')).toBe(true);
    expect(l.caseRefs).toEqual(['PT-OP-9']);
    const asked = l.rows.find((x: any) => x.recordId === rec(both[0] as number));
    expect(asked.strength).toEqual({ matched: 2, of: 2 });
    expect(asked.caseRefs).toEqual(['PT-OP-9']);
    // Two handles (e-mail, passport): PT-PJ's two queries hit the e-mail address's handle again.
    expect(asked.handles.map((h: any) => `${h.source}:${h.kinds.join(',')}:${h.repeats}`).sort()).toEqual(['nightly:email:2', 'nightly:passport:0']);
    expect(asked.handles.find((h: any) => h.kinds[0] === 'email').caseRef).toBe('PT-OP-9');
    // Grouped by case reference: the row with a case comes first.
    expect(l.rows[0].recordId).toBe(rec(both[0] as number));
    const weak = l.rows.find((x: any) => x.recordId === rec(PARTIAL));
    expect(weak.strength).toEqual({ matched: 1, of: 2 });
    expect(weak.kinds).toEqual(['email']);
    // The per-handle list still has every identifier hit.
    expect((await call('/api/matches')).json().matches.length).toBe(both.length * 2 + 1 + 2);
  });

  it('pages on the server, sorts, and filters by partner, kind and case reference', async () => {
    const p1 = (await call('/api/worklist?limit=4&sort=record&dir=asc&group=none')).json();
    const p2 = (await call('/api/worklist?limit=4&offset=4&sort=record&dir=asc&group=none')).json();
    expect([p1.rows.length, p2.rows.length, p1.total, p2.offset, p2.limit]).toEqual([4, 2, 6, 4, 4]);
    const ids = [...p1.rows, ...p2.rows].map((x: any) => x.recordId);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(6);
    const desc = (await call('/api/worklist?limit=100&sort=record&dir=desc&group=none')).json().rows.map((x: any) => x.recordId);
    expect(desc).toEqual([...ids].reverse());
    const strength = (await call('/api/worklist?sort=strength&dir=asc&group=none')).json().rows;
    expect(strength[0].recordId).toBe(rec(PARTIAL));
    expect((await call('/api/worklist?kind=passport')).json().total).toBe(5);
    expect((await call('/api/worklist?case=pt-op')).json().rows.map((x: any) => x.recordId)).toEqual([rec(both[0] as number)]);
    expect((await call('/api/worklist?partner=FR-OC')).json().total).toBe(0);
    for (const [q, field] of [
      ['limit=101', 'query.limit'],
      ['limit=0', 'query.limit'],
      ['offset=-1', 'query.offset'],
      ['limit=ten', 'query.limit'],
      ['status=maybe', 'query.status'],
      ['sort=handle', 'query.sort'],
      ['nope=1', 'query.'],
    ]) {
      const bad = await call(`/api/worklist?${q}`);
      expect(bad.status, q).toBe(422);
      expect(bad.json().field, q).toBe(field);
    }
  });

  it('confirming a row decides each of its handles with one note, shown in its history; Confirm is then gone', async () => {
    const p = both[1] as number;
    const note = 'Same person: photo and date of birth checked.';
    const r = await call('/api/worklist/decisions', { method: 'POST', body: { rows: [ref(p)], decision: 'confirm', note } });
    expect(r.status).toBe(200);
    const d = r.json();
    expect(d.results).toEqual([{ key: `PT-PJ/${rec(p)}`, decided: 2, ok: true }]);
    expect(d.awaiting).toBe(5);
    const row = d.rows[0];
    expect(row).toMatchObject({ myStatus: 'confirmed', canDecide: false, canReport: true, partnerStatus: 'unverified', status: 'unverified' });
    expect(row.history).toEqual([{ at: expect.any(String), officer: 'insp.garcia', action: 'confirm', handles: 2, note }]);
    expect((await call('/api/worklist')).json().rows.some((x: any) => x.recordId === rec(p))).toBe(false);
    expect((await call('/api/worklist?status=confirmed')).json().rows.map((x: any) => x.recordId)).toEqual([rec(p)]);
    // Deciding again changes nothing, and says why.
    const again = (await call('/api/worklist/decisions', { method: 'POST', body: { rows: [ref(p)], decision: 'decline' } })).json();
    expect(again.results).toEqual([{ key: `PT-PJ/${rec(p)}`, decided: 0, ok: false, error: 'already decided here (confirmed)' }]);
    expect((await rowOf(p)).myStatus).toBe('confirmed');
    // The note is in the local trail beside the decision, and reached the coordinator.
    const store = openStore(es.dir);
    try {
      const notes = store.sqlite.prepare("SELECT officer, detail FROM audit_log WHERE action = 'hit.note'").all() as Array<{ officer: string; detail: string }>;
      expect(notes.map((n) => [n.officer, JSON.parse(n.detail).note])).toEqual([
        ['insp.garcia', note],
        ['insp.garcia', note],
      ]);
    } finally {
      store.close();
    }
  });

  it('bulk-declines two rows with one note; a row not in the worklist is reported, not guessed', async () => {
    const [a, b] = [both[2] as number, both[3] as number];
    const r = await call('/api/worklist/decisions', { method: 'POST', body: { rows: [ref(a), ref(b), { partner: 'PT-PJ', recordId: 'ES-CNP-nope' }], decision: 'decline', note: 'Reused e-mail address' } });
    expect(r.status).toBe(200);
    const d = r.json();
    expect(d.results.map((x: any) => [x.key, x.decided, x.ok])).toEqual([
      [`PT-PJ/${rec(a)}`, 2, true],
      [`PT-PJ/${rec(b)}`, 2, true],
      ['PT-PJ/ES-CNP-nope', 0, false],
    ]);
    expect(d.awaiting).toBe(3);
    expect(d.rows.every((x: any) => x.myStatus === 'declined' && x.history[0].note === 'Reused e-mail address')).toBe(true);
    expect((await call('/api/worklist?status=declined')).json().total).toBe(2);
    const bad = await call('/api/worklist/decisions', { method: 'POST', body: { rows: [], decision: 'decline' } });
    expect(bad.status).toBe(422);
    expect(bad.json().field).toBe('body.rows');
    const long = await call('/api/worklist/decisions', { method: 'POST', body: { rows: [ref(a)], decision: 'decline', note: 'x'.repeat(501) } });
    expect(long.json().field).toBe('body.note');
  });

  it('with the coordinator down the worklist is the local copy, marked stale, and nothing is decided', async () => {
    await w.coord.pause();
    try {
      const l = (await call('/api/worklist?status=any')).json();
      expect(l.stale).toBe(true);
      expect(l.total).toBeGreaterThan(0);
      const r = await call('/api/worklist/decisions', { method: 'POST', body: { rows: [ref(PARTIAL)], decision: 'confirm' } });
      expect(r.status).toBe(502);
    } finally {
      await w.coord.listen();
    }
    expect((await rowOf(PARTIAL)).myStatus).toBe('awaiting');
  });
});

describe('console request reports', () => {
  const p = () => both[1] as number;

  it('refuses an unconfirmed match, and asks for the case and purpose a nightly match lacks', async () => {
    const open = (await rowOf(PARTIAL)).handles[0].handle;
    const r = await call('/api/reports', { method: 'POST', body: { handle: open, format: 'mla', legalBasis: 'MLA Convention 2000, Art. 1', caseRef: 'OP-1', purpose: 'terrorism' } });
    expect(r.status).toBe(409);
    const handle = (await rowOf(p())).handles.find((h: any) => h.source === 'nightly').handle;
    const noCase = await call('/api/reports', { method: 'POST', body: { handle, format: 'mla', legalBasis: 'MLA Convention 2000, Art. 1', purpose: 'terrorism' } });
    expect([noCase.status, noCase.json().field]).toEqual([422, 'body.caseRef']);
    for (const [body, field] of [
      [{ handle: 'zz', format: 'mla', legalBasis: 'x' }, 'body.handle'],
      [{ handle, format: 'fax', legalBasis: 'x' }, 'body.format'],
      [{ handle, format: 'mla', legalBasis: '  ' }, 'body.legalBasis'],
      [{ handle, format: 'mla', legalBasis: 'x', caseRef: 'OP-1', purpose: 'terrorism', recordId: 'ES-CNP-1' }, 'body.recordId'],
    ] as const) {
      const bad = await call('/api/reports', { method: 'POST', body });
      expect([bad.status, bad.json().field]).toEqual([422, field]);
    }
    expect((await call('/api/reports', { method: 'POST', body: { handle: 'ab'.repeat(16), format: 'mla', legalBasis: 'x' } })).status).toBe(404);
    expect((await call('/api/reports/abc')).status).toBe(422);
    expect((await call('/api/reports/999999')).status).toBe(404);
  });

  it('a confirmed match gives a report, its PDF says what the page says and no identifier, and its creation is audited', async () => {
    const row = await rowOf(p());
    const handle = row.handles.find((h: any) => h.source === 'nightly').handle;
    const r = await call('/api/reports', { method: 'POST', body: { handle, format: 'mla', legalBasis: 'EU MLA Convention 2000, Art. 1', caseRef: 'OP-ATLAS-7', purpose: 'terrorism', recordId: rec(p()) } });
    expect(r.status).toBe(200);
    const rep = r.json().report;
    expect(rep).toMatchObject({
      format: 'mla',
      officer: { id: 'insp.garcia', name: 'Inspector García' },
      agency: 'ES-CNP',
      partner: 'PT-PJ',
      handle,
      source: 'nightly',
      caseRef: 'OP-ATLAS-7',
      legalBasis: 'EU MLA Convention 2000, Art. 1',
      purpose: 'terrorism',
      proofVerified: true,
      recordIds: [rec(p())],
      myStatus: 'confirmed',
    });
    expect((await call(`/api/reports/${rep.id}`)).json().report).toEqual(rep);

    const pdf = await call(`/api/reports/${rep.id}/pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-disposition')).toBe(`attachment; filename="concordat-request-mla-OP-ATLAS-7-${rep.id}.pdf"`);
    expect(Buffer.from(pdf.bytes.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    const text = (await pdfText(pdf.bytes)).join('\n');
    for (const s of ['Request for mutual legal assistance', 'OP-ATLAS-7', 'EU MLA Convention 2000, Art. 1', 'terrorism', 'PT-PJ', rec(p()), 'Inspector García (insp.garcia)', rep.createdAt, rep.firstSeen, 'Yes:'])
      expect(text, s).toContain(s);
    // The handle is drawn whole or cut across lines; either way all of it is there.
    expect(text.replace(/\n/g, '')).toContain(handle);
    for (const v of [email(p()), passport(p()), canonicalize('email', email(p())), canonicalize('passport', passport(p()))]) expect(text.includes(v), 'an identifier in the PDF').toBe(false);

    const store = openStore(es.dir);
    try {
      const e = store.sqlite.prepare("SELECT officer, subject, case_ref AS caseRef, detail FROM audit_log WHERE action = 'report.create' AND outcome = 'ok'").all() as Array<{ officer: string; subject: string; caseRef: string; detail: string }>;
      expect(e).toHaveLength(1);
      expect(e[0]).toMatchObject({ officer: 'insp.garcia', subject: handle, caseRef: 'OP-ATLAS-7' });
      expect(JSON.parse((e[0] as { detail: string }).detail)).toMatchObject({ format: 'mla', legalBasis: 'EU MLA Convention 2000, Art. 1', partner: 'PT-PJ' });
    } finally {
      store.close();
    }
    expect((await rowOf(p())).history.map((h: any) => h.action)).toEqual(['confirm', 'report']);
  });

  it("a hit of this agency's own query gives a SIENA report with the query's case, purpose and verified proof", async () => {
    const q = await call('/api/queries', { method: 'POST', body: { kind: 'email', values: [email(both[4] as number)], partners: ['PT-PJ'], purpose: 'cybercrime', caseRef: 'OP-BOREAS-2' } });
    expect(q.status).toBe(200);
    const handle = q.json().legs[0].results[0].handle as string;
    const asked = (await call('/api/worklist/requested')).json();
    expect(asked.hits).toEqual([expect.objectContaining({ handle, partner: 'PT-PJ', caseRef: 'OP-BOREAS-2', purpose: 'cybercrime', kind: 'email', index: 0, proofVerified: true, officer: 'insp.garcia' })]);
    // The handle is also a nightly match ES-CNP has not decided: as a match it gives no report, as the query's hit it does.
    expect((await call('/api/reports', { method: 'POST', body: { handle, format: 'siena', legalBasis: 'x', caseRef: 'OP-1', purpose: 'terrorism' } })).status).toBe(409);
    const r = await call('/api/reports', { method: 'POST', body: { handle, queryId: q.json().queryId, format: 'siena', legalBasis: 'Framework Decision 2006/960/JHA' } });
    expect(r.status).toBe(200);
    const rep = r.json().report;
    expect(rep).toMatchObject({ source: 'query', queryId: q.json().queryId, caseRef: 'OP-BOREAS-2', purpose: 'cybercrime', proofVerified: true, recordIds: [] });
    const text = (await pdfText((await call(`/api/reports/${rep.id}/pdf`)).bytes)).join('\n');
    expect(text).toContain('SIENA information request');
    expect(text).toContain(`Targeted query ${rep.queryId}`);
    expect(text).toContain('Framework Decision 2006/960/JHA');
    expect(text.includes(email(both[4] as number))).toBe(false);
  });

  it('a coordinator claiming this agency confirmed a match it never did gets no report: refused and logged here', async () => {
    const row = await rowOf(PARTIAL);
    const handle = row.handles[0].handle as string;
    // The coordinator forges ES-CNP's confirmation in its own store.
    await w.coord.store.setHitStatus({ handle, agency: 'ES-CNP', status: 'confirmed', officer: 'insp.garcia', note: null, updatedAt: new Date().toISOString() });
    expect((await rowOf(PARTIAL)).handles[0].myStatus).toBe('confirmed');
    const r = await call('/api/reports', { method: 'POST', body: { handle, format: 'mla', legalBasis: 'x', caseRef: 'OP-1', purpose: 'terrorism' } });
    expect(r.status).toBe(409);
    expect(r.json().detail).toMatch(/own audit trail holds no such confirmation/);
    const store = openStore(es.dir);
    try {
      const refused = store.sqlite.prepare("SELECT detail FROM audit_log WHERE action = 'report.create' AND outcome = 'refused' AND subject = ?").all(handle) as Array<{ detail: string }>;
      expect(refused.map((x) => JSON.parse(x.detail).reason)).toEqual(['confirmation-not-recorded-here']);
      expect(store.sqlite.prepare("SELECT count(*) FROM audit_log WHERE action = 'report.create' AND outcome = 'ok' AND subject = ?").pluck().get(handle)).toBe(0);
    } finally {
      store.close();
    }
  });
});
