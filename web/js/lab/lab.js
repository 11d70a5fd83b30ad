// The strategy lab page (issue 16): backtests of shipped and custom strategies, their results and
// comparisons, and the client's own strategies. The views live beside this file; this one wires
// them to the page's tabs and to its address (lab.html?id=<backtest>#result,
// lab.html?ids=a,b#compare, #strategies), so every view can be linked, reloaded and gone back to.
import { $, $$ } from '../dom.js';
import { startPage, canManage, isAdmin } from '../layout.js';
import { createBacktestForm, createHistory, COMPARE_MAX } from './backtests.js';
import { createResultView } from './results.js';
import { createCompareView } from './compare.js';
import { createStrategiesView } from './strategies.js';

const TABS = ['backtests', 'result', 'compare', 'strategies'];

const me = await startPage();
const manager = canManage(me);
const admin = isAdmin(me);

const results = createResultView({ container: $('#result'), manager, onChanged: () => backtestList.refresh() });
const compare = createCompareView({ container: $('#compare'), onOpen: (id) => go({ id }, 'result') });

const backtestList = createHistory({
  container: $('#history'), note: $('#history-note'), message: $('#history-msg'),
  compareButton: $('#compare-open'), compareNote: $('#compare-note'), manager,
  onOpen: (id) => go({ id }, 'result'),
  onCompare: (ids) => go({ ids: ids.join(',') }, 'compare'),
});

let form = null;
if (manager) {
  $('#new-backtest').hidden = false;
  form = createBacktestForm({
    form: $('#bt-form'), errorBox: $('#bt-error'), loadingEl: $('#bt-loading'), admin,
    onCreated: () => backtestList.refresh(),
  });
}

const strategies = createStrategiesView({
  container: $('#strategies'), admin, manager,
  onChanged: (list) => form?.setStrategies(list),
});

/* ---------- tabs and the address ---------- */

/** On a phone the tab row scrolls sideways: keep the chosen tab in sight, without moving the page. */
function revealTab(button) {
  const row = button.parentElement;
  const left = button.offsetLeft;
  const right = left + button.offsetWidth;
  if (left < row.scrollLeft) row.scrollLeft = left;
  else if (right > row.scrollLeft + row.clientWidth) row.scrollLeft = right - row.clientWidth;
}

function current() {
  const q = new URLSearchParams(location.search);
  const tab = location.hash.slice(1);
  const ids = (q.get('ids') ?? '').split(',').map((s) => s.trim()).filter(Boolean).slice(0, COMPARE_MAX);
  return { tab: TABS.includes(tab) ? tab : (q.get('id') ? 'result' : 'backtests'), id: q.get('id'), ids };
}

/** Shows a tab; the views load what they show when they are shown. */
function show({ focus = false } = {}) {
  const { tab, id, ids } = current();
  for (const button of $$('.desk-tab')) {
    const on = button.dataset.tab === tab;
    button.setAttribute('aria-selected', String(on));
    button.tabIndex = on ? 0 : -1;
    if (on && focus) button.focus();
    if (on) revealTab(button);
  }
  for (const name of TABS) $(`#panel-${name}`).hidden = name !== tab;
  if (tab === 'result') results.show(id); else results.stop();
  if (tab === 'compare') compare.show(ids);
  if (tab === 'strategies') strategies.refresh(); else strategies.stop();
  if (tab === 'backtests') {
    document.title = 'Strategy lab · fta';
    backtestList.refresh(); // back on the list: what changed meanwhile (another user's run) shows
  }
}

/** Moves to a tab with its parameters, as a new entry of the browser's history (Back returns). */
function go(params, tab) {
  const q = new URLSearchParams(location.search);
  for (const key of ['id', 'ids']) {
    if (key in params) { if (params[key]) q.set(key, params[key]); else q.delete(key); }
  }
  const qs = q.toString();
  window.history.pushState(null, '', `${location.pathname}${qs ? `?${qs}` : ''}#${tab}`);
  show();
  $(`#panel-${tab}`).focus({ preventScroll: false });
}

/** A tab chosen from the tab row keeps the address's parameters (the last result, the last comparison). */
function select(tab, { focus = false } = {}) {
  if (location.hash !== `#${tab}`) window.history.replaceState(null, '', `${location.pathname}${location.search}#${tab}`);
  show({ focus });
}

window.addEventListener('popstate', () => show());
window.addEventListener('hashchange', () => show());

const tabs = $$('.desk-tab');
new ResizeObserver(() => revealTab(tabs.find((t) => t.getAttribute('aria-selected') === 'true') ?? tabs[0])).observe($('.desk-tabs'));
for (const button of tabs) {
  button.addEventListener('click', () => select(button.dataset.tab));
  // Arrow keys move between tabs (the WAI-ARIA tabs pattern); Tab goes into the panel.
  button.addEventListener('keydown', (event) => {
    const i = tabs.indexOf(button);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    select(tabs[(next + tabs.length) % tabs.length].dataset.tab, { focus: true });
  });
}

const { ids } = current();
if (ids.length) backtestList.pick(ids);
show();
if (current().tab !== 'backtests') backtestList.refresh(); // the list is needed for picks and links on every tab
form?.load();
