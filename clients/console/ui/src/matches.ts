import { ApiError, errorMessage, get, post, withQuery } from './api';
import { announce, h, humanise, plural, replaceChildren, stateBadge, tableWrap, th, timeEl, type Tone } from './dom';
import { emptyState, filterForm, loading, notice, pageHeader, showLoadError, type PageContext } from './page';
import { replaceParams } from './router';
import type { Match, MatchList, MatchStatus } from './types';

const FILTERS = ['partner', 'kind', 'status', 'source', 'from', 'to'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

const STATUS: Record<MatchStatus, { label: string; tone: Tone }> = {
  unverified: { label: 'Unverified', tone: 'warn' },
  confirmed: { label: 'Confirmed', tone: 'ok' },
  declined: { label: 'Declined', tone: 'bad' },
};

const NOTE_MAX = 500;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

const statusBadge = (s: MatchStatus): HTMLElement => stateBadge(STATUS, s);

function sideStatus(s: MatchStatus | null): string {
  return s === null ? 'no decision' : (STATUS[s]?.label ?? s).toLowerCase();
}

function fillSelect(select: HTMLSelectElement, allLabel: string, values: readonly string[], current: string | undefined, label: (v: string) => string = (v) => v): void {
  const set = new Set(values);
  if (current) set.add(current);
  replaceChildren(select, h('option', { value: '' }, allLabel), [...set].map((v) => h('option', { value: v }, label(v))));
  select.value = current ?? '';
}

function readFilters(params: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of FILTERS) {
    const v = params.get(k)?.trim();
    if (!v) continue;
    if ((k === 'from' || k === 'to') && !DATE_RE.test(v)) continue;
    f[k] = v;
  }
  return f;
}

export function renderMatches(ctx: PageContext): void {
  let filters = readFilters(ctx.params);
  let knownPartners: string[] = [];
  let knownKinds: string[] = [];

  const partnerSel = h('select', { id: 'filter-partner' });
  const kindSel = h('select', { id: 'filter-kind' });
  const statusSel = h('select', { id: 'filter-status' });
  const sourceSel = h('select', { id: 'filter-source' });
  const fromIn = h('input', { id: 'filter-from', type: 'date', value: filters.from });
  const toIn = h('input', { id: 'filter-to', type: 'date', value: filters.to });
  fillSelect(statusSel, 'Any status', Object.keys(STATUS), filters.status, (v) => STATUS[v as MatchStatus]?.label ?? v);
  fillSelect(sourceSel, 'Any source', ['nightly', 'query'], filters.source, (v) => (v === 'nightly' ? 'Nightly sync' : 'Targeted query'));
  fillSelect(partnerSel, 'All partners', [], filters.partner);
  fillSelect(kindSel, 'All kinds', [], filters.kind, humanise);

  const form = filterForm({
    id: 'matches-filters',
    label: 'Filter matches',
    fields: [
      ['filter-partner', 'Partner', partnerSel],
      ['filter-kind', 'Kind', kindSel],
      ['filter-status', 'Status', statusSel],
      ['filter-source', 'Source', sourceSel],
      ['filter-from', 'First seen from', fromIn],
      ['filter-to', 'First seen to', toIn],
    ],
    applyId: 'filter-apply',
    resetId: 'filter-reset',
  });

  const body = h('div', { class: 'page-body', 'aria-busy': 'true' });
  const dialog = buildDecisionDialog();

  const load = (): void => {
    body.setAttribute('aria-busy', 'true');
    replaceChildren(body, loading('Loading matches…'));
    get<MatchList>(withQuery('/api/matches', filters), ctx.signal)
      .then((list) => {
        knownPartners = [...new Set([...knownPartners, ...list.partners])].sort();
        knownKinds = [...new Set([...knownKinds, ...list.kinds])].sort();
        fillSelect(partnerSel, 'All partners', knownPartners, filters.partner);
        fillSelect(kindSel, 'All kinds', knownKinds, filters.kind, humanise);
        renderList(body, list, dialog);
      })
      .catch((e: unknown) => showLoadError(body, e, 'matches', load));
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (fromIn.value && toIn.value && fromIn.value > toIn.value) {
      announce('“First seen from” is after “First seen to”.', 'error');
      fromIn.focus();
      return;
    }
    filters = {};
    const set = (k: keyof Filters, v: string): void => {
      if (v) filters[k] = v;
    };
    set('partner', partnerSel.value);
    set('kind', kindSel.value);
    set('status', statusSel.value);
    set('source', sourceSel.value);
    set('from', fromIn.value);
    set('to', toIn.value);
    replaceParams('matches', filters);
    load();
  });
  form.querySelector('#filter-reset')?.addEventListener('click', () => {
    filters = {};
    for (const sel of [partnerSel, kindSel, statusSel, sourceSel]) sel.value = '';
    fromIn.value = '';
    toIn.value = '';
    replaceParams('matches', filters);
    load();
  });

  ctx.root.append(
    pageHeader('Matches', 'Hits this agency holds data for. Confirm or decline each one after checking the record.'),
    form,
    body,
    dialog.el,
  );
  load();
}

function matchRow(m: Match, dialog: DecisionDialog): HTMLTableRowElement {
  const canDecide = m.myStatus === null || m.myStatus === 'unverified';
  const actions = canDecide
    ? h(
        'div',
        { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'confirm', 'aria-label': `Confirm match ${m.handle}` }, 'Confirm'),
        h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'decline', 'aria-label': `Decline match ${m.handle}` }, 'Decline'),
      )
    : h('span', { class: 'muted small' }, 'Decided');
  const row = h(
    'tr',
    { 'data-handle': m.handle, 'data-status': m.status },
    h('th', { scope: 'row', class: 'mono' }, m.recordIds.length ? m.recordIds.map((r) => h('div', null, r)) : '—'),
    h('td', null, m.partner),
    h('td', null, m.kinds.map((k) => h('span', { class: 'tag' }, humanise(k)))),
    h(
      'td',
      null,
      h('code', { class: 'handle' }, m.handle),
      h('div', { class: 'muted small' }, m.source === 'query' ? 'Targeted query' : 'Nightly sync'),
      m.caseRef || m.purpose ? h('div', { class: 'muted small' }, [m.caseRef, m.purpose ? humanise(m.purpose) : null].filter(Boolean).join(' · ')) : null,
    ),
    h('td', null, timeEl(m.firstSeen)),
    h(
      'td',
      null,
      statusBadge(m.status),
      h('div', { class: 'small' }, `Ours: ${sideStatus(m.myStatus)}`),
      h('div', { class: 'small' }, `Partner: ${sideStatus(m.partnerStatus)}`),
    ),
    h('td', null, actions),
  );
  for (const btn of row.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
    btn.addEventListener('click', () => {
      const decision = btn.dataset['action'] === 'decline' ? 'decline' : 'confirm';
      dialog.open(m, decision, btn, (updated) => {
        const fresh = matchRow(updated, dialog);
        row.replaceWith(fresh);
        // The buttons disappear once decided, so focus moves to the row's first cell.
        const cell = fresh.querySelector<HTMLElement>('th');
        if (cell) {
          cell.tabIndex = -1;
          cell.focus();
        }
      });
    });
  }
  return row;
}

function renderList(body: HTMLElement, list: MatchList, dialog: DecisionDialog): void {
  const parts: (Node | null)[] = [];
  if (list.stale) {
    const n = notice('warn', 'These rows may be out of date.', h('p', null, 'The coordinator could not be reached, so this list comes from the local copy. Partner decisions may have changed since.'));
    n.id = 'matches-stale';
    parts.push(n);
  }
  if (!list.matches.length) {
    parts.push(emptyState('No matches for these filters.'));
  } else {
    const table = h(
      'table',
      { class: 'data', id: 'matches-table' },
      h('caption', null, plural(list.matches.length, 'match', 'matches')),
      h('thead', null, h('tr', null, th('Record id(s)'), th('Partner'), th('Kinds'), th('Handle'), th('First seen'), th('Status (ours / partner)'), th('Actions'))),
      h('tbody', null, list.matches.map((m) => matchRow(m, dialog))),
    );
    parts.push(tableWrap('Matches', table));
  }
  body.removeAttribute('aria-busy');
  replaceChildren(body, parts);
}

interface DecisionDialog {
  el: HTMLDialogElement;
  open(m: Match, decision: 'confirm' | 'decline', opener: HTMLElement, onDone: (m: Match) => void): void;
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
      h('p', { id: 'decision-note-help', class: 'help' }, 'Why you confirm or decline, for the audit log. Up to 500 characters; do not paste identifiers.'),
      note,
      count,
    ),
    error,
    h('div', { class: 'form-actions' }, submit, cancel),
  );
  const el = h('dialog', { id: 'decision-dialog', class: 'dialog', 'aria-labelledby': 'decision-title' }, form);

  let current: { m: Match; decision: 'confirm' | 'decline'; opener: HTMLElement; onDone: (m: Match) => void } | null = null;
  let busy = false;

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
    const { m, decision, onDone } = current;
    const text = note.value.trim();
    if (text.length > NOTE_MAX) {
      replaceChildren(error, notice('error', `The note is longer than ${NOTE_MAX} characters.`));
      note.focus();
      return;
    }
    busy = true;
    submit.disabled = true;
    cancel.disabled = true;
    submit.textContent = decision === 'confirm' ? 'Confirming…' : 'Declining…';
    replaceChildren(error);
    const body: { decision: 'confirm' | 'decline'; note?: string } = { decision };
    if (text) body.note = text;
    post<{ match: Match }>(`/api/matches/${encodeURIComponent(m.handle)}/decision`, body)
      .then((res) => {
        busy = false;
        current = null;
        el.close();
        onDone(res.match);
        announce(`Match ${m.handle} ${decision === 'confirm' ? 'confirmed' : 'declined'}.`, 'ok');
      })
      .catch((e: unknown) => {
        busy = false;
        const conflict = e instanceof ApiError && e.status === 409;
        const title = conflict ? 'A decision was already recorded for this match.' : 'The decision was not recorded.';
        const detail = conflict ? ((e instanceof ApiError && e.detail) || 'Reload the list to see it.') : errorMessage(e);
        replaceChildren(error, notice('error', title, h('p', null, detail)));
        announce(`${title} ${detail}`, 'error');
        note.focus();
      })
      .finally(() => {
        submit.disabled = false;
        cancel.disabled = false;
        if (current) submit.textContent = decision === 'confirm' ? 'Confirm match' : 'Decline match';
      });
  });

  return {
    el,
    open(m, decision, opener, onDone) {
      current = { m, decision, opener, onDone };
      title.textContent = decision === 'confirm' ? 'Confirm match' : 'Decline match';
      replaceChildren(
        summary,
        h(
          'dl',
          { class: 'kv' },
          h('dt', null, 'Handle'),
          h('dd', null, h('code', null, m.handle)),
          h('dt', null, 'Partner'),
          h('dd', null, m.partner),
          h('dt', null, 'Record id(s)'),
          h('dd', { class: 'mono' }, m.recordIds.join(', ') || '—'),
          h('dt', null, 'Kinds'),
          h('dd', null, m.kinds.map(humanise).join(', ')),
        ),
      );
      explain.textContent =
        decision === 'confirm'
          ? 'Confirm only after checking that the local record really is the person or object the partner holds. The partner is told the match is confirmed.'
          : 'Decline when the local record does not correspond (e.g. a reused or mistyped identifier). The partner is told the match is declined.';
      submit.textContent = decision === 'confirm' ? 'Confirm match' : 'Decline match';
      submit.className = decision === 'confirm' ? 'btn btn-primary' : 'btn btn-danger';
      note.value = '';
      count.textContent = `0 / ${NOTE_MAX}`;
      replaceChildren(error);
      el.showModal();
      note.focus();
    },
  };
}
