// SPDX-License-Identifier: Apache-2.0
// The collector's dashboard (docs/dashboard.md) in chromium against a real collector that
// run_dashboard.py started with two agents' reports. Reads its setup from the 0600 JSON file
// named by its one argument (URL, CA, tokens of each role): never a token on a command line.
// Checks: the /ui/ headers; sign-in and sign-out; every page draws with no console error, page
// error or dialog and no request outside the collector; a table's filter and sort; the hostile
// file name shown as text and run never; roles: a viewer sees no approve button and the API
// refuses its approval (403), an analyst requests an item in the UI, an approver approves it in
// the UI, and the API's plan and audit log say so; the approver approves the analyst's exception
// in the UI. Screenshots: dashboard-*.png.
import fs from 'node:fs';
import https from 'node:https';
import { launch, screenshot, check, checkClean, done } from './lib/browser.mjs';

const setup = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const origin = new URL(setup.url).origin;
const ca = fs.readFileSync(setup.ca);
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
  + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// One API call from node, trusting the collector's CA: {status, body}.
function api(method, path, token, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(`${origin}${path}`, {
      method, ca, headers: { Authorization: `Bearer ${token}`, ...(data ? { 'Content-Type': 'application/json' } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => { let parsed = null; try { parsed = JSON.parse(text); } catch { parsed = text; } resolve({ status: res.statusCode, body: parsed }); });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

const browser = await launch({ allowedOrigins: [origin], ignoreHTTPSErrors: true });
const { record } = browser;
const page = await browser.newPage();
const main = page.locator('main');

// Waits until the page at hash is drawn (main not busy) with a heading containing title.
async function open(hash, title) {
  await page.evaluate((h) => { window.location.hash = h; }, hash);
  await page.waitForFunction((t) => {
    const m = document.querySelector('main');
    const h1 = m && m.querySelector('h1');
    return m && m.getAttribute('aria-busy') === 'false' && h1 && h1.textContent.includes(t);
  }, title, { timeout: 15000 });
}

// Counts what the record holds, to check that a page added nothing bad.
const marks = () => [record.consoleErrors.length, record.pageErrors.length, record.dialogs.length, record.outside.length];
async function clean(before, what) {
  const after = marks();
  check(after.every((n, i) => n === before[i]), `${what}: no console error, page error, dialog or outside request`,
    JSON.stringify({ console: record.consoleErrors, page: record.pageErrors, dialogs: record.dialogs, outside: record.outside }));
}

async function signIn(role) {
  await page.waitForSelector('form#signin', { timeout: 10000 });
  await page.fill('#token', setup.tokens[role]);
  await page.click('form#signin button[type=submit]');
  await page.waitForSelector('#me:not([hidden])', { timeout: 10000 });
  await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
}

async function signOut() {
  await page.click('#sign-out');
  await page.waitForSelector('form#signin', { timeout: 10000 });
}

// ---------------------------------------------------------------- headers, sign-in

async function headersAndSignIn() {
  const res = await page.goto(`${origin}/ui/`);
  const hd = res.headers();
  check(res.status() === 200, '/ui/ answers 200', String(res.status()));
  check(hd['content-security-policy'] === CSP, '/ui/ carries the dashboard policy', hd['content-security-policy']);
  check((hd['content-security-policy'] || '').includes("frame-ancestors 'none'"), "the policy says frame-ancestors 'none'");
  check(hd['x-content-type-options'] === 'nosniff', '/ui/ says nosniff');
  check(hd['x-frame-options'] === 'DENY', '/ui/ says X-Frame-Options DENY');
  check(hd['referrer-policy'] === 'no-referrer', '/ui/ says Referrer-Policy no-referrer');
  for (const file of ['app.js', 'app.css']) {
    const r = await page.request.get(`${origin}/ui/${file}`);
    check(r.status() === 200 && r.headers()['content-security-policy'] === CSP && r.headers()['x-content-type-options'] === 'nosniff',
      `/ui/${file} answers with the policy and nosniff`);
  }
  const before = marks();
  await page.waitForSelector('form#signin');
  await page.fill('#token', 'not-a-token');
  await page.click('form#signin button[type=submit]');
  const error = await page.locator('form#signin .error').textContent();
  check(/kwt_/.test(error) && !(await page.locator('#me').isVisible()), 'a string that is no API token is refused before any request', error);
  await signIn('viewer');
  const role = await page.locator('#me-role').textContent();
  check(role === 'viewer', 'the viewer signs in and the header names the role', role);
  const stored = await page.evaluate(() => Object.keys(sessionStorage));
  const cookies = await browser.context.cookies();
  check(stored.length === 1 && cookies.length === 0, 'the token is kept in sessionStorage, and no cookie is set', `${stored} ${cookies.length}`);
  await clean(before, 'sign-in');
}

// ---------------------------------------------------------------- the viewer's pages

async function overview() {
  const before = marks();
  await open('#/overview', 'Fleet overview');
  const bars = await page.locator('li.host-risk').count();
  check(bars === 2, 'the overview draws a risk bar per host', String(bars));
  const segments = await page.locator('li.host-risk .bar .seg').count();
  check(segments >= 2, 'the bars have severity segments, sized without inline style attributes', String(segments));
  const stats = await page.locator('.stat .value').allTextContents();
  check(stats.length === 5 && Number(stats[0]) === 2, 'the overview counts the two hosts', stats.join(','));
  check(Number(stats[2]) >= 4, 'the keys first seen this week are counted', stats[2]);
  check(Number(stats[4]) >= 1, 'the certificate expiring in 20 days is counted within 30 days', stats[4]);
  const algorithms = await page.locator('[data-table=algorithms] tbody tr').allTextContents();
  check(algorithms.some((t) => t.includes('ECDSA') && t.includes('quantum-vulnerable'))
    && algorithms.some((t) => t.includes('RSA') && t.includes('quantum-vulnerable')),
  'quantum-vulnerable keys are counted by algorithm (ECDSA, RSA)', algorithms.join(' | '));
  await screenshot(page, 'dashboard-overview');
  await clean(before, 'overview');
}

async function hostPage() {
  const before = marks();
  await open(`#/hosts/${encodeURIComponent(setup.hosts['host-a'])}`, 'Host');
  const table = page.locator('[data-table=host]');
  const rows = () => table.locator('tbody tr').count();
  const all = await rows();
  check(all >= 4, "host-a's findings are listed", String(all));
  const paths = await table.locator('td[data-col=path]').allTextContents();
  check(paths.some((p) => p.includes(setup.hostile)), 'the hostile file name is shown as its text', paths.join(' | '));
  const injected = await page.evaluate(() => document.querySelectorAll('main img, main [onerror]').length);
  check(injected === 0 && record.dialogs.length === 0, 'the hostile file name made no element and ran nothing');
  await page.fill('input[data-filter=host]', 'onerror');
  const filtered = await rows();
  const count = await page.locator('.count').first().textContent();
  check(filtered === 1 && count.startsWith('1 of'), 'the text filter keeps the one matching row', `${filtered} ${count}`);
  await page.fill('input[data-filter=host]', '');
  await page.selectOption('select[name=kind][data-filter=host]', 'certificate');
  const certs = await table.locator('td[data-col=kind]').allTextContents();
  check(certs.length === 1 && certs[0] === 'certificate', 'the kind filter keeps the certificate', certs.join(','));
  await page.selectOption('select[name=kind][data-filter=host]', '');
  const scores = async () => (await table.locator('td[data-col=score]').allTextContents()).map(Number);
  await page.click('[data-table=host] button[data-sort=score]');
  const asc = await scores();
  await page.click('[data-table=host] button[data-sort=score]');
  const desc = await scores();
  const sorted = (xs, dir) => xs.every((x, i) => i === 0 || dir * (x - xs[i - 1]) >= 0);
  check(asc.length === all && sorted(asc, 1) && sorted(desc, -1) && asc[0] !== desc[0],
    'sorting by score goes up, then down', `${asc} / ${desc}`);
  await screenshot(page, 'dashboard-host');
  await clean(before, 'host page');
}

async function keyPage() {
  const before = marks();
  const plan = await api('GET', '/api/v1/plan', setup.tokens.admin);
  const item = plan.body.items.find((it) => it.places.some((p) => p.path.endsWith(setup.shared_path)));
  await open(`#/keys/${encodeURIComponent(item.identity)}`, 'Key');
  // Both agents run on this machine and report its name: the hosts are told apart by agent id.
  const hosts = await page.locator('[data-table=key] td[data-col=host] a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  const want = Object.values(setup.hosts).map((id) => `#/hosts/${encodeURIComponent(id)}`).sort();
  check(JSON.stringify([...new Set(hosts)].sort()) === JSON.stringify(want), 'the key page lists the shared key on both hosts', hosts.join(','));
  const events = await page.locator('[data-table=events] td[data-col=type]').allTextContents();
  check(events.filter((e) => e === 'new').length === 2, "the key's history has a new event per place", events.join(','));
  await screenshot(page, 'dashboard-key');
  await clean(before, 'key page');
  return item;
}

async function viewerPlanAndExceptions(item) {
  const before = marks();
  await open('#/plan', 'Migration plan');
  const buttons = await page.locator('main button.approve, main button.request, main button.refuse').count();
  check(buttons === 0, 'a viewer sees no request, approve or refuse button', String(buttons));
  const refused = await api('POST', `/api/v1/plan/items/${item.id}/approve`, setup.tokens.viewer, {});
  check(refused.status === 403, "the API refuses a viewer's approval (403)", String(refused.status));
  await open('#/exceptions', 'Exceptions');
  const reasons = await page.locator('[data-table=exceptions] td[data-col=reason]').allTextContents();
  check(reasons.length === 1 && reasons[0] === 'lab key, retired in Q1', "the exceptions page lists the analyst's request", reasons.join(','));
  check(await page.locator('main button.approve').count() === 0, 'a viewer sees no approve button on exceptions');
  await clean(before, 'plan and exceptions pages');
  await signOut();
  const left = await page.evaluate(() => sessionStorage.length);
  check(left === 0, 'sign-out forgets the token', String(left));
}

// ---------------------------------------------------------------- roles: request, approve

const row = (id) => page.locator(`[data-table=plan] tbody tr:has(div.actions[data-item="${id}"])`);
const stateOf = (id) => page.locator(`[data-item-state="${id}"]`).textContent();

async function analystRequests(item) {
  const before = marks();
  await signIn('analyst');
  await open('#/plan', 'Migration plan');
  check(await page.locator('main button.approve').count() === 0, 'an analyst sees no approve button');
  await row(item.id).locator('button.request').click();
  await row(item.id).locator('textarea[name=reason]').fill('move the release key into the HSM');
  await row(item.id).locator('form.reason button[type=submit]').click();
  await page.waitForSelector('.flash.ok', { timeout: 10000 });
  check(await stateOf(item.id) === 'requested', 'the analyst requests the item in the UI: it shows requested');
  await clean(before, 'analyst');
  await signOut();
}

async function approverApproves(item) {
  const before = marks();
  await signIn('approver');
  await open('#/plan', 'Migration plan');
  check(await page.locator('main button.request').count() === 0, 'an approver sees no request button');
  await screenshot(page, 'dashboard-plan');
  await row(item.id).locator('button.approve').click();
  await page.waitForSelector('.flash.ok', { timeout: 10000 });
  check(await stateOf(item.id) === 'approved', 'the approver approves it in the UI: it shows approved');
  await clean(before, 'approver');
  const plan = await api('GET', '/api/v1/plan', setup.tokens.admin);
  const now = plan.body.items.find((it) => it.id === item.id);
  check(now.state === 'approved' && now.approved_by === 'principal:bob' && now.requested_by === 'principal:alice',
    'the API plan says approved by bob, requested by alice', JSON.stringify({ state: now.state, by: now.approved_by }));
  const audit = await api('GET', '/api/v1/audit?limit=1000', setup.tokens.admin);
  const entry = audit.body.items.find((e) => e.action === 'migration.approve' && e.subject === item.id);
  check(entry && entry.actor === 'principal:bob' && /^token:/.test(entry.via || ''),
    "the audit log has the approval by the approver's token", JSON.stringify(entry || null));
}

async function approverApprovesException() {
  const before = marks();
  await open('#/exceptions', 'Exceptions');
  await screenshot(page, 'dashboard-exceptions');
  await page.click('[data-table=exceptions] button.approve');
  await page.waitForSelector('.flash.ok', { timeout: 10000 });
  const status = await page.locator('[data-table=exceptions] td[data-col=status]').allTextContents();
  check(status.length === 1 && status[0] === 'approved', 'the approver approves the exception in the UI', status.join(','));
  const list = await api('GET', '/api/v1/exceptions', setup.tokens.viewer);
  check(list.body.items[0].status === 'approved' && list.body.items[0].approved_by === 'principal:bob',
    'the API says bob approved the exception', JSON.stringify(list.body.items[0].approved_by));
  await clean(before, 'exceptions as approver');
}

try {
  await headersAndSignIn();
  await overview();
  await hostPage();
  const item = await keyPage();
  await viewerPlanAndExceptions(item);
  await analystRequests(item);
  await approverApproves(item);
  await approverApprovesException();
  checkClean(record, 'the whole session');
  check(record.requests.every((u) => new URL(u).origin === origin || u.startsWith('data:')), 'every request went to the collector');
} catch (e) {
  check(false, 'the test ran to its end', String(e && e.stack || e));
} finally {
  await browser.close();
}
done();
