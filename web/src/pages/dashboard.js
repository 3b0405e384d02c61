// pages/dashboard.js - the operations centre screen of a unit: report
// figures of the last 30 days with their trend against the 30 days before
// (received, processed, on time, satisfaction), the same per child unit,
// a weekly chart, the overdue reports, the sync health of every child unit,
// a map of the area with reports by status, and the unit's indicators
// (pages/indicators.js). ?unit=CODE shows a unit below the user's. Live: refreshed (at most
// every 2 s) when reports arrive or links change. Later features add
// tiles with addTile().
import { h, mount, fold } from '../dom.js';
import { t, fmtNum, fmtPct, fmtDateTime, fmtAgo } from '../i18n.js';
import { api, qs, live, session } from '../api.js';
import { statusBadge, ms, figureCells, figureHeads, STATUSES, categories, catName } from './reports.js';
import { unitState } from './network.js';
import { statusColor } from '../colors.js';
import { indicatorPanel } from './indicators.js';
import { loadUnits, unitName } from '../units.js';
import { setTitle } from '../app.js';

const DAY = 86400000;
// yyyy-mm-dd of ms in Vietnam (UTC+7).
const vnDate = (x) => new Date(x + 7 * 3600000).toISOString().slice(0, 10);

// Extra tiles of later features: fn(el) fills a card on the dashboard.
const extraTiles = [];
export const addTile = (fn) => extraTiles.push(fn);

// The cameras' tile: the share online (the articles' 242 of 391) by field,
// and today's AI camera events.
addTile(async (el) => {
  const [st, ev] = await Promise.all([api('cameras/stats?by=field'), api('cameras/events/counts')]);
  mount(el, h('h2', t('cameras')), h('div.tiles', { id: 'cam-tiles' },
    h('div.tile', { 'data-tile': 'cameras' }, h('span.label', t('cam_online_share')),
      h('strong', `${fmtNum(st.online)}/${fmtNum(st.total)}`)),
    st.rows.map((r) => h('div.tile', { 'data-tile': `cam-${r.key}` }, h('span.label', r.key),
      h('strong', `${fmtNum(r.online)}/${fmtNum(r.total)}`))),
    h('div.tile', { 'data-tile': 'cam-events' }, h('span.label', t('cam_events_today')), h('strong', fmtNum(ev.total)))));
});

function trend(now, before, pct) {
  if (now == null || before == null) return null;
  const d = now - before;
  const cls = d > 0 ? 'up' : d < 0 ? 'down' : 'flat';
  const txt = pct ? `${d > 0 ? '+' : ''}${fmtNum(Math.round(d * 1000) / 10)} %` : `${d > 0 ? '+' : ''}${fmtNum(d)}`;
  return h('span.trend', { class: cls }, `${d > 0 ? '▲' : d < 0 ? '▼' : '■'} ${txt}`);
}

// The tiles: reports submitted (not a status, so not "Đã tiếp nhận"), the
// share processed, the share resolved on time beside the overdue reports
// still open (the share counts resolved reports only), satisfaction.
// Each tile's value drills down to the list of the reports it counts (the
// same unit, dates and category: f).
function tiles(cur, prev, overdueOpen, f) {
  const list = (extra) => `#/reports${qs({ ...f, ...extra })}`;
  const tile = (key, label, value, tr, note, href) => h('div.tile', { 'data-tile': key }, h('span.label', t(label)),
    h('a.value', { href }, value), tr, note);
  return h('div.tiles', { id: 'tiles' },
    tile('received', 'tile_submitted', fmtNum(cur.total), trend(cur.total, prev.total), null, list({})),
    tile('processed', 'processed', fmtPct(cur.processed_share), trend(cur.processed_share, prev.processed_share, true),
      null, list({ status: 'resolved,closed,rejected,duplicate' })),
    tile('on_time', 'on_time_resolved', fmtPct(cur.on_time_share), trend(cur.on_time_share, prev.on_time_share, true),
      overdueOpen?.n ? h('a.tile-note', { href: `#/reports${qs({ unit: f.unit, category: f.category, overdue: 1 })}` },
        t('overdue_open', { n: `${fmtNum(overdueOpen.n)}${overdueOpen.more ? '+' : ''}` })) : null,
      list({ status: 'resolved,closed' })),
    tile('satisfaction', 'satisfaction', fmtPct(cur.satisfaction?.shares?.satisfied),
      trend(cur.satisfaction?.shares?.satisfied, prev.satisfaction?.shares?.satisfied, true), null,
      list({ status: 'resolved,closed' })));
}

// The dashboard's filter: a date range (default the last 30 days) and a
// category (the tiles, the unit table, the weekly chart, the overdue list,
// the map and the drill-down links: reports/stats?category=), as
// #/?from=&to=&category= so it can be bookmarked and printed.
function filterForm(f, cats, unit) {
  const form = h('form.filters.dash-filters', { id: 'dash-filter', onsubmit: (e) => {
    e.preventDefault();
    const fd = Object.fromEntries(new FormData(form));
    location.hash = `#/${qs({ unit: unit === session.unit ? '' : unit, ...fd })}`;
  } },
  h('label', t('from'), h('input', { type: 'date', name: 'from', value: f.from })),
  h('label', t('to'), h('input', { type: 'date', name: 'to', value: f.to })),
  h('label', t('category'), h('select', { name: 'category' }, h('option', { value: '' }, t('all')),
    cats.map((c) => h('option', { value: c.code, selected: c.code === f.category }, catName(cats, c.code))))),
  h('button', { type: 'submit' }, t('filter')),
  h('button.secondary', { type: 'button', onclick: () => print() }, t('print')));
  return form;
}

// The figures per child unit, each with the trend of its total against the
// 30 days before.
function children(cur, prev, category) {
  if (!cur.children?.length) return null;
  const before = new Map((prev.children || []).map((c) => [c.unit, c]));
  return h('section.card', h('h2', t('by_child')), h('div.scroll', { tabindex: 0 }, h('table.grid', { id: 'by-child' },
    h('thead', h('tr', h('th', t('unit')), figureHeads().map((x) => h('th.num', x)), h('th', t('trend')))),
    h('tbody', cur.children.map((c) => h('tr', { 'data-unit': c.unit }, h('td', h('a', {
      href: `#/reports${qs({ unit: c.unit, category })}` }, c.name || c.unit)),
      figureCells(c).map((x) => h('td.num', x)), h('td', trend(c.total, before.get(c.unit)?.total ?? 0))))))));
}

function overdue(list) {
  return h('section.card', h('h2', `${t('overdue')} (${fmtNum(list.length)}${list.length >= 10 ? '+' : ''})`),
    list.length ? h('ul.plain', { id: 'overdue' }, list.map((r) => h('li',
      h('a', { href: `#/reports/${encodeURIComponent(r.id)}` }, r.code || r.id), ' ', r.title || '', ' ',
      statusBadge(r.status), h('span.muted', ` ${t('deadline')} ${fmtDateTime(ms(r.deadline_at ?? r.deadline_ms))}`))))
      : h('p', t('none')));
}

function syncHealth(net) {
  const kids = net.units.filter((u) => u.parent === net.unit || net.sync.links.some((l) => l.peer_unit === u.code));
  return h('section.card', h('h2', t('sync_health')), h('ul.plain', { id: 'sync-health' },
    kids.length ? kids.map((u) => {
      const s = unitState(net, u);
      return h('li', { 'data-unit': u.code }, h('span.badge', { class: s.cls }, s.text), ' ',
        u.name || u.code, h('span.muted', ` ${s.link ? fmtDateTime(Date.parse(s.link.last_exchange) || 0) : fmtAgo(s.heard)}`),
        s.link?.entries_to_send ? h('span.muted', ` · ${t('backlog_out')} ${fmtNum(s.link.entries_to_send)}`) : null);
    }) : h('li', t('none'))));
}

async function weekly(el, unit, category) {
  const now = Date.now(), weeks = [...Array(8).keys()].reverse();
  const rows = await Promise.all(weeks.map((w) => api(`reports/stats${qs({ unit, category,
    from: vnDate(now - (w + 1) * 7 * DAY + DAY), to: vnDate(now - w * 7 * DAY) })}`).catch(() => null)));
  if (rows.some((r) => !r)) return;
  const { trendChart } = await import('../chart.js');
  el.replaceChildren(h('h2', t('weekly')));
  await trendChart(el, weeks.map((w) => now - w * 7 * DAY), [
    { label: t('tile_submitted'), values: rows.map((r) => r.total), color: '#1d4e89' },
    { label: t('processed'), values: rows.map((r) => Math.round((r.processed_share || 0) * r.total)), color: '#2e933c' }],
  { integer: true, xLabel: t('week') });
}

// The colours of the map's points.
const legend = () => h('ul.legend', Object.entries(statusColor).filter(([st]) => STATUSES.includes(st)).map(([st, c]) =>
  h('li', h('span.dot', { style: `background:${c}` }), t('st_' + st))));

export async function render(main, { query } = {}) {
  const unit = query?.get('unit') || session.unit;
  const now = Date.now();
  const [units, cats] = await Promise.all([loadUnits(), categories()]);
  const title = `${t('dashboard')} · ${unitName(units, unit)}`;
  setTitle(title);
  // the window: from..to (a day included), the one before of the same length to compare
  const from = query?.get('from') || vnDate(now - 29 * DAY), to = query?.get('to') || '';
  const category = query?.get('category') || '';
  const days = Math.max(1, Math.round(((to ? Date.parse(to) : Date.parse(vnDate(now))) - Date.parse(from)) / DAY) + 1);
  const prevTo = vnDate(Date.parse(from) - DAY), prevFrom = vnDate(Date.parse(from) - days * DAY);
  const f = { unit: unit === session.unit ? '' : unit, from, to, category };
  const figures = h('div'), kidsBox = h('div'), overdueBox = h('div'), syncBox = h('div');
  const mapEl = h('div.map', { id: 'dash-map' }), chartEl = h('section.card.chart');
  const extra = h('div.cols'), indBox = h('div');
  mount(main, h('h1', title), fold(t('filters'), filterForm({ from, to, category }, cats, unit)), figures, indBox,
    h('div.cols', h('section.card', h('h2', t('map')), mapEl, legend()), h('div', overdueBox, syncBox)),
    kidsBox, chartEl, extra);
  const refresh = async () => {
    const [cur, prev, od, net] = await Promise.all([
      api(`reports/stats${qs({ unit, category, from, to, by: 'child' })}`),
      api(`reports/stats${qs({ unit, category, from: prevFrom, to: prevTo, by: 'child' })}`),
      api(`reports${qs({ unit, category, overdue: 1, sort: 'deadline', limit: 10 })}`),
      api('network')]);
    mount(figures, tiles(cur, prev, { n: od.reports.length, more: !!od.next }, f));
    mount(kidsBox, children(cur, prev, category));
    mount(overdueBox, overdue(od.reports));
    mount(syncBox, syncHealth(net));
  };
  await refresh();
  let mapView = null;
  const points = async () => {
    const r = await api(`reports${qs({ unit, category, from, to, limit: 200 })}`);
    mapView.points(r.reports.map((x) => ({ lat: x.lat, lon: x.lon, status: x.status,
      label: `${x.code || x.id} ${x.title || ''}`, href: `#/reports/${encodeURIComponent(x.id)}` })));
  };
  import('../map.js').then(async ({ makeMap }) => { mapView = await makeMap(mapEl); await points(); })
    .catch(() => {});
  weekly(chartEl, unit, category).catch(() => {});
  indicatorPanel(indBox, unit).catch(() => {});
  for (const fn of extraTiles) fn(extra.appendChild(h('section.card')));
  let pending = null;
  const later = () => {
    if (pending) return;
    pending = setTimeout(() => { pending = null; refresh().catch(() => {}); if (mapView) points().catch(() => {}); }, 2000);
  };
  for (const ev of ['report', 'reports', 'sync']) live.addEventListener(ev, later);
  return () => { clearTimeout(pending); for (const ev of ['report', 'reports', 'sync']) live.removeEventListener(ev, later); };
}
