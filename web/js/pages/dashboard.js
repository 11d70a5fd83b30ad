// Dashboard: the client's bots side by side (issue 13). Combined equity over time, a sortable
// table of each bot's figures, the activity feed, and one card per bot with its state.
//
// Nothing here polls the bots. GET /dashboard and GET /events load the page once; after that the
// portal's stream (web/js/live.js) pushes `bots` rows every 5 s (fetched once per bot for every
// open page) and `event` objects as they happen. The bot list itself (GET /bots, GET /me) is
// portal-only data: it is read again when the set of bots or a state changes, and once a minute
// for the uptime and the quota.
import { api } from '../api.js';
import { h, $, fill, setText, pageUrl } from '../dom.js';
import { startPage, canManage, isAdmin } from '../layout.js';
import { stateBadge, stateWord, showMessage, clearMessage, errorText } from '../ui.js';
import { uptime, money, percent, signClass, mb, timeOfDay, num } from '../format.js';
import { connectLive } from '../live.js';
import { createFeed } from '../feed.js';

const LIST_REFRESH_MS = 60000;
const FEED_LIMIT = 50;
// Lines drawn one per bot besides the combined one; more would be unreadable.
const MAX_BOT_LINES = 8;
const PALETTE = ['#2356c2', '#126b3e', '#b3261e', '#7a4f00', '#6b3fa0', '#0e7490', '#be185d', '#4d7c0f', '#475569'];

const me = await startPage();
const admin = isAdmin(me);
const manager = canManage(me);

setText($('#dash-title'), admin ? 'All bots' : 'Your bots');
if (manager) {
  $('#dash-actions').append(h('a', { class: 'btn btn--primary', href: '/bot-new.html', 'data-testid': 'new-bot' }, 'New bot'));
}

/** What the page knows: the bots (GET /bots) and their figures (dashboard rows), by id. */
const botsById = new Map();
const rowsById = new Map();
const botName = (id) => botsById.get(id)?.name || rowsById.get(id)?.name || id;

/* ---------- quota and budget ---------- */

function statTile({ label, value, note, meter }) {
  return h('div', { class: 'card stat' },
    h('span', { class: 'stat__label' }, label),
    h('span', { class: 'stat__value' }, value),
    meter ?? null,
    note ? h('span', { class: 'stat__note' }, note) : null);
}

function meter(value, max, label) {
  return h('meter', { class: 'meter', min: 0, max: Math.max(1, max), value: Math.min(value, max), low: max * 0.7, high: max * 0.9, optimum: 0, 'aria-label': label });
}

function renderQuota(current, bots) {
  const tiles = [];
  const { client, budget } = current;
  if (client) {
    const used = num(client.botCount) ?? bots.length;
    const max = num(client.maxBots);
    tiles.push(statTile({
      label: `Bots of ${client.name || client.id}`,
      value: max === null ? `${used}` : `${used} of ${max}`,
      meter: max ? meter(used, max, 'Bots used of quota') : null,
      note: max === null ? '' : used >= max ? 'Quota reached: delete a bot to create another.' : `${max - used} more can be created.`,
    }));
  } else if (admin) {
    const running = bots.filter((b) => b.state === 'running').length;
    tiles.push(statTile({ label: 'Bots on this appliance', value: `${bots.length}`, note: `${running} running` }));
  }
  if (budget) {
    const total = num(budget.memoryMB) ?? 0;
    const usedMB = num(budget.usedMB) ?? 0;
    tiles.push(statTile({
      label: 'Memory budget',
      value: `${mb(usedMB)} of ${mb(total)}`,
      meter: total ? meter(usedMB, total, 'Memory budget in use') : null,
      note: `${mb(budget.freeMB)} free for more bots`,
    }));
  }
  if (!admin && bots.length) tiles.push(statTile({ label: 'Running now', value: `${bots.filter((b) => b.state === 'running').length} of ${bots.length}`, note: 'All bots trade in dry-run: no real money.' }));
  fill($('#quota'), tiles);
}

/* ---------- comparison table ---------- */

const pct = (ratio) => (num(ratio) === null ? null : num(ratio) * 100);

/** Columns of the comparison; `key` is what the column sorts by (nulls always last). */
const COLUMNS = [
  { id: 'name', label: 'Bot', key: (r) => String(botName(r.id)).toLowerCase(), text: true },
  { id: 'state', label: 'State', key: (r) => stateWord(r.state).toLowerCase(), text: true },
  { id: 'profit', label: 'Profit', key: (r) => num(r.profitAbs), num: true },
  { id: 'winrate', label: 'Win rate', key: (r) => num(r.winrate), num: true },
  { id: 'drawdown', label: 'Max drawdown', key: (r) => num(r.maxDrawdown), num: true },
  { id: 'trades', label: 'Trades', key: (r) => num(r.tradeCount), num: true },
  { id: 'exposure', label: 'Open exposure', key: (r) => num(r.openExposure), num: true },
];

let sort = { column: 'name', dir: 'ascending' };
const headers = new Map(); // column id → {th, button}

function buildHead() {
  const row = $('#compare-head');
  for (const col of COLUMNS) {
    const indicator = h('span', { class: 'sort-ind', 'aria-hidden': 'true' });
    // A real button inside the header: focusable, Enter and Space work without extra code.
    const button = h('button', { type: 'button', class: 'sort-btn', 'data-sort': col.id }, col.label, indicator);
    const th = h('th', { scope: 'col', class: col.num ? 'num' : null, 'aria-sort': 'none' }, button);
    button.addEventListener('click', () => {
      sort = sort.column === col.id
        ? { column: col.id, dir: sort.dir === 'ascending' ? 'descending' : 'ascending' }
        // Figures are most often compared best first; names and states alphabetically.
        : { column: col.id, dir: col.num ? 'descending' : 'ascending' };
      renderTable();
    });
    headers.set(col.id, { th, button });
    row.append(th);
  }
  markSort();
}

function compareRows(a, b) {
  const col = COLUMNS.find((c) => c.id === sort.column) ?? COLUMNS[0];
  const ka = col.key(a);
  const kb = col.key(b);
  if (ka === null && kb === null) return 0;
  if (ka === null) return 1;
  if (kb === null) return -1;
  const order = col.text ? String(ka).localeCompare(String(kb)) : ka - kb;
  return sort.dir === 'ascending' ? order : -order;
}

function figureCells(row) {
  const cur = row.stakeCurrency;
  const name = h('td', {},
    h('a', { class: 'compare__name', href: pageUrl('/bot.html', { id: row.id }) }, botName(row.id)),
    admin && botsById.get(row.id)?.clientId ? h('span', { class: 'compare__sub' }, botsById.get(row.id).clientId) : null,
    row.error ? h('span', { class: 'compare__sub note--bad', 'data-row-error': '' }, `Figures unavailable: ${row.error}`) : null);
  const profit = num(row.profitAbs) === null ? '—'
    : h('span', { class: signClass(row.profitAbs) },
      money(row.profitAbs, cur, { signed: true }),
      pct(row.profitRatio) === null ? null : h('span', { class: 'compare__sub' }, percent(pct(row.profitRatio))));
  const trades = num(row.tradeCount) === null ? '—'
    : [String(num(row.tradeCount)), num(row.closedTradeCount) === null ? null
      : h('span', { class: 'compare__sub' }, `${num(row.closedTradeCount)} closed`)];
  const exposure = num(row.openExposure) === null ? '—'
    : [money(row.openExposure, cur), num(row.openTrades) === null ? null
      : h('span', { class: 'compare__sub' }, `${num(row.openTrades)} open`)];
  return [
    name,
    h('td', { class: 'nowrap' }, stateBadge(row.state)),
    h('td', { class: 'num', 'data-col': 'profit' }, profit),
    h('td', { class: 'num', 'data-col': 'winrate' }, pct(row.winrate) === null ? '—' : percent(pct(row.winrate), { signed: false })),
    h('td', { class: 'num', 'data-col': 'drawdown' }, pct(row.maxDrawdown) === null ? '—' : percent(pct(row.maxDrawdown), { signed: false })),
    h('td', { class: 'num', 'data-col': 'trades' }, trades),
    h('td', { class: 'num', 'data-col': 'exposure' }, exposure),
  ];
}

const rowEls = new Map(); // bot id → {tr, signature}
let figuresLoaded = false;

/**
 * Rows are kept and moved, not rebuilt: a row is redrawn only when its figures changed, so a
 * keyboard user's focus on a bot link survives the updates that arrive every 5 s.
 */
function markSort() {
  for (const [id, { th }] of headers) th.setAttribute('aria-sort', id === sort.column ? sort.dir : 'none');
}

function renderTable() {
  markSort();
  const rows = [...rowsById.values()].sort((a, b) => compareRows(a, b) || String(a.id).localeCompare(String(b.id)));
  const body = $('#compare-body');
  rows.forEach((row, i) => {
    const signature = JSON.stringify([row, botName(row.id), admin ? botsById.get(row.id)?.clientId : null]);
    let entry = rowEls.get(row.id);
    if (!entry) {
      entry = { tr: h('tr', { 'data-row-bot': row.id }), signature: null };
      rowEls.set(row.id, entry);
    }
    if (entry.signature !== signature) {
      entry.tr.replaceChildren(...figureCells(row));
      entry.signature = signature;
    }
    if (body.children[i] !== entry.tr) body.insertBefore(entry.tr, body.children[i] ?? null);
  });
  for (const [id, entry] of rowEls) if (!rowsById.has(id)) { entry.tr.remove(); rowEls.delete(id); }
  const has = rows.length > 0;
  $('#compare-wrap').hidden = !has;
  const msg = $('#compare-msg');
  if (has) clearMessage(msg);
  // Before the first figures arrive the HTML's "Loading figures…" stays.
  else if (figuresLoaded) showMessage(msg, 'No bots to compare yet.', 'plain');
}

/* ---------- equity chart ---------- */

let chart = null;
const Chart = window.Chart;
// The series are by UTC day ("2026-12-06"); labelled in UTC so a browser west of Greenwich
// does not show the day before.
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const dayLabel = (date) => {
  const d = new Date(`${String(date).slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? String(date) : dayFmt.format(d);
};

function showChartMessage(text, kind = 'info') {
  showMessage($('#equity-msg'), text, kind);
}

function renderEquity(dashboard) {
  const wrap = $('#equity-chart-wrap');
  if (typeof Chart !== 'function') {
    wrap.hidden = true;
    showChartMessage('The chart library is not installed on this portal (/vendor/chart.js/chart.min.js is missing), '
      + 'so the equity chart cannot be drawn. The table below has the same figures. An operator can install it with the package libjs-chart.js.', 'warn');
    return;
  }
  const combined = Array.isArray(dashboard.equity) ? dashboard.equity : [];
  const byBot = dashboard.equityByBot && typeof dashboard.equityByBot === 'object' ? dashboard.equityByBot : {};
  const botIds = Object.keys(byBot).filter((id) => Array.isArray(byBot[id]) && byBot[id].length);
  const allDates = [...new Set([...combined, ...botIds.flatMap((id) => byBot[id])].map((p) => String(p.date)))].sort();
  // The series may cover a fixed window (months) of days without trades: the chart starts the
  // day before the first change, so the trading days are not squeezed into a corner.
  const moved = new Set([...combined, ...botIds.flatMap((id) => byBot[id])]
    .filter((p) => num(p.value) !== null && num(p.value) !== 0).map((p) => String(p.date)));
  const first = allDates.findIndex((d) => moved.has(d));
  const dates = first < 0 ? [] : allDates.slice(Math.max(0, first - 1));
  if (dates.length === 0) {
    wrap.hidden = true;
    showChartMessage('No closed trades yet. The equity line starts with the first closed trade; in dry-run this can take hours, depending on the strategies and timeframes.');
    chart?.destroy();
    chart = null;
    return;
  }
  wrap.hidden = false;
  clearMessage($('#equity-msg'));

  // Each series is cumulative, so a day without a point carries the last value forward.
  const align = (points) => {
    const at = new Map(points.map((p) => [String(p.date), num(p.value)]));
    let last = null;
    return dates.map((d) => { if (at.has(d) && at.get(d) !== null) last = at.get(d); return last; });
  };
  const datasets = [{
    label: admin ? 'All bots' : 'All bots combined',
    data: align(combined),
    borderColor: PALETTE[0],
    backgroundColor: 'rgba(35, 86, 194, 0.08)',
    borderWidth: 2.5,
    fill: true,
    pointRadius: dates.length > 40 ? 0 : 2,
    tension: 0,
  }];
  if (botIds.length > 1) {
    botIds.slice(0, MAX_BOT_LINES).forEach((id, i) => datasets.push({
      label: botName(id),
      data: align(byBot[id]),
      borderColor: PALETTE[(i + 1) % PALETTE.length],
      backgroundColor: PALETTE[(i + 1) % PALETTE.length],
      borderWidth: 1.5,
      borderDash: [4, 3],
      fill: false,
      pointRadius: 0,
      tension: 0,
    }));
  }
  const labels = dates.map(dayLabel);
  const currency = [...rowsById.values()].map((r) => r.stakeCurrency).find(Boolean) ?? '';
  if (chart) {
    chart.data.labels = labels;
    chart.data.datasets = datasets;
    chart.update('none');
    return;
  }
  chart = new Chart($('#equity-chart'), {
    type: 'line',
    data: { labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      plugins: {
        legend: { display: datasets.length > 1, position: 'bottom', labels: { boxWidth: 12 } },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${money(item.parsed.y, currency, { signed: true })}` } },
      },
      scales: {
        x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 }, grid: { display: false } },
        y: { ticks: { maxTicksLimit: 6 }, title: { display: Boolean(currency), text: currency } },
      },
    },
  });
}

/* ---------- bot cards (the bots list with states, as before) ---------- */

const cards = new Map();

function kvItem(label) {
  const dd = h('dd', {}, '—');
  return { el: h('div', {}, h('dt', {}, label), dd), dd };
}

function createCard(bot) {
  const nameLink = h('a', { class: 'bot-card__name', href: pageUrl('/bot.html', { id: bot.id }) });
  const badgeSlot = h('span', {});
  const meta = h('div', { class: 'bot-card__meta' });
  const pairs = h('div', { class: 'chips', 'aria-label': 'Pairs' });
  const fields = {
    uptime: kvItem('Uptime'),
    wallet: kvItem('Dry-run wallet'),
    profit: kvItem('Profit'),
    open: kvItem('Open trades'),
  };
  const note = h('p', { class: 'note', hidden: true });
  const lastError = h('div', { class: 'error-box', hidden: true });
  const open = h('a', { class: 'btn btn--small', href: pageUrl('/bot.html', { id: bot.id }) }, 'Open bot');
  const el = h('article', { class: 'card bot-card', 'data-bot-id': bot.id, 'aria-labelledby': `bot-${bot.id}-name` },
    h('div', { class: 'card__head' }, h('h3', { class: 'card__title', id: `bot-${bot.id}-name` }, nameLink), badgeSlot),
    meta, pairs,
    h('dl', { class: 'kv' }, Object.values(fields).map((f) => f.el)),
    note, lastError,
    h('div', { class: 'bot-card__foot' }, open));
  open.setAttribute('aria-label', `Open bot ${bot.name}`);
  return { el, nameLink, badgeSlot, meta, pairs, fields, note, lastError, state: null };
}

function setCardState(card, state) {
  if (card.state === state) return;
  fill(card.badgeSlot, stateBadge(state));
  card.state = state;
}

function updateCard(card, bot) {
  setText(card.nameLink, bot.name || bot.id);
  setCardState(card, rowsById.get(bot.id)?.state ?? bot.state);
  fill(card.meta,
    admin ? h('span', { class: 'tag', title: 'Client' }, `Client: ${bot.clientId}`) : null,
    h('span', {}, bot.strategy), h('span', { 'aria-hidden': 'true' }, '·'),
    h('span', {}, bot.timeframe), h('span', { 'aria-hidden': 'true' }, '·'),
    h('span', {}, `${bot.size} (${mb(bot.memoryMB)})`));
  fill(card.pairs, (bot.pairs ?? []).map((p) => h('span', { class: 'chip' }, p)));
  setText(card.fields.uptime.dd, uptime(bot));
  setText(card.fields.wallet.dd, money(bot.dryRunWallet, bot.stakeCurrency));
  updateCardFigures(card, bot);
  if (bot.lastError) {
    setText(card.lastError, `Last error: ${bot.lastError}`);
    card.lastError.hidden = false;
  } else {
    card.lastError.hidden = true;
  }
}

/** Profit and open trades come from the dashboard rows (the portal read the bot for us). */
function updateCardFigures(card, bot) {
  const row = rowsById.get(bot.id);
  const state = row?.state ?? bot.state;
  setCardState(card, state);
  setText(card.note, '');
  card.note.hidden = true;
  if (row && !row.error && num(row.profitAbs) !== null) {
    const cur = row.stakeCurrency ?? bot.stakeCurrency;
    fill(card.fields.profit.dd, h('span', { class: signClass(row.profitAbs) },
      `${money(row.profitAbs, cur, { signed: true })} (${percent(pct(row.profitRatio))})`));
    setText(card.fields.open.dd, num(row.openTrades) === null ? '—' : String(num(row.openTrades)));
    return;
  }
  setText(card.fields.profit.dd, '—');
  setText(card.fields.open.dd, '—');
  if (row?.error) {
    setText(card.note, `Profit unavailable: ${row.error}`);
    card.note.hidden = false;
  } else if (state !== 'running') {
    setText(card.note, 'Profit and trades show while the bot runs.');
    card.note.hidden = false;
  }
}

function renderEmpty(show) {
  const empty = $('#bots-empty');
  empty.hidden = !show;
  $('#bots-title').hidden = show;
  if (!show || empty.childElementCount) return;
  const clientName = me.client?.name || me.client?.id || 'your client';
  if (manager) {
    fill(empty,
      h('h2', {}, 'No bots yet'),
      h('p', {}, 'A bot is a Freqtrade instance that paper-trades a strategy on live market data with a simulated wallet. '
        + 'Create your first one: pick a strategy, the pairs to trade and a stake. It starts in dry-run, so no real money is involved.'),
      h('a', { class: 'btn btn--primary', href: '/bot-new.html' }, 'Create your first bot'));
  } else {
    fill(empty,
      h('h2', {}, 'No bots yet'),
      h('p', {}, `Your account can watch bots but not create them. When an owner of ${clientName} creates a bot, it appears here.`));
  }
}

function renderCards() {
  const bots = [...botsById.values()].sort((a, b) =>
    (admin ? String(a.clientId).localeCompare(String(b.clientId)) : 0) || String(a.name).localeCompare(String(b.name)));
  const grid = $('#bots');
  bots.forEach((bot, i) => {
    let card = cards.get(bot.id);
    if (!card) { card = createCard(bot); cards.set(bot.id, card); }
    updateCard(card, bot);
    if (grid.children[i] !== card.el) grid.insertBefore(card.el, grid.children[i] ?? null);
  });
  for (const [id, card] of cards) if (!botsById.has(id)) { card.el.remove(); cards.delete(id); }
  $('#bots-loading').hidden = true;
  renderEmpty(bots.length === 0);
}

/* ---------- loading ---------- */

let listLoading = null;

/** GET /bots and /me: portal-only data (no bot is asked). Coalesces overlapping calls. */
function loadList() {
  listLoading ??= (async () => {
    try {
      const [list, current] = await Promise.all([api('/bots'), api('/me')]);
      botsById.clear();
      for (const bot of list.bots ?? []) botsById.set(bot.id, bot);
      // A bot that is gone has no row either (a stream message may still carry it for a moment).
      for (const id of rowsById.keys()) if (!botsById.has(id)) rowsById.delete(id);
      renderQuota(current, [...botsById.values()]);
      renderCards();
      renderTable();
      clearMessage($('#dash-error'));
    } catch (err) {
      if (err.redirecting) return;
      $('#bots-loading').hidden = true;
      showMessage($('#dash-error'), `Could not load the bots: ${errorText(err)} The page tries again in a minute.`, 'error');
    } finally {
      listLoading = null;
    }
  })();
  return listLoading;
}

let dashboardLoading = null;

/** GET /dashboard: the rows and the equity series (through the portal's per-bot cache). */
function loadDashboard() {
  dashboardLoading ??= (async () => {
    try {
      const dashboard = await api('/dashboard');
      applyRows(dashboard.bots ?? [], { fromStream: false });
      renderEquity(dashboard);
    } catch (err) {
      if (err.redirecting) return;
      showMessage($('#compare-msg'), `Could not load the figures: ${errorText(err)}`, 'error');
      showChartMessage(`Could not load the equity: ${errorText(err)}`, 'error');
    } finally {
      dashboardLoading = null;
    }
  })();
  return dashboardLoading;
}

function markUpdated() {
  setText($('#dash-updated'), `Updated ${timeOfDay(new Date())}`);
}

/**
 * New figures for the bots. Reloads the bot list when the set of bots or a state changed (a bot
 * was created, deleted, started or stopped elsewhere), and the equity when a trade closed.
 */
function applyRows(rows, { fromStream }) {
  figuresLoaded = true;
  const before = new Map(rowsById);
  const incoming = new Set(rows.map((r) => r.id));
  rowsById.clear();
  for (const row of rows) if (row && row.id) rowsById.set(row.id, row);

  // Compared with the previous message (the bot list on the first one), so that a difference
  // between the two sources that persists causes one reload, not one every 5 s.
  const previous = before.size ? new Set(before.keys()) : new Set(botsById.keys());
  const setChanged = incoming.size !== previous.size || [...incoming].some((id) => !previous.has(id));
  const stateChanged = rows.some((r) => before.has(r.id) && before.get(r.id).state !== r.state);
  const closedMore = rows.some((r) => before.has(r.id) && num(r.closedTradeCount) !== num(before.get(r.id).closedTradeCount));

  renderTable();
  for (const [id, card] of cards) {
    const bot = botsById.get(id);
    if (bot) updateCardFigures(card, bot);
  }
  markUpdated();
  if ((setChanged || stateChanged) && !listLoading) loadList();
  if (fromStream && closedMore) loadDashboard();
}

/* ---------- start ---------- */

buildHead();

const feed = createFeed($('#feed'), { showBot: true, botName, limit: FEED_LIMIT });

await loadList();
const [, events] = await Promise.all([
  loadDashboard(),
  api(`/events?limit=${FEED_LIMIT}`).catch((err) => {
    if (!err.redirecting) showMessage($('#feed-msg'), `Could not load the activity: ${errorText(err)}`, 'error');
    return null;
  }),
]);

const live = connectLive({ statusEl: $('#live-state'), pollBots: '/dashboard', pollEvents: `/events?limit=${FEED_LIMIT}` });
if (events) {
  feed.set(events.events ?? []);
  for (const e of events.events ?? []) live.seen(e.id);
} else {
  feed.set([]);
}
feed.renameBots();

live.on('bots', (message) => applyRows(message.bots, { fromStream: true }));
// The stream does not replay what happened while it was not connected (before the first open,
// during a reconnect): each time it opens, the newest events are read once more (portal-only,
// duplicates are ignored by the feed).
live.on('state', (state) => {
  if (state !== 'live') return;
  api(`/events?limit=${FEED_LIMIT}`).then((body) => {
    for (const e of body?.events ?? []) { feed.add(e); live.seen(e.id); }
  }, () => { /* the feed keeps what it has; the next open tries again */ });
});
live.on('event', (event) => {
  if (feed.add(event)) clearMessage($('#feed-msg'));
  // A closed trade moves the equity line; fills and cancels may change exposure (the next
  // `bots` message brings that).
  if (event.kind === 'exit_fill') loadDashboard();
});

// Uptime and quota change without any message; portal-only data, so once a minute is cheap.
setInterval(() => { if (!document.hidden) loadList(); }, LIST_REFRESH_MS);
