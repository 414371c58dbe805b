// SPDX-License-Identifier: Apache-2.0
// Debian's chromium driven by playwright-core (npm, tests/browser/package-lock.json), the way
// every browser test uses it: headless, a fresh profile in a temp dir, the flags that keep it off
// the network (docs/reports.md "Browser tests"), and a record of what a page did: console errors,
// page errors, every request's URL, and dialogs (an alert means injected script ran).
// Used by: tests/browser/*.test.mjs. KEYWARD_NODE_MODULES names the npm install (the ctest
// fixture browser.npm); KEYWARD_SCREENSHOTS the directory screenshots go to (build artifacts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const modules = process.env.KEYWARD_NODE_MODULES;
if (!modules) throw new Error('KEYWARD_NODE_MODULES is not set (run through ctest: the browser.npm fixture installs it)');
const require = createRequire(path.join(path.resolve(modules), 'node_modules', 'noop.js'));
const { chromium } = require('playwright-core');

export const CHROMIUM = process.env.KEYWARD_CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions'];

// Launches chromium. allowedOrigins: the origins a page may request (e.g. 'https://127.0.0.1:8443');
// file: and data: URLs are always allowed. Returns { context, newPage, record, close }.
export async function launch({ allowedOrigins = [], ignoreHTTPSErrors = false } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, ignoreHTTPSErrors, viewport: { width: 1280, height: 900 },
  });
  const record = { consoleErrors: [], pageErrors: [], requests: [], outside: [], dialogs: [] };
  context.on('request', (req) => {
    const url = req.url();
    record.requests.push(url);
    const u = new URL(url);
    if (u.protocol === 'file:' || u.protocol === 'data:' || u.protocol === 'blob:') return;
    if (!allowedOrigins.includes(u.origin)) record.outside.push(url);
  });
  const watch = (page) => {
    page.on('console', (msg) => { if (msg.type() === 'error') record.consoleErrors.push(msg.text()); });
    page.on('pageerror', (err) => record.pageErrors.push(String(err)));
    page.on('dialog', async (d) => { record.dialogs.push(d.message()); await d.dismiss(); });
  };
  for (const p of context.pages()) watch(p);
  context.on('page', watch);
  return {
    context, record,
    async newPage() { const p = await context.newPage(); return p; },
    async close() { await context.close(); fs.rmSync(profile, { recursive: true, force: true }); },
  };
}

// Saves a full-page screenshot as KEYWARD_SCREENSHOTS/<name>.png (the build dir's artifacts).
export async function screenshot(page, name) {
  const dir = process.env.KEYWARD_SCREENSHOTS || path.join(os.tmpdir(), 'keyward-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// A tiny check counter in the style of the Python integration tests: check(cond, what) prints
// "ok - what" or "FAIL - what"; done() exits 1 when any failed.
let failures = 0, checks = 0;
export function check(cond, what, detail = '') {
  checks += 1;
  if (cond) console.log(`ok - ${what}`);
  else { failures += 1; console.log(`FAIL - ${what}${detail ? `: ${detail}` : ''}`); }
  return cond;
}
export function done() {
  console.log(`${checks - failures}/${checks} checks passed`);
  process.exit(failures === 0 ? 0 : 1);
}

// The record is clean: no console or page error, no dialog, nothing fetched outside the allowed origins.
export function checkClean(record, what) {
  check(record.consoleErrors.length === 0, `${what}: no console error`, record.consoleErrors.join(' | '));
  check(record.pageErrors.length === 0, `${what}: no page error`, record.pageErrors.join(' | '));
  check(record.dialogs.length === 0, `${what}: no dialog (no injected script ran)`, record.dialogs.join(' | '));
  check(record.outside.length === 0, `${what}: no request outside the allowed origins`, record.outside.join(' '));
}
