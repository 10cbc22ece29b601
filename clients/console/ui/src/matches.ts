// Matches: the investigator's worklist. One row per person (a local record)
// and partner, what still needs this officer's decision first; filters,
// sort and paging are the server's (GET /api/worklist), decisions act on a
// row or on every selected row with one note. Below it, the hits of this
// agency's own queries. A confirmed match or a query hit leads to a request
// report (report.ts).
import './worklist.css';
import { ApiError, errorMessage, get, post, withQuery } from './api';
import { announce, h, humanise, plural, replaceChildren, stateBadge, tableWrap, th, timeEl, type Tone } from './dom';
import { emptyState, loading, notice, pageHeader, showLoadError, type PageContext } from './page';
import { openReportDialog, type ReportTarget } from './report';
import { replaceParams } from './router';
import type { MatchStatus, RequestedHit, RequestedHitList, WorkDecisionReply, WorkHistoryEntry, Worklist, WorkRow, WorkStatus } from './types';

const NOTE_MAX = 500;
const FILTERS = ['status', 'partner', 'kind', 'case', 'sort', 'dir', 'group', 'limit', 'offset'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;
/** Fired on window whenever the number of rows awaiting a decision is known anew (main.ts shows it in the navigation). */
export const AWAITING_EVENT = 'concordat:awaiting';

const MINE: Record<WorkStatus, { label: string; tone: Tone }> = {
  awaiting: { label: 'Awaiting my decision', tone: 'warn' },
  confirmed: { label: 'Confirmed by us', tone: 'ok' },
  declined: { label: 'Declined by us', tone: 'bad' },
};
const SIDE: Record<MatchStatus, string> = { unverified: 'no decision yet', confirmed: 'confirmed', declined: 'declined' };
const OVERALL: Record<MatchStatus, { label: string; tone: Tone }> = {
  unverified: { label: 'Not confirmed by both', tone: 'warn' },
  confirmed: { label: 'Confirmed by both', tone: 'ok' },
  declined: { label: 'Declined', tone: 'bad' },
};
const SORTS: Array<[string, string]> = [
  ['firstSeen:desc', 'Newest first'],
  ['firstSeen:asc', 'Oldest first'],
  ['lastSeen:desc', 'Latest hit first'],
  ['record:asc', 'Record id'],
  ['partner:asc', 'Partner'],
  ['strength:desc', 'Strongest first'],
  ['strength:asc', 'Weakest first'],
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
  `${r.strength.matched} of ${r.strength.of} identifier${r.strength.of === 1 ? '' : 's'}${r.candidate ? ' · candidate: similar-sounding names, one birth date' : ''}`;
const sideText = (s: MatchStatus | null): string => (s === null ? 'no decision yet' : SIDE[s]);

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
  fillSelect(statusSel, [...(Object.keys(MINE) as WorkStatus[]).map((k) => [k, MINE[k].label] as const), ['any', 'Any decision']], filters.status ?? 'awaiting');
  fillSelect(sortSel, SORTS, `${filters.sort ?? 'firstSeen'}:${filters.dir ?? (filters.sort === 'record' || filters.sort === 'partner' ? 'asc' : 'desc')}`);
  fillSelect(limitSel, LIMITS.map((l) => [l, `${l} per page`] as const), filters.limit ?? '25');
  const setChoices = (partners: string[], kinds: string[]): void => {
    fillSelect(partnerSel, [['', 'All partners'], ...partners.map((p) => [p, p] as const)], filters.partner);
    fillSelect(kindSel, [['', 'All kinds'], ...kinds.map((k) => [k, humanise(k)] as const)], filters.kind);
  };
  setChoices([], []);

  const field = (id: string, label: string, control: HTMLElement, help?: string): HTMLElement =>
    h('div', { class: 'field' }, h('label', { for: id }, label), control, help ? h('p', { class: 'help', id: `${id}-help` }, help) : null);
  const form = h(
    'form',
    { id: 'worklist-filters', class: 'filters', 'aria-label': 'Filter the worklist' },
    field('wl-status', 'My decision', statusSel),
    field('wl-partner', 'Partner', partnerSel),
    field('wl-kind', 'Kind', kindSel),
    field('wl-case', 'Case reference', caseIn, 'Part of it is enough.'),
    field('wl-sort', 'Sort', sortSel),
    field('wl-limit', 'Rows', limitSel),
    h('div', { class: 'field field-check' }, groupBox, h('label', { for: 'wl-group' }, 'Group by case reference')),
    h(
      'div',
      { class: 'filter-actions' },
      h('button', { id: 'wl-apply', type: 'submit', class: 'btn btn-primary' }, 'Apply'),
      h('button', { id: 'wl-reset', type: 'button', class: 'btn btn-quiet' }, 'Reset'),
    ),
  );

  const summary = h('p', { id: 'wl-summary', class: 'wl-summary' });
  const selectAll = h('input', { id: 'wl-select-all', type: 'checkbox' });
  const selectedCount = h('span', { id: 'wl-selected', class: 'muted small', 'aria-live': 'polite' }, '0 selected');
  const bulkConfirm = h('button', { id: 'wl-bulk-confirm', type: 'button', class: 'btn btn-small', disabled: true }, 'Confirm selected');
  const bulkDecline = h('button', { id: 'wl-bulk-decline', type: 'button', class: 'btn btn-small btn-quiet', disabled: true }, 'Decline selected');
  const bulkBar = h(
    'div',
    { id: 'wl-bulk', class: 'wl-bulk', role: 'group', 'aria-label': 'Decide the selected rows' },
    h('span', { class: 'field-check' }, selectAll, h('label', { for: 'wl-select-all' }, 'Select every undecided row on this page')),
    selectedCount,
    bulkConfirm,
    bulkDecline,
  );
  const banner = h('div', { id: 'wl-banner', class: 'wl-banner', tabindex: -1 });
  const body = h('div', { class: 'page-body', 'aria-busy': 'true' });
  const pager = h('nav', { id: 'wl-pager', class: 'wl-pager', 'aria-label': 'Worklist pages' });
  const dialog = buildDecisionDialog();
  const requested = h('section', { id: 'requested-hits', class: 'wl-requested', 'aria-labelledby': 'requested-title' });

  const showBanner = (n: HTMLElement): void => {
    replaceChildren(banner, n);
    banner.focus();
  };

  const syncSelection = (): void => {
    const boxes = [...body.querySelectorAll<HTMLInputElement>('input[data-select]')];
    for (const b of boxes) b.checked = selected.has(b.dataset['select'] ?? '');
    selectedCount.textContent = `${selected.size} selected`;
    bulkConfirm.disabled = selected.size === 0;
    bulkDecline.disabled = selected.size === 0;
    selectAll.checked = boxes.length > 0 && boxes.every((b) => b.checked);
    selectAll.disabled = boxes.length === 0;
  };

  const rowsByKey = (): Map<string, WorkRow> => new Map((list?.rows ?? []).map((r) => [r.key, r]));

  const load = (): void => {
    body.setAttribute('aria-busy', 'true');
    replaceChildren(body, loading('Loading the worklist…'));
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
      .catch((e: unknown) => showLoadError(body, e, 'the worklist', load));
  };

  /** Rows decided stay on the page, changed in place, until the list is loaded again. */
  const afterDecision = (reply: WorkDecisionReply, opener: HTMLElement | null): void => {
    window.dispatchEvent(new CustomEvent(AWAITING_EVENT, { detail: reply.awaiting }));
    if (list) list.awaiting = reply.awaiting;
    const count = summary.querySelector('#wl-awaiting');
    if (count) count.textContent = plural(reply.awaiting, 'person', 'people');
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
    const decided = reply.rows[0]?.myStatus === 'declined' ? 'declined' : 'confirmed';
    const title = failed.length === 0 ? `${plural(ok.length, 'person', 'people')} ${decided}.` : `${ok.length} decided, ${failed.length} not.`;
    const n = notice(
      failed.length === 0 ? 'ok' : 'warn',
      title,
      failed.length ? h('ul', null, failed.map((f) => h('li', null, `${f.key}: ${f.error ?? 'not decided'}`))) : null,
      h('p', null, `${plural(reply.awaiting, 'person', 'people')} still awaiting your decision.`),
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
    pageHeader('Matches', 'People this agency holds data for that a partner holds too. Check each against the record, then confirm or decline.'),
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
  const what = (f.status ?? 'awaiting') === 'awaiting' ? 'awaiting your decision' : f.status === 'any' ? 'in the worklist' : (MINE[f.status as WorkStatus]?.label ?? '').toLowerCase();
  replaceChildren(
    el,
    h('strong', { id: 'wl-awaiting' }, plural(l.awaiting, 'person', 'people')),
    ' awaiting your decision. ',
    l.total > 0 ? `Showing ${first}–${last} of ${plural(l.total, 'row')} ${what}.` : `No rows ${what} for these filters.`,
    l.stale ? h('span', { id: 'wl-stale', class: 'wl-stale' }, ' The coordinator could not be reached: these rows are the local copy, and decisions wait until it answers.') : null,
  );
}

interface RowHandlers {
  decide(row: WorkRow, decision: 'confirm' | 'decline', opener: HTMLElement): void;
  report(row: WorkRow, opener: HTMLElement): void;
  select(key: string, on: boolean): void;
}

function historyText(e: WorkHistoryEntry): string {
  const who = e.officer ?? 'someone';
  const what = e.action === 'report' ? `prepared request report no. ${e.report ?? '?'}` : `${e.action === 'confirm' ? 'confirmed' : 'declined'}${e.handles > 1 ? ` (${e.handles} identifiers)` : ''}`;
  return `${who} ${what}`;
}

function rowEl(r: WorkRow, on: RowHandlers): HTMLTableRowElement {
  const label = `${r.recordId} with ${r.partner}`;
  const box = h('input', { type: 'checkbox', 'data-select': r.key, 'aria-label': `Select ${label}`, disabled: !r.canDecide });
  box.addEventListener('change', () => on.select(r.key, box.checked));
  const actions: HTMLElement[] = [];
  if (r.canDecide) {
    const c = h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'confirm', 'aria-label': `Confirm ${label}` }, 'Confirm');
    const d = h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'decline', 'aria-label': `Decline ${label}` }, 'Decline');
    c.addEventListener('click', () => on.decide(r, 'confirm', c));
    d.addEventListener('click', () => on.decide(r, 'decline', d));
    actions.push(c, d);
  }
  if (r.canReport) {
    const p = h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'report', 'aria-label': `Prepare request for ${label}` }, 'Prepare request');
    p.addEventListener('click', () => on.report(r, p));
    actions.push(p);
  }
  if (actions.length === 0) actions.push(h('span', { class: 'muted small' }, 'Decided'));
  const history = h(
    'details',
    { class: 'wl-more' },
    h('summary', null, r.history.length ? `History (${r.history.length})` : 'Details'),
    h(
      'ul',
      { class: 'wl-handles', 'aria-label': 'Identifiers matched' },
      r.handles.map((x) =>
        h(
          'li',
          { 'data-handle': x.handle },
          h('code', { class: 'handle' }, x.handle),
          ` ${x.kinds.map(humanise).join(', ')} · ${x.source === 'query' ? 'query' : 'nightly'}`,
          x.repeats > 0 ? ` · hit ${x.repeats + 1} times` : '',
          x.caseRef ? ` · case ${x.caseRef}` : '',
          ` · ours: ${sideText(x.myStatus)}, partner: ${sideText(x.partnerStatus)}`,
        ),
      ),
    ),
    r.history.length
      ? h(
          'ol',
          { class: 'wl-history', 'aria-label': 'History' },
          r.history.map((e) =>
            h(
              'li',
              { 'data-history': e.action },
              timeEl(e.at),
              ' ',
              historyText(e),
              e.note ? h('blockquote', { class: 'wl-note' }, e.note) : null,
              e.noteElsewhere ? h('span', { class: 'muted small' }, ' (with a note, given on the command line and kept at the coordinator)') : null,
            ),
          ),
        )
      : h('p', { class: 'muted small' }, 'No decision recorded here yet.'),
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
      stateBadge(MINE, r.myStatus),
      h('div', { class: 'small' }, `Partner: ${sideText(r.partnerStatus)}`),
      h('div', { class: 'small muted' }, OVERALL[r.status].label),
    ),
    h('td', null, timeEl(r.firstSeen), r.lastSeen !== r.firstSeen ? h('div', { class: 'small muted' }, 'latest ', timeEl(r.lastSeen)) : null),
    h('td', null, h('div', { class: 'row-actions' }, actions), h('div', { class: 'wl-row-result' })),
  );
}

function renderTable(body: HTMLElement, l: Worklist, grouped: boolean, on: RowHandlers): void {
  body.removeAttribute('aria-busy');
  if (l.rows.length === 0) {
    replaceChildren(body, emptyState(l.awaiting === 0 ? 'Nothing awaits your decision.' : 'No rows for these filters.'));
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
    h('caption', null, `Worklist: ${plural(l.rows.length, 'row')} on this page`),
    h('thead', null, h('tr', null, th('Select'), th('Record'), th('Partner'), th('Strength'), th('Decision (ours / partner)'), th('First seen'), th('Actions'))),
    [...groups.entries()].map(([k, rows]) =>
      h(
        'tbody',
        { 'data-case': k },
        showHeads ? h('tr', { class: 'wl-group' }, h('th', { scope: 'colgroup', colspan: 7 }, k ? `Case ${k}` : 'No case reference', h('span', { class: 'muted small' }, ` · ${plural(rows.length, 'person', 'people')}`))) : null,
        rows.map((r) => rowEl(r, on)),
      ),
    ),
  );
  replaceChildren(body, tableWrap('Worklist', table));
}

function renderPager(el: HTMLElement, l: Worklist, go: (offset: number) => void): void {
  const pages = Math.max(1, Math.ceil(l.total / l.limit));
  const page = Math.floor(l.offset / l.limit) + 1;
  const prev = h('button', { id: 'wl-prev', type: 'button', class: 'btn btn-small btn-quiet', disabled: l.offset === 0 }, 'Previous page');
  const next = h('button', { id: 'wl-next', type: 'button', class: 'btn btn-small btn-quiet', disabled: l.offset + l.limit >= l.total }, 'Next page');
  prev.addEventListener('click', () => go(Math.max(0, l.offset - l.limit)));
  next.addEventListener('click', () => go(l.offset + l.limit));
  replaceChildren(el, prev, h('span', { id: 'wl-page', class: 'small' }, `Page ${page} of ${pages}`), next);
  el.hidden = l.total <= l.limit && l.offset === 0;
}

function loadRequested(section: HTMLElement, signal: AbortSignal, report: (hit: RequestedHit, opener: HTMLElement) => void): void {
  const head = h('h2', { id: 'requested-title' }, 'Hits of our queries');
  const lead = h('p', { class: 'lead small' }, 'Partners hold these; they decide on them. A hit can lead to a request.');
  const slot = h('div', { 'aria-busy': 'true' }, loading('Loading query hits…'));
  replaceChildren(section, head, lead, slot);
  const run = (): void => {
    get<RequestedHitList>('/api/worklist/requested', signal)
      .then((l) => {
        slot.removeAttribute('aria-busy');
        if (l.hits.length === 0) {
          replaceChildren(slot, emptyState('No query of this agency has hit yet.'));
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
          h('caption', null, plural(l.hits.length, 'query hit')),
          h('thead', null, h('tr', null, th('Partner'), th('Query'), th('Proof'), th('Partner’s decision'), th('Actions'))),
          [...byCase.entries()].map(([c, hits]) =>
            h(
              'tbody',
              { 'data-case': c },
              h('tr', { class: 'wl-group' }, h('th', { scope: 'colgroup', colspan: 5 }, `Case ${c}`)),
              hits.map((x) => {
                const btn = h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'report', 'aria-label': `Prepare request to ${x.partner} for value ${x.index + 1} of the query` }, 'Prepare request');
                btn.addEventListener('click', () => report(x, btn));
                return h(
                  'tr',
                  { 'data-handle': x.handle, 'data-query-id': x.queryId },
                  h('th', { scope: 'row' }, x.partner),
                  h('td', null, `${humanise(x.kind)}, value ${x.index + 1} · ${humanise(x.purpose)} · `, timeEl(x.firstSeen), h('div', null, h('code', { class: 'handle' }, x.handle))),
                  h('td', null, x.proofVerified ? 'Proof verified' : 'Proof NOT verified'),
                  h('td', null, stateBadge(OVERALL, x.partnerStatus ?? 'unverified'), h('div', { class: 'small' }, sideText(x.partnerStatus))),
                  h('td', null, btn),
                );
              }),
            ),
          ),
        );
        replaceChildren(slot, l.stale ? notice('warn', 'The coordinator could not be reached: partner decisions may be out of date.') : null, tableWrap('Hits of our queries', table));
      })
      .catch((e: unknown) => showLoadError(slot, e, 'query hits', run));
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
  const cancel = h('button', { id: 'decision-cancel', type: 'button', class: 'btn btn-quiet' }, 'Cancel');
  const form = h(
    'form',
    { class: 'dialog-form', method: 'dialog' },
    title,
    summary,
    explain,
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'decision-note' }, 'Note (optional)'),
      h('p', { id: 'decision-note-help', class: 'help' }, 'Why you confirm or decline; shown in the row’s history and sent with the decision. Up to 500 characters; do not paste identifiers.'),
      note,
      count,
    ),
    error,
    h('div', { class: 'form-actions' }, submit, cancel),
  );
  const el = h('dialog', { id: 'decision-dialog', class: 'dialog', 'aria-labelledby': 'decision-title' }, form);

  let current: { rows: WorkRow[]; decision: 'confirm' | 'decline'; opener: HTMLElement; onDone: (r: WorkDecisionReply) => void } | null = null;
  let busy = false;
  const label = (d: 'confirm' | 'decline', n: number): string => `${d === 'confirm' ? 'Confirm' : 'Decline'} ${n === 1 ? 'this person' : plural(n, 'person', 'people')}`;

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
    submit.textContent = decision === 'confirm' ? 'Confirming…' : 'Declining…';
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
        const t = 'The decision was not recorded.';
        const detail = e instanceof ApiError && e.status === 502 ? `${errorMessage(e)} Nothing was decided; try again when the coordinator answers.` : errorMessage(e);
        replaceChildren(error, notice('error', t, h('p', null, detail)));
        announce(`${t} ${detail}`, 'error');
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
          rows.map((r) => h('li', null, h('span', { class: 'mono' }, r.recordId), ` with ${r.partner} · ${strengthText(r)} (${r.kinds.map(humanise).join(', ')})`)),
        ),
      );
      explain.textContent =
        decision === 'confirm'
          ? 'Confirm only after checking that the local record really is the person the partner holds. Every identifier of the row still undecided is confirmed; the partner is told.'
          : 'Decline when the local record does not correspond (a reused or mistyped identifier, say). Every identifier of the row still undecided is declined; the partner is told.';
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
