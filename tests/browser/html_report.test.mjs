// SPDX-License-Identifier: Apache-2.0
// The HTML report in chromium (docs/formats/html.md), on a page made by run_html_report.py:
// nothing but file: requested, no console error, page error or dialog (no injected script
// ran), the hostile file name shown as text, the text and severity filters reduce the rows,
// sorting by risk orders them descending then ascending, expanding a row shows its factors and
// its plan step, the three charts are drawn, and print media shows every row's factors.
// Usage: node html_report.test.mjs report.html (env KEYWARD_NODE_MODULES, KEYWARD_SCREENSHOTS).
import fs from 'node:fs';
import path from 'node:path';
import { launch, screenshot, check, checkClean, done } from './lib/browser.mjs';

const HOSTILE = '<img src=x onerror=alert(1)>.pem';
const file = path.resolve(process.argv[2] || '');
if (!fs.existsSync(file)) { console.log(`FAIL - no report at ${file}`); process.exit(1); }

const visibleRows = (page) => page.locator('tr.finding:not(.filtered-out)');
const scores = (page) => visibleRows(page).evaluateAll((rows) => rows.map((r) => Number(r.dataset.score)));
const ordered = (xs, cmp) => xs.every((x, i) => i === 0 || cmp(xs[i - 1], x));

async function checkFilters(page, total) {
  await page.fill('#filter-text', 'ed25519');
  const ed = await visibleRows(page).count();
  const algs = await visibleRows(page).evaluateAll((rows) => rows.map((r) => r.cells[5].textContent));
  check(ed > 0 && ed < total && algs.every((a) => a.startsWith('Ed25519')),
    `the text filter keeps only Ed25519 rows (${ed} of ${total})`, algs.join(', '));
  check((await page.textContent('#shown')).startsWith(`${ed} of ${total}`), 'the count of shown rows follows the filter');
  await page.fill('#filter-text', '');
  await page.selectOption('#filter-severity', 'info');
  const info = await visibleRows(page).evaluateAll((rows) => rows.map((r) => r.dataset.severity));
  check(info.length > 0 && info.length < total && info.every((s) => s === 'info'),
    `the severity select keeps only info rows (${info.length} of ${total})`);
  await page.selectOption('#filter-severity', '');
  check(await visibleRows(page).count() === total, 'clearing the filters shows every row again');
}

async function checkSort(page) {
  const risk = page.locator('th[data-sort="risk"] button');
  await risk.click();
  const down = await scores(page);
  check(await page.getAttribute('th[data-sort="risk"]', 'aria-sort') === 'descending' && ordered(down, (a, b) => a >= b),
    'the first click on Risk sorts descending', down.join(' '));
  await risk.click();
  const up = await scores(page);
  check(ordered(up, (a, b) => a <= b) && up[0] < up[up.length - 1], 'the second click sorts ascending', up.join(' '));
  await page.locator('th[data-sort="path"] button').click();
  const paths = await visibleRows(page).evaluateAll((rows) => rows.map((r) => r.cells[2].textContent));
  check(ordered(paths, (a, b) => a.localeCompare(b) <= 0), 'the first click on Path sorts A-Z', paths.join(' | '));
  await page.locator('th[data-sort="expiry"] button').click();
  const expiry = await visibleRows(page).evaluateAll((rows) => rows.map((r) => r.cells[6].textContent.slice(0, 10)));
  const dated = expiry.filter((e) => e);
  check(dated.length === 3 && ordered(dated, (a, b) => a <= b) && expiry.indexOf(dated[0]) === 0,
    'the first click on Expiry puts the soonest (the expired) certificate first', expiry.join(' | '));
}

async function checkExpand(page) {
  const row = page.locator('tr.finding', { has: page.locator('td.path', { hasText: '/rsa.pem' }) });
  const more = row.locator('xpath=following-sibling::tr[1]');
  check(!(await more.isVisible()), 'a row starts collapsed');
  await row.locator('button.toggle').click();
  check(await more.isVisible(), 'clicking + expands the row');
  const factors = await more.locator('tr.factor').count();
  check(factors > 0, `the expanded row lists its risk factors (${factors})`);
  const text = await more.textContent();
  check(text.includes('Migration plan') && text.includes('Step') && /regenerate|import/.test(text),
    'the expanded row shows its plan item and migrate step', text.slice(0, 300));
  check(!text.includes('Not scored'), 'the expanded row is scored');
}

async function checkCharts(page) {
  for (const id of ['chart-risk', 'chart-expiry', 'chart-quantum']) {
    const bars = await page.locator(`svg.${id} rect.bar`).count();
    check(await page.locator(`svg.${id}`).isVisible() && bars > 0, `the chart ${id} is drawn (${bars} bars)`);
  }
  check(await page.locator('svg.chart-expiry title', { hasText: 'expired: 1' }).count() === 1,
    'the expiry chart marks the expired certificate');
  const quantum = await page.locator('svg.chart-quantum').textContent();
  check(quantum.includes('RSA-2048') && quantum.includes('Ed25519'), 'the quantum chart names RSA-2048 and Ed25519');
}

const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(`file://${file}`);
  await page.waitForSelector('tr.finding');
  const total = await visibleRows(page).count();
  check(total >= 7, `the table has a row per finding (${total})`);
  const hostile = page.locator('td.path', { hasText: HOSTILE });
  check(await hostile.count() === 1 && await hostile.isVisible(), 'the hostile file name is shown as text');
  check(await page.locator('img').count() === 0, 'no <img> element was made from a name');
  await checkFilters(page, total);
  await checkSort(page);
  await checkExpand(page);
  await checkCharts(page);
  await screenshot(page, 'html-report');
  await page.emulateMedia({ media: 'print' });
  const hiddenInPrint = await page.locator('tr.more').evaluateAll((rows) =>
    rows.filter((r) => getComputedStyle(r).display === 'none').length);
  check(hiddenInPrint === 0, 'printing shows every row\'s factors', `${hiddenInPrint} rows hidden`);
  check(await page.locator('.controls').isHidden(), 'printing hides the filter controls');
  const dir = process.env.KEYWARD_SCREENSHOTS;
  if (dir) await page.pdf({ path: path.join(dir, 'html-report.pdf'), format: 'A4', landscape: true });
  checkClean(browser.record, 'html report');
  check(browser.record.requests.every((u) => u.startsWith('file:')), 'only the file itself was requested',
    browser.record.requests.join(' '));
} finally {
  await browser.close();
}
done();
