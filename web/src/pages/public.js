// pages/public.js - the citizen pages (no account), under /public: submit
// a report (text, category, photo, location from the browser, the map or
// a typed address), follow it by its tracking link (code and citizen
// token) and rate the answer, and the map of resolved public reports. Uses only
// /api/v1/public/* (docs/reports.md), which carries no personal data.
import { h, mount } from '../dom.js';
import { t, fmtDateTime } from '../i18n.js';
import { api } from '../api.js';
import { statusBadge, ms, catName } from './reports.js';

const toBase64 = (file) => new Promise((ok, fail) => {
  const r = new FileReader();
  r.onload = () => ok(String(r.result).split(',')[1]);
  r.onerror = fail;
  r.readAsDataURL(file);
});

async function submit(main) {
  const cats = (await api('public/categories')).categories || [];
  const msg = h('div', { role: 'status', id: 'submit-result' });
  const lat = h('input', { name: 'lat', inputmode: 'decimal', placeholder: 'lat', class: 'short' });
  const lon = h('input', { name: 'lon', inputmode: 'decimal', placeholder: 'lon', class: 'short' });
  const mapEl = h('div.map.small', { id: 'pick-map' });
  const form = h('form.card', { id: 'submit-form', onsubmit: async (e) => {
    e.preventDefault();
    const fd = new FormData(form);
    const body = { title: fd.get('title'), description: fd.get('description'),
      category: fd.get('category'), address: fd.get('address') || undefined,
      lat: parseFloat(fd.get('lat')), lon: parseFloat(fd.get('lon')),
      reporter_name: fd.get('reporter_name') || undefined,
      reporter_phone: fd.get('reporter_phone') || undefined };
    if (Number.isNaN(body.lat) || Number.isNaN(body.lon)) { mount(msg, h('p.error', t('need_location'))); return; }
    const file = fd.get('photo');
    if (file && file.size) body.photos = [{ type: file.type, data: await toBase64(file) }];
    try {
      const r = await api('public/reports', { method: 'POST', body });
      const link = new URL(r.tracking_url, location.href).href;
      mount(msg, h('p.ok', t('submitted'), ' ', h('strong', { id: 'tracking-code' }, r.code)),
        h('p', t('keep_link')), h('p', h('a', { id: 'tracking-link', href: link }, link)));
      form.reset();
    } catch (x) { mount(msg, h('p.error', x.message)); }
  } },
  h('h1', t('public_submit')), h('p', t('citizen_intro')),
  h('label', t('title'), h('input', { name: 'title', required: true, maxlength: 200 })),
  h('label', t('category'), h('select', { name: 'category', required: true },
    cats.map((c) => h('option', { value: c.code }, catName(cats, c.code))))),
  h('label', t('description'), h('textarea', { name: 'description', rows: 4, maxlength: 4000 })),
  h('fieldset', h('legend', t('location')),
    h('button.secondary', { type: 'button', onclick: () => navigator.geolocation?.getCurrentPosition(
      (p) => { lat.value = p.coords.latitude.toFixed(6); lon.value = p.coords.longitude.toFixed(6); }) },
    t('use_my_location')), ' ', lat, ' ', lon, h('p.muted', t('pick_on_map')), mapEl,
    h('label', t('address'), h('input', { name: 'address', maxlength: 300 }))),
  h('label', t('photo'), h('input', { type: 'file', name: 'photo', accept: 'image/jpeg,image/png,image/webp' })),
  h('label', t('your_name'), h('input', { name: 'reporter_name' })),
  h('label', t('phone'), h('input', { name: 'reporter_phone', type: 'tel' })),
  h('button', { type: 'submit' }, t('send')), msg);
  mount(main, form);
  import('../map.js').then(async ({ makeMap }) => {
    let marker = null;
    const m = await makeMap(mapEl, { withBoundaries: false, onClick: (ll) => {
      lat.value = ll.lat.toFixed(6); lon.value = ll.lng.toFixed(6);
      if (marker) marker.setLatLng(ll); else marker = m.L.marker(ll).addTo(m.map);
    } });
  }).catch(() => {});
}

// The page of one report: with the token of its tracking link, the whole
// public view and the rating form; with the code alone, what the public
// map shows (docs/security.md, "Citizen tokens").
const trackHash = (code, token) => `#/track/${encodeURIComponent(code)}${token ? `?token=${encodeURIComponent(token)}` : ''}`;

async function track(main, code, token) {
  const input = h('input', { name: 'code', value: code || '', placeholder: t('tracking_code'), required: true });
  const tokenIn = h('input', { name: 'token', value: token || '', placeholder: t('token_optional'), autocomplete: 'off' });
  const out = h('div', { id: 'track-result' });
  mount(main, h('form.card.row', { onsubmit: (e) => { e.preventDefault();
    location.hash = trackHash(input.value.trim(), tokenIn.value.trim()); } },
  h('label', t('tracking_code'), input), h('label', t('token'), tokenIn), h('button', { type: 'submit' }, t('lookup'))), out);
  if (!code) return;
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  try {
    const r = await api(`public/reports/${encodeURIComponent(code)}${q}`);
    const cats = (await api('public/categories')).categories || [];
    const done = ['resolved', 'closed'].includes(r.status);
    const rate = done && token ? h('form.row', { onsubmit: async (e) => {
      e.preventDefault();
      const fd = Object.fromEntries(new FormData(e.target));
      try { await api(`public/reports/${encodeURIComponent(code)}/rating${q}`, { method: 'POST',
        body: { rating: fd.rating, comment: fd.comment, reopen: fd.rating === 'unsatisfied' && !!fd.reopen } });
      track(main, code, token); } catch (x) { e.target.append(h('p.error', x.message)); }
    } }, h('strong', t('rate')), h('select', { name: 'rating' }, ['satisfied', 'acceptable', 'unsatisfied']
      .map((x) => h('option', { value: x }, t('r_' + x)))), h('input', { name: 'comment', placeholder: t('note') }),
    h('label', h('input', { type: 'checkbox', name: 'reopen' }), t('act_reopen')),
    h('button', { type: 'submit' }, t('send'))) : null;
    mount(out, h('section.card', h('h2', `${r.code}: ${r.title || ''}`), h('p', statusBadge(r.status), ' ',
      catName(cats, r.category)), r.description ? h('p', r.description) : null,
    r.answer ? h('p', h('strong', `${t('answer')}: `), r.answer) : null,
    r.history ? h('ol.timeline', r.history.map((x) => h('li', h('time', fmtDateTime(ms(x.at_ms ?? x.at))), ' ',
      t('act_' + x.action), x.to ? [' → ', statusBadge(x.to)] : null))) : h('p.muted', { id: 'need-token' }, t('need_token')),
    rate));
  } catch (x) { mount(out, h('p.error', { role: 'alert' }, x.status === 404 ? t('not_found') : x.message)); }
}

async function publicMap(main) {
  const mapEl = h('div.map.tall', { id: 'public-map' });
  mount(main, h('h1', t('public_map')), mapEl);
  const [{ makeMap }, fc] = await Promise.all([import('../map.js'), api('public/map')]);
  const m = await makeMap(mapEl, { withBoundaries: false });
  m.points(fc.features.map((f) => ({ lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1],
    status: f.properties.status, label: `${f.properties.code} ${f.properties.title || ''}`,
    href: `#/track/${encodeURIComponent(f.properties.code)}` })));
}

export async function render(main, { parts, query }) {
  if (parts[0] === 'track') return track(main, parts[1], query.get('token'));
  if (parts[0] === 'map') return publicMap(main);
  return submit(main);
}
