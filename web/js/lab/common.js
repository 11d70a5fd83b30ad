// What the lab's views share: backtest states in words, the metrics and how each reads, field
// errors for nested names ("tuning.stoploss"), a progress bar, and a poll loop that stops itself.
import { h } from '../dom.js';
import { badge } from '../ui.js';
import { num, money, percent, duration, shortDateTime } from '../format.js';

/* ---------- backtest states ---------- */

const STATES = {
  queued: ['Queued', 'idle'],
  downloading: ['Downloading data', 'busy'],
  running: ['Running', 'busy'],
  succeeded: ['Succeeded', 'ok'],
  failed: ['Failed', 'bad'],
  cancelled: ['Cancelled', 'idle'],
};

export const isActive = (bt) => ['queued', 'downloading', 'running'].includes(bt?.status);

export function statusBadge(status) {
  const [word, tone] = STATES[status] ?? [String(status ?? 'Unknown'), 'idle'];
  const el = badge(word, tone);
  el.dataset.status = status ?? '';
  return el;
}

/**
 * elapsed / limit as a native <progress> (screen readers announce it) with the same words
 * beside it. The time limit is what the portal allows; a run usually ends well before it.
 */
export function progressBar(bt, labelId) {
  const elapsed = Math.max(0, num(bt?.progress?.elapsedSeconds) ?? 0);
  const limit = num(bt?.progress?.timeLimitSeconds);
  const words = limit ? `${duration(elapsed * 1000)} of at most ${duration(limit * 1000)}` : `${duration(elapsed * 1000)} so far`;
  const bar = h('progress', { class: 'lab-progress', max: String(limit || 1), value: String(limit ? Math.min(elapsed, limit) : 0), 'aria-labelledby': labelId ?? null });
  if (!limit) bar.removeAttribute('value'); // no limit known: an indeterminate bar
  return { bar, words };
}

/* ---------- names ---------- */

/** "custom:MyStrat@<sha>" → "MyStrat (custom)"; a shipped name stays as it is. */
export function strategyLabel(ref) {
  const text = String(ref ?? '');
  if (!text.startsWith('custom:')) return text || '—';
  return `${text.slice('custom:'.length).split('@')[0]} (custom)`;
}

export const shortVersion = (version) => (version ? String(version).slice(0, 12) : '—');

const dayFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });

/** "20261201-20261205" → "1 Dec 2026 – 5 Dec 2026"; a replay's "<epoch s>-<epoch s>" → times. */
export function timerangeLabel(text) {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{4})(\d{2})(\d{2})$/.exec(String(text ?? ''));
  if (m) {
    const a = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    const b = new Date(Date.UTC(+m[4], +m[5] - 1, +m[6]));
    return `${dayFmt.format(a)} – ${dayFmt.format(b)}`;
  }
  const s = /^(\d{9,11})-(\d{9,11})$/.exec(String(text ?? ''));
  if (s) return `${shortDateTime(Number(s[1]) * 1000)} – ${shortDateTime(Number(s[2]) * 1000)}`;
  return text ? String(text) : '—';
}

/** The quote currency of the pairs ("BTC/USDT" → "USDT"): what the wallet and profits are in. */
export function quoteCurrency(bt) {
  const pair = (bt?.pairs ?? [])[0];
  return typeof pair === 'string' && pair.includes('/') ? pair.split('/')[1].split(':')[0] : '';
}

/* ---------- metrics ---------- */

const ratioPct = (v, opts) => (num(v) === null ? '—' : percent(num(v) * 100, opts));
const plain = (v) => (num(v) === null ? '—' : num(v).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
const minutes = (v) => (num(v) === null ? '—' : duration(num(v) * 60000));

/**
 * Every metric the result carries, in the order shown, with how it reads and which way is
 * better (for the comparison's highlight); `null` means neither (more trades is not better).
 */
export const METRICS = [
  { key: 'profitTotalAbs', label: 'Profit', better: 'high', format: (v, cur) => money(v, cur, { signed: true }), signed: true },
  { key: 'profitTotal', label: 'Profit %', better: 'high', format: (v) => ratioPct(v), signed: true },
  { key: 'cagr', label: 'CAGR', better: 'high', format: (v) => ratioPct(v), signed: true },
  { key: 'winRate', label: 'Win rate', better: 'high', format: (v) => ratioPct(v, { signed: false }) },
  { key: 'maxDrawdown', label: 'Max drawdown', better: 'low', format: (v) => ratioPct(v, { signed: false }) },
  { key: 'maxDrawdownAbs', label: 'Max drawdown (amount)', better: 'low', format: (v, cur) => money(v, cur) },
  { key: 'sharpe', label: 'Sharpe', better: 'high', format: plain },
  { key: 'sortino', label: 'Sortino', better: 'high', format: plain },
  { key: 'calmar', label: 'Calmar', better: 'high', format: plain },
  { key: 'profitFactor', label: 'Profit factor', better: 'high', format: plain },
  { key: 'expectancy', label: 'Expectancy (per trade)', better: 'high', format: (v, cur) => money(v, cur, { signed: true }), signed: true },
  { key: 'tradeCount', label: 'Trades', better: null, format: (v) => (num(v) === null ? '—' : String(num(v))) },
  { key: 'avgDurationMinutes', label: 'Average trade duration', better: null, format: minutes },
  { key: 'startingBalance', label: 'Starting balance', better: null, format: (v, cur) => money(v, cur) },
  { key: 'finalBalance', label: 'Final balance', better: 'high', format: (v, cur) => money(v, cur) },
  { key: 'marketChange', label: 'Market change', better: null, format: (v) => ratioPct(v), signed: true },
];

/* ---------- field errors for nested names ---------- */

/**
 * Shows each `fields` entry under its control: the slot whose data-error-for is the whole name
 * ("tuning.stoploss"), else the nearest parent name ("tuning.protections[1].tradeLimit" →
 * "tuning.protections" → "tuning"). The controls described by that slot get aria-invalid and the
 * first one the focus. Returns the messages that had no place, to show at the top.
 */
export function showNestedFieldErrors(form, fields) {
  const slots = new Map([...form.querySelectorAll('[data-error-for]')].map((el) => [el.dataset.errorFor, el]));
  const leftover = [];
  let first = null;
  for (const [rawName, message] of Object.entries(fields ?? {})) {
    const parts = String(rawName).replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
    let slot = null;
    for (let n = parts.length; n > 0 && !slot; n -= 1) slot = slots.get(parts.slice(0, n).join('.')) ?? null;
    if (!slot) { leftover.push(`${rawName}: ${message}`); continue; }
    slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : String(message);
    slot.hidden = false;
    const controls = slot.id ? [...form.querySelectorAll('[aria-describedby]')].filter((c) => c.getAttribute('aria-describedby').split(/\s+/).includes(slot.id)) : [];
    for (const c of controls) c.setAttribute('aria-invalid', 'true');
    if (!first && controls[0] && !controls[0].closest('[hidden]')) first = controls[0];
  }
  if (first) {
    first.closest('details')?.setAttribute('open', '');
    first.focus();
  }
  return leftover;
}

/* ---------- polling ---------- */

/**
 * Runs `work` now and again every `ms` for as long as it resolves true; a hidden tab skips
 * rounds. `work` shows its own failures (and returns true to keep trying).
 */
export function poll(ms, work) {
  let timer = null;
  let stopped = false;
  async function tick() {
    timer = null;
    if (stopped) return;
    let again = true;
    if (!document.hidden) {
      try { again = await work(); } catch { again = true; }
    }
    if (!stopped && again) timer = setTimeout(tick, ms);
  }
  tick();
  return { stop() { stopped = true; clearTimeout(timer); } };
}

/** A key/value row for <dl class="kv">, with a data-metric hook for each metric. */
export function metricItem(label, value, key, className = null) {
  return h('div', { 'data-metric': key ?? null }, h('dt', {}, label), h('dd', { class: className }, value ?? '—'));
}
