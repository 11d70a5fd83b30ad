// Operator: the audit trail, filtered by actor, action, client and outcome, paged with `before`.
import { api } from '../api.js';
import { h, $, fill, setText, pageUrl } from '../dom.js';
import { startPage } from '../layout.js';
import { showMessage, clearMessage, errorText, outcomeBadge, table } from '../ui.js';
import { dateTime } from '../format.js';

const PAGE = 50;
await startPage({ adminOnly: true });

const form = $('#audit-filters');
const FILTERS = ['actor', 'action', 'clientId', 'outcome'];
// Cursor stack: cursors[i] is the `before` of page i (page 0 has none).
let cursors = [null];
let pageIndex = 0;
const knownActions = new Set();

function filters() {
  const out = {};
  for (const name of FILTERS) {
    const v = form.elements[name].value.trim();
    if (v) out[name] = v;
  }
  return out;
}

async function loadClients() {
  try {
    const { clients } = await api('/clients');
    for (const c of clients) form.elements.clientId.append(h('option', { value: c.id }, `${c.name || c.id} (${c.id})`));
  } catch (err) {
    if (!err.redirecting) showMessage($('#audit-error'), `Could not load the clients for the filter: ${errorText(err)}`, 'error');
  }
}

async function load() {
  const status = $('#audit-status');
  setText(status, 'Loading…');
  const params = { ...filters(), limit: PAGE + 1, before: cursors[pageIndex] ?? undefined };
  try {
    const { entries } = await api(pageUrl('/audit', params));
    // One extra entry tells whether an older page exists.
    const hasOlder = entries.length > PAGE;
    const shown = entries.slice(0, PAGE);
    for (const e of shown) if (e.action) knownActions.add(e.action);
    fill($('#a-action-list'), [...knownActions].sort().map((a) => h('option', { value: a })));
    if (!shown.length) {
      fill($('#audit-table'), h('p', { class: 'empty' }, pageIndex === 0 ? 'No entries match these filters.' : 'No older entries.'));
    } else {
      fill($('#audit-table'), table({
        columns: [{ label: 'When', nowrap: true }, { label: 'Actor', nowrap: true }, { label: 'Action', nowrap: true }, { label: 'Target' }, { label: 'Client', nowrap: true }, { label: 'Outcome' }, { label: 'Source IP', nowrap: true }, { label: 'Detail' }],
        rows: shown.map((e) => ({
          cells: [dateTime(e.at), e.actor ?? '—', h('code', {}, e.action ?? '—'), e.target ?? '—', e.clientId ?? '—', outcomeBadge(e.outcome), e.sourceIp ?? '—', e.detail ?? ''],
        })),
      }));
    }
    cursors[pageIndex + 1] = hasOlder ? shown[shown.length - 1].id : undefined;
    $('#a-older').disabled = !hasOlder;
    $('#a-newer').disabled = pageIndex === 0;
    setText($('#a-page'), `Page ${pageIndex + 1}`);
    setText(status, `${shown.length} entr${shown.length === 1 ? 'y' : 'ies'}${Object.keys(filters()).length ? ' matching the filters' : ''}, newest first.`);
    clearMessage($('#audit-error'));
  } catch (err) {
    if (err.redirecting) return;
    setText(status, '');
    showMessage($('#audit-error'), `Could not load the audit trail: ${errorText(err)}`, 'error');
  }
}

function syncUrl() {
  history.replaceState(null, '', pageUrl(location.pathname, filters()));
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  cursors = [null];
  pageIndex = 0;
  syncUrl();
  load();
});
$('#a-reset').addEventListener('click', () => {
  form.reset();
  cursors = [null];
  pageIndex = 0;
  syncUrl();
  load();
});
$('#a-older').addEventListener('click', () => { pageIndex += 1; load(); });
$('#a-newer').addEventListener('click', () => { pageIndex = Math.max(0, pageIndex - 1); load(); });

await loadClients();
const initial = new URLSearchParams(location.search);
for (const name of FILTERS) if (initial.get(name)) form.elements[name].value = initial.get(name);
load();
