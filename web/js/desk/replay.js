// The bot page's "Backtest vs dry run" tab (issue 16): a backtest of the bot's exact settings and
// strategy version over the time it has run (POST /bots/{id}/replay), then its trades against the
// dry run's: the ones both made (with how far their rates differ), the ones only one of them made,
// and the profit of each. What the comparison says is the portal's (the backtest's `comparison`);
// this view only draws it. Owners and admins start one; everyone who sees the bot sees the latest.
import { h, fill, setText } from '../dom.js';
import { busy, showMessage, clearMessage, errorText, table, toast } from '../ui.js';
import { money, num, shortDateTime, signClass, percent } from '../format.js';
import { labApi } from '../lab/api.js';
import { isActive, statusBadge, progressBar, poll } from '../lab/common.js';
import { rate } from './common.js';

const POLL_MS = 2000;

const signedMoney = (v, cur) => h('span', { class: signClass(v) }, money(v, cur, { signed: true }));

/** A rate difference with its size relative to the backtest's rate ("+12.5 (+0.02 %)"). */
function diffCell(diff, base) {
  const d = num(diff);
  if (d === null) return '—';
  const b = num(base);
  const rel = b ? ` (${percent((d / b) * 100)})` : '';
  return h('span', { class: signClass(d) }, `${d > 0 ? '+' : d < 0 ? '−' : ''}${rate(Math.abs(d))}${rel}`);
}

/** A trade of either side, whichever naming it comes in (the lab's camelCase or Freqtrade's). */
function tradeOf(t) {
  return {
    pair: t?.pair ?? '—',
    open: t?.openDate ?? t?.open_date ?? t?.open_timestamp,
    close: t?.closeDate ?? t?.close_date ?? t?.close_timestamp,
    openRate: t?.openRate ?? t?.open_rate,
    closeRate: t?.closeRate ?? t?.close_rate,
    profit: t?.profitAbs ?? t?.profit_abs ?? t?.close_profit_abs,
    reason: t?.exitReason ?? t?.exit_reason ?? null,
  };
}

function tradesTable(trades, cur, caption, testId) {
  if (!trades?.length) return h('p', { class: 'card__hint', 'data-testid': testId }, 'None.');
  return h('div', { class: 'table-wrap', 'data-testid': testId }, table({
    caption,
    columns: [{ label: 'Pair' }, { label: 'Opened', nowrap: true }, { label: 'Closed', nowrap: true }, { label: 'Open rate', num: true },
      { label: 'Close rate', num: true }, { label: `Profit (${cur})`, num: true }, { label: 'Exit reason' }],
    rows: trades.map(tradeOf).map((t) => ({
      cells: [h('span', { class: 'chip' }, t.pair), shortDateTime(t.open), t.close ? shortDateTime(t.close) : 'open',
        rate(t.openRate), rate(t.closeRate), signedMoney(t.profit, null), t.reason ?? '—'],
    })),
  }));
}

function comparisonView(bt, c, cur) {
  const delta = c.profitDelta ?? {};
  const matched = Array.isArray(c.matched) ? c.matched : [];
  const onlyDry = Array.isArray(c.onlyDry) ? c.onlyDry : [];
  const onlyBacktest = Array.isArray(c.onlyBacktest) ? c.onlyBacktest : [];
  return [
    h('dl', { class: 'kv kv--wide', 'data-testid': 'replay-window' },
      h('div', {}, h('dt', {}, 'Window'), h('dd', {}, `${shortDateTime(c.window?.start)} – ${shortDateTime(c.window?.end)}`)),
      h('div', {}, h('dt', {}, 'Trades in both'), h('dd', {}, String(matched.length))),
      h('div', {}, h('dt', {}, 'Only in the dry run'), h('dd', {}, String(onlyDry.length))),
      h('div', {}, h('dt', {}, 'Only in the backtest'), h('dd', {}, String(onlyBacktest.length)))),
    h('div', { class: 'replay-delta', 'data-testid': 'replay-profit' },
      h('div', { class: 'stat' }, h('span', { class: 'stat__label' }, 'Dry-run profit'), h('span', { class: 'stat__value', 'data-profit': 'dry' }, signedMoney(delta.dry, cur))),
      h('div', { class: 'stat' }, h('span', { class: 'stat__label' }, 'Backtest profit'), h('span', { class: 'stat__value', 'data-profit': 'backtest' }, signedMoney(delta.backtest, cur))),
      h('div', { class: 'stat' }, h('span', { class: 'stat__label' }, 'Difference (dry run − backtest)'), h('span', { class: 'stat__value', 'data-profit': 'delta' }, signedMoney(delta.delta, cur)))),
    h('h3', {}, `Trades both made (${matched.length})`),
    matched.length ? h('div', { class: 'table-wrap', 'data-testid': 'replay-matched' }, table({
      caption: 'Same pair, opened within a candle of each other. Differences are dry run minus backtest.',
      columns: [{ label: 'Pair' }, { label: 'Opened (dry run)', nowrap: true }, { label: 'Opened (backtest)', nowrap: true },
        { label: 'Open rate (dry)', num: true }, { label: 'Open rate (backtest)', num: true }, { label: 'Open difference', num: true },
        { label: 'Close rate (dry)', num: true }, { label: 'Close rate (backtest)', num: true }, { label: 'Close difference', num: true },
        { label: `Profit dry (${cur})`, num: true }, { label: `Profit backtest (${cur})`, num: true }],
      rows: matched.map((m) => ({
        rowProps: { 'data-pair': m.pair },
        cells: [h('span', { class: 'chip' }, m.pair), shortDateTime(m.dryOpenDate), shortDateTime(m.backtestOpenDate),
          rate(m.dryOpenRate), rate(m.backtestOpenRate), diffCell(m.openRateDiff, m.backtestOpenRate),
          m.dryCloseRate === null || m.dryCloseRate === undefined ? 'open' : rate(m.dryCloseRate), rate(m.backtestCloseRate),
          diffCell(m.closeRateDiff, m.backtestCloseRate), signedMoney(m.dryProfitAbs, null), signedMoney(m.backtestProfitAbs, null)],
      })),
    })) : h('p', { class: 'card__hint', 'data-testid': 'replay-matched' }, 'No trade was made by both.'),
    h('h3', {}, `Only in the dry run (${onlyDry.length})`),
    tradesTable(onlyDry, cur, 'Trades the bot made that the backtest did not (live fills, timing, data gaps).', 'replay-only-dry'),
    h('h3', {}, `Only in the backtest (${onlyBacktest.length})`),
    tradesTable(onlyBacktest, cur, 'Trades the backtest made that the bot did not.', 'replay-only-backtest'),
    h('p', {}, h('a', { href: `/lab.html?id=${encodeURIComponent(bt.id)}#result` }, 'The backtest’s full result in the strategy lab')),
  ];
}

/**
 * The tab in `root` (web/bot.html #panel-replay): `load()` when the tab is shown, `stop()` when
 * it is left. `bot()` gives the bot the page knows (for its stake currency).
 */
export function createReplay({ root, actions, message, botId, manager, bot }) {
  let loop = null;
  let tracked = null; // the replay backtest shown
  let drawn = '';
  let polling = false;
  let done = false; // the tracked one has finished and is drawn: nothing more to read
  const cur = () => bot()?.stakeCurrency ?? '';

  const run = manager ? h('button', { type: 'button', class: 'btn btn--primary', 'data-action': 'replay-run' }, 'Compare with a backtest') : null;
  if (run) fill(actions, run);
  run?.addEventListener('click', async () => {
    clearMessage(message);
    try {
      const bt = await busy(run, 'Starting…', () => labApi.replay(botId));
      toast('Backtest of the bot’s run queued.');
      follow(bt?.id);
    } catch (err) {
      if (err.redirecting) return;
      showMessage(message, err.status === 409
        ? `Nothing to compare yet: ${errorText(err)}`
        : `Could not start the comparison: ${errorText(err)}`, 'error');
    }
  });

  function render(bt) {
    const key = JSON.stringify([bt.id, bt.status, bt.phase, bt.progress, Boolean(bt.comparison)]);
    if (key === drawn) return;
    drawn = key;
    if (run) run.disabled = isActive(bt);
    const head = h('div', { class: 'btn-row' }, statusBadge(bt.status),
      h('span', { class: 'note' }, `Started ${shortDateTime(bt.createdAt)}${bt.createdBy ? ` by ${bt.createdBy}` : ''} · backtest `, h('code', {}, bt.id)));
    if (isActive(bt)) {
      const { bar, words } = progressBar(bt, 'replay-progress-words');
      fill(root, head, h('div', { class: 'lab-running' }, bar, h('p', { class: 'note', id: 'replay-progress-words', role: 'status' }, `${bt.phase ?? bt.status} · ${words}`)));
    } else if (bt.status === 'succeeded' && bt.comparison) {
      fill(root, head, comparisonView(bt, bt.comparison, cur()));
    } else if (bt.status === 'failed') {
      fill(root, head, h('p', { class: 'msg msg--error' }, bt.error || 'The backtest failed.'));
    } else if (bt.status === 'cancelled') {
      fill(root, head, h('p', { class: 'msg msg--warn' }, 'This comparison was cancelled before it finished.'));
    } else {
      fill(root, head, h('p', { class: 'msg msg--warn' }, 'The backtest finished without a comparison.'));
    }
  }

  function follow(id) {
    loop?.stop();
    if (id !== tracked) drawn = '';
    tracked = id;
    done = false;
    if (!id) return;
    polling = true;
    loop = poll(POLL_MS, async () => {
      try {
        const bt = await labApi.backtest(id);
        if (tracked !== id) return false;
        clearMessage(message);
        render(bt);
        polling = isActive(bt);
        done = !polling;
        return polling;
      } catch (err) {
        if (err.redirecting) { polling = false; return false; }
        showMessage(message, `Could not read the comparison: ${errorText(err)} Retrying…`, 'error');
        return true;
      }
    });
  }

  /** Called each time the tab is shown and on the page's 10-second refresh: it starts once. */
  async function load() {
    if (tracked) { if (!polling && !done) follow(tracked); return; }
    fill(root, h('p', { class: 'note', role: 'status' }, 'Looking for an earlier comparison…'));
    try {
      const body = await labApi.backtests();
      const mine = (Array.isArray(body?.backtests) ? body.backtests : []).filter((b) => b.botId === botId);
      if (mine.length) { follow(mine[0].id); return; } // newest first
      fill(root, h('p', { class: 'card__hint', 'data-testid': 'replay-none' }, manager
        ? 'No comparison yet. “Compare with a backtest” runs one over the time this bot has been running.'
        : 'No comparison yet. An owner of this bot can run one.'));
    } catch (err) {
      if (err.redirecting) return;
      setText(root, '');
      showMessage(message, `Could not look for earlier comparisons: ${errorText(err)}`, 'error');
    }
  }

  return { load, stop() { loop?.stop(); polling = false; } };
}
