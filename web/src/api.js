// api.js - the node's HTTP API and its live events, for the pages.
// Errors of the API ({"error": {"code", "status", "message"}}) become
// ApiError: its message is the text of the machine code in the user's
// language (i18n.js key e_<code with . as _>; a code the UI does not know
// falls back to the generic code of the status), its detail the node's own
// message (English), which says what was wrong and what to do.
import { t } from './i18n.js';

// The generic code of each HTTP status (lib/error.c).
const STATUS_CODES = { 400: 'invalid', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found',
  405: 'method_not_allowed', 408: 'timeout', 409: 'conflict', 413: 'too_large',
  429: 'rate_limited', 500: 'internal', 503: 'unavailable' };

const codeKey = (code) => `e_${String(code).replace(/\./g, '_')}`;

// The user's-language text of an error code, else of the status's generic code.
export function errorText(code, status) {
  const k = codeKey(code);
  if (code && t(k) !== k) return t(k);
  const g = codeKey(STATUS_CODES[status] ?? (status >= 500 ? 'internal' : 'invalid'));
  return t(g) !== g ? t(g) : t('error');
}

// message: the translated text, then the node's detail as secondary text;
// text: the translated text alone.
export class ApiError extends Error {
  constructor(status, code, detail) {
    const text = errorText(code, status);
    super(detail ? `${text} (${detail})` : text);
    this.status = status;
    this.code = code;
    this.text = text;
    this.detail = detail;
  }
}

export const session = { user: null, unit: null, role: null, node_unit: null, node_unit_name: null,
  csrf: sessionStorage.getItem('lt_csrf') };

const ROLES = ['viewer', 'staff', 'leader', 'admin'];
export const roleAtLeast = (r) => ROLES.indexOf(session.role) >= ROLES.indexOf(r);

// headers: extra request headers (e.g. Idempotency-Key).
export async function api(path, { method = 'GET', body, raw, headers: extra } = {}) {
  const headers = { ...extra };
  if (body !== undefined && !raw) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['x-csrf-token'] = session.csrf;
  const res = await fetch(path.startsWith('/') ? path : `/api/v1/${path}`, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    throw new ApiError(res.status, data?.error?.code, data?.error?.message || `HTTP ${res.status}`);
  }
  return data;
}

// A query string of the non-empty values of o.
export function qs(o) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== '' && v != null) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export async function login(user, password) {
  const r = await api('login', { method: 'POST', body: { user, password } });
  session.csrf = r.csrf_token;
  sessionStorage.setItem('lt_csrf', r.csrf_token);
  return whoami();
}

export async function logout() {
  try { await api('logout', { method: 'POST' }); } catch { /* already gone */ }
  session.user = null;
  sessionStorage.removeItem('lt_csrf');
}

// Fills session from GET /me (the node's unit and its name even when not
// logged in); null when not logged in.
export async function whoami() {
  try {
    Object.assign(session, await api('me'));
    return session.user ? session : null;
  } catch (e) {
    if (e.status === 401) { session.user = null; return null; }
    throw e;
  }
}

// Live events (WebSocket /api/v1/events): live.addEventListener('report'|
// 'reports'|'sync'|'state', e => e.detail). Reconnects with back-off.
export const live = new EventTarget();
let ws = null, retry = 1000, wanted = false;
export let liveOpen = false;

function setOpen(v) {
  liveOpen = v;
  live.dispatchEvent(new CustomEvent('state', { detail: v }));
}

export function liveConnect() {
  wanted = true;
  if (ws) return;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/events`;
  ws = new WebSocket(url, 'lt-events');
  ws.onopen = () => { retry = 1000; setOpen(true); };
  ws.onmessage = (m) => {
    let d;
    try { d = JSON.parse(m.data); } catch { return; }
    live.dispatchEvent(new CustomEvent(d.type, { detail: d }));
  };
  ws.onclose = () => {
    ws = null;
    setOpen(false);
    if (wanted) setTimeout(liveConnect, retry);
    retry = Math.min(retry * 2, 15000);
  };
}

export function liveClose() {
  wanted = false;
  if (ws) ws.close();
}
