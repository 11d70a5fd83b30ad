// Operator: every bot across clients, live, with links to each bot page.
import { api } from '../api.js';
import { h, $, fill, setText, param, pageUrl } from '../dom.js';
import { startPage } from '../layout.js';
import { showMessage, clearMessage, errorText, stateBadge, table, every } from '../ui.js';
import { uptime, mb, timeOfDay } from '../format.js';

await startPage({ adminOnly: true });

const select = $('#ab-client');
let filter = param('client') ?? '';
let loop = null;

async function loadClients() {
  try {
    const { clients } = await api('/clients');
    for (const c of clients) select.append(h('option', { value: c.id }, `${c.name || c.id} (${c.id})`));
    select.value = clients.some((c) => c.id === filter) ? filter : '';
  } catch (err) {
    if (!err.redirecting) showMessage($('#ab-error'), `Could not load the clients: ${errorText(err)}`, 'error');
  }
}

select.addEventListener('change', () => {
  filter = select.value;
  history.replaceState(null, '', pageUrl(location.pathname, { client: filter }));
  loop?.now();
});

async function refresh() {
  try {
    const { bots } = await api(pageUrl('/bots', { client: filter }));
    bots.sort((a, b) => String(a.clientId).localeCompare(String(b.clientId)) || String(a.name).localeCompare(String(b.name)));
    const running = bots.filter((b) => b.state === 'running').length;
    const troubled = bots.filter((b) => ['failed', 'quarantined'].includes(b.state)).length;
    setText($('#ab-summary'), `${bots.length} bot${bots.length === 1 ? '' : 's'} · ${running} running${troubled ? ` · ${troubled} failed or quarantined` : ''}`);
    if (!bots.length) {
      fill($('#ab-table'), h('p', { class: 'empty' }, filter ? 'This client has no bots.' : 'No bots on this appliance yet.'));
    } else {
      fill($('#ab-table'), table({
        columns: [{ label: 'Bot' }, { label: 'Client' }, { label: 'State' }, { label: 'Strategy' }, { label: 'Pairs' }, { label: 'Size', nowrap: true }, { label: 'Uptime', nowrap: true }, { label: 'Last error' }],
        rows: bots.map((b) => ({
          rowProps: { 'data-bot-id': b.id },
          cells: [
            h('span', {}, h('a', { href: pageUrl('/bot.html', { id: b.id }) }, b.name || b.id), h('br'), h('code', {}, b.id)),
            b.clientId,
            stateBadge(b.state),
            `${b.strategy} · ${b.timeframe}`,
            (b.pairs ?? []).join(', '),
            `${b.size} · ${mb(b.memoryMB)}`,
            uptime(b),
            b.lastError ? h('span', { class: 'note note--bad' }, b.lastError) : '—',
          ],
        })),
      }));
    }
    setText($('#ab-updated'), `Updated ${timeOfDay(new Date())} · refreshes every 5 s`);
    clearMessage($('#ab-error'));
  } catch (err) {
    if (!err.redirecting) showMessage($('#ab-error'), `Could not load the bots: ${errorText(err)} Retrying every 5 seconds.`, 'error');
  }
}

await loadClients();
loop = every(5000, refresh);
