import { ApiError, errorMessage, request } from './api';
import { announce, h, replaceChildren } from './dom';
import { notice } from './page';
import type { Session } from './types';

function waitText(secs: number): string {
  if (secs < 90) return `${secs} second${secs === 1 ? '' : 's'}`;
  return `${Math.ceil(secs / 60)} minutes`;
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
  const submit = h('button', { id: 'login-submit', type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  const errorBox = h('div', { id: 'login-error', class: 'form-error-slot' });
  let lockTimer: number | undefined;

  const form = h(
    'form',
    { class: 'login-form', method: 'post', novalidate: true, 'aria-describedby': 'login-error' },
    h('div', { class: 'field' }, h('label', { for: 'login-officer' }, 'Officer ID'), officer),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
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
      showError('Enter your officer ID and password.');
      (id ? password : officer).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    replaceChildren(errorBox);
    request<Session>('POST', '/api/session', { officer: id, password: password.value }, { handle401: false })
      .then((s) => {
        password.value = '';
        window.clearTimeout(lockTimer);
        onSuccess(s);
      })
      .catch((e: unknown) => {
        submit.textContent = 'Sign in';
        submit.disabled = false;
        password.value = '';
        if (e instanceof ApiError && e.status === 429) {
          const secs = e.retryAfter ?? 900;
          const until = new Date(Date.now() + secs * 1000);
          showError(
            'Too many failed sign-in attempts.',
            `Sign-in is blocked for this officer ID or this computer. Try again in ${waitText(secs)} (after ${until.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' })}).`,
          );
          submit.disabled = true;
          window.clearTimeout(lockTimer);
          lockTimer = window.setTimeout(() => {
            submit.disabled = false;
            replaceChildren(errorBox);
            announce('You can try to sign in again.');
          }, secs * 1000);
          return;
        }
        if (e instanceof ApiError && e.status === 401) {
          showError('Officer ID or password is incorrect.', 'Repeated failures block sign-in for 15 minutes.');
          password.focus();
          return;
        }
        showError('Sign-in failed.', errorMessage(e));
      });
  });

  replaceChildren(
    main,
    h(
      'section',
      { class: 'login', 'aria-labelledby': 'login-title' },
      h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Concordat'),
      h('h1', { id: 'login-title', tabindex: -1 }, 'Investigator console'),
      h('p', { class: 'lead' }, 'Sign in with your officer ID. Every action in this console is recorded in the audit log.'),
      message ? notice('info', message) : null,
      form,
    ),
  );
  document.title = 'Sign in — Concordat';
  officer.focus();
}
