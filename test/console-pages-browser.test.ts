// The overview, query, audit and trends pages in Chromium, driven as an
// investigator would: ES-CNP's console with PT-PJ answering and FR-OC
// offline until it starts late. The officer signed in before last night's
// sync; the overview says what the night brought, with links into the
// worklist. Queries that hit, miss and are malformed; an offline partner
// never reads as "0 hits"; its late answer raises a notice. The audit is
// exported as CSV, the page switches to Spanish with Spanish dates, and
// axe-core finds no serious or critical violation on any of these pages.
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgency, type Agency } from '../clients/agency/config.js';
import { email, passport, range, World, type ServeProcess } from './client-world.js';
import { addTestOfficer, apiLogin, PASSWORD, launchChromium, loginAs, requireBrowserSetup, seriousAxeViolations, startTestConsole, unlabelled, type TestConsole } from './console-harness.js';

const TZ = 'Europe/Madrid';
const both = range(900_000, 5);
let w: World;
let es: Agency;
let c: TestConsole;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let frServe: ServeProcess | undefined;
const errors: string[] = [];
const requested: string[] = [];

async function go(route: string, ready: string): Promise<void> {
  await page.click(`nav a[href="#/${route}"]`);
  await page.locator(ready).first().waitFor({ timeout: 40_000 });
}

async function noSeriousAxe(where: string): Promise<void> {
  const v = await seriousAxeViolations(page);
  expect(v, `${where}: ${JSON.stringify(v)}`).toEqual([]);
}

beforeAll(async () => {
  requireBrowserSetup();
  w = await World.start();
  es = await w.agency('ES-CNP', 'ESP', [...range(100_000, 40), ...both]);
  await w.agency('PT-PJ', 'PRT', [...range(200_000, 30), ...both]);
  await w.agency('FR-OC', 'FRA', [...range(300_000, 20), ...both.slice(0, 3)]);
  await w.agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], purposes: ['terrorism', 'cybercrime'] });
  await w.agreement({ id: 'es-fr', parties: ['ES-CNP', 'FR-OC'], purposes: ['terrorism'] });
  await addTestOfficer(es.dir, 'insp.garcia', 'Inspector García');
  es = loadAgency(w.dir('ES-CNP'));
  c = await startTestConsole(es, { queryWaitMaxSeconds: 4, nextSync: () => new Date(Date.now() + 3 * 3600_000) });
  // Yesterday's sign-in, then the night's exchange.
  expect((await apiLogin(c.url, 'insp.garcia')).res.status).toBe(200);
  await w.syncAll();
  const pt = w.serve('PT-PJ');
  await pt.waitFor(/answering targeted queries/);
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: TZ });
  page = await context.newPage();
  page.on('request', (r) => requested.push(r.url()));
  page.on('console', (m) => {
    // 401: the first look before signing in; 422: the malformed query this test sends on purpose.
    if (m.type() === 'error' && !/status of (401|422)/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await c?.ui.close();
  await w?.stop();
});

describe('overview, query, audit and languages in Chromium', () => {
  it('the login page has no serious accessibility violation', async () => {
    await page.goto(c.url);
    await page.locator('#login-officer').waitFor();
    await noSeriousAxe('login');
  });

  it('the overview says what happened since the last sign-in, each item linking into the worklist', async () => {
    await loginAs(page, c.url, 'insp.garcia');
    const pt = page.locator('#since-last-sign-in li[data-since="new-matches"][data-partner="PT-PJ"]');
    await pt.waitFor({ timeout: 30_000 });
    // People, not identifiers: five people matched on two identifiers each.
    expect(await pt.textContent()).toContain('5 people');
    expect(await page.textContent('#since-last-sign-in li[data-since="new-matches"][data-partner="FR-OC"]')).toContain('3 people');
    const href = (await pt.locator('a').getAttribute('href')) as string;
    expect(href).toMatch(/^#\/matches\?partner=PT-PJ&status=awaiting&since=\d{4}-/);
    expect(await page.textContent('#since-title')).toMatch(/Since your last sign-in/);
    expect(await page.getAttribute('#card-watchlist [data-people]', 'data-people')).toBe('45');
    // No developer words on the main view; they sit behind the disclosure.
    const mainText = (await page.evaluate(`(() => { const clone = document.querySelector('.page-body').cloneNode(true); clone.querySelector('#technical-details')?.remove(); return clone.textContent; })()`)) as string;
    for (const word of [/epoch/i, /tokenis/i, /es-pt~/, /--sync-every/, /chunk/i]) expect(mainText).not.toMatch(word);
    expect(await page.locator('details#technical-details').count()).toBe(1);
    await page.click('details#technical-details > summary');
    expect(await page.textContent('details#technical-details')).toMatch(/Epoch/);
    // Times are local, with UTC on hover.
    const time = page.locator('#card-last-sync time').first();
    expect(await time.getAttribute('title')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    await noSeriousAxe('overview');
    await pt.locator('a').click();
    await expect.poll(() => page.evaluate('location.hash')).toBe(href);
  });

  it('malformed lines are all reported at once, in plain words, with a format example', async () => {
    await go('query', '#query-form');
    expect(await unlabelled(page)).toEqual([]);
    await page.selectOption('#query-kind', 'email');
    await page.fill('#query-values', `${email(1)}\nnot-an-email\n\nalso@@bad\n`);
    await page.check('input[name="partner"][value="PT-PJ"]');
    await page.selectOption('#query-purpose', 'terrorism');
    await page.fill('#query-case', 'OP-X');
    await page.click('#query-submit');
    await page.locator('#query-bad-lines li').first().waitFor({ timeout: 20_000 });
    const lines = await page.locator('#query-bad-lines li').evaluateAll((els) => els.map((e) => e.getAttribute('data-line')));
    expect(lines).toEqual(['2', '4']);
    expect(await page.textContent('#query-error')).toMatch(/2 lines are not valid email values\. Nothing was sent\./);
    expect(await page.textContent('#query-format-example')).toContain('name@example.org');
    // The form keeps what was typed.
    expect(await page.inputValue('#query-case')).toBe('OP-X');
    await noSeriousAxe('query with errors');
  });

  it('a miss reads "no hit" with a verified proof', async () => {
    await page.fill('#query-values', passport(777_777));
    await page.selectOption('#query-kind', 'passport');
    await page.fill('#query-values', passport(777_777));
    await page.check('input[name="partner"][value="PT-PJ"]');
    await page.selectOption('#query-purpose', 'cybercrime');
    await page.fill('#query-case', 'OP-BOREAS-2');
    await page.click('#query-submit');
    const row = page.locator('section[data-leg="PT-PJ"] tr[data-index="0"]');
    await expect.poll(async () => (await row.count()) && row.getAttribute('data-hit'), { timeout: 40_000 }).toBe('false');
    expect(await row.textContent()).toMatch(/no hit/i);
    expect(await page.getAttribute('section[data-leg="PT-PJ"]', 'data-answer')).toBe('answered');
    expect(await page.textContent('section[data-leg="PT-PJ"]')).toContain('Proof verified');
  });

  it('a hit from one partner, and the offline partner named as not answered, never "0 hits"', async () => {
    await page.selectOption('#query-kind', 'email');
    await page.fill('#query-values', email(both[0] as number));
    await page.check('#query-all');
    await page.selectOption('#query-purpose', 'terrorism');
    await page.fill('#query-case', 'OP-ATLAS-7');
    await page.click('#query-submit');
    const fr = page.locator('section[data-leg="FR-OC"]');
    await fr.waitFor({ timeout: 40_000 });
    expect(await fr.getAttribute('data-answer')).toBe('offline');
    const frText = (await fr.textContent()) ?? '';
    expect(frText).toContain('Offline: not answered');
    expect(frText).not.toMatch(/0 hits/);
    expect(await page.getAttribute('section[data-leg="FR-OC"] tr[data-index="0"]', 'data-hit')).toBe('unknown');
    expect(await page.getAttribute('section[data-leg="PT-PJ"] tr[data-index="0"]', 'data-hit')).toBe('true');
    const summary = (await page.textContent('#query-summary')) ?? '';
    expect(summary).toMatch(/1 of 2 partners answered; 1 hit\./);
    expect(await page.textContent('section[data-leg="PT-PJ"]')).toMatch(/Next step: confirm the match/);
    expect(await page.textContent('span[data-quota="PT-PJ"]')).toMatch(/of 50 queries left today/);
    expect(await page.locator('#query-check-again').count()).toBe(1);
    await noSeriousAxe('query with results');
  });

  it('when the offline partner answers late, "Check again" resolves it and a notice says so', async () => {
    frServe = w.serve('FR-OC');
    await frServe.waitFor(/answering targeted queries/);
    const fr = page.locator('section[data-leg="FR-OC"]');
    for (let i = 0; i < 30 && (await fr.getAttribute('data-answer')) !== 'answered'; i++) {
      // The background check may redraw the results (and the button) at any moment: a missed click is retried.
      await page.locator('#query-check-again').click({ timeout: 2_000 }).catch(() => undefined);
      await page.waitForTimeout(1_000);
    }
    expect(await fr.getAttribute('data-answer')).toBe('answered');
    expect(await page.getAttribute('section[data-leg="FR-OC"] tr[data-index="0"]', 'data-hit')).toBe('true');
    const late = page.locator('#late-answers .late-answer[data-partner="FR-OC"]');
    await late.waitFor({ timeout: 20_000 });
    expect(await late.textContent()).toMatch(/FR-OC has now answered query .* \(case OP-ATLAS-7\): 1 hit/);
    // Once only, however it was found.
    expect(await page.locator('#late-answers .late-answer').count()).toBe(1);
  });

  it('the audit reads as sentences, merges both records, and exports CSV', async () => {
    await go('audit', '#audit-table tr[data-action]');
    expect(await unlabelled(page)).toEqual([]);
    const created = page.locator('#audit-table tr[data-action="query.create"][data-recorded-by="local coordinator"]');
    expect(await created.count()).toBe(2);
    expect(await created.first().locator('.sentence').textContent()).toMatch(/^insp\.garcia asked .* about 1 (email|passport) values? for /);
    const text = (await page.textContent('#audit-table')) ?? '';
    expect(text).toContain('OP-ATLAS-7');
    expect(text).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    expect(await page.locator('#audit-table tr[data-plumbing]').count()).toBe(0);
    expect(await page.textContent('#audit-hidden-plumbing')).toMatch(/technical steps of the nightly exchange are hidden/);
    await noSeriousAxe('audit');

    await page.fill('#audit-case', 'atlas');
    await page.click('#audit-apply');
    await expect.poll(async () => page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.every((r) => (r.textContent ?? '').includes('OP-ATLAS-7')))).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-export-csv')]);
    expect(download.suggestedFilename()).toMatch(/^concordat-audit-ES-CNP-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe('time_utc,recorded_by,actor,officer,action,subject,outcome,case_ref,coordinator_hash,detail');
    expect(csv.slice(1).every((l) => l.includes('OP-ATLAS-7'))).toBe(true);
    expect(csv.some((l) => l.includes('local+coordinator,ES-CNP,insp.garcia,query.create'))).toBe(true);

    // The nightly exchange's steps carry no case: back to all entries, then the toggle shows them.
    await page.fill('#audit-case', '');
    await page.click('#audit-apply');
    await page.check('#audit-plumbing');
    await expect.poll(() => page.locator('#audit-table tr[data-plumbing]').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await page.evaluate('location.hash')).toContain('plumbing=1');
  });

  it('trends has no serious accessibility violation', async () => {
    await go('trends', 'figure#chart-overlaps');
    await noSeriousAxe('trends');
  });

  it('switching to Spanish translates the labels, keeps the choice, and shows Spanish dates', async () => {
    await go('overview', '#since-last-sign-in');
    await page.selectOption('#language', 'es');
    await expect.poll(() => page.textContent('nav a[href="#/overview"]')).toBe('Resumen');
    expect(await page.textContent('nav a[href="#/query"]')).toBe('Consulta');
    expect(await page.textContent('#logout')).toBe('Cerrar sesión');
    expect(await page.getAttribute('html', 'lang')).toBe('es');
    await page.locator('#card-last-sync time').first().waitFor();
    const time = page.locator('#card-last-sync time').first();
    const iso = (await time.getAttribute('datetime')) as string;
    // The officer's locale and time zone, as Intl gives them.
    const expected = new Intl.DateTimeFormat('es-ES', { dateStyle: 'medium', timeStyle: 'short', timeZone: TZ }).format(new Date(iso));
    expect(await time.textContent()).toBe(expected);
    expect(await time.getAttribute('title')).toMatch(/ UTC$/);
    expect(await page.textContent('#page-title')).toBe('Resumen');
    await noSeriousAxe('overview in Spanish');

    // The choice is the officer's, kept by the console: a reload keeps it.
    await page.reload();
    await expect.poll(() => page.textContent('nav a[href="#/overview"]'), { timeout: 20_000 }).toBe('Resumen');
    await go('audit', '#audit-table tr[data-action]');
    expect(await page.textContent('#audit-export-csv')).toBe('Exportar CSV');
    expect(await page.locator('#audit-table .sentence').first().textContent()).toMatch(/[a-záéíóú]/);

    // The Matches page follows the same choice: heading, filter labels and the sort's options.
    await go('matches', '#worklist-filters');
    expect(await page.textContent('#page-title')).toBe('Coincidencias');
    expect(await page.textContent('label[for="wl-status"]')).toBe('Mi decisión');
    expect(await page.textContent('#wl-sort option[value="firstSeen:desc"]')).toBe('Más recientes primero');
    expect(await page.textContent('#wl-apply')).toBe('Aplicar');
  });

  it('a session that ended keeps the query form, nothing sent; an idle session is warned before it ends', async () => {
    await page.selectOption('#language', 'en');
    await expect.poll(() => page.textContent('nav a[href="#/overview"]')).toBe('Overview');
    await go('query', '#query-form');
    await page.selectOption('#query-kind', 'email');
    await page.fill('#query-values', email(both[1] as number));
    await page.check('input[name="partner"][value="PT-PJ"]');
    await page.selectOption('#query-purpose', 'terrorism');
    await page.fill('#query-case', 'OP-CALYPSO-1');
    // The session is gone (as after 30 idle minutes or a restart) when the officer presses Send.
    await context.clearCookies();
    await page.click('#query-submit');
    await page.locator('#login-officer').waitFor({ timeout: 20_000 });
    expect(await page.textContent('main')).toMatch(/session has ended.*the query form is kept/);
    await page.fill('#login-officer', 'insp.garcia');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.locator('#query-form').waitFor({ timeout: 30_000 });
    expect(await page.inputValue('#query-values')).toBe(email(both[1] as number));
    expect(await page.inputValue('#query-case')).toBe('OP-CALYPSO-1');
    expect(await page.textContent('.page-query')).toMatch(/session ended before the query went out/);
    const sent = (await page.evaluate(`fetch('/api/audit?case=calypso').then((r) => r.json()).then((a) => a.actions.length)`)) as number;
    expect(sent).toBe(0);
    // The values were kept in the page's memory only: the tab's storage has the case reference, not them.
    const stored = (await page.evaluate('JSON.stringify({ ...sessionStorage, ...localStorage })')) as string;
    expect(stored).toContain('OP-CALYPSO-1');
    expect(stored).not.toContain(email(both[1] as number));

    // The page counts idle time from its last request: two minutes before the limit it warns.
    await page.clock.install();
    await page.reload();
    await page.locator('#officer-name').waitFor({ timeout: 20_000 });
    await page.clock.fastForward('28:30');
    const warning = page.locator('#session-warning');
    await warning.waitFor({ timeout: 10_000 });
    expect(await warning.textContent()).toMatch(/Your session ends in 2 minutes without activity/);
    await page.click('#session-stay');
    await warning.waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('no CSP violation or script error, and no identifier in any URL', async () => {
    expect(errors).toEqual([]);
    const planted = [email(both[0] as number), passport(777_777), 'not-an-email', 'also@@bad'];
    for (const v of planted) expect(requested.join('\n').includes(v)).toBe(false);
  });
});
