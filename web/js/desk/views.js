// The trading desk's read-only views of one bot: each takes the portal's answer (which passes
// Freqtrade's own through) and draws it with DOM APIs; nothing from the API becomes markup.
import { h, fill } from '../dom.js';
import { table, badge } from '../ui.js';
import { shortDateTime, dateTime, duration, toDate, amount, money, percent, num, signClass } from '../format.js';
import { kv, pctOf, profitCell, rate, seconds, listOf, hint } from './common.js';

const tradeDate = (t, which) => toDate(t[`${which}_timestamp`] ?? t[`${which}_date`]);

/* ---------- open trades ---------- */

/** Profit of an open trade now: Freqtrade names it differently across versions. */
function openProfit(t, currency) {
  const abs = t.profit_abs ?? t.current_profit_abs ?? t.total_profit_abs;
  const pct = t.profit_pct ?? pctOf(t.profit_ratio) ?? t.current_profit_pct ?? pctOf(t.current_profit);
  return profitCell(abs, pct, currency);
}

/**
 * Open trades with what a trader watches: the rate now, profit now, where the stop-loss sits and
 * how much is at stake. `actions(t)` adds per-row controls (owners and admins only).
 */
export function renderOpenTrades(container, trades, { currency, now = Date.now(), details, actions = null }) {
  if (!trades.length) {
    fill(container, hint('No open trades right now.'));
    return;
  }
  const columns = [
    { label: 'Pair · opened' }, { label: 'Duration', nowrap: true },
    { label: 'Open rate', num: true }, { label: 'Current rate', num: true }, { label: 'Current profit', num: true },
    { label: 'Stop-loss', num: true }, { label: `At risk (${currency})`, num: true }, { label: '' },
  ];
  const sub = (text) => h('span', { class: 'desk-sub' }, text);
  fill(container, h('div', { class: 'table-wrap' }, table({
    columns,
    rows: trades.map((t) => {
      const opened = tradeDate(t, 'open');
      return {
        rowProps: { 'data-trade-id': t.trade_id },
        cells: [
          [h('span', { class: 'chip' }, t.pair), sub(shortDateTime(opened))],
          opened ? duration(now - opened.getTime()) : '—',
          rate(t.open_rate), rate(t.current_rate), openProfit(t, null),
          num(t.stop_loss_abs) === null ? '—' : [rate(t.stop_loss_abs), num(t.stop_loss_pct) !== null ? sub(percent(t.stop_loss_pct)) : null],
          amount(t.stake_amount),
          h('span', { class: 'btn-row desk-row-actions' },
            h('button', { type: 'button', class: 'btn btn--small', onclick: () => details(t.trade_id) }, 'Details'),
            actions ? actions(t) : null),
        ],
      };
    }),
  })));
}

/* ---------- closed trades, a page at a time ---------- */

export const CLOSED_PAGE = 15;

/** Newest closed first; `page` counts from 0. */
export function renderClosedTrades(container, trades, { currency, page, onPage, details }) {
  const sorted = [...trades].sort((a, b) => (tradeDate(b, 'close') ?? 0) - (tradeDate(a, 'close') ?? 0));
  if (!sorted.length) {
    fill(container, hint('No closed trades yet.'));
    return 0;
  }
  const pages = Math.max(1, Math.ceil(sorted.length / CLOSED_PAGE));
  const current = Math.min(Math.max(0, page), pages - 1);
  const shown = sorted.slice(current * CLOSED_PAGE, (current + 1) * CLOSED_PAGE);
  const pager = h('nav', { class: 'pager', 'aria-label': 'Closed trades pages' },
    h('button', { type: 'button', class: 'btn btn--small', disabled: current === 0, 'data-page': 'newer', onclick: () => onPage(current - 1) }, '‹ Newer'),
    h('span', { class: 'note', 'data-testid': 'closed-page' }, `Page ${current + 1} of ${pages} · trades ${current * CLOSED_PAGE + 1}–${current * CLOSED_PAGE + shown.length} of ${sorted.length}`),
    h('button', { type: 'button', class: 'btn btn--small', disabled: current >= pages - 1, 'data-page': 'older', onclick: () => onPage(current + 1) }, 'Older ›'));
  fill(container, h('div', { class: 'table-wrap' }, table({
    columns: [{ label: 'Pair' }, { label: 'Opened', nowrap: true }, { label: 'Closed', nowrap: true }, { label: 'Held', nowrap: true },
      { label: `Profit (${currency})`, num: true }, { label: 'Profit %', num: true }, { label: 'Exit reason' }, { label: '' }],
    rows: shown.map((t) => {
      const opened = tradeDate(t, 'open');
      const closed = tradeDate(t, 'close');
      const abs = t.profit_abs ?? t.close_profit_abs;
      const pct = t.profit_pct ?? pctOf(t.profit_ratio) ?? pctOf(t.close_profit);
      return {
        rowProps: { 'data-trade-id': t.trade_id },
        cells: [h('span', { class: 'chip' }, t.pair), shortDateTime(opened), shortDateTime(closed),
          opened && closed ? duration(closed - opened) : '—',
          h('span', { class: signClass(abs) }, money(abs, null, { signed: true })),
          h('span', { class: signClass(pct) }, percent(pct)),
          t.exit_reason ?? t.sell_reason ?? '—',
          h('button', { type: 'button', class: 'btn btn--small', onclick: () => details(t.trade_id) }, 'Details')],
      };
    }),
  })), pages > 1 ? pager : null);
  return current;
}

/* ---------- one trade ---------- */

/** The body of the trade detail: its figures and its orders (GET /bots/{id}/trades/{tradeId}). */
export function tradeDetail(t, currency) {
  const opened = tradeDate(t, 'open');
  const closed = tradeDate(t, 'close');
  const open = t.is_open === true;
  const abs = t.profit_abs ?? t.close_profit_abs;
  const pct = t.profit_pct ?? pctOf(t.profit_ratio) ?? pctOf(t.close_profit);
  const orders = Array.isArray(t.orders) ? t.orders : [];
  return [
    h('dl', { class: 'kv kv--wide', 'data-testid': 'trade-detail' },
      kv('Trade', `#${t.trade_id}`),
      kv('Pair', h('span', { class: 'chip' }, t.pair)),
      kv('Status', open ? badge('Open', 'ok') : badge('Closed', 'idle')),
      kv('Opened', dateTime(opened)),
      kv('Closed', closed ? dateTime(closed) : '—'),
      kv('Held', opened ? duration((closed ?? new Date()) - opened) : '—'),
      kv('Open rate', rate(t.open_rate)),
      kv(open ? 'Current rate' : 'Close rate', rate(open ? t.current_rate : t.close_rate)),
      kv('Amount', amount(t.amount)),
      kv('Stake', money(t.stake_amount, currency)),
      kv('Profit', profitCell(abs, pct, currency)),
      kv('Stop-loss', rate(t.stop_loss_abs)),
      kv('Entry tag', t.enter_tag || '—'),
      kv('Exit reason', t.exit_reason ?? t.sell_reason ?? (open ? 'Still open' : '—')),
      kv('Fees', num(t.fee_open) === null ? '—' : `${percent(pctOf(t.fee_open), { signed: false })} in, ${percent(pctOf(t.fee_close), { signed: false })} out`)),
    h('h3', {}, `Orders (${orders.length})`),
    orders.length ? h('div', { class: 'table-wrap' }, table({
      columns: [{ label: 'Side' }, { label: 'Type' }, { label: 'Status' }, { label: 'Placed', nowrap: true }, { label: 'Filled', nowrap: true },
        { label: 'Amount', num: true }, { label: 'Price', num: true }, { label: 'Cost', num: true }, { label: 'Tag' }],
      rows: orders.map((o) => ({
        cells: [o.ft_order_side ?? o.side ?? '—', o.order_type ?? '—', o.status ?? '—',
          shortDateTime(o.order_timestamp ?? o.order_date), shortDateTime(o.order_filled_timestamp ?? o.order_filled_date),
          amount(o.filled ?? o.amount), rate(o.safe_price ?? o.average ?? o.price), amount(o.cost), o.ft_order_tag || '—'],
      })),
    })) : hint('No orders recorded for this trade.'),
  ];
}

/* ---------- performance, entries, exits, stats ---------- */

function statTable(rows, keyLabel, keyOf, currency) {
  if (!rows.length) return hint('Nothing yet: this fills in as the bot closes trades.');
  return h('div', { class: 'table-wrap' }, table({
    columns: [{ label: keyLabel }, { label: 'Trades', num: true }, { label: `Profit (${currency})`, num: true }, { label: 'Profit %', num: true }],
    rows: rows.map((r) => {
      const pct = r.profit_pct ?? pctOf(r.profit_ratio) ?? r.profit;
      return {
        cells: [keyOf(r), String(r.count ?? '—'),
          h('span', { class: signClass(r.profit_abs) }, money(r.profit_abs, null, { signed: true })),
          h('span', { class: signClass(pct) }, percent(pct))],
      };
    }),
  }));
}

export function renderPerformance(container, body, currency) {
  const rows = listOf(body, 'performance');
  fill(container, statTable(rows, 'Pair', (r) => h('span', { class: 'chip' }, r.pair), currency));
}

export function renderEntries(container, body, currency) {
  fill(container, statTable(listOf(body, 'entries'), 'Entry tag', (r) => r.enter_tag || '(no tag)', currency));
}

export function renderExits(container, body, currency) {
  fill(container, statTable(listOf(body, 'exits'), 'Exit reason', (r) => r.exit_reason || '(none)', currency));
}

/** /stats: wins, draws and losses per exit reason, and the average holding time of each. */
export function renderStats(container, body) {
  const reasons = Object.entries(body?.exit_reasons ?? {});
  const d = body?.durations ?? {};
  fill(container,
    h('dl', { class: 'kv' },
      kv('Average hold, wins', seconds(d.wins)),
      kv('Average hold, draws', seconds(d.draws)),
      kv('Average hold, losses', seconds(d.losses))),
    reasons.length ? h('div', { class: 'table-wrap' }, table({
      columns: [{ label: 'Exit reason' }, { label: 'Wins', num: true }, { label: 'Draws', num: true }, { label: 'Losses', num: true }],
      rows: reasons.map(([reason, r]) => ({ cells: [reason, String(r?.wins ?? 0), String(r?.draws ?? 0), String(r?.losses ?? 0)] })),
    })) : hint('No exits yet.'));
}

/* ---------- daily / weekly / monthly ---------- */

const PERIOD_WORD = { daily: 'Day', weekly: 'Week starting', monthly: 'Month' };

export function renderPeriods(container, body, period, currency) {
  const rows = Array.isArray(body?.data) ? body.data : [];
  if (!rows.length) {
    fill(container, hint('No results for this period yet.'));
    return;
  }
  const cur = body?.stake_currency || currency;
  const total = rows.reduce((sum, r) => sum + (num(r.abs_profit) ?? 0), 0);
  const trades = rows.reduce((sum, r) => sum + (num(r.trade_count) ?? 0), 0);
  fill(container,
    h('p', { class: 'note', 'data-testid': 'period-total' },
      `${rows.length} ${period === 'daily' ? 'days' : period === 'weekly' ? 'weeks' : 'months'}: `,
      h('span', { class: signClass(total) }, money(total, cur, { signed: true })), ` over ${trades} trade${trades === 1 ? '' : 's'}`),
    h('div', { class: 'table-wrap' }, table({
      columns: [{ label: PERIOD_WORD[period] ?? 'Period', nowrap: true }, { label: 'Trades', num: true }, { label: `Profit (${cur})`, num: true },
        { label: 'Profit %', num: true }, { label: `Balance at start (${cur})`, num: true }],
      rows: rows.map((r) => ({
        cells: [String(r.date ?? '—'), String(r.trade_count ?? 0),
          h('span', { class: signClass(r.abs_profit) }, money(r.abs_profit, null, { signed: true })),
          h('span', { class: signClass(r.rel_profit) }, percent(pctOf(r.rel_profit))),
          amount(r.starting_balance)],
      })),
    })));
}

/* ---------- balance ---------- */

export function renderBalance(container, body, currency) {
  const cur = body?.stake || currency;
  const currencies = Array.isArray(body?.currencies) ? body.currencies : [];
  const startPct = body?.starting_capital_pct ?? pctOf(body?.starting_capital_ratio);
  fill(container,
    h('dl', { class: 'kv kv--wide', 'data-testid': 'balance-summary' },
      kv('Total (bot)', money(body?.total_bot ?? body?.total, cur)),
      kv('Starting capital', money(body?.starting_capital, cur)),
      kv('Change since start', h('span', { class: signClass(startPct) }, percent(startPct))),
      kv('Value', money(body?.value_bot ?? body?.value, body?.symbol || cur)),
      body?.note ? kv('Note', body.note) : null),
    currencies.length ? h('div', { class: 'table-wrap' }, table({
      columns: [{ label: 'Currency' }, { label: 'Free', num: true }, { label: 'In use', num: true }, { label: 'Balance', num: true }, { label: `Worth (${cur})`, num: true }],
      rows: currencies.map((c) => ({
        cells: [h('span', { class: 'chip' }, c.currency), amount(c.free), amount(c.used), amount(c.balance), amount(c.est_stake_bot ?? c.est_stake)],
      })),
    })) : hint('The wallet holds nothing yet.'));
}

/* ---------- locks, whitelist, blacklist ---------- */

export function renderLocks(container, body, { unlock = null } = {}) {
  const locks = Array.isArray(body?.locks) ? body.locks : [];
  if (!locks.length) {
    fill(container, hint('No pair is locked.'));
    return;
  }
  fill(container, h('div', { class: 'table-wrap' }, table({
    columns: [{ label: 'Pair' }, { label: 'Until', nowrap: true }, { label: 'Side' }, { label: 'Reason' }, { label: 'State' }, { label: '' }],
    rows: locks.map((l) => ({
      rowProps: { 'data-lock-id': l.id, 'data-pair': l.pair },
      cells: [h('span', { class: 'chip' }, l.pair), shortDateTime(l.lock_end_timestamp ?? l.lock_end_time),
        l.side === '*' || !l.side ? 'both' : l.side, l.reason || '—',
        l.active === false ? badge('Expired', 'idle') : badge('Active', 'busy'),
        unlock && l.active !== false ? unlock(l) : ''],
    })),
  })));
}

export function renderPairList(container, pairs, { emptyText, remove = null } = {}) {
  if (!pairs.length) {
    fill(container, hint(emptyText));
    return;
  }
  fill(container, h('ul', { class: 'desk-pairs' }, pairs.map((p) => h('li', { class: 'desk-pair', 'data-pair': p },
    h('span', { class: 'chip' }, p), remove ? remove(p) : null))));
}

/* ---------- effective settings (show_config) ---------- */

function yesNo(value) {
  if (value === true) return 'Yes';
  if (value === false) return 'No';
  return value === undefined || value === null ? '—' : String(value);
}

function roi(value) {
  if (!value || typeof value !== 'object') return '—';
  const steps = Object.entries(value).sort((a, b) => Number(a[0]) - Number(b[0]));
  return steps.map(([minutes, ratio]) => `${percent(pctOf(ratio), { signed: false })} after ${minutes} min`).join(', ') || '—';
}

export function renderConfig(container, cfg) {
  const stake = cfg?.stake_amount === 'unlimited' ? 'Unlimited' : money(cfg?.stake_amount, cfg?.stake_currency);
  fill(container,
    h('dl', { class: 'kv kv--wide', 'data-testid': 'effective-settings' },
      kv('Dry-run', cfg?.dry_run === true ? badge('Yes: paper trading', 'ok') : badge(yesNo(cfg?.dry_run), 'bad')),
      kv('State', yesNo(cfg?.state)),
      kv('Run mode', yesNo(cfg?.runmode)),
      kv('Strategy', yesNo(cfg?.strategy)),
      kv('Timeframe', yesNo(cfg?.timeframe)),
      kv('Exchange', yesNo(cfg?.exchange)),
      kv('Stake per trade', stake),
      kv('Stake currency', yesNo(cfg?.stake_currency)),
      kv('Max open trades', yesNo(cfg?.max_open_trades)),
      kv('Dry-run wallet', cfg?.dry_run_wallet === undefined ? '—' : money(cfg.dry_run_wallet, cfg?.stake_currency)),
      kv('Stop-loss', num(cfg?.stoploss) === null ? '—' : percent(pctOf(cfg.stoploss))),
      kv('Trailing stop', yesNo(cfg?.trailing_stop)),
      kv('Minimal ROI', roi(cfg?.minimal_roi)),
      kv('Trading mode', yesNo(cfg?.trading_mode)),
      kv('Bot name', yesNo(cfg?.bot_name)),
      kv('Freqtrade', yesNo(cfg?.version))),
    h('details', { class: 'desk-raw' },
      h('summary', {}, 'Everything the bot reports (show_config)'),
      h('pre', { class: 'log desk-raw__json', tabindex: '0' }, JSON.stringify(cfg ?? {}, null, 2))));
}
