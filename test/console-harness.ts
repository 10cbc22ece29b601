// What the console's tests share: the console server in this process, test
// officers, calls to its API with a session, the browser binary and its
// flags, adding an officer with the built CLI, logging in, the
// labelled-controls and axe-core checks, and reading the text a PDF draws.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import { PDFArray, PDFDocument, PDFName, PDFRawStream, type PDFObject } from 'pdf-lib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadEngine } from '../protocol/engine/index.js';
import type { Agency } from '../clients/agency/config.js';
import { addOfficer } from '../clients/agency/officers.js';
import { startConsole, type ConsoleServer, type ConsoleServerOptions } from '../clients/console/server.js';
import { agencyClient } from '../clients/sdk/agency-client.js';
import { openStore } from '../clients/store/db.js';
import { bin, built } from './client-world.js';

/** The browser: $CONCORDAT_CHROMIUM, else Debian's Chromium (scripts/ensure-chromium.sh installs it before `npm test`). */
export const CHROMIUM = process.env.CONCORDAT_CHROMIUM || '/usr/bin/chromium';
/** Flags for Chromium on a machine with no outside network (see .ci/run). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const PASSWORD = 'correct horse battery staple';

/** Cheaper scrypt for test officers; the parameters travel inside the hash. */
export const FAST_SCRYPT = { N: 2 ** 12, r: 8, p: 1 };

/** Adds an officer straight to the agency's store (the CLI path is {@link officersAdd}). */
export async function addTestOfficer(dir: string, id: string, name: string, password: string = PASSWORD): Promise<void> {
  const store = openStore(dir);
  try {
    await addOfficer(store, { id, name, password, params: FAST_SCRYPT });
  } finally {
    store.close();
  }
}

export interface TestConsole {
  url: string;
  ui: ConsoleServer;
  /** The console's request and warning lines. */
  logs: string[];
}

/** The agency's console in this process, on a free port, with the fast engine. */
export async function startTestConsole(agency: Agency, extra: Partial<ConsoleServerOptions> = {}): Promise<TestConsole> {
  const logs: string[] = [];
  const ui = await startConsole({
    agency,
    client: agencyClient(agency, { retries: 1, timeoutMs: 30_000, label: 'console' }),
    engine: await loadEngine('fast'),
    port: 0,
    log: (l) => logs.push(l),
    warn: (l) => logs.push(l),
    ...extra,
  });
  return { url: ui.url, ui, logs };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: string;
  bytes: Uint8Array;
  json: () => any;
}

/** One call to the console's API; the CSRF token only when given. */
export async function api(
  base: string,
  path: string,
  o: { method?: string; body?: unknown; cookie?: string; csrf?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.cookie) headers.cookie = o.cookie;
  if (o.csrf) headers['x-csrf-token'] = o.csrf;
  if (o.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, base), {
    method: o.method ?? 'GET',
    headers,
    ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const body = Buffer.from(bytes).toString('utf8');
  return { status: res.status, headers: res.headers, body, bytes, json: () => JSON.parse(body) };
}

/** Logs in through the API: the session cookie and the CSRF token. */
export async function apiLogin(base: string, officer: string, password: string = PASSWORD): Promise<{ cookie: string; csrf: string; res: ApiResponse }> {
  const res = await api(base, '/api/session', { method: 'POST', body: { officer, password } });
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { cookie, csrf: res.status === 200 ? (res.json() as { csrf: string }).csrf : '', res };
}

/** Fails early, saying what to do, when the build output or the browser is missing. */
export function requireBrowserSetup(): void {
  if (!built) throw new Error('the build output is missing: run `npm run build` (npm test builds first)');
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's chromium (sudo apt-get install chromium; \`npm test\` does it first when it can, scripts/ensure-chromium.sh) ` +
        'or point CONCORDAT_CHROMIUM at a Chromium or Chrome binary',
    );
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** `concordat officers add` with the built CLI, the password on stdin. */
export function officersAdd(dir: string, id: string, name: string, password: string = PASSWORD): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, 'officers', 'add', '--dir', dir, '--id', id, '--name', name, '--password-stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => done({ code, out }));
    child.stdin.end(`${password}\n`);
  });
}

/** Logs in through the login form and waits for the shell. */
export async function loginAs(page: Page, url: string, officer: string, password: string = PASSWORD): Promise<void> {
  await page.goto(url);
  await page.locator('#login-officer').waitFor();
  await page.fill('#login-officer', officer);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.locator('#officer-name').waitFor({ timeout: 20_000 });
}

/** Every input, select and textarea on the page has a label (or an aria-label). */
export async function unlabelled(page: Page): Promise<string[]> {
  // A string so the test's own TypeScript needs no DOM types.
  return page.evaluate(`[...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.type !== 'hidden')
    .filter((el) => (el.labels ? el.labels.length : 0) === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 120))`);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core's violations on the current page. The console's CSP admits no
 * script element, so axe is evaluated through the DevTools protocol.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact ?? null, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
  })))`);
}

/** The serious and critical ones only. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  return (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

function streamBytes(s: PDFRawStream): Uint8Array {
  const filter = s.dict.get(PDFName.of('Filter'));
  const bytes = s.getContents();
  if (filter === undefined) return bytes;
  if (filter === PDFName.of('FlateDecode') || (filter instanceof PDFArray && filter.size() === 1 && filter.get(0) === PDFName.of('FlateDecode'))) {
    return inflateSync(bytes);
  }
  throw new Error(`unexpected stream filter ${String(filter)}`);
}

/**
 * The text a PDF's pages draw with Tj/TJ, one string per show operator, in
 * drawing order: literal and hexadecimal strings decoded byte for byte
 * (WinAnsi, as pdf-lib's standard fonts encode). Enough for the documents
 * the console writes; not a general extractor.
 */
export async function pdfText(bytes: Uint8Array): Promise<string[]> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false });
  const out: string[] = [];
  for (const p of doc.getPages()) {
    const contents = p.node.get(PDFName.of('Contents'));
    const refs: PDFObject[] = contents instanceof PDFArray ? contents.asArray() : contents ? [contents] : [];
    for (const ref of refs) {
      const s = doc.context.lookup(ref);
      if (!(s instanceof PDFRawStream)) continue;
      const ops = Buffer.from(streamBytes(s)).toString('latin1');
      for (const m of ops.matchAll(/<([0-9A-Fa-f\s]*)>\s*Tj|\(((?:\\.|[^\\)])*)\)\s*Tj/g)) {
        if (m[1] !== undefined) out.push(Buffer.from(m[1].replace(/\s+/g, ''), 'hex').toString('latin1'));
        else out.push((m[2] ?? '').replace(/\\(.)/g, '$1'));
      }
    }
  }
  return out;
}
