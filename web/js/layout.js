// Page shell: loads the session (GET /me), guards roles, draws the header with navigation,
// the signed-in user, sign out and the change-password dialog.
import { api } from './api.js';
import { h, s, $ } from './dom.js';
import { busy, clearFieldErrors, showFieldErrors, showMessage, clearMessage, showError, toast, errorText, showFlash, ensureToastRegion } from './ui.js';

export const isAdmin = (me) => me?.user?.role === 'admin';
/** Owners and admins change things; viewers only look. */
export const canManage = (me) => ['admin', 'owner'].includes(me?.user?.role);

const ROLE_WORDS = { admin: 'Operator', owner: 'Owner', viewer: 'Viewer' };

const never = () => new Promise(() => {});

/**
 * Every signed-in page starts here. Resolves with the /me object; on an expired session the
 * browser is already on its way to the sign-in page and this never resolves.
 */
export async function startPage({ adminOnly = false } = {}) {
  let me;
  try {
    me = await api('/me');
  } catch (err) {
    if (err.redirecting) return never();
    renderFatal(err);
    return never();
  }
  if (adminOnly && !isAdmin(me)) {
    location.replace('/dashboard.html');
    return never();
  }
  renderHeader(me);
  ensureToastRegion();
  document.body.classList.add('is-ready');
  showFlash();
  return me;
}

function renderFatal(err) {
  const main = $('#main');
  if (!main) return;
  const again = h('button', { type: 'button', class: 'btn btn--primary', onclick: () => location.reload() }, 'Try again');
  main.replaceChildren(h('div', { class: 'card' },
    h('h1', {}, 'This page could not load'),
    h('p', { class: 'msg msg--error', role: 'alert' }, errorText(err)),
    h('div', { class: 'btn-row' }, again, h('a', { class: 'btn', href: '/login.html' }, 'Sign in'))));
}

export function brandMark() {
  return s('svg', { class: 'brand__mark', viewBox: '0 0 32 32', 'aria-hidden': 'true', focusable: 'false' },
    s('rect', { x: 0, y: 0, width: 32, height: 32, rx: 8, fill: '#2356c2' }),
    s('path', { d: 'M7 22 L13 15 L18 19 L25 10', fill: 'none', stroke: '#ffffff', 'stroke-width': 3, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }));
}

function navItems(me) {
  const items = [{ href: '/dashboard.html', label: 'Dashboard' }];
  if (canManage(me)) items.push({ href: '/bot-new.html', label: 'New bot' });
  // The strategy lab (issue 16): every role; viewers see the backtests and strategies, no forms.
  items.push({ href: '/lab.html', label: 'Lab' });
  if (isAdmin(me)) {
    items.push(
      { href: '/admin-clients.html', label: 'Clients' },
      { href: '/admin-bots.html', label: 'All bots' },
      { href: '/admin-system.html', label: 'System' },
      { href: '/admin-audit.html', label: 'Audit' },
    );
  }
  return items;
}

function renderHeader(me) {
  currentUsername = me.user.username;
  const header = $('#app-header');
  if (!header) return;
  const here = location.pathname;
  const nav = h('nav', { class: 'app-nav', 'aria-label': 'Main' },
    h('ul', {}, navItems(me).map((item) => h('li', {},
      h('a', { href: item.href, 'aria-current': item.href === here ? 'page' : null }, item.label)))));

  const role = ROLE_WORDS[me.user.role] ?? me.user.role;
  const who = h('span', { class: 'user-area__who' },
    h('span', { class: 'visually-hidden' }, 'Signed in as '),
    h('strong', { 'data-testid': 'current-user' }, me.user.username),
    ` · ${role}${me.client ? ` · ${me.client.name || me.client.id}` : ''}`);

  const pwButton = h('button', { type: 'button', class: 'btn btn--small', onclick: openPasswordDialog }, 'Change password');
  const outButton = h('button', { type: 'button', class: 'btn btn--small', 'data-testid': 'sign-out' }, 'Sign out');
  outButton.addEventListener('click', () => signOut(outButton));

  const toggle = h('button', { type: 'button', class: 'btn btn--small menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'app-menu' },
    h('span', { class: 'menu-toggle__bars', 'aria-hidden': 'true' }), 'Menu');
  const menu = h('div', { class: 'app-menu', id: 'app-menu' }, nav, h('div', { class: 'user-area' }, who, pwButton, outButton));
  const setOpen = (open) => {
    header.classList.toggle('is-open', open);
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => setOpen(toggle.getAttribute('aria-expanded') !== 'true'));
  header.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && header.classList.contains('is-open')) { setOpen(false); toggle.focus(); }
  });

  header.replaceChildren(h('div', { class: 'app-header__inner' },
    h('a', { class: 'brand', href: '/dashboard.html' }, brandMark(), 'fta'),
    h('span', { class: 'dry-pill', title: 'All bots paper-trade: no real money, no exchange keys' }, 'Dry-run only'),
    toggle,
    menu));
}

async function signOut(button) {
  try {
    await busy(button, 'Signing out…', () => api('/auth/logout', { method: 'POST', body: {} }));
    location.assign('/login.html?signedout=1');
  } catch (err) {
    if (!err.redirecting) toast(`Sign-out failed: ${errorText(err)}`, 'error');
  }
}

/* ---------- change password ---------- */

let pwDialog = null;
let currentUsername = '';

function field({ id, name, label, type = 'password', autocomplete, hint }) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name, type, autocomplete, required: true, 'aria-describedby': `${id}-err${hint ? ` ${id}-hint` : ''}` }),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    h('p', { class: 'field-error', id: `${id}-err`, 'data-error-for': name, hidden: true }));
}

function buildPasswordDialog() {
  const message = h('div', { class: 'msg msg--error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary' }, 'Change password');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { class: 'dialog__body', novalidate: true },
    h('h2', { id: 'pw-title' }, 'Change your password'),
    message,
    // Lets password managers file the new password under the right account.
    h('input', { type: 'text', name: 'username', autocomplete: 'username', value: currentUsername, hidden: true, tabindex: '-1', 'aria-hidden': 'true' }),
    field({ id: 'pw-current', name: 'currentPassword', label: 'Current password', autocomplete: 'current-password' }),
    field({ id: 'pw-new', name: 'newPassword', label: 'New password', autocomplete: 'new-password', hint: 'Other sessions of your account end when it changes.' }),
    field({ id: 'pw-confirm', name: 'confirm', label: 'New password again', autocomplete: 'new-password' }),
    h('div', { class: 'dialog__actions' }, cancel, submit));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'pw-title' }, form);
  cancel.addEventListener('click', () => dialog.close());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    clearMessage(message);
    const currentPassword = form.elements.currentPassword.value;
    const newPassword = form.elements.newPassword.value;
    const local = {};
    if (!currentPassword) local.currentPassword = 'Enter your current password.';
    if (!newPassword) local.newPassword = 'Enter a new password.';
    else if (newPassword !== form.elements.confirm.value) local.confirm = 'The two new passwords differ.';
    if (Object.keys(local).length) { showFieldErrors(form, local); return; }
    try {
      await busy(submit, 'Saving…', () => api('/me/password', { method: 'POST', body: { currentPassword, newPassword } }));
      dialog.close();
      form.reset();
      toast('Password changed. Your other sessions were signed out.');
    } catch (err) {
      if (err.redirecting) return;
      const leftover = err.fields ? showFieldErrors(form, err.fields) : [];
      showError(message, err);
      if (leftover.length) showMessage(message, `${err.message} ${leftover.join(' ')}`, 'error');
    }
  });
  document.body.append(dialog);
  return dialog;
}

function openPasswordDialog() {
  pwDialog ??= buildPasswordDialog();
  const form = pwDialog.querySelector('form');
  form.reset();
  clearFieldErrors(form);
  clearMessage(form.querySelector('.msg'));
  pwDialog.showModal();
  form.elements.currentPassword.focus();
}
