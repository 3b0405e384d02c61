// lib.mjs - shared by the browser tests: Debian's chromium driven by
// playwright-core (never a downloaded browser), screenshots into
// $LT_UI_ARTIFACTS (build/ui-artifacts), small assertion helpers.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// playwright-core from web/node_modules (scripts/install-deps runs npm ci there)
const require = createRequire(fileURLToPath(new URL('../../web/package.json', import.meta.url)));
const { chromium } = require('playwright-core');

export const ARTIFACTS = process.env.LT_UI_ARTIFACTS || 'build/ui-artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

export async function browser() {
  return chromium.launch({
    executablePath: process.env.LT_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

let failures = 0;
export function check(what, ok, detail = '') {
  if (ok) console.log(`ok   ${what}`);
  else { failures++; console.log(`FAIL ${what} ${detail}`); }
}
export const failed = () => failures;

// A page whose problems are collected in page.errors: script errors, console errors, requests
// that failed, and answers of 400 or more that the test did not announce with
// page.allow(status, urlPart) before causing them. (The browser's console line "Failed to load
// resource" repeats a failed request or an error answer, which are judged by the rules above.)
// Every page made, each with its name, for the final check of page.errors.
export const pages = [];
export async function newPage(b, { name, width = 1280, height = 900, base } = {}) {
  // bypassCSP: the node's CSP forbids eval, which waitForFunction's polling uses
  const ctx = await b.newContext({ viewport: { width, height }, baseURL: base, locale: 'vi-VN', bypassCSP: true,
    timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await ctx.newPage();
  page.name = name;
  pages.push(page);
  page.errors = [];
  page.allowed = [];
  page.allow = (status, part) => page.allowed.push({ status, part });
  page.on('pageerror', (e) => page.errors.push(`script error: ${e}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.errors.push(`console: ${m.text()}`);
  });
  page.on('requestfailed', (r) => page.errors.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !page.allowed.some((a) => a.status === r.status() && r.url().includes(a.part)))
      page.errors.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
  });
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export async function login(page, base, user, password) {
  await page.goto(`${base}/#/login`);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('header.top .who', { timeout: 10000 });
}
