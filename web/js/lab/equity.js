// Equity curves of backtests: one, or several overlaid for a comparison. Drawn with Chart.js 3.9
// (Debian's libjs-chart.js, loaded by a classic script tag as window.Chart), on a linear x axis
// in epoch milliseconds like the bot page's candle chart: Chart.js's time axis would need a date
// adapter Debian does not ship.
import { h, fill } from '../dom.js';
import { toDate, num, money, shortDateTime } from '../format.js';

const PALETTE = ['#2356c2', '#c27c0e', '#7b3fbf', '#0f8a8a', '#c2375f', '#3a8f2d'];
const hourFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** [{t, balance}] → [{x: ms, y}] in time order, points that do not parse left out. */
export function equityPoints(equity) {
  return (Array.isArray(equity) ? equity : [])
    .map((p) => ({ x: toDate(p?.t)?.getTime(), y: num(p?.balance) }))
    .filter((p) => Number.isFinite(p.x) && p.y !== null)
    .sort((a, b) => a.x - b.x);
}

/**
 * Draws `series` ([{label, equity}]) into `box` (an element of the page that keeps its height;
 * see .lab-chart in lab.css). Returns a sentence that says what the chart shows, also set as the
 * canvas's label; when the chart cannot be drawn the box says why in words instead.
 */
export function drawEquity(box, series, { currency = '' } = {}) {
  const Chart = typeof window.Chart === 'function' ? window.Chart : null;
  const old = box.querySelector('canvas');
  if (old && Chart?.getChart(old)) Chart.getChart(old).destroy();
  const lines = series.map((s) => ({ label: s.label, points: equityPoints(s.equity) })).filter((s) => s.points.length);
  if (!Chart) {
    fill(box, h('p', { class: 'msg msg--warn' }, 'The chart library is not available on this portal (/vendor/chart.js/chart.min.js did not load), '
      + 'so the equity curve cannot be drawn. The figures above are complete. The operator can install Debian\'s libjs-chart.js package.'));
    box.classList.remove('lab-chart');
    return null;
  }
  if (!lines.length) {
    fill(box, h('p', { class: 'card__hint' }, 'No equity points: the backtest made no trades.'));
    box.classList.remove('lab-chart');
    return null;
  }
  box.classList.add('lab-chart');
  const canvas = h('canvas', { role: 'img', 'data-testid': 'equity-canvas' });
  fill(box, canvas);
  const from = Math.min(...lines.map((l) => l.points[0].x));
  const to = Math.max(...lines.map((l) => l.points[l.points.length - 1].x));
  const fmt = to - from <= 3 * 86400000 ? hourFmt : dayFmt;
  const compact = box.clientWidth < 500;
  const datasets = lines.map((l, i) => ({
    label: l.label, data: l.points, borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length],
    borderWidth: 2, pointRadius: l.points.length > 60 ? 0 : 2, tension: 0, fill: false, stepped: false,
  }));
  // eslint-disable-next-line no-new
  new Chart(canvas, {
    type: 'line',
    data: { datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false, normalized: true, parsing: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: { type: 'linear', min: from, max: to === from ? from + 1 : to, grid: { display: false },
          ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: compact ? 3 : 7, callback: (value) => fmt.format(new Date(value)) } },
        y: { type: 'linear', beginAtZero: false, grace: '3%', ticks: { maxTicksLimit: 6 }, title: { display: Boolean(currency), text: currency } },
      },
      plugins: {
        legend: { display: lines.length > 1, position: 'bottom', labels: { boxWidth: 12 } },
        tooltip: { callbacks: {
          title: (items) => (items.length ? shortDateTime(items[0].parsed.x) : ''),
          label: (item) => `${item.dataset.label}: ${money(item.parsed.y, currency)}`,
        } },
      },
    },
  });
  const summary = lines.map((l) => {
    const first = l.points[0];
    const last = l.points[l.points.length - 1];
    return `${l.label}: ${money(first.y, currency)} on ${shortDateTime(first.x)} to ${money(last.y, currency)} on ${shortDateTime(last.x)}`;
  }).join('; ');
  canvas.setAttribute('aria-label', `Equity curve. ${summary}.`);
  return summary;
}
