// ui_indicators.mjs - the indicator panel of the dashboard (run by
// tests/ui_browser.sh after ui_flow.mjs, which has defined POOR (pinned)
// and HH and entered last month's figures of commune 16681 only): the
// pinned tile with its figure, the time-series chart, the per-child table
// with its drill-down, the completeness panel naming commune 16684, in
// Vietnamese and English, at 1366 and 360 px; the DTI composite and its
// three pillars, the CSV export of the per-child table, the period picker
// and the A4 print view. Then the province admin pins
// HH (defined unpinned) on the admin page and its tile appears on the
// district's dashboard once the pin has replicated.
import { browser, newPage, login, shot, check, failed } from './lib.mjs';

const env = process.env;
const base = `http://127.0.0.1:${env.UI_PORT_prov}`;
const b = await browser();
const wait = (page, fn, arg, timeout = 20000) => page.waitForFunction(fn, arg, { timeout, polling: 200 })
  .then(() => true, (e) => { console.log(`     (wait: ${String(e).split('\n')[0]})`); return false; });

for (const [width, height] of [[1366, 900], [360, 740]]) {
  const page = await newPage(b, { width, height, base });
  await login(page, base, 'prov-admin', 'ui-pass-prov-admin');
  await page.goto(`${base}/#/`);
  check(`${width}: the pinned tile shows the province's 120.5 poor households`,
    await wait(page, () => document.querySelector('#ind-tiles [data-indicator=POOR] .value')?.textContent.includes('120,5')));
  check(`${width}: the chart is drawn`, await wait(page, () => document.querySelector('#ind-chart canvas')));
  check(`${width}: the per-child table shows district 412`,
    await wait(page, () => document.querySelector('#ind-children tr[data-unit="412"]')?.textContent.includes('1/2')));
  check(`${width}: completeness names commune 16684 as missing (vi)`,
    await wait(page, () => document.querySelector('#ind-completeness')?.textContent.includes('Chưa báo cáo') &&
      document.querySelector('#ind-missing [data-unit="16684"]')));
  check(`${width}: ...and the rate 1/2`, await wait(page, () => document.querySelector('#ind-rates')?.textContent.includes('1/2')));
  await shot(page, `ind-${width}-vi`);
  if (width === 360)
    check('360: no horizontal scrolling of the page', await page.evaluate(() => document.documentElement.scrollWidth <= 360),
      await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 361 &&
        ![...Array(30).keys()].some((i) => { let a = e; for (let k = 0; k <= i; k++) a = a?.parentElement;
          return a && a !== document.body && getComputedStyle(a).overflowX !== 'visible'; }))
        .slice(0, 3).map((e) => `${e.tagName}#${e.id}.${e.className}`).join(' ')));
  await page.click('#lang');
  check(`${width}: in English the panel says "Not reported yet"`,
    await wait(page, () => document.querySelector('#ind-completeness')?.textContent.includes('Not reported yet') &&
      document.querySelector('#ind-tiles [data-indicator=POOR] .label')?.textContent === 'Poor households'));
  await shot(page, `ind-${width}-en`);
  if (width === 1366) {
    await page.click('#ind-children tr[data-unit="412"] td.num a');
    check('a figure opens the values behind it (the communes)',
      await wait(page, () => document.querySelector('#ind-behind')?.textContent.includes('Phường Bến Thủy')));
    await page.click('#ind-children tr[data-unit="412"] td a');
    check('a child opens its dashboard', await wait(page, () => location.hash.includes('unit=412') &&
      document.querySelector('#ind-children tr[data-unit="16681"]')));
    await page.click('#lang');
  }
  check(`${width}: no script errors`, !page.errors.some((e) => !e.includes('Failed to load resource')), page.errors.join(' | '));
  await page.context().close();
}
// The DTI composite, the CSV export, the period picker and the A4 print view.
{
  const page = await newPage(b, { width: 1366, height: 900, base });
  await login(page, base, 'prov-admin', 'ui-pass-prov-admin');
  await page.goto(`${base}/#/`);
  check('the DTI composite is the mean of its three pillars (0,6, 0,4 and 0,5: 0,5)',
    await wait(page, () => {
      const v = (p) => document.querySelector(`#ind-dti [data-pillar=${p}] .value`)?.textContent;
      return v('dti') === '0,5' && v('gov') === '0,6' && v('eco') === '0,4' && v('soc') === '0,5';
    }));
  await wait(page, () => document.querySelector('#ind-csv'));
  const csv = await page.evaluate(async () => {
    const r = await fetch(document.querySelector('#ind-csv').href);
    return `${r.status} ${r.headers.get('content-type')}\n${await r.text()}`;
  });
  check('the CSV link gives the per-child table as CSV',
    /^200 text\/csv/.test(csv) && csv.includes('unit,name,period,value,reported,expected,on_time') && /\n412,[^\n]*,120\.5,1,2/.test(csv),
    csv.slice(0, 300));
  const last = await page.$eval('#ind-period', (e) => e.value);
  const [y, m] = last.split('-').map(Number);
  const before = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
  const pick = async (month) => {
    await page.fill('#ind-period', month);
    await page.dispatchEvent('#ind-period', 'change');
  };
  await pick(before);
  check('the period picker shows the month before, when nobody reported (0/2)',
    await wait(page, (p) => document.querySelector('#ind-completeness h2')?.textContent.includes(p) &&
      document.querySelector('#ind-rates')?.textContent.includes('0/2'), before));
  await pick(last);
  check('...and last month again (1/2)',
    await wait(page, (p) => document.querySelector('#ind-completeness h2')?.textContent.includes(p) &&
      document.querySelector('#ind-rates')?.textContent.includes('1/2'), last));
  await page.emulateMedia({ media: 'print' });
  check('the print view hides the controls and keeps the figures', await page.evaluate(() =>
    getComputedStyle(document.querySelector('#ind-print')).display === 'none' &&
    getComputedStyle(document.querySelector('#ind-period')).display === 'none' &&
    document.querySelector('#ind-tiles [data-indicator=POOR]').getBoundingClientRect().height > 0 &&
    document.querySelector('#ind-dti').getBoundingClientRect().height > 0));
  const pdf = await page.pdf({ preferCSSPageSize: true });
  const box = pdf.toString('latin1').match(/\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/);
  check('...and prints on A4 pages (595 x 842 points)',
    pdf.subarray(0, 5).toString() === '%PDF-' && box && Math.abs(box[1] - 595.3) < 2 && Math.abs(box[2] - 841.9) < 2,
    box ? box[0] : 'no MediaBox');
  await page.emulateMedia({ media: 'screen' });
  await shot(page, 'ind-dti');
  check('no script errors (DTI, CSV, period, print)', !page.errors.some((e) => !e.includes('Failed to load resource')),
    page.errors.join(' | '));
  await page.context().close();
}
// Pinning for the tiers below: the province admin ticks HH on the admin page.
{
  const dist = `http://127.0.0.1:${env.UI_PORT_dist}`;
  const dpage = await newPage(b, { width: 1366, height: 900, base: dist });
  await login(dpage, dist, 'dist-leader', 'ui-pass-dist-leader');
  await dpage.goto(`${dist}/#/`);
  check('the district dashboard shows the pinned POOR tile',
    await wait(dpage, () => document.querySelector('#ind-tiles [data-indicator=POOR]')));
  check('...and no HH tile before HH is pinned', !(await dpage.$('#ind-tiles [data-indicator=HH]')));
  const page = await newPage(b, { width: 1366, height: 900, base });
  await login(page, base, 'prov-admin', 'ui-pass-prov-admin');
  await page.goto(`${base}/#/admin`);
  check('the admin page lists HH, not pinned',
    await wait(page, () => document.querySelector('#ind-pins tr[data-indicator=HH] input')?.checked === false));
  check('...and POOR pinned', await page.$eval('#ind-pins tr[data-indicator=POOR] input', (e) => e.checked));
  check('the admin page says what pinning does (vi)', await page.$eval('#admin-ind-pins', (e) => e.textContent.includes('Chỉ tiêu ghim')));
  await page.click('#ind-pins tr[data-indicator=HH] input');
  check('the pin is saved', await wait(page, () => document.querySelector('#admin-ind-pins p.ok')));
  await shot(page, 'ind-admin-pins');
  // the district node learns the pin by replication: reload until its dashboard shows the tile
  let shown = false;
  for (const end = Date.now() + 30000; !shown && Date.now() < end;) {
    await dpage.reload();
    shown = await wait(dpage, () => document.querySelector('#ind-tiles [data-indicator=HH]'), null, 3000);
  }
  check('after replication the district dashboard shows the HH tile', shown);
  await shot(dpage, 'ind-dist-pinned');
  check('no script errors (pins)', ![...page.errors, ...dpage.errors].some((e) => !e.includes('Failed to load resource')),
    [...page.errors, ...dpage.errors].join(' | '));
  await page.context().close();
  await dpage.context().close();
}
// A CSV template and an import from the dashboard: a bad row is named and
// stores nothing, then the good file stores commune 16684's figure.
{
  const page = await newPage(b, { width: 1366, height: 900, base });
  await login(page, base, 'prov-admin', 'ui-pass-prov-admin');
  await page.goto(`${base}/#/`);
  const showPoor = async () => {
    await wait(page, () => document.querySelector('#ind-select option[value=POOR]'));
    await page.selectOption('#ind-select', 'POOR');
  };
  await showPoor();
  check('the dashboard offers the CSV template of the shown indicator',
    await wait(page, () => document.querySelector('#ind-template')?.getAttribute('href').includes('/api/v1/indicators/POOR/template.csv')));
  const period = await page.$eval('#ind-period', (e) => e.value);
  const upload = async (text) => {
    await page.setInputFiles('#ind-import-file', { name: 'poor.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
    await page.evaluate(() => { document.querySelector('#ind-import-msg').textContent = ''; });
    await page.click('#ind-import-file ~ button');
  };
  await upload(`\ufeffindicator;unit;period;value;comment\nPOOR;16684;${period};abc;\n`);
  check('a bad row is named with its row and column',
    await wait(page, () => document.querySelector('#ind-import-msg.error')?.textContent.includes('row 2, column value')));
  await upload(`indicator;unit;period;value;comment\nPOOR;16684;${period};7,5;nhập từ tệp\n`);
  check('the good file is stored (1 written)',
    await wait(page, () => /1\D+0/.test(document.querySelector('#ind-import-msg.ok')?.textContent || '')));
  await page.reload();
  await showPoor();
  check('...and commune 16684 is no longer missing',
    await wait(page, () => document.querySelector('#ind-rates')?.textContent.includes('2/2') &&
      !document.querySelector('#ind-missing [data-unit="16684"]')));
  await shot(page, 'ind-import');
  const refused = `HTTP 400 for POST ${base}/api/v1/indicators/values.csv`; // the bad file, expected
  check('no script errors (import)', !page.errors.some((e) => !e.includes('Failed to load resource') && e !== refused),
    page.errors.join(' | '));
  await page.context().close();
}
await b.close();
process.exit(failed() ? 1 : 0);
