// ui_tooltip.mjs - stored HTML in map tooltips (issue 12, finding 3), run
// by tests/ui_browser.sh after ui_flow.mjs on the same network. A citizen
// submits a public report whose title is markup: an <img> pointing at a
// listener of this test that records every request, and a <style> that
// would blank the page. On the province dashboard, with the node's real
// Content-Security-Policy (no bypass), every map tooltip is opened: the
// title must show as text, the listener must get no request, the page
// must stay visible, and the live events must connect under
// connect-src 'self'. A second page that bypasses the CSP shows the
// tooltips are text by themselves, not only blocked by the policy.
import { createServer } from 'node:http';
import { browser, login, shot, check, failed } from './lib.mjs';

const env = process.env;
const base = `http://127.0.0.1:${env.UI_PORT_prov}`;

// the listener: counts requests per path
const hits = [];
const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'); // 1 x 1
const srv = createServer((req, res) => { hits.push(req.url); res.writeHead(200, { 'Content-Type': 'image/gif' }); res.end(gif); });
await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
const port = srv.address().port;
const title = `<img src="http://127.0.0.1:${port}/b"><style>body{display:none}</style>`;

const created = await fetch(`${base}/api/v1/public/reports`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ title, category: 'traffic', lat: 18.70, lon: 105.60, public: true }) });
check('a report titled with markup is stored (201)', created.status === 201, String(created.status));

// polls fn in the page (waitForFunction would need eval, which the CSP forbids)
async function poll(page, fn, arg, timeout = 20000) {
  for (const end = Date.now() + timeout; Date.now() < end; await new Promise((r) => setTimeout(r, 200)))
    if (await page.evaluate(fn, arg).catch(() => false)) return true;
  return false;
}

// Every Leaflet map the page makes, kept in window.__maps (Leaflet sets
// window.L once it is complete; the hook then sees each new map).
const captureMaps = () => {
  let l;
  Object.defineProperty(window, 'L', { configurable: true, get: () => l, set: (v) => {
    l = v;
    v.Map.addInitHook(function keep() { (window.__maps ||= []).push(this); });
  } });
};

const b = await browser();
async function dashboard(bypassCSP) {
  const ctx = await b.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base, locale: 'vi-VN', bypassCSP,
    timezoneId: 'Asia/Ho_Chi_Minh' });
  await ctx.addInitScript(captureMaps);
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  await login(page, base, 'prov-admin', 'ui-pass-prov-admin');
  await page.goto(`${base}/#/`);
  const drawn = await poll(page, () => Number(document.querySelector('[data-points]')?.dataset.points) >= 1);
  check(`${bypassCSP ? 'no CSP' : 'CSP'}: the dashboard map draws the report`, drawn);
  const opened = await page.evaluate(() => {
    let n = 0;
    for (const m of window.__maps || []) m.eachLayer((l) => { if (l.getTooltip?.()) { l.openTooltip(); n++; } });
    return n;
  });
  check(`${bypassCSP ? 'no CSP' : 'CSP'}: tooltips opened (${opened})`, opened >= 1);
  const shown = await poll(page, (t) => [...document.querySelectorAll('.leaflet-tooltip')].some((e) => e.textContent.includes(t)), title);
  check(`${bypassCSP ? 'no CSP' : 'CSP'}: the title shows as text in its tooltip`, shown);
  check(`${bypassCSP ? 'no CSP' : 'CSP'}: no element came from the title`,
    await page.evaluate(() => !document.querySelector('.leaflet-tooltip img, .leaflet-tooltip style, #app style')));
  check(`${bypassCSP ? 'no CSP' : 'CSP'}: the page is still shown`,
    await page.evaluate(() => getComputedStyle(document.body).display !== 'none'));
  return page;
}

const strict = await dashboard(false);
const csp = (await strict.request.get(`${base}/`)).headers()['content-security-policy'] || '';
check('the page\'s CSP allows images from the node and data: only (no tile_url set)', /img-src 'self' data:;/.test(csp), csp);
check('...no inline styles', /style-src 'self';/.test(csp) && !csp.includes('unsafe-inline'), csp);
check('...frame-ancestors none, connect-src self', csp.includes("frame-ancestors 'none'") && /connect-src 'self';/.test(csp), csp);
check('CSP: the live events connect (connect-src \'self\' covers the same-origin WebSocket)',
  await poll(strict, () => document.querySelector('.live.on')));
// positive barrier: the policy visibly refuses an image from elsewhere
const refused = await strict.evaluate((p) => new Promise((ok) => {
  document.addEventListener('securitypolicyviolation', (e) => ok(e.blockedURI.includes('/csp-probe')), { once: true });
  const img = new Image();
  img.src = `http://127.0.0.1:${p}/csp-probe`;
  setTimeout(() => ok(false), 5000);
}), port);
check('CSP: an image from another host is refused, with a violation event', refused);
await shot(strict, '18-dashboard-markup-title');

const loose = await dashboard(true);
// positive barrier: with the CSP bypassed, an image from elsewhere does load
const loaded = await loose.evaluate((p) => new Promise((ok) => {
  const img = new Image();
  img.onload = () => ok(true);
  img.onerror = () => ok(false);
  img.src = `http://127.0.0.1:${p}/probe.gif`;
}), port);
check('no CSP: an image from the listener loads (the listener is reachable)', loaded && hits.includes('/probe.gif'));
check('the listener got no request from a title', !hits.includes('/b'), hits.join(','));
check('...and none refused by the CSP reached it', !hits.includes('/csp-probe'), hits.join(','));
// any refusal but the probe's would be the UI breaking its own policy
check('CSP: no script errors and no refusal of the UI\'s own code or styles',
  !strict.errors.some((e) => !e.includes('Failed to load resource') && !e.includes('csp-probe')), strict.errors.join(' | '));
await b.close();
srv.close();
process.exit(failed() ? 1 : 0);
