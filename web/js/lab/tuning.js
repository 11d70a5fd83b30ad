// The backtest form's "Tuning" section: the strategy's own ROI table, stop-loss, trailing stop,
// protections and hyperoptable parameters (GET /strategies/{name}/parameters), editable, and
// read back as the API's tuning object holding only what the person changed. Nothing changed
// means no tuning at all: the strategy runs exactly as written.
//
// Ratios are shown as percent (0.05 → 5) because that is how people think of them; they go back
// to ratios on the way out, rounded so that 7 % is 0.07 and not 0.07000000000000001.
import { h, fill, setText } from '../dom.js';
import { spinner, errorText } from '../ui.js';
import { num } from '../format.js';
import { labApi } from './api.js';

const MAX_ROI_STEPS = 12; // StrategyTuning.maxRoiSteps
const MAX_PROTECTIONS = 8; // StrategyTuning.maxProtections

const round = (x) => Math.round(x * 1e10) / 1e10;
const toPct = (ratio) => (num(ratio) === null ? '' : String(round(num(ratio) * 100)));
const toRatio = (pct) => round(pct / 100);

/* ---------- protections: the four kinds fta offers, with Freqtrade's fields ---------- */

const PROTECTION_FIELDS = {
  lookbackPeriodCandles: { label: 'Look back (candles)', type: 'int', snake: 'lookback_period_candles' },
  tradeLimit: { label: 'Trade limit', type: 'int', snake: 'trade_limit' },
  stopDurationCandles: { label: 'Pause for (candles)', type: 'int', snake: 'stop_duration_candles' },
  onlyPerPair: { label: 'Lock only the pair concerned', type: 'bool', snake: 'only_per_pair' },
  maxAllowedDrawdown: { label: 'Max allowed drawdown (%)', type: 'pct', snake: 'max_allowed_drawdown' },
  requiredProfit: { label: 'Required profit (%)', type: 'pct', snake: 'required_profit' },
};

export const PROTECTIONS = {
  StoplossGuard: {
    title: 'Stop-loss guard', desc: 'Pauses entries after too many stop-losses within the look-back.',
    defaults: { lookbackPeriodCandles: 24, tradeLimit: 2, stopDurationCandles: 12, onlyPerPair: false },
  },
  MaxDrawdown: {
    title: 'Max drawdown', desc: 'Pauses entries when the drawdown within the look-back goes over the limit.',
    defaults: { lookbackPeriodCandles: 48, tradeLimit: 5, stopDurationCandles: 12, maxAllowedDrawdown: 0.2 },
  },
  CooldownPeriod: {
    title: 'Cooldown period', desc: 'Waits this many candles before entering a pair again after an exit.',
    defaults: { stopDurationCandles: 2 },
  },
  LowProfitPairs: {
    title: 'Low-profit pairs', desc: 'Locks a pair whose trades within the look-back made less than the required profit.',
    defaults: { lookbackPeriodCandles: 60, tradeLimit: 2, stopDurationCandles: 60, requiredProfit: 0.02 },
  },
};

/** A protection as the strategy reports it (Freqtrade's snake_case, or camelCase) → ours. */
function normaliseProtection(p) {
  if (!p || typeof p !== 'object' || !PROTECTIONS[p.method]) return null;
  const out = { method: p.method };
  for (const key of Object.keys(PROTECTIONS[p.method].defaults)) {
    const spec = PROTECTION_FIELDS[key];
    const value = p[key] ?? p[spec.snake];
    if (value === undefined || value === null) continue;
    out[key] = spec.type === 'bool' ? Boolean(value) : num(value);
  }
  return out;
}

const sameProtections = (a, b) => JSON.stringify(a.map(canonical)) === JSON.stringify(b.map(canonical));
function canonical(p) {
  const out = { method: p.method };
  for (const key of Object.keys(PROTECTIONS[p.method]?.defaults ?? {})) {
    if (p[key] === undefined || p[key] === null) continue;
    out[key] = typeof p[key] === 'number' ? round(p[key]) : p[key];
  }
  return out;
}

function sameRoi(a, b) {
  const norm = (roi) => JSON.stringify(Object.entries(roi ?? {})
    .map(([m, r]) => [Number(m), round(Number(r))]).sort((x, y) => x[0] - y[0]));
  return norm(a) === norm(b);
}

/* ---------- small builders ---------- */

let seq = 0;
const uid = (prefix) => `${prefix}-${(seq += 1)}`;

function errorSlot(id, name) {
  return h('p', { class: 'field-error', id, 'data-error-for': name, hidden: true });
}

function numberField({ id, label, value, hint, errorId, errorFor, min, max, step = 'any', className = 'field' }) {
  const input = h('input', {
    id, type: 'number', step, min: min ?? null, max: max ?? null, value: value ?? '', inputmode: 'decimal',
    'aria-describedby': [hint ? `${id}-hint` : null, errorId].filter(Boolean).join(' '),
  });
  return {
    input,
    el: h('div', { class: className },
      h('label', { for: id }, label), input,
      hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
      errorFor ? errorSlot(errorId, errorFor) : null),
  };
}

function checkField({ id, label, checked, errorId }) {
  const input = h('input', { id, type: 'checkbox', checked: Boolean(checked), 'aria-describedby': errorId ?? null });
  return { input, el: h('label', { class: 'check', for: id }, input, ` ${label}`) };
}

/** "12" → 12; "" or junk → null. */
const readNumber = (input) => {
  const text = String(input.value ?? '').trim().replace(',', '.');
  if (text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : NaN;
};

/**
 * The tuning section in `container`. `setStrategy(ref)` follows the form's strategy choice;
 * the strategy's values are read when the section is open (`load()`). `read()` → {tuning, errors}.
 */
export function createTuning({ container, details }) {
  let name = null;       // the strategy whose values are shown ("FtaEmaCross", "MyStrat")
  let info = null;       // its parameters answer
  let loadingFor = null;
  let controller = null;
  let ui = null;         // the built controls
  const status = h('p', { class: 'note', role: 'status', 'aria-live': 'polite', 'data-testid': 'tuning-status' });

  function plainName(ref) {
    const text = String(ref ?? '');
    return text.startsWith('custom:') ? text.slice(7).split('@')[0] : text;
  }

  function setStrategy(ref) {
    const next = plainName(ref);
    if (next === name) return;
    name = next;
    info = null;
    ui = null;
    controller?.abort();
    loadingFor = null;
    if (details.open) load();
    else fill(container, h('p', { class: 'card__hint' }, `Open this section to see and change ${name}'s own values.`));
  }

  async function load() {
    if (!name || info || loadingFor === name) return;
    const wanted = name;
    loadingFor = wanted;
    controller?.abort();
    controller = new AbortController();
    fill(container, h('p', { class: 'progress-line' }, spinner(),
      `Reading ${wanted}'s own values… The first time for a strategy this can take about 20 seconds.`));
    try {
      const answer = await labApi.parameters(wanted, { signal: controller.signal });
      if (wanted !== name) return;
      info = answer;
      build();
    } catch (err) {
      if (err?.name === 'AbortError' || err?.redirecting || wanted !== name) return;
      const again = h('button', { type: 'button', class: 'btn btn--small', 'data-action': 'tuning-retry' }, 'Try again');
      again.addEventListener('click', () => load());
      const text = err?.status === 409
        ? `${wanted} is still being checked; its values can be tuned once it is valid. ${errorText(err)}`
        : `Could not read ${wanted}'s values: ${errorText(err)} The backtest can still run with the strategy as written.`;
      fill(container, h('div', { class: 'msg msg--error', role: 'alert' }, h('span', {}, text)), h('div', { class: 'btn-row' }, again));
    } finally {
      if (loadingFor === wanted) loadingFor = null;
    }
  }

  /* ---------- building the controls from the strategy's values ---------- */

  function build() {
    ui = { roiRows: [], protections: [], params: [] };
    const defaults = info;

    // ROI table
    const roiBody = h('tbody', {});
    const roiAdd = h('button', { type: 'button', class: 'btn btn--small', 'data-action': 'roi-add' }, 'Add a step');
    const addRoi = (minutes, ratio, focus = false) => {
      const id = uid('tn-roi');
      const m = h('input', { id: `${id}-minutes`, type: 'number', min: '0', step: '1', value: minutes ?? '', class: 'lab-roi__minutes', 'aria-describedby': 'tn-roi-err' });
      const p = h('input', { id: `${id}-pct`, type: 'number', step: 'any', value: toPct(ratio), class: 'lab-roi__pct', 'aria-describedby': 'tn-roi-err' });
      const row = { m, p };
      const remove = h('button', { type: 'button', class: 'btn btn--small btn--link', 'data-action': 'roi-remove' }, 'Remove');
      const tr = h('tr', {},
        h('td', {}, h('label', { class: 'visually-hidden', for: m.id }, 'After minutes'), m),
        h('td', {}, h('label', { class: 'visually-hidden', for: p.id }, 'Take profit at (%)'), p),
        h('td', {}, remove));
      row.tr = tr;
      remove.addEventListener('click', () => {
        const i = ui.roiRows.indexOf(row);
        ui.roiRows.splice(i, 1);
        tr.remove();
        roiAdd.disabled = ui.roiRows.length >= MAX_ROI_STEPS;
        const neighbour = ui.roiRows[i] ?? ui.roiRows[i - 1];
        if (neighbour) neighbour.m.focus(); else roiAdd.focus();
        changed();
      });
      remove.setAttribute('aria-label', 'Remove this ROI step');
      ui.roiRows.push(row);
      roiBody.append(tr);
      roiAdd.disabled = ui.roiRows.length >= MAX_ROI_STEPS;
      if (focus) m.focus();
    };
    for (const [minutes, ratio] of Object.entries(defaults.minimalRoi ?? {}).sort((a, b) => Number(a[0]) - Number(b[0]))) addRoi(minutes, ratio);
    roiAdd.addEventListener('click', () => addRoi('', '', true));

    // Stop-loss and trailing stop
    const stoploss = numberField({ id: 'tn-stoploss', label: 'Stop-loss (%)', value: toPct(defaults.stoploss), max: '0',
      hint: 'Negative: -10 sells a trade once it has lost 10 %.', errorId: 'tn-stoploss-err', errorFor: 'tuning.stoploss' });
    const trailing = checkField({ id: 'tn-trailingStop', label: 'Trailing stop: the stop-loss follows the price up', checked: defaults.trailingStop === true, errorId: 'tn-trailingStop-err' });
    const positive = numberField({ id: 'tn-trailingStopPositive', label: 'Trail at (%) once in profit', value: toPct(defaults.trailingStopPositive), min: '0',
      hint: 'Empty: the stop-loss distance above is used.', errorId: 'tn-trailingStopPositive-err', errorFor: 'tuning.trailingStopPositive' });
    const offset = numberField({ id: 'tn-trailingStopPositiveOffset', label: 'Start trailing at profit (%)', value: toPct(defaults.trailingStopPositiveOffset ?? 0), min: '0',
      errorId: 'tn-trailingStopPositiveOffset-err', errorFor: 'tuning.trailingStopPositiveOffset' });
    const onlyOffset = checkField({ id: 'tn-trailingOnlyOffsetIsReached', label: 'Only trail once that profit is reached', checked: defaults.trailingOnlyOffsetIsReached === true, errorId: 'tn-trailingOnlyOffsetIsReached-err' });
    Object.assign(ui, { stoploss: stoploss.input, trailingStop: trailing.input, trailingStopPositive: positive.input,
      trailingStopPositiveOffset: offset.input, trailingOnlyOffsetIsReached: onlyOffset.input });

    // Protections
    const protectionList = h('div', { class: 'lab-protections' });
    const kind = h('select', { id: 'tn-protection-kind', 'aria-describedby': 'tn-protections-err' },
      Object.entries(PROTECTIONS).map(([method, p]) => h('option', { value: method }, p.title)));
    const protectionAdd = h('button', { type: 'button', class: 'btn btn--small', 'data-action': 'protection-add' }, 'Add protection');
    const addProtection = (p, focus = false) => {
      const spec = PROTECTIONS[p.method];
      const id = uid('tn-prot');
      const item = { method: p.method, inputs: {} };
      const fields = Object.keys(spec.defaults).map((key) => {
        const f = PROTECTION_FIELDS[key];
        if (f.type === 'bool') {
          const c = checkField({ id: `${id}-${key}`, label: f.label, checked: p[key] === true, errorId: 'tn-protections-err' });
          item.inputs[key] = c.input;
          return h('div', { class: 'field lab-protection__check' }, c.el);
        }
        const n = numberField({ id: `${id}-${key}`, label: f.label, value: f.type === 'pct' ? toPct(p[key]) : (p[key] ?? ''),
          min: f.type === 'int' ? '1' : null, max: f.type === 'int' ? '10000' : null, step: f.type === 'int' ? '1' : 'any', errorId: 'tn-protections-err' });
        item.inputs[key] = n.input;
        return n.el;
      });
      const remove = h('button', { type: 'button', class: 'btn btn--small btn--link', 'data-action': 'protection-remove', 'aria-label': `Remove the ${spec.title.toLowerCase()} protection` }, 'Remove');
      const title = h('h4', { id: `${id}-title`, class: 'lab-protection__title' }, spec.title);
      item.el = h('fieldset', { class: 'lab-protection', 'aria-labelledby': `${id}-title`, 'data-method': p.method },
        h('div', { class: 'lab-protection__head' }, title, remove),
        h('p', { class: 'hint' }, spec.desc),
        h('div', { class: 'lab-protection__fields' }, fields));
      remove.addEventListener('click', () => {
        ui.protections.splice(ui.protections.indexOf(item), 1);
        item.el.remove();
        protectionAdd.disabled = ui.protections.length >= MAX_PROTECTIONS;
        kind.focus();
        changed();
      });
      ui.protections.push(item);
      protectionList.append(item.el);
      protectionAdd.disabled = ui.protections.length >= MAX_PROTECTIONS;
      if (focus) Object.values(item.inputs)[0]?.focus();
    };
    ui.defaultProtections = (Array.isArray(defaults.protections) ? defaults.protections : []).map(normaliseProtection).filter(Boolean);
    for (const p of ui.defaultProtections) addProtection(p);
    protectionAdd.addEventListener('click', () => { addProtection({ method: kind.value, ...PROTECTIONS[kind.value].defaults }, true); changed(); });

    // Hyperoptable parameters, by space
    const params = (Array.isArray(defaults.parameters) ? defaults.parameters : []).filter((p) => p && typeof p.name === 'string');
    const paramFields = params.map((p) => {
      const id = `tn-param-${p.space}-${p.name}`;
      const errorId = `${id}-err`;
      const errorFor = `tuning.params.${p.space}.${p.name}`;
      let input;
      let hintText;
      if (p.type === 'categorical' || p.type === 'boolean') {
        const options = p.type === 'boolean' ? [true, false] : (Array.isArray(p.options) ? p.options : []);
        input = h('select', { id, 'aria-describedby': `${id}-hint ${errorId}` },
          options.map((o, i) => h('option', { value: String(i) }, p.type === 'boolean' ? (o ? 'Yes (true)' : 'No (false)') : String(o))));
        const at = options.findIndex((o) => o === p.default);
        input.value = String(at < 0 ? 0 : at);
        hintText = `Default: ${p.type === 'boolean' ? String(p.default) : String(p.default ?? '—')}.`;
        ui.params.push({ p, input, options });
      } else {
        const step = p.type === 'int' ? '1' : (Number.isInteger(p.decimals) && p.decimals >= 0 ? String(10 ** -p.decimals) : 'any');
        input = h('input', { id, type: 'number', step, min: p.low ?? null, max: p.high ?? null, value: p.default ?? '', inputmode: 'decimal',
          'aria-describedby': `${id}-hint ${errorId}` });
        hintText = `${p.type === 'int' ? 'Whole number' : 'Number'} from ${p.low} to ${p.high}; default ${p.default}.`;
        ui.params.push({ p, input });
      }
      return h('div', { class: 'field' },
        h('label', { for: id }, p.name, ' ', h('span', { class: 'tag' }, p.space)),
        input,
        h('p', { class: 'hint', id: `${id}-hint` }, hintText),
        errorSlot(errorId, errorFor));
    });

    const reset = h('button', { type: 'button', class: 'btn btn--small', 'data-action': 'tuning-reset' }, `Reset to ${name}'s values`);
    // The controls are rebuilt from the strategy's values; the focus goes to the new button.
    reset.addEventListener('click', () => { build(); container.querySelector('[data-action="tuning-reset"]')?.focus(); });

    fill(container,
      h('p', { class: 'card__hint' }, `Start from ${name}'s own values (as the strategy is written). Only what you change is sent; the rest stays the strategy's.`),
      h('fieldset', { class: 'lab-tuning__group' },
        h('legend', {}, 'ROI table: take profit once a trade has been open this long'),
        h('div', { class: 'table-wrap lab-roi' }, h('table', { class: 'table' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'After (minutes)'), h('th', { scope: 'col' }, 'Take profit at (%)'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
          roiBody)),
        h('div', { class: 'btn-row' }, roiAdd),
        errorSlot('tn-roi-err', 'tuning.minimalRoi')),
      h('fieldset', { class: 'lab-tuning__group' },
        h('legend', {}, 'Stop-loss and trailing stop'),
        h('div', { class: 'form-grid' }, stoploss.el,
          h('div', { class: 'field' }, trailing.el, onlyOffset.el, errorSlot('tn-trailingStop-err', 'tuning.trailingStop'), errorSlot('tn-trailingOnlyOffsetIsReached-err', 'tuning.trailingOnlyOffsetIsReached')),
          positive.el, offset.el)),
      h('fieldset', { class: 'lab-tuning__group' },
        h('legend', {}, 'Protections'),
        h('p', { class: 'hint' }, 'Backtests always apply them, as a dry-run bot does.'),
        protectionList,
        h('div', { class: 'input-row lab-protection-add' }, h('label', { class: 'visually-hidden', for: 'tn-protection-kind' }, 'Kind of protection to add'), kind, protectionAdd),
        errorSlot('tn-protections-err', 'tuning.protections')),
      h('fieldset', { class: 'lab-tuning__group' },
        h('legend', {}, 'Strategy parameters'),
        paramFields.length ? h('div', { class: 'form-grid' }, paramFields) : h('p', { class: 'hint' }, `${name} declares no hyperoptable parameters.`),
        errorSlot('tn-params-err', 'tuning.params')),
      errorSlot('tn-err', 'tuning'),
      h('div', { class: 'btn-row' }, reset, status));
    container.oninput = changed;
    container.onchange = changed;
    changed();
  }

  /* ---------- reading: only what differs from the strategy ---------- */

  function read() {
    if (!ui || !info) return { tuning: null, errors: {} };
    const tuning = {};
    const errors = {};
    const changes = [];

    // ROI
    const roi = {};
    for (const row of ui.roiRows) {
      const m = readNumber(row.m);
      const p = readNumber(row.p);
      if (m === null && p === null) continue;
      if (!Number.isInteger(m) || m < 0) { errors['tuning.minimalRoi'] = 'Each step needs whole minutes, 0 or more.'; break; }
      if (p === null || Number.isNaN(p)) { errors['tuning.minimalRoi'] = `The step after ${m} minutes needs a profit in percent.`; break; }
      if (String(m) in roi) { errors['tuning.minimalRoi'] = `Two steps are at ${m} minutes; keep one.`; break; }
      roi[String(m)] = toRatio(p);
    }
    if (!errors['tuning.minimalRoi'] && !sameRoi(roi, info.minimalRoi)) {
      if (!Object.keys(roi).length) errors['tuning.minimalRoi'] = 'Keep at least one step (0 minutes is the first).';
      else { tuning.minimalRoi = roi; changes.push('ROI table'); }
    }

    // Stop-loss
    const sl = readNumber(ui.stoploss);
    if (sl === null && num(info.stoploss) === null) { /* the strategy has none and none is asked for */ }
    else if (sl === null || Number.isNaN(sl)) errors['tuning.stoploss'] = 'Enter a stop-loss in percent, like -10.';
    else if (sl >= 0 || sl < -100) errors['tuning.stoploss'] = 'The stop-loss is a loss: between -100 and just under 0.';
    else if (round(toRatio(sl)) !== round(num(info.stoploss) ?? NaN)) { tuning.stoploss = toRatio(sl); changes.push('stop-loss'); }

    // Trailing stop
    if (ui.trailingStop.checked !== (info.trailingStop === true)) { tuning.trailingStop = ui.trailingStop.checked; changes.push('trailing stop'); }
    const pos = readNumber(ui.trailingStopPositive);
    const defaultPos = num(info.trailingStopPositive);
    if (Number.isNaN(pos) || (pos !== null && (pos < 0 || pos > 100))) errors['tuning.trailingStopPositive'] = 'Enter a percent from 0 to 100, or leave it empty.';
    else if (pos === null && defaultPos !== null) errors['tuning.trailingStopPositive'] = `The strategy trails at ${toPct(defaultPos)} %; enter a value.`;
    else if (pos !== null && (defaultPos === null || toRatio(pos) !== round(defaultPos))) { tuning.trailingStopPositive = toRatio(pos); changes.push('trailing distance'); }
    const off = readNumber(ui.trailingStopPositiveOffset);
    if (off === null || Number.isNaN(off) || off < 0 || off > 100) errors['tuning.trailingStopPositiveOffset'] = 'Enter a percent from 0 to 100 (0: trail from the start).';
    else if (toRatio(off) !== round(num(info.trailingStopPositiveOffset) ?? 0)) { tuning.trailingStopPositiveOffset = toRatio(off); changes.push('trailing offset'); }
    if (ui.trailingOnlyOffsetIsReached.checked !== (info.trailingOnlyOffsetIsReached === true)) {
      tuning.trailingOnlyOffsetIsReached = ui.trailingOnlyOffsetIsReached.checked;
      changes.push('trail only past the offset');
    }

    // Protections
    const protections = [];
    for (const item of ui.protections) {
      const p = { method: item.method };
      for (const [key, input] of Object.entries(item.inputs)) {
        const type = PROTECTION_FIELDS[key].type;
        if (type === 'bool') { p[key] = input.checked; continue; }
        const v = readNumber(input);
        const title = PROTECTIONS[item.method].title;
        if (type === 'int' && (!Number.isInteger(v) || v < 1 || v > 10000)) {
          errors['tuning.protections'] = `${title}: ${PROTECTION_FIELDS[key].label.toLowerCase()} must be a whole number from 1 to 10000.`;
        } else if (type === 'pct' && (v === null || Number.isNaN(v))) {
          errors['tuning.protections'] = `${title}: enter the ${PROTECTION_FIELDS[key].label.toLowerCase()}.`;
        } else if (key === 'maxAllowedDrawdown' && (v <= 0 || v > 100)) {
          errors['tuning.protections'] = `${title}: the allowed drawdown is a percent above 0, at most 100.`;
        } else {
          p[key] = type === 'pct' ? toRatio(v) : v;
        }
      }
      protections.push(p);
    }
    if (!errors['tuning.protections'] && !sameProtections(protections, ui.defaultProtections)) { tuning.protections = protections; changes.push('protections'); }

    // Parameters
    const params = {};
    for (const { p, input, options } of ui.params) {
      const key = `tuning.params.${p.space}.${p.name}`;
      let value;
      if (options) {
        value = options[Number(input.value)];
        if (value === p.default) continue;
      } else {
        value = readNumber(input);
        const low = num(p.low);
        const high = num(p.high);
        if (value === null || Number.isNaN(value)) { errors[key] = `Enter a number${low !== null ? ` from ${low} to ${high}` : ''}.`; continue; }
        if (p.type === 'int' && !Number.isInteger(value)) { errors[key] = 'Enter a whole number.'; continue; }
        if ((low !== null && value < low) || (high !== null && value > high)) { errors[key] = `Enter a value from ${low} to ${high}.`; continue; }
        if (round(value) === round(num(p.default) ?? NaN)) continue;
      }
      (params[p.space] ??= {})[p.name] = value;
      changes.push(p.name);
    }
    if (Object.keys(params).length) tuning.params = params;

    return { tuning: Object.keys(tuning).length ? tuning : null, errors, changes };
  }

  function changed() {
    if (!ui) return;
    const { changes, errors } = read();
    const problems = Object.keys(errors).length;
    setText(status, changes.length
      ? `Changed from the strategy: ${changes.join(', ')}.${problems ? ' Some values need attention.' : ''}`
      : `No changes: the backtest runs ${name} as written.${problems ? ' Some values need attention.' : ''}`);
  }

  details.addEventListener('toggle', () => { if (details.open) load(); });

  return {
    setStrategy,
    load,
    read,
    /** The name whose values are shown, or null. */
    get strategy() { return name; },
    get ready() { return Boolean(ui); },
  };
}
