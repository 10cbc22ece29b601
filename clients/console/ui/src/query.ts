// Targeted queries. The values the officer types exist only in this page's memory
// (the textarea, the draft kept across a re-login, and the `sent` array of the last
// query); they are never written to the URL, to storage or to the console, and the
// textarea has no `name`, so even a native form submission could not serialise them.
// The rest of the form (kind, purpose, case reference, partners) is also kept in
// sessionStorage, which this tab alone can read and which ends with it.
import { ApiError, errorMessage, get, post } from './api';
import { announce, badge, fmtNum, h, humanise, replaceChildren, tableWrap, th, timeEl, type Tone } from './dom';
import { t, tn, type Key } from './i18n';
import { emptyState, loading, notice, pageHeader, showLoadError, type PageContext } from './page';
import { hrefFor } from './router';
import type { BadValue, LegAnswer, QueryLeg, QueryOptionPartner, QueryOptions, QueryReply, QueryRequest, QuerySummary } from './types';

const MAX_VALUES = 100;

const ANSWER: Record<LegAnswer, { label: Key; tone: Tone }> = {
  answered: { label: 'q.answer.answered', tone: 'ok' },
  waiting: { label: 'q.answer.waiting', tone: 'info' },
  offline: { label: 'q.answer.offline', tone: 'warn' },
  refused: { label: 'q.answer.refused', tone: 'bad' },
  failed: { label: 'q.answer.failed', tone: 'bad' },
};

const legBadge = (leg: QueryLeg): HTMLElement => {
  const d = ANSWER[leg.answer] ?? ANSWER.waiting;
  return badge(t(d.label), d.tone, { 'data-answer': leg.answer });
};

/** What a value of each kind looks like (made-up values), shown beside a refused line. */
const EXAMPLES: Record<string, string> = {
  passport: 'ESP:XDA123456',
  national_id: 'ESP-12345678Z',
  phone: '+34 600 123 456',
  email: 'name@example.org',
  iban: 'ES91 2100 0418 4502 0005 1332',
  name_dob: 'María López García|1980-04-23',
  name_dob_phonetic: 'María López García|1980-04-23',
  imei: '490154203237518',
  vin: '1M8GDM9AXKP042788',
  crypto_address: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
};
const exampleOf = (kind: string): string => EXAMPLES[kind] ?? '—';

interface Draft {
  kind?: string;
  values?: string;
  all?: boolean;
  partners?: string[];
  purpose?: string;
  caseRef?: string;
  country?: string;
}

const DRAFT_KEY = 'concordat.query-form';
/** The form as last typed: survives navigation and a re-login (same page); values never leave memory. */
let draft: Draft = readStoredDraft();
/** A query the server refused with 401 (the session had ended): nothing was sent; say so after signing in again. */
let lostToSession = false;

function readStoredDraft(): Draft {
  try {
    const v = JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? '{}') as Draft;
    return { ...(v.kind ? { kind: v.kind } : {}), ...(v.purpose ? { purpose: v.purpose } : {}), ...(v.caseRef ? { caseRef: v.caseRef } : {}), ...(v.all ? { all: true } : {}), ...(Array.isArray(v.partners) ? { partners: v.partners } : {}) };
  } catch {
    return {};
  }
}

function saveDraft(d: Draft): void {
  draft = d;
  const { values: _values, ...rest } = d;
  try {
    sessionStorage.setItem(DRAFT_KEY, JSON.stringify(rest));
  } catch {
    // Storage refused (private mode, quota): the draft stays in memory only.
  }
}

/**
 * Queries with a partner that has not answered yet, followed in the
 * background: when an answer arrives, a notice says so on any page.
 */
const watched = new Map<string, { caseRef: string; waiting: Set<string>; onUpdate?: (q: QuerySummary) => void }>();
let watchTimer: number | undefined;
const WATCH_EVERY_MS = 10_000;

function watch(q: QuerySummary, onUpdate?: (q: QuerySummary) => void): void {
  const waiting = new Set(q.legs.filter((l) => l.answer === 'waiting' || l.answer === 'offline').map((l) => l.partner));
  if (!waiting.size) {
    watched.delete(q.queryId);
    return;
  }
  watched.set(q.queryId, { caseRef: q.caseRef, waiting, ...(onUpdate ? { onUpdate } : {}) });
  if (watchTimer === undefined) watchTimer = window.setInterval(pollWatched, WATCH_EVERY_MS);
}

/** Records what a fresh look at a watched query shows, announcing every partner that answered since. */
function settle(fresh: QuerySummary): void {
  const w = watched.get(fresh.queryId);
  if (!w) return;
  for (const leg of fresh.legs) {
    if (!w.waiting.has(leg.partner) || leg.answer === 'waiting' || leg.answer === 'offline') continue;
    w.waiting.delete(leg.partner);
    const hits = leg.answer === 'answered' && leg.proofVerified ? leg.results.filter((r) => r.hit).length : 0;
    showLateNotice(t('q.lateArrived', { partner: leg.partner, id: fresh.queryId, caseRef: fresh.caseRef, hits: tn('ov.hits', hits) }), fresh.queryId, leg.partner);
  }
  w.onUpdate?.(fresh);
  if (!w.waiting.size) watched.delete(fresh.queryId);
}

function pollWatched(): void {
  if (!watched.size) {
    window.clearInterval(watchTimer);
    watchTimer = undefined;
    return;
  }
  for (const id of [...watched.keys()]) {
    get<QuerySummary>(`/api/queries/${encodeURIComponent(id)}`)
      .then(settle)
      .catch((e: unknown) => {
        // Signed out: nothing more to follow in this page.
        if (e instanceof ApiError && e.status === 401) watched.clear();
      });
  }
}

/** A late answer's notice, above the page (it outlives navigation), until dismissed. */
function showLateNotice(text: string, queryId: string, partner: string): void {
  let area = document.getElementById('late-answers');
  if (!area) {
    area = h('div', { id: 'late-answers', class: 'late-answers', role: 'region', 'aria-label': t('q.results') });
    document.getElementById('main')?.before(area);
  }
  const close = h('button', { type: 'button', class: 'btn btn-quiet' }, '×');
  const box = h('div', { class: 'notice notice-ok late-answer', 'data-query-id': queryId, 'data-partner': partner }, h('p', { class: 'notice-title' }, text), close);
  close.setAttribute('aria-label', t('common.reset'));
  close.addEventListener('click', () => box.remove());
  area.append(box);
  announce(text, 'ok');
}

/** Splits the textarea into values, remembering each value's 1-based line for error messages. */
function parseValues(text: string): { value: string; line: number }[] {
  const out: { value: string; line: number }[] = [];
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const value = raw.trim();
    if (value) out.push({ value, line: i + 1 });
  });
  return out;
}

/** One entry per partner; a partner with several reveal agreements gets their kinds and purposes merged. */
interface PartnerChoice {
  partner: string;
  agreements: QueryOptionPartner[];
}

function groupPartners(opts: QueryOptions): PartnerChoice[] {
  const byId = new Map<string, PartnerChoice>();
  for (const p of opts.partners) {
    const c = byId.get(p.partner) ?? { partner: p.partner, agreements: [] };
    c.agreements.push(p);
    byId.set(p.partner, c);
  }
  return [...byId.values()].sort((a, b) => a.partner.localeCompare(b.partner));
}

function agreementFor(c: PartnerChoice, kind: string): QueryOptionPartner | undefined {
  return c.agreements.find((a) => a.kinds.includes(kind));
}

export function renderQuery(ctx: PageContext): void {
  const formArea = h('div', { class: 'page-body', 'aria-busy': 'true' }, loading(t('common.loading')));
  const results = h('div', { id: 'query-results', class: 'query-results', 'aria-live': 'off' });
  const recent = h('div', { id: 'recent-queries-area' });
  ctx.root.append(
    pageHeader(t('q.title'), t('q.lead')),
    ...(lostToSession ? [notice('warn', t('q.sessionLost'))] : []),
    formArea,
    results,
    h('h2', { id: 'recent-title' }, t('q.recent')),
    recent,
  );
  lostToSession = false;

  const loadOptions = (): void => {
    get<QueryOptions>('/api/query/options', ctx.signal)
      .then((opts) => buildForm(ctx, formArea, results, opts, () => loadRecent(ctx, recent)))
      .catch((e: unknown) => showLoadError(formArea, e, t('q.what.options'), loadOptions));
  };
  loadOptions();
  loadRecent(ctx, recent);
}

function buildForm(ctx: PageContext, area: HTMLElement, results: HTMLElement, opts: QueryOptions, refreshRecent: () => void): void {
  area.removeAttribute('aria-busy');
  const choices = groupPartners(opts);
  if (!opts.kinds.length || !choices.length) {
    replaceChildren(area, notice('info', t('q.noAgreement'), h('p', null, t('q.noAgreementDetail'))));
    return;
  }

  const kindSel = h('select', { id: 'query-kind', required: true }, opts.kinds.map((k) => h('option', { value: k }, humanise(k))));
  const values = h('textarea', {
    id: 'query-values',
    rows: 8,
    required: true,
    autocomplete: 'off',
    autocapitalize: 'off',
    autocorrect: 'off',
    spellcheck: 'false',
    'aria-describedby': 'query-values-help query-values-count',
  });
  const valuesCount = h('p', { id: 'query-values-count', class: 'help' }, tn('q.count', 0));
  const allBox = h('input', { id: 'query-all', type: 'checkbox', value: 'all' });
  const partnerList = h('ul', { class: 'checks', id: 'query-partner-list' });
  const purposeSel = h(
    'select',
    { id: 'query-purpose', required: true },
    h('option', { value: '' }, t('q.choosePurpose')),
    opts.purposes.map((p) => h('option', { value: p }, humanise(p))),
  );
  const caseIn = h('input', { id: 'query-case', type: 'text', required: true, maxlength: 100, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'query-case-help' });
  const countryIn = h('input', {
    id: 'query-country',
    type: 'text',
    maxlength: 2,
    size: 3,
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'characters',
    pattern: '[A-Za-z]{2}',
    'aria-describedby': 'query-country-help',
  });
  const countryField = h(
    'div',
    { class: 'field field-narrow', id: 'query-country-field' },
    h('label', { for: 'query-country' }, t('q.country')),
    h('p', { id: 'query-country-help', class: 'help' }, t('q.countryHelp')),
    countryIn,
  );
  const submit = h('button', { id: 'query-submit', type: 'submit', class: 'btn btn-primary' }, t('q.send'));
  const clear = h('button', { id: 'query-clear', type: 'button', class: 'btn btn-quiet' }, t('q.clear'));
  const busyText = h('span', { id: 'query-busy', class: 'busy', hidden: true });
  const errorBox = h('div', { id: 'query-error', class: 'form-error-slot' });

  const quotaLeft = new Map<string, number>();
  for (const c of choices) for (const a of c.agreements) quotaLeft.set(`${c.partner}\u0000${a.agreement}`, a.queriesLeftToday);

  const partnerBoxes = (): HTMLInputElement[] => [...partnerList.querySelectorAll<HTMLInputElement>('input[name="partner"]')];

  const renderPartners = (): void => {
    const kind = kindSel.value;
    const purpose = purposeSel.value;
    const checked = new Set(partnerBoxes().filter((b) => b.checked).map((b) => b.value));
    const items = choices
      .map((c) => ({ c, a: agreementFor(c, kind) }))
      .filter((x): x is { c: PartnerChoice; a: QueryOptionPartner } => x.a !== undefined)
      .map(({ c, a }) => {
        const left = quotaLeft.get(`${c.partner}\u0000${a.agreement}`) ?? a.queriesLeftToday;
        const purposeOk = !purpose || a.purposes.includes(purpose);
        const why = left <= 0 ? t('q.noneLeft') : !purposeOk ? t('q.notCovered', { purpose: humanise(purpose) }) : null;
        const id = `query-partner-${c.partner}`;
        const box = h('input', {
          id,
          type: 'checkbox',
          name: 'partner',
          value: c.partner,
          // Under "All allowed partners" every eligible partner is shown ticked (and locked) so the choice is visible.
          checked: !why && (allBox.checked || checked.has(c.partner)),
          disabled: !!why || allBox.checked,
          'aria-describedby': `${id}-info`,
          'data-unavailable': why ? 'true' : null,
        });
        return h(
          'li',
          null,
          box,
          h('label', { for: id }, h('strong', null, c.partner)),
          h(
            'span',
            { id: `${id}-info`, class: why ? 'check-info unavailable' : 'check-info' },
            ` — ${t('q.quotaLine', { left, perDay: a.perDay, max: a.maxValues })}`,
            why ? h('strong', null, ` (${t('q.unavailable', { why })})`) : null,
          ),
        );
      });
    replaceChildren(partnerList, items.length ? items : h('li', { class: 'muted' }, t('q.noPartnerForKind', { kind: humanise(kind) })));
  };

  const selectedChoices = (): { c: PartnerChoice; a: QueryOptionPartner }[] => {
    const kind = kindSel.value;
    const purpose = purposeSel.value;
    const usable = choices
      .map((c) => ({ c, a: agreementFor(c, kind) }))
      .filter((x): x is { c: PartnerChoice; a: QueryOptionPartner } => x.a !== undefined);
    if (allBox.checked) {
      return usable.filter(({ c, a }) => (quotaLeft.get(`${c.partner}\u0000${a.agreement}`) ?? a.queriesLeftToday) > 0 && (!purpose || a.purposes.includes(purpose)));
    }
    const picked = new Set(partnerBoxes().filter((b) => b.checked && !b.disabled).map((b) => b.value));
    return usable.filter(({ c }) => picked.has(c.partner));
  };

  const updateCount = (): void => {
    const n = parseValues(values.value).length;
    valuesCount.textContent = n > MAX_VALUES ? t('q.tooMany', { n, max: MAX_VALUES }) : tn('q.count', n);
    valuesCount.classList.toggle('help-error', n > MAX_VALUES);
  };
  const valuesHelp = h('p', { id: 'query-values-help', class: 'help' });
  const updateCountry = (): void => {
    countryField.hidden = kindSel.value !== 'phone';
    valuesHelp.textContent = t('q.valuesHelp', { max: MAX_VALUES, example: exampleOf(kindSel.value) });
  };
  const remember = (): void =>
    saveDraft({
      kind: kindSel.value,
      values: values.value,
      all: allBox.checked,
      partners: partnerBoxes().filter((b) => b.checked).map((b) => b.value),
      purpose: purposeSel.value,
      caseRef: caseIn.value,
      country: countryIn.value,
    });

  kindSel.addEventListener('change', () => {
    renderPartners();
    updateCountry();
  });
  purposeSel.addEventListener('change', renderPartners);
  allBox.addEventListener('change', renderPartners);
  values.addEventListener('input', updateCount);
  clear.addEventListener('click', () => {
    values.value = '';
    values.removeAttribute('aria-invalid');
    replaceChildren(results);
    updateCount();
    remember();
    values.focus();
    announce(t('q.cleared'));
  });

  const fieldError = (control: HTMLElement, title: string, detail?: string): void => {
    control.setAttribute('aria-invalid', 'true');
    replaceChildren(errorBox, notice('error', title, detail ? h('p', null, detail) : null));
    announce(detail ? `${title} ${detail}` : title, 'error');
    control.focus();
  };
  const clearErrors = (): void => {
    for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
    replaceChildren(errorBox);
  };

  const form = h(
    'form',
    { id: 'query-form', class: 'query-form', method: 'post', novalidate: true, 'aria-describedby': 'query-error' },
    h('div', { class: 'field field-narrow' }, h('label', { for: 'query-kind' }, t('q.kind')), kindSel),
    h('div', { class: 'field' }, h('label', { for: 'query-values' }, t('q.values')), valuesHelp, values, valuesCount),
    countryField,
    h(
      'fieldset',
      { class: 'field' },
      h('legend', null, t('q.partners')),
      h('div', { class: 'check-all' }, allBox, h('label', { for: 'query-all' }, h('strong', null, t('q.all')))),
      partnerList,
    ),
    h('div', { class: 'field field-narrow' }, h('label', { for: 'query-purpose' }, t('q.purpose')), purposeSel),
    h(
      'div',
      { class: 'field field-narrow' },
      h('label', { for: 'query-case' }, t('q.case')),
      h('p', { id: 'query-case-help', class: 'help' }, t('q.caseHelp')),
      caseIn,
    ),
    errorBox,
    h('div', { class: 'form-actions' }, submit, clear, busyText),
  );

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors();
    const parsed = parseValues(values.value);
    remember();
    if (!parsed.length) return fieldError(values, t('q.enterValue'));
    if (parsed.length > MAX_VALUES) return fieldError(values, t('q.tooManyTitle', { n: parsed.length }), t('q.tooManyDetail', { max: MAX_VALUES }));
    const chosen = selectedChoices();
    if (!chosen.length) return fieldError(allBox, t('q.choosePartner'));
    const tooMany = chosen.filter(({ a }) => parsed.length > a.maxValues);
    if (tooMany.length) {
      return fieldError(values, t('q.tooManyFor', { partners: tooMany.map(({ c }) => c.partner).join(', '), max: Math.min(...tooMany.map(({ a }) => a.maxValues)) }));
    }
    if (!purposeSel.value) return fieldError(purposeSel, t('q.needPurpose'));
    const caseRef = caseIn.value.trim();
    if (!caseRef) return fieldError(caseIn, t('q.needCase'));
    const country = countryIn.value.trim().toUpperCase();
    if (!countryField.hidden && country && !/^[A-Z]{2}$/.test(country)) return fieldError(countryIn, t('q.badCountry'));

    const req: QueryRequest = {
      kind: kindSel.value,
      values: parsed.map((p) => p.value),
      partners: allBox.checked ? 'all' : chosen.map(({ c }) => c.partner),
      purpose: purposeSel.value,
      caseRef,
    };
    if (!countryField.hidden && country) req.defaultCountry = country;
    const sent = parsed;

    submit.disabled = true;
    clear.disabled = true;
    submit.textContent = t('q.sending');
    form.setAttribute('aria-busy', 'true');
    busyText.hidden = false;
    const started = Date.now();
    const tick = (): void => {
      busyText.textContent = t('q.waiting', { s: Math.round((Date.now() - started) / 1000), max: 20 });
    };
    tick();
    const timer = window.setInterval(tick, 1000);
    // Nothing is announced as "sent" before the server says so: the reply (or the error) speaks.
    replaceChildren(results);

    post<QueryReply>('/api/queries', req)
      .then((reply) => {
        for (const q of reply.quota) {
          for (const c of choices) {
            if (c.partner !== q.partner) continue;
            const a = agreementFor(c, reply.kind);
            if (a) quotaLeft.set(`${c.partner}\u0000${a.agreement}`, q.queriesLeftToday);
          }
        }
        renderPartners();
        const shown = sent.map((x) => x.value);
        renderResults(results, reply, shown, reply.quota);
        watch(reply, (fresh) => {
          if (results.isConnected && results.querySelector(`[data-query="${reply.queryId}"]`)) renderResults(results, fresh, shown, reply.quota);
        });
        const summary = summaryOf(reply);
        if (ctx.signal.aborted) {
          // The officer left the page while waiting; the values are gone with it, the answer is kept server-side.
          announce(summary, 'ok');
          return;
        }
        announce(summary, 'ok');
        refreshRecent();
        results.querySelector<HTMLElement>('#query-results-title')?.focus();
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) {
          // The console refused before doing anything: nothing was sent. The form is kept for after sign-in.
          lostToSession = true;
          return;
        }
        const field = e instanceof ApiError ? e.field : undefined;
        const badValues = e instanceof ApiError && Array.isArray(e.body['values']) ? (e.body['values'] as BadValue[]) : [];
        if (badValues.length && e instanceof ApiError) return showBadLines(badValues);
        const target =
          field === 'body.kind' ? kindSel : field === 'body.purpose' ? purposeSel : field === 'body.caseRef' ? caseIn : field === 'body.defaultCountry' ? countryIn : field === 'body.partners' ? allBox : null;
        const title =
          e instanceof ApiError && (e.status === 403 || e.status === 429)
            ? t('q.refused')
            : e instanceof ApiError && e.status === 502
              ? t('q.down')
              : t('q.failed');
        if (target) return fieldError(target, title, errorMessage(e));
        replaceChildren(errorBox, notice('error', title, h('p', null, errorMessage(e))));
        announce(`${title} ${errorMessage(e)}`, 'error');
      })
      .finally(() => {
        window.clearInterval(timer);
        submit.disabled = false;
        clear.disabled = false;
        submit.textContent = t('q.send');
        form.removeAttribute('aria-busy');
        busyText.hidden = true;
      });
  });

  /** Every refused line at once, in plain words, with what a good value of the kind looks like. */
  const showBadLines = (bad: readonly BadValue[]): void => {
    const parsed = parseValues(values.value);
    const kind = humanise(kindSel.value);
    const lines = bad.map((b) => ({ line: parsed[b.index]?.line ?? b.index + 1, why: b.message, rule: b.rule }));
    const first = lines[0];
    if (first) selectLine(values, first.line);
    values.setAttribute('aria-invalid', 'true');
    const title = lines.length === 1 && first ? t('q.badLine', { line: first.line, kind }) : t('q.badLines', { n: lines.length, kind });
    const box = notice(
      'error',
      title,
      h('ul', { id: 'query-bad-lines' }, lines.map((l) => h('li', { 'data-line': l.line, 'data-rule': l.rule }, t('q.lineIs', { line: l.line, why: l.why })))),
      h('p', { id: 'query-format-example' }, t('q.formatExample', { kind, example: exampleOf(kindSel.value) })),
    );
    replaceChildren(errorBox, box);
    announce(`${title} ${lines.map((l) => t('q.lineIs', { line: l.line, why: l.why })).join(' ')}`, 'error');
    values.focus();
  };

  // The draft (this page's memory, and sessionStorage without the values) fills the form again.
  if (draft.kind && opts.kinds.includes(draft.kind)) kindSel.value = draft.kind;
  if (draft.purpose && opts.purposes.includes(draft.purpose)) purposeSel.value = draft.purpose;
  if (draft.values) values.value = draft.values;
  if (draft.caseRef) caseIn.value = draft.caseRef;
  if (draft.country) countryIn.value = draft.country;
  if (draft.all) allBox.checked = true;
  for (const el of [values, caseIn, countryIn]) el.addEventListener('input', remember);
  for (const el of [kindSel, purposeSel, allBox]) el.addEventListener('change', remember);
  partnerList.addEventListener('change', remember);

  replaceChildren(area, form);
  renderPartners();
  if (draft.partners && !draft.all) for (const b of partnerBoxes()) if (!b.disabled && draft.partners.includes(b.value)) b.checked = true;
  updateCountry();
  updateCount();
}

/** One sentence that never calls a query answered when no partner answered it. */
function summaryOf(q: QuerySummary): string {
  const answered = q.legs.filter((l) => l.answer === 'answered');
  if (!answered.length) return t('q.summaryNone', { id: q.queryId });
  const hits = answered.reduce((n, l) => n + (l.proofVerified ? l.results.filter((r) => r.hit).length : 0), 0);
  return t('q.summary', { id: q.queryId, answered: answered.length, asked: q.legs.length, hits: tn('ov.hits', hits) });
}

function selectLine(textarea: HTMLTextAreaElement, line: number): void {
  const lines = textarea.value.split(/\r\n|\r|\n/);
  let start = 0;
  for (let i = 0; i < line - 1; i++) start += (lines[i]?.length ?? 0) + 1;
  const end = start + (lines[line - 1]?.length ?? 0);
  textarea.setSelectionRange(start, end);
}

function proofText(leg: QueryLeg): HTMLElement {
  if (leg.state !== 'done') return h('span', { class: 'muted' }, `— ${t('q.noAnswerYet')}`);
  return leg.proofVerified ? badge(t('q.proofOk'), 'ok') : badge(t('q.proofBad'), 'bad');
}

/** The result a leg gives for one value; undefined when there is no trustworthy answer. */
function resultFor(leg: QueryLeg, index: number): { hit: boolean; handle?: string } | undefined {
  // A partner answer whose proof did not verify is never shown as "no hit".
  if (leg.state !== 'done' || !leg.proofVerified) return undefined;
  return leg.results.find((x) => x.index === index);
}

function resultText(leg: QueryLeg, index: number): HTMLElement {
  const r = resultFor(leg, index);
  if (!r) {
    const why = leg.state === 'done' && !leg.proofVerified ? t('q.unknownProof') : t('q.notAnswered');
    return h('span', { class: 'muted' }, why);
  }
  return r.hit
    ? h('span', { class: 'hit' }, badge(t('q.hit'), 'ok'), r.handle ? [' ', h('code', { class: 'handle' }, r.handle)] : null)
    : h('span', { class: 'nohit' }, t('q.noHit'));
}

function renderResults(container: HTMLElement, q: QuerySummary, sent: readonly string[] | null, quota: QueryReply['quota'] | null): void {
  const n = sent ? sent.length : q.values;
  const left = new Map((quota ?? []).map((x) => [x.partner, x]));

  // One section per partner, one row per value: the officer reads each partner's answer with its proof status beside it.
  const legs = q.legs.map((leg) => {
    const hits = leg.state === 'done' && leg.proofVerified ? leg.results.filter((r) => r.hit).length : null;
    const note = [leg.error, leg.detail].filter(Boolean).join(': ');
    const rows: HTMLTableRowElement[] = [];
    for (let i = 0; i < n; i++) {
      const r = resultFor(leg, i);
      rows.push(
        h(
          'tr',
          { 'data-partner': leg.partner, 'data-index': i, 'data-hit': r ? String(r.hit) : 'unknown', class: r?.hit ? 'row-hit' : null },
          h('td', { class: 'num' }, String(i + 1)),
          sent ? h('th', { scope: 'row', class: 'mono value' }, sent[i] ?? '') : h('th', { scope: 'row', class: 'muted' }, t('q.valueN', { n: i + 1 })),
          h('td', null, resultText(leg, i)),
        ),
      );
    }
    const table = h(
      'table',
      { class: 'data compact' },
      h('caption', { class: 'visually-hidden' }, t('q.answersFrom', { partner: leg.partner })),
      h('thead', null, h('tr', null, th('#', 'col', { class: 'num' }), th(t('q.col.value')), th(t('q.col.result')))),
      h('tbody', null, rows),
    );
    const headingId = `leg-${leg.partner}`;
    return h(
      'section',
      { class: 'leg', 'data-leg': leg.partner, 'data-state': leg.state, 'data-answer': leg.answer, 'aria-labelledby': headingId },
      h('div', { class: 'leg-header' }, h('h3', { id: headingId }, leg.partner), legBadge(leg), proofText(leg)),
      h(
        'p',
        { class: 'leg-meta small' },
        // A count of hits only beside a verified answer: a partner that never answered has no "0 hits".
        hits === null ? t(ANSWER[leg.answer]?.label ?? 'q.answer.waiting') : tn('ov.hits', hits),
        left.has(leg.partner)
          ? [' · ', h('span', { 'data-quota': leg.partner }, t('q.quotaLeft', { left: left.get(leg.partner)?.queriesLeftToday ?? 0, perDay: left.get(leg.partner)?.perDay ?? '—' }))]
          : null,
      ),
      note ? h('p', { class: 'reason-failed small' }, note) : null,
      leg.answer === 'waiting' || leg.answer === 'offline' ? h('p', { class: 'small', 'data-offline-help': leg.partner }, t('q.offlineHelp', { partner: leg.partner })) : null,
      hits ? h('p', { class: 'small hit-next' }, t('q.hitNext', { partner: leg.partner }), ' ', h('a', { href: hrefFor('matches', { partner: leg.partner }) }, t('ov.open'))) : null,
      tableWrap(t('q.answersFrom', { partner: leg.partner }), table),
    );
  });

  const pending = q.legs.some((l) => l.answer === 'waiting' || l.answer === 'offline');
  const again = pending ? h('button', { type: 'button', class: 'btn', id: 'query-check-again' }, t('q.checkAgain')) : null;
  again?.addEventListener('click', () => {
    again.disabled = true;
    again.textContent = t('q.checking');
    get<QuerySummary>(`/api/queries/${encodeURIComponent(q.queryId)}`)
      .then((fresh) => {
        // Any answer found now is announced like one the background check finds (and only once).
        if (watched.has(fresh.queryId)) settle(fresh);
        renderResults(container, fresh, sent, quota);
        announce(t('q.refreshed', { id: q.queryId }), 'ok');
      })
      .catch((e: unknown) => {
        again.disabled = false;
        again.textContent = t('q.checkAgain');
        announce(t('common.error', { msg: errorMessage(e) }), 'error');
      });
  });

  replaceChildren(
    container,
    h('h2', { id: 'query-results-title', tabindex: -1, 'data-query': q.queryId }, t('q.results')),
    h('p', { id: 'query-summary' }, summaryOf(q)),
    h(
      'dl',
      { class: 'kv kv-inline' },
      (
        [
          [t('q.col.query'), h('span', { class: 'mono' }, q.queryId)],
          [t('q.col.sent'), timeEl(q.createdAt, { seconds: true })],
          [t('q.kind'), humanise(q.kind)],
          [t('q.purpose'), humanise(q.purpose)],
          [t('q.case'), q.caseRef],
          [t('q.values'), fmtNum(q.values)],
        ] as const
      ).map(([k, v]) => h('div', { class: 'kv-pair' }, h('dt', null, k), h('dd', null, v))),
    ),
    again ? h('p', null, again) : null,
    h('div', { class: 'legs' }, legs),
  );
}

function legSummary(leg: QueryLeg): HTMLElement {
  const hits = leg.state === 'done' && leg.proofVerified ? leg.results.filter((r) => r.hit) : [];
  return h(
    'li',
    null,
    h('strong', null, leg.partner),
    ' ',
    legBadge(leg),
    leg.state === 'done' ? (leg.proofVerified ? ' ✓' : ' ✗') : null,
    leg.state === 'done' && leg.proofVerified ? ` · ${tn('ov.hits', hits.length)}` : null,
    hits.length ? h('span', { class: 'small' }, ' (', hits.map((r, i) => [i ? ', ' : '', h('code', { class: 'handle' }, r.handle ?? `#${r.index + 1}`)]), ')') : null,
  );
}

function loadRecent(ctx: PageContext, area: HTMLElement): void {
  if (!area.firstChild) area.append(loading(t('common.loading')));
  area.setAttribute('aria-busy', 'true');
  get<{ queries: QuerySummary[] }>('/api/queries', ctx.signal)
    .then(({ queries }) => {
      area.removeAttribute('aria-busy');
      if (!queries.length) return replaceChildren(area, emptyState(t('q.noRecent')));
      const rows = queries.map((q) =>
        h(
          'tr',
          { 'data-query-id': q.queryId },
          h('td', null, timeEl(q.createdAt, { seconds: true })),
          h('th', { scope: 'row', class: 'mono' }, q.queryId),
          h('td', null, humanise(q.kind)),
          h('td', null, humanise(q.purpose)),
          h('td', null, q.caseRef),
          h('td', null, q.officer),
          h('td', { class: 'num' }, fmtNum(q.values)),
          h('td', { class: 'legs-cell' }, h('ul', { class: 'plain' }, q.legs.map(legSummary))),
        ),
      );
      const table = h(
        'table',
        { class: 'data', id: 'recent-queries' },
        h('caption', { class: 'visually-hidden' }, t('q.recent')),
        h(
          'thead',
          null,
          h('tr', null, th(t('q.col.sent')), th(t('q.col.query')), th(t('q.kind')), th(t('q.purpose')), th(t('q.case')), th(t('q.col.officer')), th(t('q.values'), 'col', { class: 'num' }), th(t('q.partners'))),
        ),
        h('tbody', null, rows),
      );
      replaceChildren(area, tableWrap(t('q.recent'), table));
    })
    .catch((e: unknown) => showLoadError(area, e, t('q.what.recent'), () => loadRecent(ctx, area)));
}
