// app.js - the single page every node serves: the shell (header, menu,
// language switch, live indicator), the hash router and the login page.
// Pages are ES modules under pages/, loaded when first opened; each exports
// render(main, params) and may return a function that cleans up. The
// citizen pages (no account) are the same app under /public.
import { h, mount } from './dom.js';
import { t, setLang, getLang } from './i18n.js';
import { api, session, whoami, login, logout, live, liveConnect, liveClose, liveOpen,
  roleAtLeast } from './api.js';

const staffPages = [
  { path: '', key: 'dashboard', mod: './pages/dashboard.js' },
  { path: 'reports', key: 'reports', mod: './pages/reports.js' },
  { path: 'cameras', key: 'cameras', mod: './pages/cameras.js' },
  { path: 'documents', key: 'documents', mod: './pages/documents.js' },
  { path: 'tasks', key: 'tasks', mod: './pages/documents.js' },
  { path: 'network', key: 'network', mod: './pages/network.js' },
  { path: 'admin', key: 'admin', mod: './pages/admin.js', role: 'admin' },
];
const publicPages = [
  { path: '', key: 'public_submit', mod: './pages/public.js' },
  { path: 'track', key: 'public_track', mod: './pages/public.js' },
  { path: 'map', key: 'public_map', mod: './pages/public.js' },
];
const isPublic = location.pathname.startsWith('/public');
const root = document.getElementById('app');
let cleanup = null;

// "#/reports/26734-17?status=new" -> { parts: ['reports', '26734-17'], query }
function route() {
  const [p, q] = location.hash.replace(/^#\/?/, '').split('?');
  return { parts: p ? p.split('/').map(decodeURIComponent) : [], query: new URLSearchParams(q) };
}

function header(pages, current) {
  const dot = h('span.live', { title: t(liveOpen ? 'live_on' : 'live_off') });
  dot.classList.toggle('on', liveOpen);
  live.addEventListener('state', (e) => {
    dot.classList.toggle('on', e.detail);
    dot.title = t(e.detail ? 'live_on' : 'live_off');
  });
  const base = isPublic ? '/public#/' : '#/';
  return h('header.top',
    h('a.brand', { href: base }, t('app'), session.node_unit && !isPublic
      ? h('small', ` · ${session.node_unit}`) : null),
    h('nav', { 'aria-label': 'menu' }, pages.filter((p) => !p.role || roleAtLeast(p.role))
      .map((p) => h('a', { href: base + p.path, 'aria-current': p.path === current ? 'page' : null },
        t(p.key)))),
    h('span.grow'),
    isPublic ? h('a', { href: '/#/' }, t('staff_login')) : dot,
    h('button.link', { onclick: () => { setLang(getLang() === 'vi' ? 'en' : 'vi'); render(); },
      id: 'lang' }, t('lang')),
    session.user && !isPublic ? h('span.who', `${session.user} (${t('role_' + session.role)})`) : null,
    session.user && !isPublic ? h('button.link', { id: 'logout', onclick: async () => {
      await logout(); liveClose(); location.hash = '#/login'; render(); } }, t('logout')) : null);
}

function loginPage(main) {
  const err = h('p.error', { role: 'alert' });
  const user = h('input', { name: 'user', autocomplete: 'username', required: true });
  const pw = h('input', { name: 'password', type: 'password', autocomplete: 'current-password',
    required: true });
  mount(main, h('form.card.login', { onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      await login(user.value.trim(), pw.value);
      location.hash = '#/';
      render();
    } catch (x) { err.textContent = `${t('login_failed')}: ${x.text ?? x.message}`; }
  } }, h('h1', t('login')), h('label', t('user'), user), h('label', t('password'), pw),
  h('button', { type: 'submit' }, t('login')), err));
  user.focus();
}

async function render() {
  if (cleanup) { cleanup(); cleanup = null; }
  const { parts, query } = route();
  const main = h('main', { id: 'main', tabindex: '-1' });
  if (!isPublic && !session.user && parts[0] !== 'login') {
    if (!(await whoami())) { location.hash = '#/login'; return; }
  }
  const pages = isPublic ? publicPages : staffPages;
  const page = pages.find((p) => p.path === (parts[0] || '')) || pages[0];
  mount(root, isPublic || session.user ? header(pages, page.path) : null, main);
  if (!isPublic && parts[0] === 'login') { loginPage(main); return; }
  if (!isPublic) liveConnect();
  main.append(h('p.loading', t('loading')));
  try {
    const mod = await import(page.mod);
    const r = await mod.render(main, { parts, query, page: page.path });
    cleanup = typeof r === 'function' ? r : null;
  } catch (e) {
    if (e.status === 401) { session.user = null; location.hash = '#/login'; return; }
    mount(main, h('div.card.error', { role: 'alert' }, h('h2', e.status === 403 ? t('forbidden')
      : e.status === 404 ? t('not_found') : t('error')), h('p', e.message)));
  }
}

// Live notifications for staff: a new report, an escalation (docs/reports.md:
// "the target's staff see it ... as a live notification").
const toasts = h('div.toasts', { role: 'status', 'aria-live': 'polite' });
document.body.append(toasts);
live.addEventListener('report', (e) => {
  const d = e.detail, key = { create: 'toast_new', escalate: 'toast_escalated' }[d.action];
  if (!key || isPublic) return;
  const el = h('a.toast', { href: `#/reports/${encodeURIComponent(d.id)}`, 'data-action': d.action },
    t(key, { id: d.id }));
  toasts.append(el);
  setTimeout(() => el.remove(), 8000);
});

window.addEventListener('hashchange', render);
render();
export { api };
