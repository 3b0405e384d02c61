// ui_usable.mjs - the web UI a commune officer and a citizen use unassisted
// (issue 18), run by tests/ui_usable.sh (nodes prov 40, dist 412, commune
// 16681 in UI_* env). Each part is a defect of the issue: the first visit
// logs no error; the login page names the node's unit and switches
// language; two nodes in one browser keep both sessions; unknown routes
// say "not found"; titles name the page and the unit; the citizen's submit
// is guarded against a double click and its map pin moves by keyboard;
// the rating is confirmed, once, and staff see it; the citizen's answer is
// labelled apart from the internal note; the dashboard map keeps the
// user's zoom on live updates; category editing is not offered where the
// node refuses it; the standby upstream is not "offline"; units by name;
// no English in the Vietnamese pages; no sideways scroll at 360 px and the
// list as cards; axe-core finds no serious or critical violation on any
// page, in both languages, at 1366 and 360 px.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { browser, newPage, pages, login, shot, check, failed } from './lib.mjs';

const env = process.env;
const base = (n) => `http://127.0.0.1:${env[`UI_PORT_${n}`]}`;
const pw = (u) => `ui-pass-${u}`;
const AXE = fileURLToPath(new URL('../../web/node_modules/axe-core/axe.min.js', import.meta.url));
const b = await browser();
const wait = (page, fn, arg, timeout = 20000) => page.waitForFunction(fn, arg, { timeout, polling: 200 })
  .then(() => true, (e) => { console.log(`     (wait: ${String(e).split('\n')[0]})`); return false; });
const token = (node, user) => execFileSync(env.UI_BIN, ['token', '--dir', `${env.UI_T}/${node}`, '--user', user])
  .toString().trim();
async function call(node, tok, method, path, body) {
  const r = await fetch(`${base(node)}/api/v1/${path}`, { method, headers: { authorization: `Bearer ${tok}`,
    'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
const C1S = token('c1', 'c1-staff'), C1L = token('c1', 'c1-leader');
const count = async (q) => (await call('c1', C1S, 'GET', `reports?q=${encodeURIComponent(q)}&limit=50`)).reports.length;

// ---- defect 7, 12: the first visit, the login page --------------------------------------------
const c1 = await newPage(b, { name: 'commune', base: base('c1') });
await c1.goto(`${base('c1')}/`);
await c1.waitForSelector('form.login');
check('first visit: the login page, no error logged (no 401 for /api/v1/me)', c1.errors.length === 0, c1.errors.join('; '));
check('the login page names the node\'s unit', (await c1.textContent('#login-unit').catch(() => '')).includes('Phường Bến Thủy'));
check('the login page is titled with the page and the unit', /Đăng nhập.*Phường Bến Thủy/.test(await c1.title()), await c1.title());
check('the login page has the language switch', await c1.$('#lang') !== null);
await c1.click('#lang');
check('...which turns it English', await wait(c1, () => document.querySelector('form.login h1')?.textContent === 'Log in'));
await c1.click('#lang');
check('a skip link leads past the menu', (await c1.getAttribute('a.skip', 'href').catch(() => null)) === '#main');
await login(c1, base('c1'), 'c1-staff', pw('c1-staff'));

// ---- defect 6: two nodes in one browser (one context: cookies do not tell ports apart) -----
const dist = await c1.context().newPage();
await dist.goto(`${base('dist')}/#/login`);
await dist.fill('input[name=user]', 'dist-leader');
await dist.fill('input[name=password]', pw('dist-leader'));
await dist.click('form.login button[type=submit]');
check('the district logs in in the same browser', await wait(dist, () => document.querySelector('header.top .who')));
await c1.goto(`${base('c1')}/#/reports`);
await c1.reload();
check('...and the commune\'s session survives it', await wait(c1, () => document.querySelector('header.top .who')?.textContent.includes('c1-staff')));
await dist.close();

// ---- defect 12: titles, not-found ----------------------------------------------------------
await c1.goto(`${base('c1')}/#/`);
check('the dashboard is titled with its page and unit', await wait(c1, () => /Điều hành.*Phường Bến Thủy/.test(document.title)));
check('...and its heading names the unit, not its code', await wait(c1, () => document.querySelector('main h1')?.textContent.includes('Phường Bến Thủy')));
check('the live indicator says its state in words', await wait(c1, () => document.querySelector('.live-state')?.textContent.trim() === 'Trực tuyến'));
await c1.goto(`${base('c1')}/#/no-such-page`);
check('an unknown route says "not found"', await wait(c1, () => document.querySelector('#not-found')));
check('...and is no dashboard', await c1.$('#tiles') === null);

// ---- defect 3: the dashboard map keeps the user's zoom on live updates -----------------------
await c1.goto(`${base('c1')}/#/`);
check('the dashboard map draws its points', await wait(c1, () => +document.querySelector('#dash-map')?.dataset.points >= 2));
// the first fit may animate (5,000 reports spread wider): wait until it has ended
check('...and fits them', await wait(c1, () => document.querySelector('#dash-map').dataset.zoom !== undefined));
const zoom0 = await c1.evaluate(() => +document.querySelector('#dash-map').dataset.zoom);
await c1.click('#dash-map .leaflet-control-zoom-in');
check('the user zooms in', await wait(c1, (z) => +document.querySelector('#dash-map').dataset.zoom === z + 1, zoom0));
await fetch(`${base('c1')}/api/v1/public/reports`, { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ title: 'Đèn đường tắt', category: 'environment', lat: 18.675, lon: 105.695 }) });
check('a live update adds the new report', await wait(c1, () => +document.querySelector('#dash-map').dataset.points >= 3));
check('...and the map keeps the user\'s zoom', await c1.evaluate((z) => +document.querySelector('#dash-map').dataset.zoom === z + 1, zoom0));
check('the tile of all reports is not named like a status',
  !(await c1.textContent('[data-tile=received] .label')).includes('Đã tiếp nhận'));

// ---- defect 1: the citizen's page: guarded submit, keyboard pin, labelled fields --------------
const pub = await newPage(b, { name: 'citizen', base: base('c1') });
await pub.goto(`${base('c1')}/public#/`);
await pub.waitForSelector('#submit-form');
check('the citizen\'s page says which unit receives the report',
  (await pub.textContent('#receiving-unit').catch(() => '')).includes('Phường Bến Thủy'));
check('the citizen\'s map is drawn', await wait(pub, () => document.querySelector('#pick-map.leaflet-container')));
await pub.focus('#pick-map');
await pub.keyboard.press('ArrowUp');
await pub.keyboard.press('ArrowRight');
check('the arrow keys place and move the pin', await wait(pub, () => document.querySelector('#pick-lat').value !== '' &&
  document.querySelector('#pick-lon').value !== ''));
check('latitude and longitude are labelled', await pub.evaluate(() => ['pick-lat', 'pick-lon']
  .every((id) => document.getElementById(id).closest('label')?.textContent.trim().length > 1)));
await pub.fill('input[name=title]', 'Cống vỡ bấm hai lần');
await pub.selectOption('select[name=category]', 'public_order');
await pub.dblclick('#submit-send');
check('the report is sent', await wait(pub, () => document.querySelector('#tracking-code')));
const link = await pub.getAttribute('#tracking-link', 'href');
const code = await pub.textContent('#tracking-code');
check('a double click on "Gửi" stores one report', (await count('Cống vỡ bấm hai lần')) === 1);
check('...and the button is usable again', await pub.evaluate(() => !document.querySelector('#submit-send').disabled));

// ---- defect 2, 10: the answer, the rating -------------------------------------------------------
const id = (await call('c1', C1S, 'GET', `reports?q=${encodeURIComponent('Cống vỡ bấm hai lần')}`)).reports[0].id;
await call('c1', C1S, 'POST', `reports/${encodeURIComponent(id)}/actions`, { action: 'receive' });
await c1.goto(`${base('c1')}/#/reports/${encodeURIComponent(id)}`);
await c1.waitForSelector('#actions');
check('the answer to the citizen is its own labelled box', await c1.evaluate(() => {
  const sel = document.querySelector('#actions select[name=action]');
  sel.value = 'resolve'; sel.dispatchEvent(new Event('change'));
  const box = document.querySelector('#answer-box');
  return !box.hidden && box.textContent.includes('người dân đọc') &&
    document.querySelector('#actions textarea[name=note]').closest('label').textContent.includes('nội bộ');
}));
await call('c1', C1S, 'POST', `reports/${encodeURIComponent(id)}/actions`, { action: 'resolve', answer: 'Đã thay nắp cống' });
await pub.goto(link);
check('the tracking page shows the answer under its heading', await wait(pub, () =>
  document.querySelector('#citizen-answer')?.textContent.includes('Đã thay nắp cống')));
await pub.selectOption('#rate-form select[name=rating]', 'acceptable');
await pub.fill('#rate-form textarea[name=comment]', 'Hơi chậm');
await pub.click('#rate-form button[type=submit]');
check('the rating is confirmed', await wait(pub, () => document.querySelector('#rated')?.textContent.includes('Cảm ơn')));
check('...and the form is gone: no second rating', await pub.$('#rate-form') === null);
await pub.reload();
check('...also after a reload', await wait(pub, () => document.querySelector('#rated')) && await pub.$('#rate-form') === null);
await c1.reload();
check('staff see the rating and the comment', await wait(c1, () => document.querySelector('#report-rating')?.textContent === 'Chấp nhận được'
  && document.querySelector('main').textContent.includes('Hơi chậm')));
check('the report\'s page is titled with its code', (await c1.title()).includes(code));

// ---- defect 4, 5, 8: admin categories, standby upstream, network headers ------------------
const adm = await newPage(b, { name: 'commune-admin', base: base('c1') });
await login(adm, base('c1'), 'c1-admin', pw('c1-admin'));
await adm.goto(`${base('c1')}/#/admin`);
check('a commune admin sees the categories read-only', await wait(adm, () => document.querySelector('#categories-readonly')));
check('...with no field to edit', await adm.$$eval('#categories input, #categories button', (x) => x.length) === 0);
await adm.goto(`${base('c1')}/#/network`);
check('the standby upstream (the province) is "standby", not offline', await wait(adm, () =>
  document.querySelector('#net-tree tr[data-unit="40"] .badge')?.dataset.state === 'standby'));
check('tier names are Vietnamese', (await adm.textContent('#net-tree tr[data-unit="40"] small')).includes('Tỉnh'));
check('numbers sit under right-aligned headers', await adm.evaluate(() =>
  [...document.querySelectorAll('#net-tree thead th')].slice(3, 5).every((th) => getComputedStyle(th).textAlign === 'right')));

// ---- names, not codes: assign by typing a unit's name ---------------------------------------
const lead = await newPage(b, { name: 'commune-leader', base: base('c1') });
await login(lead, base('c1'), 'c1-leader', pw('c1-leader'));
const id2 = (await call('c1', C1S, 'GET', `reports?q=${encodeURIComponent('Ổ gà số 1')}`)).reports[0].id;
await call('c1', C1S, 'POST', `reports/${encodeURIComponent(id2)}/actions`, { action: 'receive' });
await lead.goto(`${base('c1')}/#/reports/${encodeURIComponent(id2)}`);
await lead.waitForSelector('#actions');
await lead.selectOption('#actions select[name=action]', 'assign');
await lead.fill('#actions input[name=param-unit]', 'Ben Thuy'); // no diacritics: folded
await lead.click('#actions button[type=submit]');
check('assigning by a typed name (folded) works', await wait(lead, () =>
  [...document.querySelectorAll('#timeline li')].some((li) => li.textContent.includes('Giao xử lý'))));
check('...and the timeline names the unit', (await lead.textContent('#timeline')).includes('Phường Bến Thủy'));
await lead.selectOption('#actions select[name=action]', 'assign');
await lead.fill('#actions input[name=param-unit]', 'Tổ dân phố không có');
await lead.click('#actions button[type=submit]');
check('an unknown name is said in Vietnamese beside the field', await wait(lead, () =>
  document.querySelector('#actions .field-error')?.textContent.includes('Không tìm thấy đơn vị')));
// defect 11: a category the district handles, received at the commune
const id3 = (await call('c1', C1S, 'GET', `reports?q=${encodeURIComponent('Ổ gà số 2')}`)).reports[0].id;
await call('c1', C1S, 'POST', `reports/${encodeURIComponent(id3)}/actions`, { action: 'receive' });
await lead.goto(`${base('c1')}/#/reports/${encodeURIComponent(id3)}`);
check('a report the district now handles says so at the commune', await wait(lead, () =>
  document.querySelector('#owned-elsewhere')?.textContent.includes('Thành phố Vinh')));
check('...and offers no resolving there, only a comment', await lead.$$eval('#actions select[name=action] option',
  (o) => o.map((x) => x.value).join()) === 'comment');
const refused = await call('c1', C1L, 'POST', `reports/${encodeURIComponent(id3)}/actions`,
  { action: 'resolve', answer: 'x' }).catch((e) => e.message);
check('...and the node refuses the commune resolving it (report.not_owner)',
  typeof refused === 'string' && refused.includes(' 403 ') && refused.includes('report.not_owner'));
await lead.goto(`${base('c1')}/#/reports`);
check('the list shows units by name', await wait(lead, () => document.querySelector('#report-list tbody')?.textContent.includes('Phường Bến Thủy')));
// CSV export of the list, the same filters, through the session cookie
await lead.goto(`${base('c1')}/#/reports?q=${encodeURIComponent('Ổ gà')}`);
await lead.waitForSelector('#export-csv');
const csv = await lead.evaluate(async () => {
  const r = await fetch(document.querySelector('#export-csv').getAttribute('href'));
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
});
const csvRows = csv.text.trim().split(/\r\n/);
check('the list exports CSV: header, the two matches, units by name', csv.status === 200 &&
  csv.type.startsWith('text/csv') && csvRows[0].startsWith('code,title,') && csvRows.length === 3 &&
  csvRows.slice(1).every((r) => r.includes('Ổ gà số') && r.includes('Phường Bến Thủy')), `${csv.status} ${csv.type} ${csv.text.slice(0, 300)}`);
// the other lists' "Tải CSV" links: the page's filters carried, a CSV with its header
for (const [page, hash, filter, header] of [[lead, '#/documents?box=out&q=abc', 'q=abc', 'id,notation,'],
  [lead, '#/tasks?overdue=1', 'overdue=1', 'id,title,'], [lead, '#/cameras', 'format=csv', 'id,name,field,'],
  [adm, '#/admin', 'format=csv', 'user,unit,role,created,disabled']]) {
  await page.goto(`${base('c1')}/${hash}`);
  await page.waitForSelector('#export-csv');
  const got = await page.evaluate(async () => {
    const href = document.querySelector('#export-csv').getAttribute('href');
    const r = await fetch(href);
    const bytes = new Uint8Array(await r.arrayBuffer());
    return { href, status: r.status, type: r.headers.get('content-type'),
      bom: bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, text: new TextDecoder().decode(bytes) };
  });
  check(`${hash} exports CSV with its filters (${filter})`, got.href.includes(filter) && got.href.includes('format=csv') &&
    got.status === 200 && got.type.startsWith('text/csv') && got.bom && got.text.startsWith(header),
  `${got.href} ${got.status} ${got.type} ${got.text.slice(0, 200)}`);
}
// ---- officers' tools: dashboard dates and category, drill-down, print, resolve with photos ----
await lead.setViewportSize({ width: 1366, height: 768 });
await lead.goto(`${base('c1')}/#/?from=2020-01-01&category=environment`);
await lead.waitForSelector('#tiles [data-tile=received] a.value');
check('the dashboard keeps its date range and category in the filter',
  await lead.inputValue('#dash-filter input[name=from]') === '2020-01-01' &&
  await lead.inputValue('#dash-filter select[name=category]') === 'environment');
// the tiles count that category only (reports/stats?category=): 1,250 of the
// 5,000 imported are environment, so the tile is neither 0 nor everything
const statsOf = async (cat) => (await call('c1', C1S, 'GET', `reports/stats?from=2020-01-01${cat ? `&category=${cat}` : ''}`)).total;
const envTotal = await statsOf('environment'), allTotal = await statsOf('');
const tileNum = Number((await lead.textContent('#tiles [data-tile=received] a.value')).replace(/\D/g, ''));
check('the dashboard tiles count the chosen category only', envTotal >= 1250 && envTotal < allTotal - 3000 &&
  tileNum === envTotal, `tile ${tileNum}, environment ${envTotal}, all ${allTotal}`);
const drill = await lead.getAttribute('#tiles [data-tile=processed] a.value', 'href');
check('a tile drills down to the list with the same dates, category and its statuses',
  drill.includes('from=2020-01-01') && drill.includes('category=environment') && drill.includes('status=resolved%2Cclosed'), drill);
await lead.click('#tiles [data-tile=received] a.value');
check('...and the list opens with those filters', await wait(lead, () =>
  location.hash.startsWith('#/reports') && document.querySelector('form.filters input[name=from]')?.value === '2020-01-01' &&
  document.querySelector('form.filters select[name=category]')?.value === 'environment'));
await lead.goto(`${base('c1')}/#/`);
await lead.waitForSelector('#dash-filter');
await lead.emulateMedia({ media: 'print' });
check('printing the dashboard (A4) leaves out the header, filter and buttons', await lead.evaluate(() =>
  ['header.top', '#dash-filter', '#dash-filter button'].every((q) => !document.querySelector(q) || getComputedStyle(document.querySelector(q)).display === 'none')));
await lead.emulateMedia({ media: 'screen' });
await lead.setViewportSize({ width: 360, height: 740 });
await lead.goto(`${base('c1')}/#/reports`);
await lead.waitForSelector('#report-list tbody tr');
check('below 600 px the filters fold away', await lead.evaluate(() => !document.querySelector('details.fold').open) &&
  !(await lead.isVisible('form.filters input[name=q]')));
await lead.click('details.fold > summary');
check('...and open with a tap', await lead.isVisible('form.filters input[name=q]'));
await lead.setViewportSize({ width: 1366, height: 768 });
const mine = await (await fetch(`${base('c1')}/api/v1/public/reports`, { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ title: 'Trộm cắp ở chợ', category: 'public_order', lat: 18.673, lon: 105.693 }) })).json();
await call('c1', C1S, 'POST', `reports/${encodeURIComponent(mine.code)}/actions`, { action: 'receive' });
await lead.goto(`${base('c1')}/#/reports/${encodeURIComponent(mine.code)}`);
await lead.waitForSelector('#actions');
await lead.selectOption('#actions select[name=action]', 'resolve');
await lead.fill('#actions textarea[name=answer]', 'Đã bắt giữ, trả lại tài sản');
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
await lead.setInputFiles('#actions input[name=resolution-photos]', { name: 'ket-qua.png', mimeType: 'image/png', buffer: PNG });
await lead.click('#actions button[type=submit]');
check('resolving with a photo of the work shows it on the report', await wait(lead, () =>
  document.querySelector('#resolution-photos img')?.complete && document.querySelector('#resolution-photos img').naturalWidth === 1));
// staff correct the category and the location (PATCH), written in the timeline
await lead.click('#correct summary');
await lead.selectOption('#correct select[name=category]', 'construction');
await lead.fill('#correct input[name=lat]', '18.6801');
await lead.click('#correct button[type=submit]');
check('staff correct a report\'s category and location', await wait(lead, () =>
  [...document.querySelectorAll('#timeline li')].some((li) => li.textContent.includes('Sửa thông tin'))));
const corrected = await call('c1', C1S, 'GET', `reports/${encodeURIComponent(mine.code)}`);
check('...the node holds them', corrected.category === 'construction' && corrected.lat === 18.6801, JSON.stringify([corrected.category, corrected.lat]));
const tracked = await (await fetch(`${base('c1')}/api/v1/public/reports/${encodeURIComponent(mine.code)}?token=${mine.token}`)).json();
check('...and the citizen\'s view of the report lists it (resolution_photos)', tracked.status === 'resolved' &&
  tracked.resolution_photos?.length === 1 && tracked.resolution_photos[0].type === 'image/png', JSON.stringify(tracked.resolution_photos));
const shown = await fetch(`${base('c1')}/api/v1/public/reports/${encodeURIComponent(mine.code)}/photos/${tracked.resolution_photos?.[0]?.hash}`);
check('...served to the citizen', shown.status === 200 && Buffer.from(await shown.arrayBuffer()).equals(PNG));
await lead.goto(`${base('c1')}/public#/track/${encodeURIComponent(mine.code)}?token=${encodeURIComponent(mine.token)}`);
check('...and shown on the tracking page', await wait(lead, () => {
  const img = document.querySelector('#track-resolution-photos img');
  return img && img.complete && img.naturalWidth > 0;
}));
await lead.goto(`${base('c1')}/#/reports?q=${encodeURIComponent('không có phản ánh này')}`);
check('an empty list says so', await wait(lead, () => document.querySelector('#no-reports') && !document.querySelector('#no-reports').hidden));

// ---- my reports: the leader assigns two reports to c1-staff (one in the form, one by the API);
// the staff's "Phản ánh của tôi" lists exactly those (the API's assignee=c1-staff is the reference)
const fresh = [];
for (const title of ['Cống tắc ở ngõ 5', 'Cây đổ chắn đường']) {
  const r = await (await fetch(`${base('c1')}/api/v1/public/reports`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title, category: 'public_order', lat: 18.674, lon: 105.694 }) })).json();
  await call('c1', C1S, 'POST', `reports/${encodeURIComponent(r.code)}/actions`, { action: 'receive' });
  fresh.push(r.code);
}
await lead.goto(`${base('c1')}/#/reports/${encodeURIComponent(fresh[0])}`);
await lead.waitForSelector('#actions');
await lead.selectOption('#actions select[name=action]', 'assign');
await lead.fill('#actions input[name=assignee]', 'c1-staff');
await lead.fill('#actions input[name=param-unit]', 'Phường Bến Thủy');
await lead.click('#actions button[type=submit]');
check('the assign form sends the officer (the report shows "assigned")', await wait(lead, () =>
  document.querySelector('[data-status]')?.getAttribute('data-status') === 'assigned'));
await call('c1', C1L, 'POST', `reports/${encodeURIComponent(fresh[1])}/actions`, { action: 'assign', unit: '16681', assignee: 'c1-staff' });
const assignedTo = (await call('c1', C1L, 'GET', 'reports?assignee=c1-staff&limit=50')).reports.map((x) => x.code).sort();
check('...both are assigned to c1-staff (GET reports?assignee=c1-staff)',
  JSON.stringify(assignedTo) === JSON.stringify([...fresh].sort()), JSON.stringify(assignedTo));
await c1.goto(`${base('c1')}/#/`);
await c1.click('header nav a[href="#/mine"]');
check('the staff\'s "Phản ánh của tôi" lists exactly the reports assigned to them', await wait(c1, (want) =>
  location.hash === '#/mine' && JSON.stringify([...document.querySelectorAll('#report-list tbody tr td:first-child a')]
    .map((a) => a.textContent).sort()) === JSON.stringify(want), [...fresh].sort()));
check('...titled by the page', (await c1.title()).includes('Phản ánh của tôi'));
await c1.click('#mine-tabs a[href="#/mine?by=created"]');
check('...and "Do tôi tạo" lists none they filed (the citizens did)', await wait(c1, () =>
  location.hash === '#/mine?by=created' && document.querySelector('#no-reports')?.hidden === false));

// ---- every page, both languages, both widths: English, sideways scroll, axe ------------------
const staffRoutes = ['#/', '#/reports', '#/mine', `#/reports/${encodeURIComponent(id)}`, '#/reports/stats', '#/cameras',
  '#/documents', '#/tasks', '#/network', '#/admin'];
const publicRoutes = ['/public#/', `/public#/track/${encodeURIComponent(code)}`, '/public#/map'];
// English-only texts of the UI: an element whose whole text is one of them is untranslated
const englishOnly = await adm.evaluate(async () => {
  const src = document.querySelector('script[type=module]').src.replace(/app\.js$/, 'i18n.js');
  const { strings } = await import(src);
  const vi = strings('vi'), en = strings('en'), viValues = new Set(Object.values(vi));
  return Object.entries(en).filter(([k, s]) => s !== vi[k] && !viValues.has(s) && /[a-z]{3}/.test(s)).map(([, s]) => s);
});
// ...and a translation key shown raw (t() falls back to the key): st_online, e_report_x
const ENGLISH = /^[a-z]+(_[a-z0-9]+)+$|^(web|app|hotline|import)$|\b(ago|needs|wrong user|password|Time|lat|lon|hotline|open|idle|standby|province|district|commune|error|not found|forbidden)\b/;
async function visit(page, url, lang, width) {
  await page.setViewportSize({ width, height: width < 600 ? 740 : 768 });
  await page.evaluate((l) => localStorage.setItem('lt_lang', l), lang);
  await page.goto(url);
  await page.reload();
  await page.waitForSelector('main:not(:has(p.loading))', { timeout: 15000 }).catch(() => {});
  await page.waitForLoadState('networkidle').catch(() => {});
  const name = `usable${url.replace(/^https?:\/\/[^/]+/, '').replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-${lang}-${width}`;
  await shot(page, name);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(`${name}: no sideways scroll`, wide <= 0, `${wide} px too wide`);
  if (lang === 'vi') {
    const bad = await page.evaluate(({ list, re }) => {
      const eng = new Set(list), rx = new RegExp(re), out = [];
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const s = n.textContent.trim();
        // machine codes shown as such (<code>) are no UI text
        if (s && n.parentElement.closest('main, header') && !n.parentElement.closest('code') &&
          (eng.has(s) || rx.test(s))) out.push(s);
      }
      for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
        for (const a of ['placeholder', 'aria-label', 'title']) if (eng.has(el.getAttribute(a))) out.push(el.getAttribute(a));
      }
      return out;
    }, { list: englishOnly, re: ENGLISH.source });
    check(`${name}: no English in the Vietnamese page`, bad.length === 0, JSON.stringify(bad.slice(0, 5)));
  }
  await page.addScriptTag({ path: AXE });
  const v = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
    .violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')
    .map((x) => `${x.id}: ${x.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', ')}`));
  check(`${name}: axe-core finds no serious or critical violation`, v.length === 0, v.join(' | '));
}
const login0 = await newPage(b, { name: 'login-page', base: base('c1') });
for (const lang of ['vi', 'en']) {
  for (const width of [1366, 360]) {
    await login0.goto(`${base('c1')}/#/login`);
    await visit(login0, `${base('c1')}/#/login`, lang, width);
    for (const r of staffRoutes) await visit(adm, `${base('c1')}/${r}`, lang, width);
    for (const r of publicRoutes) await visit(pub, `${base('c1')}${r}`, lang, width);
  }
}
await adm.setViewportSize({ width: 360, height: 740 });
await adm.goto(`${base('c1')}/#/reports`);
check('below 600 px the reports list is cards', await wait(adm, () => {
  const td = document.querySelector('#report-list tbody td');
  return td && getComputedStyle(td).display === 'block';
}));

for (const p of pages) check(`${p.name}: no script or console errors, no failed requests`, p.errors.length === 0, p.errors.join('; '));
await b.close();
if (failed()) { console.log(`${failed()} check(s) failed`); process.exit(1); }
console.log('all usable-UI checks passed');
