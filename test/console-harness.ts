// What the console's Chromium tests share: the browser binary and its flags,
// adding an officer with the built CLI, logging in, the labelled-controls and
// axe-core checks, and reading the text a PDF draws.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import { PDFArray, PDFDocument, PDFName, PDFRawStream, type PDFObject } from 'pdf-lib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bin, built } from './client-world.js';

/** The browser: $CONCORDAT_CHROMIUM, else Debian's Chromium (scripts/ensure-chromium.sh installs it before `npm test`). */
export const CHROMIUM = process.env.CONCORDAT_CHROMIUM || '/usr/bin/chromium';
/** Flags for Chromium on a machine with no outside network (see .ci/run). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const PASSWORD = 'correct horse battery staple';

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
