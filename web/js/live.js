// Live updates from the portal: one EventSource on /api/v1/stream per page (issue 13).
// The portal fetches each bot once for everyone watching and pushes `bots` rows every 5 s and
// `event` objects as the bots report them, so pages no longer poll the bots themselves.
//
// Usage:
//   const live = connectLive({ statusEl: $('#live-state') });
//   live.on('bots', (message) => ...);   // {"bots": [dashboard rows]}
//   live.on('event', (event) => ...);    // one activity event
//   live.on('state', (state) => ...);    // 'connecting' | 'live' | 'reconnecting' | 'polling'
//
// When the stream keeps failing (a proxy that buffers or cuts long responses, an old portal),
// the page falls back to asking GET /dashboard and GET /events on a timer, and keeps trying
// the stream now and then: once it opens again, the polling stops.
import { api } from './api.js';
import { h, fill } from './dom.js';

const STREAM_PATH = '/api/v1/stream';
// Backoff between reconnects: 1 s, 2 s, 4 s ... capped, with jitter so that a portal restart
// is not met by every open page in the same second.
const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30000;
// Consecutive failures (no `open` in between) after which the page polls instead.
const FAILURES_BEFORE_POLLING = 4;
// While polling: how often to poll, and how often to try the stream again.
const POLL_MS = 10000;
const RETRY_STREAM_WHILE_POLLING_MS = 60000;

const STATE_WORDS = {
  connecting: ['Connecting…', 'busy', 'Connecting to live updates.'],
  live: ['Live', 'ok', 'Updates arrive as they happen.'],
  reconnecting: ['Reconnecting…', 'busy', 'Live updates were interrupted; reconnecting.'],
  polling: ['Refreshing every 10 s', 'idle', 'Live updates are not available right now; the page refreshes every 10 seconds instead.'],
  closed: ['Not updating', 'idle', 'This page no longer updates.'],
};

/** A badge for a live state: a coloured dot and a word, with the longer explanation as title. */
function stateBadge(state) {
  const [word, tone, title] = STATE_WORDS[state] ?? STATE_WORDS.closed;
  return h('span', { class: `badge badge--${tone}`, title, 'data-live-state': state },
    h('span', { class: 'badge__dot', 'aria-hidden': 'true' }), word);
}

function parse(data) {
  try { return JSON.parse(data); } catch { return null; }
}

/**
 * Connects to the portal's stream. Options:
 *   statusEl     an element to show the live state in (filled with a badge);
 *   client       admin only: limit to one client (?client=ID);
 *   pollBots     the API path polled for `bots` while falling back ('/dashboard', or null to skip);
 *   pollEvents   the API path polled for events while falling back ('/events?limit=50', or null).
 * Returns { on(type, fn), close(), state }.
 */
export function connectLive({ statusEl = null, client = null, pollBots = '/dashboard', pollEvents = '/events?limit=50' } = {}) {
  const listeners = { bots: new Set(), event: new Set(), state: new Set() };
  let source = null;
  let state = 'connecting';
  let failures = 0;
  let reconnectTimer = null;
  let pollTimer = null;
  let closed = false;
  // Newest event id seen, so that polling hands on only events the page has not had yet.
  let lastEventId = 0;

  const query = client ? `?${new URLSearchParams({ client })}` : '';
  const pollSuffix = (path) => (client && path ? `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams({ client })}` : path);

  function emit(type, payload) {
    for (const fn of listeners[type]) {
      try { fn(payload); } catch (error) {
        // A listener's bug must not stop the others or the stream; it still shows in the console.
        setTimeout(() => { throw error; });
      }
    }
  }

  let shown = false;
  function setState(next) {
    if (state === next && shown) return;
    shown = true;
    state = next;
    if (statusEl) fill(statusEl, stateBadge(next));
    emit('state', next);
  }

  function onEvent(message) {
    const event = parse(message.data);
    if (!event || typeof event !== 'object') return;
    if (Number.isFinite(event.id)) lastEventId = Math.max(lastEventId, event.id);
    emit('event', event);
  }

  function onBots(message) {
    const body = parse(message.data);
    if (body && Array.isArray(body.bots)) emit('bots', body);
  }

  function open() {
    if (closed) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    let opened = false;
    source = new EventSource(STREAM_PATH + query);
    source.addEventListener('open', () => {
      opened = true;
      failures = 0;
      stopPolling();
      setState('live');
    });
    source.addEventListener('event', onEvent);
    source.addEventListener('bots', onBots);
    source.addEventListener('error', () => {
      // EventSource retries on its own, at its own pace and not at all after an HTTP error;
      // closing it and reconnecting here gives one backoff for every kind of failure.
      source?.close();
      source = null;
      if (closed) return;
      if (!opened || state !== 'live') failures += 1; else failures = 1;
      // A stream that fails might be a session that ended: /me sends the page to sign in then.
      if (failures >= 2) api('/me').catch(() => {});
      if (failures >= FAILURES_BEFORE_POLLING) {
        startPolling();
        reconnectTimer = setTimeout(open, RETRY_STREAM_WHILE_POLLING_MS);
      } else {
        setState('reconnecting');
        const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** (failures - 1));
        reconnectTimer = setTimeout(open, base / 2 + Math.random() * (base / 2));
      }
    });
  }

  async function pollOnce() {
    const work = [];
    if (pollBots) {
      work.push(api(pollSuffix(pollBots)).then((body) => {
        if (body && Array.isArray(body.bots)) emit('bots', { bots: body.bots });
      }));
    }
    if (pollEvents) {
      work.push(api(pollSuffix(pollEvents)).then((body) => {
        const fresh = (body?.events ?? []).filter((e) => Number.isFinite(e.id) && e.id > lastEventId);
        // Oldest first, so that listeners that prepend end with the newest on top.
        fresh.sort((a, b) => a.id - b.id).forEach((e) => {
          lastEventId = Math.max(lastEventId, e.id);
          emit('event', e);
        });
      }));
    }
    // Errors while polling are the same the page would show anyway; the next round retries.
    await Promise.allSettled(work);
  }

  function startPolling() {
    setState('polling');
    if (pollTimer || closed) return;
    const tick = async () => {
      if (closed || state !== 'polling') { pollTimer = null; return; }
      if (!document.hidden) await pollOnce();
      if (!closed && state === 'polling') pollTimer = setTimeout(tick, POLL_MS);
      else pollTimer = null;
    };
    pollTimer = setTimeout(tick, 0);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  function close() {
    closed = true;
    source?.close();
    source = null;
    clearTimeout(reconnectTimer);
    stopPolling();
    setState('closed');
  }

  // The stream holds one of the browser's connections to the portal: give it back on leaving,
  // and take it again when the page comes back from the back/forward cache.
  window.addEventListener('pagehide', () => {
    if (closed) return;
    source?.close();
    source = null;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    stopPolling();
  });
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted || closed) return;
    failures = 0;
    setState('reconnecting');
    open();
  });

  setState('connecting');
  open();

  return {
    on(type, fn) {
      if (!listeners[type]) throw new Error(`unknown live message type: ${type}`);
      listeners[type].add(fn);
      return () => listeners[type].delete(fn);
    },
    /** Events the page loaded itself (the initial feed): polling then starts after them. */
    seen(eventId) {
      if (Number.isFinite(eventId)) lastEventId = Math.max(lastEventId, eventId);
    },
    close,
    get state() { return state; },
  };
}
