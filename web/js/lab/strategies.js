// The Strategies tab: the shipped strategies, and the client's own (custom) ones: upload a .py
// file (owners; an operator for a chosen client), each version checked by Freqtrade in an
// isolated job (validating → valid or invalid, with Freqtrade's own message), versions, delete.
// Freqtrade's message is the client's code talking back: it is only ever text (textContent in a
// <pre>), never markup.
import { h, fill, setText } from '../dom.js';
import { busy, showMessage, clearMessage, clearFieldErrors, showFieldErrors, errorText, confirmDialog, toast, badge } from '../ui.js';
import { shortDateTime, dateTime } from '../format.js';
import { labApi } from './api.js';
import { poll, shortVersion } from './common.js';

const POLL_MS = 2000;
// Reading a file far beyond what the portal accepts would only freeze the tab; the portal
// states its own limit (413) for anything in between.
const READ_LIMIT = 1024 * 1024;

const STATUS = { validating: ['Checking', 'busy'], valid: ['Valid', 'ok'], invalid: ['Invalid', 'bad'] };
function strategyBadge(status) {
  const [word, tone] = STATUS[status] ?? [String(status ?? 'Unknown'), 'idle'];
  const el = badge(word, tone);
  el.dataset.status = status ?? '';
  return el;
}

const sizeText = (bytes) => (Number.isFinite(Number(bytes)) ? `${(Number(bytes) / 1024).toLocaleString(undefined, { maximumFractionDigits: 1 })} KiB` : '—');

/** Freqtrade's message in a <pre>, as text only. */
function messageBlock(text, id) {
  const pre = h('pre', { class: 'log lab-message', tabindex: '0', id: id ?? null, 'data-testid': 'strategy-message' });
  pre.textContent = String(text ?? '');
  return pre;
}

/** The file as UTF-8 text; a file that is not UTF-8 is refused here with a clear reason. */
function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(new Error('The file could not be read.'));
    reader.onload = () => {
      try {
        resolve(new TextDecoder('utf-8', { fatal: true }).decode(reader.result));
      } catch {
        reject(Object.assign(new Error('The file is not UTF-8 text.'), { field: 'source' }));
      }
    };
    reader.readAsArrayBuffer(file);
  });
}

export function createStrategiesView({ container, admin, manager, onChanged }) {
  let loop = null;
  let data = null;
  let clients = null;
  const openVersions = new Set(); // names whose versions are shown
  const listBox = h('div', { id: 'custom-list' });
  const listNote = h('p', { class: 'note', role: 'status' });
  const listMsg = h('div', { class: 'msg msg--error', role: 'alert', hidden: true });
  const shippedBox = h('div', { id: 'shipped-list' });
  const uploadBox = h('div', { id: 'upload-box' });

  fill(container,
    h('section', { class: 'card', 'aria-labelledby': 'h-custom' },
      h('div', { class: 'card__head' }, h('h2', { id: 'h-custom' }, admin ? 'Clients’ strategies' : 'Your strategies')),
      uploadBox, listMsg, listBox, listNote),
    h('section', { class: 'card', 'aria-labelledby': 'h-shipped' },
      h('div', { class: 'card__head' }, h('h2', { id: 'h-shipped' }, 'Shipped with fta')), shippedBox));

  /* ---------- upload ---------- */

  function buildUpload() {
    if (!manager) {
      fill(uploadBox, h('p', { class: 'card__hint', 'data-testid': 'viewer-note' }, 'Owners of your client upload strategies; you can see them and their results.'));
      return;
    }
    if (!admin && data && data.customEnabled === false) {
      fill(uploadBox, h('div', { class: 'msg msg--info', 'data-testid': 'custom-disabled' },
        'Custom strategies are not enabled for your client: the operator has not turned them on. The shipped strategies below can be backtested and used by bots.'));
      return;
    }
    if (uploadBox.querySelector('form')) return; // built once: what is typed stays
    const message = h('div', { class: 'msg', role: 'status', 'aria-live': 'polite', hidden: true });
    const file = h('input', { id: 'st-file', name: 'fileName', type: 'file', accept: '.py,text/x-python', required: true, 'aria-describedby': 'st-file-hint st-file-err st-source-err' });
    const client = admin ? h('select', { id: 'st-client', name: 'clientId', 'aria-describedby': 'st-client-err' }, h('option', { value: '' }, 'Choose a client…')) : null;
    const submit = h('button', { type: 'submit', class: 'btn btn--primary', id: 'st-submit' }, 'Upload and check');
    const form = h('form', { class: 'form lab-upload', novalidate: true, id: 'st-form', 'aria-labelledby': 'h-upload' },
      h('h3', { id: 'h-upload' }, 'Upload a strategy'),
      message,
      client ? h('div', { class: 'field' }, h('label', { for: 'st-client' }, 'Client'), client,
        h('p', { class: 'field-error', id: 'st-client-err', 'data-error-for': 'clientId', hidden: true })) : null,
      h('div', { class: 'field' },
        h('label', { for: 'st-file' }, 'Strategy file (.py)'), file,
        h('p', { class: 'hint', id: 'st-file-hint' }, 'One Freqtrade strategy class; the file is named after it (MyStrategy.py holds class MyStrategy). '
          + 'It is checked by Freqtrade in an isolated container before it can be used; uploading the same name again adds a version.'),
        h('p', { class: 'field-error', id: 'st-file-err', 'data-error-for': 'fileName', hidden: true }),
        h('p', { class: 'field-error', id: 'st-source-err', 'data-error-for': 'source', hidden: true })),
      h('div', { class: 'form-actions' }, submit));
    if (client) {
      (clients ? Promise.resolve(clients) : labApi.clients().then((r) => { clients = r?.clients ?? []; return clients; }))
        .then((list) => fill(client, h('option', { value: '' }, 'Choose a client…'),
          list.map((c) => h('option', { value: c.id }, `${c.name || c.id} (${c.id})${c.customStrategies === false ? ' · custom strategies off' : ''}`))))
        .catch((err) => { if (!err.redirecting) showMessage(message, `The clients could not be loaded: ${errorText(err)}`, 'error'); });
    }
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      clearMessage(message);
      const chosen = file.files?.[0];
      const local = {};
      if (!chosen) local.fileName = 'Choose a .py file.';
      else if (!/\.py$/.test(chosen.name)) local.fileName = 'The file must end in .py.';
      else if (chosen.size > READ_LIMIT) local.source = `The file is ${sizeText(chosen.size)}; a strategy file is far smaller than that.`;
      if (client && !client.value) local.clientId = 'Choose the client this strategy belongs to.';
      if (Object.keys(local).length) { showFieldErrors(form, local); return; }
      try {
        const created = await busy(submit, 'Uploading…', async () => {
          const source = await readFile(chosen);
          const body = { fileName: chosen.name, source };
          if (client) body.clientId = client.value;
          return labApi.uploadStrategy(body);
        });
        file.value = '';
        showMessage(message, `${created?.name ?? chosen.name} uploaded. Freqtrade is checking it; the list below shows the outcome.`, 'ok');
        toast(`${created?.name ?? chosen.name} uploaded; checking…`);
        refresh();
      } catch (err) {
        if (err.redirecting) return;
        if (err.field) { showFieldErrors(form, { [err.field]: err.message }); return; }
        const leftover = err.fields ? showFieldErrors(form, err.fields) : [];
        // The file is a field too: a 413 (too large) or 403 (not enabled) belongs next to it.
        if (!err.fields && err.status === 413) showFieldErrors(form, { source: errorText(err) });
        showMessage(message, [errorText(err), ...leftover].join(' '), 'error');
      }
    });
    fill(uploadBox, form);
  }

  /* ---------- lists ---------- */

  function renderShipped() {
    const shipped = data?.shipped ?? [];
    fill(shippedBox, shipped.length
      ? h('ul', { class: 'lab-shipped' }, shipped.map((s) => h('li', { 'data-strategy': s.name },
        h('strong', {}, s.displayName || s.name), ' ', h('code', {}, s.name), s.summary ? h('p', { class: 'card__hint' }, s.summary) : null)))
      : h('p', { class: 'card__hint' }, 'No shipped strategies listed.'));
  }

  async function toggleVersions(s, button, slot) {
    const key = `${s.clientId ?? ''}/${s.name}`;
    if (openVersions.has(key)) {
      openVersions.delete(key);
      button.setAttribute('aria-expanded', 'false');
      slot.hidden = true;
      fill(slot);
      return;
    }
    openVersions.add(key);
    button.setAttribute('aria-expanded', 'true');
    slot.hidden = false;
    await loadVersions(s, slot);
  }

  async function loadVersions(s, slot) {
    fill(slot, h('td', { colspan: '6' }, h('p', { class: 'note' }, `Loading the versions of ${s.name}…`)));
    try {
      const detail = await labApi.strategy(s.name);
      const versions = Array.isArray(detail?.versions) ? detail.versions : [];
      fill(slot, h('td', { colspan: '6' }, h('div', { class: 'lab-versions' },
        h('h4', {}, `Versions of ${s.name}`),
        h('ol', { class: 'lab-versions__list', reversed: true }, versions.map((v) => h('li', { 'data-version': v.version },
          h('div', { class: 'btn-row' }, strategyBadge(v.status), h('code', { title: v.version }, shortVersion(v.version)),
            h('span', { class: 'note' }, `${sizeText(v.sizeBytes)} · ${dateTime(v.uploadedAt)}${v.uploadedBy ? ` by ${v.uploadedBy}` : ''}`)),
          v.status === 'invalid' && v.message ? messageBlock(v.message) : null))),
        typeof detail?.source === 'string'
          ? h('details', { class: 'lab-source' }, h('summary', {}, 'Source of the latest version'), messageBlock(detail.source)) : null)));
    } catch (err) {
      if (err.redirecting) return;
      fill(slot, h('td', { colspan: '6' }, h('p', { class: 'msg msg--error', role: 'alert' }, `Could not load the versions: ${errorText(err)}`)));
    }
  }

  async function remove(s, button) {
    clearMessage(listMsg);
    const ok = await confirmDialog({
      title: `Delete strategy ${s.name}?`,
      message: ['Every version of it is removed. Backtests that ran it keep their results.',
        'A bot that uses it must be changed or deleted first.'],
      confirmLabel: 'Delete strategy', danger: true,
    });
    if (!ok) return;
    try {
      await busy(button, 'Deleting…', () => labApi.deleteStrategy(s.name));
      toast(`Strategy ${s.name} deleted.`);
      await refresh();
      listBox.querySelector('button')?.focus();
    } catch (err) {
      if (err.redirecting) return;
      showMessage(listMsg, err.status === 409
        ? `${s.name} is in use: ${errorText(err)}`
        : `Could not delete ${s.name}: ${errorText(err)}`, 'error');
    }
  }

  function renderCustom() {
    const custom = data?.custom ?? [];
    if (!custom.length) {
      fill(listBox, h('p', { class: 'card__hint' }, admin ? 'No client has uploaded a strategy.' : 'No strategies of your own yet.'));
      return;
    }
    // Keep what the person had open (versions) and where the focus was, across the 2-s refresh.
    const focusKey = document.activeElement?.closest?.('#custom-list') ? document.activeElement.dataset.focusKey : null;
    const rows = [];
    for (const s of custom) {
      const key = `${s.clientId ?? ''}/${s.name}`;
      const versionsButton = h('button', { type: 'button', class: 'btn btn--small', 'aria-expanded': 'false', 'data-focus-key': `v:${key}` }, 'Versions');
      versionsButton.setAttribute('aria-label', `Versions of ${s.name}`);
      const del = manager ? h('button', { type: 'button', class: 'btn btn--small btn--danger', 'data-action': 'delete-strategy', 'data-focus-key': `d:${key}`, 'aria-label': `Delete ${s.name}` }, 'Delete') : null;
      const slot = h('tr', { class: 'lab-versions-row', hidden: true });
      versionsButton.addEventListener('click', () => toggleVersions(s, versionsButton, slot));
      del?.addEventListener('click', () => remove(s, del));
      rows.push(h('tr', { 'data-strategy': s.name, 'data-status': s.status },
        h('td', {}, h('strong', {}, s.name), admin && s.clientId ? h('span', { class: 'lab-sub' }, `client ${s.clientId}`) : null),
        h('td', {}, strategyBadge(s.status), s.status === 'validating' ? h('span', { class: 'lab-sub' }, 'Freqtrade is checking it…') : null),
        h('td', {}, h('code', { title: s.version ?? '' }, shortVersion(s.version))),
        h('td', { class: 'num' }, sizeText(s.sizeBytes)),
        h('td', { class: 'nowrap' }, shortDateTime(s.uploadedAt), s.uploadedBy ? h('span', { class: 'lab-sub' }, `by ${s.uploadedBy}`) : null),
        h('td', {}, h('div', { class: 'btn-row' }, versionsButton, del))));
      if (s.status === 'invalid') {
        rows.push(h('tr', { class: 'lab-message-row', 'data-message-for': s.name },
          h('td', { colspan: '6' }, h('p', { class: 'lab-sub' }, 'Freqtrade could not load this version:'), messageBlock(s.message || 'No message was given.'))));
      }
      rows.push(slot);
      if (openVersions.has(key)) {
        versionsButton.setAttribute('aria-expanded', 'true');
        slot.hidden = false;
        loadVersions(s, slot);
      }
    }
    fill(listBox, h('div', { class: 'table-wrap' }, h('table', { class: 'table lab-strategies' },
      h('thead', {}, h('tr', {}, ['Name', 'Status', 'Version', 'Size', 'Uploaded'].map((l, i) => h('th', { scope: 'col', class: i === 3 ? 'num' : null }, l)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, rows))));
    if (focusKey) listBox.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
  }

  async function load() {
    try {
      const next = await labApi.strategies();
      // Redraw only on change: a list that stays the same keeps its open versions as they are.
      const changed = JSON.stringify(next) !== JSON.stringify(data);
      data = next;
      clearMessage(listMsg);
      buildUpload();
      if (changed) { renderShipped(); renderCustom(); }
      const checking = (data.custom ?? []).filter((s) => s.status === 'validating').length;
      listNote.className = 'note';
      setText(listNote, checking ? `${checking} being checked · refreshing every 2 s` : `Updated ${shortDateTime(new Date())}`);
      // The backtest form offers the valid ones: it follows every change of the list.
      if (changed) onChanged?.(data);
      return checking > 0;
    } catch (err) {
      if (err.redirecting) return false;
      listNote.className = 'note note--bad';
      setText(listNote, `Could not load the strategies: ${errorText(err)} Retrying…`);
      if (!data) fill(listBox);
      return true;
    }
  }

  function refresh() {
    loop?.stop();
    return new Promise((resolve) => {
      let first = true;
      loop = poll(POLL_MS, async () => { const again = await load(); if (first) { first = false; resolve(); } return again; });
    });
  }

  return { refresh, stop() { loop?.stop(); }, get data() { return data; } };
}
