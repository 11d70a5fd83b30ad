// Bot page: status, controls (owners and admins only), profit, chart, logs, and the trading
// desk (issue 13): trades, candles, performance, results, balance, pairs and locks, settings and
// activity, each from the bot's own API through the portal. The desk's views, chart and
// controls live in web/js/desk/; this file wires them to the page and its refresh loops.
import { api, seg } from '../api.js';
import { h, $, $$, fill, setText, param } from '../dom.js';
import { startPage, canManage, isAdmin } from '../layout.js';
import { stateBadge, stateWord, busy, showMessage, clearMessage, errorText, every, confirmDialog, toast, flash, spinner } from '../ui.js';
import { uptime, dateTime, money, percent, signClass, mb, num, timeOfDay } from '../format.js';
import { drawProfitChart } from '../chart.js';
import { createFeed } from '../feed.js';
import { connectLive } from '../live.js';
import { botGet, deskErrorText, failedView, kv, pctOf, hint } from '../desk/common.js';
import * as views from '../desk/views.js';
import { createCandleChart } from '../desk/candles.js';
import * as controls from '../desk/controls.js';
import { createReplay } from '../desk/replay.js';

const BOT_MS = 5000;
const FREQTRADE_MS = 10000;
const LOG_FOLLOW_MS = 3000;

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
let openTrades = [];
let lastClosedCount = null;
let closedPage = 0;

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
  const apply = $('[data-action="restart-apply"]');
  if (apply) apply.disabled = acting !== null || !ACTIONS.restart.allowed.includes(bot.state);
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
  $('#restart-pending').hidden = !bot.pendingRestart;
  desk.botChanged();
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
      desk.start();
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

function renderOpen(trades) {
  openTrades = trades;
  const cur = bot.stakeCurrency;
  setText($('#open-note'), `${trades.length} open · stake in ${cur}`);
  views.renderOpenTrades($('#open-trades'), trades, {
    currency: cur,
    details: showTrade,
    actions: manager ? (t) => controls.forceExitButton(deskCtx, t, $('#trading-msg')) : null,
  });
}

function renderClosed() {
  const cur = bot.stakeCurrency;
  setText($('#closed-note'), `${closedTrades.length} closed`);
  drawProfitChart($('#chart'), closedTrades, cur);
  closedPage = views.renderClosedTrades($('#closed-trades'), closedTrades, {
    currency: cur, page: closedPage, details: showTrade,
    onPage: (page) => { closedPage = page; renderClosed(); $('#h-closed').scrollIntoView({ block: 'nearest' }); },
  });
}

/** One trade's figures and orders in a dialog (GET /bots/{id}/trades/{tradeId}). */
async function showTrade(tradeId) {
  const body = h('div', { class: 'grid' }, h('p', { class: 'progress-line' }, spinner(), `Loading trade #${tradeId}…`));
  const close = h('button', { type: 'submit', class: 'btn', value: 'close' }, 'Close');
  const dialog = h('dialog', { class: 'dialog desk-dialog', 'aria-labelledby': 'trade-title', id: 'trade-dialog' },
    h('form', { method: 'dialog', class: 'dialog__body' },
      h('h2', { id: 'trade-title' }, `Trade #${tradeId}`), body, h('div', { class: 'dialog__actions' }, close)));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  try {
    const trade = await botGet(botId, `/trades/${seg(tradeId)}`);
    setText($('#trade-title', dialog), `Trade #${tradeId} · ${trade.pair ?? ''}`);
    fill(body, views.tradeDetail(trade, bot?.stakeCurrency));
  } catch (err) {
    if (err.redirecting) return;
    fill(body, h('p', { class: 'msg msg--error', role: 'alert' }, `Could not load trade #${tradeId}: ${deskErrorText(err)}`));
  }
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
    desk.notRunning();
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
    desk.refresh();
  } catch (err) {
    if (err.redirecting) return;
    note.className = 'note note--bad';
    setText(note, err.status === 502 || err.status === 504
      ? `${deskErrorText(err)} Retrying…`
      : `Could not read the bot's figures: ${deskErrorText(err)}`);
    if (!freqtradeSeen) {
      fill($('#open-trades'), h('p', { class: 'card__hint' }, 'Waiting for the bot API…'));
      fill($('#closed-trades'), h('p', { class: 'card__hint' }, 'Waiting for the bot API…'));
      drawProfitChart($('#chart'), [], bot.stakeCurrency, 'Waiting for the bot API…');
    }
  }
}

/* ---------- the trading desk: tabs of views from the bot's API ---------- */

const TABS = ['trades', 'chart', 'performance', 'results', 'wallet', 'pairs', 'settings', 'activity', 'replay'];

/** What the controls need from the page (web/js/desk/controls.js). */
const deskCtx = {
  botId,
  progress,
  bot: () => bot,
  setBot(next) { bot = next; render(); },
  refresh(what) {
    if (what === 'trades') freqtradeLoop?.now();
    else if (what === 'bot') botLoop?.now();
    else if (what === 'locks' || what === 'blacklist') desk.load('pairs');
    else if (what === 'config') desk.load('settings');
  },
};

const desk = (() => {
  let active = 'trades';
  let period = 'daily';
  const loaded = new Set(); // tabs drawn at least once, so a refresh keeps what is on screen
  let feed = null;
  let live = null;
  let settings = null;
  let locking = null;
  const candles = createCandleChart({
    botId, pairSelect: $('#candle-pair'), limitSelect: $('#candle-limit'), status: $('#candle-status'),
    mainBox: $('#candle-main'), subBox: $('#candle-subplots'), trades: () => [...openTrades, ...closedTrades],
  });
  $('#candle-pair').addEventListener('change', () => candles.load());
  $('#candle-limit').addEventListener('change', () => candles.load());
  $('#candle-refresh').addEventListener('click', () => candles.load({ reloadPlotConfig: true }));

  for (const button of $$('.desk-seg [data-period]')) {
    button.addEventListener('click', () => {
      period = button.dataset.period;
      for (const b of $$('.desk-seg [data-period]')) b.setAttribute('aria-pressed', String(b === button));
      load('results');
    });
  }

  // Backtest vs dry run (web/js/desk/replay.js): from the portal's lab, whatever the bot's state.
  const replay = createReplay({ root: $('#replay'), actions: $('#replay-actions'), message: $('#replay-msg'), botId, manager, bot: () => bot });

  const running = () => bot?.state === 'running';
  const cur = () => bot?.stakeCurrency ?? '';

  /** Reads of one tab; each view shows its own failure in words and the others still draw. */
  async function load(tab) {
    if (!bot || tab === 'trades') return;
    if (tab === 'activity') { loadActivity(); return; }
    if (tab === 'replay') { replay.load(); return; }
    if (tab === 'settings' && settings && !loaded.has('settings-form')) { loaded.add('settings-form'); settings.load(); }
    if (!running()) { notRunning(); return; }
    const reads = {
      chart: () => { candles.setPairs(bot.pairs ?? []); return candles.load(); },
      performance: () => Promise.all([
        show('#performance', 'per-pair performance', '/performance', (el, body) => views.renderPerformance(el, body, cur())),
        show('#entries', 'entry statistics', '/entries', (el, body) => views.renderEntries(el, body, cur())),
        show('#exits', 'exit statistics', '/exits', (el, body) => views.renderExits(el, body, cur())),
        show('#stats', 'the win/loss statistics', '/stats', (el, body) => views.renderStats(el, body)),
      ]),
      results: () => {
        const which = period;
        return show('#results', `${which} results`, `/${which}`, (el, body) => { if (which === period) views.renderPeriods(el, body, which, cur()); });
      },
      wallet: () => show('#balance', 'the balance', '/balance', (el, body) => views.renderBalance(el, body, cur())),
      pairs: () => Promise.all([
        show('#locks', 'the locks', '/locks', (el, body) => {
          setText($('#locks-note'), `${body?.lock_count ?? (body?.locks ?? []).length} lock(s)`);
          views.renderLocks(el, body, { unlock: manager ? (l) => controls.unlockButton(deskCtx, l, $('#locks-msg')) : null });
        }),
        show('#whitelist', 'the whitelist', '/whitelist', (el, body) => {
          setText($('#whitelist-note'), Array.isArray(body?.method) ? body.method.join(', ') : '');
          views.renderPairList(el, body?.whitelist ?? [], { emptyText: 'The bot trades no pair right now.' });
        }),
        show('#blacklist', 'the blacklist', '/blacklist', (el, body) => {
          setText($('#blacklist-note'), `${body?.length ?? (body?.blacklist ?? []).length} pair(s)`);
          views.renderPairList(el, body?.blacklist ?? [], {
            emptyText: 'No pair is blacklisted.',
            remove: manager ? (p) => controls.blacklistRemoveButton(deskCtx, p, $('#blacklist-msg')) : null,
          });
        }),
      ]),
      settings: () => show('#config', 'the effective settings', '/config', (el, body) => views.renderConfig(el, body)),
    };
    await reads[tab]?.();
    loaded.add(tab);
  }

  async function show(selector, what, path, draw) {
    const el = $(selector);
    try {
      draw(el, await botGet(botId, path));
    } catch (err) {
      failedView(el, what, err);
    }
  }

  const RUN_ONLY = ['#performance', '#entries', '#exits', '#stats', '#results', '#balance', '#locks', '#whitelist', '#blacklist', '#config'];
  function notRunning() {
    const text = `These figures come from the bot itself, so they show while it runs (it is ${stateWord(bot?.state).toLowerCase()} now).`;
    for (const selector of RUN_ONLY) if (!loaded.size || !$(selector).childElementCount) fill($(selector), hint(text));
    if (active === 'chart') { candles.destroy(); setText($('#candle-status'), text); }
  }

  /* ---------- activity: the initial list, then pushed events (web/js/live.js) ---------- */

  async function loadActivity() {
    feed ??= createFeed($('#activity'), { showBot: false, emptyText: 'No activity for this bot yet. Fills, cancels, protections, warnings and errors show here as they happen.' });
    try {
      const body = await api(`/events?${new URLSearchParams({ bot: botId, limit: '100' })}`);
      const events = body?.events ?? [];
      feed.set(events);
      for (const e of events) live?.seen(e.id);
      setText($('#activity-note'), `${feed.size} event${feed.size === 1 ? '' : 's'} · loaded ${timeOfDay(new Date())}`);
      $('#activity-note').className = 'note';
    } catch (err) {
      if (err.redirecting) return;
      $('#activity-note').className = 'note note--bad';
      setText($('#activity-note'), `Could not load the activity: ${deskErrorText(err)}`);
    }
    if (!live) {
      // The stream starts once the page has loaded: it stays open for the page's life.
      const connect = () => {
        live = connectLive({ statusEl: $('#live-state'), pollBots: null, pollEvents: `/events?${new URLSearchParams({ bot: botId, limit: '50' })}` });
        live.on('event', (event) => { if (event?.botId === botId && feed.add(event)) setText($('#activity-note'), `${feed.size} events · last at ${timeOfDay(new Date())}`); });
      };
      if (document.readyState === 'complete') connect(); else window.addEventListener('load', connect, { once: true });
    }
  }

  /* ---------- tabs ---------- */

  /** On a phone the tab row scrolls sideways: keep the chosen tab in sight, without moving the page. */
  function revealTab(button) {
    const row = button.parentElement;
    const left = button.offsetLeft;
    const right = left + button.offsetWidth;
    if (left < row.scrollLeft) row.scrollLeft = left;
    else if (right > row.scrollLeft + row.clientWidth) row.scrollLeft = right - row.clientWidth;
  }

  function select(tab, { focus = false } = {}) {
    if (!TABS.includes(tab)) tab = 'trades';
    active = tab;
    for (const button of $$('.desk-tab')) {
      const on = button.dataset.tab === tab;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      if (on && focus) button.focus();
      if (on) revealTab(button);
    }
    for (const name of TABS) $(`#panel-${name}`).hidden = name !== tab;
    if (tab !== 'replay') replay.stop();
    if (location.hash !== `#${tab}`) history.replaceState(null, '', `${location.pathname}${location.search}#${tab}`);
    load(tab);
  }

  const tabs = $$('.desk-tab');
  // A phone turned, a window narrowed: the chosen tab stays in sight.
  new ResizeObserver(() => revealTab(tabs.find((t) => t.dataset.tab === active) ?? tabs[0])).observe($('.desk-tabs'));
  for (const button of tabs) {
    button.addEventListener('click', () => select(button.dataset.tab));
    // Arrow keys move between tabs (the WAI-ARIA tabs pattern); Tab goes into the panel.
    button.addEventListener('keydown', (event) => {
      const i = tabs.indexOf(button);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length].dataset.tab, { focus: true });
    });
  }

  /* ---------- controls: owners and admins only ---------- */

  function buildControls() {
    if (!manager) return;
    $('#trading-card').hidden = false;
    fill($('#trading-controls'), controls.tradingControls(deskCtx, $('#trading-msg')));
    locking = controls.lockForm(deskCtx, $('#locks-msg'));
    fill($('#lock-controls'), h('h3', {}, 'Lock a pair'), locking.form);
    fill($('#blacklist-controls'), controls.blacklistForm(deskCtx, $('#blacklist-msg')));
    $('#edit-card').hidden = false;
    settings = controls.settingsForm(deskCtx, $('#edit-msg'));
    fill($('#edit-form'), settings.form);
    $('#manage-cards').hidden = false;
    fill($('#clone-form'), controls.cloneForm(deskCtx, $('#clone-msg')));
    fill($('#wallet-tools'), controls.exportLink(deskCtx), controls.walletResetButton(deskCtx, $('#wallet-msg')));
    fill($('#restart-pending-actions'), h('button', { type: 'button', class: 'btn btn--primary', 'data-action': 'restart-apply', onclick: () => act('restart') }, 'Restart now'));
  }

  return {
    load,
    notRunning,
    buildControls,
    start() { select(location.hash.slice(1) || 'trades'); },
    /** The page's 10-second refresh: the visible tab's reads again (the portal caches them). */
    refresh() { load(active); },
    botChanged() {
      locking?.setPairs(bot.pairs ?? []);
      if (loaded.has('settings-form')) settings?.sync(bot);
      candles.setPairs(bot.pairs ?? []);
    },
  };
})();

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
  desk.buildControls();
  botLoop = every(BOT_MS, loadBot);
}

// Redraw the chart at the new width (text stays readable on a phone).
let lastWidth = 0;
new ResizeObserver(() => {
  const w = $('#chart').clientWidth;
  if (Math.abs(w - lastWidth) > 20 && (freqtradeSeen || closedTrades.length)) { lastWidth = w; drawProfitChart($('#chart'), closedTrades, bot?.stakeCurrency); }
}).observe($('#chart'));
