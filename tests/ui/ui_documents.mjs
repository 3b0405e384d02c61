// ui_documents.mjs - the documents pages (run by tests/ui_browser.sh, which
// gave prov-admin a signing key): at 1366 and 360 px, the province composes
// a letter to commune 16681 with a PDF attached, signs it as it sends and
// sees the signature check and one recipient line "delivered" (the
// commune's node wrote it); the commune
// finds it in its incoming box, opens it, sees the attachment and the
// valid signature and records "received"; the province's page then shows
// "received"; English labels after the switch; a task assigned from the
// tasks page is listed; a correction sent from the document page links
// both ways; a letter to "412*" shows the group folded to one line
// ("Tất cả xã của Thành phố Vinh (2)") that opens to both communes; the
// page never scrolls sideways at 360 px.
import { browser, newPage, login, shot, check, failed } from './lib.mjs';

const env = process.env;
const prov = `http://127.0.0.1:${env.UI_PORT_prov}`, c1 = `http://127.0.0.1:${env.UI_PORT_c1}`;
const b = await browser();
const wait = (page, fn, arg, timeout = 30000) => page.waitForFunction(fn, arg, { timeout, polling: 250 })
  .then(() => true, (e) => { console.log(`     (wait: ${String(e).split('\n')[0]})`); return false; });
const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n% công văn thử\n'), Buffer.alloc(30000, 7)]);
const noSideScroll = (page) => page.evaluate(() => document.documentElement.scrollWidth <= 360);

for (const [width, height] of [[1366, 900], [360, 740]]) {
  const subject = `Về việc kiểm tra phòng cháy ${width}`;
  const p = await newPage(b, { width, height, base: prov });
  await login(p, prov, 'prov-admin', 'ui-pass-prov-admin');
  await p.goto(`${prov}/#/documents/new`);
  await p.waitForSelector('#doc-compose select[name=type] option[value=CV]', { state: 'attached', timeout: 10000 });
  await p.selectOption('#doc-compose select[name=type]', 'CV');
  await p.fill('#doc-compose input[name=subject]', subject);
  await p.fill('#doc-compose textarea[name=body]', 'Đề nghị UBND phường kiểm tra.');
  await p.fill('#doc-compose input[name=recipients]', '16681');
  await p.setInputFiles('#doc-compose input[type=file]', { name: 'ke-hoach.pdf', mimeType: 'application/pdf', buffer: pdf });
  await p.fill('#doc-compose input[name=password]', 'ky-so-tinh-40');
  await shot(p, `doc-compose-${width}`);
  await p.click('#doc-compose button[type=submit]');
  check(`${width}: sent and signed, the page says the signature is valid`,
    await wait(p, () => document.querySelector('#doc-sig')?.dataset.valid === 'true'));
  check(`${width}: one recipient line, delivered (written by the commune's node)`, await wait(p, () => {
    if (document.querySelector('#doc-recipients tr[data-unit="16681"]')?.textContent.includes('Đã đến')) return true;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    return false;
  }));
  check(`${width}: the attachment is listed`, await wait(p, () => document.querySelector('#doc-files a')?.textContent === 'ke-hoach.pdf'));
  const docUrl = p.url();
  if (width === 360) check('360: the document page does not scroll sideways', await noSideScroll(p));
  await shot(p, `doc-sent-${width}`);

  const c = await newPage(b, { width, height, base: c1 });
  await login(c, c1, 'c1-staff', 'ui-pass-c1-staff');
  await c.goto(`${c1}/#/documents?box=in`);
  const arrived = await wait(c, (s) => {
    if (document.querySelector('#doc-list')?.textContent.includes(s)) return true;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    return false;
  }, subject);
  check(`${width}: the commune's incoming box lists it`, arrived);
  if (width === 360) check('360: the incoming box does not scroll sideways', await noSideScroll(c));
  await shot(c, `doc-inbox-${width}`);
  await c.click(`#doc-list a >> nth=0`);
  check(`${width}: the commune sees the valid signature`, await wait(c, () => document.querySelector('#doc-sig')?.dataset.valid === 'true'));
  await c.selectOption('#doc-receipt select[name=status]', 'received');
  await c.click('#doc-receipt button[type=submit]');
  check(`${width}: the commune's page shows its receipt`,
    await wait(c, () => document.querySelector('#doc-recipients tr[data-unit="16681"]')?.textContent.includes('Đã tiếp nhận')));
  await c.click('#lang');
  check(`${width}: in English: "Received", "Valid signature"`, await wait(c, () =>
    document.querySelector('#doc-recipients')?.textContent.includes('Received') &&
    document.querySelector('#doc-sig')?.textContent.includes('Valid signature')));
  await shot(c, `doc-received-${width}-en`);
  await c.click('#lang');

  await p.goto(docUrl);
  check(`${width}: the province sees "received" come back`, await wait(p, () => {
    if (document.querySelector('#doc-recipients tr[data-unit="16681"]')?.textContent.includes('Đã tiếp nhận')) return true;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    return false;
  }));
  check(`${width}: no script errors (province)`, !p.errors.length, p.errors.join(' | '));
  check(`${width}: no script errors (commune)`, !c.errors.length, c.errors.join(' | '));
  if (width === 1366) {
    await p.goto(`${prov}/#/tasks`);
    await p.waitForSelector('#task-new', { timeout: 10000 });
    await p.fill('#task-new input[name=title]', 'Báo cáo kết quả kiểm tra');
    await p.fill('#task-new input[name=assignees]', '16681');
    await p.fill('#task-new input[name=due]', '2030-01-31');
    await p.click('#task-new button[type=submit]');
    check('a task assigned from the tasks page is listed',
      await wait(p, () => document.querySelector('#task-list')?.textContent.includes('Báo cáo kết quả kiểm tra')));
    await shot(p, 'tasks-1366');
    await p.goto(docUrl);
    await p.waitForSelector('#doc-update', { timeout: 10000 });
    await p.click('#doc-update');
    await p.waitForSelector('#doc-compose-link a', { timeout: 10000 });
    check('the correction form starts with the type of the corrected letter',
      await p.$eval('#doc-compose select[name=type]', (e) => e.value) === 'CV');
    await p.fill('#doc-compose input[name=subject]', 'Đính chính: kiểm tra trước ngày 20');
    await p.click('#doc-compose button[type=submit]');
    check('a correction sent from the document page links to the corrected one',
      await wait(p, (u) => document.querySelector('#doc-links a')?.getAttribute('href') === '#/documents/' + u,
        decodeURIComponent(docUrl.split('#/documents/')[1])));
    await p.goto(docUrl);
    check('the corrected one says so, with the link back',
      await wait(p, () => document.querySelector('[data-status="updated"]') && document.querySelector('#doc-links a')));
    await shot(p, 'doc-updated-1366');
    await p.goto(`${prov}/#/documents/new`);
    await p.waitForSelector('#doc-compose select[name=type] option[value=TB]', { state: 'attached', timeout: 10000 });
    await p.selectOption('#doc-compose select[name=type]', 'TB');
    await p.fill('#doc-compose input[name=subject]', 'Thông báo cho tất cả xã, phường của 412');
    await p.fill('#doc-compose input[name=recipients]', '412*');
    await p.click('#doc-compose button[type=submit]');
    check('"412*" is expanded and folded: one line "Tất cả xã của Thành phố Vinh (2)", its communes hidden',
      await wait(p, () => {
        const g = document.querySelector('#doc-recipients details[data-spec="412*"]');
        return g && !g.open && g.querySelector('summary').textContent.includes('Tất cả xã của Thành phố Vinh (2)') &&
          document.querySelectorAll('#doc-recipients tr').length === 2 &&
          [...g.querySelectorAll('tr')].every((r) => !r.checkVisibility());
      }));
    await p.click('#doc-recipients details[data-spec="412*"] summary');
    check('...it opens to list both communes',
      await wait(p, () => ['16681', '16684'].every((u) =>
        document.querySelector(`#doc-recipients details[open] tr[data-unit="${u}"]`)?.checkVisibility())));
    await shot(p, 'doc-group-1366');
  }
  await p.context().close();
  await c.context().close();
}
await b.close();
process.exit(failed() ? 1 : 0);
