// Overview: what happened since the officer last signed in (each item a
// link into the filtered Matches worklist), what awaits the agency, and the
// state of each agreement — in people, not identifiers or rows. Protocol
// details (epochs, pair ids, chunk counts) sit behind a disclosure.
import { get } from './api';
import { badge, fmtDate, fmtNum, fmtTime, h, humanise, relative, replaceChildren, tableWrap, th, timeEl, todayUtc, type Tone } from './dom';
import { t, tn, type Key } from './i18n';
import { emptyState, loading, notice, pageHeader, showLoadError, type PageContext } from './page';
import { hrefFor } from './router';
import type { Agreement, Overview, PairState } from './types';

const STATE: Record<PairState, { label: Key; tone: Tone }> = {
  complete: { label: 'ov.state.complete', tone: 'ok' },
  waiting: { label: 'ov.state.waiting', tone: 'info' },
  failed: { label: 'ov.state.failed', tone: 'bad' },
  unknown: { label: 'ov.state.unknown', tone: 'neutral' },
};

const pairBadge = (state: PairState): HTMLElement => {
  const d = STATE[state] ?? STATE.unknown;
  return badge(t(d.label), d.tone);
};

function card(title: string, id: string, ...body: (Node | string | null)[]): HTMLElement {
  return h('div', { class: 'card', id }, h('h3', { class: 'card-title' }, title), h('div', { class: 'card-body' }, body));
}

/** A terms date the page does not have is unknown, never "expired". */
function validUntil(a: Agreement): HTMLElement {
  if (!a.validUntil) return h('span', { class: 'muted', 'data-valid': 'unknown' }, t('ov.termsUnknown'));
  const today = todayUtc();
  const date = a.validUntil.slice(0, 10);
  if (date < today) return h('span', { 'data-valid': 'expired' }, fmtDate(date), ' ', badge(t('ov.expired'), 'bad'));
  const days = Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000);
  if (days <= 30) return h('span', { 'data-valid': 'soon' }, fmtDate(date), ' ', badge(t('ov.daysLeft', { n: days }), 'warn'));
  return h('span', { 'data-valid': 'valid' }, fmtDate(date));
}

function queriesLeft(a: Agreement): HTMLElement {
  if (a.mode === 'count') return h('span', { class: 'muted' }, t('ov.noQueries'));
  if (a.queriesLeftToday === undefined) return h('span', null, '—');
  return h('span', null, a.queryQuota ? t('q.quotaLeft', { left: a.queriesLeftToday, perDay: a.queryQuota.perDay }) : fmtNum(a.queriesLeftToday));
}

function matched(a: Agreement): string {
  if (a.mode === 'count') return a.count === undefined ? '—' : t('ov.countMatches', { n: a.count });
  return a.people === undefined ? '—' : tn('people', a.people);
}

function agreementsTable(partner: string, agreements: Agreement[]): HTMLElement {
  const rows = agreements.flatMap((a) => {
    const failed = a.state === 'failed';
    const row = h(
      'tr',
      { 'data-agreement': a.agreement, 'data-state': a.state, 'data-terms': a.termsFrom ?? 'coordinator', class: failed ? 'row-failed' : null },
      h('th', { scope: 'row' }, h('span', { class: 'mono' }, a.agreement), h('div', { class: 'small' }, t(a.mode === 'reveal' ? 'ov.mode.reveal' : 'ov.mode.count'))),
      h('td', null, a.kinds.length ? a.kinds.map((k) => h('span', { class: 'tag' }, humanise(k))) : h('span', { class: 'muted' }, t('ov.termsUnknown'))),
      h('td', { class: 'purposes' }, a.purposes.length ? a.purposes.map(humanise).join(', ') : '—'),
      h('td', null, validUntil(a)),
      h('td', null, pairBadge(a.state), failed && a.reason ? h('div', { class: 'reason-failed small' }, a.reason) : null),
      h('td', null, timeEl(a.lastSync), a.lastSync ? h('div', { class: 'muted small' }, relative(a.lastSync)) : null),
      h('td', { class: 'num' }, matched(a)),
      h('td', null, queriesLeft(a)),
    );
    return [row];
  });
  const label = t('ov.agreementsWith', { partner });
  const table = h(
    'table',
    { class: 'data no-zebra' },
    h('caption', { class: 'visually-hidden' }, label),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        th(t('ov.col.agreement')),
        th(t('ov.col.kinds')),
        th(t('ov.col.purposes')),
        th(t('ov.col.validUntil')),
        th(t('ov.col.state')),
        th(t('ov.col.lastSync')),
        th(t('ov.col.matched'), 'col', { class: 'num' }),
        th(t('ov.col.quota')),
      ),
    ),
    h('tbody', null, rows),
  );
  return tableWrap(label, table);
}

/** The news since the officer's last sign-in, each item a link into the filtered worklist. */
function sinceSection(ov: Overview): HTMLElement {
  const s = ov.sinceLastSignIn;
  const since = s.since ?? undefined;
  const items: HTMLElement[] = [];
  const item = (kind: string, partner: string, text: string, href: string, linkText: string, tone: 'info' | 'bad' = 'info'): HTMLElement =>
    h(
      'li',
      { 'data-since': kind, 'data-partner': partner, class: tone === 'bad' ? 'since-item since-bad' : 'since-item' },
      h('span', { class: 'since-text' }, text),
      ' ',
      h('a', { href, class: 'since-link' }, linkText),
    );
  for (const m of s.newMatches) {
    items.push(item('new-matches', m.partner, t('ov.newMatches', { partner: m.partner, people: tn('people', m.people) }), hrefFor('matches', { partner: m.partner, status: 'awaiting', since }), t('ov.open')));
  }
  for (const d of s.partnerDecisions) {
    const text = t(d.decision === 'confirmed' ? 'ov.partnerConfirmed' : 'ov.partnerDeclined', { partner: d.partner, people: tn('people', d.people) });
    items.push(item('partner-decisions', d.partner, text, hrefFor('matches', { partner: d.partner, since }), t('ov.open')));
  }
  for (const l of s.lateAnswers) {
    const text = t('ov.lateAnswer', { partner: l.partner, caseRef: l.caseRef, hits: tn('ov.hits', l.hits) });
    items.push(item('late-answers', l.partner, text, hrefFor('matches', { partner: l.partner, since }), t('ov.open')));
  }
  for (const f of s.failedPairs) {
    items.push(item('failed-pairs', f.partner, t('ov.failedPair', { partner: f.partner, reason: f.reason }), hrefFor('matches', { partner: f.partner }), t('ov.open'), 'bad'));
  }
  return h(
    'section',
    { id: 'since-last-sign-in', class: 'since', 'aria-labelledby': 'since-title' },
    h('h2', { id: 'since-title' }, s.since ? t('ov.since', { time: fmtTime(s.since) }) : t('ov.sinceEver')),
    items.length ? h('ul', { class: 'since-list' }, items) : emptyState(t('ov.nothingNew')),
  );
}

function technical(ov: Overview): HTMLElement {
  const lines: (HTMLElement | null)[] = [
    h('li', null, h('span', { class: 'mono small break' }, ov.coordinator)),
    ov.epoch ? h('li', null, t('ov.tech.epoch', { id: ov.epoch.id, time: fmtTime(ov.epoch.startedAt) })) : null,
    h('li', null, t('ov.tech.pending', { n: ov.pendingWork })),
    ov.watchlist ? h('li', null, t('ov.tech.identifiers', { n: ov.watchlist.identifiers })) : null,
    ov.auditLog.verified ? h('li', null, t('ov.tech.log', { size: ov.auditLog.verified.size, time: fmtTime(ov.auditLog.verified.at) })) : null,
    ov.coordinatorError ? h('li', null, t('ov.tech.coordinatorError', { msg: ov.coordinatorError })) : null,
    ...ov.partners.flatMap((p) =>
      p.agreements.map((a) =>
        h('li', { 'data-pair': a.pair }, t('ov.tech.pair', { pair: a.pair, mine: fmtNum(a.mySetSize), theirs: fmtNum(a.partnerSetSize), matches: fmtNum(a.matches ?? a.count) }), a.reason ? ` — ${a.reason}` : ''),
      ),
    ),
  ];
  const runs = ov.failedRuns.length
    ? tableWrap(
        t('ov.tech.failedRuns'),
        h(
          'table',
          { class: 'data', id: 'failed-runs' },
          h('caption', null, t('ov.tech.failedRuns')),
          h('thead', null, h('tr', null, th(t('a.col.time')), th(t('ov.col.agreement')), th('Pair'), th(t('a.col.outcome')))),
          h(
            'tbody',
            null,
            ov.failedRuns.map((r) => h('tr', null, h('td', null, timeEl(r.at)), h('td', null, r.partner ?? '—'), h('td', { class: 'mono' }, r.pair ?? '—'), h('td', { class: 'reason-failed' }, r.reason))),
          ),
        ),
      )
    : null;
  return h('details', { id: 'technical-details', class: 'technical' }, h('summary', null, t('common.technical')), h('ul', { class: 'plain small' }, lines), runs);
}

function renderBody(body: HTMLElement, ov: Overview): void {
  const parts: (Node | null)[] = [];

  if (!ov.coordinatorReachable) {
    const banner = notice(
      'warn',
      t('ov.down', { time: fmtTime(ov.coordinatorUnreachableSince) }),
      h('p', null, t('ov.downDetail')),
      ov.termsCachedAt ? h('p', { class: 'small' }, t('ov.termsAsOf', { time: fmtTime(ov.termsCachedAt) })) : null,
    );
    banner.id = 'coordinator-banner';
    parts.push(banner);
  }

  if (ov.auditLog.failure) {
    const f = ov.auditLog.failure;
    const banner = notice('error', t('ov.auditFailed', { time: fmtTime(f.at) }), h('p', null, t('ov.auditFailedDetail')), h('p', { class: 'small' }, f.message));
    banner.id = 'audit-log-banner';
    parts.push(banner);
  }

  parts.push(sinceSection(ov));

  if (ov.awaitingAcceptance.length) {
    const box = notice(
      'warn',
      t('ov.awaiting'),
      h(
        'ul',
        null,
        ov.awaitingAcceptance.map((a) =>
          h(
            'li',
            { 'data-agreement': a.id },
            t('ov.awaitingItem', { id: a.id, version: a.version, parties: a.parties.join(', '), accepted: a.accepted.length ? a.accepted.join(', ') : t('common.none'), until: fmtDate(a.validUntil) }),
          ),
        ),
      ),
      h('p', { class: 'small' }, t('ov.awaitingHow')),
    );
    box.id = 'awaiting-agreements';
    parts.push(box);
  }

  const last = ov.lastSync;
  parts.push(
    h(
      'div',
      { class: 'cards' },
      card(
        t('ov.watchlist'),
        'card-watchlist',
        ov.watchlist
          ? h('p', { 'data-people': ov.watchlist.records }, t('ov.watchlistPeople', { people: tn('people', ov.watchlist.records), time: fmtTime(ov.watchlist.importedAt) }))
          : h('p', null, t('ov.noWatchlist')),
      ),
      card(
        t('ov.lastSync'),
        'card-last-sync',
        last
          ? h(
              'div',
              null,
              last.finishedAt === null ? badge(t('ov.syncRunning'), 'info') : last.ok ? badge(t('ov.syncOk'), 'ok') : badge(t('ov.syncFailed'), 'bad'),
              h('p', { class: 'small' }, timeEl(last.finishedAt ?? last.startedAt), ` (${relative(last.finishedAt ?? last.startedAt)})`),
            )
          : h('p', null, t('ov.noSync')),
      ),
      card(t('ov.nextSync'), 'card-next-sync', ov.nextSync ? h('p', null, timeEl(ov.nextSync), h('span', { class: 'muted' }, ` (${relative(ov.nextSync)})`)) : h('p', null, t('ov.noNextSync'))),
      card(t('ov.coordinator'), 'card-coordinator', ov.coordinatorReachable ? badge(t('ov.reachable'), 'ok') : badge(t('ov.unreachable'), 'bad')),
    ),
  );

  parts.push(h('h2', null, t('ov.partners')));
  if (!ov.partners.length) parts.push(emptyState(t('ov.noPartners')));
  for (const p of ov.partners) {
    const worst = p.agreements.some((a) => a.state === 'failed') ? 'failed' : p.agreements.every((a) => a.state === 'complete') ? 'complete' : null;
    parts.push(
      h(
        'section',
        { class: 'partner', 'data-partner': p.partner, 'aria-labelledby': `partner-${p.partner}` },
        h('h3', { id: `partner-${p.partner}` }, p.partner, ' ', worst ? pairBadge(worst) : null),
        agreementsTable(p.partner, p.agreements),
      ),
    );
  }

  parts.push(technical(ov));
  body.removeAttribute('aria-busy');
  replaceChildren(body, parts);
}

export function renderOverview(ctx: PageContext): void {
  const body = h('div', { class: 'page-body', 'aria-busy': 'true' });
  const refresh = h('button', { type: 'button', class: 'btn', id: 'overview-refresh' }, t('common.refresh'));
  const load = (): void => {
    body.setAttribute('aria-busy', 'true');
    replaceChildren(body, loading(t('ov.loading')));
    refresh.disabled = true;
    get<Overview>('/api/overview', ctx.signal)
      .then((ov) => renderBody(body, ov))
      .catch((e: unknown) => showLoadError(body, e, t('ov.what'), load))
      .finally(() => {
        refresh.disabled = false;
      });
  };
  refresh.addEventListener('click', load);
  ctx.root.append(pageHeader(t('ov.title'), t('ov.lead'), refresh), body);
  load();
}
