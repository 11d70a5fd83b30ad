// Operator: appliance checks (pass/warn/fail with fixes), memory budget, Docker and proxy state.
import { api } from '../api.js';
import { h, $, fill, setText } from '../dom.js';
import { startPage } from '../layout.js';
import { showMessage, clearMessage, errorText, checkBadge, badge, busy, every } from '../ui.js';
import { mb, num, timeOfDay, duration, toDate } from '../format.js';

await startPage({ adminOnly: true });

function tile(label, value, note, extra) {
  return h('div', { class: 'card stat' },
    h('span', { class: 'stat__label' }, label),
    h('span', { class: 'stat__value' }, value),
    extra ?? null,
    note ? h('span', { class: 'stat__note' }, note) : null);
}

// The daily scheduled backup (fta-backup.timer): how many are kept, and how old the newest is.
function backupsTile(backups) {
  if (!backups) return null;
  const newest = toDate(backups.newest);
  if (!newest) return tile('Backups', badge('None yet', 'busy'), 'Run: sudo fta-admin backup --scheduled (a daily timer runs it).');
  const age = Date.now() - newest.getTime();
  const state = age > 26 * 3600 * 1000 ? badge('Overdue', 'bad') : null;
  return tile('Backups', `${backups.count} of ${backups.keep} kept`, `Newest ${duration(age)} ago${backups.encrypted ? ', encrypted' : ''}.`, state);
}

function render(sys) {
  const checks = sys.checks ?? [];
  const count = (st) => checks.filter((c) => c.status === st).length;
  const fails = count('fail');
  const warns = count('warn');
  const overall = fails ? badge('Needs attention', 'bad') : warns ? badge('Warnings', 'busy') : badge('Healthy', 'ok');

  const total = num(sys.budget?.memoryMB) ?? 0;
  const used = num(sys.budget?.usedMB) ?? 0;
  const meter = total ? h('meter', { class: 'meter', min: 0, max: total, value: Math.min(used, total), low: total * 0.7, high: total * 0.9, optimum: 0, 'aria-label': 'Memory budget in use' }) : null;
  const docker = sys.docker?.reachable;
  fill($('#sys-stats'),
    tile('Overall', overall, `${count('pass')} pass · ${warns} warning${warns === 1 ? '' : 's'} · ${fails} fail${fails === 1 ? '' : 's'}`),
    tile('Docker (through the socket proxy)', docker ? badge('Reachable', 'ok') : badge('Not reachable', 'bad'),
      docker ? 'The portal can manage bot containers.' : 'Bots cannot be started or stopped until the proxy and Docker answer.'),
    tile('Memory budget', `${mb(used)} of ${mb(total)}`, `${mb(sys.budget?.freeMB)} free for more bots`, meter),
    tile('Bots', `${sys.bots?.running ?? 0} running`, `${sys.bots?.total ?? 0} in total`),
    backupsTile(sys.backups),
    tile('Version', sys.version ?? '—', 'fta --version on the server says the same.'));

  setText($('#sys-count'), `${checks.length} check${checks.length === 1 ? '' : 's'}`);
  const order = { fail: 0, warn: 1, pass: 2 };
  const sorted = [...checks].sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3));
  fill($('#sys-checks'), sorted.length ? sorted.map((c) => h('li', { class: 'check-item', 'data-status': c.status },
    h('span', { class: 'check-item__badge' }, checkBadge(c.status)),
    h('span', { class: 'check-item__name' }, c.name),
    c.detail ? h('span', { class: 'check-item__detail' }, c.detail) : null,
    c.fix && c.status !== 'pass' ? h('span', { class: 'check-item__fix' }, h('strong', {}, 'How to fix: '), c.fix) : null))
    : h('li', { class: 'card__hint' }, 'No checks reported.'));
  setText($('#sys-updated'), `Updated ${timeOfDay(new Date())} · refreshes every 15 s`);
}

async function refresh() {
  try {
    render(await api('/system'));
    clearMessage($('#sys-error'));
  } catch (err) {
    if (!err.redirecting) showMessage($('#sys-error'), `Could not read the system state: ${errorText(err)}`, 'error');
  }
}

const loop = every(15000, refresh);
$('#sys-refresh').addEventListener('click', (event) => busy(event.currentTarget, 'Checking…', async () => { await refresh(); loop.now(); }));
