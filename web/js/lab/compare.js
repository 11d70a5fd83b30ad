// The Compare tab: 2 to 4 backtests side by side (GET /backtests/compare?ids=...), in the order
// they were picked: a metric per row, a backtest per column, the best value of each row marked
// (in words too, not by colour alone), and their equity curves overlaid.
import { h, fill, setText } from '../dom.js';
import { errorText } from '../ui.js';
import { num } from '../format.js';
import { labApi } from './api.js';
import { drawEquity } from './equity.js';
import { METRICS, statusBadge, strategyLabel, timerangeLabel, quoteCurrency } from './common.js';

/** Index of the best value of a row (ties: all of them), or [] when the row has no direction. */
export function bestOf(values, better) {
  if (!better) return [];
  const known = values.map((v, i) => [num(v), i]).filter(([v]) => v !== null);
  if (known.length < 2) return [];
  const target = better === 'high' ? Math.max(...known.map(([v]) => v)) : Math.min(...known.map(([v]) => v));
  const best = known.filter(([v]) => v === target).map(([, i]) => i);
  return best.length === known.length ? [] : best; // all equal: nothing stands out
}

export function createCompareView({ container, onOpen }) {
  let shownFor = '';

  function empty(text) {
    shownFor = '';
    fill(container, h('div', { class: 'card' }, h('p', { class: 'card__hint' }, text
      ?? 'Pick 2 to 4 finished backtests in the history (the boxes at the start of each row), then Compare selected.')));
  }

  async function show(ids) {
    const list = (ids ?? []).filter(Boolean);
    if (list.length < 2) { empty(); return; }
    const key = list.join(',');
    if (key === shownFor) return;
    shownFor = key;
    fill(container, h('p', { class: 'msg msg--plain', role: 'status' }, `Loading ${list.length} backtests…`));
    try {
      const body = await labApi.compare(list);
      if (shownFor !== key) return;
      const backtests = Array.isArray(body?.backtests) ? body.backtests : [];
      render(backtests);
      // The comparison carries each one's equity; a portal that leaves it out is asked per backtest.
      const curves = await Promise.all(backtests.map((bt) => (Array.isArray(bt.equity)
        ? bt.equity : labApi.backtest(bt.id).then((full) => full?.result?.equity ?? []).catch(() => null))));
      if (shownFor !== key) return;
      const box = container.querySelector('#compare-equity');
      const cur = quoteCurrency(backtests[0]);
      const series = curves.map((equity, i) => ({ label: `${i + 1}. ${strategyLabel(backtests[i].strategy)} (${backtests[i].id})`, equity: equity ?? [] }));
      const words = drawEquity(box, series, { currency: cur });
      setText(container.querySelector('#compare-equity-words'), `${words ?? ''}${curves.some((c) => c === null) ? ' Some curves could not be loaded.' : ''}`);
    } catch (err) {
      if (err.redirecting) return;
      shownFor = '';
      fill(container, h('div', { class: 'msg msg--error', role: 'alert' }, `Could not compare these backtests: ${errorText(err)}`));
    }
  }

  function render(backtests) {
    const cur = quoteCurrency(backtests[0]);
    const headers = backtests.map((bt, i) => {
      const open = h('a', { href: `/lab.html?id=${encodeURIComponent(bt.id)}#result`, class: 'lab-compare__link' }, `${i + 1}. ${strategyLabel(bt.strategy)}`);
      open.addEventListener('click', (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        onOpen(bt.id);
      });
      return h('th', { scope: 'col', class: 'num', 'data-backtest-id': bt.id },
        open, h('span', { class: 'lab-sub' }, timerangeLabel(bt.timerange)),
        h('span', { class: 'lab-sub' }, `${(bt.pairs ?? []).join(', ')} · ${bt.timeframe}`), h('span', { class: 'lab-sub' }, bt.id));
    });
    const rows = METRICS.map((def) => {
      const values = backtests.map((bt) => bt.metrics?.[def.key]);
      const best = bestOf(values, def.better);
      return h('tr', { 'data-metric': def.key },
        h('th', { scope: 'row' }, def.label, def.better ? h('span', { class: 'lab-sub' }, def.better === 'high' ? 'higher is better' : 'lower is better') : null),
        values.map((v, i) => h('td', { class: best.includes(i) ? 'num lab-best' : 'num', 'data-best': best.includes(i) ? 'true' : null },
          def.format(v, quoteCurrency(backtests[i]) || cur), best.includes(i) ? h('span', { class: 'lab-best__word' }, ' best') : null)));
    });
    const settings = [
      ['Status', (bt) => statusBadge(bt.status)],
      ['Exchange', (bt) => bt.exchange ?? '—'],
      ['Starting wallet', (bt) => String(bt.dryRunWallet ?? '—')],
      ['Stake per trade', (bt) => String(bt.stakeAmount ?? '—')],
      ['Max open trades', (bt) => String(bt.maxOpenTrades ?? '—')],
      ['Tuned', (bt) => (bt.tuning && Object.keys(bt.tuning).length ? `Yes: ${Object.keys(bt.tuning).join(', ')}` : 'No')],
    ].map(([label, cell]) => h('tr', {}, h('th', { scope: 'row' }, label), backtests.map((bt) => h('td', { class: 'num' }, cell(bt)))));
    fill(container,
      h('section', { class: 'card', 'aria-labelledby': 'h-compare' },
        h('div', { class: 'card__head' }, h('h2', { id: 'h-compare' }, `Comparing ${backtests.length} backtests`),
          h('span', { class: 'note' }, 'Best value of each row marked “best”')),
        h('div', { class: 'table-wrap' }, h('table', { class: 'table lab-compare', 'data-testid': 'compare-table' },
          h('caption', {}, 'Metrics of each backtest, in the order they were picked.'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Metric'), headers)),
          h('tbody', {}, rows, settings)))),
      h('section', { class: 'card', 'aria-labelledby': 'h-compare-equity' },
        h('div', { class: 'card__head' }, h('h2', { id: 'h-compare-equity' }, 'Equity curves')),
        h('div', { class: 'lab-chart', id: 'compare-equity' }, h('p', { class: 'note' }, 'Loading the curves…')),
        h('p', { class: 'note', id: 'compare-equity-words' })));
  }

  return { show, reset() { shownFor = ''; } };
}
