import { ApiError, errorMessage, lastActivity, request } from './api';
import { announce, h, replaceChildren } from './dom';
import { locale, t } from './i18n';
import { notice } from './page';
import type { Session } from './types';

/** The warning shows this long before an idle session ends. */
const WARN_BEFORE_MS = 2 * 60_000;

/**
 * Warns before the server ends an idle session (it counts from the page's
 * last request) and offers to keep it; returns the function that stops it.
 */
export function watchSession(idleTimeoutSeconds: number): () => void {
  const idleMs = idleTimeoutSeconds * 1000;
  let box: HTMLElement | null = null;
  const hide = (): void => {
    box?.remove();
    box = null;
  };
  const check = (): void => {
    const left = idleMs - (Date.now() - lastActivity());
    if (left > WARN_BEFORE_MS || left <= 0) return hide();
    const mins = Math.max(1, Math.ceil(left / 60_000));
    const time = new Intl.NumberFormat(locale(), { style: 'unit', unit: 'minute', unitDisplay: 'long' }).format(mins);
    const text = t('shell.expiring', { time });
    if (box) {
      const p = box.querySelector('.session-warning-text');
      if (p) p.textContent = text;
      return;
    }
    const stay = h('button', { id: 'session-stay', type: 'button', class: 'btn btn-primary' }, t('shell.stay'));
    stay.addEventListener('click', () => {
      stay.disabled = true;
      // Any request marks the session used; the answer itself is not needed.
      request<Session>('GET', '/api/session')
        .then(hide)
        .catch(() => {
          stay.disabled = false;
        });
    });
    box = h('div', { id: 'session-warning', class: 'session-warning', role: 'alert' }, h('p', { class: 'session-warning-text' }, text), stay);
    document.body.append(box);
  };
  const timer = window.setInterval(check, 5_000);
  return () => {
    window.clearInterval(timer);
    hide();
  };
}

export function renderLogin(main: HTMLElement, message: string | null, onSuccess: (s: Session) => void): void {
  const officer = h('input', {
    id: 'login-officer',
    name: 'officer',
    type: 'text',
    autocomplete: 'username',
    autocapitalize: 'off',
    spellcheck: 'false',
    required: true,
    maxlength: 100,
  });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { id: 'login-submit', type: 'submit', class: 'btn btn-primary' }, t('login.submit'));
  const errorBox = h('div', { id: 'login-error', class: 'form-error-slot' });
  let lockTimer: number | undefined;

  const form = h(
    'form',
    { class: 'login-form', method: 'post', novalidate: true, 'aria-describedby': 'login-error' },
    h('div', { class: 'field' }, h('label', { for: 'login-officer' }, t('login.officer')), officer),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, t('login.password')), password),
    errorBox,
    h('div', { class: 'form-actions' }, submit),
  );

  const showError = (title: string, detail?: string): void => {
    replaceChildren(errorBox, notice('error', title, detail ? h('p', null, detail) : null));
    announce(detail ? `${title} ${detail}` : title, 'error');
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = officer.value.trim();
    if (!id || !password.value) {
      showError(t('login.missing'));
      (id ? password : officer).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = t('login.busy');
    replaceChildren(errorBox);
    request<Session>('POST', '/api/session', { officer: id, password: password.value }, { handle401: false })
      .then((s) => {
        password.value = '';
        window.clearTimeout(lockTimer);
        onSuccess(s);
      })
      .catch((e: unknown) => {
        submit.textContent = t('login.submit');
        submit.disabled = false;
        password.value = '';
        if (e instanceof ApiError && e.status === 429) {
          const secs = e.retryAfter ?? 900;
          const until = new Date(Date.now() + secs * 1000);
          showError(t('login.blocked'), t('login.blockedDetail', { time: until.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit', second: '2-digit' }) }));
          submit.disabled = true;
          window.clearTimeout(lockTimer);
          lockTimer = window.setTimeout(() => {
            submit.disabled = false;
            replaceChildren(errorBox);
            announce(t('login.again'));
          }, secs * 1000);
          return;
        }
        if (e instanceof ApiError && e.status === 401) {
          showError(t('login.wrong'), t('login.wrongDetail'));
          password.focus();
          return;
        }
        showError(t('login.failed'), errorMessage(e));
      });
  });

  replaceChildren(
    main,
    h(
      'section',
      { class: 'login', 'aria-labelledby': 'login-title' },
      h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Concordat'),
      h('h1', { id: 'login-title', tabindex: -1 }, t('login.title')),
      h('p', { class: 'lead' }, t('login.lead')),
      message ? notice('info', message) : null,
      form,
    ),
  );
  document.title = `${t('login.submit')} — Concordat`;
  officer.focus();
}
