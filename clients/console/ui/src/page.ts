import { errorMessage, isAbort } from './api';
import { h, replaceChildren, type Child } from './dom';
import { t } from './i18n';
import type { RouteName } from './router';
import type { Session } from './types';

export interface PageContext {
  /** The page's own section; replaced wholesale on navigation, so late async writes land in a detached node. */
  root: HTMLElement;
  params: URLSearchParams;
  signal: AbortSignal;
  session: Session;
  route: RouteName;
}

export type PageRender = (ctx: PageContext) => void | Promise<void>;

export function pageHeader(title: string, lead: string, ...actions: Child[]): HTMLElement {
  return h(
    'div',
    { class: 'page-header' },
    h('div', null, h('h1', { id: 'page-title', tabindex: -1 }, title), h('p', { class: 'lead' }, lead)),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null,
  );
}

export function loading(text: string): HTMLElement {
  return h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

export type NoticeTone = 'info' | 'warn' | 'error' | 'ok';

export function notice(tone: NoticeTone, title: string, ...body: Child[]): HTMLElement {
  const label = t(tone === 'error' ? 'notice.error' : tone === 'warn' ? 'notice.warn' : tone === 'ok' ? 'notice.ok' : 'notice.info');
  return h(
    'div',
    { class: `notice notice-${tone}` },
    h('p', { class: 'notice-title' }, h('span', { class: 'visually-hidden' }, `${label}: `), title),
    body.length ? h('div', { class: 'notice-body' }, body) : null,
  );
}

/** Replaces a container's content with an error and a retry button (no-op when the request was aborted by navigation). */
export function showLoadError(container: HTMLElement, err: unknown, what: string, retry: () => void): void {
  if (isAbort(err)) return;
  container.removeAttribute('aria-busy');
  replaceChildren(
    container,
    notice('error', t('common.couldNotLoad', { what }), h('p', null, errorMessage(err)), h('button', { type: 'button', class: 'btn', onclick: retry }, t('common.tryAgain'))),
  );
}

export function emptyState(text: string): HTMLElement {
  return h('p', { class: 'empty' }, text);
}

/** A filter form: labelled fields, then Apply (submit) and Reset buttons with the given ids. */
export function filterForm(o: {
  id: string;
  label: string;
  fields: ReadonlyArray<readonly [id: string, label: string, control: HTMLElement]>;
  applyId: string;
  resetId: string;
}): HTMLElement {
  return h(
    'form',
    { id: o.id, class: 'filters', 'aria-label': o.label },
    ...o.fields.map(([id, label, control]) => h('div', { class: 'field' }, h('label', { for: id }, label), control)),
    h(
      'div',
      { class: 'filter-actions' },
      h('button', { id: o.applyId, type: 'submit', class: 'btn btn-primary' }, t('common.apply')),
      h('button', { id: o.resetId, type: 'button', class: 'btn btn-quiet' }, t('common.reset')),
    ),
  );
}
