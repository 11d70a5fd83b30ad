// The Result tab: one backtest (GET /backtests/{id}). While it runs, its progress; once done,
// every metric, the equity curve, the per-pair and exit-reason tables, the trades a page at a
// time, and "Run as dry-run bot" (owners and admins) which starts a bot with the same settings.
import { h, fill, setText, pageUrl } from '../dom.js';
import { busy, showMessage, clearMessage, clearFieldErrors, showFieldErrors, errorText, table, toast, flash } from '../ui.js';
import { money, percent, num, amount, shortDateTime, dateTime, duration, signClass, mb } from '../format.js';
import { rate } from '../desk/common.js';
import { labApi } from './api.js';
import { drawEquity } from './equity.js';
import {
  METRICS, isActive, statusBadge, progressBar, strategyLabel, shortVersion, timerangeLabel, quoteCurrency, poll, metricItem,
} from './common.js';

const POLL_MS = 2000;
export const TRADES_PAGE = 50;

const pct = (ratio, opts) => (num(ratio) === null ? '—' : percent(num(ratio) * 100, opts));
const signed = (value, text) => h('span', { class: signClass(value) }, text);
const kv = (label, value) => h('div', {}, h('dt', {}, label), h('dd', {}, value ?? '—'));

/** The tuning a backtest ran with, in words (only what was changed from the strategy). */
function tuningWords(t) {
  if (!t || typeof t !== 'object' || !Object.keys(t).length) return 'None: the strategy as written';
  const parts = [];
  if (t.minimalRoi) parts.push(`ROI ${Object.entries(t.minimalRoi).sort((a, b) => a[0] - b[0]).map(([m, r]) => `${pct(r, { signed: false })} after ${m} min`).join(', ')}`);
  if (num(t.stoploss) !== null) parts.push(`stop-loss ${pct(t.stoploss)}`);
  if (t.trailingStop !== undefined) parts.push(`trailing stop ${t.trailingStop ? 'on' : 'off'}`);
  if (num(t.trailingStopPositive) !== null) parts.push(`trail at ${pct(t.trailingStopPositive, { signed: false })}`);
  if (num(t.trailingStopPositiveOffset) !== null) parts.push(`from ${pct(t.trailingStopPositiveOffset, { signed: false })} profit`);
  if (t.trailingOnlyOffsetIsReached !== undefined) parts.push(`only past the offset: ${t.trailingOnlyOffsetIsReached ? 'yes' : 'no'}`);
  if (Array.isArray(t.protections)) parts.push(t.protections.length ? `protections: ${t.protections.map((p) => p.method).join(', ')}` : 'no protections');
  for (const [space, values] of Object.entries(t.params ?? {})) {
    for (const [name, value] of Object.entries(values ?? {})) parts.push(`${name} (${space}) = ${String(value)}`);
  }
  return parts.join('; ');
}

/** The settings a backtest ran with: what a bot made from it would get. */
export function settingsList(bt) {
  const cur = quoteCurrency(bt);
  return h('dl', { class: 'kv kv--wide', 'data-testid': 'backtest-settings' },
    kv('Strategy', strategyLabel(bt.strategy)),
    kv('Version', h('code', { title: bt.strategyVersion ?? '' }, shortVersion(bt.strategyVersion))),
    kv('Exchange', bt.exchange),
    kv('Pairs', h('span', { class: 'chips' }, (bt.pairs ?? []).map((p) => h('span', { class: 'chip' }, p)))),
    kv('Timeframe', bt.timeframe),
    kv('Time range', timerangeLabel(bt.timerange)),
    kv('Starting wallet', money(bt.dryRunWallet, cur)),
    kv('Stake per trade', bt.stakeAmount === 'unlimited' ? 'Unlimited' : money(bt.stakeAmount, cur)),
    kv('Max open trades', String(bt.maxOpenTrades ?? '—')),
    kv('Tuning', tuningWords(bt.tuning)),
    kv('Created', `${dateTime(bt.createdAt)}${bt.createdBy ? ` by ${bt.createdBy}` : ''}`),
    kv('Finished', bt.finishedAt ? dateTime(bt.finishedAt) : '—'));
}

/** Every metric of a result, each tagged data-metric="<key>". */
export function metricsList(metrics, cur) {
  const m = metrics ?? {};
  const items = METRICS.map((def) => {
    const value = m[def.key];
    let text = def.format(value, cur);
    if (def.key === 'winRate') text = `${text} (${m.wins ?? 0} won, ${m.draws ?? 0} even, ${m.losses ?? 0} lost)`;
    return metricItem(def.label, def.signed ? signed(value, text) : text, def.key);
  });
  items.push(metricItem('Backtest from', dateTime(m.backtestStart), 'backtestStart'));
  items.push(metricItem('Backtest to', dateTime(m.backtestEnd), 'backtestEnd'));
  return h('dl', { class: 'kv kv--wide lab-metrics', 'data-testid': 'metrics' }, items);
}

function pairsTable(rows, cur) {
  if (!rows?.length) return h('p', { class: 'card__hint' }, 'No trades, so no pairs to show.');
  return h('div', { class: 'table-wrap' }, table({
    columns: [{ label: 'Pair' }, { label: 'Trades', num: true }, { label: `Profit (${cur})`, num: true }, { label: 'Average profit', num: true },
      { label: 'Win rate', num: true }, { label: 'Average duration', num: true }],
    rows: rows.map((r) => ({
      rowProps: { 'data-pair': r.pair },
      cells: [h('span', { class: 'chip' }, r.pair), String(r.trades ?? 0), signed(r.profitTotalAbs, money(r.profitTotalAbs, null, { signed: true })),
        signed(r.profitMean, pct(r.profitMean)), pct(r.winRate, { signed: false }),
        num(r.avgDurationMinutes) === null ? '—' : duration(num(r.avgDurationMinutes) * 60000)],
    })),
  }));
}

function exitsTable(rows, cur) {
  if (!rows?.length) return h('p', { class: 'card__hint' }, 'No exits.');
  return h('div', { class: 'table-wrap' }, table({
    columns: [{ label: 'Exit reason' }, { label: 'Trades', num: true }, { label: `Profit (${cur})`, num: true },
      { label: 'Won', num: true }, { label: 'Even', num: true }, { label: 'Lost', num: true }],
    rows: rows.map((r) => ({
      rowProps: { 'data-reason': r.reason },
      cells: [r.reason, String(r.trades ?? 0), signed(r.profitTotalAbs, money(r.profitTotalAbs, null, { signed: true })),
        String(r.wins ?? 0), String(r.draws ?? 0), String(r.losses ?? 0)],
    })),
  }));
}

/** The trades a page at a time; `onPage(n)` redraws. Returns the page shown (from 0). */
function tradesView(container, trades, page, cur, onPage) {
  if (!trades?.length) { fill(container, h('p', { class: 'card__hint' }, 'The strategy made no trades in this range.')); return 0; }
  const pages = Math.max(1, Math.ceil(trades.length / TRADES_PAGE));
  const current = Math.min(Math.max(0, page), pages - 1);
  const shown = trades.slice(current * TRADES_PAGE, (current + 1) * TRADES_PAGE);
  const pager = h('nav', { class: 'pager', 'aria-label': 'Trade pages' },
    h('button', { type: 'button', class: 'btn btn--small', disabled: current === 0, 'data-page': 'previous', onclick: () => onPage(current - 1) }, '‹ Earlier'),
    h('span', { class: 'note', 'data-testid': 'trades-page' }, `Page ${current + 1} of ${pages} · trades ${current * TRADES_PAGE + 1}–${current * TRADES_PAGE + shown.length} of ${trades.length}`),
    h('button', { type: 'button', class: 'btn btn--small', disabled: current >= pages - 1, 'data-page': 'next', onclick: () => onPage(current + 1) }, 'Later ›'));
  fill(container, h('div', { class: 'table-wrap' }, table({
    columns: [{ label: 'Pair' }, { label: 'Opened', nowrap: true }, { label: 'Closed', nowrap: true }, { label: 'Held', nowrap: true },
      { label: 'Open rate', num: true }, { label: 'Close rate', num: true }, { label: 'Stake', num: true },
      { label: `Profit (${cur})`, num: true }, { label: 'Profit %', num: true }, { label: 'Exit reason' }, { label: 'Entry tag' }],
    rows: shown.map((t) => ({
      cells: [h('span', { class: 'chip' }, t.pair), shortDateTime(t.openDate), shortDateTime(t.closeDate),
        num(t.durationMinutes) === null ? '—' : duration(num(t.durationMinutes) * 60000),
        rate(t.openRate), rate(t.closeRate), amount(t.stakeAmount),
        signed(t.profitAbs, money(t.profitAbs, null, { signed: true })), signed(t.profitRatio, pct(t.profitRatio)),
        t.exitReason ?? '—', t.enterTag || '—'],
    })),
  })), pages > 1 ? pager : null);
  return current;
}

let catalogPromise = null;
const catalog = () => (catalogPromise ??= labApi.catalog().catch((err) => { catalogPromise = null; throw err; }));

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,30}$/;
const slugify = (text) => text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 31).replace(/-+$/, '');

function dialogField(id, name, label, control, hintText = null) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control,
    hintText ? h('p', { class: 'hint', id: `${id}-hint` }, hintText) : null,
    h('p', { class: 'field-error', id: `${id}-err`, 'data-error-for': name, hidden: true }));
}

/** The "Run as dry-run bot" dialog: a name, an id and a size (as the new-bot form), then the new bot's page. */
async function runAsBot(bt, opener) {
  const message = h('div', { class: 'msg msg--error', role: 'alert', hidden: true });
  const startName = `${strategyLabel(bt.strategy).replace(' (custom)', '')} from backtest`.slice(0, 64);
  const name = h('input', { id: 'rb-name', name: 'name', type: 'text', maxlength: '64', required: true, value: startName, 'aria-describedby': 'rb-name-err' });
  const botIdInput = h('input', { id: 'rb-id', name: 'id', type: 'text', maxlength: '31', required: true, autocapitalize: 'none', spellcheck: 'false',
    value: slugify(startName), 'aria-describedby': 'rb-id-hint rb-id-err' });
  const size = h('select', { id: 'rb-size', name: 'size', 'aria-describedby': 'rb-size-hint rb-size-err' }, h('option', { value: 'small' }, 'Small'));
  const submit = h('button', { type: 'submit', class: 'btn btn--primary', 'data-action': 'run-as-bot-confirm' }, 'Create and start bot');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { class: 'dialog__body', novalidate: true },
    h('h2', { id: 'rb-title' }, 'Run as a dry-run bot'),
    h('p', {}, `A new bot with this backtest's settings: ${strategyLabel(bt.strategy)} on ${(bt.pairs ?? []).join(', ')}, ${bt.timeframe}, its wallet, stake and tuning. It paper-trades on live market data; no real money.`),
    message,
    dialogField('rb-name', 'name', 'Bot name', name),
    dialogField('rb-id', 'id', 'Bot ID', botIdInput, 'Lowercase letters, digits and dashes; it cannot be changed later.'),
    dialogField('rb-size', 'size', 'Size', size, 'Memory and CPU for the bot.'),
    h('div', { class: 'dialog__actions' }, cancel, submit));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'rb-title', id: 'run-as-bot-dialog' }, form);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => { dialog.remove(); opener?.focus(); });
  // The id follows the name until it is edited, as on the new-bot form.
  let idEdited = false;
  botIdInput.addEventListener('input', () => { idEdited = true; });
  name.addEventListener('input', () => { if (!idEdited) botIdInput.value = slugify(name.value); });
  document.body.append(dialog);
  dialog.showModal();
  name.focus();
  name.select();
  catalog().then((c) => {
    const sizes = Array.isArray(c?.sizes) ? c.sizes : [];
    if (!sizes.length) return;
    fill(size, sizes.map((s) => h('option', { value: s.id }, `${s.id.charAt(0).toUpperCase()}${s.id.slice(1)} · ${mb(s.memoryMB)} · ${s.cpus} CPU`)));
    size.value = sizes.some((s) => s.id === 'small') ? 'small' : sizes[0].id;
  }).catch(() => { /* the default size stays offered; the portal validates it */ });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    clearMessage(message);
    const body = { id: botIdInput.value.trim(), name: name.value.trim(), size: size.value };
    const local = {};
    if (!body.name) local.name = 'Give the bot a name.';
    if (!ID_PATTERN.test(body.id)) local.id = 'Use 1 to 31 lowercase letters, digits or dashes, starting with a letter or digit.';
    if (Object.keys(local).length) { showFieldErrors(form, local); return; }
    try {
      const bot = await busy(submit, 'Creating…', () => labApi.botFromBacktest(bt.id, body));
      flash(`Bot “${bot?.name ?? body.name}” created from backtest ${bt.id}.`);
      location.assign(pageUrl('/bot.html', { id: bot?.id ?? body.id }));
    } catch (err) {
      if (err.redirecting) return;
      const leftover = err.fields ? showFieldErrors(form, err.fields) : [];
      showMessage(message, [errorText(err), ...leftover].join(' '), 'error');
    }
  });
}

/**
 * The result view in `container`. `show(id)` loads (and polls while the backtest runs);
 * `onChanged()` is told when a backtest it shows finishes, so the history can refresh.
 */
export function createResultView({ container, manager, onChanged }) {
  let loop = null;
  let currentId = null;
  let tradesPage = 0;
  let drawn = null; // the status last drawn, so a finished result is drawn once

  function empty() {
    fill(container, h('div', { class: 'card' }, h('p', { class: 'card__hint' },
      'Choose a backtest in the history (View) to see its result here.')));
  }

  function renderRunning(bt) {
    const { bar, words } = progressBar(bt, 'result-progress-words');
    const cancel = manager ? h('button', { type: 'button', class: 'btn', 'data-action': 'cancel-backtest' }, 'Cancel backtest') : null;
    const msg = h('div', { class: 'msg msg--error', role: 'alert', hidden: true });
    cancel?.addEventListener('click', async () => {
      try {
        await busy(cancel, 'Cancelling…', () => labApi.cancelBacktest(bt.id));
        toast(`Backtest ${bt.id} cancelled.`);
        show(bt.id, { keepPage: true });
        onChanged?.();
      } catch (err) {
        if (!err.redirecting) showMessage(msg, `Could not cancel: ${errorText(err)}`, 'error');
      }
    });
    fill(container, h('section', { class: 'card', 'aria-labelledby': 'h-result', 'data-status': bt.status },
      h('div', { class: 'card__head' }, h('h2', { id: 'h-result' }, `Backtest ${bt.id}`), statusBadge(bt.status)),
      h('div', { class: 'lab-running' }, bar, h('p', { id: 'result-progress-words', class: 'note', role: 'status' }, `${bt.phase ?? bt.status} · ${words}`)),
      h('p', { class: 'card__hint' }, 'The result shows here when the backtest finishes. You can leave this page; it keeps running.'),
      msg, cancel ? h('div', { class: 'btn-row' }, cancel) : null,
      settingsList(bt)));
  }

  function renderFinished(bt) {
    const cur = quoteCurrency(bt);
    const r = bt.result;
    const head = h('div', { class: 'card__head' },
      h('div', { class: 'card__title' }, h('h2', { id: 'h-result' }, `${strategyLabel(bt.strategy)} · ${timerangeLabel(bt.timerange)}`), statusBadge(bt.status)),
      manager && bt.status === 'succeeded' && !bt.botId
        ? h('button', { type: 'button', class: 'btn btn--primary', 'data-action': 'run-as-bot' }, 'Run as dry-run bot') : null);
    const runButton = head.querySelector('[data-action="run-as-bot"]');
    runButton?.addEventListener('click', () => runAsBot(bt, runButton));
    const parts = [h('section', { class: 'card', 'aria-labelledby': 'h-result', 'data-status': bt.status, 'data-backtest-id': bt.id }, head,
      bt.status === 'failed' ? h('p', { class: 'msg msg--error', 'data-testid': 'backtest-error' }, bt.error || 'The backtest failed.') : null,
      bt.status === 'cancelled' ? h('p', { class: 'msg msg--warn' }, 'This backtest was cancelled before it finished.') : null,
      bt.status === 'succeeded' && !r ? h('p', { class: 'msg msg--warn' }, 'The backtest finished but its result is not available.') : null,
      settingsList(bt))];
    if (r) {
      const equityBox = h('div', { class: 'lab-chart', id: 'result-equity' });
      const tradesBox = h('div', { id: 'result-trades' });
      parts.push(
        h('section', { class: 'card', 'aria-labelledby': 'h-metrics' }, h('div', { class: 'card__head' }, h('h2', { id: 'h-metrics' }, 'Metrics')),
          metricsList(r.metrics, cur)),
        h('section', { class: 'card', 'aria-labelledby': 'h-equity' }, h('div', { class: 'card__head' }, h('h2', { id: 'h-equity' }, 'Equity curve'),
          h('span', { class: 'note' }, `Wallet balance in ${cur || 'the quote currency'} after each closed trade`)), equityBox,
          h('p', { class: 'note', id: 'result-equity-words' })),
        h('div', { class: 'grid grid--2' },
          h('section', { class: 'card', 'aria-labelledby': 'h-pairs' }, h('div', { class: 'card__head' }, h('h2', { id: 'h-pairs' }, 'Per pair')),
            h('div', { id: 'result-pairs' }, pairsTable(r.pairs, cur))),
          h('section', { class: 'card', 'aria-labelledby': 'h-exits' }, h('div', { class: 'card__head' }, h('h2', { id: 'h-exits' }, 'Exit reasons')),
            h('div', { id: 'result-exits' }, exitsTable(r.exitReasons, cur)))),
        h('section', { class: 'card', 'aria-labelledby': 'h-trades' }, h('div', { class: 'card__head' }, h('h2', { id: 'h-trades' }, 'Trades'),
          h('span', { class: 'note' }, `${(r.trades ?? []).length} trade${(r.trades ?? []).length === 1 ? '' : 's'}`)), tradesBox));
      fill(container, parts);
      const words = drawEquity(equityBox, [{ label: strategyLabel(bt.strategy), equity: r.equity }], { currency: cur });
      setText(container.querySelector('#result-equity-words'), words ?? '');
      const drawTrades = (page) => {
        tradesPage = tradesView(tradesBox, r.trades ?? [], page, cur, (next) => {
          drawTrades(next);
          tradesBox.querySelector(`[data-page="${next > page ? 'next' : 'previous'}"]:not([disabled])`)?.focus();
        });
      };
      drawTrades(tradesPage);
    } else {
      fill(container, parts);
    }
  }

  async function load(id) {
    try {
      const bt = await labApi.backtest(id);
      if (id !== currentId) return false;
      document.title = `Backtest ${bt.id} · Strategy lab · fta`;
      if (isActive(bt)) {
        renderRunning(bt);
        drawn = bt.status;
        return true;
      }
      if (drawn !== `done:${bt.status}`) {
        const wasRunning = drawn !== null;
        drawn = `done:${bt.status}`;
        renderFinished(bt);
        if (wasRunning) onChanged?.();
      }
      return false;
    } catch (err) {
      if (err.redirecting || id !== currentId) return false;
      if (err.status === 404) {
        fill(container, h('div', { class: 'msg msg--error', role: 'alert' }, `Backtest ${id} does not exist, or it is not yours to see. It may have been deleted.`));
        return false;
      }
      const again = h('button', { type: 'button', class: 'btn btn--small' }, 'Try again');
      again.addEventListener('click', () => show(id));
      if (!drawn) fill(container, h('div', { class: 'msg msg--error', role: 'alert' }, h('span', {}, `Could not load backtest ${id}: ${errorText(err)} `), again));
      return true;
    }
  }

  function show(id, { keepPage = false } = {}) {
    loop?.stop();
    if (!id) { currentId = null; empty(); return; }
    if (id !== currentId || !keepPage) { tradesPage = 0; }
    if (id !== currentId) {
      fill(container, h('p', { class: 'msg msg--plain', role: 'status' }, `Loading backtest ${id}…`));
    }
    currentId = id;
    drawn = null;
    loop = poll(POLL_MS, () => load(id));
  }

  return { show, stop() { loop?.stop(); }, get id() { return currentId; } };
}
