// Shared UI pieces: badges, messages, busy buttons, field errors, dialogs, toasts, polling.
import { h, s, fill, setText } from './dom.js';
import { ApiError } from './api.js';

/* ---------- state badges: colour AND a word ---------- */

const BOT_STATES = {
  created: ['Created', 'idle'],
  starting: ['Starting', 'busy'],
  running: ['Running', 'ok'],
  stopping: ['Stopping', 'busy'],
  stopped: ['Stopped', 'idle'],
  failed: ['Failed', 'bad'],
  quarantined: ['Quarantined', 'bad'],
  deleting: ['Deleting', 'busy'],
};

export function stateWord(state) {
  return (BOT_STATES[state] ?? [String(state ?? 'Unknown')])[0];
}

export function stateBadge(state) {
  const [word, tone] = BOT_STATES[state] ?? [String(state ?? 'Unknown'), 'idle'];
  return h('span', { class: `badge badge--${tone}`, 'data-state': state ?? '' },
    h('span', { class: 'badge__dot', 'aria-hidden': 'true' }), word);
}

const CHECKS = { pass: ['Pass', 'ok'], warn: ['Warning', 'busy'], fail: ['Fail', 'bad'] };
export function checkBadge(status) {
  const [word, tone] = CHECKS[status] ?? [String(status), 'idle'];
  return h('span', { class: `badge badge--${tone}` }, h('span', { class: 'badge__dot', 'aria-hidden': 'true' }), word);
}

const OUTCOMES = { success: ['Success', 'ok'], failure: ['Failure', 'bad'], denied: ['Denied', 'busy'] };
export function outcomeBadge(outcome) {
  const [word, tone] = OUTCOMES[outcome] ?? [String(outcome), 'idle'];
  return h('span', { class: `badge badge--${tone}` }, h('span', { class: 'badge__dot', 'aria-hidden': 'true' }), word);
}

export function badge(word, tone = 'idle') {
  return h('span', { class: `badge badge--${tone}` }, h('span', { class: 'badge__dot', 'aria-hidden': 'true' }), word);
}

/* ---------- messages ---------- */

/** The words to show for any failure. API errors carry the API's own message. */
export function errorText(err) {
  if (err instanceof ApiError) return err.message;
  if (err && typeof err.message === 'string' && err.message) return `Something went wrong on this page: ${err.message}`;
  return 'Something went wrong on this page.';
}

/** Fills a `.msg` element (which carries role=status or role=alert in the HTML). */
export function showMessage(el, text, kind = 'info') {
  if (!el) return;
  el.className = `msg msg--${kind}`;
  setText(el, text);
  el.hidden = !text;
}
export function clearMessage(el) {
  if (!el) return;
  setText(el, '');
  el.hidden = true;
}
export function showError(el, err) {
  if (err?.redirecting) return;
  showMessage(el, errorText(err), 'error');
}

/* ---------- toasts (one polite live region for the whole page) ---------- */

let toastRegion = null;
let toastTimer = null;

/** The live region must exist before text goes in, or screen readers miss the first message. */
export function ensureToastRegion() {
  if (!toastRegion) {
    toastRegion = h('div', { class: 'toast-region' },
      h('div', { class: 'toast', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }));
    document.body.append(toastRegion);
    return true;
  }
  return false;
}

export function toast(text, kind = 'ok') {
  const fresh = ensureToastRegion();
  const el = toastRegion.firstElementChild;
  clearTimeout(toastTimer);
  const show = () => {
    el.className = kind === 'error' ? 'toast toast--error' : 'toast';
    el.textContent = text;
    toastTimer = setTimeout(() => { el.textContent = ''; }, 6000);
  };
  if (fresh) setTimeout(show, 100); else show();
}

/** A message carried to the next page of this tab (e.g. "bot deleted"); never a secret. */
export function flash(text) {
  try { sessionStorage.setItem('fta.flash', text); } catch { /* storage may be off */ }
}
export function showFlash() {
  let text = null;
  try { text = sessionStorage.getItem('fta.flash'); sessionStorage.removeItem('fta.flash'); } catch { /* ignore */ }
  if (text) toast(text);
}

/* ---------- busy buttons ---------- */

export function spinner() {
  return h('span', { class: 'spinner', 'aria-hidden': 'true' });
}

/** Disables a button and shows a spinner with `label` ("Stopping…") while `work` runs. */
export async function busy(button, label, work) {
  const original = [...button.childNodes];
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.replaceChildren(spinner(), label);
  try {
    return await work();
  } finally {
    button.removeAttribute('aria-busy');
    button.replaceChildren(...original);
    button.disabled = wasDisabled;
  }
}

/* ---------- form field errors from error.fields ---------- */

export function clearFieldErrors(form) {
  for (const el of form.querySelectorAll('[data-error-for]')) { el.textContent = ''; el.hidden = true; }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/**
 * Shows each `fields` entry under the matching control (`data-error-for="name"`); "pairs[1]" and
 * "pairs.1" go to "pairs". Returns the messages that had no place, to show at the top.
 */
export function showFieldErrors(form, fields) {
  const leftover = [];
  let first = null;
  for (const [rawName, message] of Object.entries(fields ?? {})) {
    const name = String(rawName).split(/[.[]/)[0];
    const slot = [...form.querySelectorAll('[data-error-for]')].find((el) => el.dataset.errorFor === name);
    if (!slot) { leftover.push(`${rawName}: ${message}`); continue; }
    slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : String(message);
    slot.hidden = false;
    const control = form.elements.namedItem(name);
    const controls = control instanceof RadioNodeList ? [...control] : control ? [control] : [];
    for (const c of controls) c.setAttribute('aria-invalid', 'true');
    if (!first && controls[0]) first = controls[0];
  }
  if (first) first.focus();
  return leftover;
}

/* ---------- dialogs ---------- */

/** A modal yes/no question; resolves true only when the confirm button is chosen. */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const cancel = h('button', { type: 'submit', class: 'btn', value: 'cancel', autofocus: true }, 'Cancel');
    const ok = h('button', { type: 'submit', class: danger ? 'btn btn--danger-solid' : 'btn btn--primary', value: 'confirm' }, confirmLabel);
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('form', { method: 'dialog', class: 'dialog__body' },
        h('h2', { id: titleId }, title),
        ...(Array.isArray(message) ? message : [message]).map((m) => (m instanceof Node ? m : h('p', {}, m))),
        h('div', { class: 'dialog__actions' }, cancel, ok)));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/* ---------- polling ---------- */

/**
 * Runs `work` now and then every `ms` after the previous run ended; pauses while the tab is
 * hidden. `work` must handle its own errors (it shows them in the page).
 */
export function every(ms, work) {
  let timer = null;
  let running = false;
  let stopped = false;
  async function tick() {
    timer = null;
    if (stopped || running) return;
    if (document.hidden) return;
    running = true;
    try { await work(); } catch { /* work reports its own errors */ } finally { running = false; }
    if (!stopped && !timer) timer = setTimeout(tick, ms);
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !timer && !running && !stopped) tick();
  });
  tick();
  return {
    stop() { stopped = true; clearTimeout(timer); timer = null; },
    now() { clearTimeout(timer); timer = null; tick(); },
  };
}

/* ---------- misc ---------- */

/** A random password from an unambiguous alphabet, using the browser's CSPRNG. */
export function generatePassword(length = 20) {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const out = [];
  const buf = new Uint8Array(64);
  while (out.length < length) {
    crypto.getRandomValues(buf);
    for (const b of buf) {
      // Rejection sampling keeps every character equally likely.
      if (b < 256 - (256 % alphabet.length) && out.length < length) out.push(alphabet[b % alphabet.length]);
    }
  }
  return out.join('');
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied to the clipboard.');
  } catch {
    toast('Copying is not available here; select the text and copy it.', 'error');
  }
}

/** A table with a header row; `rows` are arrays of cells (Node or text or {cell props}). */
export function table({ columns, rows, caption, className = 'table' }) {
  return h('table', { class: className },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', r.rowProps ?? {}, r.cells.map((cell, i) => {
      const col = columns[i] ?? {};
      return h('td', { class: [col.num ? 'num' : '', col.nowrap ? 'nowrap' : ''].filter(Boolean).join(' ') || null }, cell);
    })))));
}

export { fill, s };
