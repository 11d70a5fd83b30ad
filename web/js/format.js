// Formatting of numbers, money, dates and durations for display.

const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const shortFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** Parses an ISO string, a Freqtrade "YYYY-MM-DD HH:MM:SS" (UTC) string or epoch milliseconds. */
export function toDate(value) {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'number') return new Date(value);
  let text = String(value).trim();
  // Freqtrade writes naive UTC timestamps with a space; make them unambiguous ISO 8601.
  if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) text = `${text.replace(' ', 'T')}Z`;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function dateTime(value) {
  const d = toDate(value);
  return d ? dateTimeFmt.format(d) : '—';
}
export function shortDateTime(value) {
  const d = toDate(value);
  return d ? shortFmt.format(d) : '—';
}
export function timeOfDay(value) {
  const d = toDate(value);
  return d ? timeFmt.format(d) : '—';
}
export function day(value) {
  const d = toDate(value);
  return d ? dayFmt.format(d) : '';
}

/** "3d 4h", "5h 12m", "4m 10s", "12s". */
export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const total = Math.floor(ms / 1000);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/** Uptime of a bot: only meaningful while it runs. */
export function uptime(bot, now = Date.now()) {
  if (!bot || !['running', 'starting'].includes(bot.state)) return 'Not running';
  const started = toDate(bot.startedAt);
  return started ? duration(now - started.getTime()) : '—';
}

export function num(value) {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/** A plain number with sensible precision: small amounts keep more digits. */
export function amount(value, { signed = false } = {}) {
  const n = num(value);
  if (n === null) return '—';
  const abs = Math.abs(n);
  const digits = abs !== 0 && abs < 1 ? 6 : 2;
  const text = abs.toLocaleString(undefined, { minimumFractionDigits: Math.min(2, digits), maximumFractionDigits: digits });
  if (n < 0) return `−${text}`;
  return signed && n > 0 ? `+${text}` : text;
}

export function money(value, currency, opts) {
  const text = amount(value, opts);
  return text === '—' || !currency ? text : `${text} ${currency}`;
}

export function percent(value, { signed = true } = {}) {
  const n = num(value);
  if (n === null) return '—';
  const text = Math.abs(n).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  if (n < 0) return `−${text} %`;
  return signed && n > 0 ? `+${text} %` : `${text} %`;
}

/** CSS class for a signed value. */
export function signClass(value) {
  const n = num(value);
  if (n === null || n === 0) return '';
  return n > 0 ? 'pos' : 'neg';
}

export function mb(value) {
  const n = num(value);
  if (n === null) return '—';
  return n >= 1024 ? `${(n / 1024).toLocaleString(undefined, { maximumFractionDigits: 2 })} GB` : `${Math.round(n)} MB`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
