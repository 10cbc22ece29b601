import { locale } from './i18n';

// Tiny DOM helpers. Everything is built with createElement and textContent so
// server data can never become markup, and no style attribute is ever written
// (the CSP has no 'unsafe-inline' for styles).

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type AttrValue = string | number | boolean | null | undefined;
export type Attrs = Record<string, AttrValue | EventListener | ((ev: never) => void)>;

function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(String(c)));
  }
}

function applyAttrs(el: Element, attrs: Attrs | null | undefined): void {
  if (!attrs) return;
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'style') throw new Error('inline styles are not allowed under the console CSP');
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value as EventListener);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else if (value !== false && value !== null && value !== undefined && typeof value !== 'function') {
      el.setAttribute(name, String(value));
    }
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A horizontally scrollable, keyboard-focusable wrapper so wide tables never break the layout at high zoom. */
export function tableWrap(label: string, table: HTMLTableElement): HTMLDivElement {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: 0 }, table);
}

export function th(text: string, scope: 'col' | 'row' = 'col', attrs?: Attrs): HTMLTableCellElement {
  return h('th', { scope, ...attrs }, text);
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral';

/** Status badges always carry their meaning in text; the colour only repeats it. */
export function badge(text: string, tone: Tone, extra?: Attrs): HTMLSpanElement {
  const glyph = tone === 'ok' ? '✓ ' : tone === 'bad' ? '✗ ' : tone === 'warn' ? '! ' : '';
  return h('span', { class: `badge badge-${tone}`, ...extra }, h('span', { 'aria-hidden': 'true' }, glyph), text);
}

/** A badge for a state from a table of labels and tones; a state the table does not know shows as itself. */
export function stateBadge<K extends string>(table: Partial<Record<K, { label: string; tone: Tone }>>, state: K): HTMLSpanElement {
  const d = table[state] ?? { label: state, tone: 'neutral' as Tone };
  return badge(d.label, d.tone);
}

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function parseTime(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The instant in UTC to the second, as the API, the partners and the audit logs give it. */
export function fmtUtc(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = parseTime(iso);
  if (!d) return iso;
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC`;
}

/** The officer's local date and time, in the officer's language (Intl.DateTimeFormat). */
export function fmtTime(iso: string | null | undefined, o: { seconds?: boolean } = {}): string {
  if (!iso) return '—';
  const d = parseTime(iso);
  if (!d) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: o.seconds ? 'medium' : 'short' }).format(d);
}

/** A calendar date (YYYY-MM-DD, no time of day) in the officer's locale. */
export function fmtDate(date: string): string {
  const d = parseTime(`${date.slice(0, 10)}T00:00:00Z`);
  if (!d) return date;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

/** Local time in the text, UTC on hover (title) and in `datetime`. */
export function timeEl(iso: string | null | undefined, o: { seconds?: boolean } = {}): HTMLElement {
  if (!iso) return h('span', null, '—');
  return h('time', { datetime: iso, title: fmtUtc(iso) }, fmtTime(iso, o));
}

/** "in 5 minutes", "hace 2 horas": Intl.RelativeTimeFormat in the officer's language. */
export function relative(iso: string, now = Date.now()): string {
  const d = parseTime(iso);
  if (!d) return '';
  const diff = d.getTime() - now;
  const mins = Math.round(diff / 60_000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  if (Math.abs(mins) < 90) return rtf.format(mins, 'minute');
  if (Math.abs(mins) < 48 * 60) return rtf.format(Math.round(mins / 60), 'hour');
  return rtf.format(Math.round(mins / 1440), 'day');
}

export function fmtNum(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return n.toLocaleString(locale());
}

export function todayUtc(): string {
  const d = new Date();
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** Turns `drug_trafficking` into `drug trafficking` for display; the raw value stays in option values. */
export function humanise(slug: string): string {
  return slug.replace(/_/g, ' ');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmtNum(n)} ${n === 1 ? one : many}`;
}

const statusEl = (): HTMLElement | null => document.getElementById('status');
let clearTimer: number | undefined;
let showTimer: number | undefined;

/** Writes to the page's single aria-live="polite" region. */
export function announce(message: string, tone: 'info' | 'ok' | 'error' = 'info'): void {
  const el = statusEl();
  if (!el) return;
  window.clearTimeout(clearTimer);
  window.clearTimeout(showTimer);
  el.className = `status-region status-${tone}`;
  // Emptying first makes screen readers announce a repeated identical message.
  el.textContent = '';
  showTimer = window.setTimeout(() => {
    el.textContent = message;
  }, 30);
  if (tone !== 'error') {
    clearTimer = window.setTimeout(() => {
      el.textContent = '';
    }, 10_000);
  }
}

export function clearAnnouncement(): void {
  const el = statusEl();
  window.clearTimeout(clearTimer);
  window.clearTimeout(showTimer);
  if (el) el.textContent = '';
}
