// The investigator console's local API (clients/console/API.md) over real
// HTTP: the console server of agency ES-CNP in this process, the real
// coordinator, and PT-PJ's `concordat serve` responder as a child process.
// Covers authentication on every route, CSRF, Origin and Host checks, login
// throttling, officer attribution in both audit trails, and that no planted
// identifier appears in any URL, response header, log line or local audit row.
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEngine } from '../protocol/engine/index.js';
import { canonicalize } from '../protocol/identifiers/index.js';
import { loadAgency, type Agency } from '../clients/agency/config.js';
import { appendAudit } from '../clients/agency/audit.js';
import { addOfficer } from '../clients/agency/officers.js';
import { agencyClient } from '../clients/sdk/agency-client.js';
import { startConsole, type ConsoleServer } from '../clients/console/server.js';
import { openStore } from '../clients/store/db.js';
import { built, cli, email, passport, range, World, type ServeProcess } from './client-world.js';

const both = range(900_000, 5);
const PASSWORD = 'correct horse battery staple';
/** Cheaper scrypt for test officers; the parameters travel inside the hash. */
const FAST = { N: 2 ** 12, r: 8, p: 1 };

let w: World;
let es: Agency;
let ptServe: ServeProcess;
let ui: ConsoleServer;
const logLines: string[] = [];
/** Every URL requested and every response header seen, for the privacy check. */
const seenUrls: string[] = [];
const seenHeaders: string[] = [];

interface Res {
  status: number;
  headers: Headers;
  body: string;
  json: () => any;
}

async function call(path: string, o: { method?: string; body?: unknown; cookie?: string; csrf?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  const url = new URL(path, ui.url).href;
  seenUrls.push(url);
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.cookie) headers.cookie = o.cookie;
  if (o.csrf) headers['x-csrf-token'] = o.csrf;
  if (o.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: o.method ?? 'GET', headers, ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}) });
  const body = await res.text();
  res.headers.forEach((v, k) => seenHeaders.push(`${k}: ${v}`));
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body) };
}

async function login(officer = 'insp.garcia', password = PASSWORD): Promise<{ cookie: string; csrf: string; res: Res }> {
  const res = await call('/api/session', { method: 'POST', body: { officer, password } });
  const set = res.headers.get('set-cookie') ?? '';
  return { cookie: set.split(';')[0] ?? '', csrf: res.status === 200 ? res.json().csrf : '', res };
}

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build` (npm test builds first)');
  w = await World.start();
  es = await w.agency('ES-CNP', 'ESP', [...range(100_000, 40), ...both]);
  await w.agency('PT-PJ', 'PRT', [...range(200_000, 30), ...both]);
  await w.agency('FR-OC', 'FRA', [...range(300_000, 20), ...both]);
  await w.agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], purposes: ['terrorism', 'cybercrime'] });
  await w.agreement({ id: 'es-fr', parties: ['ES-CNP', 'FR-OC'], mode: 'count' });
  // FR-OC tokenises dishonestly: ES-CNP's canaries catch it and the pair fails.
  w.coord.corruptTokensOf.add('FR-OC');
  // The failed pair's partner work stops; the other pairs complete, and sync reports no error.
  await w.syncAll();
  const store = openStore(es.dir);
  try {
    await addOfficer(store, { id: 'insp.garcia', name: 'Inspector García', password: PASSWORD, params: FAST });
    await addOfficer(store, { id: 'sgt.lopez', name: 'Sergeant López', password: PASSWORD, params: FAST });
  } finally {
    store.close();
  }
  ptServe = w.serve('PT-PJ');
  await ptServe.waitFor(/answering targeted queries/);
  es = loadAgency(w.dir('ES-CNP'));
  ui = await startConsole({
    agency: es,
    client: agencyClient(es, { retries: 1, timeoutMs: 30_000, label: 'console' }),
    engine: await loadEngine('fast'),
    port: 0,
    log: (l) => logLines.push(l),
    warn: (l) => logLines.push(l),
    nextSync: () => new Date('2030-01-01T02:00:00Z'),
  });
}, 120_000);

afterAll(async () => {
  await ui?.close();
  await w?.stop();
});

const ROUTES: Array<[string, string]> = [
  ['GET', '/api/session'],
  ['DELETE', '/api/session'],
  ['GET', '/api/overview'],
  ['GET', '/api/matches'],
  ['POST', '/api/matches/0123456789abcdef/decision'],
  ['GET', '/api/query/options'],
  ['POST', '/api/queries'],
  ['GET', '/api/queries'],
  ['GET', '/api/queries/q1'],
  ['GET', '/api/audit'],
  ['GET', '/api/audit/export'],
  ['GET', '/api/trends'],
  ['GET', '/api/no-such-route'],
];

describe('console API: authentication', () => {
  it.each(ROUTES)('%s %s without a session is 401', async (method, path) => {
    const r = await call(path, { method, ...(method === 'POST' ? { body: {} } : {}) });
    expect(r.status).toBe(401);
    expect(r.json().type).toBe('urn:concordat:console:unauthenticated');
  });

  it.each(ROUTES)('%s %s with a forged cookie is 401', async (method, path) => {
    const r = await call(path, { method, cookie: 'concordat_session=forged', csrf: 'x', ...(method === 'POST' ? { body: {} } : {}) });
    expect(r.status).toBe(401);
  });

  it('refuses a wrong password and an unknown officer alike, and audits both', async () => {
    const a = await call('/api/session', { method: 'POST', body: { officer: 'sgt.lopez', password: 'wrong password!' } });
    const b = await call('/api/session', { method: 'POST', body: { officer: 'nobody', password: PASSWORD } });
    expect([a.status, b.status]).toEqual([401, 401]);
    expect(a.json()).toEqual(b.json());
    const store = openStore(es.dir);
    try {
      const rows = store.sqlite.prepare("SELECT subject, detail FROM audit_log WHERE action = 'session.login' AND outcome = 'refused'").all() as Array<{ subject: string; detail: string }>;
      expect(rows.map((r) => r.subject)).toEqual(['sgt.lopez', 'console']);
      expect(rows.map((r) => JSON.parse(r.detail).knownOfficer)).toEqual([true, false]);
    } finally {
      store.close();
    }
  });

  it('sets an HttpOnly, SameSite=Strict session cookie and returns the CSRF token', async () => {
    const { res, cookie, csrf } = await login();
    expect(res.status).toBe(200);
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^concordat_session=[A-Za-z0-9_-]{43};/);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).toMatch(/Path=\//);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.json().officer).toEqual({ id: 'insp.garcia', name: 'Inspector García' });
    const s = await call('/api/session', { cookie });
    expect(s.status).toBe(200);
    expect(s.json().csrf).toBe(csrf);
  });

  it('sends the strict CSP and no-store on every API answer and page', async () => {
    for (const p of ['/', '/api/session', '/some/page']) {
      const r = await call(p);
      expect(r.headers.get('content-security-policy')).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      if (p.startsWith('/api/')) expect(r.headers.get('cache-control')).toBe('no-store');
      else expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    }
  });

  it('disabling an officer ends their session at the next request', async () => {
    const store = openStore(es.dir);
    try {
      await addOfficer(store, { id: 'temp.officer', name: 'Temp', password: PASSWORD, params: FAST });
      const { cookie } = await login('temp.officer');
      expect((await call('/api/session', { cookie })).status).toBe(200);
      const r = await cli(['officers', 'disable', '--dir', es.dir, '--id', 'temp.officer']);
      expect(r.code, r.stderr).toBe(0);
      expect((await call('/api/session', { cookie })).status).toBe(401);
    } finally {
      store.close();
    }
  });

  it('logout ends the session', async () => {
    const { cookie, csrf } = await login('sgt.lopez');
    expect((await call('/api/session', { method: 'DELETE', cookie, csrf })).status).toBe(204);
    expect((await call('/api/overview', { cookie })).status).toBe(401);
  });
});

describe('console API: CSRF, Origin, Host', () => {
  let cookie: string;
  let csrf: string;
  beforeAll(async () => ({ cookie, csrf } = await login()));

  it.each([
    ['DELETE', '/api/session'],
    ['POST', '/api/matches/0123456789abcdef/decision'],
    ['POST', '/api/queries'],
  ])('%s %s without or with a wrong CSRF token is 403', async (method, path) => {
    const none = await call(path, { method, cookie, ...(method === 'POST' ? { body: {} } : {}) });
    expect(none.status).toBe(403);
    expect(none.json().type).toBe('urn:concordat:console:csrf');
    const wrong = await call(path, { method, cookie, csrf: csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), ...(method === 'POST' ? { body: {} } : {}) });
    expect(wrong.status).toBe(403);
    // The session is still there: nothing was changed.
    expect((await call('/api/session', { cookie })).status).toBe(200);
  });

  it('refuses a state change from another origin even with the token', async () => {
    const r = await call('/api/queries', { method: 'POST', cookie, csrf, body: {}, headers: { origin: 'http://evil.example' } });
    expect(r.status).toBe(403);
    expect(r.json().type).toBe('urn:concordat:console:origin');
  });

  it('refuses a form-encoded body (JSON only)', async () => {
    const r = await call('/api/queries', { method: 'POST', cookie, csrf, body: 'kind=email', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(422);
    expect(r.json().field).toBe('header.content-type');
  });

  it('answers only to its own Host (DNS rebinding)', async () => {
    const port = new URL(ui.url).port;
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/api/session', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status('evil.example')).toBe(403);
    expect(await status(`evil.example:${port}`)).toBe(403);
    expect(await status(`localhost:${port}`)).toBe(401);
    expect(await status(`127.0.0.1:${port}`)).toBe(401);
  });
});

describe('console API: the officer’s work', () => {
  let cookie: string;
  let csrf: string;
  beforeAll(async () => ({ cookie, csrf } = await login()));

  it('overview: the partner, its agreement, the pair complete with its matches, the schedule', async () => {
    const r = await call('/api/overview', { cookie });
    expect(r.status).toBe(200);
    const o = r.json();
    expect(o.coordinatorReachable).toBe(true);
    expect(o.agency.id).toBe('ES-CNP');
    expect(o.partners.map((p: any) => p.partner)).toEqual(['FR-OC', 'PT-PJ']);
    const a = o.partners[1].agreements[0];
    // 45 records × 2 identifiers here; the partner's size counts its canaries (5 in these tests).
    expect(a).toMatchObject({ partner: 'PT-PJ', agreement: 'es-pt', mode: 'reveal', state: 'complete', mySetSize: 90, partnerSetSize: 75, matches: 10 });
    expect([...a.kinds].sort()).toEqual(['email', 'passport']);
    expect([...a.purposes].sort()).toEqual(['cybercrime', 'terrorism']);
    expect(a.lastSync).toMatch(/^\d{4}-/);
    expect(o.lastSync.ok).toBe(true);
    expect(o.nextSync).toBe('2030-01-01T02:00:00.000Z');
    expect(o.watchlist).toMatchObject({ records: 45, identifiers: 90 });
    const fr = o.partners[0].agreements[0];
    expect(fr).toMatchObject({ agreement: 'es-fr', mode: 'count', state: 'failed' });
    expect(fr.reason).toMatch(/canar/i);
    expect(fr.count).toBeUndefined();
    expect(o.failedRuns).toEqual([expect.objectContaining({ pair: fr.pair, partner: 'FR-OC', reason: fr.reason })]);
  });

  it("overview: the audit log's last verified head, and a banner for a failed check until a later check verifies", async () => {
    const first = (await call('/api/overview', { cookie })).json();
    expect(first.auditLog.failure).toBeNull();
    expect(first.auditLog.verified.size).toBeGreaterThan(0);
    // What the check writes when the coordinator's log fails it (clients/agency/transparency.ts).
    const store = openStore(es.dir);
    try {
      appendAudit(store, { officer: null, action: 'audit_log.inconsistent', subject: 'audit-log', outcome: 'refused', detail: { check: 'consistency', message: 'the history was rewritten' } });
    } finally {
      store.close();
    }
    const failed = (await call('/api/overview', { cookie })).json();
    expect(failed.auditLog.failure).toMatchObject({ check: 'consistency', message: 'the history was rewritten' });
    // A sync verifies a newer head: the banner goes (the sync still reports this world's failed count pair, exit 3).
    const r = await cli(['sync', '--dir', es.dir]);
    expect(r.stderr).not.toMatch(/AUDIT LOG/);
    expect(r.code, r.stderr).toBe(3);
    const after = (await call('/api/overview', { cookie })).json();
    expect(after.auditLog.failure).toBeNull();
    expect(after.auditLog.verified.size).toBeGreaterThan(first.auditLog.verified.size);
  });

  it('matches: the planted overlaps, filterable', async () => {
    const r = await call('/api/matches', { cookie });
    expect(r.status).toBe(200);
    const m = r.json();
    expect(m.stale).toBe(false);
    expect(m.matches).toHaveLength(10);
    expect([...new Set(m.matches.flatMap((x: any) => x.recordIds))].sort()).toEqual(both.map((p) => `ES-CNP-${p}`));
    expect(m.matches.every((x: any) => x.partner === 'PT-PJ' && x.status === 'unverified' && x.source === 'nightly')).toBe(true);
    expect((await call('/api/matches?kind=passport', { cookie })).json().matches).toHaveLength(5);
    expect((await call('/api/matches?partner=FR-OC', { cookie })).json().matches).toHaveLength(0);
    expect((await call('/api/matches?from=2000-01-01&to=2000-01-02', { cookie })).json().matches).toHaveLength(0);
    const bad = await call('/api/matches?status=maybe', { cookie });
    expect(bad.status).toBe(422);
    expect(bad.json().field).toBe('query.status');
    for (const [name, date] of [['from', '2026-02-30'], ['to', '2025-02-29'], ['from', '2026-13-01'], ['to', '2026-1-01']]) {
      const notADay = await call(`/api/matches?${name}=${date}`, { cookie });
      expect(notADay.status, date).toBe(422);
      expect(notADay.json().field).toBe(`query.${name}`);
      expect((await call(`/api/audit?${name}=${date}`, { cookie })).status, date).toBe(422);
    }
    expect((await call('/api/matches?from=2024-02-29', { cookie })).status).toBe(200);
  });

  it('confirm with a note: attributed to the officer here and at the coordinator; the other decision is then 409', async () => {
    const list = (await call('/api/matches?kind=passport', { cookie })).json().matches;
    const handle = list[0].handle as string;
    const r = await call(`/api/matches/${handle}/decision`, { method: 'POST', cookie, csrf, body: { decision: 'confirm', note: 'same person, photo checked' } });
    expect(r.status).toBe(200);
    // Two-step: the hit is confirmed once both holders confirm it.
    expect(r.json().match).toMatchObject({ handle, myStatus: 'confirmed', partnerStatus: 'unverified', status: 'unverified' });
    const again = await call(`/api/matches/${handle}/decision`, { method: 'POST', cookie, csrf, body: { decision: 'decline' } });
    expect(again.status).toBe(409);
    expect((await call('/api/matches?status=confirmed', { cookie })).json().matches).toEqual([]);
    expect((await call('/api/matches?status=unverified', { cookie })).json().matches.find((x: any) => x.handle === handle).myStatus).toBe('confirmed');

    const audit = (await call('/api/audit', { cookie })).json();
    expect(audit.coordinatorReachable).toBe(true);
    const local = audit.entries.find((e: any) => e.source === 'local' && e.action === 'hit.confirm');
    expect(local).toMatchObject({ officer: 'insp.garcia', subject: handle, outcome: 'ok' });
    const remote = audit.entries.find((e: any) => e.source === 'coordinator' && e.action === 'hit.confirmed');
    expect(remote).toMatchObject({ actor: 'ES-CNP', officer: 'insp.garcia', subject: handle });
    expect(remote.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a note longer than 500 characters is refused, naming the field', async () => {
    const r = await call('/api/matches/0123456789abcdef/decision', { method: 'POST', cookie, csrf, body: { decision: 'decline', note: 'x'.repeat(501) } });
    expect(r.status).toBe(422);
    expect(r.json().field).toBe('body.note');
  });

  it('query options: the reveal partner, kinds, purposes and quota left', async () => {
    const o = (await call('/api/query/options', { cookie })).json();
    expect(o.kinds).toEqual(['email', 'passport']);
    expect(o.purposes).toEqual(['cybercrime', 'terrorism']);
    expect(o.partners).toEqual([expect.objectContaining({ partner: 'PT-PJ', agreement: 'es-pt', queriesLeftToday: expect.any(Number) })]);
  });

  it('a query that hits and one that does not, proof verified; values never echoed', async () => {
    const left = (await call('/api/query/options', { cookie })).json().partners[0].queriesLeftToday as number;
    const hitValue = email(both[1] as number);
    const missValue = email(999_999);
    const r = await call('/api/queries', { method: 'POST', cookie, csrf, body: { kind: 'email', values: [hitValue, missValue], partners: ['PT-PJ'], purpose: 'terrorism', caseRef: 'OP-ATLAS-7' } });
    expect(r.status).toBe(200);
    expect(r.body).not.toContain(hitValue);
    expect(r.body).not.toContain(missValue);
    const q = r.json();
    expect(q).toMatchObject({ kind: 'email', purpose: 'terrorism', caseRef: 'OP-ATLAS-7', officer: 'insp.garcia', values: 2 });
    expect(q.legs).toHaveLength(1);
    expect(q.legs[0]).toMatchObject({ partner: 'PT-PJ', state: 'done', proofVerified: true });
    expect(q.legs[0].results).toEqual([
      { index: 0, hit: true, handle: expect.stringMatching(/^[0-9a-f]+$/) },
      { index: 1, hit: false },
    ]);
    expect(q.quota).toEqual([{ partner: 'PT-PJ', queriesLeftToday: left - 1, perDay: 50 }]);

    const miss = await call('/api/queries', { method: 'POST', cookie, csrf, body: { kind: 'passport', values: [passport(777_777)], partners: 'all', purpose: 'cybercrime', caseRef: 'OP-BOREAS-2' } });
    expect(miss.status).toBe(200);
    expect(miss.json().legs[0]).toMatchObject({ partner: 'PT-PJ', state: 'done', proofVerified: true, results: [{ index: 0, hit: false }] });

    const listed = (await call('/api/queries', { cookie })).json().queries;
    expect(listed.map((x: any) => x.caseRef)).toEqual(['OP-BOREAS-2', 'OP-ATLAS-7']);
    const one = await call(`/api/queries/${q.queryId}`, { cookie });
    expect(one.json().legs[0].results[0].hit).toBe(true);
  });

  it('a value that does not canonicalise is refused by index before anything is sent', async () => {
    const secret = 'not-an-email-address';
    const before = w.coord.seen.length;
    const r = await call('/api/queries', { method: 'POST', cookie, csrf, body: { kind: 'email', values: [email(1), secret], partners: ['PT-PJ'], purpose: 'terrorism', caseRef: 'OP-X' } });
    expect(r.status).toBe(422);
    expect(r.json().field).toBe('body.values[1]');
    expect(r.body).not.toContain(secret);
    expect(w.coord.seen.slice(before).filter((s) => s.path === '/v1/queries')).toEqual([]);
  });

  it('a purpose outside the accepted agreement is refused by this agency’s own client, with the reason', async () => {
    const r = await call('/api/queries', { method: 'POST', cookie, csrf, body: { kind: 'email', values: [email(1)], partners: ['PT-PJ'], purpose: 'drug_trafficking', caseRef: 'OP-X' } });
    expect(r.status).toBe(403);
    expect(r.json().type).toBe('urn:concordat:console:agreement');
    expect(r.json().detail).toMatch(/purpose/i);
  });

  it('audit: both queries with the officer and case, filterable, and exported as JSON Lines (itself audited)', async () => {
    const all = (await call('/api/audit', { cookie })).json().entries;
    const created = all.filter((e: any) => e.source === 'local' && e.action === 'query.create' && e.outcome === 'ok');
    expect(created.map((e: any) => e.caseRef).sort()).toEqual(['OP-ATLAS-7', 'OP-BOREAS-2']);
    expect(created.every((e: any) => e.officer === 'insp.garcia')).toBe(true);
    const results = all.filter((e: any) => e.action === 'query.result');
    expect(results.map((e: any) => e.detail.hits).sort()).toEqual([0, 1]);
    const remote = all.filter((e: any) => e.source === 'coordinator' && e.action === 'query.created');
    expect(remote.map((e: any) => e.caseRef).sort()).toEqual(['OP-ATLAS-7', 'OP-BOREAS-2']);
    expect(remote.every((e: any) => e.officer === 'insp.garcia')).toBe(true);

    const byCase = (await call('/api/audit?case=OP-ATLAS-7', { cookie })).json().entries;
    expect(byCase.length).toBeGreaterThan(0);
    expect(byCase.every((e: any) => e.caseRef === 'OP-ATLAS-7')).toBe(true);
    expect((await call('/api/audit?officer=sgt.lopez&source=local', { cookie })).json().entries.every((e: any) => e.officer === 'sgt.lopez')).toBe(true);
    expect((await call('/api/audit?from=2000-01-01&to=2000-01-01', { cookie })).json().entries).toEqual([]);

    const x = await call('/api/audit/export?case=OP-ATLAS-7', { cookie });
    expect(x.status).toBe(200);
    expect(x.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(x.headers.get('content-disposition')).toMatch(/^attachment; filename="concordat-audit-ES-CNP-\d{4}-\d{2}-\d{2}\.jsonl"$/);
    const lines = x.body.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(byCase.length);
    expect(lines.map((l) => l.at)).toEqual([...lines.map((l) => l.at)].sort());
    const after = (await call('/api/audit?source=local', { cookie })).json().entries;
    expect(after[0]).toMatchObject({ action: 'audit.export', officer: 'insp.garcia', caseRef: 'OP-ATLAS-7' });
  });

  it('trends: tonight’s overlaps with PT-PJ and today’s queries against the quota', async () => {
    const t = (await call('/api/trends?days=7', { cookie })).json();
    const today = new Date().toISOString().slice(0, 10);
    expect(t.nights).toEqual([{ date: today, partner: 'PT-PJ', overlaps: 10 }]);
    expect(t.queries).toHaveLength(7);
    expect(t.queries.at(-1)).toMatchObject({ date: today, queries: 2, quota: 50 });
    expect((await call('/api/trends?days=0', { cookie })).status).toBe(422);
  });
});

describe('console API: the coordinator down', () => {
  it('overview and matches answer from the local store, marked as such', async () => {
    const { cookie } = await login();
    await w.coord.pause();
    try {
      const o = (await call('/api/overview', { cookie })).json();
      expect(o.coordinatorReachable).toBe(false);
      expect(o.coordinatorError).toMatch(/unreachable/);
      expect(o.partners.map((p: any) => p.partner)).toEqual(['FR-OC', 'PT-PJ']);
      const m = await call('/api/matches', { cookie });
      expect(m.status).toBe(200);
      expect(m.json().stale).toBe(true);
      expect(m.json().matches).toHaveLength(10);
      const q = await call('/api/query/options', { cookie });
      expect(q.status).toBe(502);
      expect(q.json().type).toBe('urn:concordat:console:coordinator');
    } finally {
      await w.coord.listen();
    }
  });
});

describe('console API: privacy and start-up', () => {
  it('no planted identifier in any URL, response header, console log line, or local audit row', async () => {
    const planted = both.flatMap((p) => [passport(p), email(p)]).concat([email(999_999), passport(777_777)]);
    const forms = planted.flatMap((v) => {
      const kind = v.includes('@') ? 'email' : 'passport';
      return [v, canonicalize(kind, v)];
    });
    const store = openStore(es.dir);
    let audit: string;
    try {
      audit = JSON.stringify(store.sqlite.prepare('SELECT * FROM audit_log').all());
    } finally {
      store.close();
    }
    const coordPaths = w.coord.seen.map((s) => s.path);
    const haystacks = { urls: seenUrls.join('\n'), headers: seenHeaders.join('\n'), log: logLines.join('\n'), audit, coordinatorPaths: coordPaths.join('\n') };
    expect(logLines.some((l) => l.includes('/api/queries'))).toBe(true);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const f of forms) expect(text.includes(f), `${where} contains a planted identifier`).toBe(false);
    }
  });

  it('login attempts are throttled: after 5 failures the right password is refused too, with Retry-After', async () => {
    for (let i = 0; i < 5; i++) expect((await login('sgt.lopez', `wrong password ${i}`)).res.status).toBe(401);
    const r = (await login('sgt.lopez')).res;
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(800);
    // Another officer is not locked out by it.
    expect((await login('insp.garcia')).res.status).toBe(200);
  });

  it('the console refuses to start without an officer (API and CLI)', async () => {
    const pt = loadAgency(w.dir('PT-PJ'));
    await expect(startConsole({ agency: pt, client: agencyClient(pt), engine: await loadEngine('fast'), port: 0, log: () => {}, warn: () => {} })).rejects.toThrow(/at least one officer/);
    const fresh = join(w.work, 'IT-DC');
    expect((await cli(['init', '--dir', fresh, '--agency', 'IT-DC', '--coordinator', w.coord.url])).code).toBe(0);
    const r = await cli(['serve', '--dir', fresh, '--ui', '--ui-port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/at least one officer.*concordat officers add/);
  });
});
