// ui_unit_ops.mjs - the tree changes on the Admin page of the trust root
// (run by tests/ui_browser.sh; the root is the national node VN): a move
// under a descendant is refused with the translated error, the preview of
// a rename lists the change and writes nothing, Apply renames, the
// operation is listed; the province's admin page has no such section.
import { browser, newPage, login, shot, check, failed } from './lib.mjs';

const env = process.env;
const base = `http://127.0.0.1:${env.UI_PORT_nat}`;
const b = await browser();
const wait = (page, fn, arg, timeout = 20000) => page.waitForFunction(fn, arg, { timeout, polling: 200 })
  .then(() => true, (e) => { console.log(`     (wait: ${String(e).split('\n')[0]})`); return false; });

const page = await newPage(b, { base, name: 'unit-ops' });
await login(page, base, 'nat-admin', 'ui-pass-nat-admin');
await page.goto(`${base}/#/admin`);
check('the root admin page shows the unit operations',
  await wait(page, () => document.querySelector('#admin-unit-ops h2')?.textContent.includes('Sắp xếp đơn vị')));
await page.selectOption('select[name=unit-op]', 'move');
await page.fill('input[name=unit-op-unit]', '412');
await page.fill('input[name=unit-op-parent]', '16681');
page.allow(400, '/api/v1/units');
await page.click('#unit-op-form button[type=submit]');
check('a move under a descendant is refused in Vietnamese',
  await wait(page, () => document.querySelector('#admin-unit-ops p.error')?.textContent.includes('trực thuộc')));
await page.selectOption('select[name=unit-op]', 'rename');
check('rename shows only unit and name', await page.isHidden('input[name=unit-op-parent]') &&
  await page.isVisible('input[name=unit-op-name]'));
await page.fill('input[name=unit-op-unit]', '40');
await page.fill('input[name=unit-op-name]', 'Tỉnh Nghệ An (mới)');
await page.click('#unit-op-form button[type=submit]');
check('the preview lists the change', await wait(page, () =>
  document.querySelector('#unit-plan li')?.textContent.includes('Tỉnh Nghệ An (mới)') &&
  document.querySelector('#admin-unit-ops p.ok')?.textContent.includes('chưa ghi')));
check('nothing listed as done yet', (await page.$$('#unit-ops tbody tr')).length === 0);
await shot(page, '40-unit-ops-preview');
page.once('dialog', (d) => d.accept());
await page.click('#unit-apply');
check('apply lists the operation', await wait(page, () =>
  document.querySelector('#unit-ops tbody tr')?.textContent.includes('Đổi tên')));
await shot(page, '41-unit-ops-applied');

const prov = await newPage(b, { base: `http://127.0.0.1:${env.UI_PORT_prov}`, name: 'prov-admin-page' });
await login(prov, `http://127.0.0.1:${env.UI_PORT_prov}`, 'prov-admin', 'ui-pass-prov-admin');
await prov.goto(`http://127.0.0.1:${env.UI_PORT_prov}/#/admin`);
check('the province admin page loads', await wait(prov, () => document.querySelector('#users')));
check('...without the unit operations', await prov.isHidden('#admin-unit-ops'));

for (const p of [page, prov]) check(`${p.name}: no page errors`, p.errors.length === 0, p.errors.join('; '));
await b.close();
process.exit(failed() ? 1 : 0);
