// Sign-in page: wrong password, lock-out with its wait, expired session, and a safe return path.
import { api, safeNext } from '../api.js';
import { param } from '../dom.js';
import { busy, showMessage, clearMessage, clearFieldErrors, showFieldErrors } from '../ui.js';
import { duration } from '../format.js';

const form = document.getElementById('login-form');
const submit = document.getElementById('login-submit');
const notice = document.getElementById('login-notice');
const errorBox = document.getElementById('login-error');
const next = safeNext(param('next'));

if (param('expired') === '1') {
  showMessage(notice, 'Your session has expired. Sign in again to continue where you were.', 'info');
} else if (param('signedout') === '1') {
  showMessage(notice, 'You have signed out.', 'ok');
}

let lockTimer = null;

function waitWords(seconds) {
  if (seconds <= 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/**
 * Too many attempts: say how long once (the alert is read out once), and keep the button off
 * with a countdown on its label until the wait is over.
 */
function lockOut(err) {
  clearInterval(lockTimer);
  const wait = err.retryAfter;
  if (!Number.isFinite(wait) || wait <= 0) {
    showMessage(errorBox, `Too many sign-in attempts. ${err.message} Wait a while before trying again.`, 'error');
    return;
  }
  showMessage(errorBox, `Too many sign-in attempts. Try again in ${waitWords(wait)}.`, 'error');
  const until = Date.now() + wait * 1000;
  const render = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    if (left === 0) {
      clearInterval(lockTimer);
      submit.disabled = false;
      submit.textContent = 'Sign in';
      showMessage(errorBox, 'You can try to sign in again now.', 'info');
      return;
    }
    submit.disabled = true;
    submit.textContent = `Sign in (wait ${duration(left * 1000)})`;
  };
  render();
  lockTimer = setInterval(render, 1000);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(errorBox);
  clearMessage(notice);
  clearFieldErrors(form);
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  const missing = {};
  if (!username) missing.username = 'Enter your username.';
  if (!password) missing.password = 'Enter your password.';
  if (Object.keys(missing).length) { showFieldErrors(form, missing); return; }

  try {
    await busy(submit, 'Signing in…', () => api('/auth/login', { method: 'POST', body: { username, password }, on401: 'throw' }));
    location.replace(next ?? '/dashboard.html');
  } catch (err) {
    form.elements.password.value = '';
    if (err.code === 'invalid_credentials' || err.status === 401) {
      showMessage(errorBox, 'Wrong username or password. Check both and try again.', 'error');
      form.elements.password.focus();
    } else if (err.code === 'too_many_attempts' || err.status === 429) {
      lockOut(err);
    } else {
      showMessage(errorBox, `Sign-in failed: ${err.message}`, 'error');
    }
  }
});

form.elements.username.focus();
