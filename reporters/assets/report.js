// The HTML report's script (docs/formats/html.md): builds the findings table from the JSON data
// block, sorts it by a clicked header, filters it, and expands a row to its factors, remediation
// and plan step (report.css shows every row's details when printing). Every value from the data
// goes in with textContent (never innerHTML), so a hostile file name stays text. Embedded at build time
// (reporters/CMakeLists.txt); its SHA-256 goes in the page's Content-Security-Policy.
// Top-level functions (the page runs no other script), each short; main() runs last.
'use strict';
const data = JSON.parse(document.getElementById('data').textContent);
const rows = data.findings.map((f, order) => ({ f, order, main: null, more: null }));
const body = document.getElementById('rows');
const shown = document.getElementById('shown');

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function where(f) {
  let s = f.path;
  if (f.member) s += ' ! ' + f.member;
  if (f.line) s += ':' + f.line;
  return s;
}

function dl(pairs) {
  const list = el('dl');
  for (const [k, v] of pairs) {
    if (v === '' || v === null || v === undefined) continue;
    list.append(el('dt', k), el('dd', v));
  }
  return list;
}

function factorTable(f) {
  const t = el('table', null, 'factors');
  const head = el('tr');
  head.append(el('th', 'Factor'), el('th', 'Points'), el('th', 'Why'));
  t.append(head);
  for (const x of f.factors) {
    const tr = el('tr', null, 'factor');
    tr.append(el('td', x.id), el('td', (x.points > 0 ? '+' : '') + x.points, 'n'), el('td', x.why));
    t.append(tr);
  }
  return t;
}

function planPart(p) {
  const box = el('div', null, 'plan');
  box.append(el('h4', 'Migration plan'));
  box.append(dl([['Item', p.item], ['State', p.state], ['Strategy', p.strategy], ['Token', p.token],
    ['Step', p.step], ['Blocked by', p.blockers.join(' ')]]));
  return box;
}

function details(f) {
  const td = el('td');
  td.colSpan = 7;
  td.append(dl([['Finding', f.id], ['Rule', f.rule], ['Format', f.format], ['Certificate', f.subject],
    ['Issuer', f.issuer], ['Owner', f.owner], ['Mode', f.mode], ['Suppressed', f.suppressed]]));
  td.append(el('h4', 'Risk factors'));
  td.append(f.factors.length ? factorTable(f) : el('p', 'Not scored.'));
  if (f.remediation) td.append(el('h4', 'Remediation'), el('p', f.remediation, 'remediation'));
  if (f.plan) td.append(planPart(f.plan));
  return td;
}

function riskCell(f) {
  const td = el('td');
  td.append(el('span', f.severity, 'sev ' + f.severity), el('span', f.score === null ? ' -' : ' ' + f.score, 'score'));
  return td;
}

function expiryCell(f) {
  const td = el('td', f.expiry ? f.expiry.slice(0, 10) : '');
  if (f.expired) td.append(el('span', ' expired', 'expired-text'));
  return td;
}

function build(r) {
  const f = r.f;
  r.main = el('tr', null, 'finding');
  r.main.dataset.id = f.id;
  r.main.dataset.score = f.score === null ? '-1' : String(f.score);
  r.main.dataset.severity = f.severity;
  r.main.dataset.kind = f.kind;
  const toggle = el('button', '+', 'toggle');
  toggle.type = 'button';
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-label', 'details');
  const first = el('td');
  first.append(toggle);
  r.main.append(first, riskCell(f), el('td', where(f), 'path'), el('td', f.host), el('td', f.kind),
    el('td', f.algorithm + (f.qv ? ' (quantum-vulnerable)' : '')), expiryCell(f));
  r.more = el('tr', null, 'more collapsed');
  r.more.append(details(f));
  toggle.addEventListener('click', () => {
    const open = r.more.classList.toggle('collapsed') === false;
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? '\u2212' : '+';
  });
}

const text = (v) => (v || '').toLowerCase();
const keys = {
  risk: (a, b) => (a.f.score ?? -1) - (b.f.score ?? -1) || b.order - a.order,
  path: (a, b) => where(a.f).localeCompare(where(b.f)) || a.order - b.order,
  host: (a, b) => a.f.host.localeCompare(b.f.host) || a.order - b.order,
  kind: (a, b) => a.f.kind.localeCompare(b.f.kind) || a.order - b.order,
  algorithm: (a, b) => a.f.algorithm.localeCompare(b.f.algorithm) || a.order - b.order,
  expiry: (a, b) => (a.f.expiry || '9999').localeCompare(b.f.expiry || '9999') || a.order - b.order,
};

function render(list) {
  body.replaceChildren();
  for (const r of list) body.append(r.main, r.more);
}

function sortBy(th) {
  const key = th.dataset.sort;
  // Risk sorts riskiest first on the first click, the other columns A-Z (expiry: soonest first).
  const current = th.getAttribute('aria-sort');
  const next = current ? (current === 'descending' ? 'ascending' : 'descending')
    : (key === 'risk' ? 'descending' : 'ascending');
  for (const other of document.querySelectorAll('#findings th[data-sort]')) other.removeAttribute('aria-sort');
  th.setAttribute('aria-sort', next);
  const sorted = rows.slice().sort(keys[key]);
  if (next === 'descending') sorted.reverse();
  render(sorted);
}

function value(id) {
  const e = document.getElementById(id);
  return e ? e.value : '';
}

function filter() {
  const q = text(value('filter-text'));
  const sev = value('filter-severity'), kind = value('filter-kind'), host = value('filter-host');
  let n = 0;
  for (const r of rows) {
    const f = r.f;
    const hay = [where(f), f.host, f.rule, f.kind, f.format, f.algorithm, f.subject, f.id].map(text).join('\n');
    const ok = (!q || hay.includes(q)) && (!sev || f.severity === sev) && (!kind || f.kind === kind) &&
      (!host || f.host === host);
    r.main.classList.toggle('filtered-out', !ok);
    r.more.classList.toggle('filtered-out', !ok);
    if (ok) n += 1;
  }
  shown.textContent = n + ' of ' + rows.length + ' findings shown';
}

function main() {
  for (const r of rows) build(r);
  render(rows);
  filter();
  for (const th of document.querySelectorAll('#findings th[data-sort]'))
    th.querySelector('button').addEventListener('click', () => sortBy(th));
  for (const id of ['filter-text', 'filter-severity', 'filter-kind', 'filter-host']) {
    const e = document.getElementById(id);
    if (e) e.addEventListener(e.tagName === 'INPUT' ? 'input' : 'change', filter);
  }
}

main();
