/*
 * Concordat investigator console — static single-page app (no framework).
 *
 * Stable selectors for browser tests:
 *   Login         #login-officer, #login-password, #login-submit, #login-error
 *   Shell         #logout, #agency-name, #officer-name, #status (aria-live region),
 *                 nav links a[href="#/overview"], a[href="#/matches"], a[href="#/query"],
 *                 a[href="#/audit"], a[href="#/trends"] (the current one has aria-current="page"),
 *                 #page-title (each page's <h1>)
 *   Overview      #coordinator-banner (only when the coordinator is unreachable),
 *                 #awaiting-agreements (only when an agreement version awaits this agency's acceptance),
 *                 #failed-pairs (only when a pair failed), section[data-partner="<id>"],
 *                 tr[data-agreement="<id>"][data-state="<state>"], #failed-runs
 *   Matches       #matches-filters with #filter-partner, #filter-kind, #filter-status, #filter-source,
 *                 #filter-from, #filter-to, #filter-apply, #filter-reset; #matches-stale (stale notice);
 *                 #matches-table, rows tr[data-handle="<handle>"][data-status="<status>"] with
 *                 button[data-action="confirm"] / button[data-action="decline"];
 *                 decision dialog #decision-dialog, #decision-note, #decision-submit, #decision-cancel
 *   Query         #query-form, #query-kind, #query-values, #query-values-count, #query-clear, #query-all,
 *                 input[name="partner"][value="<id>"], #query-purpose, #query-case, #query-country
 *                 (shown for kind "phone" only), #query-submit, #query-busy, #query-error;
 *                 results #query-results with one section[data-leg="<partner>"][data-state="<state>"]
 *                 per partner (state, "Proof verified" / "Proof NOT verified" text, hit count,
 *                 span[data-quota="<partner>"] = queries left today) holding rows
 *                 tr[data-partner="<id>"][data-index="<i>"] with the value as typed and "HIT" (+ handle),
 *                 "no hit", or "pending"/"no answer"; rows also carry data-hit="true|false|unknown"
 *                 (prefer it: Playwright's hasText is case-insensitive, so "no hit" matches "HIT");
 *                 #query-check-again while a partner is pending;
 *                 recent queries #recent-queries, tr[data-query-id="<id>"]
 *   Audit         #audit-filters with #audit-from, #audit-to, #audit-officer, #audit-case,
 *                 #audit-source, #audit-apply; #audit-export (download link);
 *                 #audit-table rows tr[data-action="<action>"][data-source="<source>"]
 *   Trends        #trends-days, figure#chart-overlaps, figure#chart-queries (each with an SVG
 *                 role="img" and a visually hidden data table)
 */
import './styles.css';
import { ApiError, del, errorMessage, onUnauthenticated, request, setCsrf } from './api';
import { announce, clearAnnouncement, h, replaceChildren } from './dom';
import { renderLogin } from './login';
import { renderAudit } from './audit';
import { renderMatches } from './matches';
import { renderOverview } from './overview';
import { notice, type PageRender } from './page';
import { renderQuery } from './query';
import { ROUTES, startRouter, type Route, type RouteName } from './router';
import { renderTrends } from './trends';
import type { Session } from './types';

const PAGES: Record<RouteName, { label: string; render: PageRender }> = {
  overview: { label: 'Overview', render: renderOverview },
  matches: { label: 'Matches', render: renderMatches },
  query: { label: 'Query', render: renderQuery },
  audit: { label: 'Audit', render: renderAudit },
  trends: { label: 'Trends', render: renderTrends },
};

function must<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

const main = must<HTMLElement>('main');
const shell = must<HTMLElement>('shell');

let session: Session | null = null;
let stopRouter: (() => void) | null = null;
let pageAbort: AbortController | null = null;
let firstRender = true;

function showLogin(message: string | null): void {
  stopRouter?.();
  stopRouter = null;
  pageAbort?.abort();
  pageAbort = null;
  session = null;
  setCsrf(null);
  replaceChildren(shell);
  document.body.classList.remove('signed-in');
  // The route stays in the hash so the officer returns to the same page after signing in.
  renderLogin(main, message, startApp);
}

function logout(button: HTMLButtonElement): void {
  button.disabled = true;
  del<void>('/api/session')
    .then(() => {
      clearAnnouncement();
      showLogin('You have signed out.');
    })
    .catch((e: unknown) => {
      button.disabled = false;
      if (e instanceof ApiError && e.status === 401) return; // already routed to the login screen
      announce(`Sign-out failed: ${errorMessage(e)}`, 'error');
    });
}

function renderShell(s: Session): void {
  const logoutBtn = h('button', { id: 'logout', type: 'button', class: 'btn btn-quiet' }, 'Log out');
  logoutBtn.addEventListener('click', () => logout(logoutBtn));
  const nav = h(
    'nav',
    { class: 'app-nav', 'aria-label': 'Main' },
    h(
      'ul',
      null,
      ROUTES.map((r) => h('li', null, h('a', { href: `#/${r}`, 'data-route': r }, PAGES[r].label))),
    ),
  );
  replaceChildren(
    shell,
    h(
      'header',
      { class: 'app-header' },
      h(
        'div',
        { class: 'brand' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
        h('span', { class: 'brand-name' }, 'Concordat'),
        h('span', { class: 'brand-sub' }, 'Investigator console'),
      ),
      h(
        'div',
        { class: 'whoami' },
        h(
          'p',
          null,
          h('span', { class: 'whoami-label' }, 'Agency'),
          h('strong', { id: 'agency-name' }, s.agency.name),
          h('span', { class: 'muted' }, ` (${s.agency.id})`),
        ),
        h(
          'p',
          null,
          h('span', { class: 'whoami-label' }, 'Officer'),
          h('strong', { id: 'officer-name' }, s.officer.name),
          h('span', { class: 'muted' }, ` (${s.officer.id})`),
        ),
        logoutBtn,
      ),
    ),
    nav,
  );
}

function markNav(name: RouteName): void {
  for (const a of shell.querySelectorAll<HTMLAnchorElement>('a[data-route]')) {
    if (a.dataset['route'] === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function renderRoute(route: Route): void {
  if (!session) return;
  clearAnnouncement();
  pageAbort?.abort();
  pageAbort = new AbortController();
  const page = PAGES[route.name];
  const root = h('section', { class: `page page-${route.name}`, 'aria-labelledby': 'page-title' });
  replaceChildren(main, root);
  markNav(route.name);
  document.title = `${page.label} — Concordat`;
  const result = page.render({ root, params: route.params, signal: pageAbort.signal, session, route: route.name });
  if (!firstRender) {
    // Move focus to the new page's heading so keyboard and screen-reader users land on the content.
    root.querySelector<HTMLElement>('#page-title')?.focus();
  }
  firstRender = false;
  if (result instanceof Promise) {
    result.catch((e: unknown) => announce(`Something went wrong: ${errorMessage(e)}`, 'error'));
  }
}

function startApp(s: Session): void {
  clearAnnouncement();
  session = s;
  setCsrf(s.csrf);
  document.body.classList.add('signed-in');
  renderShell(s);
  firstRender = true;
  stopRouter?.();
  stopRouter = startRouter(renderRoute);
}

function boot(): void {
  onUnauthenticated(() => {
    if (session) showLogin('Your session has ended. Sign in again to continue.');
  });
  must<HTMLAnchorElement>('skip-link').addEventListener('click', (ev) => {
    // The hash holds the route, so the skip link moves focus without touching it.
    ev.preventDefault();
    main.focus();
  });
  request<Session>('GET', '/api/session', undefined, { handle401: false })
    .then(startApp)
    .catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 401) {
        showLogin(null);
        return;
      }
      const retry = h('button', { type: 'button', class: 'btn', onclick: () => location.reload() }, 'Try again');
      replaceChildren(main, notice('error', 'The console could not start.', h('p', null, errorMessage(e)), retry));
    });
}

boot();
