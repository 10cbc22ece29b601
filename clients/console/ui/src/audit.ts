import { get, withQuery } from './api';
import { announce, badge, h, plural, replaceChildren, tableWrap, th, timeEl, type Tone } from './dom';
import { emptyState, filterForm, loading, notice, pageHeader, showLoadError, type PageContext } from './page';
import { replaceParams } from './router';
import type { AuditEntry, AuditList } from './types';

const FILTERS = ['from', 'to', 'officer', 'case', 'source'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Rendering tens of thousands of rows would freeze the page; the export has everything. */
const MAX_ROWS = 2000;

function readFilters(params: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of FILTERS) {
    const v = params.get(k)?.trim();
    if (!v) continue;
    if ((k === 'from' || k === 'to') && !DATE_RE.test(v)) continue;
    if (k === 'source' && v !== 'local' && v !== 'coordinator') continue;
    f[k] = v;
  }
  return f;
}

function outcomeTone(outcome: string): Tone {
  const o = outcome.toLowerCase();
  if (/^(ok|success|succeeded|done|stored|served|allowed|accepted|confirmed|hit|miss)$/.test(o)) return 'ok';
  if (/(refused|denied|fail|error|invalid|rejected|conflict)/.test(o)) return 'bad';
  return 'neutral';
}

function detailText(d: AuditEntry['detail']): string {
  if (d === null || d === undefined) return '';
  try {
    const s = JSON.stringify(d);
    return s === '{}' ? '' : s;
  } catch {
    return '[unprintable]';
  }
}

export function renderAudit(ctx: PageContext): void {
  let filters = readFilters(ctx.params);
  const input = (id: string, type: string, value: string | undefined, extra: Record<string, string | number> = {}): HTMLInputElement =>
    h('input', { id, type, value, autocomplete: 'off', spellcheck: 'false', ...extra });
  const fromIn = input('audit-from', 'date', filters.from);
  const toIn = input('audit-to', 'date', filters.to);
  const officerIn = input('audit-officer', 'text', filters.officer, { maxlength: 100 });
  const caseIn = input('audit-case', 'text', filters.case, { maxlength: 100 });
  const sourceSel = h(
    'select',
    { id: 'audit-source' },
    h('option', { value: '' }, 'Both'),
    h('option', { value: 'local' }, 'This console (local)'),
    h('option', { value: 'coordinator' }, 'Coordinator'),
  );
  sourceSel.value = filters.source ?? '';

  const exportLink = h('a', { id: 'audit-export', class: 'btn', download: '', href: '/api/audit/export' }, 'Export JSON Lines');
  const updateExport = (): void => {
    exportLink.href = withQuery('/api/audit/export', filters);
  };
  updateExport();
  exportLink.addEventListener('click', () => announce('Export started; the file is saved by your browser. The export is itself recorded in the audit log.'));

  const form = filterForm({
    id: 'audit-filters',
    label: 'Filter audit entries',
    fields: [
      ['audit-from', 'From date', fromIn],
      ['audit-to', 'To date', toIn],
      ['audit-officer', 'Officer ID', officerIn],
      ['audit-case', 'Case reference', caseIn],
      ['audit-source', 'Source', sourceSel],
    ],
    applyId: 'audit-apply',
    resetId: 'audit-reset',
  });

  const body = h('div', { class: 'page-body', 'aria-busy': 'true' });

  const load = (): void => {
    body.setAttribute('aria-busy', 'true');
    replaceChildren(body, loading('Loading audit entries…'));
    get<AuditList>(withQuery('/api/audit', filters), ctx.signal)
      .then((list) => renderEntries(body, list))
      .catch((e: unknown) => showLoadError(body, e, 'the audit log', load));
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (fromIn.value && toIn.value && fromIn.value > toIn.value) {
      announce('“From date” is after “To date”.', 'error');
      fromIn.focus();
      return;
    }
    filters = {};
    const set = (k: keyof Filters, v: string): void => {
      if (v.trim()) filters[k] = v.trim();
    };
    set('from', fromIn.value);
    set('to', toIn.value);
    set('officer', officerIn.value);
    set('case', caseIn.value);
    set('source', sourceSel.value);
    replaceParams('audit', filters);
    updateExport();
    load();
  });
  form.querySelector('#audit-reset')?.addEventListener('click', () => {
    filters = {};
    for (const i of [fromIn, toIn, officerIn, caseIn]) i.value = '';
    sourceSel.value = '';
    replaceParams('audit', filters);
    updateExport();
    load();
  });

  ctx.root.append(
    pageHeader('Audit', 'What this console and the coordinator recorded about this agency, newest first. Entries never contain identifier values.', exportLink),
    form,
    body,
  );
  load();
}

function renderEntries(body: HTMLElement, list: AuditList): void {
  const parts: (Node | null)[] = [];
  if (!list.coordinatorReachable) {
    parts.push(notice('warn', 'Coordinator entries are missing.', h('p', null, 'The coordinator could not be reached; only this console’s own entries are shown.')));
  }
  if (!list.entries.length) {
    parts.push(emptyState('No audit entries for these filters.'));
  } else {
    // Local and coordinator entries come from two logs; order them together, newest first.
    const sorted = [...list.entries].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
    const shown = sorted.slice(0, MAX_ROWS);
    if (shown.length < list.entries.length) {
      parts.push(notice('info', `Showing the newest ${MAX_ROWS} of ${list.entries.length} entries.`, h('p', null, 'Narrow the filters or use “Export JSON Lines” for all of them.')));
    }
    const rows = shown.map((e) => {
      const detail = detailText(e.detail);
      return h(
        'tr',
        { 'data-action': e.action, 'data-source': e.source },
        h('td', { class: 'nowrap' }, timeEl(e.at)),
        h('td', null, e.source === 'local' ? 'Local' : 'Coordinator'),
        h('td', { class: 'mono' }, e.actor),
        h('td', null, e.officer ?? '—'),
        h('th', { scope: 'row', class: 'mono' }, e.action),
        h('td', { class: 'mono break' }, e.subject || '—'),
        h('td', null, badge(e.outcome, outcomeTone(e.outcome))),
        h('td', null, e.caseRef ?? '—'),
        h('td', { class: 'detail' }, detail ? h('code', { class: 'json' }, detail) : '—'),
      );
    });
    const table = h(
      'table',
      { class: 'data', id: 'audit-table' },
      h('caption', null, plural(list.entries.length, 'entry', 'entries'), ', newest first'),
      h('thead', null, h('tr', null, th('Time'), th('Source'), th('Actor'), th('Officer'), th('Action'), th('Subject'), th('Outcome'), th('Case'), th('Detail'))),
      h('tbody', null, rows),
    );
    parts.push(tableWrap('Audit entries', table));
  }
  body.removeAttribute('aria-busy');
  replaceChildren(body, parts);
}
