// Matches: the investigator's worklist. One row per person (a local record)
// and partner, what still needs this officer's decision first; filters,
// sort and paging are the server's (GET /api/worklist), decisions act on a
// row or on every selected row with one note. Below it, the hits of this
// agency's own queries. A confirmed match or a query hit leads to a request
// report (report.ts).
import './worklist.css';
import { ApiError, errorMessage, get, post, withQuery } from './api';
import { announce, h, humanise, replaceChildren, stateBadge, tableWrap, th, timeEl, type Tone } from './dom';
import { t, tn } from './i18n';
import { emptyState, loading, notice, pageHeader, showLoadError, type PageContext } from './page';
import { openReportDialog, type ReportTarget } from './report';
import { replaceParams } from './router';
import type { MatchStatus, RequestedHit, RequestedHitList, WorkDecisionReply, WorkHistoryEntry, Worklist, WorkRow, WorkStatus } from './types';

const NOTE_MAX = 500;
const FILTERS = ['status', 'partner', 'kind', 'case', 'sort', 'dir', 'group', 'limit', 'offset'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;
/** Fired on window whenever the number of rows awaiting a decision is known anew (main.ts shows it in the navigation). */
export const AWAITING_EVENT = 'concordat:awaiting';

// Functions, not constants: the labels follow the language chosen after the module loaded.
const MINE = (): Record<WorkStatus, { label: string; tone: Tone }> => ({
  awaiting: { label: t('m.mine.awaiting'), tone: 'warn' },
  confirmed: { label: t('m.mine.confirmed'), tone: 'ok' },
  declined: { label: t('m.mine.declined'), tone: 'bad' },
});
const SIDE = (): Record<MatchStatus, string> => ({ unverified: t('m.side.unverified'), confirmed: t('m.side.confirmed'), declined: t('m.side.declined') });
const OVERALL = (): Record<MatchStatus, { label: string; tone: Tone }> => ({
  unverified: { label: t('m.all.unverified'), tone: 'warn' },
  confirmed: { label: t('m.all.confirmed'), tone: 'ok' },
  declined: { label: t('m.all.declined'), tone: 'bad' },
});
const SORTS = (): Array<[string, string]> => [
  ['firstSeen:desc', t('m.sort.newest')],
  ['firstSeen:asc', t('m.sort.oldest')],
  ['lastSeen:desc', t('m.sort.latest')],
  ['record:asc', t('m.sort.record')],
  ['partner:asc', t('m.sort.partner')],
  ['strength:desc', t('m.sort.strongest')],
  ['strength:asc', t('m.sort.weakest')],
];
const LIMITS = ['10', '25', '50', '100'];

function fillSelect(select: HTMLSelectElement, options: ReadonlyArray<readonly [string, string]>, current: string | undefined): void {
  const values = new Set(options.map(([v]) => v));
  const all = current && !values.has(current) ? [...options, [current, current] as const] : options;
  replaceChildren(select, all.map(([v, l]) => h('option', { value: v }, l)));
  select.value = current ?? '';
}

function readFilters(params: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of FILTERS) {
    const v = params.get(k)?.trim();
    if (v) f[k] = v;
  }
  return f;
}

const strengthText = (r: WorkRow): string =>
  `${tn('m.strength', r.strength.of, { matched: r.strength.matched })}${r.candidate ? t('m.candidate') : ''}`;
const sideText = (s: MatchStatus | null): string => (s === null ? t('m.side.unverified') : SIDE()[s]);

export function renderMatches(ctx: PageContext): void {
  let filters = readFilters(ctx.params);
  let list: Worklist | null = null;
  const selected = new Set<string>();

  const statusSel = h('select', { id: 'wl-status' });
  const partnerSel = h('select', { id: 'wl-partner' });
  const kindSel = h('select', { id: 'wl-kind' });
  const caseIn = h('input', { id: 'wl-case', type: 'text', maxlength: 100, autocomplete: 'off', value: filters.case, 'aria-describedby': 'wl-case-help' });
  const sortSel = h('select', { id: 'wl-sort' });
  const limitSel = h('select', { id: 'wl-limit' });
  const groupBox = h('input', { id: 'wl-group', type: 'checkbox' });
  groupBox.checked = filters.group !== 'none';
  const mine = MINE();
  fillSelect(statusSel, [...(Object.keys(mine) as WorkStatus[]).map((k) => [k, mine[k].label] as const), ['any', t('m.anyDecision')]], filters.status ?? 'awaiting');
  fillSelect(sortSel, SORTS(), `${filters.sort ?? 'firstSeen'}:${filters.dir ?? (filters.sort === 'record' || filters.sort === 'partner' ? 'asc' : 'desc')}`);
  fillSelect(limitSel, LIMITS.map((l) => [l, t('m.perPage', { n: l })] as const), filters.limit ?? '25');
  const setChoices = (partners: string[], kinds: string[]): void => {
    fillSelect(partnerSel, [['', t('m.allPartners')], ...partners.map((p) => [p, p] as const)], filters.partner);
    fillSelect(kindSel, [['', t('m.allKinds')], ...kinds.map((k) => [k, humanise(k)] as const)], filters.kind);
  };
  setChoices([], []);

  const field = (id: string, label: string, control: HTMLElement, help?: string): HTMLElement =>
    h('div', { class: 'field' }, h('label', { for: id }, label), control, help ? h('p', { class: 'help', id: `${id}-help` }, help) : null);
  const form = h(
    'form',
    { id: 'worklist-filters', class: 'filters', 'aria-label': t('m.filters') },
    field('wl-status', t('m.f.decision'), statusSel),
    field('wl-partner', t('m.f.partner'), partnerSel),
    field('wl-kind', t('m.f.kind'), kindSel),
    field('wl-case', t('m.f.case'), caseIn, t('m.f.caseHelp')),
    field('wl-sort', t('m.f.sort'), sortSel),
    field('wl-limit', t('m.f.rows'), limitSel),
    h('div', { class: 'field field-check' }, groupBox, h('label', { for: 'wl-group' }, t('m.f.group'))),
    h(
      'div',
      { class: 'filter-actions' },
      h('button', { id: 'wl-apply', type: 'submit', class: 'btn btn-primary' }, t('m.apply')),
      h('button', { id: 'wl-reset', type: 'button', class: 'btn btn-quiet' }, t('common.reset')),
    ),
  );

  const summary = h('p', { id: 'wl-summary', class: 'wl-summary' });
  const selectAll = h('input', { id: 'wl-select-all', type: 'checkbox' });
  const selectedCount = h('span', { id: 'wl-selected', class: 'muted small', 'aria-live': 'polite' }, t('m.selected', { n: 0 }));
  const bulkConfirm = h('button', { id: 'wl-bulk-confirm', type: 'button', class: 'btn btn-small', disabled: true }, t('m.bulkConfirm'));
  const bulkDecline = h('button', { id: 'wl-bulk-decline', type: 'button', class: 'btn btn-small btn-quiet', disabled: true }, t('m.bulkDecline'));
  const bulkBar = h(
    'div',
    { id: 'wl-bulk', class: 'wl-bulk', role: 'group', 'aria-label': t('m.bulkGroup') },
    h('span', { class: 'field-check' }, selectAll, h('label', { for: 'wl-select-all' }, t('m.selectAll'))),
    selectedCount,
    bulkConfirm,
    bulkDecline,
  );
  const banner = h('div', { id: 'wl-banner', class: 'wl-banner', tabindex: -1 });
  const body = h('div', { class: 'page-body', 'aria-busy': 'true' });
  const pager = h('nav', { id: 'wl-pager', class: 'wl-pager', 'aria-label': t('m.pages') });
  const dialog = buildDecisionDialog();
  const requested = h('section', { id: 'requested-hits', class: 'wl-requested', 'aria-labelledby': 'requested-title' });

  const showBanner = (n: HTMLElement): void => {
    replaceChildren(banner, n);
    banner.focus();
  };

  const syncSelection = (): void => {
    const boxes = [...body.querySelectorAll<HTMLInputElement>('input[data-select]')];
    for (const b of boxes) b.checked = selected.has(b.dataset['select'] ?? '');
    selectedCount.textContent = t('m.selected', { n: selected.size });
    bulkConfirm.disabled = selected.size === 0;
    bulkDecline.disabled = selected.size === 0;
    selectAll.checked = boxes.length > 0 && boxes.every((b) => b.checked);
    selectAll.disabled = boxes.length === 0;
  };

  const rowsByKey = (): Map<string, WorkRow> => new Map((list?.rows ?? []).map((r) => [r.key, r]));

  const load = (): void => {
    body.setAttribute('aria-busy', 'true');
    replaceChildren(body, loading(t('m.loading')));
    get<Worklist>(withQuery('/api/worklist', filters), ctx.signal)
      .then((l) => {
        list = l;
        selected.clear();
        setChoices(l.partners, l.kinds);
        window.dispatchEvent(new CustomEvent(AWAITING_EVENT, { detail: l.awaiting }));
        renderSummary(summary, l, filters);
        renderTable(body, l, groupBox.checked, handlers());
        renderPager(pager, l, (offset) => {
          filters = { ...filters, offset: offset > 0 ? String(offset) : undefined };
          replaceParams('matches', filters);
          load();
          summary.focus();
        });
        syncSelection();
      })
      .catch((e: unknown) => showLoadError(body, e, t('m.what'), load));
  };

  /** Rows decided stay on the page, changed in place, until the list is loaded again. */
  const afterDecision = (reply: WorkDecisionReply, opener: HTMLElement | null): void => {
    window.dispatchEvent(new CustomEvent(AWAITING_EVENT, { detail: reply.awaiting }));
    if (list) list.awaiting = reply.awaiting;
    const count = summary.querySelector('#wl-awaiting');
    if (count) count.textContent = tn('people', reply.awaiting);
    const fresh = new Map(reply.rows.map((r) => [r.key, r]));
    if (list) list.rows = list.rows.map((r) => fresh.get(r.key) ?? r);
    for (const r of reply.rows) {
      selected.delete(r.key);
      const tr = body.querySelector<HTMLTableRowElement>(`tr[data-key="${CSS.escape(r.key)}"]`);
      tr?.replaceWith(rowEl(r, handlers()));
    }
    syncSelection();
    const ok = reply.results.filter((x) => x.ok);
    const failed = reply.results.filter((x) => !x.ok);
    const decided = reply.rows[0]?.myStatus === 'declined' ? 'm.doneDeclined' : 'm.doneConfirmed';
    const title = failed.length === 0 ? t(decided, { people: tn('people', ok.length) }) : t('m.donePartly', { ok: ok.length, failed: failed.length });
    const n = notice(
      failed.length === 0 ? 'ok' : 'warn',
      title,
      failed.length ? h('ul', null, failed.map((f) => h('li', null, `${f.key}: ${f.error ?? t('m.notDecided')}`))) : null,
      h('p', null, t('m.stillAwaiting', { people: tn('people', reply.awaiting) })),
    );
    n.id = 'wl-result';
    // The confirmation appears beside the row the officer acted on, or above the table for a bulk decision.
    const single = reply.rows.length === 1 && opener !== null ? body.querySelector<HTMLTableRowElement>(`tr[data-key="${CSS.escape(reply.rows[0]?.key ?? '')}"]`) : null;
    if (single) {
      const cell = single.querySelector<HTMLElement>('.wl-row-result');
      if (cell) {
        n.tabIndex = -1;
        replaceChildren(cell, n);
        // Focus reads it out; the page-wide status line would repeat it far from the row.
        n.focus();
        replaceChildren(banner);
        return;
      }
    }
    showBanner(n);
  };

  const handlers = (): RowHandlers => ({
    decide: (row, decision, opener) => dialog.open([row], decision, opener, (reply) => afterDecision(reply, opener)),
    report: (row, opener) => openReport(reportTargetOfRow(row), opener),
    select: (key, on) => {
      if (on) selected.add(key);
      else selected.delete(key);
      syncSelection();
    },
  });

  const openReport = (target: ReportTarget, opener: HTMLElement): void => {
    openReportDialog(target, opener, (id) => {
      if (target.kind === 'row') {
        // The history gains the report: reload the row's page quietly.
        const r = rowsByKey().get(target.row.key);
        if (r) r.history = [...r.history, { at: new Date().toISOString(), officer: ctx.session.officer.id, action: 'report', handles: 1, report: id }];
        const tr = body.querySelector<HTMLTableRowElement>(`tr[data-key="${CSS.escape(target.row.key)}"]`);
        if (r && tr) tr.replaceWith(rowEl(r, handlers()));
      }
    });
  };

  const bulk = (decision: 'confirm' | 'decline', opener: HTMLElement): void => {
    const byKey = rowsByKey();
    const rows = [...selected].map((k) => byKey.get(k)).filter((r): r is WorkRow => r !== undefined && r.canDecide);
    if (rows.length === 0) return;
    dialog.open(rows, decision, opener, (reply) => afterDecision(reply, null));
  };
  bulkConfirm.addEventListener('click', () => bulk('confirm', bulkConfirm));
  bulkDecline.addEventListener('click', () => bulk('decline', bulkDecline));
  selectAll.addEventListener('change', () => {
    for (const r of list?.rows ?? []) {
      if (!r.canDecide) continue;
      if (selectAll.checked) selected.add(r.key);
      else selected.delete(r.key);
    }
    syncSelection();
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const [sort, dir] = sortSel.value.split(':');
    filters = {};
    const set = (k: keyof Filters, v: string | undefined): void => {
      if (v) filters[k] = v;
    };
    set('status', statusSel.value === 'awaiting' ? undefined : statusSel.value);
    set('partner', partnerSel.value);
    set('kind', kindSel.value);
    set('case', caseIn.value.trim());
    set('sort', sort === 'firstSeen' && dir === 'desc' ? undefined : sort);
    set('dir', sort === 'firstSeen' && dir === 'desc' ? undefined : dir);
    set('group', groupBox.checked ? undefined : 'none');
    set('limit', limitSel.value === '25' ? undefined : limitSel.value);
    replaceParams('matches', filters);
    load();
  });
  form.querySelector('#wl-reset')?.addEventListener('click', () => {
    filters = {};
    statusSel.value = 'awaiting';
    partnerSel.value = '';
    kindSel.value = '';
    caseIn.value = '';
    sortSel.value = 'firstSeen:desc';
    limitSel.value = '25';
    groupBox.checked = true;
    replaceParams('matches', filters);
    load();
  });

  ctx.root.append(
    pageHeader(t('m.title'), t('m.lead')),
    form,
    summary,
    bulkBar,
    banner,
    body,
    pager,
    requested,
    dialog.el,
  );
  summary.tabIndex = -1;
  load();
  loadRequested(requested, ctx.signal, (hit, opener) => openReport({ kind: 'query', hit }, opener));
}

function reportTargetOfRow(row: WorkRow): ReportTarget {
  return { kind: 'row', row };
}

function renderSummary(el: HTMLElement, l: Worklist, f: Filters): void {
  const first = l.total === 0 ? 0 : l.offset + 1;
  const last = Math.min(l.offset + l.limit, l.total);
  const what = (f.status ?? 'awaiting') === 'awaiting' ? t('m.whatAwaiting') : f.status === 'any' ? t('m.whatAny') : (MINE()[f.status as WorkStatus]?.label ?? '').toLowerCase();
  replaceChildren(
    el,
    h('strong', { id: 'wl-awaiting' }, tn('people', l.awaiting)),
    t('m.sumAwaiting'),
    l.total > 0 ? t('m.showing', { first, last, rows: tn('m.rows', l.total), what }) : t('m.noRowsWhat', { what }),
    l.stale ? h('span', { id: 'wl-stale', class: 'wl-stale' }, t('m.stale')) : null,
  );
}

interface RowHandlers {
  decide(row: WorkRow, decision: 'confirm' | 'decline', opener: HTMLElement): void;
  report(row: WorkRow, opener: HTMLElement): void;
  select(key: string, on: boolean): void;
}

function historyText(e: WorkHistoryEntry): string {
  const who = e.officer ?? t('m.someone');
  if (e.action === 'report') return t('m.h.report', { who, id: e.report === undefined ? '?' : String(e.report) });
  if (e.action === 'confirm') return e.handles > 1 ? t('m.h.confirmN', { who, n: e.handles }) : t('m.h.confirm', { who });
  return e.handles > 1 ? t('m.h.declineN', { who, n: e.handles }) : t('m.h.decline', { who });
}

function rowEl(r: WorkRow, on: RowHandlers): HTMLTableRowElement {
  const label = t('m.rowLabel', { record: r.recordId, partner: r.partner });
  const box = h('input', { type: 'checkbox', 'data-select': r.key, 'aria-label': t('m.selectRow', { label }), disabled: !r.canDecide });
  box.addEventListener('change', () => on.select(r.key, box.checked));
  const actions: HTMLElement[] = [];
  if (r.canDecide) {
    const c = h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'confirm', 'aria-label': t('m.confirmRow', { label }) }, t('m.confirm'));
    const d = h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'decline', 'aria-label': t('m.declineRow', { label }) }, t('m.decline'));
    c.addEventListener('click', () => on.decide(r, 'confirm', c));
    d.addEventListener('click', () => on.decide(r, 'decline', d));
    actions.push(c, d);
  }
  if (r.canReport) {
    const p = h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'report', 'aria-label': t('m.reportRow', { label }) }, t('m.report'));
    p.addEventListener('click', () => on.report(r, p));
    actions.push(p);
  }
  if (actions.length === 0) actions.push(h('span', { class: 'muted small' }, t('m.decided')));
  const history = h(
    'details',
    { class: 'wl-more' },
    h('summary', null, r.history.length ? t('m.historyN', { n: r.history.length }) : t('m.details')),
    h(
      'ul',
      { class: 'wl-handles', 'aria-label': t('m.handles') },
      r.handles.map((x) =>
        h(
          'li',
          { 'data-handle': x.handle },
          h('code', { class: 'handle' }, x.handle),
          ` ${x.kinds.map(humanise).join(', ')} · ${x.source === 'query' ? t('m.src.query') : t('m.src.nightly')}`,
          x.repeats > 0 ? t('m.repeats', { n: x.repeats + 1 }) : '',
          x.caseRef ? t('m.handleCase', { c: x.caseRef }) : '',
          t('m.sides', { ours: sideText(x.myStatus), partner: sideText(x.partnerStatus) }),
        ),
      ),
    ),
    r.history.length
      ? h(
          'ol',
          { class: 'wl-history', 'aria-label': t('m.history') },
          r.history.map((e) =>
            h(
              'li',
              { 'data-history': e.action },
              timeEl(e.at),
              ' ',
              historyText(e),
              e.note ? h('blockquote', { class: 'wl-note' }, e.note) : null,
              e.noteElsewhere ? h('span', { class: 'muted small' }, t('m.noteElsewhere')) : null,
            ),
          ),
        )
      : h('p', { class: 'muted small' }, t('m.noHistory')),
  );
  return h(
    'tr',
    { 'data-key': r.key, 'data-my-status': r.myStatus, 'data-record': r.recordId, 'data-partner': r.partner },
    h('td', { class: 'wl-select' }, box),
    h('th', { scope: 'row' }, h('span', { class: 'mono' }, r.recordId), history),
    h('td', null, r.partner),
    h('td', null, h('span', { class: 'wl-strength', 'data-strength': `${r.strength.matched}/${r.strength.of}` }, strengthText(r)), h('div', null, r.kinds.map((k) => h('span', { class: 'tag' }, humanise(k))))),
    h(
      'td',
      null,
      stateBadge(MINE(), r.myStatus),
      h('div', { class: 'small' }, t('m.partnerSide', { s: sideText(r.partnerStatus) })),
      h('div', { class: 'small muted' }, OVERALL()[r.status].label),
    ),
    h('td', null, timeEl(r.firstSeen), r.lastSeen !== r.firstSeen ? h('div', { class: 'small muted' }, t('m.latest'), timeEl(r.lastSeen)) : null),
    h('td', null, h('div', { class: 'row-actions' }, actions), h('div', { class: 'wl-row-result' })),
  );
}

function renderTable(body: HTMLElement, l: Worklist, grouped: boolean, on: RowHandlers): void {
  body.removeAttribute('aria-busy');
  if (l.rows.length === 0) {
    replaceChildren(body, emptyState(l.awaiting === 0 ? t('m.nothingAwaits') : t('m.noRows')));
    return;
  }
  const groups = new Map<string, WorkRow[]>();
  for (const r of l.rows) {
    const k = grouped ? (r.caseRefs[0] ?? '') : '';
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const showHeads = grouped && [...groups.keys()].some((k) => k !== '');
  const table = h(
    'table',
    { class: 'data wl-table', id: 'worklist-table' },
    h('caption', null, t('m.caption', { rows: tn('m.rows', l.rows.length) })),
    h('thead', null, h('tr', null, th(t('m.col.select')), th(t('m.col.record')), th(t('m.col.partner')), th(t('m.col.strength')), th(t('m.col.decision')), th(t('m.col.firstSeen')), th(t('m.col.actions')))),
    [...groups.entries()].map(([k, rows]) =>
      h(
        'tbody',
        { 'data-case': k },
        showHeads ? h('tr', { class: 'wl-group' }, h('th', { scope: 'colgroup', colspan: 7 }, k ? t('m.case', { c: k }) : t('m.noCase'), h('span', { class: 'muted small' }, ` · ${tn('people', rows.length)}`))) : null,
        rows.map((r) => rowEl(r, on)),
      ),
    ),
  );
  replaceChildren(body, tableWrap(t('m.worklist'), table));
}

function renderPager(el: HTMLElement, l: Worklist, go: (offset: number) => void): void {
  const pages = Math.max(1, Math.ceil(l.total / l.limit));
  const page = Math.floor(l.offset / l.limit) + 1;
  const prev = h('button', { id: 'wl-prev', type: 'button', class: 'btn btn-small btn-quiet', disabled: l.offset === 0 }, t('m.prev'));
  const next = h('button', { id: 'wl-next', type: 'button', class: 'btn btn-small btn-quiet', disabled: l.offset + l.limit >= l.total }, t('m.next'));
  prev.addEventListener('click', () => go(Math.max(0, l.offset - l.limit)));
  next.addEventListener('click', () => go(l.offset + l.limit));
  replaceChildren(el, prev, h('span', { id: 'wl-page', class: 'small' }, t('m.page', { page, pages })), next);
  el.hidden = l.total <= l.limit && l.offset === 0;
}

function loadRequested(section: HTMLElement, signal: AbortSignal, report: (hit: RequestedHit, opener: HTMLElement) => void): void {
  const head = h('h2', { id: 'requested-title' }, t('m.req.title'));
  const lead = h('p', { class: 'lead small' }, t('m.req.lead'));
  const slot = h('div', { 'aria-busy': 'true' }, loading(t('m.req.loading')));
  replaceChildren(section, head, lead, slot);
  const run = (): void => {
    get<RequestedHitList>('/api/worklist/requested', signal)
      .then((l) => {
        slot.removeAttribute('aria-busy');
        if (l.hits.length === 0) {
          replaceChildren(slot, emptyState(t('m.req.empty')));
          return;
        }
        const byCase = new Map<string, RequestedHit[]>();
        for (const x of l.hits) {
          const g = byCase.get(x.caseRef);
          if (g) g.push(x);
          else byCase.set(x.caseRef, [x]);
        }
        const table = h(
          'table',
          { class: 'data', id: 'requested-table' },
          h('caption', null, tn('m.qhits', l.hits.length)),
          h('thead', null, h('tr', null, th(t('m.col.partner')), th(t('m.req.query')), th(t('m.req.proof')), th(t('m.req.partnerDecision')), th(t('m.col.actions')))),
          [...byCase.entries()].map(([c, hits]) =>
            h(
              'tbody',
              { 'data-case': c },
              h('tr', { class: 'wl-group' }, h('th', { scope: 'colgroup', colspan: 5 }, t('m.case', { c }))),
              hits.map((x) => {
                const btn = h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'report', 'aria-label': t('m.req.reportAria', { partner: x.partner, i: x.index + 1 }) }, t('m.report'));
                btn.addEventListener('click', () => report(x, btn));
                return h(
                  'tr',
                  { 'data-handle': x.handle, 'data-query-id': x.queryId },
                  h('th', { scope: 'row' }, x.partner),
                  h('td', null, t('m.req.value', { kind: humanise(x.kind), i: x.index + 1, purpose: humanise(x.purpose) }), timeEl(x.firstSeen), h('div', null, h('code', { class: 'handle' }, x.handle))),
                  h('td', null, x.proofVerified ? t('m.req.proofOk') : t('m.req.proofBad')),
                  h('td', null, stateBadge(OVERALL(), x.partnerStatus ?? 'unverified'), h('div', { class: 'small' }, sideText(x.partnerStatus))),
                  h('td', null, btn),
                );
              }),
            ),
          ),
        );
        replaceChildren(slot, l.stale ? notice('warn', t('m.req.stale')) : null, tableWrap(t('m.req.title'), table));
      })
      .catch((e: unknown) => showLoadError(slot, e, t('m.req.what'), run));
  };
  run();
}

interface DecisionDialog {
  el: HTMLDialogElement;
  open(rows: WorkRow[], decision: 'confirm' | 'decline', opener: HTMLElement, onDone: (r: WorkDecisionReply) => void): void;
}

function buildDecisionDialog(): DecisionDialog {
  const title = h('h2', { id: 'decision-title' });
  const summary = h('div', { class: 'dialog-summary' });
  const explain = h('p', { class: 'small' });
  const note = h('textarea', { id: 'decision-note', rows: 4, maxlength: NOTE_MAX, 'aria-describedby': 'decision-note-help decision-note-count', spellcheck: 'false' });
  const count = h('span', { id: 'decision-note-count', class: 'muted small' }, `0 / ${NOTE_MAX}`);
  const error = h('div', { id: 'decision-error', class: 'form-error-slot' });
  const submit = h('button', { id: 'decision-submit', type: 'submit', class: 'btn btn-primary' });
  const cancel = h('button', { id: 'decision-cancel', type: 'button', class: 'btn btn-quiet' }, t('m.cancel'));
  const form = h(
    'form',
    { class: 'dialog-form', method: 'dialog' },
    title,
    summary,
    explain,
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'decision-note' }, t('m.note')),
      h('p', { id: 'decision-note-help', class: 'help' }, t('m.noteHelp')),
      note,
      count,
    ),
    error,
    h('div', { class: 'form-actions' }, submit, cancel),
  );
  const el = h('dialog', { id: 'decision-dialog', class: 'dialog', 'aria-labelledby': 'decision-title' }, form);

  let current: { rows: WorkRow[]; decision: 'confirm' | 'decline'; opener: HTMLElement; onDone: (r: WorkDecisionReply) => void } | null = null;
  let busy = false;
  const label = (d: 'confirm' | 'decline', n: number): string =>
    n === 1 ? t(d === 'confirm' ? 'm.confirmOne' : 'm.declineOne') : t(d === 'confirm' ? 'm.confirmMany' : 'm.declineMany', { people: tn('people', n) });

  note.addEventListener('input', () => {
    count.textContent = `${note.value.length} / ${NOTE_MAX}`;
  });
  cancel.addEventListener('click', () => el.close());
  el.addEventListener('cancel', (ev) => {
    if (busy) ev.preventDefault();
  });
  el.addEventListener('close', () => {
    const opener = current?.opener;
    current = null;
    if (opener?.isConnected) opener.focus();
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!current || busy) return;
    const { rows, decision, onDone } = current;
    const text = note.value.trim();
    busy = true;
    submit.disabled = true;
    cancel.disabled = true;
    submit.textContent = decision === 'confirm' ? t('m.confirming') : t('m.declining');
    replaceChildren(error);
    const body: { rows: Array<{ partner: string; recordId: string }>; decision: 'confirm' | 'decline'; note?: string } = {
      rows: rows.map((r) => ({ partner: r.partner, recordId: r.recordId })),
      decision,
    };
    if (text) body.note = text;
    post<WorkDecisionReply>('/api/worklist/decisions', body)
      .then((res) => {
        busy = false;
        // Focus goes to the confirmation, not back to the (now gone) button.
        current = null;
        el.close();
        onDone(res);
      })
      .catch((e: unknown) => {
        busy = false;
        const head = t('m.notRecorded');
        const detail = e instanceof ApiError && e.status === 502 ? t('m.retryLater', { msg: errorMessage(e) }) : errorMessage(e);
        replaceChildren(error, notice('error', head, h('p', null, detail)));
        announce(`${head} ${detail}`, 'error');
        note.focus();
      })
      .finally(() => {
        submit.disabled = false;
        cancel.disabled = false;
        if (current) submit.textContent = label(decision, rows.length);
      });
  });

  return {
    el,
    open(rows, decision, opener, onDone) {
      current = { rows, decision, opener, onDone };
      title.textContent = label(decision, rows.length);
      replaceChildren(
        summary,
        h(
          'ul',
          { class: 'wl-dialog-rows' },
          rows.map((r) => h('li', null, h('span', { class: 'mono' }, r.recordId), t('m.dialogRow', { partner: r.partner, strength: strengthText(r), kinds: r.kinds.map(humanise).join(', ') }))),
        ),
      );
      explain.textContent =
        decision === 'confirm'
          ? t('m.explainConfirm')
          : t('m.explainDecline');
      submit.textContent = label(decision, rows.length);
      submit.className = decision === 'confirm' ? 'btn btn-primary' : 'btn btn-danger';
      note.value = '';
      count.textContent = `0 / ${NOTE_MAX}`;
      replaceChildren(error);
      el.showModal();
      note.focus();
    },
  };
}
