// Targeted queries. The values the officer types exist only in this page's memory
// (the textarea and the `sent` array of the last query); they are never written
// to the URL, to storage or to the console, and the textarea has no `name`, so
// even a native form submission could not serialise them.
import { ApiError, errorMessage, get, post } from './api';
import { announce, badge, fmtNum, h, humanise, plural, replaceChildren, stateBadge, tableWrap, th, timeEl, type Tone } from './dom';
import { emptyState, loading, notice, pageHeader, showLoadError, type PageContext } from './page';
import type { LegState, QueryLeg, QueryOptionPartner, QueryOptions, QueryReply, QueryRequest, QuerySummary } from './types';

const MAX_VALUES = 100;

const LEG_STATE: Record<LegState, { label: string; tone: Tone }> = {
  done: { label: 'Answered', tone: 'ok' },
  pending: { label: 'Pending', tone: 'info' },
  error: { label: 'Error', tone: 'bad' },
  expired: { label: 'Expired', tone: 'bad' },
  incomplete: { label: 'Incomplete', tone: 'warn' },
};

const legBadge = (state: LegState): HTMLElement => stateBadge(LEG_STATE, state);

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
  const formArea = h('div', { class: 'page-body', 'aria-busy': 'true' }, loading('Loading query options…'));
  const results = h('div', { id: 'query-results', class: 'query-results', 'aria-live': 'off' });
  const recent = h('div', { id: 'recent-queries-area' });
  ctx.root.append(
    pageHeader('Query', 'Ask partner agencies whether they hold specific identifiers. Values are blinded before they leave this computer and are never stored.'),
    formArea,
    results,
    h('h2', { id: 'recent-title' }, 'Recent queries'),
    recent,
  );

  const loadOptions = (): void => {
    get<QueryOptions>('/api/query/options', ctx.signal)
      .then((opts) => buildForm(ctx, formArea, results, opts, () => loadRecent(ctx, recent)))
      .catch((e: unknown) => showLoadError(formArea, e, 'the query options', loadOptions));
  };
  loadOptions();
  loadRecent(ctx, recent);
}

function buildForm(ctx: PageContext, area: HTMLElement, results: HTMLElement, opts: QueryOptions, refreshRecent: () => void): void {
  area.removeAttribute('aria-busy');
  const choices = groupPartners(opts);
  if (!opts.kinds.length || !choices.length) {
    replaceChildren(area, notice('info', 'No agreement allows targeted queries.', h('p', null, 'Targeted queries need a reveal-mode agreement with a partner agency.')));
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
  const valuesCount = h('p', { id: 'query-values-count', class: 'help' }, '0 values');
  const allBox = h('input', { id: 'query-all', type: 'checkbox', value: 'all' });
  const partnerList = h('ul', { class: 'checks', id: 'query-partner-list' });
  const purposeSel = h(
    'select',
    { id: 'query-purpose', required: true },
    h('option', { value: '' }, 'Choose a purpose…'),
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
    h('label', { for: 'query-country' }, 'Default country for phone numbers (optional)'),
    h('p', { id: 'query-country-help', class: 'help' }, 'Two-letter code (e.g. ES) used for numbers written without +country code.'),
    countryIn,
  );
  const submit = h('button', { id: 'query-submit', type: 'submit', class: 'btn btn-primary' }, 'Send query');
  const clear = h('button', { id: 'query-clear', type: 'button', class: 'btn btn-quiet' }, 'Clear values');
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
        const why = left <= 0 ? 'no queries left today' : !purposeOk ? `agreement does not cover ${humanise(purpose)}` : null;
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
            ` — ${fmtNum(left)} of ${fmtNum(a.perDay)} queries left today, up to ${fmtNum(a.maxValues)} values`,
            why ? h('strong', null, ` (unavailable: ${why})`) : null,
          ),
        );
      });
    replaceChildren(partnerList, items.length ? items : h('li', { class: 'muted' }, `No partner agreement allows ${humanise(kind)} queries.`));
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
    valuesCount.textContent = n > MAX_VALUES ? `${n} values — too many, at most ${MAX_VALUES}` : plural(n, 'value');
    valuesCount.classList.toggle('help-error', n > MAX_VALUES);
  };
  const updateCountry = (): void => {
    countryField.hidden = kindSel.value !== 'phone';
  };

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
    values.focus();
    announce('Values and results cleared from the page.');
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
    h('div', { class: 'field field-narrow' }, h('label', { for: 'query-kind' }, 'Identifier kind'), kindSel),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'query-values' }, 'Values'),
      h('p', { id: 'query-values-help', class: 'help' }, `Paste a list, one value per line (blank lines are ignored; at most ${MAX_VALUES}). Values stay in this page only.`),
      values,
      valuesCount,
    ),
    countryField,
    h(
      'fieldset',
      { class: 'field' },
      h('legend', null, 'Partners'),
      h('div', { class: 'check-all' }, allBox, h('label', { for: 'query-all' }, h('strong', null, 'All allowed partners'))),
      partnerList,
    ),
    h('div', { class: 'field field-narrow' }, h('label', { for: 'query-purpose' }, 'Purpose'), purposeSel),
    h(
      'div',
      { class: 'field field-narrow' },
      h('label', { for: 'query-case' }, 'Case reference'),
      h('p', { id: 'query-case-help', class: 'help' }, 'Required; recorded in every partner’s audit log.'),
      caseIn,
    ),
    errorBox,
    h('div', { class: 'form-actions' }, submit, clear, busyText),
  );

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors();
    const parsed = parseValues(values.value);
    if (!parsed.length) return fieldError(values, 'Enter at least one value.');
    if (parsed.length > MAX_VALUES) return fieldError(values, `Too many values: ${parsed.length}.`, `Send at most ${MAX_VALUES} per query.`);
    const chosen = selectedChoices();
    if (!chosen.length) return fieldError(allBox, 'Choose at least one partner, or “All allowed partners”.');
    const tooMany = chosen.filter(({ a }) => parsed.length > a.maxValues);
    if (tooMany.length) {
      return fieldError(values, `Too many values for ${tooMany.map(({ c }) => c.partner).join(', ')}.`, `Their agreement allows at most ${Math.min(...tooMany.map(({ a }) => a.maxValues))} values per query.`);
    }
    if (!purposeSel.value) return fieldError(purposeSel, 'Choose the purpose of this query.');
    const caseRef = caseIn.value.trim();
    if (!caseRef) return fieldError(caseIn, 'Enter the case reference.');
    const country = countryIn.value.trim().toUpperCase();
    if (!countryField.hidden && country && !/^[A-Z]{2}$/.test(country)) return fieldError(countryIn, 'The default country must be a two-letter code, e.g. ES.');

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
    submit.textContent = 'Querying partners…';
    form.setAttribute('aria-busy', 'true');
    busyText.hidden = false;
    const started = Date.now();
    const tick = (): void => {
      busyText.textContent = `Waiting for partner answers… ${Math.round((Date.now() - started) / 1000)} s (up to 20 s)`;
    };
    tick();
    const timer = window.setInterval(tick, 1000);
    announce(`Query sent to ${req.partners === 'all' ? 'all allowed partners' : req.partners.join(', ')}. Waiting for answers, up to 20 seconds.`);
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
        renderResults(results, reply, sent.map((s) => s.value), reply.quota);
        const hits = reply.legs.reduce((n, l) => n + (l.state === 'done' && l.proofVerified ? l.results.filter((r) => r.hit).length : 0), 0);
        const pending = reply.legs.filter((l) => l.state === 'pending').length;
        const summary = `Query ${reply.queryId} answered: ${plural(hits, 'hit')}${pending ? `, ${plural(pending, 'partner')} still pending` : ''}.`;
        if (ctx.signal.aborted) {
          // The officer left the page while waiting; the values are gone with it, the answer is kept server-side.
          announce(`${summary} See Recent queries on the Query page.`, 'ok');
          return;
        }
        announce(summary, 'ok');
        refreshRecent();
        results.querySelector<HTMLElement>('#query-results-title')?.focus();
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) return;
        const field = e instanceof ApiError ? e.field : undefined;
        const m = field ? /^body\.values\[(\d+)\]$/.exec(field) : null;
        if (m && e instanceof ApiError) {
          const i = Number(m[1]);
          const bad = sent[i];
          if (bad) {
            selectLine(values, bad.line);
            return fieldError(values, `Value on line ${bad.line} could not be read as ${humanise(req.kind)}: “${bad.value}”.`, `${e.detail ?? e.title} Nothing was sent.`);
          }
        }
        const target =
          field === 'body.kind' ? kindSel : field === 'body.purpose' ? purposeSel : field === 'body.caseRef' ? caseIn : field === 'body.defaultCountry' ? countryIn : field === 'body.partners' ? allBox : null;
        const title =
          e instanceof ApiError && (e.status === 403 || e.status === 429)
            ? 'The coordinator refused this query.'
            : e instanceof ApiError && e.status === 502
              ? 'The coordinator could not be reached.'
              : 'The query failed.';
        if (target) return fieldError(target, title, errorMessage(e));
        replaceChildren(errorBox, notice('error', title, h('p', null, errorMessage(e))));
        announce(`${title} ${errorMessage(e)}`, 'error');
      })
      .finally(() => {
        window.clearInterval(timer);
        submit.disabled = false;
        clear.disabled = false;
        submit.textContent = 'Send query';
        form.removeAttribute('aria-busy');
        busyText.hidden = true;
      });
  });

  replaceChildren(area, form);
  renderPartners();
  updateCountry();
  updateCount();
}

function selectLine(textarea: HTMLTextAreaElement, line: number): void {
  const lines = textarea.value.split(/\r\n|\r|\n/);
  let start = 0;
  for (let i = 0; i < line - 1; i++) start += (lines[i]?.length ?? 0) + 1;
  const end = start + (lines[line - 1]?.length ?? 0);
  textarea.setSelectionRange(start, end);
}

function proofText(leg: QueryLeg): HTMLElement {
  if (leg.state !== 'done') return h('span', { class: 'muted' }, '— no answer yet');
  return leg.proofVerified ? badge('Proof verified', 'ok') : badge('Proof NOT verified', 'bad');
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
    const why = leg.state === 'done' && !leg.proofVerified ? 'unknown (proof failed)' : leg.state === 'pending' ? 'pending' : 'no answer';
    return h('span', { class: 'muted' }, why);
  }
  return r.hit
    ? h('span', { class: 'hit' }, badge('HIT', 'ok'), r.handle ? [' ', h('code', { class: 'handle', title: 'Handle' }, r.handle)] : null)
    : h('span', { class: 'nohit' }, 'no hit');
}

function renderResults(container: HTMLElement, q: QuerySummary, sent: readonly string[] | null, quota: QueryReply['quota'] | null): void {
  const n = sent ? sent.length : q.values;
  const left = new Map((quota ?? []).map((x) => [x.partner, x.queriesLeftToday]));

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
          sent ? h('th', { scope: 'row', class: 'mono value' }, sent[i] ?? '') : h('th', { scope: 'row', class: 'muted' }, `Value ${i + 1}`),
          h('td', null, resultText(leg, i)),
        ),
      );
    }
    const table = h(
      'table',
      { class: 'data compact' },
      h('caption', { class: 'visually-hidden' }, `Answers from ${leg.partner}`),
      h('thead', null, h('tr', null, th('#', 'col', { class: 'num' }), th('Value'), th('Result'))),
      h('tbody', null, rows),
    );
    const headingId = `leg-${leg.partner}`;
    return h(
      'section',
      { class: 'leg', 'data-leg': leg.partner, 'data-state': leg.state, 'aria-labelledby': headingId },
      h(
        'div',
        { class: 'leg-header' },
        h('h3', { id: headingId }, leg.partner),
        legBadge(leg.state),
        proofText(leg),
      ),
      h(
        'p',
        { class: 'leg-meta small' },
        hits === null ? 'No verified answer yet' : plural(hits, 'hit'),
        left.has(leg.partner) ? [' · ', h('span', { 'data-quota': leg.partner }, `${fmtNum(left.get(leg.partner))} queries left today`)] : null,
      ),
      note ? h('p', { class: 'reason-failed small' }, note) : null,
      leg.state === 'pending' ? h('p', { class: 'small' }, 'The partner has not answered yet; use “Check again”.') : null,
      tableWrap(`Answers from ${leg.partner}`, table),
    );
  });

  const pending = q.legs.some((l) => l.state === 'pending');
  const again = pending ? h('button', { type: 'button', class: 'btn', id: 'query-check-again' }, 'Check again') : null;
  again?.addEventListener('click', () => {
    again.disabled = true;
    again.textContent = 'Checking…';
    get<QuerySummary>(`/api/queries/${encodeURIComponent(q.queryId)}`)
      .then((fresh) => {
        renderResults(container, fresh, sent, quota);
        announce(`Query ${q.queryId} refreshed.`, 'ok');
      })
      .catch((e: unknown) => {
        again.disabled = false;
        again.textContent = 'Check again';
        announce(`Could not refresh the query: ${errorMessage(e)}`, 'error');
      });
  });

  replaceChildren(
    container,
    h('h2', { id: 'query-results-title', tabindex: -1 }, 'Results'),
    h(
      'dl',
      { class: 'kv kv-inline' },
      (
        [
          ['Query', h('span', { class: 'mono' }, q.queryId)],
          ['Sent', timeEl(q.createdAt)],
          ['Kind', humanise(q.kind)],
          ['Purpose', humanise(q.purpose)],
          ['Case', q.caseRef],
          ['Values', fmtNum(q.values)],
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
    legBadge(leg.state),
    leg.state === 'done' ? (leg.proofVerified ? ' proof ✓' : ' proof ✗') : null,
    leg.state === 'done' && leg.proofVerified ? ` · ${plural(hits.length, 'hit')}` : null,
    hits.length ? h('span', { class: 'small' }, ' (', hits.map((r, i) => [i ? ', ' : '', h('code', { class: 'handle' }, r.handle ?? `#${r.index + 1}`)]), ')') : null,
  );
}

function loadRecent(ctx: PageContext, area: HTMLElement): void {
  if (!area.firstChild) area.append(loading('Loading recent queries…'));
  area.setAttribute('aria-busy', 'true');
  get<{ queries: QuerySummary[] }>('/api/queries', ctx.signal)
    .then(({ queries }) => {
      area.removeAttribute('aria-busy');
      if (!queries.length) return replaceChildren(area, emptyState('No queries yet.'));
      const rows = queries.map((q) =>
        h(
          'tr',
          { 'data-query-id': q.queryId },
          h('td', null, timeEl(q.createdAt)),
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
        h('caption', { class: 'visually-hidden' }, 'Recent queries, newest first'),
        h('thead', null, h('tr', null, th('Sent'), th('Query'), th('Kind'), th('Purpose'), th('Case'), th('Officer'), th('Values', 'col', { class: 'num' }), th('Partners'))),
        h('tbody', null, rows),
      );
      replaceChildren(area, tableWrap('Recent queries', table));
    })
    .catch((e: unknown) => showLoadError(area, e, 'recent queries', () => loadRecent(ctx, area)));
}
