// The console's overview, query states, audit and preferences over real
// HTTP: ES-CNP's console in this process, the real coordinator, PT-PJ's
// responder running and FR-OC's not (an offline partner) until it starts
// late. An officer signs in before last night's sync and again after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgency, type Agency } from '../clients/agency/config.js';
import { decideHit } from '../clients/agency/hits.js';
import { openStore } from '../clients/store/db.js';
import { built, email, passport, range, World, type ServeProcess } from './client-world.js';
import { addTestOfficer, api, apiLogin, startTestConsole, type TestConsole } from './console-harness.js';

const both = range(900_000, 5);
let w: World;
let es: Agency;
let c: TestConsole;
let cookie: string;
let csrf: string;
let firstSignIn: string;
let frServe: ServeProcess | undefined;

const call = (path: string, o: Parameters<typeof api>[2] = {}) => api(c.url, path, { cookie, ...(o.method && o.method !== 'GET' ? { csrf } : {}), ...o });

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build` (npm test builds first)');
  w = await World.start();
  es = await w.agency('ES-CNP', 'ESP', [...range(100_000, 40), ...both]);
  await w.agency('PT-PJ', 'PRT', [...range(200_000, 30), ...both]);
  await w.agency('FR-OC', 'FRA', [...range(300_000, 20), ...both.slice(0, 3)]);
  await w.agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], purposes: ['terrorism', 'cybercrime'] });
  await w.agreement({ id: 'es-fr', parties: ['ES-CNP', 'FR-OC'], purposes: ['terrorism'] });
  await addTestOfficer(es.dir, 'insp.garcia', 'Inspector García');
  await addTestOfficer(es.dir, 'sgt.lopez', 'Sergeant López');
  es = loadAgency(w.dir('ES-CNP'));
  // A short wait: an offline partner is named as such after it, not after 20 s.
  c = await startTestConsole(es, { queryWaitMaxSeconds: 3 });
  // The sign-in before the night.
  const first = await apiLogin(c.url, 'insp.garcia');
  expect(first.res.status).toBe(200);
  await w.syncAll();
  ({ cookie, csrf } = await apiLogin(c.url, 'insp.garcia'));
  const s = (await call('/api/session')).json();
  firstSignIn = s.since;
  const ptServe = w.serve('PT-PJ');
  await ptServe.waitFor(/answering targeted queries/);
}, 180_000);

afterAll(async () => {
  await c?.ui.close();
  await w?.stop();
});

describe('console: session and preferences', () => {
  it('the session says since when the officer was away, the idle timeout and the language', async () => {
    const s = (await call('/api/session')).json();
    expect(s.preferences).toEqual({ language: 'en' });
    expect(s.idleTimeoutSeconds).toBe(1800);
    expect(Date.parse(s.since)).toBeLessThan(Date.now());
  });

  it('the language is saved per officer, validated, needs the CSRF token, and is audited', async () => {
    const r = await call('/api/preferences', { method: 'POST', body: { language: 'es' } });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ language: 'es' });
    expect((await call('/api/session')).json().preferences.language).toBe('es');
    // Another officer keeps the default.
    const other = await apiLogin(c.url, 'sgt.lopez');
    expect(other.res.json().preferences).toEqual({ language: 'en' });
    const bad = await call('/api/preferences', { method: 'POST', body: { language: 'de' } });
    expect(bad.status).toBe(422);
    expect(bad.json().field).toBe('body.language');
    const noToken = await api(c.url, '/api/preferences', { method: 'POST', cookie, body: { language: 'fr' } });
    expect(noToken.status).toBe(403);
    expect((await call('/api/preferences')).json().language).toBe('es');
    const audit = (await call('/api/audit?source=local')).json().entries;
    expect(audit.filter((e: any) => e.action === 'officer.preferences')).toEqual([expect.objectContaining({ officer: 'insp.garcia', outcome: 'ok' })]);
    await call('/api/preferences', { method: 'POST', body: { language: 'en' } });
  });
});

describe('console: the overview since the last sign-in', () => {
  it('new matches per partner in people, one count of people, terms from the coordinator', async () => {
    const o = (await call('/api/overview')).json();
    expect(o.sinceLastSignIn.since).toBe(firstSignIn);
    const byPartner = Object.fromEntries(o.sinceLastSignIn.newMatches.map((m: any) => [m.partner, m.people]));
    // Five people matched on two identifiers each with PT-PJ: five, not ten.
    expect(byPartner).toEqual({ 'PT-PJ': 5, 'FR-OC': 3 });
    expect(o.watchlist.records).toBe(45);
    const pt = o.partners.find((p: any) => p.partner === 'PT-PJ').agreements[0];
    expect(pt).toMatchObject({ people: 5, matches: 10, termsFrom: 'coordinator' });
    expect(o.coordinatorUnreachableSince).toBeNull();
    expect(o.termsCachedAt).toMatch(/^\d{4}-/);
  });

  it('a later sign-in starts from the one before: nothing new', async () => {
    const again = await apiLogin(c.url, 'insp.garcia');
    const o = (await api(c.url, '/api/overview', { cookie: again.cookie })).json();
    expect(o.sinceLastSignIn.newMatches).toEqual([]);
    expect(Date.parse(o.sinceLastSignIn.since)).toBeGreaterThan(Date.parse(firstSignIn));
  });
});

describe('console: partner decisions since the last sign-in', () => {
  it('a partner confirming and declining matches shows as people, once', async () => {
    const rows = (await call('/api/matches?partner=PT-PJ')).json().matches as Array<{ handle: string; recordIds: string[] }>;
    const pt = w.agencies.get('PT-PJ') as Agency;
    const ptStore = openStore(pt.dir);
    // Two handles of one person (passport and e-mail) confirmed, one of another declined.
    const person = rows[0]?.recordIds[0] as string;
    const same = rows.filter((r) => r.recordIds.includes(person)).map((r) => r.handle);
    const other = rows.find((r) => !r.recordIds.includes(person))?.handle as string;
    try {
      const client = w.coord.client(pt.agency, pt.signingKey);
      for (const h of same) await decideHit(client, ptStore, h, 'confirm', 'pt.officer');
      await decideHit(client, ptStore, other, 'decline', 'pt.officer');
    } finally {
      ptStore.close();
    }
    expect(same).toHaveLength(2);
    const o = (await call('/api/overview')).json();
    expect(o.sinceLastSignIn.partnerDecisions).toEqual([
      { partner: 'PT-PJ', decision: 'confirmed', people: 1 },
      { partner: 'PT-PJ', decision: 'declined', people: 1 },
    ]);
    // Seen once: news to the sign-ins before it was seen, not to one after.
    await apiLogin(c.url, 'insp.garcia');
    const next = await apiLogin(c.url, 'insp.garcia');
    expect((await api(c.url, '/api/overview', { cookie: next.cookie })).json().sinceLastSignIn.partnerDecisions).toEqual([]);
  });
});

describe('console: truthful query states', () => {
  let queryId: string;

  it('an offline partner is named as such and has no "0 hits"; the answering one is answered', async () => {
    const r = await call('/api/queries', { method: 'POST', body: { kind: 'email', values: [email(both[0] as number), email(999_001)], partners: 'all', purpose: 'terrorism', caseRef: 'OP-ATLAS-7', wait: 3 } });
    expect(r.status).toBe(200);
    const q = r.json();
    queryId = q.queryId;
    const legs = Object.fromEntries(q.legs.map((l: any) => [l.partner, l]));
    expect(legs['PT-PJ']).toMatchObject({ state: 'done', answer: 'answered', proofVerified: true });
    expect(legs['PT-PJ'].results).toEqual([{ index: 0, hit: true, handle: expect.any(String) }, { index: 1, hit: false }]);
    expect(legs['FR-OC']).toMatchObject({ state: 'pending', answer: 'offline', proofVerified: false, results: [] });
    const quota = Object.fromEntries(q.quota.map((x: any) => [x.partner, x]));
    expect(quota['PT-PJ']).toMatchObject({ perDay: 50, queriesLeftToday: 49 });
  });

  it('the late answer resolves on a later look and shows in the overview as a late answer', async () => {
    frServe = w.serve('FR-OC');
    await frServe.waitFor(/answering targeted queries/);
    let fr: any;
    for (let i = 0; i < 60; i++) {
      fr = (await call(`/api/queries/${queryId}`)).json().legs.find((l: any) => l.partner === 'FR-OC');
      if (fr.answer !== 'offline') break;
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(fr).toMatchObject({ state: 'done', answer: 'answered', proofVerified: true });
    expect(fr.results.map((x: any) => x.hit)).toEqual([true, false]);
    const o = (await call('/api/overview')).json();
    expect(o.sinceLastSignIn.lateAnswers).toEqual([expect.objectContaining({ queryId, partner: 'FR-OC', caseRef: 'OP-ATLAS-7', hits: 1 })]);
    // Not late: PT-PJ answered while the console waited.
    expect(o.sinceLastSignIn.lateAnswers.some((l: any) => l.partner === 'PT-PJ')).toBe(false);
  });

  it('every bad value is reported at once, by index and rule, never echoed, nothing sent', async () => {
    const secrets = ['not-an-email', 'also@@bad'];
    const before = w.coord.seen.length;
    const r = await call('/api/queries', { method: 'POST', body: { kind: 'email', values: [secrets[0], email(5), secrets[1]], partners: ['PT-PJ'], purpose: 'terrorism', caseRef: 'OP-X' } });
    expect(r.status).toBe(422);
    const p = r.json();
    expect(p.field).toBe('body.values[0]');
    expect(p.values).toEqual([
      { index: 0, rule: 'email.format', message: expect.stringMatching(/^expected one "@"/) },
      { index: 2, rule: 'email.format', message: expect.any(String) },
    ]);
    for (const s of secrets) expect(r.body).not.toContain(s);
    expect(w.coord.seen.slice(before).filter((s) => s.path === '/v1/queries')).toEqual([]);
  });

  it('a miss says no hit with a verified proof', async () => {
    const r = await call('/api/queries', { method: 'POST', body: { kind: 'passport', values: [passport(777_777)], partners: ['PT-PJ'], purpose: 'cybercrime', caseRef: 'OP-BOREAS-2' } });
    expect(r.json().legs).toEqual([expect.objectContaining({ partner: 'PT-PJ', answer: 'answered', proofVerified: true, results: [{ index: 0, hit: false }] })]);
  });
});

describe('console: the audit for people', () => {
  it('local and coordinator records of one action are merged; plumbing is hidden unless asked', async () => {
    const a = (await call('/api/audit')).json();
    const created = a.actions.filter((x: any) => x.action === 'query.create' && x.outcome === 'ok');
    expect(created).toHaveLength(2);
    for (const x of created) {
      expect(x.recordedBy).toEqual(['local', 'coordinator']);
      expect(x.coordinator.action).toBe('query.created');
      expect(x.officer).toBe('insp.garcia');
    }
    // The raw list still has both records of each.
    expect(a.entries.filter((e: any) => e.action === 'query.created' && e.actor === 'ES-CNP')).toHaveLength(2);
    expect(a.actions.some((x: any) => x.plumbing)).toBe(false);
    expect(a.hiddenPlumbing).toBeGreaterThan(0);
    const withPlumbing = (await call('/api/audit?plumbing=1')).json();
    expect(withPlumbing.actions.filter((x: any) => x.plumbing)).toHaveLength(a.hiddenPlumbing);
    expect(withPlumbing.actions.some((x: any) => x.action === 'chunk.stored')).toBe(true);
  });

  it('officer and case filters match in part and regardless of case; "mine" keeps my actions', async () => {
    const byOfficer = (await call('/api/audit?officer=GARCIA&source=local')).json().entries;
    expect(byOfficer.length).toBeGreaterThan(0);
    expect(byOfficer.every((e: any) => e.officer === 'insp.garcia')).toBe(true);
    const byCase = (await call('/api/audit?case=atlas')).json().actions;
    expect(byCase.length).toBeGreaterThan(0);
    expect(byCase.every((e: any) => e.caseRef === 'OP-ATLAS-7')).toBe(true);
    const mine = (await call('/api/audit?mine=1')).json().actions;
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e: any) => e.officer === 'insp.garcia')).toBe(true);
    const lopez = await apiLogin(c.url, 'sgt.lopez');
    const theirs = (await api(c.url, '/api/audit?mine=1', { cookie: lopez.cookie })).json().actions;
    expect(theirs.every((e: any) => e.officer === 'sgt.lopez')).toBe(true);
    expect(theirs.some((e: any) => e.action === 'session.login')).toBe(true);
    expect((await call('/api/audit?mine=yes')).status).toBe(422);
  });

  it('exports CSV: one row per merged action, a header, RFC 4180 quoting; the export is audited', async () => {
    const shown = (await call('/api/audit?case=atlas')).json().actions;
    const x = await call('/api/audit/export?case=atlas&format=csv');
    expect(x.status).toBe(200);
    expect(x.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(x.headers.get('content-disposition')).toMatch(/^attachment; filename="concordat-audit-ES-CNP-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = x.body.trim().split('\r\n');
    expect(lines[0]).toBe('time_utc,recorded_by,actor,officer,action,subject,outcome,case_ref,coordinator_hash,detail');
    expect(lines).toHaveLength(shown.length + 1);
    expect(lines.some((l) => l.includes('local+coordinator') && l.includes('query.create') && l.includes('OP-ATLAS-7'))).toBe(true);
    // JSON detail inside a field: quoted, its quotes doubled.
    expect(lines[1]).toMatch(/,"\{""/);
    const after = (await call('/api/audit?source=local')).json().entries;
    expect(after[0]).toMatchObject({ action: 'audit.export', detail: expect.objectContaining({ format: 'csv' }) });
  });
});

describe('console: the coordinator down', () => {
  it('shows the last known terms and since when it is unreachable, never blank or expired', async () => {
    await w.coord.pause();
    try {
      const o1 = (await call('/api/overview')).json();
      expect(o1.coordinatorReachable).toBe(false);
      expect(o1.coordinatorUnreachableSince).toMatch(/^\d{4}-/);
      const pt = o1.partners.find((p: any) => p.partner === 'PT-PJ').agreements[0];
      expect(pt.termsFrom).toBe('cache');
      expect([...pt.kinds].sort()).toEqual(['email', 'passport']);
      expect([...pt.purposes].sort()).toEqual(['cybercrime', 'terrorism']);
      expect(pt.validUntil >= new Date().toISOString().slice(0, 10)).toBe(true);
      const o2 = (await call('/api/overview')).json();
      // The time it went quiet, not the time of each look.
      expect(o2.coordinatorUnreachableSince).toBe(o1.coordinatorUnreachableSince);

      // Without the copy, the terms this agency signed.
      const store = openStore(es.dir);
      try {
        store.sqlite.prepare("DELETE FROM local_state WHERE key = 'console.pairs_cache'").run();
      } finally {
        store.close();
      }
      const o3 = (await call('/api/overview')).json();
      const signed = o3.partners.find((p: any) => p.partner === 'PT-PJ').agreements[0];
      expect(signed.termsFrom).toBe('accepted');
      expect([...signed.kinds].sort()).toEqual(['email', 'passport']);
      expect(signed.validUntil).toMatch(/^\d{4}-\d{2}-\d{2}/);
    } finally {
      await w.coord.listen();
    }
    const back = (await call('/api/overview')).json();
    expect(back.coordinatorReachable).toBe(true);
    expect(back.coordinatorUnreachableSince).toBeNull();
  });
});
