// pages/indicators.js - the indicator part of a unit's operations centre
// (docs/indicators.md): a period picker, the pinned indicators as tiles with
// their trend against the period before, a time-series chart of any
// indicator, a per-child table that drills down (a child's name opens its
// dashboard, a figure the values behind it), the completeness panel (who
// has not reported), the DTI composite with its three pillars, CSV export
// and a printable A4 view.
import { h, mount } from '../dom.js';
import { t, fmtNum, fmtPct, getLang } from '../i18n.js';
import { api, qs, roleAtLeast } from '../api.js';

const name = (d) => (getLang() === 'en' && d.name_en) || d.name_vi || d.code;
const pad = (n) => String(n).padStart(2, '0');
// The month before now (the last one that has ended), as "2026-11".
function lastMonth() {
  const d = new Date(Date.now() + 7 * 3600000);
  const m = d.getUTCMonth() === 0 ? 12 : d.getUTCMonth();
  return `${d.getUTCMonth() === 0 ? d.getUTCFullYear() - 1 : d.getUTCFullYear()}-${pad(m)}`;
}
// "2026-11" shifted by k months.
function shift(month, k) {
  const [y, m] = month.split('-').map(Number);
  const o = y * 12 + m - 1 + k;
  return `${Math.floor(o / 12)}-${pad((o % 12) + 1)}`;
}
// The period of definition d that holds month.
const periodOf = (d, month) => (d.period === 'year' ? month.slice(0, 4)
  : d.period === 'quarter' ? `${month.slice(0, 4)}-Q${Math.floor((Number(month.slice(5)) - 1) / 3) + 1}` : month);
const fmtVal = (d, v) => (v == null ? '–' : `${fmtNum(Math.round(v * 100) / 100)}${d.measure === '%' ? ' %' : ''}`);

function trendMark(now, before) {
  if (now == null || before == null) return null;
  const x = now - before;
  return h('span.trend', { class: x > 0 ? 'up' : x < 0 ? 'down' : 'flat' },
    `${x > 0 ? '▲' : x < 0 ? '▼' : '■'} ${x > 0 ? '+' : ''}${fmtNum(Math.round(x * 100) / 100)}`);
}

async function pinnedTiles(defs, unit, month) {
  const pinned = defs.filter((d) => d.pinned);
  const rows = await Promise.all(pinned.map((d) => api(`indicators/${encodeURIComponent(d.code)}/values${qs({
    unit, from: d.period === 'month' ? shift(month, -1) : periodOf(d, month), to: periodOf(d, month) })}`)
    .catch(() => null)));
  return h('div.tiles', { id: 'ind-tiles' }, pinned.map((d, i) => {
    const r = rows[i]?.rows || [], cur = r[r.length - 1], prev = r.length > 1 ? r[0] : null;
    return h('div.tile', { 'data-indicator': d.code }, h('span.label', name(d)),
      h('span.value', fmtVal(d, cur?.value)), trendMark(cur?.value, prev?.value),
      cur && cur.expected ? h('span.muted', ` ${fmtNum(cur.reported)}/${fmtNum(cur.expected)}`) : null);
  }));
}

async function chart(el, d, unit, month) {
  const to = periodOf(d, month);
  const from = d.period === 'month' ? shift(month, -23) : d.period === 'year' ? String(Number(to) - 4) : undefined;
  const r = await api(`indicators/${encodeURIComponent(d.code)}/values${qs({ unit, from, to })}`);
  const start = (p) => Date.UTC(Number(p.slice(0, 4)), p.length > 4 && p[5] !== 'Q' ? Number(p.slice(5)) - 1 : 0, 1);
  const { trendChart } = await import('../chart.js');
  el.replaceChildren();
  await trendChart(el, r.rows.map((x) => start(x.period)), [
    { label: name(d), values: r.rows.map((x) => x.value), color: '#1d4e89' }]);
}

// The values behind a figure: the child's own children, or its value with history.
async function behind(box, d, unit, period) {
  const r = await api(`indicators/${encodeURIComponent(d.code)}/values${qs({ unit, from: period, to: period, by: 'child' })}`);
  if (r.rows.length) {
    mount(box, h('h3', `${name(d)} · ${unit} · ${period}`), h('table.grid', { id: 'ind-behind' },
      h('tbody', r.rows.map((x) => h('tr', h('td', x.name || x.unit), h('td.num', fmtVal(d, x.value)))))));
    return;
  }
  const v = await api(`indicators/${encodeURIComponent(d.code)}/values/${encodeURIComponent(unit)}/${period}`)
    .catch(() => null);
  mount(box, h('h3', `${name(d)} · ${unit} · ${period}`), v ? h('ul.plain', { id: 'ind-behind' },
    v.history.map((x) => h('li', fmtVal(d, x.value), ' · ', x.by, ` (${x.by_unit})`,
      x.comment ? ` · ${x.comment}` : '', x.approved_by ? ` · ${t('ind_approved')} ${x.approved_by}` : '')))
    : h('p', t('no_data')));
}

// Uploads a CSV file of values (POST /api/v1/indicators/values.csv): all or
// nothing, a bad row named with its column.
function importForm() {
  const file = h('input', { type: 'file', id: 'ind-import-file', accept: '.csv,text/csv', 'aria-label': t('ind_import') });
  const msg = h('p', { role: 'status', id: 'ind-import-msg' });
  return h('form.row', { onsubmit: async (e) => {
    e.preventDefault();
    if (!file.files[0]) return;
    try {
      const r = await api('indicators/values.csv', { method: 'POST', body: await file.files[0].text(), raw: true });
      msg.className = 'ok';
      msg.textContent = `${t('ind_written')} ${fmtNum(r.written)} · ${t('ind_unchanged')} ${fmtNum(r.unchanged)}`;
    } catch (x) { msg.className = 'error'; msg.textContent = x.message; }
  } }, file, h('button', { type: 'submit' }, t('ind_import')), msg);
}

async function childTable(box, d, unit, period) {
  const r = await api(`indicators/${encodeURIComponent(d.code)}/values${qs({ unit, from: period, to: period, by: 'child' })}`);
  const details = h('div#ind-details');
  const csv = `/api/v1/indicators/${encodeURIComponent(d.code)}/values.csv${qs({ unit, from: period, to: period, by: 'child' })}`;
  const entered = !d.computed && !d.live;
  const template = `/api/v1/indicators/${encodeURIComponent(d.code)}/template.csv${qs({ unit, period })}`;
  mount(box, h('h2', `${t('by_child')} · ${name(d)}`), h('a.button', { href: csv, download: '', id: 'ind-csv' }, t('ind_csv')),
    entered ? [' ', h('a.button', { href: template, download: '', id: 'ind-template' }, t('ind_template'))] : null,
    entered && roleAtLeast('staff') ? importForm() : null,
    h('div.scroll', h('table.grid', { id: 'ind-children' },
      h('thead', h('tr', h('th', t('unit')), h('th', t('ind_value')), h('th', t('ind_reported')))),
      h('tbody', r.rows.map((x) => h('tr', { 'data-unit': x.unit },
        h('td', h('a', { href: `#/?unit=${encodeURIComponent(x.unit)}` }, x.name || x.unit)),
        h('td.num', h('a', { href: '#', onclick: (e) => { e.preventDefault(); behind(details, d, x.unit, period).catch(() => {}); } },
          fmtVal(d, x.value))),
        h('td.num', x.expected ? `${fmtNum(x.reported)}/${fmtNum(x.expected)}` : '–')))))), details);
}

async function completeness(box, d, unit, period) {
  if (d.computed || d.live) { mount(box); return; }
  const c = await api(`completeness${qs({ indicator: d.code, period, unit })}`);
  mount(box, h('h2', `${t('ind_completeness')} · ${name(d)} · ${period}`),
    h('p#ind-rates', `${t('ind_received')} ${fmtNum(c.received)}/${fmtNum(c.expected)} (${fmtPct(c.received_rate)}) · `,
      `${t('on_time')} ${fmtNum(c.on_time)} (${fmtPct(c.on_time_rate)})`),
    h('h3', t('ind_missing')), h('ul.plain#ind-missing', c.missing.length
      ? c.missing.map((m) => h('li', { 'data-unit': m.unit }, `${m.name || m.unit} (${m.unit})`)) : h('li', t('none'))));
}

async function dti(box, defs, unit, month) {
  const year = month.slice(0, 4);
  const pillars = ['gov', 'eco', 'soc'];
  const scores = await Promise.all(pillars.map(async (p) => {
    const list = defs.filter((d) => d.group === `dti.${p}`);
    const vals = await Promise.all(list.map((d) => api(`indicators/${encodeURIComponent(d.code)}/values${qs({ unit, from: year, to: year })}`)
      .then((r) => r.rows[0]?.value).catch(() => null)));
    const known = vals.filter((v) => v != null);
    return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
  }));
  if (scores.every((s) => s == null)) { mount(box); return; }
  const known = scores.filter((s) => s != null);
  const composite = known.reduce((a, b) => a + b, 0) / known.length;
  mount(box, h('h2', `${t('ind_dti')} ${year}`), h('div.tiles#ind-dti',
    h('div.tile', { 'data-pillar': 'dti' }, h('span.label', t('ind_dti_total')), h('span.value', fmtNum(Math.round(composite * 1000) / 1000))),
    pillars.map((p, i) => h('div.tile', { 'data-pillar': p }, h('span.label', t(`ind_dti_${p}`)),
      h('span.value', fmtNum(scores[i] == null ? null : Math.round(scores[i] * 1000) / 1000))))));
}

// Fills el with the indicator panel of unit.
export async function indicatorPanel(el, unit) {
  const defs = (await api(`indicators${qs({ unit })}`)).indicators;
  if (!defs.length) { mount(el); return; }
  let month = lastMonth();
  const chartable = defs.filter((d) => !d.group?.startsWith('dti.'));
  let current = chartable.find((d) => d.pinned) || chartable[0];
  const picker = h('input#ind-period', { type: 'month', value: month, 'aria-label': t('ind_period') });
  const select = h('select#ind-select', { 'aria-label': t('ind_indicator') },
    chartable.map((d) => h('option', { value: d.code, selected: d === current }, name(d))));
  const tilesBox = h('div'), chartEl = h('div#ind-chart'), kids = h('section.card'), comp = h('section.card#ind-completeness');
  const dtiBox = h('section.card');
  const draw = async () => {
    const p = periodOf(current, month);
    await Promise.all([
      pinnedTiles(defs, unit, month).then((x) => mount(tilesBox, x)),
      chart(chartEl, current, unit, month).catch(() => mount(chartEl, h('p', t('no_data')))),
      childTable(kids, current, unit, p).catch(() => mount(kids)),
      completeness(comp, current, unit, p).catch(() => mount(comp)),
      dti(dtiBox, defs, unit, month).catch(() => mount(dtiBox))]);
  };
  picker.addEventListener('change', () => { if (picker.value) { month = picker.value; draw(); } });
  select.addEventListener('change', () => { current = defs.find((d) => d.code === select.value); draw(); });
  mount(el, h('section.card.indicators', { id: 'indicators' },
    h('div.toolbar', h('h2', t('ind_title')), h('label', t('ind_period'), ' ', picker),
      h('button#ind-print', { type: 'button', onclick: () => window.print() }, t('ind_print'))),
    tilesBox, h('label', t('ind_indicator'), ' ', select), chartEl), h('div.cols', kids, comp), dtiBox);
  await draw();
}
