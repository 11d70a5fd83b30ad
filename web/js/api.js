// The one way this UI talks to the portal: JSON over fetch, same-origin cookies only.
// Docs: docs/api.md. Errors always become ApiError with the API's own message.

const API_ROOT = '/api/v1';

export class ApiError extends Error {
  constructor({ status = 0, code = 'network', message, fields = null, retryAfter = null }) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter;
    // True when the page is already on its way to the sign-in page; callers stay quiet then.
    this.redirecting = false;
  }
}

const FALLBACK = {
  400: 'The request was not accepted.',
  401: 'You are not signed in.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  409: 'That conflicts with the current state.',
  413: 'The request is too large.',
  415: 'The request was sent in a format the portal does not accept.',
  429: 'Too many attempts. Wait a moment and try again.',
  500: 'The portal hit an internal error.',
  502: 'The portal is not reachable right now (bad gateway).',
  503: 'The service is temporarily unavailable.',
  504: 'The portal took too long to answer.',
};

function parseRetryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds));
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.round((at - Date.now()) / 1000));
}

let redirecting = false;

/** Sends the browser to sign in, remembering where it was (only this page's own path). */
export function redirectToLogin({ expired = true } = {}) {
  if (redirecting) return;
  redirecting = true;
  const q = new URLSearchParams();
  const here = location.pathname + location.search;
  if (safeNext(here) && here !== '/' && here !== '/index.html') q.set('next', here);
  if (expired) q.set('expired', '1');
  const qs = q.toString();
  location.assign(qs ? `/login.html?${qs}` : '/login.html');
}

/** Whether `path` is a path on this origin as a browser reads it: one "/" first, not "//", no backslash or control character. */
function isLocalPath(path) {
  return path.startsWith('/') && !path.startsWith('//') && !/[\\\u0000-\u001f\u007f]/.test(path);
}

/**
 * A `next` target is accepted only as a relative path on this origin: it starts with one "/",
 * never "//" (protocol-relative) and carries no backslash (browsers read "/\\host" as "//host")
 * or control character (browsers drop tabs and newlines). The check is made again on the
 * normalised result: "/.//evil.example" is a fine-looking path whose normal form is
 * "//evil.example", another host.
 */
export function safeNext(raw) {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2000) return null;
  if (!isLocalPath(raw)) return null;
  let url;
  try { url = new URL(raw, location.origin); } catch { return null; }
  if (url.origin !== location.origin) return null;
  if (url.pathname === '/login.html') return null;
  const target = url.pathname + url.search + url.hash;
  return isLocalPath(url.pathname) ? target : null;
}

/**
 * Calls the API. `on401: 'redirect'` (default) sends an expired session to the sign-in page;
 * `'throw'` leaves a 401 to the caller (sign-in page, start page).
 */
export async function api(path, { method = 'GET', body, on401 = 'redirect', signal } = {}) {
  const init = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json' },
    signal,
  };
  if (method !== 'GET' && method !== 'HEAD') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }

  let response;
  try {
    response = await fetch(API_ROOT + path, init);
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError({ message: 'The portal could not be reached. Check your connection and try again.' });
  }

  if (response.status === 204) return null;

  let data = null;
  if ((response.headers.get('Content-Type') || '').includes('json')) {
    try { data = await response.json(); } catch { data = null; }
  }

  if (response.ok) {
    if (data === null) {
      throw new ApiError({ status: response.status, code: 'bad_response', message: 'The portal sent an answer this page cannot read.' });
    }
    return data;
  }

  const e = (data && typeof data.error === 'object' && data.error) || {};
  const err = new ApiError({
    status: response.status,
    code: typeof e.code === 'string' ? e.code : `http_${response.status}`,
    message: typeof e.message === 'string' && e.message ? e.message
      : (FALLBACK[response.status] ?? `The portal answered with an error (HTTP ${response.status}).`),
    fields: e.fields && typeof e.fields === 'object' ? e.fields : null,
    retryAfter: parseRetryAfter(response.headers.get('Retry-After')),
  });
  if (response.status === 401 && err.code !== 'invalid_credentials' && on401 === 'redirect') {
    err.redirecting = true;
    redirectToLogin({ expired: true });
  }
  throw err;
}

/** Path segment encoder for ids that go into URLs. */
export const seg = (value) => encodeURIComponent(String(value));
