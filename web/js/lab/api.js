// The strategy lab's calls to the portal (the lab's HTTP API: strategies, backtests, replays).
// Everything goes through web/js/api.js, so the JSON and CSRF rules, the error shape and the
// sign-in redirect are the same as on every other page.
import { api, seg } from '../api.js';

/** The API answers one object either bare or wrapped (`{"backtest": {...}}`); read both. */
export function unwrap(body, key) {
  return body && typeof body === 'object' && body[key] && typeof body[key] === 'object' ? body[key] : body;
}

const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : '';
};

export const labApi = {
  catalog: () => api('/catalog'),
  clients: () => api('/clients'),

  strategies: ({ clientId } = {}) => api(`/strategies${query({ clientId })}`),
  strategy: (name) => api(`/strategies/${seg(name)}`),
  uploadStrategy: (body) => api('/strategies', { method: 'POST', body }).then((r) => unwrap(r, 'strategy')),
  deleteStrategy: (name) => api(`/strategies/${seg(name)}`, { method: 'DELETE', body: {} }),
  parameters: (name, { signal } = {}) => api(`/strategies/${seg(name)}/parameters`, { signal }),

  backtests: () => api('/backtests'),
  backtest: (id) => api(`/backtests/${seg(id)}`).then((r) => unwrap(r, 'backtest')),
  createBacktest: (body) => api('/backtests', { method: 'POST', body }).then((r) => unwrap(r, 'backtest')),
  cancelBacktest: (id) => api(`/backtests/${seg(id)}/cancel`, { method: 'POST', body: {} }).then((r) => unwrap(r, 'backtest')),
  deleteBacktest: (id) => api(`/backtests/${seg(id)}`, { method: 'DELETE', body: {} }),
  // Ids are [a-z0-9-]: the commas stay literal, as the API describes the query.
  compare: (ids) => api(`/backtests/compare?ids=${ids.map(seg).join(',')}`),
  botFromBacktest: (id, body) => api(`/backtests/${seg(id)}/bot`, { method: 'POST', body }).then((r) => unwrap(r, 'bot')),

  replay: (botId) => api(`/bots/${seg(botId)}/replay`, { method: 'POST', body: {} }).then((r) => unwrap(r, 'backtest')),
};
