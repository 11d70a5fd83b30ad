// Bot page: status, controls (owners and admins only), profit, chart, trades and logs.
import { api, seg } from '../api.js';
import { h, $, fill, setText, param } from '../dom.js';
import { startPage, canManage, isAdmin } from '../layout.js';
import { stateBadge, stateWord, busy, showMessage, clearMessage, errorText, every, confirmDialog, toast, flash, spinner, table } from '../ui.js';
import { uptime, dateTime, shortDateTime, money, percent, signClass, amount, mb, num, timeOfDay, duration, toDate } from '../format.js';
import { drawProfitChart } from '../chart.js';

const BOT_MS = 5000;
const FREQTRADE_MS = 10000;
const LOG_FOLLOW_MS = 3000;
const CLOSED_ROWS = 20;

const me = await startPage();
const manager = canManage(me);
const botId = param('id');

const view = $('#bot-view');
const loading = $('#bot-loading');
const pageError = $('#bot-error');
const actionError = $('#action-error');
const progress = $('#action-progress');

let bot = null;
let acting = null; // the action in flight ("stop"), while its request runs
let closedTrades = [];
let lastClosedCount = null;
let showAllClosed = false;

function notFound(message) {
  loading.hidden = true;
  view.hidden = true;
  fill(pageError, h('span', {}, message, ' ', h('a', { href: '/dashboard.html' }, 'Back to the dashboard')));
  pageError.className = 'msg msg--error';
  pageError.hidden = false;
  setText($('#crumb-bot'), 'Not found');
  document.title = 'Bot not found · fta';
}

/* ---------- controls (never rendered for viewers) ---------- */

const ACTIONS = {
  start: { label: 'Start', busyLabel: 'Starting…', doing: 'Starting the bot…', done: 'Start requested.', allowed: ['created', 'stopped', 'failed', 'quarantined'], className: 'btn btn--primary' },
  stop: { label: 'Stop', busyLabel: 'Stopping…', doing: 'Stopping the bot. Freqtrade gets up to 20 seconds to shut down cleanly…', done: 'Bot stopped.', allowed: ['running', 'starting', 'failed'], className: 'btn' },
  restart: { label: 'Restart', busyLabel: 'Restarting…', doing: 'Restarting the bot. This can take a minute…', done: 'Restart requested.', allowed: ['running', 'failed'], className: 'btn' },
};
const buttons = {};

function buildControls() {
  if (!manager) return;
  const bar = $('#bot-actions');
  for (const [kind, a] of Object.entries(ACTIONS)) {
    buttons[kind] = h('button', { type: 'button', class: a.className, 'data-action': kind, onclick: () => act(kind) }, a.label);
  }
  buttons.delete = h('button', { type: 'button', class: 'btn btn--danger', 'data-action': 'delete', onclick: removeBot }, 'Delete');
  bar.append(buttons.start, buttons.stop, buttons.restart, buttons.delete);
}

function updateControls() {
  if (!manager || !bot) return;
  for (const [kind, a] of Object.entries(ACTIONS)) {
    const b = buttons[kind];
    if (b.getAttribute('aria-busy') === 'true') continue;
    b.disabled = acting !== null || !a.allowed.includes(bot.state);
  }
  if (buttons.delete.getAttribute('aria-busy') !== 'true') buttons.delete.disabled = acting !== null || bot.state === 'deleting';
}

/** A control that just became disabled drops keyboard focus; hand it to the next useful one. */
function keepFocus(button) {
  if (!button.disabled) { button.focus(); return; }
  const next = Object.values(buttons).find((b) => !b.disabled);
  if (next) next.focus();
}

async function act(kind) {
  const a = ACTIONS[kind];
  clearMessage(actionError);
  acting = kind;
  updateControls();
  fill(progress, spinner(), a.doing);
  try {
    const res = await busy(buttons[kind], a.busyLabel, () => api(`/bots/${seg(botId)}/${kind}`, { method: 'POST', body: {} }));
    bot = res.bot;
    toast(a.done);
  } catch (err) {
    if (err.redirecting) return;
    showMessage(actionError, `${a.label} failed: ${errorText(err)}`, 'error');
  } finally {
    acting = null;
    setText(progress, '');
    render();
    keepFocus(buttons[kind]);
    botLoop?.now();
    freqtradeLoop?.now();
  }
}

async function removeBot() {
  clearMessage(actionError);
  const name = bot?.name || botId;
  const ok = await confirmDialog({
    title: `Delete bot “${name}”?`,
    message: [
      'This stops the bot and removes its container, its data volume and its trade history.',
      h('p', {}, h('strong', {}, 'This cannot be undone.')),
    ],
    confirmLabel: 'Delete bot',
    danger: true,
  });
  if (!ok) return;
  acting = 'delete';
  updateControls();
  fill(progress, spinner(), 'Deleting the bot, its container and its volume…');
  try {
    await busy(buttons.delete, 'Deleting…', () => api(`/bots/${seg(botId)}`, { method: 'DELETE', body: {} }));
    botLoop?.stop();
    freqtradeLoop?.stop();
    followLoop?.stop();
    flash(`Bot “${name}” deleted.`);
    location.assign('/dashboard.html');
  } catch (err) {
    acting = null;
    setText(progress, '');
    if (err.redirecting) return;
    showMessage(actionError, `Delete failed: ${errorText(err)}`, 'error');
    updateControls();
  }
}

/* ---------- overview ---------- */

function kv(label, value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value ?? '—'));
}

const TRANSITION_TEXT = {
  created: 'Bot created; it has not started.',
  starting: 'Starting: waiting for Freqtrade to come up…',
  stopping: 'Stopping…',
  deleting: 'Deleting…',
};

function render() {
  if (!bot) return;
  setText($('#bot-name'), bot.name || bot.id);
  setText($('#crumb-bot'), bot.name || bot.id);
  document.title = `${bot.name || bot.id} · fta`;
  const stateSlot = $('#bot-state');
  if (stateSlot.dataset.state !== bot.state) {
    fill(stateSlot, stateBadge(bot.state));
    stateSlot.dataset.state = bot.state;
  }
  if (!acting) {
    const transition = ['starting', 'stopping', 'deleting'].includes(bot.state);
    if (transition) fill(progress, spinner(), TRANSITION_TEXT[bot.state]);
    else setText(progress, '');
  }
  const lastError = $('#bot-last-error');
  lastError.hidden = !bot.lastError;
  setText(lastError, bot.lastError ? `Last error: ${bot.lastError}` : '');

  const stake = bot.stakeAmount === 'unlimited' ? `Unlimited (${bot.stakeCurrency})` : money(bot.stakeAmount, bot.stakeCurrency);
  fill($('#bot-overview'),
    kv('Bot ID', h('code', {}, bot.id)),
    isAdmin(me) ? kv('Client', bot.clientId) : null,
    kv('State', `${stateWord(bot.state)}${bot.desiredState && bot.desiredState !== bot.state ? ` (wanted: ${stateWord(bot.desiredState).toLowerCase()})` : ''}`),
    kv('Uptime', uptime(bot)),
    kv('Exchange', bot.exchange),
    kv('Pairs', h('span', { class: 'chips' }, (bot.pairs ?? []).map((p) => h('span', { class: 'chip' }, p)))),
    kv('Strategy', bot.strategy),
    kv('Timeframe', bot.timeframe),
    kv('Stake per trade', stake),
    kv('Dry-run wallet', money(bot.dryRunWallet, bot.stakeCurrency)),
    kv('Max open trades', String(bot.maxOpenTrades)),
    kv('Size', `${bot.size} · ${mb(bot.memoryMB)}`),
    kv('Started', bot.startedAt ? dateTime(bot.startedAt) : '—'),
    kv('Created', dateTime(bot.createdAt)));
  setText($('#bot-updated'), `Updated ${timeOfDay(new Date())}`);
  updateControls();
}

async function loadBot() {
  try {
    const previous = bot?.state;
    bot = (await api(`/bots/${seg(botId)}`)).bot;
    loading.hidden = true;
    view.hidden = false;
    clearMessage(pageError);
    render();
    // The Freqtrade reads start once the bot is known, and run at once when it comes up.
    if (!freqtradeLoop) {
      freqtradeLoop = every(FREQTRADE_MS, loadFreqtrade);
      loadLogs({ announce: true });
    }
    else if (previous !== 'running' && bot.state === 'running') freqtradeLoop.now();
  } catch (err) {
    if (err.redirecting) return;
    if (err.status === 404) {
      notFound('This bot does not exist, or it is not yours to see. It may have been deleted.');
      botLoop?.stop();
      freqtradeLoop?.stop();
      return;
    }
    loading.hidden = true;
    showMessage(pageError, `Could not refresh the bot: ${errorText(err)} Retrying every 5 seconds.`, 'error');
  }
}

/* ---------- Freqtrade data: profit, open trades, closed trades, chart ---------- */

const pctOf = (ratio) => (num(ratio) === null ? null : num(ratio) * 100);

function renderProfit(p) {
  const cur = bot.stakeCurrency;
  const allPct = p.profit_all_percent ?? pctOf(p.profit_all_ratio);
  const closedPct = p.profit_closed_percent ?? pctOf(p.profit_closed_ratio);
  const total = num(p.trade_count);
  const closed = num(p.closed_trade_count);
  const signed = (v, pct) => h('span', { class: signClass(v) }, `${money(v, cur, { signed: true })} (${percent(pct)})`);
  fill($('#bot-profit'),
    kv('Total profit', signed(p.profit_all_coin, allPct)),
    kv('Realised (closed trades)', signed(p.profit_closed_coin, closedPct)),
    kv('Trades', total === null ? '—' : `${total} (${closed ?? 0} closed, ${Math.max(0, total - (closed ?? 0))} open)`),
    kv('Wins / losses', p.winning_trades === undefined ? '—' : `${p.winning_trades} / ${p.losing_trades ?? 0}`),
    kv('Dry-run wallet', money(bot.dryRunWallet, cur)),
    kv('Best pair', p.best_pair ? `${p.best_pair}` : '—'));
}

function openProfit(t) {
  const abs = t.profit_abs ?? t.current_profit_abs ?? t.total_profit_abs;
  const pct = t.profit_pct ?? pctOf(t.profit_ratio) ?? t.current_profit_pct ?? pctOf(t.current_profit);
  return h('span', { class: signClass(abs) }, `${money(abs, null, { signed: true })} (${percent(pct)})`);
}

function renderOpen(trades) {
  const cur = bot.stakeCurrency;
  setText($('#open-note'), `${trades.length} open · stake in ${cur}`);
  if (!trades.length) {
    fill($('#open-trades'), h('p', { class: 'card__hint' }, 'No open trades right now.'));
    return;
  }
  fill($('#open-trades'), h('div', { class: 'table-wrap' }, table({
    columns: [{ label: 'Pair' }, { label: 'Opened', nowrap: true }, { label: 'Stake', num: true }, { label: 'Open rate', num: true }, { label: 'Current rate', num: true }, { label: `Profit (${cur})`, num: true }],
    rows: trades.map((t) => ({
      cells: [h('span', { class: 'chip' }, t.pair), shortDateTime(t.open_timestamp ?? t.open_date), amount(t.stake_amount), amount(t.open_rate), amount(t.current_rate), openProfit(t)],
    })),
  })));
}

function closedProfit(t) {
  const abs = t.profit_abs ?? t.close_profit_abs;
  const pct = t.profit_pct ?? pctOf(t.profit_ratio) ?? pctOf(t.close_profit);
  return { abs, pct };
}

function renderClosed() {
  const cur = bot.stakeCurrency;
  const sorted = [...closedTrades].sort((a, b) => (toDate(b.close_timestamp ?? b.close_date) ?? 0) - (toDate(a.close_timestamp ?? a.close_date) ?? 0));
  setText($('#closed-note'), `${sorted.length} closed`);
  drawProfitChart($('#chart'), closedTrades, cur);
  if (!sorted.length) {
    fill($('#closed-trades'), h('p', { class: 'card__hint' }, 'No closed trades yet.'));
    return;
  }
  const shown = showAllClosed ? sorted : sorted.slice(0, CLOSED_ROWS);
  const more = sorted.length > shown.length
    ? h('button', { type: 'button', class: 'btn btn--small', onclick: () => { showAllClosed = true; renderClosed(); } }, `Show all ${sorted.length}`)
    : null;
  fill($('#closed-trades'), h('div', { class: 'table-wrap' }, table({
    columns: [{ label: 'Pair' }, { label: 'Opened', nowrap: true }, { label: 'Closed', nowrap: true }, { label: 'Held', nowrap: true }, { label: `Profit (${cur})`, num: true }, { label: 'Profit %', num: true }, { label: 'Exit reason' }],
    rows: shown.map((t) => {
      const { abs, pct } = closedProfit(t);
      const opened = toDate(t.open_timestamp ?? t.open_date);
      const closed = toDate(t.close_timestamp ?? t.close_date);
      return {
        cells: [h('span', { class: 'chip' }, t.pair), shortDateTime(opened), shortDateTime(closed),
          opened && closed ? duration(closed - opened) : '—',
          h('span', { class: signClass(abs) }, money(abs, null, { signed: true })),
          h('span', { class: signClass(pct) }, percent(pct)),
          t.exit_reason ?? t.sell_reason ?? '—'],
      };
    }),
    caption: shown.length < sorted.length ? `Latest ${shown.length} of ${sorted.length} closed trades.` : null,
  })), more);
}

/** All closed trades, page by page (the API returns at most 500 at a time). */
async function fetchClosedTrades() {
  const all = [];
  let offset = 0;
  for (let page = 0; page < 20; page += 1) {
    const res = await api(`/bots/${seg(botId)}/trades?limit=500&offset=${offset}`);
    const trades = res.trades ?? [];
    all.push(...trades);
    offset += trades.length;
    if (trades.length === 0 || offset >= (res.total ?? 0)) break;
  }
  return all.filter((t) => t.is_open === false || (t.is_open === undefined && t.close_date));
}

let freqtradeSeen = false;

async function loadFreqtrade() {
  if (!bot) return;
  const note = $('#profit-note');
  if (bot.state !== 'running') {
    setText(note, freqtradeSeen
      ? `The bot is ${stateWord(bot.state).toLowerCase()}; figures below are from when it last answered.`
      : 'Profit and trades come from the bot itself, so they show while it runs.');
    if (!freqtradeSeen) {
      fill($('#bot-profit'), kv('Dry-run wallet', money(bot.dryRunWallet, bot.stakeCurrency)));
      fill($('#open-trades'), h('p', { class: 'card__hint' }, 'Shown while the bot runs.'));
      fill($('#closed-trades'), h('p', { class: 'card__hint' }, 'Shown while the bot runs.'));
      drawProfitChart($('#chart'), [], bot.stakeCurrency, 'The chart of closed trades is drawn from the bot itself, so it shows while the bot runs.');
    }
    return;
  }
  try {
    const [profit, status] = await Promise.all([api(`/bots/${seg(botId)}/profit`), api(`/bots/${seg(botId)}/status`)]);
    renderProfit(profit);
    renderOpen(status.trades ?? []);
    const closedCount = num(profit.closed_trade_count);
    if (!freqtradeSeen || closedCount !== lastClosedCount) {
      closedTrades = await fetchClosedTrades();
      lastClosedCount = closedCount;
      renderClosed();
    }
    freqtradeSeen = true;
    setText(note, `From the bot's own API · updated ${timeOfDay(new Date())}`);
    note.className = 'note';
  } catch (err) {
    if (err.redirecting) return;
    note.className = 'note note--bad';
    setText(note, err.status === 502 || err.status === 504
      ? 'Bot API not reachable right now (it may still be starting). Retrying…'
      : `Could not read the bot's figures: ${errorText(err)}`);
    if (!freqtradeSeen) {
      fill($('#open-trades'), h('p', { class: 'card__hint' }, 'Waiting for the bot API…'));
      fill($('#closed-trades'), h('p', { class: 'card__hint' }, 'Waiting for the bot API…'));
      drawProfitChart($('#chart'), [], bot.stakeCurrency, 'Waiting for the bot API…');
    }
  }
}

/* ---------- logs ---------- */

const logEl = $('#log');
const logStatus = $('#log-status');
const tailSelect = $('#log-tail');
const follow = $('#log-follow');
let logLines = [];
let followLoop = null;

async function loadLogs({ announce = false } = {}) {
  const atBottom = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 24;
  try {
    const res = await api(`/bots/${seg(botId)}/logs?tail=${encodeURIComponent(tailSelect.value)}`);
    logLines = res.lines ?? [];
    const text = logLines.length ? logLines.join('\n') : '(no log lines yet)';
    if (logEl.textContent !== text) logEl.textContent = text;
    if (follow.checked ? atBottom || announce : announce) logEl.scrollTop = logEl.scrollHeight;
    logStatus.className = 'note';
    setText(logStatus, `${logLines.length} line${logLines.length === 1 ? '' : 's'} · ${follow.checked ? 'following, refreshes every 3 s' : `loaded ${timeOfDay(new Date())}`}`);
  } catch (err) {
    if (err.redirecting) return;
    logStatus.className = 'note note--bad';
    setText(logStatus, `Could not load the logs: ${errorText(err)}`);
  }
}

follow.addEventListener('change', () => {
  if (follow.checked) {
    followLoop = every(LOG_FOLLOW_MS, () => loadLogs());
    logEl.scrollTop = logEl.scrollHeight;
  } else {
    followLoop?.stop();
    followLoop = null;
    loadLogs();
  }
});
tailSelect.addEventListener('change', () => loadLogs({ announce: true }));
$('#log-refresh').addEventListener('click', () => loadLogs({ announce: true }));
$('#log-download').addEventListener('click', () => {
  const blob = new Blob([`${logLines.join('\n')}\n`], { type: 'text/plain;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const link = h('a', { href: url, download: `fta-bot-${botId}-logs-${stamp}.txt`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  toast(`Downloaded ${logLines.length} log lines.`);
});

/* ---------- start ---------- */

let botLoop = null;
let freqtradeLoop = null;
if (!botId) {
  notFound('No bot was chosen.');
} else {
  buildControls();
  botLoop = every(BOT_MS, loadBot);
}

// Redraw the chart at the new width (text stays readable on a phone).
let lastWidth = 0;
new ResizeObserver(() => {
  const w = $('#chart').clientWidth;
  if (Math.abs(w - lastWidth) > 20 && (freqtradeSeen || closedTrades.length)) { lastWidth = w; drawProfitChart($('#chart'), closedTrades, bot?.stakeCurrency); }
}).observe($('#chart'));
