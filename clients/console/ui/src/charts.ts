// Small SVG charts built with createElementNS (no inline style: presentation
// attributes only). Series are told apart by colour *and* by marker shape and
// dash pattern, so the chart still reads in greyscale or for colour-blind users.
import { h, s, type Child } from './dom';

const W = 720;
const H = 300;
const M = { top: 16, right: 16, bottom: 40, left: 52 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

const COLOURS = ['#1f5fa8', '#b34700', '#2e7d32', '#7b1fa2', '#c62828', '#00838f', '#5d4037', '#37474f'];
const DASHES = ['', '7 4', '2 3', '9 3 2 3', '4 2', '1 2'];
type Shape = 'circle' | 'square' | 'triangle' | 'diamond';
const SHAPES: Shape[] = ['circle', 'square', 'triangle', 'diamond'];

export interface SeriesStyle {
  colour: string;
  dash: string;
  shape: Shape;
}

export function seriesStyle(i: number): SeriesStyle {
  return { colour: COLOURS[i % COLOURS.length] ?? '#1f5fa8', dash: DASHES[i % DASHES.length] ?? '', shape: SHAPES[i % SHAPES.length] ?? 'circle' };
}

function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 4, step: 1 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  step = Math.max(1, step);
  return { top: Math.ceil(max / step) * step, step };
}

function marker(shape: Shape, x: number, y: number, colour: string, title: string): SVGElement {
  const r = 4;
  const common = { fill: colour, stroke: '#ffffff', 'stroke-width': 1 };
  const t = s('title', null, title);
  switch (shape) {
    case 'square':
      return s('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r, ...common }, t);
    case 'triangle':
      return s('polygon', { points: `${x},${y - r - 1} ${x + r + 1},${y + r} ${x - r - 1},${y + r}`, ...common }, t);
    case 'diamond':
      return s('polygon', { points: `${x},${y - r - 1} ${x + r + 1},${y} ${x},${y + r + 1} ${x - r - 1},${y}`, ...common }, t);
    default:
      return s('circle', { cx: x, cy: y, r, ...common }, t);
  }
}

/** Swatch for an HTML legend: a short line in the series' dash pattern with its marker. */
export function legendSwatch(style: SeriesStyle | { bar: string } | { line: string; dash: string }): SVGSVGElement {
  const svg = s('svg', { class: 'swatch', viewBox: '0 0 28 12', width: 28, height: 12, 'aria-hidden': 'true', focusable: 'false' });
  if ('bar' in style) {
    svg.append(s('rect', { x: 6, y: 1, width: 16, height: 10, fill: style.bar }));
  } else if ('shape' in style) {
    svg.append(s('line', { x1: 1, y1: 6, x2: 27, y2: 6, stroke: style.colour, 'stroke-width': 2, 'stroke-dasharray': style.dash || null }));
    svg.append(marker(style.shape, 14, 6, style.colour, ''));
  } else {
    svg.append(s('line', { x1: 1, y1: 6, x2: 27, y2: 6, stroke: style.line, 'stroke-width': 2, 'stroke-dasharray': style.dash || null }));
  }
  return svg;
}

function shortDate(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

function frame(id: string, title: string, desc: string, yLabel: string, labels: readonly string[], top: number, step: number): { svg: SVGSVGElement; plot: SVGGElement } {
  const svg = s('svg', {
    class: 'chart',
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`,
    preserveAspectRatio: 'xMidYMid meet',
  });
  svg.append(s('title', { id: `${id}-title` }, title), s('desc', { id: `${id}-desc` }, desc));
  const axes = s('g', { class: 'axes', 'aria-hidden': 'true' });
  for (let v = 0; v <= top + 1e-9; v += step) {
    const y = M.top + PH - (v / top) * PH;
    axes.append(
      s('line', { x1: M.left, x2: M.left + PW, y1: y, y2: y, stroke: v === 0 ? '#5f6b7a' : '#e1e5ea', 'stroke-width': 1 }),
      s('text', { x: M.left - 8, y: y + 4, 'text-anchor': 'end', class: 'tick' }, v.toLocaleString('en-GB')),
    );
  }
  const n = labels.length;
  const every = Math.max(1, Math.ceil(n / 8));
  labels.forEach((l, i) => {
    if (i % every !== 0) return;
    const x = xAt(i, n);
    axes.append(
      s('line', { x1: x, x2: x, y1: M.top + PH, y2: M.top + PH + 4, stroke: '#5f6b7a' }),
      s('text', { x, y: M.top + PH + 18, 'text-anchor': 'middle', class: 'tick' }, shortDate(l)),
    );
  });
  axes.append(s('text', { x: 14, y: M.top + PH / 2, 'text-anchor': 'middle', class: 'axis-label', transform: `rotate(-90 14 ${M.top + PH / 2})` }, yLabel));
  svg.append(axes);
  const plot = s('g', { class: 'plot' });
  svg.append(plot);
  return { svg, plot };
}

function xAt(i: number, n: number): number {
  return n <= 1 ? M.left + PW / 2 : M.left + (i + 0.5) * (PW / n);
}

export interface LineSeries {
  name: string;
  values: readonly (number | null)[];
}

export function lineChart(opts: { id: string; title: string; desc: string; yLabel: string; labels: readonly string[]; series: readonly LineSeries[] }): SVGSVGElement {
  const max = Math.max(0, ...opts.series.flatMap((sr) => sr.values.filter((v): v is number => v !== null)));
  const { top, step } = niceScale(max);
  const { svg, plot } = frame(opts.id, opts.title, opts.desc, opts.yLabel, opts.labels, top, step);
  const n = opts.labels.length;
  const yOf = (v: number): number => M.top + PH - (v / top) * PH;
  opts.series.forEach((sr, si) => {
    const st = seriesStyle(si);
    let d = '';
    let pen = false;
    sr.values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${xAt(i, n).toFixed(1)},${yOf(v).toFixed(1)}`;
      pen = true;
    });
    const g = s('g', { class: 'series' });
    if (d) g.append(s('path', { d, fill: 'none', stroke: st.colour, 'stroke-width': 2, 'stroke-dasharray': st.dash || null, 'stroke-linejoin': 'round' }));
    sr.values.forEach((v, i) => {
      if (v !== null) g.append(marker(st.shape, xAt(i, n), yOf(v), st.colour, `${opts.labels[i] ?? ''} — ${sr.name}: ${v.toLocaleString('en-GB')}`));
    });
    plot.append(g);
  });
  return svg;
}

export const BAR_COLOUR = '#1f5fa8';
export const QUOTA_COLOUR = '#b34700';
export const QUOTA_DASH = '6 3';

export function barQuotaChart(opts: {
  id: string;
  title: string;
  desc: string;
  yLabel: string;
  labels: readonly string[];
  bars: readonly number[];
  barName: string;
  quota: readonly (number | null)[];
  quotaName: string;
}): SVGSVGElement {
  const max = Math.max(0, ...opts.bars, ...opts.quota.filter((v): v is number => v !== null));
  const { top, step } = niceScale(max);
  const { svg, plot } = frame(opts.id, opts.title, opts.desc, opts.yLabel, opts.labels, top, step);
  const n = opts.labels.length;
  const band = PW / Math.max(1, n);
  const bw = Math.max(2, band * 0.64);
  const yOf = (v: number): number => M.top + PH - (v / top) * PH;
  const bars = s('g', { class: 'bars' });
  opts.bars.forEach((v, i) => {
    const y = yOf(v);
    bars.append(
      s(
        'rect',
        { x: xAt(i, n) - bw / 2, y, width: bw, height: Math.max(0, M.top + PH - y), fill: BAR_COLOUR },
        s('title', null, `${opts.labels[i] ?? ''} — ${opts.barName}: ${v.toLocaleString('en-GB')}${opts.quota[i] != null ? ` of ${opts.quota[i]}` : ''}`),
      ),
    );
  });
  plot.append(bars);
  // The quota is drawn as a step line spanning each day's band, so a change of quota shows as a step.
  let d = '';
  let pen = false;
  opts.quota.forEach((q, i) => {
    if (q === null) {
      pen = false;
      return;
    }
    const x0 = M.left + i * band;
    const y = yOf(q).toFixed(1);
    d += `${pen ? 'L' : 'M'}${x0.toFixed(1)},${y}L${(x0 + band).toFixed(1)},${y}`;
    pen = true;
  });
  if (d) plot.append(s('path', { d, fill: 'none', stroke: QUOTA_COLOUR, 'stroke-width': 2.5, 'stroke-dasharray': QUOTA_DASH }, s('title', null, opts.quotaName)));
  return svg;
}

export function legend(items: { label: string; swatch: SVGSVGElement }[]): HTMLElement {
  return h('ul', { class: 'legend' }, items.map((it) => h('li', null, it.swatch, it.label)));
}

export function figure(id: string, caption: string, ...children: Child[]): HTMLElement {
  return h('figure', { id, class: 'chart-figure' }, h('figcaption', null, caption), children);
}
