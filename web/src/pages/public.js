// pages/public.js - the citizen pages (no account), under /public: submit
// a report (text, category, photo, location from the browser, the map or
// a typed address), follow it by its tracking link (code and citizen
// token) and rate the answer, and the map of resolved public reports. Uses only
// /api/v1/public/* (docs/reports.md), which carries no personal data.
import { h, mount } from '../dom.js';
import { t, fmtDateTime } from '../i18n.js';
import { api, session } from '../api.js';
import { statusBadge, ms, catName } from './reports.js';

const toBase64 = (file) => new Promise((ok, fail) => {
  const r = new FileReader();
  r.onload = () => ok(String(r.result).split(',')[1]);
  r.onerror = fail;
  r.readAsDataURL(file);
});

// A fresh idempotency key: the node stores one report per key, so a
// repeated click or a retry after a lost answer returns the first report.
const newKey = () => (crypto.randomUUID ? crypto.randomUUID()
  : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''));

// The submit button while the report is sent: disabled, busy, "Đang gửi…".
function busy(button, on) {
  button.disabled = on;
  button.setAttribute('aria-busy', on ? 'true' : 'false');
  button.textContent = t(on ? 'sending' : 'send');
}

// About 500 m around a point: where open reports count as nearby.
const NEAR = 0.005;

// The open public reports near ll in el (and on the map m): a citizen
// sees whether the problem is already reported before sending it again.
async function showNearby(el, m, ll) {
  const bbox = [ll.lng - NEAR, ll.lat - NEAR, ll.lng + NEAR, ll.lat + NEAR].map((v) => v.toFixed(5)).join(',');
  const fc = await api(`public/map?status=open&bbox=${bbox}`).catch(() => null);
  if (!fc) return;
  const list = fc.features;
  mount(el, h('h2', t('nearby_title')), list.length
    ? [h('p.muted', t('nearby_hint')), h('ul', list.slice(0, 10).map((f) => h('li',
      h('a', { href: trackHash(f.properties.code) }, `${f.properties.code}: ${f.properties.title || ''}`), ' ',
      statusBadge(f.properties.status))))]
    : h('p.muted', t('nearby_none')));
  m?.points(list.map((f) => ({ lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1],
    status: f.properties.status, label: `${f.properties.code} ${f.properties.title || ''}` })), { fit: false });
}

// The place of a typed address among the node's units (GET
// public/geocode), or null.
async function geocode(address) {
  const g = await api(`public/geocode?q=${encodeURIComponent(address)}`).catch(() => null);
  return g?.results?.[0] || null;
}

async function submit(main) {
  const cats = (await api('public/categories')).categories || [];
  const msg = h('div', { role: 'status', id: 'submit-result' });
  const lat = h('input', { name: 'lat', id: 'pick-lat', inputmode: 'decimal', class: 'short' });
  const lon = h('input', { name: 'lon', id: 'pick-lon', inputmode: 'decimal', class: 'short' });
  const address = h('input', { name: 'address', id: 'pick-address', maxlength: 300 });
  const mapEl = h('div.map.small', { id: 'pick-map', tabindex: '0', role: 'application',
    'aria-label': `${t('map_picker')}. ${t('pick_keys')}` });
  const located = h('p', { id: 'located', role: 'status' });
  const nearby = h('section', { id: 'nearby', 'aria-live': 'polite' });
  const send = h('button', { type: 'submit', id: 'submit-send' }, t('send'));
  let key = newKey();
  let m = null, marker = null;
  let fromAddress = false; // the pin was put at the typed address, not by the citizen
  const place = (ll, byAddress = false) => {
    fromAddress = byAddress;
    lat.value = ll.lat.toFixed(6); lon.value = ll.lng.toFixed(6);
    if (m && marker) marker.setLatLng(ll);
    else if (m) marker = m.L.marker(ll, { keyboard: false }).addTo(m.map);
    if (!byAddress) located.textContent = '';
    showNearby(nearby, m, ll);
  };
  // The address alone places the pin when the citizen has not.
  const locate = async () => {
    const q = address.value.trim();
    if (!q || (lat.value && !fromAddress)) return null;
    const hit = await geocode(q);
    located.textContent = hit ? t('located_by_address', { name: hit.name }) : t('address_not_found', { q });
    if (hit) place({ lat: hit.lat, lng: hit.lon }, true);
    return hit;
  };
  address.addEventListener('change', () => { locate(); });
  const form = h('form.card', { id: 'submit-form', onsubmit: async (e) => {
    e.preventDefault();
    if (send.disabled) return;
    busy(send, true);
    const fd = new FormData(form);
    if (Number.isNaN(parseFloat(fd.get('lat'))) && fd.get('address') && (await locate())) {
      fd.set('lat', lat.value); fd.set('lon', lon.value);
    }
    const body = { title: fd.get('title'), description: fd.get('description'),
      category: fd.get('category'), address: fd.get('address') || undefined,
      lat: parseFloat(fd.get('lat')), lon: parseFloat(fd.get('lon')),
      reporter_name: fd.get('reporter_name') || undefined,
      reporter_phone: fd.get('reporter_phone') || undefined };
    if (Number.isNaN(body.lat) || Number.isNaN(body.lon)) {
      mount(msg, h('p.error', { role: 'alert' }, body.address
        ? t('address_not_found', { q: body.address }) : t('need_location')));
      busy(send, false);
      msg.scrollIntoView({ block: 'center' });
      return;
    }
    try {
      const file = fd.get('photo');
      if (file && file.size) body.photos = [{ type: file.type, data: await toBase64(file) }];
      const r = await api('public/reports', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
      const link = new URL(r.tracking_url, location.href).href;
      mount(msg, h('p.ok', t('submitted'), ' ', h('strong', { id: 'tracking-code' }, r.code)),
        h('p', t('keep_link')), h('p', h('a', { id: 'tracking-link', href: link }, link)));
      form.reset();
      located.textContent = '';
      fromAddress = false;
      key = newKey();
    } catch (x) { mount(msg, h('p.error', { role: 'alert' }, x.text ?? x.message)); }
    busy(send, false);
    msg.scrollIntoView({ block: 'center' });
  } },
  h('h1', t('public_submit')), h('p', t('citizen_intro')),
  session.node_unit_name ? h('p#receiving-unit', t('receives_at', { unit: session.node_unit_name })) : null,
  h('label', t('title'), h('input', { name: 'title', required: true, maxlength: 200 })),
  h('label', t('category'), h('select', { name: 'category', required: true },
    cats.map((c) => h('option', { value: c.code }, catName(cats, c.code))))),
  h('label', t('description'), h('textarea', { name: 'description', rows: 4, maxlength: 4000 })),
  h('fieldset', h('legend', t('location')),
    h('button.secondary', { type: 'button', onclick: () => navigator.geolocation?.getCurrentPosition(
      (p) => place({ lat: p.coords.latitude, lng: p.coords.longitude })) },
    t('use_my_location')), ' ', h('label.inline', t('lat'), lat), ' ', h('label.inline', t('lon'), lon),
    h('p.muted', t('pick_on_map'), '. ', t('pick_keys')), mapEl,
    h('label', t('address'), address), located, nearby),
  h('label', t('photo'), h('input', { type: 'file', name: 'photo', accept: 'image/jpeg,image/png,image/webp' })),
  h('label', t('your_name'), h('input', { name: 'reporter_name' })),
  h('label', t('phone'), h('input', { name: 'reporter_phone', type: 'tel' })),
  send, msg);
  mount(main, form);
  import('../map.js').then(async ({ makeMap, pinByKeys }) => {
    await makeMap(mapEl, { onClick: (ll) => place(ll), onCreate: (view) => {
      m = view;
      pinByKeys(m, mapEl, () => marker?.getLatLng(), (ll) => place(ll));
    } });
    mapEl.dataset.picker = '1'; // for tests: on the node's unit, the arrow keys work
  }).catch(() => {});
}

// The page of one report: with the token of its tracking link, the whole
// public view and the rating form; with the code alone, what the public
// map shows (docs/security.md, "Citizen tokens").
const trackHash = (code, token) => `#/track/${encodeURIComponent(code)}${token ? `?token=${encodeURIComponent(token)}` : ''}`;

// True when the citizen rated the current resolution (the newest of
// "rate" and "resolve" in the history is a "rate").
function rateDone(r) {
  const acts = (r.history || []).map((x) => x.action).filter((a) => a === 'rate' || a === 'resolve');
  return acts[acts.length - 1] === 'rate' && r.rating;
}

function rateForm(main, code, token, q) {
  const send = h('button', { type: 'submit' }, t('send'));
  const err = h('p.error', { role: 'alert' });
  return h('form.card#rate-form', { onsubmit: async (e) => {
    e.preventDefault();
    if (send.disabled) return;
    const fd = Object.fromEntries(new FormData(e.target));
    busy(send, true);
    try {
      await api(`public/reports/${encodeURIComponent(code)}/rating${q}`, { method: 'POST',
        body: { rating: fd.rating, comment: fd.comment, reopen: fd.rating === 'unsatisfied' && !!fd.reopen } });
      await track(main, code, token, true);
    } catch (x) { err.textContent = x.text ?? x.message; busy(send, false); }
  } }, h('h3', t('rate')), h('label', t('your_rating'), h('select', { name: 'rating' },
    ['satisfied', 'acceptable', 'unsatisfied'].map((x) => h('option', { value: x }, t('r_' + x))))),
  h('label', t('comment_optional'), h('textarea', { name: 'comment', rows: 2, maxlength: 2000 })),
  h('label', h('input', { type: 'checkbox', name: 'reopen' }), ' ', t('act_reopen')), send, err);
}

// Photos of the report from the public photo route: list is r.photos (what
// the citizen sent) or r.resolution_photos (the work done, under a heading).
function photosEl(r, list, id, label) {
  if (!(list || []).length) return null;
  const src = (p) => `/api/v1/public/reports/${encodeURIComponent(r.code)}/photos/${p.hash}`;
  const box = h(`div.photos#${id}`, list.map((p, i) => h('a', { href: src(p), target: '_blank' },
    h('img', { src: src(p), alt: `${t(label)} ${i + 1}: ${r.title || r.code}`, width: 240, loading: 'lazy' }))));
  return label === 'photos' ? box : h('section', h('h3', t(label)), box);
}

// The report's place: its address, coordinates and a map with its point;
// draw() fills the map once the element is in the page.
function whereEl(r) {
  const mapEl = h('div.map.small', { id: 'track-map' });
  const el = h('section', { id: 'track-location' }, h('h3', t('report_location')),
    r.address ? h('p', r.address) : null,
    h('p.muted', `${t('coordinates')}: ${r.lat.toFixed(5)}, ${r.lon.toFixed(5)}`), mapEl);
  const draw = () => import('../map.js').then(async ({ makeMap }) => {
    const m = await makeMap(mapEl);
    m.points([{ lat: r.lat, lon: r.lon, status: r.status }], { fit: false });
    m.map.setView([r.lat, r.lon], 15, { animate: false });
  }).catch(() => {});
  return { el, draw };
}

// thanked: the rating was just sent, so the page thanks the citizen.
async function track(main, code, token, thanked = false) {
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
    const rated = rateDone(r);
    const rate = done && token && !rated ? rateForm(main, code, token, q) : null;
    const where = r.lat != null ? whereEl(r) : null;
    mount(out, h('section.card', h('h2', `${r.code}: ${r.title || ''}`), h('p', statusBadge(r.status), ' ',
      catName(cats, r.category)), r.description ? h('p', r.description) : null,
    photosEl(r, r.photos, 'track-photos', 'photos'), where?.el,
    photosEl(r, r.resolution_photos, 'track-resolution-photos', 'resolution_photos'),
    r.answer ? h('div.answer#citizen-answer', h('h3', t('answer_to_citizen')), h('p', r.answer)) : null,
    rated ? h('p.ok#rated', { role: 'status' }, `${t('your_rating')}: ${t('r_' + r.rating)}. `,
      thanked ? t('rated_thanks') : '') : null,
    r.history ? h('ol.timeline', r.history.map((x) => h('li', h('time', fmtDateTime(ms(x.at_ms ?? x.at))), ' ',
      t('act_' + x.action), x.to ? [' → ', statusBadge(x.to)] : null))) : h('p.muted', { id: 'need-token' }, t('need_token')),
    rate));
    where?.draw();
  } catch (x) { mount(out, h('p.error', { role: 'alert' }, x.status === 404 ? t('not_found') : x.text ?? x.message)); }
}

async function publicMap(main) {
  const mapEl = h('div.map.tall', { id: 'public-map' });
  mount(main, h('h1', t('public_map')), mapEl);
  const [{ makeMap }, fc] = await Promise.all([import('../map.js'), api('public/map')]);
  const m = await makeMap(mapEl);
  m.points(fc.features.map((f) => ({ lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1],
    status: f.properties.status, label: `${f.properties.code} ${f.properties.title || ''}`,
    href: `#/track/${encodeURIComponent(f.properties.code)}` })));
}

export async function render(main, { parts, query }) {
  if (parts[0] === 'track') return track(main, parts[1], query.get('token'));
  if (parts[0] === 'map') return publicMap(main);
  return submit(main);
}
