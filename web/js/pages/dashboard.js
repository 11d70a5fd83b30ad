// Dashboard: one live card per bot, quota and memory budget in view, refreshed every 5 s.
import { api, seg } from '../api.js';
import { h, $, fill, setText, pageUrl } from '../dom.js';
import { startPage, canManage, isAdmin } from '../layout.js';
import { stateBadge, showMessage, clearMessage, errorText, every } from '../ui.js';
import { uptime, money, percent, signClass, mb, timeOfDay, num } from '../format.js';

const REFRESH_MS = 5000;

const me = await startPage();
const admin = isAdmin(me);
const manager = canManage(me);

setText($('#dash-title'), admin ? 'All bots' : 'Your bots');
if (manager) {
  $('#dash-actions').append(h('a', { class: 'btn btn--primary', href: '/bot-new.html', 'data-testid': 'new-bot' }, 'New bot'));
}

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

/* ---------- bot cards ---------- */

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
    h('div', { class: 'card__head' }, h('h2', { class: 'card__title', id: `bot-${bot.id}-name` }, nameLink), badgeSlot),
    meta, pairs,
    h('dl', { class: 'kv' }, Object.values(fields).map((f) => f.el)),
    note, lastError,
    h('div', { class: 'bot-card__foot' }, open));
  open.setAttribute('aria-label', `Open bot ${bot.name}`);
  return { el, nameLink, badgeSlot, meta, pairs, fields, note, lastError, state: null };
}

function updateCard(card, bot, profit) {
  setText(card.nameLink, bot.name || bot.id);
  if (card.state !== bot.state) {
    fill(card.badgeSlot, stateBadge(bot.state));
    card.state = bot.state;
  }
  fill(card.meta,
    admin ? h('span', { class: 'tag', title: 'Client' }, `Client: ${bot.clientId}`) : null,
    h('span', {}, bot.strategy), h('span', { 'aria-hidden': 'true' }, '·'),
    h('span', {}, bot.timeframe), h('span', { 'aria-hidden': 'true' }, '·'),
    h('span', {}, `${bot.size} (${mb(bot.memoryMB)})`));
  fill(card.pairs, (bot.pairs ?? []).map((p) => h('span', { class: 'chip' }, p)));

  setText(card.fields.uptime.dd, uptime(bot));
  setText(card.fields.wallet.dd, money(bot.dryRunWallet, bot.stakeCurrency));

  setText(card.note, '');
  card.note.hidden = true;
  if (profit?.ok) {
    const p = profit.value;
    const pct = p.profit_all_percent ?? (num(p.profit_all_ratio) !== null ? num(p.profit_all_ratio) * 100 : null);
    fill(card.fields.profit.dd, h('span', { class: signClass(p.profit_all_coin) },
      `${money(p.profit_all_coin, bot.stakeCurrency, { signed: true })} (${percent(pct)})`));
    const total = num(p.trade_count);
    const closed = num(p.closed_trade_count);
    setText(card.fields.open.dd, total !== null && closed !== null ? String(Math.max(0, total - closed)) : '—');
  } else {
    setText(card.fields.profit.dd, '—');
    setText(card.fields.open.dd, '—');
    if (profit && !profit.ok) {
      const err = profit.error;
      const text = err?.status === 502 || err?.status === 504
        ? 'Bot API not reachable right now; profit will show when it answers.'
        : `Profit unavailable: ${err?.message ?? 'unknown error'}`;
      setText(card.note, text);
      card.note.hidden = false;
    } else if (bot.state !== 'running') {
      setText(card.note, 'Profit and trades show while the bot runs.');
      card.note.hidden = false;
    }
  }

  if (bot.lastError) {
    setText(card.lastError, `Last error: ${bot.lastError}`);
    card.lastError.hidden = false;
  } else {
    card.lastError.hidden = true;
  }
}

function renderEmpty(show) {
  const empty = $('#bots-empty');
  empty.hidden = !show;
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

/* ---------- refresh loop ---------- */

async function refresh() {
  try {
    const [list, current] = await Promise.all([api('/bots'), api('/me')]);
    const bots = [...list.bots].sort((a, b) =>
      (admin ? String(a.clientId).localeCompare(String(b.clientId)) : 0) || String(a.name).localeCompare(String(b.name)));
    // Profit comes from each bot's own Freqtrade API, only reachable while it runs.
    const profits = await Promise.all(bots.map((bot) => (bot.state === 'running'
      ? api(`/bots/${seg(bot.id)}/profit`).then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }))
      : Promise.resolve(null))));
    if (profits.some((p) => p && !p.ok && p.error.redirecting)) return;

    renderQuota(current, bots);
    const grid = $('#bots');
    const seen = new Set();
    bots.forEach((bot, i) => {
      seen.add(bot.id);
      let card = cards.get(bot.id);
      if (!card) { card = createCard(bot); cards.set(bot.id, card); }
      updateCard(card, bot, profits[i]);
      if (grid.children[i] !== card.el) grid.insertBefore(card.el, grid.children[i] ?? null);
    });
    for (const [id, card] of cards) if (!seen.has(id)) { card.el.remove(); cards.delete(id); }

    $('#bots-loading').hidden = true;
    renderEmpty(bots.length === 0);
    setText($('#dash-updated'), `Updated ${timeOfDay(new Date())} · refreshes every 5 s`);
    clearMessage($('#dash-error'));
  } catch (err) {
    if (err.redirecting) return;
    $('#bots-loading').hidden = true;
    showMessage($('#dash-error'), `Could not refresh: ${errorText(err)} Retrying every 5 seconds.`, 'error');
  }
}

every(REFRESH_MS, refresh);
