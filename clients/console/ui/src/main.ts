/*
 * Concordat investigator console — static single-page app (no framework).
 *
 * Stable selectors for browser tests:
 *   Login         #login-officer, #login-password, #login-submit, #login-error
 *   Shell         #logout, #agency-name, #officer-name, #language (the officer's language), #status (aria-live region),
 *                 #session-warning (shown before an idle session ends, with #session-stay),
 *                 nav links a[href="#/overview"], a[href="#/matches"], a[href="#/query"],
 *                 a[href="#/audit"], a[href="#/trends"] (the current one has aria-current="page"),
 *                 #page-title (each page's <h1>)
 *   Overview      #coordinator-banner (only when the coordinator is unreachable),
 *                 #awaiting-agreements (only when an agreement version awaits this agency's acceptance),
 *                 #failed-pairs (only when a pair failed), section[data-partner="<id>"],
 *                 tr[data-agreement="<id>"][data-state="<state>"], #failed-runs
 *   Matches       #worklist-filters with #wl-status, #wl-partner, #wl-kind, #wl-case, #wl-sort, #wl-limit,
 *                 #wl-group, #wl-apply, #wl-reset; #wl-summary (#wl-awaiting, #wl-stale); bulk bar #wl-bulk with
 *                 #wl-select-all, #wl-selected, #wl-bulk-confirm, #wl-bulk-decline; #wl-banner (bulk result);
 *                 #worklist-table, tbody[data-case], rows tr[data-key="<partner>/<record>"][data-my-status=
 *                 "awaiting|confirmed|declined"][data-record][data-partner] with input[data-select],
 *                 .wl-strength[data-strength="m/n"], details.wl-more (li[data-history] with .wl-note),
 *                 button[data-action="confirm|decline|report"], .wl-row-result (a row decision's result);
 *                 pager #wl-prev, #wl-page, #wl-next; decision dialog #decision-dialog, #decision-note,
 *                 #decision-submit, #decision-cancel; query hits #requested-table tr[data-handle][data-query-id];
 *                 report dialog #report-dialog, #report-format, #report-legal-basis, #report-case,
 *                 #report-purpose, #report-submit, then #report-done, #report-view (dd[data-field]),
 *                 #report-print, #report-pdf (download link); nav count #nav-awaiting
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
import { ApiError, del, errorMessage, get, onUnauthenticated, post, request, setCsrf } from './api';
import { announce, clearAnnouncement, h, replaceChildren } from './dom';
import { isLanguage, LANGUAGE_NAMES, LANGUAGES, onLanguageChange, setLanguage, t, type Key } from './i18n';
import { renderLogin, watchSession } from './login';
import { renderAudit } from './audit';
import { AWAITING_EVENT, renderMatches } from './matches';
import { renderOverview } from './overview';
import { notice, type PageRender } from './page';
import { renderQuery } from './query';
import { ROUTES, startRouter, type Route, type RouteName } from './router';
import { renderTrends } from './trends';
import type { Language, Preferences, Session, Worklist } from './types';

const PAGES: Record<RouteName, { label: Key; render: PageRender }> = {
  overview: { label: 'nav.overview', render: renderOverview },
  matches: { label: 'nav.matches', render: renderMatches },
  query: { label: 'nav.query', render: renderQuery },
  audit: { label: 'nav.audit', render: renderAudit },
  trends: { label: 'nav.trends', render: renderTrends },
};

/** Before the officer's own choice is known (the login screen), the browser's language if the console has it. */
const browserLanguage = (navigator.language || 'en').slice(0, 2).toLowerCase();
if (isLanguage(browserLanguage)) setLanguage(browserLanguage);

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
let stopSessionWatch: (() => void) | null = null;
let currentRoute: Route | null = null;

function showLogin(message: string | null): void {
  stopRouter?.();
  stopRouter = null;
  pageAbort?.abort();
  pageAbort = null;
  session = null;
  stopSessionWatch?.();
  stopSessionWatch = null;
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
      showLogin(t('shell.signedOut'));
    })
    .catch((e: unknown) => {
      button.disabled = false;
      if (e instanceof ApiError && e.status === 401) return; // already routed to the login screen
      announce(t('common.error', { msg: errorMessage(e) }), 'error');
    });
}

function chooseLanguage(select: HTMLSelectElement): void {
  const l = select.value;
  if (!isLanguage(l) || !session) return;
  const previous = session.preferences.language;
  select.disabled = true;
  // Kept with the officer's preferences on the server, so it follows the officer to another browser.
  post<Preferences>('/api/preferences', { language: l })
    .then((p) => {
      if (session) session.preferences = p;
      setLanguage(p.language);
      announce(t('shell.languageSaved'), 'ok');
    })
    .catch((e: unknown) => {
      select.value = previous;
      announce(t('common.error', { msg: errorMessage(e) }), 'error');
    })
    .finally(() => {
      select.disabled = false;
    });
}

function languageSelect(current: Language): HTMLElement {
  const select = h(
    'select',
    { id: 'language', class: 'lang-select' },
    LANGUAGES.map((l) => h('option', { value: l, lang: l, selected: l === current }, LANGUAGE_NAMES[l])),
  );
  select.value = current;
  select.addEventListener('change', () => chooseLanguage(select));
  return h('p', { class: 'lang' }, h('label', { for: 'language', class: 'whoami-label' }, t('shell.language')), select);
}

function renderShell(s: Session): void {
  const logoutBtn = h('button', { id: 'logout', type: 'button', class: 'btn btn-quiet' }, t('shell.logout'));
  logoutBtn.addEventListener('click', () => logout(logoutBtn));
  const nav = h(
    'nav',
    { class: 'app-nav', 'aria-label': t('nav.main') },
    h(
      'ul',
      null,
      ROUTES.map((r) => h('li', null, h('a', { href: `#/${r}`, 'data-route': r }, t(PAGES[r].label), r === 'matches' ? awaitingBadge() : null))),
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
        h('span', { class: 'brand-sub' }, t('shell.sub')),
      ),
      h(
        'div',
        { class: 'whoami' },
        h(
          'p',
          null,
          h('span', { class: 'whoami-label' }, t('shell.agency')),
          h('strong', { id: 'agency-name' }, s.agency.name),
          h('span', { class: 'muted' }, ` (${s.agency.id})`),
        ),
        h(
          'p',
          null,
          h('span', { class: 'whoami-label' }, t('shell.officer')),
          h('strong', { id: 'officer-name' }, s.officer.name),
          h('span', { class: 'muted' }, ` (${s.officer.id})`),
        ),
        languageSelect(s.preferences.language),
        logoutBtn,
      ),
    ),
    nav,
  );
  if (currentRoute) markNav(currentRoute.name);
}

function markNav(name: RouteName): void {
  for (const a of shell.querySelectorAll<HTMLAnchorElement>('a[data-route]')) {
    if (a.dataset['route'] === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function renderRoute(route: Route): void {
  if (!session) return;
  currentRoute = route;
  clearAnnouncement();
  pageAbort?.abort();
  pageAbort = new AbortController();
  const page = PAGES[route.name];
  const root = h('section', { class: `page page-${route.name}`, 'aria-labelledby': 'page-title' });
  replaceChildren(main, root);
  markNav(route.name);
  document.title = `${t(page.label)} — Concordat`;
  const result = page.render({ root, params: route.params, signal: pageAbort.signal, session, route: route.name });
  if (!firstRender) {
    // Move focus to the new page's heading so keyboard and screen-reader users land on the content.
    root.querySelector<HTMLElement>('#page-title')?.focus();
  }
  firstRender = false;
  if (result instanceof Promise) {
    result.catch((e: unknown) => announce(t('common.error', { msg: errorMessage(e) }), 'error'));
  }
}

// People awaiting the officer's decision, beside "Matches" (the worklist reports each new count).
let awaiting: number | null = null;
function awaitingBadge(): HTMLElement {
  return h('span', { id: 'nav-awaiting', class: 'nav-count', hidden: !awaiting }, awaiting ? String(awaiting) : '', h('span', { class: 'visually-hidden' }, ' awaiting your decision'));
}
function setAwaiting(n: number): void {
  awaiting = n;
  document.getElementById('nav-awaiting')?.replaceWith(awaitingBadge());
}

function startApp(s: Session): void {
  clearAnnouncement();
  session = s;
  setCsrf(s.csrf);
  setLanguage(s.preferences.language);
  document.body.classList.add('signed-in');
  renderShell(s);
  get<Worklist>('/api/worklist?limit=1').then((l) => setAwaiting(l.awaiting), () => {});
  stopSessionWatch?.();
  stopSessionWatch = watchSession(s.idleTimeoutSeconds);
  firstRender = true;
  stopRouter?.();
  stopRouter = startRouter(renderRoute);
}

function boot(): void {
  window.addEventListener(AWAITING_EVENT, (ev) => {
    if (ev instanceof CustomEvent && typeof ev.detail === 'number') setAwaiting(ev.detail);
  });
  onUnauthenticated(() => {
    if (session) showLogin(t('shell.sessionEnded'));
  });
  // A new language redraws the shell and the page in it (the page's filters are in the hash, its form in memory).
  onLanguageChange(() => {
    if (!session) return;
    renderShell(session);
    if (currentRoute) renderRoute(currentRoute);
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
      const retry = h('button', { type: 'button', class: 'btn', onclick: () => location.reload() }, t('common.tryAgain'));
      replaceChildren(main, notice('error', 'The console could not start.', h('p', null, errorMessage(e)), retry));
    });
}

boot();
