// "Prepare request": from a confirmed match or a hit of this agency's own
// query, the officer gives the legal basis (and the case and purpose a
// nightly match lacks); the server records the report in the local audit
// trail and the page shows it ready to print, with its PDF to download.
import { errorMessage, post } from './api';
import { h, replaceChildren } from './dom';
import { t } from './i18n';
import { notice } from './page';
import { FORMAT_TITLES, REPORT_FOOTNOTE, reportFields } from '../../report-fields';
import type { ReportFormat, ReportRequest, RequestedHit, RequestReport, WorkRow } from './types';

export type ReportTarget = { kind: 'row'; row: WorkRow } | { kind: 'query'; hit: RequestedHit };

const LEGAL_BASIS_MAX = 300;
// The instruments keep their official English titles; only the "e.g." is the officer's language.
const SUGGESTED: Record<ReportFormat, string> = {
  mla: 'Convention on Mutual Assistance in Criminal Matters between the Member States of the EU (2000), Art. 1',
  siena: 'Council Framework Decision 2006/960/JHA (Swedish Initiative), Art. 3',
};

let dialog: HTMLDialogElement | null = null;

/** The printable page of a report: what the PDF draws, in the same order. */
export function reportView(r: RequestReport): HTMLElement {
  return h(
    'article',
    { id: 'report-view', class: 'report', 'aria-labelledby': 'report-title', 'data-report': r.id },
    h('h2', { id: 'report-title' }, FORMAT_TITLES[r.format]),
    h('p', { class: 'report-sub' }, `Draft for ${r.agency}'s own use, prepared from a Concordat match`),
    h(
      'dl',
      { class: 'kv report-fields' },
      reportFields(r).map(([k, v]) => [h('dt', null, k), h('dd', { 'data-field': k }, v)]),
    ),
    h('p', { class: 'report-foot small' }, REPORT_FOOTNOTE),
  );
}

function field(id: string, label: string, control: HTMLElement, help?: string): HTMLElement {
  if (help) control.setAttribute('aria-describedby', `${id}-help`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), help ? h('p', { class: 'help', id: `${id}-help` }, help) : null, control);
}

export function openReportDialog(target: ReportTarget, opener: HTMLElement, onCreated: (id: number) => void): void {
  dialog?.remove();
  const title = h('h2', { id: 'report-dialog-title' }, t('r.title'));
  const format = h('select', { id: 'report-format' }, h('option', { value: 'mla' }, t('r.mla')), h('option', { value: 'siena' }, t('r.siena')));
  const basis = h('textarea', { id: 'report-legal-basis', rows: 3, maxlength: LEGAL_BASIS_MAX, required: true, spellcheck: 'false' });
  const caseRef = target.kind === 'row' ? target.row.caseRefs[0] : target.hit.caseRef;
  const purpose = target.kind === 'row' ? target.row.handles.find((x) => x.purpose)?.purpose : target.hit.purpose;
  const caseIn = caseRef ? null : h('input', { id: 'report-case', type: 'text', maxlength: 100, required: true, autocomplete: 'off' });
  const purposeIn = purpose ? null : h('input', { id: 'report-purpose', type: 'text', maxlength: 64, required: true, autocomplete: 'off' });
  const error = h('div', { id: 'report-error', class: 'form-error-slot' });
  const submit = h('button', { id: 'report-submit', type: 'submit', class: 'btn btn-primary' }, t('r.submit'));
  const cancel = h('button', { id: 'report-cancel', type: 'button', class: 'btn btn-quiet' }, t('m.cancel'));
  const setHelp = (): void => {
    basis.placeholder = t('r.suggest', { x: SUGGESTED[format.value === 'siena' ? 'siena' : 'mla'] });
  };
  setHelp();
  format.addEventListener('change', setHelp);

  const what =
    target.kind === 'row'
      ? t('r.whatRow', { record: target.row.recordId, partner: target.row.partner, kinds: target.row.kinds.join(', ') })
      : t('r.whatHit', { partner: target.hit.partner, i: target.hit.index + 1, kind: target.hit.kind, query: String(target.hit.queryId) });
  const form = h(
    'form',
    { id: 'report-form', class: 'dialog-form', method: 'dialog' },
    title,
    h('p', { class: 'small' }, what),
    field('report-format', t('r.kind'), format),
    field('report-legal-basis', t('r.basis'), basis, t('r.basisHelp')),
    caseIn ? field('report-case', t('r.case'), caseIn, t('r.caseHelp')) : h('p', { class: 'small' }, t('r.caseIs', { c: caseRef ?? '' })),
    purposeIn ? field('report-purpose', t('r.purpose'), purposeIn, t('r.purposeHelp')) : h('p', { class: 'small' }, t('r.purposeIs', { p: purpose ?? '' })),
    error,
    h('div', { class: 'form-actions' }, submit, cancel),
  );
  const el = h('dialog', { id: 'report-dialog', class: 'dialog report-dialog', 'aria-labelledby': 'report-dialog-title' }, form);
  dialog = el;
  (opener.closest('section.page') ?? document.body).append(el);
  let busy = false;
  cancel.addEventListener('click', () => el.close());
  el.addEventListener('cancel', (ev) => {
    if (busy) ev.preventDefault();
  });
  el.addEventListener('close', () => {
    document.body.classList.remove('print-report');
    if (opener.isConnected) opener.focus();
    el.remove();
    if (dialog === el) dialog = null;
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busy) return;
    const body: ReportRequest = {
      handle: target.kind === 'row' ? (target.row.handles.find((x) => x.myStatus === 'confirmed')?.handle ?? '') : target.hit.handle,
      format: format.value === 'siena' ? 'siena' : 'mla',
      legalBasis: basis.value.trim(),
    };
    if (target.kind === 'row') body.recordId = target.row.recordId;
    else body.queryId = target.hit.queryId;
    if (caseIn) body.caseRef = caseIn.value.trim();
    if (purposeIn) body.purpose = purposeIn.value.trim();
    busy = true;
    submit.disabled = true;
    replaceChildren(error);
    post<{ report: RequestReport }>('/api/reports', body)
      .then(({ report }) => {
        busy = false;
        onCreated(report.id);
        showReport(el, report);
      })
      .catch((e: unknown) => {
        busy = false;
        submit.disabled = false;
        replaceChildren(error, notice('error', t('r.failed'), h('p', null, errorMessage(e))));
        basis.focus();
      });
  });
  el.showModal();
  format.focus();
}

function showReport(el: HTMLDialogElement, r: RequestReport): void {
  const print = h('button', { id: 'report-print', type: 'button', class: 'btn btn-primary' }, t('r.print'));
  const pdf = h('a', { id: 'report-pdf', class: 'btn', href: `/api/reports/${r.id}/pdf`, download: '' }, t('r.pdf'));
  const close = h('button', { id: 'report-close', type: 'button', class: 'btn btn-quiet' }, t('r.close'));
  print.addEventListener('click', () => {
    // The print stylesheet shows only the report while this class is set.
    document.body.classList.add('print-report');
    window.addEventListener('afterprint', () => document.body.classList.remove('print-report'), { once: true });
    window.print();
  });
  close.addEventListener('click', () => el.close());
  const done = notice('ok', t('r.done', { id: String(r.id) }));
  done.id = 'report-done';
  done.tabIndex = -1;
  replaceChildren(el, h('div', { class: 'dialog-form' }, done, reportView(r), h('div', { class: 'form-actions no-print' }, print, pdf, close)));
  el.setAttribute('aria-labelledby', 'report-title');
  done.focus();
}
