import { get } from './api';
import { BAR_COLOUR, QUOTA_COLOUR, QUOTA_DASH, barQuotaChart, figure, legend, legendSwatch, lineChart, seriesStyle } from './charts';
import { fmtNum, h, pad2, replaceChildren, th } from './dom';
import { t } from './i18n';
import { emptyState, loading, pageHeader, showLoadError, type PageContext } from './page';
import { replaceParams } from './router';
import type { Trends } from './types';

const DAY_CHOICES = [7, 14, 30, 90] as const;

/** Every UTC date from the first to the last one present, so missing nights show as gaps rather than vanish. */
function dateRange(dates: readonly string[]): string[] {
  const sorted = [...new Set(dates)].sort();
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (!first || !last) return [];
  const out: string[] = [];
  const end = Date.parse(`${last}T00:00:00Z`);
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= end && out.length < 400; t += 86_400_000) {
    const d = new Date(t);
    out.push(`${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`);
  }
  return out;
}

function hiddenTable(caption: string, head: string[], rows: (string | number)[][]): HTMLElement {
  // Wrapped because a table treats `height` as a minimum, so it cannot itself be clipped to 1px.
  return h(
    'div',
    { class: 'visually-hidden' },
    h(
    'table',
    null,
    h('caption', null, caption),
    h('thead', null, h('tr', null, head.map((c) => th(c)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, String(c)) : h('td', null, String(c))))))),
    ),
  );
}

function overlapsChart(t: Trends, days: number): HTMLElement {
  const labels = dateRange(t.nights.map((n) => n.date));
  const partners = [...new Set(t.nights.map((n) => n.partner))].sort();
  const caption = `Overlaps per partner per night, last ${days} days`;
  if (!labels.length) return figure('chart-overlaps', caption, emptyState('No completed nightly pulls in this period.'));
  const at = new Map(t.nights.map((n) => [`${n.partner}\u0000${n.date}`, n.overlaps]));
  const series = partners.map((p) => ({ name: p, values: labels.map((d) => at.get(`${p}\u0000${d}`) ?? null) }));
  const svg = lineChart({
    id: 'overlaps',
    title: caption,
    desc: `Line chart, one line per partner (${partners.join(', ')}): matched identifiers at the last complete pull of each night, or the count for count-mode pairs. The data table follows.`,
    yLabel: 'Overlaps',
    labels,
    series,
  });
  return figure(
    'chart-overlaps',
    caption,
    svg,
    legend(partners.map((p, i) => ({ label: p, swatch: legendSwatch(seriesStyle(i)) }))),
    hiddenTable(caption, ['Night (UTC)', ...partners], labels.map((d) => [d, ...series.map((sr) => sr.values[labels.indexOf(d)] ?? 'no data')])),
  );
}

function queriesChart(t: Trends, days: number): HTMLElement {
  const labels = dateRange(t.queries.map((q) => q.date));
  const caption = `Targeted queries per day against the daily quota, last ${days} days`;
  if (!labels.length) return figure('chart-queries', caption, emptyState('No targeted queries in this period.'));
  const byDate = new Map(t.queries.map((q) => [q.date, q]));
  const bars = labels.map((d) => byDate.get(d)?.queries ?? 0);
  const quota = labels.map((d) => byDate.get(d)?.quota ?? null);
  const total = bars.reduce((a, b) => a + b, 0);
  const svg = barQuotaChart({
    id: 'queries',
    title: caption,
    desc: `Bar chart of queries asked each UTC day (${fmtNum(total)} in total) with a dashed line for the summed daily quota of all reveal agreements. The data table follows.`,
    yLabel: 'Queries',
    labels,
    bars,
    barName: 'Queries asked',
    quota,
    quotaName: 'Daily quota',
  });
  return figure(
    'chart-queries',
    caption,
    svg,
    legend([
      { label: 'Queries asked', swatch: legendSwatch({ bar: BAR_COLOUR }) },
      { label: 'Daily quota (all partners)', swatch: legendSwatch({ line: QUOTA_COLOUR, dash: QUOTA_DASH }) },
    ]),
    hiddenTable(caption, ['Day (UTC)', 'Queries asked', 'Daily quota'], labels.map((d, i) => [d, bars[i] ?? 0, quota[i] ?? 'no data'])),
  );
}

export function renderTrends(ctx: PageContext): void {
  const fromHash = Number(ctx.params.get('days'));
  let days: number = (DAY_CHOICES as readonly number[]).includes(fromHash) ? fromHash : 30;
  const daysSel = h('select', { id: 'trends-days' }, DAY_CHOICES.map((d) => h('option', { value: d }, t('t.lastDays', { n: d }))));
  daysSel.value = String(days);
  const body = h('div', { class: 'page-body', 'aria-busy': 'true' });

  const load = (): void => {
    body.setAttribute('aria-busy', 'true');
    replaceChildren(body, loading(t('t.loading')));
    get<Trends>(`/api/trends?days=${days}`, ctx.signal)
      .then((t) => {
        body.removeAttribute('aria-busy');
        replaceChildren(body, h('div', { class: 'charts' }, overlapsChart(t, days), queriesChart(t, days)));
      })
      .catch((e: unknown) => showLoadError(body, e, t('t.what'), load));
  };
  daysSel.addEventListener('change', () => {
    days = Number(daysSel.value);
    replaceParams('trends', { days: String(days) });
    load();
  });

  ctx.root.append(
    pageHeader(t('t.title'), t('t.lead'), h('div', { class: 'field field-inline' }, h('label', { for: 'trends-days' }, t('t.period')), daysSel)),
    body,
  );
  load();
}
