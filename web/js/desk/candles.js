// The candle chart of one of the bot's pairs: OHLC from the bot's analysed candles
// (GET /bots/{id}/candles, Freqtrade's /pair_candles), the strategy's indicators as it declares
// them (GET /bots/{id}/plot-config), and the entries and exits, both the strategy's signals (the
// candles' enter_long / exit_long columns) and the bot's actual trades.
//
// Drawn with Chart.js 3.9 (Debian's libjs-chart.js, served by the portal at
// /vendor/chart.js/chart.min.js and loaded by a classic script tag as window.Chart). Chart.js 3
// has no candlestick type, so a candle is two floating bars on the same x: a thin one from low
// to high (the wick) under a wide one from open to close (the body). The x axis is linear in
// epoch milliseconds: Chart.js's time axis would need a date adapter Debian does not ship.
import { h, fill } from '../dom.js';
import { toDate, num, shortDateTime } from '../format.js';
import { botGet, deskErrorText, rate } from './common.js';

// Colours for indicators the strategy gives none for (FreqUI's habit: distinct, readable).
const PALETTE = ['#2356c2', '#c27c0e', '#7b3fbf', '#0f8a8a', '#c2375f', '#5a6472', '#3a8f2d', '#b8512a'];

// Axis labels stay short (a phone shows three of them): the hour within two days, else the day.
const hourFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** The Chart.js constructor, or null when its file did not load (404, blocked). */
export function chartLibrary() {
  return typeof window.Chart === 'function' ? window.Chart : null;
}

function cssColor(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** Candle rows as objects: {t (ms), open, high, low, close, volume, row (the column values)}. */
export function parseCandles(body) {
  const columns = Array.isArray(body?.columns) ? body.columns : [];
  const index = Object.fromEntries(columns.map((c, i) => [c, i]));
  const tsColumn = index.__date_ts ?? index._date_ts;
  const rows = Array.isArray(body?.data) ? body.data : [];
  const candles = [];
  for (const row of rows) {
    if (!Array.isArray(row)) continue;
    const t = tsColumn !== undefined && num(row[tsColumn]) !== null ? num(row[tsColumn]) : toDate(row[index.date])?.getTime();
    const candle = { t, open: num(row[index.open]), high: num(row[index.high]), low: num(row[index.low]), close: num(row[index.close]), row };
    if (Number.isFinite(t) && [candle.open, candle.high, candle.low, candle.close].every((v) => v !== null)) candles.push(candle);
  }
  candles.sort((a, b) => a.t - b.t);
  return { columns, index, candles };
}

/** Indicator names → colours from /plot_config, main plot and each subplot. */
export function plotLayout(plotConfig, columns) {
  const present = new Set(columns);
  let colour = 0;
  const pick = (spec) => (typeof spec?.color === 'string' && spec.color ? spec.color : PALETTE[colour++ % PALETTE.length]);
  const main = Object.entries(plotConfig?.main_plot ?? {})
    .filter(([name]) => present.has(name))
    .map(([name, spec]) => ({ name, color: pick(spec), type: spec?.type === 'bar' ? 'bar' : 'line' }));
  const subplots = Object.entries(plotConfig?.subplots ?? {})
    .map(([title, indicators]) => ({
      title,
      indicators: Object.entries(indicators ?? {}).filter(([name]) => present.has(name))
        .map(([name, spec]) => ({ name, color: pick(spec), type: spec?.type === 'bar' ? 'bar' : 'line' })),
    }))
    .filter((s) => s.indicators.length);
  return { main, subplots };
}

function series(candles, index, name) {
  const i = index[name];
  return candles.map((c) => ({ x: c.t, y: num(c.row[i]) }));
}

/** Entry/exit signals of the strategy: candles whose enter_long / exit_long is 1. */
function signals(candles, index, column) {
  const i = index[column];
  if (i === undefined) return [];
  const at = index[`_${column}_signal_close`];
  return candles.filter((c) => num(c.row[i]) === 1).map((c) => ({ x: c.t, y: (at !== undefined ? num(c.row[at]) : null) ?? c.close }));
}

/** The bot's trades of this pair inside the chart's time range: entries and exits. */
function tradeMarks(trades, pair, from, to) {
  const entries = [];
  const exits = [];
  for (const t of trades) {
    if (t.pair !== pair) continue;
    const opened = toDate(t.open_timestamp ?? t.open_date)?.getTime();
    const closed = toDate(t.close_timestamp ?? t.close_date)?.getTime();
    if (Number.isFinite(opened) && opened >= from && opened <= to && num(t.open_rate) !== null) entries.push({ x: opened, y: num(t.open_rate), trade: t.trade_id });
    if (Number.isFinite(closed) && closed >= from && closed <= to && num(t.close_rate) !== null) exits.push({ x: closed, y: num(t.close_rate), trade: t.trade_id });
  }
  return { entries, exits };
}

/** Every dataset of the main chart, each tagged with `ftaKind` (what it shows). */
export function mainDatasets({ candles, index }, layout, marks) {
  const up = cssColor('--ok', '#126b3e');
  const down = cssColor('--bad', '#b3261e');
  const colours = candles.map((c) => (c.close >= c.open ? up : down));
  const sets = [
    { ftaKind: 'candle', type: 'bar', label: 'Candles', order: 2, grouped: false, barPercentage: 0.8, categoryPercentage: 1, minBarLength: 1,
      data: candles.map((c) => ({ x: c.t, y: [c.open, c.close] })), backgroundColor: colours, borderColor: colours, borderWidth: 0 },
    { ftaKind: 'wick', type: 'bar', label: 'High–low', order: 3, grouped: false, barPercentage: 0.12, categoryPercentage: 1, minBarLength: 1,
      data: candles.map((c) => ({ x: c.t, y: [c.low, c.high] })), backgroundColor: colours, borderWidth: 0 },
  ];
  for (const ind of layout.main) {
    sets.push({ ftaKind: 'indicator', type: ind.type, label: ind.name, order: 1, data: series(candles, index, ind.name),
      borderColor: ind.color, backgroundColor: ind.color, borderWidth: 1.5, pointRadius: 0, spanGaps: false, yAxisID: 'y' });
  }
  const marker = (kind, label, data, colour, rotation, radius) => ({
    ftaKind: kind, type: 'scatter', label, order: 0, data, pointStyle: 'triangle', rotation, radius, pointRadius: radius,
    pointHoverRadius: radius + 2, backgroundColor: colour, borderColor: '#ffffff', borderWidth: 1,
  });
  sets.push(marker('entry-signal', 'Entry signal', signals(candles, index, 'enter_long'), '#8fc7a4', 0, 5));
  sets.push(marker('exit-signal', 'Exit signal', signals(candles, index, 'exit_long'), '#f0a39d', 180, 5));
  sets.push(marker('trade-entry', 'Trade entry', marks.entries, up, 0, 8));
  sets.push(marker('trade-exit', 'Trade exit', marks.exits, down, 180, 8));
  return sets;
}

function axisOptions(from, to, compact) {
  const fmt = to - from <= 2 * 86400000 ? hourFmt : dayFmt;
  return {
    x: { type: 'linear', min: from, max: to, offset: false, grid: { display: false },
      ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: compact ? 4 : 8, callback: (value) => fmt.format(new Date(value)) } },
    // Bars start at zero by default; prices must not (the candles would be flat lines).
    // One fixed axis width, so the subplots' time axis lines up with the candles'.
    y: { type: 'linear', position: 'right', beginAtZero: false, grace: '2%', afterFit: (scale) => { scale.width = compact ? 70 : 90; },
      ticks: { maxTicksLimit: compact ? 5 : 8, callback: (value) => rate(value) } },
  };
}

/**
 * The candle chart in `root` (an element holding the pair select, the canvas boxes and a status
 * line; see web/bot.html). `trades()` returns the bot's trades (open and closed) known to the page.
 */
export function createCandleChart({ botId, pairSelect, limitSelect, status, mainBox, subBox, trades }) {
  let chart = null;
  const subCharts = new Map();
  let plotConfig = null;
  let loading = false;

  function destroy() {
    chart?.destroy();
    chart = null;
    for (const c of subCharts.values()) c.destroy();
    subCharts.clear();
  }

  function say(text, bad = false) {
    status.className = bad ? 'note note--bad' : 'note';
    status.textContent = text;
  }

  function draw(Chart, parsed, layout, pair, timeframeMs) {
    const { candles } = parsed;
    const from = candles[0].t - timeframeMs / 2;
    const to = candles[candles.length - 1].t + timeframeMs / 2;
    const marks = tradeMarks(trades(), pair, from, to);
    const datasets = mainDatasets(parsed, layout, marks);
    const compact = mainBox.clientWidth < 500;
    const byIndex = (ctx) => candles[ctx.dataIndex];
    const tooltip = {
      callbacks: {
        title: (items) => (items.length ? shortDateTime(items[0].parsed.x) : ''),
        label: (ctx) => {
          const kind = ctx.dataset.ftaKind;
          if (kind === 'candle') {
            const c = byIndex(ctx);
            return c ? `O ${rate(c.open)}  H ${rate(c.high)}  L ${rate(c.low)}  C ${rate(c.close)}` : '';
          }
          if (kind === 'wick') return null;
          return `${ctx.dataset.label}: ${rate(ctx.parsed.y)}`;
        },
      },
      filter: (item) => item.dataset.ftaKind !== 'wick',
    };
    const options = {
      responsive: true, maintainAspectRatio: false, animation: false, normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: axisOptions(from, to, compact),
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 12, sort: (a, b) => a.datasetIndex - b.datasetIndex,
          filter: (item, data) => data.datasets[item.datasetIndex]?.ftaKind !== 'wick' } },
        tooltip,
      },
    };
    if (chart) {
      chart.data.datasets = datasets;
      chart.options.scales = options.scales;
      chart.options.plugins.tooltip = tooltip;
      chart.update('none');
    } else {
      chart = new Chart(mainBox.querySelector('canvas'), { type: 'bar', data: { datasets }, options });
    }

    // One small chart per subplot (RSI, MACD...), on the same time range.
    const wanted = new Set(layout.subplots.map((s) => s.title));
    for (const [title, c] of subCharts) if (!wanted.has(title)) { c.destroy(); subCharts.delete(title); }
    const boxes = [];
    for (const sub of layout.subplots) {
      const subSets = sub.indicators.map((ind) => ({
        ftaKind: 'indicator', type: ind.type, label: ind.name, data: series(candles, parsed.index, ind.name),
        borderColor: ind.color, backgroundColor: ind.color, borderWidth: 1.5, pointRadius: 0,
      }));
      const subOptions = {
        responsive: true, maintainAspectRatio: false, animation: false, normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: axisOptions(from, to, compact),
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } },
          tooltip: { callbacks: { title: (items) => (items.length ? shortDateTime(items[0].parsed.x) : '') } } },
      };
      let existing = subCharts.get(sub.title);
      if (existing) {
        existing.data.datasets = subSets;
        existing.options.scales = subOptions.scales;
        existing.update('none');
        boxes.push(existing.canvas.parentElement);
      } else {
        const canvas = h('canvas', { role: 'img', 'aria-label': `${sub.title} of ${pair}`, 'data-subplot': sub.title });
        const box = h('div', { class: 'desk-chart__box desk-chart__box--sub' }, canvas);
        boxes.push(box);
        subBox.append(box);
        existing = new Chart(canvas, { type: 'line', data: { datasets: subSets }, options: subOptions });
        subCharts.set(sub.title, existing);
      }
    }
    subBox.hidden = boxes.length === 0;

    const canvas = mainBox.querySelector('canvas');
    const last = candles[candles.length - 1];
    const summary = `${pair}, ${candles.length} candles from ${shortDateTime(candles[0].t)} to ${shortDateTime(last.t)}; last close ${rate(last.close)}; `
      + `${layout.main.length} indicator${layout.main.length === 1 ? '' : 's'} on the price, ${layout.subplots.length} below; `
      + `${marks.entries.length} trade entr${marks.entries.length === 1 ? 'y' : 'ies'} and ${marks.exits.length} exit${marks.exits.length === 1 ? '' : 's'} in range.`;
    canvas.setAttribute('aria-label', `Candle chart: ${summary}`);
    return summary;
  }

  async function load({ reloadPlotConfig = false } = {}) {
    const Chart = chartLibrary();
    if (!Chart) {
      destroy();
      mainBox.hidden = true;
      subBox.hidden = true;
      say('The chart library is not available on this portal (/vendor/chart.js/chart.min.js did not load), so candles cannot be drawn. '
        + 'The operator can install Debian\'s libjs-chart.js package.', true);
      return;
    }
    const pair = pairSelect.value;
    if (!pair || loading) return;
    loading = true;
    say(`Loading ${pair} candles…`);
    try {
      if (!plotConfig || reloadPlotConfig) plotConfig = await botGet(botId, '/plot-config');
      const body = await botGet(botId, `/candles?${new URLSearchParams({ pair, limit: limitSelect.value })}`);
      if (pairSelect.value !== pair) return; // another pair was chosen meanwhile
      const parsed = parseCandles(body);
      if (!parsed.candles.length) {
        destroy();
        mainBox.hidden = true;
        subBox.hidden = true;
        say(`No candles for ${pair} yet: the bot analyses a pair once its first candles have arrived.`);
        return;
      }
      mainBox.hidden = false;
      const layout = plotLayout(plotConfig, parsed.columns);
      const timeframeMs = num(body.timeframe_ms) ?? (parsed.candles.length > 1 ? parsed.candles[1].t - parsed.candles[0].t : 60000);
      const summary = draw(Chart, parsed, layout, pair, timeframeMs);
      const noPlot = !layout.main.length && !layout.subplots.length ? ' The strategy declares no indicators to plot.' : '';
      say(`${summary}${noPlot} Timeframe ${body.timeframe ?? '—'}.`);
    } catch (err) {
      if (err?.redirecting) return;
      say(`Could not load the candles: ${deskErrorText(err)}`, true);
    } finally {
      loading = false;
    }
  }

  /** The pairs to offer: the bot's whitelist (the portal accepts only those). */
  function setPairs(pairs) {
    const current = pairSelect.value;
    const list = [...new Set(pairs)];
    const same = [...pairSelect.options].map((o) => o.value).join('|') === list.join('|');
    if (!same) {
      fill(pairSelect, list.map((p) => h('option', { value: p }, p)));
      pairSelect.value = list.includes(current) ? current : (list[0] ?? '');
    }
  }

  return { load, setPairs, destroy, get chart() { return chart; } };
}

