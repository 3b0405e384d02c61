// ui_cameras.mjs - the camera page (run by tests/ui_browser.sh after the
// commune 16681 registered CAM-ON, a test stream served on 127.0.0.1, and
// CAM-OFF on a dead port, and the province holds both with their status
// and CAM-ON's thumbnail): at the province, the figures by field (traffic
// 1/2) and by child unit (412: 1/2), both cameras on the map, the list with
// each status and CAM-ON's replicated thumbnail, CAM-ON's panel with its
// live view relayed from the commune, the events card, the dashboard's
// camera tile (1/2 online), under the node's real
// Content-Security-Policy, in Vietnamese and English, at 1366 and 360 px.
import { browser, newPage, login, shot, check, failed } from './lib.mjs';

const env = process.env;
const base = `http://127.0.0.1:${env.UI_PORT_prov}`;
const b = await browser();
const wait = (page, fn, arg, timeout = 20000) => page.waitForFunction(fn, arg, { timeout, polling: 200 })
  .then(() => true, (e) => { console.log(`     (wait: ${String(e).split('\n')[0]})`); return false; });

for (const [width, height] of [[1366, 900], [360, 740]]) {
  const page = await newPage(b, { width, height, base });
  await login(page, base, 'prov-admin', 'ui-pass-prov-admin');
  await page.goto(`${base}/#/cameras`);
  check(`${width}: traffic cameras 1/2 online by field`,
    await wait(page, () => document.querySelector('#cam-fields tr[data-key="traffic"]')?.textContent.includes('1/2')));
  check(`${width}: district 412 1/2 by child unit`,
    await wait(page, () => document.querySelector('#cam-children tr[data-key="412"]')?.textContent.includes('1/2')));
  check(`${width}: both cameras on the map`, await wait(page, () => document.querySelector('#cam-map')?.dataset.points === '2'));
  check(`${width}: CAM-ON online, CAM-OFF offline in the list`,
    await wait(page, () => document.querySelector('#cam-list tr[data-camera="CAM-ON"] [data-status="online"]') &&
      document.querySelector('#cam-list tr[data-camera="CAM-OFF"] [data-status="offline"]')));
  check(`${width}: CAM-ON's thumbnail is shown (320 px JPEG from the province)`,
    await wait(page, () => document.querySelector('#cam-list tr[data-camera="CAM-ON"] img.thumb')?.naturalWidth === 320));
  check(`${width}: no picture for the offline camera`,
    await page.evaluate(() => !document.querySelector('#cam-list tr[data-camera="CAM-OFF"] img')));
  check(`${width}: Vietnamese headings`, await page.evaluate(() => document.body.textContent.includes('Camera hoạt động theo lĩnh vực')));
  check(`${width}: the AI camera events card (none yet)`,
    await wait(page, () => document.querySelector('#cam-events')?.textContent.includes('Chưa có sự kiện')));
  await page.click('#cam-list tr[data-camera="CAM-ON"] button.link');
  check(`${width}: CAM-ON's panel shows its live view, relayed from the commune (640 px JPEGs)`,
    await wait(page, () => document.querySelector('#cam-panel img.live')?.naturalWidth === 640));
  check(`${width}: ...its recent status history (online)`,
    await page.evaluate(() => !!document.querySelector('#cam-panel ul.cam-history li[data-status="online"]')));
  check(`${width}: ...and says the province holds no recordings`,
    await wait(page, () => document.querySelector('#cam-panel')?.textContent.includes('Không có bản ghi trên nút này')));
  await shot(page, `cameras-${width}-vi`);
  if (width === 360)
    check('360: no horizontal scrolling of the page', await page.evaluate(() => document.documentElement.scrollWidth <= 360));
  await page.click('#lang');
  check(`${width}: in English`, await wait(page, () => document.body.textContent.includes('Cameras online by field') &&
    document.querySelector('#cam-list tr[data-camera="CAM-OFF"]')?.textContent.includes('Offline')));
  await shot(page, `cameras-${width}-en`);
  await page.click('#lang');
  await page.goto(`${base}/#/`);
  check(`${width}: the dashboard's camera tile: 1/2 online`,
    await wait(page, () => document.querySelector('#cam-tiles [data-tile="cameras"]')?.textContent.includes('1/2')));
  check(`${width}: no script errors`, !page.errors.some((e) => !e.includes('Failed to load resource')), page.errors.join(' | '));
  await page.context().close();
}
await b.close();
process.exit(failed() ? 1 : 0);
