// pages/cameras.js - the camera map of the caller's unit (docs/media.md):
// online/total by field and by child unit (GET /api/v1/cameras/stats, the
// articles' "242 of 391"), the cameras on the map coloured by status, and
// the list with each camera's replicated thumbnail, so a province sees a
// recent picture of every camera below it even while a commune is offline.
// Refreshed every 30 s.
import { h, mount } from '../dom.js';
import { t, fmtNum, fmtDateTime } from '../i18n.js';
import { api, qs } from '../api.js';
import { makeMap } from '../map.js';

const figures = (s, id, keyName) => h('section.card', h('h2', t(id === 'cam-fields' ? 'cam_by_field' : 'cam_by_child')),
  h('div.scroll', h('table.grid', { id },
    h('thead', h('tr', h('th', t(keyName)), h('th.num', t('online')), h('th.num', t('cam_total')))),
    h('tbody', s.rows.map((r) => h('tr', { 'data-key': r.key }, h('td', r.key || t('cam_own')),
      h('td.num', fmtNum(r.online)), h('td.num', `${fmtNum(r.online)}/${fmtNum(r.total)}`)))))));

const statusText = (s) => t(s === 'online' || s === 'offline' ? s : s === 'degraded' ? 'cam_degraded' : 'cam_unknown');

function cameraRow(c) {
  const picture = c.status === 'online' || c.status === 'degraded'
    ? h('img.thumb', { src: `/api/v1/cameras/${encodeURIComponent(c.id)}/thumbnail.jpg`, alt: c.name,
      loading: 'lazy', width: 160 })
    : null;
  return h('tr', { 'data-camera': c.id },
    h('td', h('strong', c.name), h('small', ` ${c.id}`)),
    h('td', c.field), h('td', c.unit),
    h('td', h('span.badge', { class: c.status === 'online' ? 'online' : 'offline', 'data-status': c.status },
      statusText(c.status)), c.status_since ? h('small', ` ${fmtDateTime(c.status_since)}`) : null,
      c.reason ? h('div.muted', c.reason) : null),
    h('td', picture));
}

export async function render(main, { query } = {}) {
  const unit = query?.get?.('unit') || '';
  const fieldsBox = h('div'), childBox = h('div'), listBox = h('section.card');
  const mapEl = h('div.map', { id: 'cam-map' });
  mount(main, h('h1', t('cameras')), h('div.cols', fieldsBox, childBox), h('section.card', mapEl), listBox);
  const m = await makeMap(mapEl);
  const refresh = async () => {
    const q = unit ? { unit } : {};
    const [byField, byChild, list] = await Promise.all([api(`cameras/stats${qs({ ...q, by: 'field' })}`),
      api(`cameras/stats${qs({ ...q, by: 'child' })}`), api(`cameras${qs(q)}`)]);
    mount(fieldsBox, figures(byField, 'cam-fields', 'cam_field'));
    mount(childBox, figures(byChild, 'cam-children', 'unit'));
    m.points(list.cameras.map((c) => ({ lat: c.lat, lon: c.lon, status: c.status,
      label: `${c.name} · ${statusText(c.status)}` })));
    mount(listBox, h('h2', `${t('cameras')} (${fmtNum(list.cameras.length)})`),
      h('div.scroll', h('table.grid', { id: 'cam-list' },
        h('thead', h('tr', h('th', t('cameras')), h('th', t('cam_field')), h('th', t('unit')), h('th', t('cam_status')),
          h('th', t('cam_picture')))),
        h('tbody', list.cameras.map(cameraRow)))));
  };
  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), 30000);
  return () => clearInterval(timer);
}
