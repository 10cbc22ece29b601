// The investigator console in a real browser: Debian's Chromium driven by
// playwright-core against `concordat serve --ui` (the built CLI, as
// operators run it), with the real coordinator and PT-PJ's responder.
// An officer created with `concordat officers add` logs in with the
// keyboard, sees last night's planted overlaps, confirms one, runs a query
// that hits and one that does not, and finds both in the audit page and its
// JSON Lines export. Along the way: no CSP violation, no identifier in any
// URL the browser requested or in the server's output, every form control
// labelled, and no horizontal page scroll at 200% zoom.
//
// Screenshots go to a temporary directory; to refresh the README's:
//   CONCORDAT_SCREENSHOT_DIR=docs npx vitest run test/console-browser.test.ts
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, built, email, passport, range, World, type ServeProcess } from './client-world.js';

/** The browser: $CONCORDAT_CHROMIUM, else Debian's Chromium (scripts/ensure-chromium.sh installs it before `npm test`). */
const CHROMIUM = process.env.CONCORDAT_CHROMIUM || '/usr/bin/chromium';
/** Flags for Chromium on a machine with no outside network (see .ci/run). */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PASSWORD = 'correct horse battery staple';
const both = range(900_000, 6);
const shots = resolve(process.env.CONCORDAT_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'concordat-shots-')));

let w: World;
let esServe: ServeProcess;
let url: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requested: string[] = [];
const consoleErrors: string[] = [];

function officersAdd(dir: string, id: string, name: string, password: string): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, 'officers', 'add', '--dir', dir, '--id', id, '--name', name, '--password-stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => done({ code, out }));
    child.stdin.end(`${password}\n`);
  });
}

async function go(route: string, ready: string): Promise<void> {
  await page.click(`nav a[href="#/${route}"]`);
  await page.locator(ready).first().waitFor({ timeout: 30_000 });
}

/** Every input, select and textarea on the page has a label (or an aria-label). */
async function unlabelled(): Promise<string[]> {
  // A string so the test's own TypeScript needs no DOM types.
  return page.evaluate(`[...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.type !== 'hidden')
    .filter((el) => (el.labels ? el.labels.length : 0) === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 120))`);
}

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build` (npm test builds first)');
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's chromium (sudo apt-get install chromium; \`npm test\` does it first when it can, scripts/ensure-chromium.sh) ` +
        'or point CONCORDAT_CHROMIUM at a Chromium or Chrome binary',
    );
  }
  mkdirSync(shots, { recursive: true });
  w = await World.start();
  await w.agency('ES-CNP', 'ESP', [...range(100_000, 60), ...both]);
  await w.agency('PT-PJ', 'PRT', [...range(200_000, 40), ...both]);
  await w.agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], purposes: ['terrorism', 'cybercrime'] });
  await w.syncAll();
  const added = await officersAdd(w.dir('ES-CNP'), 'insp.garcia', 'Inspector García', PASSWORD);
  expect(added.code, added.out).toBe(0);
  w.serve('PT-PJ');
  esServe = w.serve('ES-CNP', ['--sync-every', '0', '--ui', '--ui-port', '0']);
  await esServe.waitFor(/investigator console on http:\/\/127\.0\.0\.1:\d+\//);
  url = (/investigator console on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(esServe.out) as RegExpExecArray)[1] as string;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('request', (r) => requested.push(r.url()));
  page.on('console', (m) => {
    // The 401 of the first GET /api/session (not logged in yet) is how the page finds out it must show the login form.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await w?.stop();
});

describe('investigator console in Chromium', () => {
  it('logs in with the keyboard', async () => {
    await page.goto(url);
    await page.locator('#login-officer').waitFor();
    expect(await unlabelled()).toEqual([]);
    await page.focus('#login-officer');
    await page.keyboard.type('insp.garcia');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.locator('#officer-name').waitFor({ timeout: 20_000 });
    expect(await page.textContent('#officer-name')).toContain('Inspector García');
    // The session cookie is HttpOnly: the page's script cannot read it.
    expect(await page.evaluate('document.cookie')).toBe('');
    const cookie = (await context.cookies()).find((c) => c.name === 'concordat_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  });

  it('overview shows the partner and the complete pair', async () => {
    await page.locator('tr[data-agreement="es-pt"][data-state="complete"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('section[data-partner="PT-PJ"]').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'console-overview.png'), fullPage: true });
  });

  it("matches lists last night's planted overlaps, one row per person; an officer confirms one with a note", async () => {
    await go('matches', '#worklist-table tr[data-key]');
    const rows = page.locator('#worklist-table tr[data-key]');
    expect(await rows.count()).toBe(both.length);
    const text = await page.textContent('#worklist-table');
    for (const p of both) expect(text).toContain(`ES-CNP-${p}`);
    expect(await unlabelled()).toEqual([]);

    const key = (await rows.first().getAttribute('data-key')) as string;
    await rows.first().locator('button[data-action="confirm"]').click();
    await page.locator('#decision-note').fill('Same person: photo and date of birth checked.');
    await page.click('#decision-submit');
    const row = page.locator(`#worklist-table tr[data-key="${key}"]`);
    await expect.poll(async () => row.getAttribute('data-my-status'), { timeout: 20_000 }).toBe('confirmed');
    await page.screenshot({ path: join(shots, 'console-matches.png'), fullPage: true });
  });

  it('a query that hits and one that does not, each with a verified proof', async () => {
    await go('query', '#query-form');
    expect(await unlabelled()).toEqual([]);
    await page.selectOption('#query-kind', 'email');
    await page.fill('#query-values', `${email(both[2] as number)}\n`);
    await page.check('input[name="partner"][value="PT-PJ"]');
    await page.selectOption('#query-purpose', 'terrorism');
    await page.fill('#query-case', 'OP-ATLAS-7');
    await page.click('#query-submit');
    const hit = page.locator('tr[data-partner="PT-PJ"][data-index="0"]');
    await hit.waitFor({ timeout: 40_000 });
    expect(await hit.getAttribute('data-hit')).toBe('true');
    expect(await hit.textContent()).toContain('HIT');
    expect(await page.textContent('section[data-leg="PT-PJ"]')).toContain('Proof verified');
    await page.screenshot({ path: join(shots, 'console-query.png'), fullPage: true });

    await page.selectOption('#query-kind', 'passport');
    await page.fill('#query-values', passport(777_777));
    await page.check('input[name="partner"][value="PT-PJ"]');
    await page.selectOption('#query-purpose', 'cybercrime');
    await page.fill('#query-case', 'OP-BOREAS-2');
    await page.click('#query-submit');
    await expect.poll(async () => page.locator('tr[data-partner="PT-PJ"][data-index="0"]').getAttribute('data-hit'), { timeout: 40_000 }).toBe('false');
    expect(await page.locator('tr[data-partner="PT-PJ"][data-index="0"]').textContent()).toMatch(/no hit/i);
    expect(await page.textContent('section[data-leg="PT-PJ"]')).toContain('Proof verified');
  });

  it('the audit page and its JSON Lines export show both queries and the confirmation, by officer', async () => {
    await go('audit', '#audit-table tr[data-action]');
    expect(await unlabelled()).toEqual([]);
    const table = (await page.textContent('#audit-table')) ?? '';
    expect(table).toContain('OP-ATLAS-7');
    expect(table).toContain('OP-BOREAS-2');
    expect(await page.locator('#audit-table tr[data-action="query.create"][data-source="local"]').count()).toBe(2);
    // One confirmation per identifier of the person (e-mail and passport).
    expect(await page.locator('#audit-table tr[data-action="hit.confirm"]').count()).toBe(2);
    await page.screenshot({ path: join(shots, 'console-audit.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-export')]);
    const file = await download.path();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { source: string; action: string; officer: string | null; caseRef: string | null });
    const created = lines.filter((l) => l.source === 'local' && l.action === 'query.create');
    expect(created.map((l) => l.caseRef).sort()).toEqual(['OP-ATLAS-7', 'OP-BOREAS-2']);
    expect(created.every((l) => l.officer === 'insp.garcia')).toBe(true);
    expect(lines.some((l) => l.source === 'coordinator' && l.action === 'query.created' && l.caseRef === 'OP-ATLAS-7' && l.officer === 'insp.garcia')).toBe(true);
    expect(lines.some((l) => l.action === 'hit.confirm' && l.officer === 'insp.garcia')).toBe(true);
  });

  it('trends draws both charts as SVG', async () => {
    await go('trends', 'figure#chart-overlaps svg');
    expect(await page.locator('figure#chart-queries svg').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'console-trends.png'), fullPage: true });
  });

  it('stays readable at 200% zoom: no horizontal page scroll', async () => {
    await page.setViewportSize({ width: 640, height: 900 });
    for (const [route, ready] of [
      ['matches', '#worklist-table tr[data-key]'],
      ['query', '#query-form'],
      ['audit', '#audit-table tr[data-action]'],
      ['overview', 'tr[data-agreement="es-pt"]'],
    ] as const) {
      await go(route, ready);
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
      expect(overflow, `#/${route} scrolls sideways at 640 px`).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('no CSP violation or script error, and no identifier in any URL or server output', async () => {
    expect(consoleErrors).toEqual([]);
    const planted = [...both.flatMap((p) => [email(p), passport(p)]), passport(777_777)];
    const haystack = `${requested.join('\n')}\n${esServe.out}\n${esServe.err}`;
    // Query values travel in POST bodies: the query routes never carry a query string.
    const queryUrls = requested.filter((u) => u.includes('/api/queries'));
    expect(queryUrls.length).toBeGreaterThan(0);
    expect(queryUrls.every((u) => !u.includes('?'))).toBe(true);
    for (const v of planted) expect(haystack.includes(v), 'a planted identifier leaked').toBe(false);
    expect(requested.every((u) => u.startsWith(url) || u.startsWith('data:'))).toBe(true);
  });

  it('logout returns to the login form and the API refuses the old session', async () => {
    await page.click('#logout');
    await page.locator('#login-officer').waitFor();
    const status = await page.evaluate("fetch('/api/overview').then((r) => r.status)");
    expect(status).toBe(401);
  });
});
