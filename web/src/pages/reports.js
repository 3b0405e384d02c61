// pages/reports.js - field reports: the list with filters, search and
// cursor pages (GET /api/v1/reports), one report with photos, map and
// timeline and the workflow actions the user's role allows
// (POST /api/v1/reports/{id}/actions), and statistics
// (GET /api/v1/reports/stats). Contract: docs/reports.md.
import { h, mount } from '../dom.js';
import { t, fmtDateTime, fmtNum, fmtPct } from '../i18n.js';
import { api, qs, live, roleAtLeast } from '../api.js';

export const STATUSES = ['new', 'received', 'assigned', 'in_progress', 'transferred', 'reopened',
  'resolved', 'closed', 'rejected', 'duplicate'];
// action: [from states, minimum role, parameter]; docs/reports.md "States and actions"
export const ACTIONS = {
  receive: [['new'], 'staff'],
  assign: [['received', 'assigned', 'transferred', 'reopened', 'in_progress'], 'leader', 'unit'],
  start: [['received', 'assigned', 'transferred', 'reopened'], 'staff'],
  resolve: [['received', 'assigned', 'in_progress', 'transferred', 'reopened'], 'staff', 'answer'],
  close: [['resolved'], 'leader'],
  reject: [['new', 'received', 'assigned', 'transferred', 'reopened'], 'leader', 'reason'],
  duplicate: [['new', 'received', 'assigned', 'transferred'], 'leader', 'of'],
  transfer: [['new', 'received', 'assigned', 'in_progress', 'reopened'], 'leader', 'unit'],
  reopen: [['resolved', 'closed'], 'staff', 'note'],
  comment: [STATUSES, 'staff', 'note'],
};

// Milliseconds of a date the API gives as ms or as a W3C datetime.
export const ms = (v) => (typeof v === 'number' ? v : v ? Date.parse(v) : 0);
export const statusBadge = (s) => h('span.status', { class: `s-${s}`, 'data-status': s }, t('st_' + s));

let categoriesCache = null;
export async function categories() {
  categoriesCache = categoriesCache || api('categories').then((r) => r.categories || [])
    .catch(() => []);
  return categoriesCache;
}
export const catName = (cats, code) => {
  const c = cats.find((x) => x.code === code);
  return c ? (document.documentElement.lang === 'en' ? c.name_en || c.name_vi : c.name_vi) : code;
};

async function list(main, query) {
  const cats = await categories();
  const f = Object.fromEntries(['q', 'status', 'category', 'from', 'to', 'overdue', 'sort', 'unit']
    .map((k) => [k, query.get(k) || '']));
  const input = (k, attrs = {}) => h('input', { name: k, value: f[k], ...attrs });
  const sel = (k, opts) => h('select', { name: k }, h('option', { value: '' }, t('all')),
    opts.map(([v, label]) => h('option', { value: v, selected: v === f[k] }, label)));
  const form = h('form.filters', { role: 'search', onsubmit: (e) => {
    e.preventDefault();
    const fd = Object.fromEntries(new FormData(form));
    fd.overdue = fd.overdue ? '1' : '';
    location.hash = `#/reports${qs(fd)}`;
  } },
  input('q', { type: 'search', placeholder: t('search'), 'aria-label': t('search') }),
  sel('status', STATUSES.map((s) => [s, t('st_' + s)])),
  sel('category', cats.map((c) => [c.code, catName(cats, c.code)])),
  h('label', t('from'), input('from', { type: 'date' })), h('label', t('to'), input('to', { type: 'date' })),
  h('label', h('input', { type: 'checkbox', name: 'overdue', checked: f.overdue === '1' }), t('overdue')),
  h('select', { name: 'sort', 'aria-label': t('sort') }, ['newest', 'oldest', 'deadline']
    .map((s) => h('option', { value: s, selected: s === f.sort }, t(s === 'deadline' ? 'deadline' : s)))),
  h('button', { type: 'submit' }, t('filter')),
  h('a.button.secondary', { href: '#/reports/stats' }, t('statistics')));
  const body = h('tbody');
  const more = h('button.secondary', { id: 'more', hidden: true }, t('more'));
  const banner = h('button.banner', { hidden: true, onclick: () => load(null, true) }, t('reload'));
  const count = h('span.muted');
  mount(main, h('h1', t('reports'), ' ', count), form, banner, h('div.scroll', h('table.grid', { id: 'report-list' },
    h('thead', h('tr', [t('code'), t('title'), t('category'), t('status'), t('unit'), t('created'),
      t('deadline')].map((x) => h('th', x)))), body)), more);
  let shown = 0;
  const load = async (cursor, reset) => {
    const r = await api(`reports${qs({ ...f, limit: 50, cursor })}`);
    if (reset) { body.replaceChildren(); shown = 0; banner.hidden = true; }
    for (const x of r.reports) {
      body.append(h('tr', { 'data-id': x.id, class: x.overdue ? 'overdue' : null },
        h('td', h('a', { href: `#/reports/${encodeURIComponent(x.id)}` }, x.code || x.id)),
        h('td', x.title || ''), h('td', catName(cats, x.category)), h('td', statusBadge(x.status)),
        h('td', x.owner_unit || ''), h('td', fmtDateTime(ms(x.created_at ?? x.created_ms))),
        h('td', fmtDateTime(ms(x.deadline_at ?? x.deadline_ms)))));
    }
    shown += r.reports.length;
    count.textContent = `(${fmtNum(shown)}${r.next ? '+' : ''})`;
    more.hidden = !r.next;
    more.onclick = () => load(r.next);
  };
  await load(null, true);
  const onLive = () => { banner.hidden = false; };
  live.addEventListener('report', onLive);
  live.addEventListener('reports', onLive);
  return () => { live.removeEventListener('report', onLive); live.removeEventListener('reports', onLive); };
}

function actionForm(r, done) {
  const allowed = Object.entries(ACTIONS).filter(([, [from, role]]) =>
    from.includes(r.status) && roleAtLeast(role));
  if (!allowed.length) return null;
  const msg = h('p', { role: 'status' });
  const which = h('select', { name: 'action', 'aria-label': t('actions') },
    allowed.map(([a]) => h('option', { value: a }, t('act_' + a))));
  const param = h('input', { name: 'param' });
  const note = h('textarea', { name: 'note', rows: 2, placeholder: t('note') });
  const label = h('span');
  const sync = () => {
    const p = ACTIONS[which.value][2];
    param.hidden = !p || p === 'note';
    label.textContent = p && p !== 'note' ? t(p === 'of' ? 'code' : p) : '';
  };
  which.onchange = sync;
  sync();
  return h('form.card.actions', { id: 'actions', onsubmit: async (e) => {
    e.preventDefault();
    const a = which.value, p = ACTIONS[a][2];
    const body = { action: a, note: note.value };
    if (p && p !== 'note') body[p] = param.value.trim();
    try {
      await api(`reports/${encodeURIComponent(r.id || r.code)}/actions`, { method: 'POST', body });
      done();
    } catch (x) { msg.textContent = x.message; msg.className = 'error'; }
  } }, h('h2', t('actions')), h('div.row', which, h('label', label, param)), note,
  h('button', { type: 'submit' }, t('send')), msg);
}

// One report; redrawn after an action and when a live event says its
// status changed (unless the user is typing in the action form: then a
// banner offers the reload).
async function detail(main, id) {
  const cats = await categories();
  let current = null;
  const show = async () => { current = await api(`reports/${encodeURIComponent(id)}`); draw(main, cats, current, show); };
  await show();
  const onLive = (e) => {
    if (e.detail.id !== current.id || e.detail.status === current.status) return;
    const typing = [...main.querySelectorAll('#actions input, #actions textarea')].some((x) => x.value);
    if (!typing) { show().catch(() => {}); return; }
    const banner = main.querySelector('button.banner');
    if (banner) banner.hidden = false;
  };
  live.addEventListener('report', onLive);
  return () => live.removeEventListener('report', onLive);
}

function draw(main, cats, r, show) {
  const mapEl = h('div.map.small', { id: 'report-map' });
  const hist = (r.history || []).map((x) => h('li', h('time', fmtDateTime(x.at_ms)), ' ',
    h('strong', t('act_' + x.action)), x.target ? ` ${x.target}` : null,
    x.to ? [' → ', statusBadge(x.to)] : null,
    x.by ? h('span.muted', ` ${x.by} (${x.unit})`) : h('span.muted', ` (${x.unit || ''})`),
    x.note || x.answer || x.reason ? h('div', x.note || x.answer || x.reason) : null));
  const fields = [
    [t('status'), statusBadge(r.status)], [t('category'), catName(cats, r.category)],
    [t('owner'), r.owner_unit], [t('unit'), r.area_unit], [t('address'), r.address],
    [t('created'), fmtDateTime(ms(r.created_ms ?? r.created_at))],
    [t('deadline'), fmtDateTime(ms(r.deadline_ms ?? r.deadline_at))],
    r.answer ? [t('answer'), r.answer] : null, r.reason ? [t('reason'), r.reason] : null,
    r.reporter_name || r.reporter_phone ? [t('reporter'),
      [r.reporter_name, r.reporter_phone, r.reporter_email].filter(Boolean).join(' · ')] : null,
  ].filter((x) => x && x[1]);
  mount(main, h('p', h('a', { href: '#/reports' }, `← ${t('reports')}`)),
    h('button.banner', { hidden: true, onclick: () => show() }, t('reload')),
    h('h1', { id: 'report-title' }, `${r.code || r.id}: ${r.title || ''}`),
    h('div.cols', h('section.card', h('dl', fields.map(([k, v]) => [h('dt', k), h('dd', v)])),
      r.description ? h('p.desc', r.description) : null,
      (r.photos || []).length ? h('div.photos', r.photos.map((p) => h('a', {
        href: `/api/v1/reports/${encodeURIComponent(r.id || r.code)}/photos/${p.hash}`, target: '_blank' },
      h('img', { loading: 'lazy', alt: t('photos'), width: 160,
        src: `/api/v1/reports/${encodeURIComponent(r.id || r.code)}/photos/${p.hash}` })))) : null),
    h('section.card', mapEl)),
    actionForm(r, show),
    h('section.card', h('h2', t('history')), h('ol.timeline', { id: 'timeline' }, hist)));
  if (r.lat != null) {
    import('../map.js').then(async ({ makeMap }) => {
      const m = await makeMap(mapEl);
      m.points([{ lat: r.lat, lon: r.lon, status: r.status }], { fit: false });
      m.map.setView([r.lat, r.lon], 14);
    }).catch(() => {});
  }
}

// Figures of one stats answer as table cells.
export const figureCells = (s) => [fmtNum(s.total),
  fmtNum(s.processed_share == null ? null : Math.round(s.total * (1 - s.processed_share))),
  fmtPct(s.processed_share), fmtPct(s.on_time_share), fmtPct(s.satisfaction?.shares?.satisfied),
  s.resolve_avg_hours == null ? '–' : `${fmtNum(Math.round(s.resolve_avg_hours * 10) / 10)} ${t('hours')}`];
export const figureHeads = () => [t('total'), t('open'), t('processed'), t('on_time'),
  t('satisfaction'), t('resolve_avg')];

async function stats(main, query) {
  const f = { unit: query.get('unit') || '', from: query.get('from') || '', to: query.get('to') || '' };
  const s = await api(`reports/stats${qs({ ...f, by: 'child' })}`);
  const cats = await categories();
  const form = h('form.filters', { onsubmit: (e) => { e.preventDefault();
    location.hash = `#/reports/stats${qs(Object.fromEntries(new FormData(form)))}`; } },
  h('input', { name: 'unit', value: f.unit, placeholder: t('unit') }),
  h('label', t('from'), h('input', { type: 'date', name: 'from', value: f.from })),
  h('label', t('to'), h('input', { type: 'date', name: 'to', value: f.to })),
  h('button', { type: 'submit' }, t('filter')));
  const row = (name, x) => h('tr', h('td', name), figureCells(x).map((c) => h('td.num', c)));
  mount(main, h('p', h('a', { href: '#/reports' }, `← ${t('reports')}`)),
    h('h1', `${t('statistics')} · ${s.unit}`), form,
    h('section.card', h('div.scroll', h('table.grid', { id: 'stats' },
      h('thead', h('tr', h('th', t('unit')), figureHeads().map((x) => h('th', x)))),
      h('tbody', row(h('strong', s.unit), s), (s.children || []).map((c) => row(c.name || c.unit, c))))))),
    h('div.cols', h('section.card', h('h2', t('status')), h('table.grid', h('tbody',
      Object.entries(s.by_status || {}).map(([k, v]) => h('tr', h('td', statusBadge(k)), h('td.num', fmtNum(v))))))),
    h('section.card', h('h2', t('category')), h('table.grid', h('tbody',
      Object.entries(s.by_category || {}).map(([k, v]) => h('tr', h('td', catName(cats, k)), h('td.num', fmtNum(v))))))));
}

export async function render(main, { parts, query }) {
  if (parts[1] === 'stats') return stats(main, query);
  if (parts[1]) return detail(main, parts[1]);
  return list(main, query);
}
