// The Backtests tab: the new-backtest form (owners and admins) and the history of backtests
// with their progress, cancel, delete and the choice of 2 to 4 to compare.
import { h, fill, setText } from '../dom.js';
import { busy, showMessage, clearMessage, clearFieldErrors, errorText, confirmDialog, toast, spinner } from '../ui.js';
import { money, percent, num, shortDateTime } from '../format.js';
import { labApi } from './api.js';
import { createTuning } from './tuning.js';
import { isActive, statusBadge, progressBar, strategyLabel, timerangeLabel, quoteCurrency, showNestedFieldErrors, poll } from './common.js';

const HISTORY_MS = 2000;
export const COMPARE_MAX = 4;

/* ---------- dates: the form's UTC days ↔ the API's YYYYMMDD-YYYYMMDD ---------- */

const isoDay = (date) => date.toISOString().slice(0, 10);
const todayUtc = () => isoDay(new Date());
const daysAgo = (n) => isoDay(new Date(Date.now() - n * 86400000));
const compact = (day) => day.replaceAll('-', '');

function fillSelect(select, items, preferred) {
  fill(select, items.map((item) => h('option', { value: item.value }, item.label)));
  const values = items.map((i) => i.value);
  select.value = values.includes(preferred) ? preferred : (values[0] ?? '');
}

/* ---------- the form ---------- */

/**
 * The new-backtest form (HTML in web/lab.html). Options come from GET /catalog (exchanges and
 * timeframes, as the new-bot form) and GET /strategies (shipped and the client's valid custom
 * ones). The form keeps its values whatever happens, so a failed request loses nothing and a
 * second run differs from the first only in what the person changes.
 */
export function createBacktestForm({ form, errorBox, loadingEl, admin, onCreated }) {
  const el = form.elements;
  const submit = form.querySelector('#bt-submit');
  const progress = form.querySelector('#bt-progress');
  const tuning = createTuning({ container: form.querySelector('#tuning-body'), details: form.querySelector('#bt-tuning') });

  el.start.value = daysAgo(30);
  el.end.value = todayUtc();
  el.start.max = todayUtc();
  el.end.max = todayUtc();
  el.stakeUnlimited.addEventListener('change', () => { el.stakeAmount.disabled = el.stakeUnlimited.checked; });
  el.strategy.addEventListener('change', () => tuning.setStrategy(el.strategy.value));

  /** Fills the strategy choice, keeping the current one when it is still offered. */
  function setStrategies(list) {
    const current = el.strategy.value;
    const shipped = (list?.shipped ?? []).map((s) => ({ value: s.name, label: s.displayName ? `${s.displayName} (${s.name})` : s.name }));
    // An operator's list holds every client's uploads; a backtest names a strategy without a
    // client, so the operator is offered the shipped ones (their uploads are each client's own).
    const custom = admin ? [] : (list?.custom ?? []).filter((s) => s.status === 'valid')
      .map((s) => ({ value: `custom:${s.name}`, label: `${s.name} (custom)` }));
    const groups = [];
    if (shipped.length) groups.push(h('optgroup', { label: 'Shipped with fta' }, shipped.map((o) => h('option', { value: o.value }, o.label))));
    if (custom.length) groups.push(h('optgroup', { label: 'Your strategies' }, custom.map((o) => h('option', { value: o.value }, o.label))));
    fill(el.strategy, groups);
    const values = [...shipped, ...custom].map((o) => o.value);
    el.strategy.value = values.includes(current) ? current : (values[0] ?? '');
    tuning.setStrategy(el.strategy.value);
  }

  async function load() {
    try {
      const [catalog, strategies] = await Promise.all([labApi.catalog(), labApi.strategies()]);
      fillSelect(el.exchange, (catalog.exchanges ?? []).map((x) => ({ value: x, label: x })), 'binance');
      fillSelect(el.timeframe, (catalog.timeframes ?? []).map((x) => ({ value: x, label: x })), '5m');
      setStrategies(strategies);
      loadingEl.hidden = true;
      form.hidden = false;
      return { catalog, strategies };
    } catch (err) {
      if (err.redirecting) return null;
      setText(loadingEl, '');
      loadingEl.hidden = true;
      showMessage(errorBox, `The backtest options could not be loaded: ${errorText(err)} Reload the page to try again.`, 'error');
      return null;
    }
  }

  function readForm() {
    const body = {
      strategy: el.strategy.value,
      pairs: el.pairs.value.split(/[\s,;]+/).map((p) => p.trim().toUpperCase()).filter(Boolean),
      timeframe: el.timeframe.value,
      timerange: `${compact(el.start.value)}-${compact(el.end.value)}`,
      dryRunWallet: Number(el.dryRunWallet.value),
      stakeAmount: el.stakeUnlimited.checked ? 'unlimited' : el.stakeAmount.value.trim().replace(',', '.'),
      maxOpenTrades: Number(el.maxOpenTrades.value),
      exchange: el.exchange.value,
    };
    return body;
  }

  /** What the browser can check without the portal; the portal stays the authority. */
  function localErrors(body) {
    const errors = {};
    if (!body.strategy) errors.strategy = 'Choose a strategy.';
    if (!body.pairs.length) errors.pairs = 'Enter at least one pair, like BTC/USDT.';
    if (!el.start.value || !el.end.value) errors.timerange = 'Choose both days.';
    else if (el.start.value >= el.end.value) errors.timerange = 'The first day must come before the last.';
    else if (el.end.value > todayUtc()) errors.timerange = 'The range cannot end after today (UTC).';
    if (!(body.dryRunWallet > 0)) errors.dryRunWallet = 'Enter a starting balance above 0.';
    if (body.stakeAmount !== 'unlimited' && !(Number(body.stakeAmount) > 0)) errors.stakeAmount = 'Enter a stake above 0, or choose unlimited.';
    if (!Number.isInteger(body.maxOpenTrades) || body.maxOpenTrades < 1) errors.maxOpenTrades = 'Enter a whole number, 1 or more.';
    return errors;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    clearMessage(errorBox);
    const body = readForm();
    const { tuning: tuned, errors: tuningErrors } = tuning.read();
    const local = { ...localErrors(body), ...tuningErrors };
    if (Object.keys(local).length) {
      showNestedFieldErrors(form, local);
      showMessage(errorBox, 'Some fields need attention; see the messages next to each one.', 'error');
      return;
    }
    if (tuned) body.tuning = tuned;
    try {
      const created = await busy(submit, 'Starting…', async () => {
        fill(progress, spinner(), 'Queueing the backtest…');
        return labApi.createBacktest(body);
      });
      setText(progress, '');
      toast(`Backtest of ${strategyLabel(created?.strategy ?? body.strategy)} queued.`);
      onCreated(created);
    } catch (err) {
      setText(progress, '');
      if (err.redirecting) return;
      const leftover = err.fields ? showNestedFieldErrors(form, err.fields) : [];
      const extra = leftover.length ? ` ${leftover.join(' ')}` : '';
      showMessage(errorBox, err.fields ? `${err.message} See the messages next to the fields.${extra}` : `${errorText(err)}${extra}`, 'error');
      // Field errors take the focus to the first field; anything else to the message.
      if (!err.fields || leftover.length === Object.keys(err.fields).length) errorBox.focus();
    }
  });

  return { load, setStrategies };
}

/* ---------- the history ---------- */

/**
 * GET /backtests as a table whose rows are kept (keyed by id) and updated in place, so focus,
 * checkboxes and screen-reader position survive the 2-second refresh while any runs.
 */
export function createHistory({ container, note, message, compareButton, compareNote, manager, onOpen, onCompare }) {
  const rows = new Map();
  const chosen = []; // ids picked for comparison, in the order picked
  let loop = null;
  let tbody = null;
  let list = [];

  function updateCompare() {
    const n = chosen.length;
    compareButton.disabled = n < 2;
    setText(compareButton, n ? `Compare selected (${n})` : 'Compare selected');
    setText(compareNote, n === 1 ? 'Pick at least one more to compare.' : n >= COMPARE_MAX ? `${COMPARE_MAX} picked: the most that compare at once.` : '');
    // Only finished, successful backtests have metrics to compare.
    for (const row of rows.values()) {
      row.pick.disabled = !row.pick.checked && (n >= COMPARE_MAX || row.bt?.status !== 'succeeded');
    }
  }

  compareButton.addEventListener('click', () => { if (chosen.length >= 2) onCompare([...chosen]); });

  function createRow(bt) {
    const id = bt.id;
    const pick = h('input', { type: 'checkbox', id: `pick-${id}`, 'data-testid': 'compare-pick', checked: chosen.includes(id) });
    const pickLabel = h('label', { for: `pick-${id}`, class: 'visually-hidden' }, `Compare backtest ${id}`);
    pick.addEventListener('change', () => {
      const at = chosen.indexOf(id);
      if (pick.checked && at < 0) chosen.push(id);
      if (!pick.checked && at >= 0) chosen.splice(at, 1);
      updateCompare();
    });
    const view = h('a', { href: `/lab.html?id=${encodeURIComponent(id)}#result`, class: 'btn btn--small', 'data-action': 'open-result' }, 'View');
    view.addEventListener('click', (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      onOpen(id);
    });
    const cancel = manager ? h('button', { type: 'button', class: 'btn btn--small', 'data-action': 'cancel-backtest' }, 'Cancel') : null;
    const remove = manager ? h('button', { type: 'button', class: 'btn btn--small btn--danger', 'data-action': 'delete-backtest' }, 'Delete') : null;
    cancel?.addEventListener('click', () => cancelBacktest(row, cancel));
    remove?.addEventListener('click', () => deleteBacktest(row, remove));
    const cells = {
      what: h('td', {}),
      status: h('td', {}),
      progress: h('td', { class: 'lab-history__progress' }),
      outcome: h('td', { class: 'num' }),
      actions: h('td', {}, h('div', { class: 'btn-row' }, view, cancel, remove)),
    };
    const tr = h('tr', { 'data-backtest-id': id }, h('td', {}, pick, pickLabel), cells.what, cells.status, cells.progress, cells.outcome, cells.actions);
    const row = { id, tr, pick, view, cancel, remove, cells, bt: null, shown: '' };
    cancel?.setAttribute('aria-label', `Cancel backtest ${id}`);
    remove?.setAttribute('aria-label', `Delete backtest ${id}`);
    view.setAttribute('aria-label', `View backtest ${id}`);
    return row;
  }

  function updateRow(row, bt) {
    row.bt = bt;
    // Redraw a cell only when what it shows changed: the row is the same element throughout.
    const key = JSON.stringify([bt.status, bt.phase, bt.progress, bt.error, bt.summary, bt.strategy, bt.timerange]);
    if (key !== row.shown) {
      row.shown = key;
      fill(row.cells.what,
        h('strong', {}, strategyLabel(bt.strategy)), bt.botId ? [' ', h('span', { class: 'tag' }, `replay of ${bt.botId}`)] : null,
        h('span', { class: 'lab-sub' }, `${(bt.pairs ?? []).join(', ')} · ${bt.timeframe ?? ''} · ${bt.exchange ?? ''}`),
        h('span', { class: 'lab-sub' }, timerangeLabel(bt.timerange)),
        h('span', { class: 'lab-sub' }, `${shortDateTime(bt.createdAt)}${bt.createdBy ? ` by ${bt.createdBy}` : ''} · `, h('code', {}, bt.id)));
      // The phase says where a running one is ("downloading data", "waiting for memory"...).
      fill(row.cells.status, statusBadge(bt.status), isActive(bt) ? h('span', { class: 'lab-sub', 'data-testid': 'phase' }, bt.phase ?? '') : null);
      if (isActive(bt)) {
        const labelId = `progress-${bt.id}`;
        const { bar, words } = progressBar(bt, labelId);
        fill(row.cells.progress, bar, h('span', { class: 'lab-sub', id: labelId }, words));
      } else if (bt.status === 'failed') {
        fill(row.cells.progress, h('span', { class: 'lab-error-text' }, bt.error || 'Failed.'));
      } else {
        fill(row.cells.progress, h('span', { class: 'lab-sub' }, bt.finishedAt ? `Finished ${shortDateTime(bt.finishedAt)}` : ''));
      }
      const s = bt.summary;
      const cur = quoteCurrency(bt);
      fill(row.cells.outcome, s ? [
        h('span', { class: num(s.profitTotalAbs) > 0 ? 'pos' : num(s.profitTotalAbs) < 0 ? 'neg' : '' }, money(s.profitTotalAbs, cur, { signed: true })),
        h('span', { class: 'lab-sub' }, `${percent(num(s.profitTotal) === null ? null : num(s.profitTotal) * 100)} · ${s.tradeCount ?? 0} trades`),
      ] : '—');
    }
    // A running one opens too: its view shows the progress until the result is there.
    if (row.cancel) row.cancel.hidden = !isActive(bt);
  }

  async function cancelBacktest(row, button) {
    clearMessage(message);
    try {
      const bt = await busy(button, 'Cancelling…', () => labApi.cancelBacktest(row.id));
      toast(`Backtest ${row.id} cancelled.`);
      if (bt && bt.id) updateRow(row, bt);
      row.remove?.focus();
    } catch (err) {
      if (err.redirecting) return;
      showMessage(message, `Could not cancel backtest ${row.id}: ${errorText(err)}`, 'error');
    }
    refresh();
  }

  async function deleteBacktest(row, button) {
    clearMessage(message);
    const ok = await confirmDialog({
      title: `Delete backtest ${row.id}?`,
      message: [`${strategyLabel(row.bt?.strategy)} on ${(row.bt?.pairs ?? []).join(', ')}, ${timerangeLabel(row.bt?.timerange)}.`,
        isActive(row.bt) ? 'It is still running: it is cancelled first.' : 'Its results are removed.'],
      confirmLabel: 'Delete backtest', danger: true,
    });
    if (!ok) return;
    try {
      await busy(button, 'Deleting…', () => labApi.deleteBacktest(row.id));
      const at = chosen.indexOf(row.id);
      if (at >= 0) chosen.splice(at, 1);
      const index = list.findIndex((b) => b.id === row.id);
      rows.delete(row.id);
      row.tr.remove();
      list = list.filter((b) => b.id !== row.id);
      toast(`Backtest ${row.id} deleted.`);
      // The focus goes to the next row's first control, not back to the top of the page.
      const next = list[index] ?? list[index - 1];
      (next ? rows.get(next.id)?.view : null)?.focus();
      updateCompare();
      if (!list.length) render();
    } catch (err) {
      if (err.redirecting) return;
      showMessage(message, `Could not delete backtest ${row.id}: ${errorText(err)}`, 'error');
    }
  }

  function render() {
    if (!list.length) {
      tbody = null;
      rows.clear();
      fill(container, h('p', { class: 'card__hint' }, manager
        ? 'No backtests yet. Choose a strategy above and run one.'
        : 'No backtests yet. Owners of this client run them; they show here.'));
      return;
    }
    if (!tbody) {
      rows.clear();
      tbody = h('tbody', {});
      fill(container, h('div', { class: 'table-wrap' }, h('table', { class: 'table lab-history' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Compare')),
          h('th', { scope: 'col' }, 'Backtest'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Progress'),
          h('th', { scope: 'col', class: 'num' }, 'Outcome'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
        tbody)));
    }
    const seen = new Set();
    list.forEach((bt, i) => {
      seen.add(bt.id);
      let row = rows.get(bt.id);
      if (!row) { row = createRow(bt); rows.set(bt.id, row); }
      updateRow(row, bt);
      // Move a row only when it is out of place: moving the row that holds the focus drops it.
      if (tbody.children[i] !== row.tr) tbody.insertBefore(row.tr, tbody.children[i] ?? null);
    });
    for (const [id, row] of rows) {
      if (!seen.has(id)) { row.tr.remove(); rows.delete(id); const at = chosen.indexOf(id); if (at >= 0) chosen.splice(at, 1); }
    }
    updateCompare();
  }

  async function load() {
    try {
      const body = await labApi.backtests();
      list = Array.isArray(body?.backtests) ? body.backtests : [];
      clearMessage(message);
      render();
      const running = list.filter(isActive).length;
      note.className = 'note';
      setText(note, running ? `${running} running or queued · refreshing every 2 s` : `${list.length} backtest${list.length === 1 ? '' : 's'} · updated ${shortDateTime(new Date())}`);
      return running > 0;
    } catch (err) {
      if (err.redirecting) return false;
      note.className = 'note note--bad';
      setText(note, `Could not refresh the backtests: ${errorText(err)} Retrying…`);
      return true;
    }
  }

  /** Loads now, and keeps refreshing while any backtest is queued or running. */
  function refresh() {
    loop?.stop();
    loop = poll(HISTORY_MS, load);
  }

  return {
    refresh,
    stop() { loop?.stop(); },
    get list() { return list; },
    /** Picks backtests for comparison (from the URL), in order. */
    pick(ids) {
      chosen.splice(0, chosen.length, ...ids.slice(0, COMPARE_MAX));
      for (const [id, row] of rows) row.pick.checked = chosen.includes(id);
      updateCompare();
    },
  };
}
