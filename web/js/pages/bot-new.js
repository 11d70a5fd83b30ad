// Create a bot: options from GET /catalog, defaults that work, API field errors inline,
// progress while creating and starting, then the bot page.
import { api, seg } from '../api.js';
import { h, $, fill, setText, pageUrl } from '../dom.js';
import { startPage, canManage, isAdmin } from '../layout.js';
import { busy, showMessage, clearMessage, showError, clearFieldErrors, showFieldErrors, spinner, errorText, flash } from '../ui.js';
import { mb } from '../format.js';

const DEFAULTS = { exchange: 'binance', stakeCurrency: 'USDT', timeframe: '5m', size: 'small' };
const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,30}$/;

const me = await startPage();
if (!canManage(me)) {
  // Viewers watch only: nothing to create here.
  location.replace('/dashboard.html');
  await new Promise(() => {});
}
const admin = isAdmin(me);

const form = $('#bot-form');
const errorBox = $('#new-error');
const progress = $('#create-progress');
const submit = $('#create-submit');

function options(select, values, preferred) {
  fill(select, values.map((v) => {
    const value = typeof v === 'object' ? v.value : v;
    const label = typeof v === 'object' ? v.label : v;
    return h('option', { value }, label);
  }));
  const list = values.map((v) => (typeof v === 'object' ? v.value : v));
  select.value = list.includes(preferred) ? preferred : (list[0] ?? '');
}

function choices(container, name, items, preferred) {
  const ids = items.map((i) => i.id);
  const chosen = ids.includes(preferred) ? preferred : ids[0];
  fill(container, items.map((item) => {
    const id = `f-${name}-${item.id}`;
    return h('label', { class: 'choice', for: id },
      h('input', { type: 'radio', name, id, value: item.id, checked: item.id === chosen }),
      h('span', { class: 'choice__body' },
        h('span', { class: 'choice__title' }, item.title),
        item.desc ? h('span', { class: 'choice__desc' }, item.desc) : null));
  }));
}

function slugify(text) {
  return text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 31).replace(/-+$/, '');
}

async function load() {
  try {
    const [catalog, clients] = await Promise.all([
      api('/catalog'),
      admin ? api('/clients') : Promise.resolve(null),
    ]);
    const el = form.elements;
    options(el.exchange, catalog.exchanges ?? [], DEFAULTS.exchange);
    options(el.stakeCurrency, catalog.stakeCurrencies ?? [], DEFAULTS.stakeCurrency);
    options(el.timeframe, catalog.timeframes ?? [], DEFAULTS.timeframe);
    choices($('#strategy-list'), 'strategy', (catalog.strategies ?? []).map((st) => ({ id: st.id, title: st.name || st.id, desc: st.description })), null);
    choices($('#size-list'), 'size', (catalog.sizes ?? []).map((sz) => ({
      id: sz.id, title: sz.id.charAt(0).toUpperCase() + sz.id.slice(1), desc: `${mb(sz.memoryMB)} memory · ${sz.cpus} CPU`,
    })), DEFAULTS.size);
    const maxPairs = catalog.limits?.maxPairs;
    if (maxPairs) setText($('#f-pairs-hint'), `Separate pairs with commas, for example BTC/USDT, ETH/USDT (up to ${maxPairs}). The quote currency should match the stake currency.`);
    if (me.budget) setText($('#size-hint'), `Memory free on this appliance: ${mb(me.budget.freeMB)} of ${mb(me.budget.memoryMB)}.`);

    if (admin) {
      $('#client-field').hidden = false;
      const list = clients?.clients ?? [];
      options(el.clientId, [{ value: '', label: 'Choose a client…' }, ...list.map((c) => ({ value: c.id, label: `${c.name || c.id} (${c.id}) · ${c.botCount}/${c.maxBots} bots` }))], new URLSearchParams(location.search).get('client') ?? '');
    } else if (me.client) {
      const { botCount, maxBots } = me.client;
      const full = Number(botCount) >= Number(maxBots);
      showMessage($('#new-quota'), full
        ? `Your client already has ${botCount} of ${maxBots} bots, the most allowed. Delete a bot before creating another.`
        : `Your client has ${botCount} of ${maxBots} bots.`, full ? 'warn' : 'plain');
    }
    el.id.value = slugify(el.name.value);
    $('#new-loading').hidden = true;
    form.hidden = false;
  } catch (err) {
    if (err.redirecting) return;
    $('#new-loading').hidden = true;
    showMessage(errorBox, `The bot options could not be loaded: ${errorText(err)}`, 'error');
  }
}

/* ---------- id follows the name until edited ---------- */
let idEdited = false;
form.elements.id.addEventListener('input', () => { idEdited = true; });
form.elements.name.addEventListener('input', () => {
  if (!idEdited) form.elements.id.value = slugify(form.elements.name.value);
});
form.elements.stakeUnlimited.addEventListener('change', () => {
  form.elements.stakeAmount.disabled = form.elements.stakeUnlimited.checked;
});

function readForm() {
  const el = form.elements;
  const body = {
    id: el.id.value.trim(),
    name: el.name.value.trim(),
    exchange: el.exchange.value,
    pairs: el.pairs.value.split(/[\s,;]+/).map((p) => p.trim().toUpperCase()).filter(Boolean),
    stakeCurrency: el.stakeCurrency.value,
    stakeAmount: el.stakeUnlimited.checked ? 'unlimited' : el.stakeAmount.value.trim().replace(',', '.'),
    dryRunWallet: Number(el.dryRunWallet.value),
    maxOpenTrades: Number(el.maxOpenTrades.value),
    timeframe: el.timeframe.value,
    strategy: el.strategy.value,
    size: el.size.value,
    start: el.start.checked,
  };
  if (admin) body.clientId = el.clientId.value;
  return body;
}

/** Checks the browser can make without the server; the API stays the authority. */
function localErrors(body) {
  const errors = {};
  if (admin && !body.clientId) errors.clientId = 'Choose the client this bot belongs to.';
  if (!body.name) errors.name = 'Give the bot a name.';
  if (!ID_PATTERN.test(body.id)) errors.id = 'Use 1 to 31 lowercase letters, digits or dashes, starting with a letter or digit.';
  if (body.pairs.length === 0) errors.pairs = 'Enter at least one pair, like BTC/USDT.';
  if (body.stakeAmount !== 'unlimited' && !(Number(body.stakeAmount) > 0)) errors.stakeAmount = 'Enter a stake above 0, or choose unlimited.';
  if (!(body.dryRunWallet > 0)) errors.dryRunWallet = 'Enter a starting balance above 0.';
  if (!Number.isInteger(body.maxOpenTrades) || body.maxOpenTrades < 1) errors.maxOpenTrades = 'Enter a whole number, 1 or more.';
  if (!body.strategy) errors.strategy = 'Choose a strategy.';
  if (!body.size) errors.size = 'Choose a size.';
  return errors;
}

function step(text) {
  fill(progress, spinner(), text);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** After creation, watch the start for a little while so the person sees it happen. */
async function watchStart(bot) {
  const until = Date.now() + 20000;
  let current = bot;
  while (['created', 'starting'].includes(current.state) && Date.now() < until) {
    step(current.state === 'created' ? 'Bot saved. Starting its container…' : 'Container started. Waiting for Freqtrade to come up…');
    await sleep(2000);
    try { current = (await api(`/bots/${seg(bot.id)}`)).bot; } catch (err) { if (err.redirecting) return null; break; }
  }
  return current;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  clearMessage(errorBox);
  const body = readForm();
  const local = localErrors(body);
  if (Object.keys(local).length) {
    showFieldErrors(form, local);
    showMessage(errorBox, 'Some fields need attention; see the messages below each one.', 'error');
    return;
  }
  const controls = [...form.elements];
  try {
    await busy(submit, body.start ? 'Creating and starting…' : 'Creating…', async () => {
      for (const c of controls) if (c !== submit) c.setAttribute('aria-disabled', 'true');
      step(body.start ? 'Creating the bot and starting its container… this can take a minute.' : 'Creating the bot…');
      const { bot } = await api('/bots', { method: 'POST', body });
      const final = body.start ? await watchStart(bot) : bot;
      if (final === null) return;
      flash(`Bot “${bot.name}” created${body.start ? '' : ' (not started)'}.`);
      step('Done. Opening the bot page…');
      location.assign(pageUrl('/bot.html', { id: bot.id }));
    });
  } catch (err) {
    setText(progress, '');
    if (err.redirecting) return;
    const leftover = err.fields ? showFieldErrors(form, err.fields) : [];
    const extra = leftover.length ? ` ${leftover.join(' ')}` : '';
    showMessage(errorBox, err.fields ? `${err.message} See the messages below each field.${extra}` : `${errorText(err)}${extra}`, 'error');
    if (!err.fields) errorBox.focus();
  } finally {
    for (const c of controls) c.removeAttribute('aria-disabled');
  }
});

load();
