// Cumulative profit over closed trades, drawn as inline SVG with DOM APIs (no library).
import { h, s, fill } from './dom.js';
import { toDate, day, amount, shortDateTime, money } from './format.js';

/** Closed trades → [{t: Date, cum: number, profit: number, pair}] sorted by close date. */
export function cumulativeSeries(trades) {
  const points = trades
    .map((t) => ({ t: toDate(t.close_timestamp ?? t.close_date), profit: Number(t.profit_abs ?? t.close_profit_abs ?? 0), pair: t.pair }))
    .filter((p) => p.t && Number.isFinite(p.profit))
    .sort((a, b) => a.t - b.t);
  let cum = 0;
  return points.map((p) => { cum += p.profit; return { ...p, cum }; });
}

function niceStep(range, target) {
  const raw = range / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return step * mag;
}

/**
 * Draws into `container` at its current pixel width (so text stays readable on a phone).
 * Returns nothing; an empty series shows an explanatory empty state.
 */
export function drawProfitChart(container, trades, currency, emptyText) {
  const series = cumulativeSeries(trades);
  if (series.length === 0) {
    fill(container, h('div', { class: 'empty' },
      h('p', {}, emptyText ?? 'No closed trades yet. The chart fills in as the bot closes trades; in dry-run this can take hours, depending on the strategy and timeframe.')));
    return;
  }
  const width = Math.max(280, Math.round(container.clientWidth || 600));
  const height = width < 500 ? 220 : 280;
  const pad = { top: 14, right: 14, bottom: 28, left: width < 500 ? 52 : 64 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;

  const values = series.map((p) => p.cum);
  let min = Math.min(0, ...values);
  let max = Math.max(0, ...values);
  if (max - min < 1e-9) { max += 1; min -= 1; }
  const step = niceStep(max - min, 4);
  min = Math.floor(min / step) * step;
  max = Math.ceil(max / step) * step;

  const t0 = series[0].t.getTime();
  const t1 = series[series.length - 1].t.getTime();
  const span = Math.max(1, t1 - t0);
  const x = (t) => pad.left + (series.length === 1 ? innerW / 2 : ((t.getTime() - t0) / span) * innerW);
  const y = (v) => pad.top + (1 - (v - min) / (max - min)) * innerH;

  const grid = [];
  for (let v = min; v <= max + step / 2; v += step) {
    const yy = y(v).toFixed(1);
    grid.push(s('line', { class: Math.abs(v) < step / 1e6 ? 'chart-zero' : 'chart-grid', x1: pad.left, x2: width - pad.right, y1: yy, y2: yy }));
    grid.push(s('text', { class: 'chart-axis', x: pad.left - 6, y: yy, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, amount(Math.abs(v) < step / 1e6 ? 0 : v)));
  }

  const xLabels = [];
  const ticks = width < 500 ? 3 : 5;
  for (let i = 0; i < ticks; i += 1) {
    const t = series.length === 1 ? series[0].t : new Date(t0 + (span * i) / (ticks - 1));
    xLabels.push(s('text', { class: 'chart-axis', x: x(t).toFixed(1), y: height - 8, 'text-anchor': i === 0 ? 'start' : i === ticks - 1 ? 'end' : 'middle' }, day(t)));
    if (series.length === 1) break;
  }

  // Step-less line through each closing; start at zero just before the first close.
  const coords = series.map((p) => [x(p.t), y(p.cum)]);
  const startPoint = [coords[0][0], y(0)];
  const linePts = [startPoint, ...coords];
  const path = linePts.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)} ${py.toFixed(1)}`).join(' ');
  const area = `${path} L${coords[coords.length - 1][0].toFixed(1)} ${y(0).toFixed(1)} Z`;

  const dots = series.length <= 200 ? series.map((p, i) => s('circle', {
    class: p.profit < 0 ? 'chart-dot chart-dot--neg' : 'chart-dot', cx: coords[i][0].toFixed(1), cy: coords[i][1].toFixed(1), r: 3,
  }, s('title', {}, `${shortDateTime(p.t)} · ${p.pair ?? ''} ${money(p.profit, currency, { signed: true })} → total ${money(p.cum, currency, { signed: true })}`))) : [];

  const last = series[series.length - 1];
  const summary = `Cumulative profit over ${series.length} closed trade${series.length === 1 ? '' : 's'}, from ${shortDateTime(series[0].t)} to ${shortDateTime(last.t)}; now ${money(last.cum, currency, { signed: true })}.`;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': summary },
    grid, s('path', { class: 'chart-area', d: area }), s('path', { class: 'chart-line', d: path }), dots, xLabels);
  fill(container, svg, h('p', { class: 'note' }, summary));
}
