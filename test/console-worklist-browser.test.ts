// The worklist in Chromium, as an investigator of ES-CNP uses it: find
// PT-PJ's people awaiting a decision, confirm one with a note and find the
// note in its history, decline two at once, prepare a request report from
// the confirmed match and from a hit of the agency's own query, print it and
// read its PDF. axe-core finds no serious or critical violation on the page.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadEngine } from '../protocol/engine/index.js';
import { canonicalize } from '../protocol/identifiers/index.js';
import { loadAgency } from '../clients/agency/config.js';
import { addOfficer } from '../clients/agency/officers.js';
import { agencyClient } from '../clients/sdk/agency-client.js';
import { startConsole, type ConsoleServer } from '../clients/console/server.js';
import { openStore } from '../clients/store/db.js';
import { email, passport, range, World } from './client-world.js';
import { launchChromium, loginAs, PASSWORD, pdfText, requireBrowserSetup, seriousAxeViolations, unlabelled } from './console-harness.js';

const both = range(900_000, 6);
const NOTE = 'Same person: photo and date of birth checked.';

let w: World;
let ui: ConsoleServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];
const requested: string[] = [];

const rows = () => page.locator('#worklist-table tr[data-key]');
const row = (p: number) => page.locator(`#worklist-table tr[data-record="ES-CNP-${p}"]`);
const navCount = async () => ((await page.locator('#nav-awaiting').textContent()) ?? '').replace(/\D+/g, '');
const focusedInside = (selector: string) => page.evaluate(`!!document.activeElement && !!document.activeElement.closest(${JSON.stringify(selector)})`);

async function toMatches(): Promise<void> {
  await page.click('nav a[href="#/matches"]');
  await rows().first().waitFor({ timeout: 30_000 });
}

async function downloadPdf(): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#report-pdf')]);
  expect(download.suggestedFilename()).toMatch(/^concordat-request-(mla|siena)-[A-Za-z0-9._-]+-\d+\.pdf$/);
  return (await pdfText(readFileSync(await download.path()))).join('\n');
}

beforeAll(async () => {
  requireBrowserSetup();
  w = await World.start();
  await w.agency('ES-CNP', 'ESP', [...range(100_000, 30), ...both]);
  await w.agency('PT-PJ', 'PRT', [...range(200_000, 20), ...both]);
  await w.agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], purposes: ['terrorism', 'cybercrime'] });
  await w.syncAll();
  const es = loadAgency(w.dir('ES-CNP'));
  const store = openStore(es.dir);
  try {
    await addOfficer(store, { id: 'insp.garcia', name: 'Inspector García', password: PASSWORD, params: { N: 2 ** 12, r: 8, p: 1 } });
  } finally {
    store.close();
  }
  await w.serve('PT-PJ').waitFor(/answering targeted queries/);
  ui = await startConsole({ agency: es, client: agencyClient(es, { retries: 1, timeoutMs: 30_000, label: 'console' }), engine: await loadEngine('fast'), port: 0, log: () => {}, warn: () => {} });
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('request', (r) => requested.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await w?.stop();
});

describe('the worklist in Chromium', () => {
  it("shows PT-PJ's people awaiting my decision, one row each, with the count in the navigation", async () => {
    await loginAs(page, ui.url, 'insp.garcia');
    await expect.poll(navCount, { timeout: 20_000 }).toBe(String(both.length));
    await toMatches();
    await page.selectOption('#wl-partner', 'PT-PJ');
    await page.click('#wl-apply');
    await expect.poll(() => page.locator('#wl-summary').textContent()).toContain(`Showing 1–${both.length} of ${both.length} rows awaiting your decision`);
    expect(await rows().count()).toBe(both.length);
    for (const p of both) {
      expect(await row(p).getAttribute('data-my-status')).toBe('awaiting');
      expect(await row(p).locator('.wl-strength').textContent()).toBe('2 of 2 identifiers');
    }
    expect(await page.textContent('#wl-awaiting')).toBe(`${both.length} people`);
    expect(await unlabelled(page)).toEqual([]);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('confirms one person with a note: the result appears beside the row, focused, and the note is in its history', async () => {
    const p = both[0] as number;
    await row(p).locator('button[data-action="confirm"]').click();
    await page.locator('#decision-dialog').waitFor();
    expect(await page.textContent('#decision-dialog')).toContain(`ES-CNP-${p}`);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.fill('#decision-note', NOTE);
    await page.click('#decision-submit');
    await expect.poll(() => row(p).getAttribute('data-my-status'), { timeout: 20_000 }).toBe('confirmed');
    expect(await row(p).locator('.wl-row-result').textContent()).toContain('1 person confirmed.');
    expect(await focusedInside(`tr[data-record="ES-CNP-${p}"] .wl-row-result`)).toBe(true);
    // Decided: no Confirm or Decline any more, a request can be prepared instead.
    expect(await row(p).locator('button[data-action="confirm"], button[data-action="decline"]').count()).toBe(0);
    expect(await row(p).locator('button[data-action="report"]').count()).toBe(1);
    await row(p).locator('details.wl-more summary').click();
    expect(await row(p).locator('li[data-history="confirm"] .wl-note').textContent()).toBe(NOTE);
    expect(await row(p).locator('li[data-history="confirm"]').textContent()).toContain('insp.garcia confirmed (2 identifiers)');
    await expect.poll(navCount).toBe(String(both.length - 1));
  });

  it('declines two people at once with one note; the banner above the table says so and has focus', async () => {
    const [a, b] = [both[1] as number, both[2] as number];
    expect(await page.locator('#wl-bulk-decline').isDisabled()).toBe(true);
    await row(a).locator('input[data-select]').check();
    await row(b).locator('input[data-select]').check();
    expect(await page.textContent('#wl-selected')).toBe('2 selected');
    await page.click('#wl-bulk-decline');
    expect(await page.textContent('#decision-title')).toBe('Decline 2 people');
    await page.fill('#decision-note', 'Reused e-mail addresses');
    await page.click('#decision-submit');
    await page.locator('#wl-banner #wl-result').waitFor({ timeout: 20_000 });
    expect(await page.textContent('#wl-banner')).toContain('2 people declined.');
    expect(await focusedInside('#wl-banner')).toBe(true);
    for (const p of [a, b]) expect(await row(p).getAttribute('data-my-status')).toBe('declined');
    await expect.poll(navCount).toBe(String(both.length - 3));
    // Reloaded, the default view holds only who still awaits a decision.
    await page.click('#wl-apply');
    await expect.poll(() => rows().count()).toBe(both.length - 3);
    await page.selectOption('#wl-status', 'declined');
    await page.click('#wl-apply');
    await expect.poll(async () => (await rows().evaluateAll((els) => els.map((e) => e.getAttribute('data-record')))).sort()).toEqual([`ES-CNP-${a}`, `ES-CNP-${b}`]);
    await row(a).locator('details.wl-more summary').click();
    expect(await row(a).locator('li[data-history="decline"] .wl-note').textContent()).toBe('Reused e-mail addresses');
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('prepares a request report from the confirmed match: printable, its PDF says the same, no identifier in it', async () => {
    const p = both[0] as number;
    await page.selectOption('#wl-status', 'confirmed');
    await page.click('#wl-apply');
    await row(p).locator('button[data-action="report"]').click();
    await page.locator('#report-dialog').waitFor();
    expect(await unlabelled(page)).toEqual([]);
    await page.selectOption('#report-format', 'mla');
    await page.fill('#report-legal-basis', 'EU MLA Convention 2000, Art. 1');
    await page.fill('#report-case', 'OP-ATLAS-7');
    await page.fill('#report-purpose', 'terrorism');
    await page.click('#report-submit');
    await page.locator('#report-view').waitFor({ timeout: 20_000 });
    expect(await focusedInside('#report-done')).toBe(true);
    const field = (k: string) => page.locator(`#report-view dd[data-field="${k}"]`).textContent();
    expect(await page.textContent('#report-title')).toBe('Request for mutual legal assistance');
    expect(await field('Case reference')).toBe('OP-ATLAS-7');
    expect(await field('Legal basis')).toBe('EU MLA Convention 2000, Art. 1');
    expect(await field('Requested from')).toBe('PT-PJ');
    expect(await field('Our record(s)')).toBe(`ES-CNP-${p}`);
    expect(await field('Prepared by')).toBe('Inspector García (insp.garcia)');
    expect(await field('Proof verified')).toMatch(/^Yes: /);
    expect(await seriousAxeViolations(page)).toEqual([]);

    // The print stylesheet shows the report alone.
    await page.evaluate("document.body.classList.add('print-report')");
    await page.emulateMedia({ media: 'print' });
    expect(await page.evaluate("getComputedStyle(document.querySelector('#worklist-table')).visibility")).toBe('hidden');
    expect(await page.evaluate("getComputedStyle(document.querySelector('#report-view dd')).visibility")).toBe('visible');
    expect(await page.evaluate("getComputedStyle(document.querySelector('#report-print')).visibility")).toBe('hidden');
    await page.emulateMedia({ media: 'screen' });
    await page.evaluate("document.body.classList.remove('print-report')");

    const text = await downloadPdf();
    const handle = (await field('Match handle')) ?? '';
    for (const s of ['Request for mutual legal assistance', 'OP-ATLAS-7', 'EU MLA Convention 2000, Art. 1', 'PT-PJ', `ES-CNP-${p}`, 'Inspector García (insp.garcia)', 'Yes:']) expect(text, s).toContain(s);
    expect(text.replace(/\n/g, '')).toContain(handle);
    for (const v of [email(p), passport(p), canonicalize('email', email(p)), canonicalize('passport', passport(p))]) expect(text.includes(v), 'an identifier in the PDF').toBe(false);
    await page.click('#report-close');
    // The row's history now lists the report.
    await row(p).locator('details.wl-more summary').click();
    expect(await row(p).locator('li[data-history="report"]').textContent()).toMatch(/insp\.garcia prepared request report no\. \d+/);
  });

  it("prepares a SIENA report from a hit of the agency's own query, grouped under its case", async () => {
    // The query goes through the console's API with a session of its own; the page then lists its hit.
    const login = await fetch(new URL('/api/session', ui.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ officer: 'insp.garcia', password: PASSWORD }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrf } = (await login.json()) as { csrf: string };
    const q = await fetch(new URL('/api/queries', ui.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
      body: JSON.stringify({ kind: 'email', values: [email(both[5] as number)], partners: ['PT-PJ'], purpose: 'cybercrime', caseRef: 'OP-BOREAS-2' }),
    });
    expect(q.status).toBe(200);
    const queryId = ((await q.json()) as { queryId: string }).queryId;
    await page.click('nav a[href="#/overview"]');
    await toMatches();
    const hit = page.locator(`#requested-table tbody[data-case="OP-BOREAS-2"] tr[data-query-id="${queryId}"]`);
    await hit.waitFor({ timeout: 20_000 });
    expect(await hit.textContent()).toContain('Proof verified');
    await hit.locator('button[data-action="report"]').click();
    await page.selectOption('#report-format', 'siena');
    expect(await page.locator('#report-case').count()).toBe(0);
    await page.fill('#report-legal-basis', 'Framework Decision 2006/960/JHA, Art. 3');
    await page.click('#report-submit');
    await page.locator('#report-view').waitFor({ timeout: 20_000 });
    expect(await page.textContent('#report-title')).toBe('SIENA information request');
    expect(await page.locator('#report-view dd[data-field="Source"]').textContent()).toBe(`Targeted query ${queryId}`);
    const text = await downloadPdf();
    expect(text).toContain('SIENA information request');
    expect(text).toContain('OP-BOREAS-2');
    expect(text).toContain('cybercrime');
    expect(text.includes(email(both[5] as number))).toBe(false);
    await page.click('#report-close');
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('both reports are in the local audit trail, by officer; no script error and no identifier in any URL', async () => {
    const store = openStore(w.dir('ES-CNP'));
    try {
      const e = store.sqlite.prepare("SELECT officer, case_ref AS caseRef FROM audit_log WHERE action = 'report.create' AND outcome = 'ok' ORDER BY seq").all();
      expect(e).toEqual([
        { officer: 'insp.garcia', caseRef: 'OP-ATLAS-7' },
        { officer: 'insp.garcia', caseRef: 'OP-BOREAS-2' },
      ]);
    } finally {
      store.close();
    }
    // The audit page reads both as sentences, and the notes kept with the decisions too.
    await page.click('nav a[href="#/audit"]');
    const reports = page.locator('#audit-table tr[data-action="report.create"] .sentence');
    await reports.first().waitFor({ timeout: 20_000 });
    const said = (await reports.allTextContents()).map((x) => x.replace(/no\. \d+/, 'no. N').replace(/for [A-Z]{2}-[A-Z]+/, 'for P')).sort();
    expect(said).toEqual(['insp.garcia prepared request report no. N for P (case OP-ATLAS-7)', 'insp.garcia prepared request report no. N for P (case OP-BOREAS-2)']);
    const notes = await page.locator('#audit-table tr[data-action="hit.note"] .sentence').allTextContents();
    expect(notes.length).toBeGreaterThan(0);
    for (const n of notes) expect(n).toMatch(/^insp\.garcia kept a note on the decision on match \S+$/);
    expect(errors).toEqual([]);
    const urls = requested.join('\n');
    for (const p of both) for (const v of [email(p), passport(p)]) expect(urls.includes(v)).toBe(false);
    expect(requested.every((u) => u.startsWith(ui.url) || u.startsWith('data:'))).toBe(true);
  });
});
