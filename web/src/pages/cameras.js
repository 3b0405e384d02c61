// pages/cameras.js - the camera map of the caller's unit (docs/media.md):
// online/total by field and by child unit (GET /api/v1/cameras/stats, the
// articles' "242 of 391"), the cameras on the map coloured by status, and
// the list with each camera's replicated thumbnail, so a province sees a
// recent picture of every camera below it even while a commune is offline;
// the AI camera events of the unit (today's counts per type, the latest
// with their clip); a camera's panel (its name in the list) with the live
// view (relayed by the nodes above the owner), its recordings with clip
// links and its events. Refreshed every 30 s.
import { h, mount } from '../dom.js';
import { t, fmtNum, fmtDateTime } from '../i18n.js';
import { api, qs } from '../api.js';
import { makeMap } from '../map.js';

const figures = (s, id, keyName) => h('section.card', h('h2', t(id === 'cam-fields' ? 'cam_by_field' : 'cam_by_child')),
  h('div.scroll', { tabindex: 0 }, h('table.grid', { id },
    h('thead', h('tr', h('th', t(keyName)), h('th.num', t('online')), h('th.num', t('cam_total')))),
    h('tbody', s.rows.map((r) => h('tr', { 'data-key': r.key }, h('td', r.key || t('cam_own')),
      h('td.num', fmtNum(r.online)), h('td.num', `${fmtNum(r.online)}/${fmtNum(r.total)}`)))))));

const statusText = (s) => t(s === 'online' || s === 'offline' ? s : s === 'degraded' ? 'cam_degraded' : 'cam_unknown');

const camPath = (id) => `/api/v1/cameras/${encodeURIComponent(id)}`;
const clipLink = (href) => h('a', { href, download: 'clip.mp4' }, t('cam_clip'));

function eventRows(events) {
  return h('div.scroll', { tabindex: 0 }, h('table.grid', { class: 'cam-events' },
    h('thead', h('tr', h('th', t('cam_event_time')), h('th', t('cameras')), h('th', t('cam_event_type')),
      h('th', t('cam_plate')), h('th', t('cam_picture')), h('th', t('cam_clip')))),
    h('tbody', events.map((e) => h('tr', { 'data-event': e.id },
      h('td', fmtDateTime(e.time)), h('td', e.camera), h('td', e.type), h('td', e.plate || ''),
      h('td', e.picture ? h('a', { href: `${camPath(e.camera)}/events/${encodeURIComponent(e.id)}/picture.jpg`,
        target: '_blank', rel: 'noopener' }, t('cam_picture')) : null),
      h('td', clipLink(e.clip)))))));
}

// The panel of camera c: live view (stopped when the panel closes), its
// recordings and its events.
async function cameraPanel(box, c) {
  const live = h('img.live', { src: `${camPath(c.id)}/live.mjpeg`, alt: c.name, width: 640 });
  const close = h('button', { type: 'button' }, t('act_close'));
  const recBox = h('div'), evBox = h('div');
  const history = h('ul.cam-history', (c.history || []).map((x) => h('li', { 'data-status': x.status },
    `${fmtDateTime(x.at)} · ${statusText(x.status)}`, x.reason ? h('small', ` ${x.reason}`) : null)));
  mount(box, h('h2', c.name, h('small', ` ${c.id}`)), close, h('div.live-box', live),
    h('h3', t('cam_history')), history, h('h3', t('cam_recordings')), recBox, h('h3', t('cam_events')), evBox);
  close.addEventListener('click', () => { live.removeAttribute('src'); mount(box); });
  const [rec, ev] = await Promise.all([api(`cameras/${encodeURIComponent(c.id)}/recordings`).catch(() => ({ recordings: [] })),
    api(`cameras/${encodeURIComponent(c.id)}/events${qs({ limit: 20 })}`).catch(() => ({ events: [] }))]);
  mount(recBox, rec.recordings.length ? h('ul.cam-recordings', rec.recordings.slice(-20).reverse().map((r) =>
    h('li', `${fmtDateTime(r.start)} – ${fmtDateTime(r.end)} · ${fmtNum(Math.round(r.bytes / 1024))} KiB `,
      clipLink(`${camPath(c.id)}/clip.mp4${qs({ from: r.start, to: r.end })}`)))) : h('p.muted', t('cam_no_recordings')));
  mount(evBox, ev.events.length ? eventRows(ev.events) : h('p.muted', t('cam_no_events')));
}

function cameraRow(c, panel) {
  const picture = c.status === 'online' || c.status === 'degraded'
    ? h('img.thumb', { src: `/api/v1/cameras/${encodeURIComponent(c.id)}/thumbnail.jpg`, alt: c.name,
      loading: 'lazy', width: 160 })
    : null;
  return h('tr', { 'data-camera': c.id },
    h('td', h('button.link', { type: 'button', onclick: () => cameraPanel(panel, c).catch(() => {}) },
      h('strong', c.name)), h('small', ` ${c.id}`)),
    h('td', c.field), h('td', c.unit),
    h('td', h('span.badge', { class: c.status === 'online' ? 'online' : 'offline', 'data-status': c.status },
      statusText(c.status)), c.status_since ? h('small', ` ${fmtDateTime(c.status_since)}`) : null,
      c.reason ? h('div.muted', c.reason) : null),
    h('td', picture));
}

export async function render(main, { query } = {}) {
  const unit = query?.get?.('unit') || '';
  const fieldsBox = h('div'), childBox = h('div'), listBox = h('section.card');
  const panel = h('section.card', { id: 'cam-panel' }), eventsBox = h('section.card', { id: 'cam-events' });
  const mapEl = h('div.map', { id: 'cam-map' });
  mount(main, h('h1', t('cameras')), h('div.cols', fieldsBox, childBox), panel, h('section.card', mapEl), listBox,
    eventsBox);
  const m = await makeMap(mapEl);
  const refresh = async () => {
    const q = unit ? { unit } : {};
    const [byField, byChild, list, events, counts] = await Promise.all([api(`cameras/stats${qs({ ...q, by: 'field' })}`),
      api(`cameras/stats${qs({ ...q, by: 'child' })}`), api(`cameras${qs(q)}`),
      api(`cameras/events${qs({ ...q, limit: 20 })}`), api(`cameras/events/counts${qs(q)}`)]);
    mount(eventsBox, h('h2', `${t('cam_events')} · ${t('cam_today')}: ${fmtNum(counts.total)}`),
      h('p', Object.entries(counts.by_type).map(([k, n]) => h('span.badge', { 'data-type': k }, `${k} ${fmtNum(n)}`))),
      events.events.length ? eventRows(events.events) : h('p.muted', t('cam_no_events')));
    mount(fieldsBox, figures(byField, 'cam-fields', 'cam_field'));
    mount(childBox, figures(byChild, 'cam-children', 'unit'));
    m.points(list.cameras.map((c) => ({ lat: c.lat, lon: c.lon, status: c.status,
      label: `${c.name} · ${statusText(c.status)}` })));
    mount(listBox, h('div.row', h('h2.grow', `${t('cameras')} (${fmtNum(list.cameras.length)})`),
      // every camera of the list as CSV, the same unit (GET /api/v1/cameras?format=csv)
      h('a.button.secondary', { id: 'export-csv', download: 'cameras.csv',
        href: `/api/v1/cameras${qs({ ...q, format: 'csv' })}` }, t('export_csv'))),
      h('div.scroll', { tabindex: 0 }, h('table.grid.cards', { id: 'cam-list' },
        h('thead', h('tr', h('th', t('cameras')), h('th', t('cam_field')), h('th', t('unit')), h('th', t('cam_status')),
          h('th', t('cam_picture')))),
        h('tbody', list.cameras.map((c) => cameraRow(c, panel))))));
  };
  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), 30000);
  return () => clearInterval(timer);
}
