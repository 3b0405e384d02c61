// ui_map.mjs - the maps offline and the citizens' page (issue 18), run by
// tests/ui_map.sh against a commune node: every request to a host other
// than the node is blocked and recorded; the basemap's tiles are fetched
// by byte ranges and drawn; the unit boundaries carry their names; the map
// opens on the node's unit; the pin moves with the arrow keys; nearby open
// reports are listed; an address alone places the report; a double click
// files one report; the tracking page shows the photo and the location;
// 1,500 points cluster; a live update keeps the user's zoom; axe-core
// finds nothing serious on the citizens' pages in both languages at 1366
// and 360 px.
import { fileURLToPath } from 'node:url';
import { browser, check, failed, newPage, pages, shot, login } from './lib.mjs';

const env = process.env;
const base = `http://127.0.0.1:${env.UI_PORT_c1}`;
const AXE = fileURLToPath(new URL('../../web/node_modules/axe-core/axe.min.js', import.meta.url));
const b = await browser();
const outside = [];
const basemapAnswers = [];

// Every request must go to the node: others are refused and recorded.
async function nodeOnly(page) {
  await page.context().route('**/*', (r) => {
    const u = new URL(r.request().url());
    if (u.origin !== base && u.protocol !== 'data:' && u.protocol !== 'blob:') {
      outside.push(u.href);
      return r.abort();
    }
    return r.continue();
  });
  page.on('response', (r) => { if (r.url().endsWith('/basemap.pmtiles')) basemapAnswers.push(r.status()); });
}

// Tile canvases of the map in sel holding the basemap's land colour
// (protomaps "light": earth #e2dfda) and its sea (#80deea).
const drawnTiles = (page, sel) => page.evaluate((s) => {
  let land = 0, sea = 0;
  for (const c of document.querySelectorAll(`${s} canvas.leaflet-tile`)) {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let l = false, w = false;
    for (let i = 0; i < d.length; i += 4 * 7) {
      if (d[i] === 0xe2 && d[i + 1] === 0xdf && d[i + 2] === 0xda) l = true;
      if (d[i] === 0x80 && d[i + 1] === 0xde && d[i + 2] === 0xea) w = true;
    }
    land += l; sea += w;
  }
  return { land, sea };
}, sel);
const until = async (fn, ms = 15000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((ok) => setTimeout(ok, 200)))
    if (await fn()) return true;
  return false;
};
const reportCount = async () => {
  const r = await fetch(`${base}/api/v1/public/map?status=open`);
  return (await r.json()).features.length;
};

// ---- the citizens' page under the node's real CSP --------------------------------------------
const ctx = await b.newContext({ viewport: { width: 1366, height: 900 }, locale: 'vi-VN' });
const pub = await ctx.newPage();
const errors = [];
pub.on('pageerror', (e) => errors.push(`script error: ${e}`));
pub.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
pub.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}: ${r.failure()?.errorText}`));
await nodeOnly(pub);
await pub.goto(`${base}/public`);
await pub.waitForSelector('#pick-map[data-picker]', { timeout: 20000 });
check('the basemap is read by byte ranges (206)', await until(() => basemapAnswers.filter((s) => s === 206).length >= 2),
  JSON.stringify(basemapAnswers));
check('...every answer a success', basemapAnswers.every((s) => s === 206), JSON.stringify(basemapAnswers));
check('the map draws base-map tiles: land and sea', await until(async () => {
  const d = await drawnTiles(pub, '#pick-map');
  return d.land > 0 && d.sea > 0;
}), JSON.stringify(await drawnTiles(pub, '#pick-map')));
const labels = await pub.$$eval('#pick-map .unit-label', (els) => els.map((e) => e.textContent));
check('the boundaries carry the units\' names', labels.includes('Phường Bến Thủy') && labels.includes('Thành phố Vinh'),
  JSON.stringify(labels));
const own = await pub.evaluate(() => {
  const m = document.querySelector('#pick-map').getBoundingClientRect();
  const l = [...document.querySelectorAll('#pick-map .unit-label')].find((e) => e.textContent === 'Phường Bến Thủy');
  const r = l.getBoundingClientRect();
  return { inside: r.left > m.left && r.right < m.right && r.top > m.top && r.bottom < m.bottom,
    zoom: Number(document.querySelector('#pick-map').dataset.zoom) };
});
check('the map opens on the node\'s unit', own.inside && own.zoom >= 12, JSON.stringify(own));
check('the map credits the basemap\'s data', (await pub.textContent('#pick-map .leaflet-control-attribution')
  .catch(() => '')).includes('Natural Earth'));
check('the page names the receiving unit', (await pub.textContent('#receiving-unit')).includes('Phường Bến Thủy'));
await shot(pub, 'map-public-vi-1366');
// the pin from the keyboard: the first arrow places it at the centre, the next ones move it
await pub.focus('#pick-map');
await pub.keyboard.press('ArrowRight');
const p0 = { lat: Number(await pub.inputValue('#pick-lat')), lon: Number(await pub.inputValue('#pick-lon')) };
check('the open report near the pin is listed before sending', await until(async () =>
  (await pub.textContent('#nearby')).includes(env.UI_NEAR)), await pub.textContent('#nearby'));
check('...with a link to follow it', (await pub.getAttribute('#nearby a', 'href')).includes(encodeURIComponent(env.UI_NEAR)));
await pub.keyboard.press('ArrowUp');
await pub.keyboard.press('ArrowRight');
const p1 = { lat: Number(await pub.inputValue('#pick-lat')), lon: Number(await pub.inputValue('#pick-lon')) };
check('the arrow keys place the pin inside the commune', p0.lat > 18.648 && p0.lat < 18.708 && p0.lon > 105.655 && p0.lon < 105.718,
  JSON.stringify(p0));
check('...and move it north and east', p1.lat > p0.lat && p1.lon > p0.lon, JSON.stringify({ p0, p1 }));
// a double click on "Gửi" files one report
const before = await reportCount();
await pub.fill('input[name=title]', 'Vỉa hè bị lấn chiếm');
await pub.selectOption('select[name=category]', 'public_order');
await pub.dblclick('#submit-send');
await pub.waitForSelector('#tracking-code', { timeout: 15000 });
check('a double click on Gửi files one report', await until(async () => (await reportCount()) === before + 1)
  && (await reportCount()) === before + 1, `${before} -> ${await reportCount()}`);
// the address alone, no pin: placed at the street it names
await pub.goto(`${base}/public`);
await pub.waitForSelector('#pick-map[data-picker]', { timeout: 20000 });
await pub.fill('input[name=title]', 'Ngập nước sau mưa');
await pub.selectOption('select[name=category]', 'environment');
await pub.fill('#pick-address', 'Số 12 Hồ Tùng Mậu, Phường Bến Thủy');
await pub.click('#submit-send');
await pub.waitForSelector('#tracking-code', { timeout: 15000 });
const code = (await pub.textContent('#tracking-code')).trim();
const placed = await (await fetch(`${base}/api/v1/public/reports/${encodeURIComponent(code)}${
  new URL(await pub.getAttribute('#tracking-link', 'href')).hash.replace(/^.*\?/, '?')}`)).json();
check('an address alone files the report, placed at the street it names (imported by ui_map.sh)',
  Math.abs(placed.lat - 18.69) < 1e-6 && Math.abs(placed.lon - 105.70) < 1e-6 &&
  placed.address === 'Số 12 Hồ Tùng Mậu, Phường Bến Thủy', JSON.stringify(placed));
check('the citizens\' page: no script error, no failed request under the real CSP', errors.length === 0, errors.join('; '));

// ---- the tracking page: photo and location ----------------------------------------------------
const track = await newPage(b, { name: 'track', base, width: 1366 });
await nodeOnly(track);
await track.goto(new URL(env.UI_TRACK, base).href);
await track.waitForSelector('#track-map[data-ready]', { timeout: 20000 });
check('the tracking page shows the photo', await until(() => track.$eval('#track-photos img',
  (i) => i.complete && i.naturalWidth > 0).catch(() => false)));
const where = await track.textContent('#track-location');
check('...and the location: address and coordinates', where.includes('Số 3 Nguyễn Du') && where.includes('18.66000, 105.70000'), where);
check('...on a map with base-map tiles', await until(async () => (await drawnTiles(track, '#track-map')).land > 0));
await shot(track, 'map-track');

// ---- 1,500 points cluster; a live update keeps the user's view --------------------------------
const mapPage = await newPage(b, { name: 'public-map', base, width: 1366 });
await nodeOnly(mapPage);
await mapPage.goto(`${base}/public#/map`);
await mapPage.waitForSelector('#public-map[data-points]', { timeout: 20000 });
const clusters = await mapPage.$$eval('#public-map .marker-cluster', (els) => els.map((e) => Number(e.textContent)));
const npoints = Number(await mapPage.getAttribute('#public-map', 'data-points'));
check('the public map has the 1,500 closed reports', npoints >= 1500, String(npoints));
check('...drawn as clusters that count them', clusters.length > 0 && clusters.length < 200 &&
  clusters.reduce((a, n) => a + n, 0) <= npoints && clusters.some((n) => n >= 10), JSON.stringify(clusters.slice(0, 10)));
await shot(mapPage, 'map-clusters');

const staff = await newPage(b, { name: 'dashboard', base, width: 1366 });
await nodeOnly(staff);
await login(staff, base, 'c1-staff', 'ui-pass-c1-staff');
await staff.waitForSelector('.map[data-points]', { timeout: 20000 });
const z0 = Number(await staff.getAttribute('.map[data-points]', 'data-zoom'));
await staff.click('.map[data-points] .leaflet-control-zoom-in');
check('the user zooms in', await until(async () => Number(await staff.getAttribute('.map[data-points]', 'data-zoom')) === z0 + 1));
const n0 = Number(await staff.getAttribute('.map[data-points]', 'data-updates'));
await fetch(`${base}/api/v1/public/reports`, { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ title: 'Cây đổ', category: 'public_order', lat: 18.68, lon: 105.69 }) });
check('a live update redraws the map\'s points', await until(async () =>
  Number(await staff.getAttribute('.map[data-points]', 'data-updates')) > n0, 20000));
check('...and keeps the user\'s zoom', Number(await staff.getAttribute('.map[data-points]', 'data-zoom')) === z0 + 1);

// ---- axe-core on the citizens' pages, both languages, both widths -----------------------------
const ax = await newPage(b, { name: 'axe', base });
await nodeOnly(ax);
for (const lang of ['vi', 'en']) {
  for (const width of [1366, 360]) {
    const trackRoute = new URL(env.UI_TRACK, base).pathname + new URL(env.UI_TRACK, base).hash;
    for (const [page, route] of [['submit', '/public#/'], ['track', trackRoute]]) {
      await ax.setViewportSize({ width, height: width < 600 ? 740 : 768 });
      await ax.goto(`${base}/public`);
      await ax.evaluate((l) => localStorage.setItem('lt_lang', l), lang);
      await ax.goto(`${base}${route}`);
      await ax.reload();
      await ax.waitForSelector('.map[data-ready]', { timeout: 20000 });
      const name = `map-${page}-${lang}-${width}`;
      const wide = await ax.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(`${name}: no sideways scroll`, wide <= 0, `${wide} px`);
      await ax.addScriptTag({ path: AXE });
      const v = await ax.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
        .violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')
        .map((x) => `${x.id}: ${x.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', ')}`));
      check(`${name}: axe-core finds no serious or critical violation`, v.length === 0, v.join(' | '));
      if (width === 360) await shot(ax, name);
    }
  }
}

check('no request left the node', outside.length === 0, JSON.stringify(outside.slice(0, 5)));
for (const p of pages) check(`${p.name}: no script error, failed request or error answer`, p.errors.length === 0, p.errors.join('; '));
await b.close();
process.exit(failed() ? 1 : 0);
