// Operator: clients, creating clients, and each client's users (create, disable/enable, reset password);
// per client, whether it may upload its own strategies, and the lab's cached market data (issue 16).
import { api, seg } from '../api.js';
import { h, $, fill, setText, param } from '../dom.js';
import { startPage } from '../layout.js';
import { busy, showMessage, clearMessage, errorText, clearFieldErrors, showFieldErrors, badge, table, generatePassword, copyText, toast, confirmDialog } from '../ui.js';
import { day, shortDateTime } from '../format.js';

await startPage({ adminOnly: true });

const pageError = $('#clients-error');
let clients = [];
let selectedId = param('client');
let users = [];

/* ---------- clients ---------- */

function selectClient(id, { reveal = false } = {}) {
  selectedId = id;
  const url = new URL(location.href);
  url.searchParams.set('client', id);
  history.replaceState(null, '', url.pathname + url.search);
  renderClients();
  loadUsers().then(() => {
    // On a phone the users panel is further down: take the person (and the focus) there.
    if (reveal) {
      const heading = $('#h-users');
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
      heading.scrollIntoView({ block: 'start', behavior: 'smooth' });
    }
  });
}

function renderClients() {
  if (!clients.length) {
    fill($('#clients-table'), h('p', { class: 'empty' }, 'No clients yet. Create the first one below.'));
    return;
  }
  fill($('#clients-table'), table({
    columns: [{ label: 'Client' }, { label: 'Bots', num: true }, { label: 'Users', num: true }, { label: 'Own strategies' }],
    rows: clients.map((c) => ({
      rowProps: { class: c.id === selectedId ? 'is-selected' : null, 'data-client-id': c.id },
      cells: [
        h('span', {},
          h('button', {
            type: 'button', class: 'btn btn--link client-pick', 'aria-pressed': c.id === selectedId ? 'true' : 'false',
            title: `Manage the users of ${c.name || c.id}`, onclick: () => selectClient(c.id, { reveal: true }),
          }, c.name || c.id),
          h('br'), h('code', {}, c.id)),
        `${c.botCount} / ${c.maxBots}`,
        String(c.userCount ?? '—'),
        customStrategiesToggle(c),
      ],
    })),
  }));
}

/* ---------- custom strategies per client (issue 16) ---------- */

/** A checkbox per client: may its owners upload their own strategies (PATCH /clients/{id}). */
function customStrategiesToggle(c) {
  const id = `custom-${c.id}`;
  const box = h('input', { type: 'checkbox', id, checked: c.customStrategies === true, 'data-action': 'custom-strategies' });
  box.addEventListener('change', async () => {
    const wanted = box.checked;
    clearMessage(pageError);
    box.disabled = true;
    try {
      const res = await api(`/clients/${seg(c.id)}`, { method: 'PATCH', body: { customStrategies: wanted } });
      const updated = res?.client ?? res;
      c.customStrategies = typeof updated?.customStrategies === 'boolean' ? updated.customStrategies : wanted;
      box.checked = c.customStrategies;
      toast(c.customStrategies ? `${c.name || c.id} may now upload its own strategies.` : `${c.name || c.id} can no longer upload strategies; the ones it has stay.`);
    } catch (err) {
      box.checked = !wanted; // the switch shows what the portal holds, not what was asked
      if (!err.redirecting) showMessage(pageError, `Could not change ${c.name || c.id}: ${errorText(err)}`, 'error');
    } finally {
      box.disabled = false;
    }
  });
  return h('label', { class: 'check', for: id }, box, h('span', {}, 'Allowed', h('span', { class: 'visually-hidden' }, ` for ${c.name || c.id}`)));
}

/* ---------- the lab's market data cache (issue 16) ---------- */

const mib = (bytes) => `${(Number(bytes || 0) / 1048576).toLocaleString(undefined, { maximumFractionDigits: 1 })} MiB`;

async function loadLabData() {
  const box = $('#lab-data');
  try {
    const res = await api('/lab/data');
    const sets = Array.isArray(res?.sets) ? res.sets : [];
    setText($('#lab-data-usage'), `${mib(res?.usedBytes)} used of ${Number(res?.capMB ?? 0).toLocaleString()} MiB`);
    if (!sets.length) { fill(box, h('p', { class: 'empty' }, 'No market data cached yet. Backtests download what they need.')); return; }
    fill(box, h('div', { class: 'table-wrap' }, table({
      columns: [{ label: 'Data set' }, { label: 'Pairs' }, { label: 'Size', num: true }, { label: 'Downloaded', nowrap: true }, { label: '' }],
      rows: sets.map((set) => {
        const pairs = Object.entries(set.pairs ?? {});
        const remove = h('button', { type: 'button', class: 'btn btn--small btn--danger', 'data-action': 'lab-data-delete', 'aria-label': `Delete the ${set.key} data` }, 'Delete');
        remove.addEventListener('click', () => pruneLabData(set, remove));
        return {
          rowProps: { 'data-key': set.key },
          cells: [
            h('span', {}, h('code', {}, set.key), h('br'), `${set.exchange ?? ''} · ${set.timeframe ?? ''}`),
            pairs.length ? h('ul', { class: 'lab-plain-list' }, pairs.map(([pair, cover]) => h('li', {},
              h('span', { class: 'chip' }, pair), ` ${day(cover?.first)} – ${day(cover?.last)} · ${Number(cover?.candles ?? 0).toLocaleString()} candles`))) : '—',
            mib(set.sizeBytes),
            shortDateTime(set.downloadedAt),
            remove,
          ],
        };
      }),
    })));
  } catch (err) {
    if (err.redirecting) return;
    fill(box);
    showMessage($('#lab-data-msg'), `Could not load the lab's market data: ${errorText(err)}`, 'error');
  }
}

async function pruneLabData(set, button) {
  const msg = $('#lab-data-msg');
  clearMessage(msg);
  const ok = await confirmDialog({
    title: `Delete the ${set.key} market data?`,
    message: `${mib(set.sizeBytes)} of candles for ${Object.keys(set.pairs ?? {}).length} pair(s). A backtest that needs them downloads them again.`,
    confirmLabel: 'Delete data', danger: true,
  });
  if (!ok) return;
  try {
    await busy(button, 'Deleting…', () => api(`/lab/data/${seg(set.key)}`, { method: 'DELETE', body: {} }));
    showMessage(msg, `The ${set.key} data was deleted.`, 'ok');
    await loadLabData();
    $('#h-lab-data').setAttribute('tabindex', '-1');
    $('#h-lab-data').focus();
  } catch (err) {
    if (err.redirecting) return;
    showMessage(msg, err.status === 409 ? `${set.key} is in use by a running job: ${errorText(err)} Try again when it has finished.` : `Could not delete ${set.key}: ${errorText(err)}`, 'error');
  }
}

async function loadClients() {
  try {
    clients = (await api('/clients')).clients ?? [];
    clearMessage(pageError);
    renderClients();
    if (selectedId && clients.some((c) => c.id === selectedId)) loadUsers();
  } catch (err) {
    if (err.redirecting) return;
    showMessage(pageError, `Could not load the clients: ${errorText(err)}`, 'error');
  }
}

const clientForm = $('#client-form');
clientForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors(clientForm);
  const msg = $('#new-client-msg');
  clearMessage(msg);
  const el = clientForm.elements;
  const body = { id: el.id.value.trim(), name: el.name.value.trim() };
  if (el.maxBots.value !== '') body.maxBots = Number(el.maxBots.value);
  const local = {};
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(body.id)) local.id = 'Use 1 to 31 lowercase letters, digits or dashes, starting with a letter or digit.';
  if (!body.name) local.name = 'Enter a display name.';
  if (Object.keys(local).length) { showFieldErrors(clientForm, local); return; }
  try {
    const { client } = await busy($('#client-submit'), 'Creating…', () => api('/clients', { method: 'POST', body }));
    clientForm.reset();
    showMessage(msg, `Client “${client.name}” created. Add its users in the Users panel.`, 'ok');
    await loadClients();
    selectClient(client.id);
  } catch (err) {
    if (err.redirecting) return;
    const leftover = err.fields ? showFieldErrors(clientForm, err.fields) : [];
    showMessage(msg, [errorText(err), ...leftover].join(' '), 'error');
  }
});

/* ---------- users of the selected client ---------- */

const ROLE_WORDS = { owner: 'Owner', viewer: 'Viewer', admin: 'Operator' };

function renderUsers() {
  const client = clients.find((c) => c.id === selectedId);
  setText($('#h-users'), client ? `Users of ${client.name || client.id}` : 'Users');
  $('#users-hint').hidden = Boolean(client);
  $('#users-body').hidden = !client;
  if (!client) return;
  if (!users.length) {
    fill($('#users-table'), h('p', { class: 'empty' }, 'No users yet. Add an owner so the client can sign in and create bots.'));
    return;
  }
  fill($('#users-table'), table({
    columns: [{ label: 'Username' }, { label: 'Role' }, { label: 'Status' }, { label: 'Since', nowrap: true }, { label: 'Actions' }],
    rows: users.map((u) => {
      const toggle = h('button', { type: 'button', class: u.disabled ? 'btn btn--small' : 'btn btn--small btn--danger' }, u.disabled ? 'Enable' : 'Disable');
      toggle.setAttribute('aria-label', `${u.disabled ? 'Enable' : 'Disable'} ${u.username}`);
      toggle.addEventListener('click', () => setDisabled(u, !u.disabled, toggle));
      const reset = h('button', { type: 'button', class: 'btn btn--small', 'aria-label': `Reset the password of ${u.username}`, onclick: () => openReset(u) }, 'Reset password');
      return {
        rowProps: { 'data-username': u.username },
        cells: [
          h('strong', {}, u.username),
          ROLE_WORDS[u.role] ?? u.role,
          u.disabled ? badge('Disabled', 'bad') : badge('Active', 'ok'),
          day(u.createdAt),
          h('div', { class: 'btn-row' }, toggle, reset),
        ],
      };
    }),
  }));
}

async function loadUsers() {
  const id = selectedId;
  if (!id) { renderUsers(); return; }
  try {
    const res = await api(`/clients/${seg(id)}/users`);
    if (id !== selectedId) return;
    users = res.users ?? [];
    clearMessage($('#users-msg'));
    renderUsers();
  } catch (err) {
    if (err.redirecting) return;
    users = [];
    renderUsers();
    showMessage($('#users-msg'), `Could not load the users: ${errorText(err)}`, 'error');
  }
}

async function setDisabled(user, disabled, button) {
  const msg = $('#users-msg');
  clearMessage(msg);
  try {
    await busy(button, disabled ? 'Disabling…' : 'Enabling…', () => api(`/users/${seg(user.id)}`, { method: 'PATCH', body: { disabled } }));
    await loadUsers();
    showMessage(msg, disabled ? `${user.username} is disabled: they cannot sign in until enabled again.` : `${user.username} can sign in again.`, 'ok');
  } catch (err) {
    if (err.redirecting) return;
    showMessage(msg, `Could not change ${user.username}: ${errorText(err)}`, 'error');
  }
}

const userForm = $('#user-form');
$('#u-generate').addEventListener('click', () => {
  userForm.elements.password.value = generatePassword();
  userForm.elements.password.focus();
  userForm.elements.password.select();
});
const roleHint = () => setText($('#u-role-hint'), userForm.elements.role.value === 'viewer'
  ? 'A viewer sees the bots, trades and logs of this client and changes nothing.'
  : 'An owner creates, starts, stops and deletes this client’s bots.');
userForm.elements.role.addEventListener('change', roleHint);
roleHint();

userForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors(userForm);
  const msg = $('#users-msg');
  clearMessage(msg);
  const el = userForm.elements;
  const body = { username: el.username.value.trim(), password: el.password.value, role: el.role.value };
  const local = {};
  if (!body.username) local.username = 'Enter a username.';
  if (!body.password) local.password = 'Type a password or generate one.';
  if (Object.keys(local).length) { showFieldErrors(userForm, local); return; }
  try {
    const { user } = await busy($('#user-submit'), 'Adding…', () => api(`/clients/${seg(selectedId)}/users`, { method: 'POST', body }));
    userForm.reset();
    roleHint();
    await Promise.all([loadUsers(), loadClientsQuietly()]);
    showMessage(msg, `${user.username} added as ${(ROLE_WORDS[user.role] ?? user.role).toLowerCase()}. Give them their password over a safe channel.`, 'ok');
  } catch (err) {
    if (err.redirecting) return;
    const leftover = err.fields ? showFieldErrors(userForm, err.fields) : [];
    showMessage(msg, [errorText(err), ...leftover].join(' '), 'error');
  }
});

async function loadClientsQuietly() {
  try { clients = (await api('/clients')).clients ?? clients; renderClients(); } catch { /* the list stays as it was */ }
}

/* ---------- reset password dialog ---------- */

const resetDialog = $('#reset-dialog');
const resetForm = $('#reset-form');
let resetUser = null;

function openReset(user) {
  resetUser = user;
  resetForm.reset();
  clearFieldErrors(resetForm);
  clearMessage($('#reset-msg'));
  setText($('#reset-who'), `Set a new password for ${user.username}.`);
  resetForm.elements.password.value = generatePassword();
  resetDialog.showModal();
  resetForm.elements.password.focus();
  resetForm.elements.password.select();
}
$('#reset-cancel').addEventListener('click', () => resetDialog.close());
$('#r-generate').addEventListener('click', () => { resetForm.elements.password.value = generatePassword(); resetForm.elements.password.focus(); });
$('#r-copy').addEventListener('click', () => copyText(resetForm.elements.password.value));
resetForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors(resetForm);
  const password = resetForm.elements.password.value;
  if (!password) { showFieldErrors(resetForm, { password: 'Type a password or generate one.' }); return; }
  try {
    await busy($('#reset-submit'), 'Saving…', () => api(`/users/${seg(resetUser.id)}/password`, { method: 'POST', body: { password } }));
    resetDialog.close();
    showMessage($('#users-msg'), `Password of ${resetUser.username} reset; their sessions have ended. Give them the new password over a safe channel.`, 'ok');
    toast('Password reset.');
  } catch (err) {
    if (err.redirecting) return;
    const leftover = err.fields ? showFieldErrors(resetForm, err.fields) : [];
    showMessage($('#reset-msg'), [errorText(err), ...leftover].join(' '), 'error');
  }
});

await loadClients();
renderUsers();
loadLabData();
