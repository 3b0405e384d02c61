// pages/reports.js - field reports: the list with filters, search and
// cursor pages (GET /api/v1/reports), one report with photos, map and
// timeline and the workflow actions the user's role allows
// (POST /api/v1/reports/{id}/actions), and statistics
// (GET /api/v1/reports/stats). Contract: docs/reports.md.
import { h, mount, fold } from '../dom.js';
import { t, fmtDateTime, fmtNum, fmtPct } from '../i18n.js';
import { api, qs, live, roleAtLeast, session } from '../api.js';
import { loadUnits, unitName, unitPicker, within } from '../units.js';
import { setTitle } from '../app.js';

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
  const [cats, units] = await Promise.all([categories(), loadUnits()]);
  const f = Object.fromEntries(['q', 'status', 'category', 'from', 'to', 'overdue', 'sort', 'unit']
    .map((k) => [k, query.get(k) || '']));
  const input = (k, attrs = {}) => h('input', { name: k, value: f[k], ...attrs });
  const sel = (k, opts) => h('label', t(k), h('select', { name: k }, h('option', { value: '' }, t('all')),
    opts.map(([v, label]) => h('option', { value: v, selected: v === f[k] }, label))));
  const form = h('form.filters', { role: 'search', onsubmit: (e) => {
    e.preventDefault();
    const fd = Object.fromEntries(new FormData(form));
    fd.overdue = fd.overdue ? '1' : '';
    location.hash = `#/reports${qs(fd)}`;
  } },
  h('label', t('search'), input('q', { type: 'search' })),
  sel('status', STATUSES.map((s) => [s, t('st_' + s)])),
  sel('category', cats.map((c) => [c.code, catName(cats, c.code)])),
  h('label', t('from'), input('from', { type: 'date' })), h('label', t('to'), input('to', { type: 'date' })),
  h('label', h('input', { type: 'checkbox', name: 'overdue', checked: f.overdue === '1' }), t('overdue')),
  h('label', t('sort'), h('select', { name: 'sort' }, ['newest', 'oldest', 'deadline']
    .map((s) => h('option', { value: s, selected: s === f.sort }, t(s === 'deadline' ? 'deadline' : s))))),
  h('button', { type: 'submit' }, t('filter')),
  h('a.button.secondary', { href: '#/reports/stats' }, t('statistics')),
  // every matching report as CSV, the same filters (GET /api/v1/reports?format=csv)
  h('a.button.secondary', { id: 'export-csv', download: 'reports.csv',
    href: `/api/v1/reports${qs({ ...f, format: 'csv' })}` }, t('export_csv')));
  const body = h('tbody');
  const more = h('button.secondary', { id: 'more', hidden: true }, t('more'));
  const banner = h('button.banner', { hidden: true, onclick: () => load(null, true) }, t('reload'));
  const count = h('span.muted');
  const empty = h('p.empty#no-reports', { hidden: true }, t('no_reports'));
  const heads = [t('code'), t('title'), t('category'), t('status'), t('owner'), t('created'), t('deadline')];
  mount(main, h('h1', t('reports'), ' ', count), fold(t('filters'), form), banner, h('div.scroll', { tabindex: 0 }, h('table.grid.cards', { id: 'report-list' },
    h('thead', h('tr', heads.map((x) => h('th', x)))), body)), empty, more);
  let shown = 0;
  const load = async (cursor, reset) => {
    const r = await api(`reports${qs({ ...f, limit: 50, cursor })}`);
    if (reset) { body.replaceChildren(); shown = 0; banner.hidden = true; }
    for (const x of r.reports) {
      const cells = [h('a', { href: `#/reports/${encodeURIComponent(x.id)}` }, x.code || x.id),
        x.title || '', catName(cats, x.category), statusBadge(x.status), unitName(units, x.owner_unit),
        fmtDateTime(ms(x.created_at ?? x.created_ms)), fmtDateTime(ms(x.deadline_at ?? x.deadline_ms))];
      // data-label: the column's name, shown beside the value when the table is cards (phones)
      body.append(h('tr', { 'data-id': x.id, class: x.overdue ? 'overdue' : null },
        cells.map((c, i) => h('td', { 'data-label': heads[i] }, c))));
    }
    shown += r.reports.length;
    empty.hidden = shown > 0;
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

// A photo file as the API takes it: {type, data: base64}.
const photoBody = (f) => new Promise((ok, fail) => {
  const rd = new FileReader();
  rd.onload = () => ok({ type: f.type, data: String(rd.result).replace(/^data:[^,]*,/, '') });
  rd.onerror = () => fail(rd.error);
  rd.readAsDataURL(f);
});

// The photos of list (r.photos or r.resolution_photos) as links to each.
const photoList = (r, list, id) => (list || []).length ? h('div.photos', { id }, list.map((p) => h('a', {
  href: `/api/v1/reports/${encodeURIComponent(r.id || r.code)}/photos/${p.hash}`, target: '_blank' },
h('img', { loading: 'lazy', alt: t(id === 'resolution-photos' ? 'resolution_photos' : 'photos'), width: 160,
  src: `/api/v1/reports/${encodeURIComponent(r.id || r.code)}/photos/${p.hash}` })))) : null;

// The workflow actions the user may take on r. A report whose owner is no
// longer the user's unit or one below it (a category the district handles,
// received at a commune) offers a comment only, and says who handles it.
// The answer the citizen reads is its own labelled box, apart from the
// internal note; a unit is chosen by name (units.js); an error shows beside
// the button, in the user's language.
function actionForm(r, units, done) {
  const ours = r.handled_here ?? (!r.owner_unit || !session.unit || within(units, r.owner_unit, session.unit));
  const allowed = Object.entries(ACTIONS).filter(([a, [from, role]]) =>
    from.includes(r.status) && roleAtLeast(role) && (ours || a === 'comment'));
  if (!allowed.length) return null;
  const msg = h('p', { role: 'alert', id: 'action-error' });
  const which = h('select', { name: 'action' },
    allowed.map(([a]) => h('option', { value: a }, t('act_' + a))));
  const text = h('input', { name: 'param' });
  const answer = h('textarea', { name: 'answer', rows: 3, maxlength: 4000 });
  const picker = unitPicker(units, { label: t('unit'), name: 'param-unit' });
  const textBox = h('label', h('span'), text);
  const answerBox = h('label#answer-box', t('answer_citizen'), answer);
  const note = h('textarea', { name: 'note', rows: 2 });
  // photos of the work done, sent with a resolve (the citizen sees them)
  const files = h('input', { type: 'file', name: 'resolution-photos', accept: 'image/jpeg,image/png,image/webp', multiple: true });
  const filesBox = h('label#resolution-photos-box', t('resolution_photos'), files);
  // assign: the officer who handles it (a user name; "my reports" lists it for that officer)
  const assignee = h('input', { name: 'assignee', autocomplete: 'off', maxlength: 64 });
  const assigneeBox = h('label#assignee-box', t('assignee'), assignee);
  const sync = () => {
    const p = ACTIONS[which.value][2];
    assigneeBox.hidden = which.value !== 'assign';
    answerBox.hidden = filesBox.hidden = p !== 'answer';
    picker.el.hidden = p !== 'unit';
    textBox.hidden = !p || p === 'note' || p === 'answer' || p === 'unit';
    textBox.firstChild.textContent = p === 'of' ? t('code') : p ? t(p) : '';
  };
  which.onchange = sync;
  sync();
  const send = h('button', { type: 'submit' }, t('send'));
  return h('form.card.actions', { id: 'actions', onsubmit: async (e) => {
    e.preventDefault();
    msg.textContent = '';
    const a = which.value, p = ACTIONS[a][2];
    const body = { action: a, note: note.value };
    if (p === 'answer') {
      body.answer = answer.value.trim();
      if (files.files.length) body.photos = await Promise.all([...files.files].map(photoBody));
    }
    else if (p === 'unit') { const c = picker.code(); if (c === null) return; body.unit = c; }
    else if (p && p !== 'note') body[p] = text.value.trim();
    if (a === 'assign' && assignee.value.trim()) body.assignee = assignee.value.trim();
    send.disabled = true;
    try {
      await api(`reports/${encodeURIComponent(r.id || r.code)}/actions`, { method: 'POST', body });
      done();
    } catch (x) { msg.textContent = x.text ?? x.message; msg.className = 'error'; msg.scrollIntoView({ block: 'nearest' }); }
    send.disabled = false;
  } }, h('h2', t('actions')),
  ours ? null : h('p.notice#owned-elsewhere', t('owned_elsewhere', { unit: unitName(units, r.owner_unit) })),
  h('label', t('actions'), which), picker.el, assigneeBox, textBox, answerBox, filesBox,
  h('label', t('note_internal'), note), send, msg);
}

// One report; redrawn after an action and when a live event says its
// status changed (unless the user is typing in the action form: then a
// banner offers the reload).
async function detail(main, id) {
  const [cats, units] = await Promise.all([categories(), loadUnits()]);
  let current = null;
  const show = async () => { current = await api(`reports/${encodeURIComponent(id)}`); draw(main, cats, units, current, show); };
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

// Staff correct a report's category and location (PATCH /api/v1/reports/{id};
// the node recomputes the deadline and writes an "edit" history item); an
// error shows beside the button, in the user's language.
function correctForm(r, cats, done) {
  if (!roleAtLeast('staff')) return null;
  const msg = h('p', { role: 'alert', id: 'correct-error' });
  const cat = h('select', { name: 'category' }, cats.map((c) =>
    h('option', { value: c.code, selected: c.code === r.category }, catName(cats, c.code))));
  const num = (k) => h('input', { name: k, type: 'number', step: 'any', value: r[k] ?? '' });
  const lat = num('lat'), lon = num('lon');
  const send = h('button.secondary', { type: 'submit' }, t('save'));
  return h('details.card#correct', h('summary', t('correct_report')), h('form', { onsubmit: async (e) => {
    e.preventDefault();
    msg.textContent = '';
    const body = {};
    if (cat.value !== r.category) body.category = cat.value;
    if (lat.value !== '' && Number(lat.value) !== r.lat) body.lat = Number(lat.value);
    if (lon.value !== '' && Number(lon.value) !== r.lon) body.lon = Number(lon.value);
    if (!Object.keys(body).length) return;
    send.disabled = true;
    try {
      await api(`reports/${encodeURIComponent(r.id || r.code)}`, { method: 'PATCH', body });
      done();
    } catch (x) { msg.textContent = x.text ?? x.message; msg.className = 'error'; }
    send.disabled = false;
  } }, h('label', t('category'), cat), h('label', t('lat'), lat), h('label', t('lon'), lon), send, msg));
}

// A history item's note; the channel a report came by (the note of "create") in words.
const noteText = (x) => (x.action === 'create' && x.note && t('channel_' + x.note) !== 'channel_' + x.note
  ? `${t('channel')}: ${t('channel_' + x.note)}` : x.note || x.reason);

function draw(main, cats, units, r, show) {
  const mapEl = h('div.map.small', { id: 'report-map' });
  const name = (u) => unitName(units, u);
  const hist = (r.history || []).map((x) => h('li', h('time', fmtDateTime(x.at_ms)), ' ',
    h('strong', t('act_' + x.action)), x.target ? ` ${name(x.target)}` : null,
    x.to ? [' → ', statusBadge(x.to)] : null,
    x.by ? h('span.muted', ` ${x.by} (${name(x.unit)})`) : h('span.muted', ` (${name(x.unit)})`),
    x.rating ? h('div', `${t('rating')}: ${t('r_' + x.rating)}`) : null,
    x.comment ? h('div', `${t('rating_comment')}: ${x.comment}`) : null,
    x.answer ? h('div', `${t('answer_to_citizen')}: ${x.answer}`) : null,
    x.note || x.reason ? h('div', noteText(x)) : null));
  setTitle(`${r.code || r.id} · ${t('reports')}`);
  const fields = [
    [t('status'), statusBadge(r.status)], [t('category'), catName(cats, r.category)],
    [t('owner'), name(r.owner_unit)], [t('unit'), name(r.area_unit)], [t('address'), r.address],
    r.channel ? [t('channel'), t('channel_' + r.channel)] : null,
    [t('created'), fmtDateTime(ms(r.created_ms ?? r.created_at))],
    [t('deadline'), fmtDateTime(ms(r.deadline_ms ?? r.deadline_at))],
    r.answer ? [t('answer_to_citizen'), r.answer] : null, r.reason ? [t('reason'), r.reason] : null,
    r.rating ? [t('rating'), h('span#report-rating', t('r_' + r.rating))] : null,
    r.rating_comment ? [t('rating_comment'), r.rating_comment] : null,
    r.reporter_name || r.reporter_phone ? [t('reporter'),
      [r.reporter_name, r.reporter_phone, r.reporter_email].filter(Boolean).join(' · ')] : null,
  ].filter((x) => x && x[1]);
  mount(main, h('p', h('a', { href: '#/reports' }, `← ${t('reports')}`)),
    h('button.banner', { hidden: true, onclick: () => show() }, t('reload')),
    h('h1', { id: 'report-title' }, `${r.code || r.id}: ${r.title || ''}`),
    h('div.cols', h('section.card', h('dl', fields.map(([k, v]) => [h('dt', k), h('dd', v)])),
      r.description ? h('p.desc', r.description) : null,
      photoList(r, r.photos, 'report-photos'),
      (r.resolution_photos || []).length ? h('h2', t('resolution_photos')) : null,
      photoList(r, r.resolution_photos, 'resolution-photos')),
    h('section.card', mapEl)),
    actionForm(r, units, show),
    correctForm(r, cats, show),
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
  const [s, cats, units] = await Promise.all([api(`reports/stats${qs({ ...f, by: 'child' })}`),
    categories(), loadUnits()]);
  const picker = unitPicker(units, { name: 'unit-name', value: f.unit,
    filter: (u) => !session.unit || within(units, u.code, session.unit) });
  const form = h('form.filters', { onsubmit: (e) => { e.preventDefault();
    const unit = picker.code();
    if (unit === null) return;
    const fd = Object.fromEntries(new FormData(form));
    delete fd['unit-name'];
    location.hash = `#/reports/stats${qs({ ...fd, unit })}`; } },
  picker.el,
  h('label', t('from'), h('input', { type: 'date', name: 'from', value: f.from })),
  h('label', t('to'), h('input', { type: 'date', name: 'to', value: f.to })),
  h('button', { type: 'submit' }, t('filter')));
  const row = (name, x) => h('tr', h('td', name), figureCells(x).map((c) => h('td.num', c)));
  mount(main, h('p', h('a', { href: '#/reports' }, `← ${t('reports')}`)),
    h('h1', `${t('statistics')} · ${unitName(units, s.unit)}`), form,
    h('section.card', h('div.scroll', { tabindex: 0 }, h('table.grid', { id: 'stats' },
      h('thead', h('tr', h('th', t('unit')), figureHeads().map((x) => h('th.num', x)))),
      h('tbody', row(h('strong', unitName(units, s.unit)), s), (s.children || []).map((c) => row(c.name || c.unit, c))))))),
    h('div.cols', h('section.card', h('h2', t('status')), h('table.grid', h('tbody',
      Object.entries(s.by_status || {}).map(([k, v]) => h('tr', h('td', statusBadge(k)), h('td.num', fmtNum(v))))))),
    h('section.card', h('h2', t('category')), h('table.grid', h('tbody',
      Object.entries(s.by_category || {}).map(([k, v]) => h('tr', h('td', catName(cats, k)), h('td.num', fmtNum(v))))))));
}

// "My reports" (#/mine, #/mine?by=created): the reports assigned to the
// logged-in officer (GET /api/v1/reports?assignee=me) or filed by them
// (created_by=me); the overdue ones first, earliest deadline first, then
// the others newest first, 50 at a time.
async function mine(main, query) {
  const [cats, units] = await Promise.all([categories(), loadUnits()]);
  const created = query.get('by') === 'created';
  const who = created ? { created_by: 'me' } : { assignee: 'me' };
  const heads = [t('code'), t('title'), t('category'), t('status'), t('owner'), t('created'), t('deadline')];
  const body = h('tbody'), count = h('span.muted');
  const more = h('button.secondary', { id: 'more', hidden: true }, t('more'));
  const empty = h('p.empty#no-reports', { hidden: true }, t('no_reports'));
  const tab = (on, href, key) => h('a', { href, 'aria-current': on ? 'page' : null }, t(key));
  setTitle(t('my_reports'));
  mount(main, h('h1', t('my_reports'), ' ', count),
    h('nav.tabs#mine-tabs', { 'aria-label': t('my_reports') }, tab(!created, '#/mine', 'mine_assigned'), ' · ',
      tab(created, '#/mine?by=created', 'mine_created')),
    h('div.scroll', { tabindex: 0 }, h('table.grid.cards', { id: 'report-list' },
      h('thead', h('tr', heads.map((x) => h('th', x)))), body)), empty, more);
  const seen = new Set();
  const add = (x) => {
    if (seen.has(x.id)) return;
    seen.add(x.id);
    const cells = [h('a', { href: `#/reports/${encodeURIComponent(x.id)}` }, x.code || x.id),
      x.title || '', catName(cats, x.category), statusBadge(x.status), unitName(units, x.owner_unit),
      fmtDateTime(ms(x.created_at ?? x.created_ms)), fmtDateTime(ms(x.deadline_at ?? x.deadline_ms))];
    body.append(h('tr', { 'data-id': x.id, class: x.overdue ? 'overdue' : null },
      cells.map((c, i) => h('td', { 'data-label': heads[i] }, c))));
  };
  const od = await api(`reports${qs({ ...who, overdue: 1, sort: 'deadline', limit: 200 })}`);
  od.reports.forEach(add);
  const load = async (cursor) => {
    const r = await api(`reports${qs({ ...who, limit: 50, cursor })}`);
    r.reports.forEach(add);
    empty.hidden = seen.size > 0;
    count.textContent = `(${fmtNum(seen.size)}${r.next ? '+' : ''})`;
    more.hidden = !r.next;
    more.onclick = () => load(r.next);
  };
  await load(null);
}

export async function render(main, { parts, query }) {
  if (parts[0] === 'mine') return mine(main, query);
  if (parts[1] === 'stats') { setTitle(t('statistics')); return stats(main, query); }
  if (parts[1]) return detail(main, parts[1]);
  return list(main, query);
}
