// ui_flow.mjs - the browser tests of tests/ui_browser.sh (which starts the
// five-node network and passes its ports, pids and data dir in UI_* env).
// Exits 1 when a check failed (nothing is skipped: a part that cannot run fails);
// screenshots of every page in ARTIFACTS.
import { spawn, execFileSync } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import { browser, newPage, pages, login, shot, check, failed } from './lib.mjs';

const env = process.env;
const base = (n) => `http://127.0.0.1:${env[`UI_PORT_${n}`]}`;
const pw = (u) => `ui-pass-${u}`;
const b = await browser();
const wait = (page, fn, arg, timeout = 20000) => page.waitForFunction(fn, arg, { timeout, polling: 200 })
  .then(() => true, (e) => { console.log(`     (wait: ${String(e).split('\n')[0]})`); return false; });

// ---- login ----------------------------------------------------------------
const prov = await newPage(b, { name: 'province', base: base('prov') });
prov.allow(401, '/api/v1/me'); // not logged in yet
await prov.goto(`${base('prov')}/`);
await prov.waitForSelector('form.login');
await shot(prov, '01-login');
await prov.fill('input[name=user]', 'prov-admin');
await prov.fill('input[name=password]', 'wrong-password');
prov.allow(401, '/api/v1/login');
await prov.click('form.login button[type=submit]');
check('a wrong password shows an error', await wait(prov, () => document.querySelector('.login .error')?.textContent.length > 0));
await login(prov, base('prov'), 'prov-admin', pw('prov-admin'));
check('login shows the user in the header', (await prov.textContent('header .who')).includes('prov-admin'));
check('the live connection opens', await wait(prov, () => document.querySelector('.live.on')));
await prov.click('#lang');
check('the language switch turns the menu English', await wait(prov, () => document.querySelector('header nav').textContent.includes('Network')));
await prov.click('#lang');

// ---- network: a commune goes offline and comes back ------------------------------
const dist = await newPage(b, { name: 'district', base: base('dist') });
await login(dist, base('dist'), 'dist-leader', pw('dist-leader'));
await dist.goto(`${base('dist')}/#/network`);
const state = (u) => `#net-tree tr[data-unit="${u}"] .badge`;
check('network: commune 16681 online', await wait(dist, (s) => document.querySelector(s)?.dataset.state === 'online', state('16681')));
await shot(dist, '02-network-district');
const t0 = Date.now();
process.kill(Number(env.UI_C1_PID), 'SIGKILL');
const wentOff = await wait(dist, (s) => document.querySelector(s)?.dataset.state === 'offline', state('16681'));
check('network: commune 16681 shown offline after its process was killed', wentOff);
console.log(`     offline shown ${((Date.now() - t0) / 1000).toFixed(1)} s after the kill`);
await shot(dist, '03-network-commune-offline');
const log = openSync(`${env.UI_T}/c1.ui.log`, 'a');
const child = spawn(env.UI_BIN, ['serve', '--dir', `${env.UI_T}/c1`], { stdio: ['ignore', log, log], detached: true });
writeFileSync(`${env.UI_T}/c1.pid`, String(child.pid));
child.unref();
const t1 = Date.now();
check('network: commune 16681 back online after a restart', await wait(dist, (s) => document.querySelector(s)?.dataset.state === 'online', state('16681'), 30000));
console.log(`     online shown ${((Date.now() - t1) / 1000).toFixed(1)} s after the restart`);
await shot(dist, '04-network-commune-back');
await prov.goto(`${base('prov')}/#/network`);
await prov.waitForSelector('#net-tree');
await shot(prov, '05-network-province');

// ---- admin ---------------------------------------------------------------------
await prov.goto(`${base('prov')}/#/admin`);
await prov.waitForSelector('#users');
await prov.fill('input[name=new-user]', 'ui-viewer');
await prov.fill('input[name=new-password]', 'viewer-pass-1');
await prov.click('form:has(input[name=new-user]) button[type=submit]');
check('admin: a new user appears in the list', await wait(prov, () => document.querySelector('#users tr[data-user="ui-viewer"]')));
await shot(prov, '06-admin');

// ---- a report from a citizen to the province dashboard -------------------------------
{
  await prov.goto(`${base('prov')}/#/reports`);
  await prov.waitForSelector('#report-list');
  const cit = await newPage(b, { name: 'citizen', base: base('c1') });
  await cit.goto(`${base('c1')}/public`);
  await cit.waitForSelector('#submit-form select[name=category] option', { state: 'attached' });
  await cit.fill('input[name=title]', 'Đường ngập nước trước chợ');
  await cit.fill('textarea[name=description]', 'Nước ngập sâu 30 cm sau mưa.');
  await cit.selectOption('select[name=category]', 'traffic');
  await cit.fill('input[name=lat]', '18.6601');
  await cit.fill('input[name=lon]', '105.6920');
  await cit.fill('input[name=address]', 'Chợ Bến Thủy');
  await shot(cit, '07-public-submit');
  await cit.click('#submit-form button[type=submit]');
  check('citizen: a tracking code is shown', await wait(cit, () => document.querySelector('#tracking-code')));
  const code = (await cit.textContent('#tracking-code')).trim();
  console.log(`     tracking code ${code}`);
  const link = await cit.getAttribute('#tracking-link', 'href');
  check('citizen: the tracking link carries the code and a token',
    new RegExp(`/public#/track/${code}\\?token=[A-Za-z0-9_-]{43}$`).test(link || ''), link);
  await shot(cit, '08-public-submitted');
  check('live: a notification of the new report on the province', await wait(prov,
    (x) => [...document.querySelectorAll('.toast[data-action=create]')].some((el) => el.textContent.includes(x)), code, 30000));
  check('live: the province list offers the new report without a reload',
    await wait(prov, () => document.querySelector('button.banner') && !document.querySelector('button.banner').hidden, null, 30000));
  await shot(prov, '08b-province-list-live');

  dist.allow(404, `/api/v1/reports/${code}`); // until it arrives
  const reach = (page, c) => wait(page, (x) => fetch(`/api/v1/reports/${x}`).then((r) => r.ok), c, 30000);
  check('district: the report arrived', await reach(dist, code));
  await dist.goto(`${base('dist')}/#/reports/${code}`);
  await dist.waitForSelector('#actions');
  const act = async (page, action, param, note) => {
    await page.selectOption('#actions select[name=action]', action);
    // the answer to the citizen has its own box, a unit its picker (names or codes)
    const field = action === 'resolve' ? 'textarea[name=answer]'
      : ['assign', 'transfer'].includes(action) ? 'input[name=param-unit]' : 'input[name=param]';
    if (param) await page.fill(`#actions ${field}`, param);
    if (note) await page.fill('#actions textarea[name=note]', note);
    const before = await page.textContent('#timeline');
    await page.click('#actions button[type=submit]');
    return wait(page, (b0) => document.querySelector('#timeline')?.textContent !== b0, before);
  };
  const statusIs = (page, s) => wait(page, (x) => document.querySelector(`dd .status[data-status="${x}"]`), s, 30000);
  check('district: receive', await act(dist, 'receive'));
  check('district: assign to commune 16681', await act(dist, 'assign', '16681', 'Đề nghị phường xử lý'));
  check('district: status assigned', await statusIs(dist, 'assigned'));
  await shot(dist, '09-report-assigned');

  const com = await newPage(b, { name: 'commune', base: base('c1') });
  await login(com, base('c1'), 'c1-staff', pw('c1-staff'));
  com.allow(404, `/api/v1/reports/${code}`); // until the report arrives
  const assignedAtCommune = await wait(com, (x) => fetch(`/api/v1/reports/${x}`).then((r) => r.ok ? r.json() : {})
    .then((j) => j.status === 'assigned'), code, 30000);
  check('commune: the assignment arrived', assignedAtCommune);
  await com.goto(`${base('c1')}/#/reports/${code}`);
  await com.waitForSelector('#actions');
  check('commune: resolve', await act(com, 'resolve', 'Đã khơi thông cống, hết ngập.'));
  check('commune: status resolved', await statusIs(com, 'resolved'));
  await shot(com, '10-report-resolved');

  const resolvedAtProvince = await wait(prov, (x) => fetch(`/api/v1/reports/${x}`).then((r) => r.ok ? r.json() : {})
    .then((j) => j.status === 'resolved'), code, 30000);
  check('province: the report is resolved there too', resolvedAtProvince);
  await prov.goto(`${base('prov')}/#/`);
  check('province dashboard: received tile counts it', await wait(prov, () => {
    const v = document.querySelector('[data-tile=received] .value');
    return v && Number(v.textContent.replace(/\D/g, '')) >= 1;
  }));
  check('province dashboard: the map shows the report', await wait(prov, () => Number(document.querySelector('#dash-map')?.dataset.points) >= 1));
  check('province dashboard: the weekly chart is drawn', await wait(prov, () => document.querySelector('section.chart .uplot canvas')));
  await shot(prov, '11-dashboard-province');
  await prov.goto(`${base('prov')}/#/reports/stats`);
  check('province statistics: total 1, processed 100 %', await wait(prov, () => {
    const cells = [...document.querySelectorAll('#stats tbody tr:first-child td')].map((x) => x.textContent);
    return cells[1] === '1' && cells[3].startsWith('100');
  }));
  await shot(prov, '12-statistics-province');
  await prov.goto(`${base('prov')}/#/reports`);
  check('province list shows the report', await wait(prov, (x) => document.querySelector(`#report-list tr[data-id="${x}"]`), code));
  await shot(prov, '13-report-list');

  // ---- a commune user cannot open another commune's report ---------------------------
  const other = await newPage(b, { name: 'other commune', base: base('dist') });
  await login(other, base('dist'), 'c2-staff', pw('c2-staff'));
  other.allow(404, `/api/v1/reports/${code}`); // the refusal does not say the report exists
  await other.goto(`${base('dist')}/#/reports/${code}`);
  check('commune 16684 user: the report of 16681 is refused', await wait(other, () => document.querySelector('main .card.error')));
  check('... and shows nothing of it', !(await other.textContent('main')).includes('Đường ngập nước'));
  await shot(other, '14-other-commune-refused');

  // ---- the citizen looks it up; the public map shows it -------------------------------
  await cit.goto(`${base('c1')}/public#/track/${code}`);
  check('citizen: status resolved by the tracking code alone', await wait(cit, () => document.querySelector('#track-result .status[data-status=resolved]'), null, 30000));
  check('...which shows no rating form, and says why', await wait(cit, () => document.querySelector('#need-token') && !document.querySelector('#track-result select[name=rating]')));
  await cit.goto(link);
  check('citizen: the tracking link shows the description and the rating form', await wait(cit,
    () => document.querySelector('#track-result')?.textContent.includes('Nước ngập sâu') && document.querySelector('#track-result select[name=rating]'), null, 30000));
  await shot(cit, '15-public-track');
}

// ---- a 360-px phone -------------------------------------------------------------------
const phone = await newPage(b, { name: 'phone', width: 360, height: 740, base: base('dist') });
await login(phone, base('dist'), 'dist-leader', pw('dist-leader'));
await phone.goto(`${base('dist')}/#/network`);
await phone.waitForSelector('#net-tree');
check('phone: no horizontal scrolling of the page', await phone.evaluate(() => document.documentElement.scrollWidth <= 360));
await shot(phone, '16-phone-network');
await phone.goto(`${base('dist')}/public`);
await phone.waitForSelector('#submit-form');
await shot(phone, '17-phone-public');

// keyboard: the menu is reachable with Tab
await phone.goto(`${base('dist')}/#/network`);
await phone.waitForSelector('#net-tree');
await phone.keyboard.press('Tab');
check('keyboard: Tab reaches the skip link first', await phone.evaluate(() => document.activeElement?.matches('a.skip')));
await phone.keyboard.press('Tab');
check('keyboard: then a link of the header', await phone.evaluate(() => document.activeElement?.closest('header') != null));

for (const p of pages)
  check(`${p.name}: no script errors, failed requests or unexpected error answers`, p.errors.length === 0, p.errors.join(' | '));
await b.close();
process.exit(failed() ? 1 : 0);
