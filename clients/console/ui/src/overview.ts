import { get } from './api';
import { badge, fmtNum, h, humanise, plural, relative, replaceChildren, stateBadge, tableWrap, th, timeEl, todayUtc, type Tone } from './dom';
import { emptyState, loading, notice, pageHeader, showLoadError, type PageContext } from './page';
import type { Agreement, Overview, PairState } from './types';

const STATE: Record<PairState, { label: string; tone: Tone }> = {
  complete: { label: 'Complete', tone: 'ok' },
  waiting: { label: 'Waiting', tone: 'info' },
  failed: { label: 'Failed', tone: 'bad' },
  unknown: { label: 'Unknown', tone: 'neutral' },
};

const pairBadge = (state: PairState): HTMLElement => stateBadge(STATE, state);

function card(title: string, ...body: (Node | string | null)[]): HTMLElement {
  return h('div', { class: 'card' }, h('h3', { class: 'card-title' }, title), h('div', { class: 'card-body' }, body));
}

function validUntil(a: Agreement): HTMLElement {
  const today = todayUtc();
  const date = a.validUntil.slice(0, 10);
  if (date < today) return h('span', null, date, ' ', badge('Expired', 'bad'));
  const days = Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000);
  if (days <= 30) return h('span', null, date, ' ', badge(`${days} days left`, 'warn'));
  return h('span', null, date);
}

function queriesLeft(a: Agreement): HTMLElement {
  if (a.mode === 'count') return h('span', { class: 'muted' }, 'None (count mode)');
  if (a.queriesLeftToday === undefined) return h('span', null, '—');
  return h(
    'span',
    null,
    fmtNum(a.queriesLeftToday),
    a.queryQuota ? ` of ${fmtNum(a.queryQuota.perDay)}` : '',
    a.queryQuota ? h('div', { class: 'muted small' }, `≤ ${fmtNum(a.queryQuota.maxValues)} values per query`) : null,
  );
}

function agreementsTable(partner: string, agreements: Agreement[]): HTMLElement {
  const rows = agreements.flatMap((a) => {
    const failed = a.state === 'failed';
    const main = h(
      'tr',
      { 'data-agreement': a.agreement, 'data-state': a.state, class: failed ? 'row-failed' : null },
      h(
        'th',
        { scope: 'row' },
        h('span', { class: 'mono' }, a.agreement),
        h('div', { class: 'small' }, a.mode === 'reveal' ? 'Reveal mode' : 'Count mode'),
        h('div', { class: 'muted small' }, 'Pair ', h('span', { class: 'mono nowrap' }, a.pair)),
      ),
      h('td', null, a.kinds.map((k) => h('span', { class: 'tag' }, humanise(k)))),
      h('td', { class: 'purposes' }, a.purposes.length ? a.purposes.map(humanise).join(', ') : '—'),
      h('td', null, validUntil(a)),
      h('td', null, pairBadge(a.state)),
      h('td', null, timeEl(a.lastSync), a.lastSync ? h('div', { class: 'muted small' }, relative(a.lastSync)) : null),
      h('td', { class: 'num' }, `${fmtNum(a.mySetSize)} / ${fmtNum(a.partnerSetSize)}`),
      h('td', { class: 'num' }, a.mode === 'count' ? `${fmtNum(a.count)} (count)` : fmtNum(a.matches)),
      h('td', null, queriesLeft(a)),
    );
    if (!a.reason) return [main];
    // The reason gets a full-width row of its own so a failure (e.g. a canary check) cannot be missed.
    const reason = h(
      'tr',
      { class: failed ? 'reason-row row-failed' : 'reason-row', 'data-reason-for': a.agreement },
      h(
        'td',
        { colspan: 9 },
        h('div', { class: 'reason-text' }, h('span', { class: 'reason-label' }, failed ? 'Why it failed: ' : 'State: '), h('span', { class: failed ? 'reason-failed' : 'reason' }, a.reason)),
      ),
    );
    return [main, reason];
  });
  const table = h(
    'table',
    { class: 'data no-zebra' },
    h('caption', { class: 'visually-hidden' }, `Agreements with ${partner}`),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        th('Agreement'),
        th('Kinds'),
        th('Purposes'),
        th('Valid until'),
        th('State'),
        th('Last sync'),
        th('Sets (ours / theirs)', 'col', { class: 'num' }),
        th('Matches', 'col', { class: 'num' }),
        th('Queries left today'),
      ),
    ),
    h('tbody', null, rows),
  );
  return tableWrap(`Agreements with ${partner}`, table);
}

function renderBody(body: HTMLElement, ov: Overview): void {
  const failed = ov.partners.flatMap((p) => p.agreements.filter((a) => a.state === 'failed').map((a) => ({ partner: p.partner, a })));
  const parts: (Node | null)[] = [];

  if (!ov.coordinatorReachable) {
    const banner = notice(
      'warn',
      'The coordinator cannot be reached.',
      h('p', null, 'Showing the last known state from the local store. Queries and decisions may fail until the connection returns.'),
      ov.coordinatorError ? h('p', { class: 'mono small' }, ov.coordinatorError) : null,
    );
    banner.id = 'coordinator-banner';
    parts.push(banner);
  }

  if (ov.auditLog.failure) {
    const f = ov.auditLog.failure;
    const banner = notice(
      'error',
      'The coordinator’s audit log failed this agency’s check.',
      h('p', null, `Check “${f.check}” failed at ${f.at}: ${f.message}. The coordinator may have rewritten, removed or forked its log. Keep the stored head (concordat audit head) and compare it with your partners’ and the authority’s.`),
    );
    banner.id = 'audit-log-banner';
    parts.push(banner);
  }

  if (failed.length) {
    const box = notice(
      'error',
      `Matching failed for ${plural(failed.length, 'pair')}.`,
      h(
        'ul',
        null,
        failed.map(({ partner, a }) =>
          h('li', null, h('strong', null, partner), ' — pair ', h('span', { class: 'mono' }, a.pair), ` (${a.agreement}): `, h('strong', null, a.reason ?? 'no reason given')),
        ),
      ),
      failed.some(({ a }) => /canary/i.test(a.reason ?? ''))
        ? h('p', { class: 'small' }, 'A failed canary check means the partner’s tokens could not be verified; do not rely on that pair’s results until it is resolved.')
        : null,
    );
    box.id = 'failed-pairs';
    parts.push(box);
  }

  if (ov.awaitingAcceptance.length) {
    const box = notice(
      'warn',
      `${plural(ov.awaitingAcceptance.length, 'agreement version')} awaiting this agency’s acceptance.`,
      h(
        'ul',
        null,
        ov.awaitingAcceptance.map((a) =>
          h(
            'li',
            { 'data-agreement': a.id },
            h('strong', null, `${a.id} version ${a.version}`),
            ` (${a.status}) with ${a.parties.join(', ')}; accepted by ${a.accepted.length ? a.accepted.join(', ') : 'nobody yet'}; valid until ${a.validUntil}; digest `,
            h('span', { class: 'mono small' }, a.digest),
          ),
        ),
      ),
      h('p', { class: 'small' }, 'Nothing flows under an agreement before this agency accepts it. Compare the parties’ key fingerprints out of band (concordat agreements show ID), then accept with concordat agreements accept ID --officer NAME.'),
    );
    box.id = 'awaiting-agreements';
    parts.push(box);
  }

  const last = ov.lastSync;
  parts.push(
    h('h2', null, 'Status'),
    h(
      'div',
      { class: 'cards' },
      card(
        'Coordinator',
        ov.coordinatorReachable ? badge('Reachable', 'ok') : badge('Unreachable', 'bad'),
        h('p', { class: 'mono small break' }, ov.coordinator),
        ov.epoch ? h('p', { class: 'small' }, `Epoch ${ov.epoch.id}, started `, timeEl(ov.epoch.startedAt)) : h('p', { class: 'small' }, 'No epoch yet'),
      ),
      card(
        'Last sync run',
        last
          ? h(
              'div',
              null,
              last.finishedAt === null ? badge('Running', 'info') : last.ok ? badge('Succeeded', 'ok') : badge('Failed', 'bad'),
              h('p', { class: 'small' }, 'Started ', timeEl(last.startedAt)),
              last.finishedAt === null ? null : h('p', { class: 'small' }, 'Finished ', timeEl(last.finishedAt), ` (${relative(last.finishedAt)})`),
              last.errors.length ? h('ul', { class: 'errors small' }, last.errors.map((e) => h('li', null, e))) : null,
            )
          : h('p', null, 'No sync has run yet.'),
      ),
      card(
        'Next scheduled sync',
        ov.nextSync ? h('p', null, timeEl(ov.nextSync), h('span', { class: 'muted' }, ` (${relative(ov.nextSync)})`)) : h('p', null, 'None scheduled (a sync is running, or serve runs with --sync-every 0).'),
      ),
      card(
        'Pending partner work',
        h('p', { class: 'big-number' }, fmtNum(ov.pendingWork)),
        h('p', { class: 'small muted' }, ov.pendingWork === 1 ? 'partner chunk waiting for us to tokenise' : 'partner chunks waiting for us to tokenise'),
      ),
      card(
        'Watchlist',
        ov.watchlist
          ? h(
              'div',
              null,
              h('p', null, h('span', { class: 'big-number' }, fmtNum(ov.watchlist.records)), ' records'),
              h('p', { class: 'small' }, `${fmtNum(ov.watchlist.identifiers)} identifiers, imported `, timeEl(ov.watchlist.importedAt)),
            )
          : h('p', null, 'No watchlist imported.'),
      ),
    ),
  );

  parts.push(h('h2', null, 'Partners and agreements'));
  if (!ov.partners.length) parts.push(emptyState('No agreements with any partner agency yet.'));
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

  parts.push(h('h2', null, 'Failed runs'));
  if (!ov.failedRuns.length) {
    parts.push(emptyState('No failed runs.'));
  } else {
    const table = h(
      'table',
      { class: 'data', id: 'failed-runs' },
      h('caption', { class: 'visually-hidden' }, 'Failed runs'),
      h('thead', null, h('tr', null, th('Time'), th('Partner'), th('Pair'), th('Reason'))),
      h(
        'tbody',
        null,
        ov.failedRuns.map((r) =>
          h('tr', null, h('td', null, timeEl(r.at)), h('td', null, r.partner ?? '—'), h('td', { class: 'mono' }, r.pair ?? '—'), h('td', { class: 'reason-failed' }, r.reason)),
        ),
      ),
    );
    parts.push(tableWrap('Failed runs', table));
  }

  body.removeAttribute('aria-busy');
  replaceChildren(body, parts);
}

export function renderOverview(ctx: PageContext): void {
  const body = h('div', { class: 'page-body', 'aria-busy': 'true' });
  const refresh = h('button', { type: 'button', class: 'btn', id: 'overview-refresh' }, 'Refresh');
  const load = (): void => {
    body.setAttribute('aria-busy', 'true');
    replaceChildren(body, loading('Loading overview…'));
    refresh.disabled = true;
    get<Overview>('/api/overview', ctx.signal)
      .then((ov) => {
        renderBody(body, ov);
      })
      .catch((e: unknown) => showLoadError(body, e, 'the overview', load))
      .finally(() => {
        refresh.disabled = false;
      });
  };
  refresh.addEventListener('click', load);
  ctx.root.append(pageHeader('Overview', 'Partner agreements, the state of nightly matching and this agency’s sync.', refresh), body);
  load();
}
