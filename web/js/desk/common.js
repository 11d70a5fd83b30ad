// What the trading desk's views share: the bot's reads through the portal, failures in words,
// key/value lists and small value formatters for Freqtrade's answers.
import { api, seg, ApiError } from '../api.js';
import { h, fill } from '../dom.js';
import { errorText } from '../ui.js';
import { num, money, percent, signClass } from '../format.js';

/** GET /bots/{id}/<path>; the bot's data comes through the portal's bridge and cache. */
export function botGet(botId, path) {
  return api(`/bots/${seg(botId)}${path}`);
}

/**
 * A failure of a request to a bot, in words. The portal's own message is kept, but the three
 * answers that mean "the bot, not the portal" get a sentence that says what to do about them.
 */
export function deskErrorText(err) {
  if (err instanceof ApiError) {
    if (err.status === 409 && err.code === 'bot_not_running') return 'The bot is not running: start it to see this.';
    if (err.status === 502) return `The bot's API is not reachable right now (it may still be starting). ${err.message}`;
    if (err.status === 504) return `The bot took too long to answer. Try again in a moment. ${err.message}`;
    if (err.status === 403) return 'Your role cannot do that: only owners and operators change bots.';
    if (err.status === 404 && err.code === 'not_found') return `Not found: ${err.message}`;
  }
  return errorText(err);
}

/** Shows a read's failure in place of a view's content. */
export function failedView(container, what, err) {
  if (err?.redirecting) return;
  fill(container, h('p', { class: 'msg msg--error', role: 'alert' }, `Could not load ${what}: ${deskErrorText(err)}`));
}

export function kv(label, value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value ?? '—'));
}

export const pctOf = (ratio) => (num(ratio) === null ? null : num(ratio) * 100);

/** A signed profit: amount and percent (Freqtrade gives either *_pct or a ratio). */
export function profitCell(abs, pct, currency = null) {
  const parts = [];
  if (num(abs) !== null) parts.push(money(abs, currency, { signed: true }));
  if (num(pct) !== null) parts.push(parts.length ? `(${percent(pct)})` : percent(pct));
  return h('span', { class: signClass(num(abs) ?? num(pct)) }, parts.length ? parts.join(' ') : '—');
}

/** A price: Freqtrade rates can be tiny (SHIB/USDT) or large (BTC/USDT). */
export function rate(value) {
  const n = num(value);
  if (n === null) return '—';
  const abs = Math.abs(n);
  const digits = abs >= 1000 ? 2 : abs >= 1 ? 4 : 8;
  return n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: Math.min(2, digits) });
}

/** Seconds as "2h 5m" (Freqtrade's /stats durations are seconds). */
export function seconds(value) {
  const n = num(value);
  if (n === null) return '—';
  const total = Math.round(n);
  const d = Math.floor(total / 86400);
  const hrs = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  if (d > 0) return `${d}d ${hrs}h`;
  if (hrs > 0) return `${hrs}h ${m}m`;
  if (m > 0) return `${m}m ${total % 60}s`;
  return `${total}s`;
}

/** The portal's list answers wrap Freqtrade's bare arrays; accept both shapes. */
export function listOf(body, key) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body[key])) return body[key];
  return [];
}

export function hint(text) {
  return h('p', { class: 'card__hint' }, text);
}
