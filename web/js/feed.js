// The activity feed: the events the portal records from the bots' message websockets
// (fills, cancels, protections, warnings, errors, status changes, unreachable), newest first.
// Shared by the dashboard (all of the client's bots) and the bot page (one bot).
//
//   const feed = createFeed($('#feed'), { showBot: true, botName: (id) => names.get(id) });
//   feed.set(events);   // the initial list (GET /api/v1/events), any order
//   feed.add(event);    // one event pushed later; duplicates are ignored
import { h, fill, pageUrl } from './dom.js';
import { shortDateTime, dateTime, toDate } from './format.js';

/** Every kind the portal records: a word (the colour is never the only signal) and a tone. */
const KINDS = {
  entry_fill: ['Entry filled', 'ok'],
  exit_fill: ['Exit filled', 'info'],
  entry_cancel: ['Entry cancelled', 'idle'],
  exit_cancel: ['Exit cancelled', 'idle'],
  protection_trigger: ['Protection', 'busy'],
  warning: ['Warning', 'busy'],
  exception: ['Error', 'bad'],
  status: ['Status', 'info'],
  unreachable: ['Unreachable', 'bad'],
  reachable: ['Reachable again', 'ok'],
};

export function kindWord(kind) {
  return (KINDS[kind] ?? [String(kind ?? 'Event')])[0];
}

function kindBadge(kind) {
  const [word, tone] = KINDS[kind] ?? [String(kind ?? 'Event'), 'idle'];
  return h('span', { class: `badge badge--${tone} feed__kind` }, h('span', { class: 'badge__dot', 'aria-hidden': 'true' }), word);
}

/** One event as a list item; everything from the API goes in as text. */
export function renderEvent(event, { showBot = true, botName = () => null } = {}) {
  const at = toDate(event.at);
  const botId = event.botId ?? '';
  return h('li', { class: `feed__item feed__item--${KINDS[event.kind] ? event.kind : 'other'}`, 'data-event-id': event.id, 'data-kind': event.kind ?? '' },
    h('div', { class: 'feed__head' },
      kindBadge(event.kind),
      h('span', { class: 'feed__title' }, event.title || kindWord(event.kind)),
      at ? h('time', { class: 'feed__time', datetime: at.toISOString(), title: dateTime(at) }, shortDateTime(at)) : null),
    showBot && botId
      ? h('a', { class: 'feed__bot', href: pageUrl('/bot.html', { id: botId }) }, botName(botId) || botId)
      : null,
    event.detail ? h('p', { class: 'feed__detail' }, event.detail) : null);
}

/**
 * A feed in `container` (an element the page owns; it gets an <ol>). Options: showBot (name the
 * bot on each line), botName(id) → display name, limit (items kept in the page), emptyText.
 */
export function createFeed(container, { showBot = true, botName = () => null, limit = 100, emptyText } = {}) {
  const list = h('ol', { class: 'feed', 'aria-label': 'Activity, newest first' });
  const empty = h('p', { class: 'feed__empty' },
    emptyText ?? 'No activity yet. Fills, cancels, protections, warnings and errors of running bots show here as they happen.');
  fill(container, empty, list);
  const items = new Map(); // event id → <li>

  function update() {
    empty.hidden = items.size > 0;
    list.hidden = items.size === 0;
  }

  /** Inserts keeping newest (highest id) first: a late answer may carry an older event. */
  function insert(event) {
    const id = Number(event?.id);
    if (!Number.isFinite(id) || items.has(id)) return false;
    const li = renderEvent(event, { showBot, botName });
    let before = null;
    for (const child of list.children) {
      if (Number(child.dataset.eventId) < id) { before = child; break; }
    }
    list.insertBefore(li, before);
    items.set(id, li);
    while (items.size > limit) {
      const last = list.lastElementChild;
      items.delete(Number(last.dataset.eventId));
      last.remove();
    }
    return true;
  }

  update();
  return {
    set(events) {
      for (const event of events ?? []) insert(event);
      update();
      // Announce only what arrives after the first load, not the whole initial list.
      list.setAttribute('aria-live', 'polite');
      list.setAttribute('aria-relevant', 'additions');
    },
    add(event) {
      const added = insert(event);
      if (added) update();
      return added;
    },
    /** Re-renders the bot names (after the page learnt them). */
    renameBots() {
      for (const li of items.values()) {
        const link = li.querySelector('.feed__bot');
        const botId = link ? new URLSearchParams(link.search).get('id') : null;
        if (botId) link.textContent = botName(botId) || botId;
      }
    },
    get size() { return items.size; },
  };
}
