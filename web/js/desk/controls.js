// The trading desk's controls: built only for owners and admins (the page never calls these for
// a viewer, and the portal refuses every one of them to a viewer with 403 anyway). Each shows
// progress while its request runs and its failure in words; each is audited by the portal.
import { api, seg } from '../api.js';
import { h, fill, pageUrl } from '../dom.js';
import { busy, spinner, toast, confirmDialog, showMessage, clearMessage, clearFieldErrors, showFieldErrors } from '../ui.js';
import { mb } from '../format.js';
import { deskErrorText } from './common.js';

/**
 * ctx: { botId, bot() → the current BotView, progress (element), setBot(bot), refresh(what) }.
 * `what` names the views to reload after a change: 'trades', 'locks', 'blacklist', 'bot'.
 */

/** Runs a control: busy button, a progress line, the failure in `messageEl`, a toast on success. */
async function run(ctx, button, { busyLabel, doing, done, messageEl, work, after = [] }) {
  clearMessage(messageEl);
  fill(ctx.progress, spinner(), doing);
  try {
    const result = await busy(button, busyLabel, work);
    toast(typeof done === 'function' ? done(result) : done);
    return result;
  } catch (err) {
    if (err?.redirecting) return undefined;
    showMessage(messageEl, deskErrorText(err), 'error');
    throw err;
  } finally {
    ctx.progress.textContent = '';
    for (const what of after) ctx.refresh(what);
  }
}

const quiet = (promise) => promise.catch(() => undefined);
const botPath = (ctx, path) => `/bots/${seg(ctx.botId)}${path}`;

/* ---------- entries: pause, resume; exits: one, all ---------- */

export function tradingControls(ctx, messageEl) {
  const pause = h('button', { type: 'button', class: 'btn', 'data-action': 'pause-entries' }, 'Pause entries');
  const resume = h('button', { type: 'button', class: 'btn', 'data-action': 'resume-entries' }, 'Resume entries');
  const exitAll = h('button', { type: 'button', class: 'btn btn--danger', 'data-action': 'exit-all' }, 'Exit all trades');
  pause.addEventListener('click', () => quiet(run(ctx, pause, {
    busyLabel: 'Pausing…', doing: 'Pausing entries: the bot keeps managing its open trades but opens no new ones…', done: 'Entries paused.',
    messageEl, work: () => api(botPath(ctx, '/trading/pause'), { method: 'POST' }), after: ['config'],
  })));
  resume.addEventListener('click', () => quiet(run(ctx, resume, {
    busyLabel: 'Resuming…', doing: 'Resuming entries…', done: 'Entries resumed.',
    messageEl, work: () => api(botPath(ctx, '/trading/start'), { method: 'POST' }), after: ['config'],
  })));
  exitAll.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Exit every open trade?',
      message: ['The bot sells every open position at the market price now (paper trading: no real money moves).',
        'Profits and losses become final.'],
      confirmLabel: 'Exit all trades', danger: true,
    });
    if (!ok) return;
    await quiet(run(ctx, exitAll, {
      busyLabel: 'Exiting…', doing: 'Asking the bot to exit every open trade…', done: 'Exit of all trades requested.',
      messageEl, work: () => api(botPath(ctx, '/trades/exit-all'), { method: 'POST' }), after: ['trades'],
    }));
  });
  return h('div', { class: 'btn-row', role: 'group', 'aria-label': 'Trading controls' }, pause, resume, exitAll);
}

export function forceExitButton(ctx, trade, messageEl) {
  const button = h('button', { type: 'button', class: 'btn btn--small btn--danger', 'data-action': 'force-exit', 'data-trade-id': trade.trade_id }, 'Exit');
  button.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Exit trade #${trade.trade_id} (${trade.pair})?`,
      message: 'The bot sells this position at the market price now.',
      confirmLabel: 'Exit trade', danger: true,
    });
    if (!ok) return;
    await quiet(run(ctx, button, {
      busyLabel: 'Exiting…', doing: `Asking the bot to exit trade #${trade.trade_id}…`, done: `Exit of trade #${trade.trade_id} requested.`,
      messageEl, work: () => api(botPath(ctx, `/trades/${seg(trade.trade_id)}/exit`), { method: 'POST' }), after: ['trades'],
    }));
  });
  return button;
}

/* ---------- locks ---------- */

export function lockForm(ctx, messageEl) {
  const pair = h('select', { id: 'lock-pair', name: 'pair', 'aria-describedby': 'lock-pair-err' });
  const minutes = h('input', { id: 'lock-minutes', name: 'minutes', type: 'number', min: '1', max: '10080', step: '1', value: '60', required: true, 'aria-describedby': 'lock-minutes-err' });
  const reason = h('input', { id: 'lock-reason', name: 'reason', type: 'text', maxlength: '100', placeholder: 'optional', 'aria-describedby': 'lock-reason-err' });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary', 'data-action': 'lock' }, 'Lock pair');
  const field = (id, label, control, name) => h('div', { class: 'field' }, h('label', { for: id }, label), control,
    h('p', { class: 'field-error', id: `${id}-err`, 'data-error-for': name, hidden: true }));
  const form = h('form', { class: 'inline-form desk-form', novalidate: true, 'aria-label': 'Lock a pair' },
    field('lock-pair', 'Pair', pair, 'pair'), field('lock-minutes', 'Minutes (1 to 10080)', minutes, 'minutes'),
    field('lock-reason', 'Reason', reason, 'reason'), h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const m = Number(minutes.value);
    if (!Number.isInteger(m) || m < 1 || m > 10080) { showFieldErrors(form, { minutes: 'Enter whole minutes from 1 to 10080 (a week).' }); return; }
    const body = { pair: pair.value, minutes: m, side: '*' };
    if (reason.value.trim()) body.reason = reason.value.trim();
    try {
      await run(ctx, submit, {
        busyLabel: 'Locking…', doing: `Locking ${body.pair} for ${m} minutes…`, done: `${body.pair} locked for ${m} minutes.`,
        messageEl, work: () => api(botPath(ctx, '/locks'), { method: 'POST', body }), after: ['locks'],
      });
      reason.value = '';
    } catch (err) {
      if (err?.fields) showFieldErrors(form, err.fields);
    }
  });
  return {
    form,
    setPairs(pairs) {
      const current = pair.value;
      fill(pair, pairs.map((p) => h('option', { value: p }, p)));
      if (pairs.includes(current)) pair.value = current;
    },
  };
}

export function unlockButton(ctx, lock, messageEl) {
  const button = h('button', { type: 'button', class: 'btn btn--small', 'data-action': 'unlock', 'data-lock-id': lock.id }, 'Unlock');
  button.addEventListener('click', () => quiet(run(ctx, button, {
    busyLabel: 'Unlocking…', doing: `Unlocking ${lock.pair}…`, done: `${lock.pair} unlocked.`,
    messageEl, work: () => api(botPath(ctx, `/locks/${seg(lock.id)}`), { method: 'DELETE' }), after: ['locks'],
  })));
  return button;
}

/* ---------- blacklist ---------- */

const PAIR_SPLIT = /[\s,;]+/;

export function blacklistForm(ctx, messageEl) {
  const input = h('input', { id: 'bl-pairs', name: 'pairs', type: 'text', autocapitalize: 'characters', spellcheck: 'false', placeholder: 'DOGE/USDT, SHIB/USDT', 'aria-describedby': 'bl-pairs-hint bl-pairs-err' });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary', 'data-action': 'blacklist-add' }, 'Add to blacklist');
  const form = h('form', { class: 'desk-form', novalidate: true, 'aria-label': 'Add pairs to the blacklist' },
    h('div', { class: 'field' }, h('label', { for: 'bl-pairs' }, 'Pairs to blacklist'),
      h('div', { class: 'input-row' }, input, submit),
      h('p', { class: 'hint', id: 'bl-pairs-hint' }, 'The bot opens no new trade in a blacklisted pair. Up to 20 pairs, separated by commas.'),
      h('p', { class: 'field-error', id: 'bl-pairs-err', 'data-error-for': 'pairs', hidden: true })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const pairs = input.value.split(PAIR_SPLIT).map((p) => p.trim().toUpperCase()).filter(Boolean);
    if (!pairs.length || pairs.length > 20) { showFieldErrors(form, { pairs: 'Enter 1 to 20 pairs, like DOGE/USDT.' }); return; }
    try {
      await run(ctx, submit, {
        busyLabel: 'Adding…', doing: `Adding ${pairs.join(', ')} to the blacklist…`, done: `Blacklisted ${pairs.join(', ')}.`,
        messageEl, work: () => api(botPath(ctx, '/blacklist'), { method: 'POST', body: { pairs } }), after: ['blacklist'],
      });
      input.value = '';
    } catch (err) {
      if (err?.fields) showFieldErrors(form, err.fields);
    }
  });
  return form;
}

export function blacklistRemoveButton(ctx, pair, messageEl) {
  const button = h('button', { type: 'button', class: 'btn btn--small btn--link', 'data-action': 'blacklist-remove', 'aria-label': `Remove ${pair} from the blacklist` }, 'Remove');
  button.addEventListener('click', () => quiet(run(ctx, button, {
    busyLabel: 'Removing…', doing: `Removing ${pair} from the blacklist…`, done: `${pair} removed from the blacklist.`,
    messageEl, work: () => api(botPath(ctx, `/blacklist?${new URLSearchParams({ pair })}`), { method: 'DELETE' }), after: ['blacklist'],
  })));
  return button;
}

/* ---------- edit settings (PATCH /bots/{id}) ---------- */

function fieldRow(id, name, label, control, hintText = null, span = false) {
  return h('div', { class: span ? 'field span-2' : 'field' },
    h('label', { for: id }, label), control,
    hintText ? h('p', { class: 'hint', id: `${id}-hint` }, hintText) : null,
    h('p', { class: 'field-error', id: `${id}-err`, 'data-error-for': name, hidden: true }));
}

function options(select, values, chosen) {
  const list = values.map((v) => (typeof v === 'object' ? v : { value: v, label: v }));
  if (chosen && !list.some((o) => o.value === chosen)) list.unshift({ value: chosen, label: chosen });
  fill(select, list.map((o) => h('option', { value: o.value }, o.label)));
  select.value = chosen ?? list[0]?.value ?? '';
}

/**
 * The settings form: the fields of create (web/bot-new.html) that a bot may change. Only the
 * fields that differ from the stored bot are sent; the portal validates like create and keeps
 * them for the next start ("restart to apply" while the bot runs).
 */
export function settingsForm(ctx, messageEl) {
  const el = {
    name: h('input', { id: 'e-name', name: 'name', type: 'text', maxlength: '64', required: true, 'aria-describedby': 'e-name-err' }),
    pairs: h('input', { id: 'e-pairs', name: 'pairs', type: 'text', autocapitalize: 'characters', spellcheck: 'false', 'aria-describedby': 'e-pairs-hint e-pairs-err' }),
    stakeAmount: h('input', { id: 'e-stakeAmount', name: 'stakeAmount', type: 'text', inputmode: 'decimal', 'aria-describedby': 'e-stakeAmount-hint e-stakeAmount-err' }),
    stakeUnlimited: h('input', { id: 'e-stakeUnlimited', name: 'stakeUnlimited', type: 'checkbox' }),
    dryRunWallet: h('input', { id: 'e-dryRunWallet', name: 'dryRunWallet', type: 'number', min: '1', step: 'any', 'aria-describedby': 'e-dryRunWallet-err' }),
    maxOpenTrades: h('input', { id: 'e-maxOpenTrades', name: 'maxOpenTrades', type: 'number', min: '1', step: '1', 'aria-describedby': 'e-maxOpenTrades-err' }),
    timeframe: h('select', { id: 'e-timeframe', name: 'timeframe', 'aria-describedby': 'e-timeframe-err' }),
    strategy: h('select', { id: 'e-strategy', name: 'strategy', 'aria-describedby': 'e-strategy-err' }),
    size: h('select', { id: 'e-size', name: 'size', 'aria-describedby': 'e-size-err' }),
  };
  el.stakeUnlimited.addEventListener('change', () => { el.stakeAmount.disabled = el.stakeUnlimited.checked; });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary', 'data-action': 'save-settings' }, 'Save settings');
  const reset = h('button', { type: 'button', class: 'btn' }, 'Undo changes');
  const form = h('form', { class: 'form', id: 'settings-form', novalidate: true, 'aria-label': 'Edit settings' },
    h('div', { class: 'form-grid' },
      fieldRow('e-name', 'name', 'Name', el.name),
      fieldRow('e-timeframe', 'timeframe', 'Timeframe', el.timeframe),
      fieldRow('e-pairs', 'pairs', 'Pairs', el.pairs, 'Separate pairs with commas, for example BTC/USDT, ETH/USDT.', true),
      h('div', { class: 'field' }, h('label', { for: 'e-stakeAmount' }, 'Stake per trade'), el.stakeAmount,
        h('label', { class: 'check', for: 'e-stakeUnlimited' }, el.stakeUnlimited, ' Unlimited'),
        h('p', { class: 'hint', id: 'e-stakeAmount-hint' }, 'In the stake currency.'),
        h('p', { class: 'field-error', id: 'e-stakeAmount-err', 'data-error-for': 'stakeAmount', hidden: true })),
      fieldRow('e-dryRunWallet', 'dryRunWallet', 'Dry-run wallet', el.dryRunWallet),
      fieldRow('e-maxOpenTrades', 'maxOpenTrades', 'Max open trades', el.maxOpenTrades),
      fieldRow('e-strategy', 'strategy', 'Strategy', el.strategy),
      fieldRow('e-size', 'size', 'Size', el.size)),
    h('div', { class: 'form-actions' }, submit, reset));

  let catalog = null;
  let shown = null; // the bot the form was filled from

  function fillFrom(bot) {
    shown = bot;
    el.name.value = bot.name ?? '';
    el.pairs.value = (bot.pairs ?? []).join(', ');
    const unlimited = bot.stakeAmount === 'unlimited';
    el.stakeUnlimited.checked = unlimited;
    el.stakeAmount.disabled = unlimited;
    el.stakeAmount.value = unlimited ? '' : String(bot.stakeAmount ?? '');
    el.dryRunWallet.value = String(bot.dryRunWallet ?? '');
    el.maxOpenTrades.value = String(bot.maxOpenTrades ?? '');
    options(el.timeframe, catalog?.timeframes ?? [], bot.timeframe);
    options(el.strategy, (catalog?.strategies ?? []).map((s) => ({ value: s.id, label: s.name || s.id })), bot.strategy);
    options(el.size, (catalog?.sizes ?? []).map((s) => ({ value: s.id, label: `${s.id} · ${mb(s.memoryMB)} · ${s.cpus} CPU` })), bot.size);
    clearFieldErrors(form);
  }

  /** The changed fields only, in the API's names and types. */
  function changes() {
    const bot = shown ?? ctx.bot();
    const body = {};
    const name = el.name.value.trim();
    if (name !== bot.name) body.name = name;
    const pairs = el.pairs.value.split(PAIR_SPLIT).map((p) => p.trim().toUpperCase()).filter(Boolean);
    if (pairs.join(',') !== (bot.pairs ?? []).join(',')) body.pairs = pairs;
    const stake = el.stakeUnlimited.checked ? 'unlimited' : el.stakeAmount.value.trim().replace(',', '.');
    if (stake !== String(bot.stakeAmount)) body.stakeAmount = stake;
    const wallet = Number(el.dryRunWallet.value);
    if (wallet !== Number(bot.dryRunWallet)) body.dryRunWallet = wallet;
    const maxOpen = Number(el.maxOpenTrades.value);
    if (maxOpen !== Number(bot.maxOpenTrades)) body.maxOpenTrades = maxOpen;
    for (const key of ['timeframe', 'strategy', 'size']) if (el[key].value !== bot[key]) body[key] = el[key].value;
    return body;
  }

  function localErrors(body) {
    const errors = {};
    if ('name' in body && !body.name) errors.name = 'Give the bot a name.';
    if ('pairs' in body && !body.pairs.length) errors.pairs = 'Enter at least one pair, like BTC/USDT.';
    if ('stakeAmount' in body && body.stakeAmount !== 'unlimited' && !(Number(body.stakeAmount) > 0)) errors.stakeAmount = 'Enter a stake above 0, or choose unlimited.';
    if ('dryRunWallet' in body && !(body.dryRunWallet > 0)) errors.dryRunWallet = 'Enter a starting balance above 0.';
    if ('maxOpenTrades' in body && (!Number.isInteger(body.maxOpenTrades) || body.maxOpenTrades < 1)) errors.maxOpenTrades = 'Enter a whole number, 1 or more.';
    return errors;
  }

  reset.addEventListener('click', () => fillFrom(ctx.bot()));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    clearMessage(messageEl);
    const body = changes();
    if (!Object.keys(body).length) { showMessage(messageEl, 'Nothing changed: edit a field first.', 'info'); return; }
    const local = localErrors(body);
    if (Object.keys(local).length) { showFieldErrors(form, local); showMessage(messageEl, 'Some fields need attention; see the messages below each one.', 'error'); return; }
    try {
      const res = await run(ctx, submit, {
        busyLabel: 'Saving…', doing: 'Saving the settings…',
        done: (r) => (r?.bot?.pendingRestart ? 'Settings saved. Restart the bot to apply them.' : 'Settings saved.'),
        messageEl, work: () => api(botPath(ctx, ''), { method: 'PATCH', body }),
      });
      if (res?.bot) { ctx.setBot(res.bot); fillFrom(res.bot); }
    } catch (err) {
      if (err?.fields) {
        const leftover = showFieldErrors(form, err.fields);
        const sentence = /[.!?]$/.test(err.message) ? err.message : `${err.message}.`;
        showMessage(messageEl, `${sentence} See the messages below each field.${leftover.length ? ` ${leftover.join(' ')}` : ''}`, 'error');
      }
    }
  });

  return {
    form,
    async load() {
      try { catalog = await api('/catalog'); } catch (err) {
        if (!err?.redirecting) showMessage(messageEl, `The choices for timeframe, strategy and size could not be loaded: ${deskErrorText(err)}`, 'warn');
      }
      fillFrom(ctx.bot());
    },
    /** Refills from a newer bot only when nobody is editing (the form still shows the old one). */
    sync(bot) {
      if (!shown || !Object.keys(changes()).length) fillFrom(bot);
    },
  };
}

/* ---------- clone ---------- */

export function cloneForm(ctx, messageEl) {
  const id = h('input', { id: 'cl-id', name: 'id', type: 'text', maxlength: '31', autocapitalize: 'none', spellcheck: 'false', pattern: '[a-z0-9][a-z0-9-]{0,30}', 'aria-describedby': 'cl-id-hint cl-id-err' });
  const name = h('input', { id: 'cl-name', name: 'name', type: 'text', maxlength: '64', 'aria-describedby': 'cl-name-err' });
  const start = h('input', { id: 'cl-start', name: 'start', type: 'checkbox' });
  const submit = h('button', { type: 'submit', class: 'btn', 'data-action': 'clone' }, 'Clone bot');
  const result = h('p', { class: 'note', role: 'status' });
  const form = h('form', { class: 'form desk-form', novalidate: true, 'aria-label': 'Clone this bot' },
    h('div', { class: 'form-grid' },
      fieldRow('cl-id', 'id', 'New bot ID', id, 'Lowercase letters, digits and dashes; up to 31 characters.'),
      fieldRow('cl-name', 'name', 'Name (optional)', name)),
    h('label', { class: 'check', for: 'cl-start' }, start, ' Start the copy right away'),
    h('div', { class: 'form-actions' }, submit), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    result.textContent = '';
    const body = { id: id.value.trim(), start: start.checked };
    if (name.value.trim()) body.name = name.value.trim();
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(body.id)) { showFieldErrors(form, { id: 'Use 1 to 31 lowercase letters, digits or dashes, starting with a letter or digit.' }); return; }
    try {
      const res = await run(ctx, submit, {
        busyLabel: 'Cloning…', doing: `Creating ${body.id} with this bot's settings…`, done: `Bot ${body.id} created as a copy.`,
        messageEl, work: () => api(botPath(ctx, '/clone'), { method: 'POST', body }),
      });
      const made = res?.bot ?? { id: body.id };
      fill(result, 'Created: ', h('a', { href: pageUrl('/bot.html', { id: made.id }), 'data-testid': 'clone-link' }, made.name || made.id), '.');
      id.value = '';
      name.value = '';
    } catch (err) {
      if (err?.fields) showFieldErrors(form, err.fields);
    }
  });
  return form;
}

/* ---------- reset the paper wallet ---------- */

/** A dialog that asks for the bot's id typed out, so a reset is never a slip of the mouse. */
function typedConfirm(botId) {
  return new Promise((resolve) => {
    const input = h('input', { id: 'wr-confirm', name: 'confirm', type: 'text', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', 'aria-describedby': 'wr-confirm-hint' });
    const ok = h('button', { type: 'submit', class: 'btn btn--danger-solid', value: 'confirm', disabled: true, 'data-action': 'wallet-reset-confirm' }, 'Reset the wallet');
    const cancel = h('button', { type: 'submit', class: 'btn', value: 'cancel' }, 'Cancel');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'wr-title', id: 'wallet-reset-dialog' },
      h('form', { method: 'dialog', class: 'dialog__body' },
        h('h2', { id: 'wr-title' }, 'Reset the paper wallet?'),
        h('p', {}, 'The bot stops if it runs, its trade history is archived in its volume, and it starts again with the full dry-run wallet and no trades.'),
        h('div', { class: 'field' }, h('label', { for: 'wr-confirm' }, 'Type the bot ID to confirm'), input,
          h('p', { class: 'hint', id: 'wr-confirm-hint' }, 'The bot ID is ', h('code', {}, botId), '.')),
        h('div', { class: 'dialog__actions' }, cancel, ok)));
    input.addEventListener('input', () => { ok.disabled = input.value.trim() !== botId; });
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm' ? input.value.trim() : null);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

export function walletResetButton(ctx, messageEl) {
  const button = h('button', { type: 'button', class: 'btn btn--danger', 'data-action': 'wallet-reset' }, 'Reset paper wallet…');
  button.addEventListener('click', async () => {
    const typed = await typedConfirm(ctx.botId);
    if (typed === null) return;
    try {
      const res = await run(ctx, button, {
        busyLabel: 'Resetting…', doing: 'Resetting the paper wallet: stopping the bot, archiving its trades and starting it again. This can take a minute…',
        done: (r) => `Wallet reset. Old trades archived${r?.archive ? ` (${r.archive})` : ''}.`,
        messageEl, work: () => api(botPath(ctx, '/wallet/reset'), { method: 'POST', body: { confirm: typed } }), after: ['trades', 'bot'],
      });
      if (res?.bot) ctx.setBot(res.bot);
      if (res?.archive) showMessage(messageEl, `The wallet was reset. The old trade history is kept in the bot's volume: ${res.archive}.`, 'ok');
    } catch { /* shown by run() */ }
  });
  return button;
}

/** Export: a plain link; the browser downloads the CSV attachment with the session cookie. */
export function exportLink(ctx) {
  return h('a', { class: 'btn', href: `/api/v1${botPath(ctx, '/trades.csv')}`, download: `fta-${ctx.botId}-trades.csv`, 'data-action': 'export-csv' }, 'Export trades (CSV)');
}
