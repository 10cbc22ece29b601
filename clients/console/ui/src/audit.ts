// Audit for people: one sentence per action (this agency's record and the
// coordinator's of the same action merged), the nightly exchange's steps
// hidden unless asked for, partial filters, local time and UTC to the
// second, and exports as JSON Lines (every entry as recorded), CSV and print.
import { get, withQuery } from './api';
import { announce, badge, fmtUtc, h, humanise, replaceChildren, tableWrap, th, timeEl, type Tone } from './dom';
import { t, tn } from './i18n';
import { emptyState, filterForm, loading, notice, pageHeader, showLoadError, type PageContext } from './page';
import { replaceParams } from './router';
import type { AuditAction, AuditList } from './types';

const FILTERS = ['from', 'to', 'officer', 'case', 'source', 'mine', 'plumbing'] as const;
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
    if ((k === 'mine' || k === 'plumbing') && v !== '1') continue;
    f[k] = v;
  }
  return f;
}

function outcomeTone(outcome: string): Tone {
  const o = outcome.toLowerCase();
  if (/^(ok|success|succeeded|done|stored|served|allowed|accepted|confirmed|hit|miss)$/.test(o)) return 'ok';
  if (/(refused|denied|fail|error|invalid|rejected|conflict|inconsistent)/.test(o)) return 'bad';
  return 'neutral';
}

function outcomeText(outcome: string): string {
  if (outcome === 'ok') return t('a.outcome.ok');
  if (outcome === 'refused') return t('a.outcome.refused');
  return humanise(outcome);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The action in words. Unknown codes still read as a sentence (actor, action, subject), never as JSON. */
export function sentence(a: AuditAction, self: string): string {
  const who = a.officer ?? (a.actor === self ? t('a.system') : a.actor);
  const d = a.detail;
  const vars = { who, actor: a.actor, subject: a.subject, caseRef: a.caseRef ?? '—', action: humanise(a.action) };
  if (a.actor !== self && a.recordedBy.length === 1 && a.recordedBy[0] === 'coordinator') {
    if (/\.refused$|_refused$/.test(a.action)) return t('s.refused', vars);
    if (a.action === 'query.created') return t('s.partnerQuery', vars);
    if (a.action === 'hit.confirmed' || a.action === 'hit.declined') return t('s.partnerHit', { ...vars, verb: t(a.action === 'hit.confirmed' ? 'verb.confirmed' : 'verb.declined') });
  }
  switch (a.action) {
    case 'session.login':
      return a.outcome === 'ok' ? t('s.login', vars) : t('s.loginRefused', vars);
    case 'session.logout':
      return t('s.logout', vars);
    case 'query.create':
    case 'query.created': {
      if (a.outcome !== 'ok') return t('s.queryRefused', { ...vars, reason: str(d['reason']) ?? str(d['message']) ?? outcomeText(a.outcome) });
      const partners = Array.isArray(d['partners']) ? (d['partners'] as unknown[]).filter((p): p is string => typeof p === 'string').join(', ') : (str(d['partner']) ?? '—');
      return t('s.queryCreate', { ...vars, partners: partners || '—', n: num(d['values']) ?? num(d['n']) ?? 0, kind: humanise(str(d['kind']) ?? '—'), purpose: humanise(str(d['purpose']) ?? '—') });
    }
    case 'query.result':
    case 'query.outcome':
      return t('s.queryResult', { ...vars, hits: tn('ov.hits', num(d['hits']) ?? 0) });
    case 'hit.confirm':
    case 'hit.confirmed':
      return t('s.hitConfirm', vars);
    case 'hit.decline':
    case 'hit.declined':
      return t('s.hitDecline', vars);
    case 'hit.note':
      return t('s.hitNote', vars);
    case 'report.create': {
      const reason = str(d['reason']);
      if (a.outcome !== 'ok') return t('s.reportRefused', { ...vars, reason: reason ? humanise(reason) : (str(d['message']) ?? outcomeText(a.outcome)) });
      // The report's number is the local audit entry's sequence number (GET /api/reports/:id).
      return t('s.reportCreate', { ...vars, id: a.local ? String(a.local.seq) : '?', partner: str(d['partner']) ?? '—' });
    }
    case 'audit.export':
      return t('s.export', { ...vars, n: num(d['entries']) ?? 0 });
    case 'officer.preferences':
      return t('s.prefs', vars);
    case 'agreement.accept':
    case 'agreement.accepted':
      return t('s.agreementAccept', vars);
    case 'agreement.reject':
    case 'agreement.rejected':
      return t('s.agreementReject', vars);
    case 'audit_log.inconsistent':
    case 'audit_log.key_changed':
      return t('s.logCheck', vars);
    default:
      if (a.action.startsWith('officer.')) return t('s.officer', vars);
      if (/\.refused$|_refused$/.test(a.action)) return t('s.refused', vars);
      return t('s.other', vars);
  }
}

function recordedBy(a: AuditAction): string {
  if (a.recordedBy.length === 2) return t('a.bothLogs');
  return a.recordedBy[0] === 'local' ? t('a.onlyLocal') : t('a.onlyCoordinator');
}

export function renderAudit(ctx: PageContext): void {
  let filters = readFilters(ctx.params);
  const self = ctx.session.agency.id;
  const input = (id: string, type: string, value: string | undefined, extra: Record<string, string | number> = {}): HTMLInputElement =>
    h('input', { id, type, value, autocomplete: 'off', spellcheck: 'false', ...extra });
  const fromIn = input('audit-from', 'date', filters.from);
  const toIn = input('audit-to', 'date', filters.to);
  const officerIn = input('audit-officer', 'text', filters.officer, { maxlength: 64 });
  const caseIn = input('audit-case', 'text', filters.case, { maxlength: 100 });
  const mineBox = h('input', { id: 'audit-mine', type: 'checkbox', checked: filters.mine === '1' });
  const plumbingBox = h('input', { id: 'audit-plumbing', type: 'checkbox', checked: filters.plumbing === '1' });
  const sourceSel = h(
    'select',
    { id: 'audit-source' },
    h('option', { value: '' }, t('a.both')),
    h('option', { value: 'local' }, t('a.local')),
    h('option', { value: 'coordinator' }, t('a.coordinator')),
  );
  sourceSel.value = filters.source ?? '';

  const exportLink = h('a', { id: 'audit-export', class: 'btn', download: '', href: '/api/audit/export' }, t('a.exportJsonl'));
  const csvLink = h('a', { id: 'audit-export-csv', class: 'btn', download: '', href: '/api/audit/export?format=csv' }, t('a.exportCsv'));
  const printBtn = h('button', { id: 'audit-print', type: 'button', class: 'btn' }, t('a.print'));
  printBtn.addEventListener('click', () => window.print());
  const updateExport = (): void => {
    exportLink.href = withQuery('/api/audit/export', filters);
    csvLink.href = withQuery('/api/audit/export', { ...filters, format: 'csv' });
  };
  updateExport();
  for (const a of [exportLink, csvLink]) a.addEventListener('click', () => announce(t('a.exported')));

  const form = filterForm({
    id: 'audit-filters',
    label: t('a.filters'),
    fields: [
      ['audit-from', t('a.from'), fromIn],
      ['audit-to', t('a.to'), toIn],
      ['audit-officer', t('a.officer'), officerIn],
      ['audit-case', t('a.case'), caseIn],
      ['audit-source', t('a.source'), sourceSel],
    ],
    applyId: 'audit-apply',
    resetId: 'audit-reset',
  });
  // Checkboxes read best with their label after them.
  form.querySelector('.filter-actions')?.before(
    h('div', { class: 'field field-check' }, mineBox, h('label', { for: 'audit-mine' }, t('a.mine'))),
    h('div', { class: 'field field-check' }, plumbingBox, h('label', { for: 'audit-plumbing' }, t('a.plumbing'))),
  );

  const body = h('div', { class: 'page-body', 'aria-busy': 'true' });

  const load = (): void => {
    body.setAttribute('aria-busy', 'true');
    replaceChildren(body, loading(t('a.loading')));
    get<AuditList>(withQuery('/api/audit', filters), ctx.signal)
      .then((list) => renderEntries(body, list, self))
      .catch((e: unknown) => showLoadError(body, e, t('a.what'), load));
  };

  const apply = (): void => {
    filters = {};
    const set = (k: keyof Filters, v: string): void => {
      if (v.trim()) filters[k] = v.trim();
    };
    set('from', fromIn.value);
    set('to', toIn.value);
    set('officer', officerIn.value);
    set('case', caseIn.value);
    set('source', sourceSel.value);
    if (mineBox.checked) filters.mine = '1';
    if (plumbingBox.checked) filters.plumbing = '1';
    replaceParams('audit', filters);
    updateExport();
    load();
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (fromIn.value && toIn.value && fromIn.value > toIn.value) {
      announce(t('a.dateOrder'), 'error');
      fromIn.focus();
      return;
    }
    apply();
  });
  // The toggles act at once: they change what is shown, not what is asked.
  for (const b of [mineBox, plumbingBox]) b.addEventListener('change', apply);
  form.querySelector('#audit-reset')?.addEventListener('click', () => {
    for (const i of [fromIn, toIn, officerIn, caseIn]) i.value = '';
    sourceSel.value = '';
    mineBox.checked = false;
    plumbingBox.checked = false;
    apply();
  });

  ctx.root.append(pageHeader(t('a.title'), t('a.lead'), h('div', { class: 'export-actions' }, exportLink, csvLink, printBtn)), form, body);
  load();
}

function renderEntries(body: HTMLElement, list: AuditList, self: string): void {
  const parts: (Node | null)[] = [];
  if (!list.coordinatorReachable) parts.push(notice('warn', t('a.missingCoordinator')));
  if (list.hiddenPlumbing > 0) parts.push(h('p', { id: 'audit-hidden-plumbing', class: 'muted small' }, t('a.hiddenPlumbing', { n: list.hiddenPlumbing })));
  if (!list.actions.length) {
    parts.push(emptyState(t('a.empty')));
  } else {
    const shown = list.actions.slice(0, MAX_ROWS);
    if (shown.length < list.actions.length) parts.push(notice('info', t('a.truncated', { shown: shown.length, n: list.actions.length })));
    const rows = shown.map((a) => {
      const raw = [a.local ? `${a.action} (#${a.local.seq})` : null, a.coordinator ? `${a.coordinator.action} (#${a.coordinator.seq})` : null].filter(Boolean).join(' · ');
      const detail = JSON.stringify(a.detail);
      return h(
        'tr',
        { 'data-action': a.action, 'data-source': a.recordedBy[0] ?? 'local', 'data-recorded-by': a.recordedBy.join(' '), 'data-plumbing': a.plumbing ? 'true' : null },
        h('td', { class: 'nowrap' }, timeEl(a.at, { seconds: true })),
        h('td', { class: 'nowrap mono small' }, fmtUtc(a.at)),
        h(
          'th',
          { scope: 'row', class: 'audit-what' },
          h('span', { class: 'sentence' }, sentence(a, self)),
          h('details', { class: 'raw small' }, h('summary', null, t('a.raw')), h('p', { class: 'mono break' }, raw), detail !== '{}' ? h('code', { class: 'json break' }, detail) : null),
        ),
        h('td', null, a.officer ?? a.actor),
        h('td', null, a.caseRef ?? '—'),
        h('td', null, badge(outcomeText(a.outcome), outcomeTone(a.outcome))),
        h('td', { class: 'small' }, recordedBy(a)),
      );
    });
    const table = h(
      'table',
      { class: 'data', id: 'audit-table' },
      h('caption', null, t('a.caption', { n: list.actions.length })),
      h('thead', null, h('tr', null, th(t('a.col.time')), th(t('a.col.utc')), th(t('a.col.what')), th(t('a.col.who')), th(t('a.col.case')), th(t('a.col.outcome')), th(t('a.col.recordedBy')))),
      h('tbody', null, rows),
    );
    parts.push(tableWrap(t('a.title'), table));
  }
  body.removeAttribute('aria-busy');
  replaceChildren(body, parts);
}
