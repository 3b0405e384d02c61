// app.js - the single page every node serves: the shell (header, menu,
// language switch, live indicator), the hash router and the login page.
// Pages are ES modules under pages/, loaded when first opened; each exports
// render(main, params) and may return a function that cleans up. The
// citizen pages (no account) are the same app under /public.
import { h, mount } from './dom.js';
import { forgetUnits } from './units.js';
import { watchCards } from './cards.js';
import { t, setLang, getLang } from './i18n.js';
import { api, session, whoami, login, logout, live, liveConnect, liveClose, liveOpen,
  roleAtLeast } from './api.js';

const staffPages = [
  { path: '', key: 'dashboard', mod: './pages/dashboard.js' },
  { path: 'reports', key: 'reports', mod: './pages/reports.js' },
  { path: 'mine', key: 'my_reports', mod: './pages/reports.js' },
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
watchCards(root);

// "#/reports/26734-17?status=new" -> { parts: ['reports', '26734-17'], query }
function route() {
  const [p, q] = location.hash.replace(/^#\/?/, '').split('?');
  return { parts: p ? p.split('/').map(decodeURIComponent) : [], query: new URLSearchParams(q) };
}

// The live indicator: a dot and its text (status never by colour alone).
function liveIndicator() {
  const text = h('span.live-text');
  const dot = h('span.live-state', { role: 'status' }, h('span.live', { 'aria-hidden': 'true' }), text);
  const set = (on) => {
    dot.classList.toggle('on', on);
    dot.firstChild.classList.toggle('on', on);
    text.textContent = t(on ? 'live_on' : 'live_off');
  };
  set(liveOpen);
  live.addEventListener('state', (e) => set(e.detail));
  return dot;
}

// A link past the menu to the page's content (keyboard and screen reader users).
const skipLink = () => h('a.skip', { href: '#main', onclick: (e) => {
  e.preventDefault();
  document.getElementById('main')?.focus();
} }, t('skip_to_main'));

// The language switch (every page, the login page too).
const langButton = () => h('button.link', { onclick: () => { setLang(getLang() === 'vi' ? 'en' : 'vi'); render(); },
  id: 'lang', lang: getLang() === 'vi' ? 'en' : 'vi' }, t('lang'));

// The name of this node's unit ("Tỉnh Nghệ An"), else its code.
const nodeUnitName = () => session.node_unit_name || session.node_unit || '';

// "Page · Unit · Liên thông" in the tab's title.
export function setTitle(what) {
  document.title = [what, nodeUnitName(), t('app')].filter(Boolean).join(' · ');
}

function header(pages, current) {
  const dot = liveIndicator();
  const base = isPublic ? '/public#/' : '#/';
  return h('header.top',
    h('a.brand', { href: base }, t('app'), nodeUnitName() && !isPublic
      ? h('small', ` · ${nodeUnitName()}`) : null),
    h('nav', { 'aria-label': 'menu' }, pages.filter((p) => !p.role || roleAtLeast(p.role))
      .map((p) => h('a', { href: base + p.path, 'aria-current': p.path === current ? 'page' : null },
        t(p.key)))),
    h('span.grow'),
    isPublic ? h('a', { href: '/#/' }, t('staff_login')) : dot,
    langButton(),
    session.user && !isPublic ? h('span.who', `${session.user} (${t('role_' + session.role)})`) : null,
    session.user && !isPublic ? h('button.link', { id: 'logout', onclick: async () => {
      await logout(); liveClose(); location.hash = '#/login'; render(); } }, t('logout')) : null);
}

// An unknown route (or a page the user's role does not open): said so, with a way home.
function notFound(main, path) {
  setTitle(t('page_not_found'));
  mount(main, h('div.card#not-found', h('h1', t('page_not_found')), h('p', t('no_page_at', { path })),
    h('p', h('a', { href: isPublic ? '/public#/' : '#/' }, t('go_home')))));
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
      forgetUnits(); // the units one sees follow the account
      location.hash = '#/';
      render();
    } catch (x) { err.textContent = `${t('login_failed')}: ${x.text ?? x.message}`; }
  } }, h('h1', t('login')), nodeUnitName() ? h('p#login-unit', t('node_of', { unit: nodeUnitName() })) : null,
  h('label', t('user'), user), h('label', t('password'), pw),
  h('button', { type: 'submit' }, t('login')), err));
  setTitle(t('login'));
  user.focus();
}

async function render() {
  if (cleanup) { cleanup(); cleanup = null; }
  const { parts, query } = route();
  const main = h('main', { id: 'main', tabindex: '-1' });
  if (!session.user && !session.probed) {
    await whoami().catch(() => null);
    session.probed = true;
  }
  if (!isPublic && !session.user && parts[0] !== 'login') { location.hash = '#/login'; return; }
  const pages = isPublic ? publicPages : staffPages;
  const page = pages.find((p) => p.path === (parts[0] || ''));
  const atLogin = !isPublic && parts[0] === 'login';
  mount(root, skipLink(), isPublic || session.user ? header(pages, page?.path)
    : h('header.top', h('span.brand', t('app')), h('span.grow'), langButton()), main);
  if (atLogin) { loginPage(main); return; }
  if (!page || (page.role && !roleAtLeast(page.role))) { notFound(main, parts.join('/')); return; }
  setTitle(t(page.key));
  if (!isPublic) liveConnect();
  main.append(h('p.loading', t('loading')));
  try {
    const mod = await import(page.mod);
    const r = await mod.render(main, { parts, query, page: page.path });
    cleanup = typeof r === 'function' ? r : null;
  } catch (e) {
    if (e.status === 401) { session.user = null; location.hash = '#/login'; return; }
    mount(main, h('div.card.error', { role: 'alert' }, h('h2', e.status === 403 ? t('forbidden')
      : e.status === 404 ? t('not_found') : t('error')), h('p', e.text ?? e.message)));
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
