// keyward-collector's dashboard (docs/dashboard.md): a hash router over API v1, in plain
// JavaScript, served from the collector's own origin under /ui/.
// Used by: people with an API token, in a browser; tests/browser/dashboard.test.mjs.
// Must never put a string it did not write into HTML: every value from the API (host names,
// paths, subjects, reasons) becomes a text node (textContent / createTextNode), never innerHTML.
// The token lives in this tab's sessionStorage and leaves only as "Authorization: Bearer" on
// fetches to the collector's API: no cookie, so a page elsewhere cannot make the browser act
// with it (no CSRF), and every change is a POST of an existing API route.

const TOKEN_KEY = 'keyward.token';
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
const main = document.getElementById('main');

let me = null;         // GET /api/v1/whoami of the signed-in token
let generation = 0;    // bumped on each navigation: a slow page never draws over the next one
let flash = null;      // one line to show on the next page drawn ({text, kind})

// ---------------------------------------------------------------- DOM, text only

// An element with properties and children; strings become text nodes, never markup.
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'href') el.setAttribute('href', internalHref(v));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Links stay inside the dashboard: a hash route, never a URL a value could smuggle in.
function internalHref(v) {
  const s = String(v);
  if (!s.startsWith('#/')) throw new Error('not a dashboard link');
  return s;
}

const hostHref = (id) => `#/hosts/${encodeURIComponent(id)}`;

// A host's name with the start of its agent id (two hosts may report the same name).
function hostLink(hostname, agentId) {
  return h('a', { href: hostHref(agentId), class: 'host' }, text(hostname) || agentId,
    h('span', { class: 'agent-id' }, ` ${String(agentId).slice(0, 8)}`));
}
const keyHref = (identity) => `#/keys/${encodeURIComponent(identity)}`;

// A string of the API: plain, or {"b64": ...} for a name that is not UTF-8 (shown lossily).
function text(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && typeof v.b64 === 'string') {
    try {
      const bytes = Uint8Array.from(atob(v.b64), (c) => c.charCodeAt(0));
      return new TextDecoder('utf-8').decode(bytes);
    } catch { return '(unreadable name)'; }
  }
  return String(v);
}

// "2026-12-04T15:22:51Z" (or Unix seconds) as "2026-12-04 15:22"; "" when unset.
function when(v) {
  if (v === null || v === undefined || v === '' || v === 0) return '';
  const d = typeof v === 'number' ? new Date(v * 1000) : new Date(v);
  if (Number.isNaN(d.getTime())) return text(v);
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

function severityBadge(sev) {
  const s = SEVERITIES.includes(sev) ? sev : 'none';
  return h('span', { class: `sev sev-${s}` }, sev || '—');
}

function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

function setPage(...children) {
  main.replaceChildren();
  if (flash) {
    main.appendChild(h('p', { class: `flash ${flash.kind}`, role: 'status' }, flash.text));
    flash = null;
  }
  appendAll(main, children);
}

// A bar of proportional segments [{value, class, title}] out of total. Widths are set through
// the CSSOM (element.style), which the page's policy allows; no style attribute is written.
function bar(segments, total, label) {
  const el = h('div', { class: 'bar', role: 'img', 'aria-label': label });
  for (const s of segments) {
    if (!s.value) continue;
    const seg = h('span', { class: `seg ${s.class}`, title: `${s.title}: ${s.value}` });
    seg.style.width = `${Math.max(0.5, (100 * s.value) / Math.max(total, 1))}%`;
    el.appendChild(seg);
  }
  return el;
}

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
class SignedOut extends Error {}

// One call of API v1 with the session's token; a 401 ends the session and shows the sign-in form.
async function api(path, { method = 'GET', body } = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    showSignIn();
    throw new SignedOut();
  }
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  const init = { method, headers, credentials: 'omit', cache: 'no-store', redirect: 'error', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (res.status === 401) {
    signOut('The collector did not accept this token (unknown, expired or revoked): sign in again.');
    throw new SignedOut();
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || 'error', err.message || `the collector answered ${res.status}`);
  }
  return data;
}

const q = (params) => new URLSearchParams(params).toString();

// ---------------------------------------------------------------- sign-in and roles

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  showSignIn(message);
}

function showChrome() {
  document.getElementById('nav').hidden = !me;
  document.getElementById('me').hidden = !me;
  if (!me) return;
  document.getElementById('me-name').textContent = me.principal || me.name;
  document.getElementById('me-role').textContent = me.role;
}

function showSignIn(message) {
  generation += 1;
  me = null;
  showChrome();
  main.setAttribute('aria-busy', 'false');
  const error = h('p', { class: 'error', role: 'alert', hidden: !message }, message || '');
  const input = h('input', { type: 'password', name: 'token', id: 'token', autocomplete: 'off', spellcheck: 'false',
    required: true, placeholder: 'kwt_…' });
  const form = h('form', { class: 'signin card', id: 'signin', on: { submit: (ev) => submitSignIn(ev, input, error) } },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Paste an API token (keyward-collector token create). It stays in this tab only ' +
      '(session storage) and is sent as an Authorization header to this collector; closing the tab forgets it.'),
    h('label', { for: 'token' }, 'API token'), input,
    h('button', { type: 'submit' }, 'Sign in'), error);
  main.replaceChildren(form);
  input.focus();
}

async function submitSignIn(ev, input, error) {
  ev.preventDefault();
  const token = input.value.trim();
  input.value = '';
  if (!/^kwt_[A-Za-z0-9_-]{20,}$/.test(token)) {
    error.textContent = 'That is not an API token (they start with kwt_).';
    error.hidden = false;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  if (await loadMe()) route();
}

// Reads who the token is; false when signed out.
async function loadMe() {
  try {
    me = await api('/api/v1/whoami');
    showChrome();
    return true;
  } catch (e) {
    if (!(e instanceof SignedOut)) signOut(`Cannot reach the collector: ${e.message}`);
    return false;
  }
}

// The roles are separate duties, not a ladder (docs/fleet.md, API v1): only an analyst requests,
// only an approver approves or refuses, and never what their own principal requested.
const canRequest = () => me && me.role === 'analyst';
const canDecide = () => me && me.role === 'approver';
const ownRequest = (by) => me && by === `principal:${me.principal}`;

// ---------------------------------------------------------------- tables: filter and sort

// A table with a text filter, optional select filters and sortable columns.
// columns: [{key, label, value(row) (for sorting and the text filter), cell(row) (a node or text)}]
// selects: [{name, label, options: [[value, label]], test(row, value)}]
function dataTable({ name, columns, rows, selects = [], sort = null, empty = 'Nothing here.' }) {
  const state = { text: '', selects: {}, sort: sort || { key: null, dir: 1 } };
  const tbody = h('tbody');
  const count = h('p', { class: 'count' });
  const headers = columns.map((c) => h('th', { scope: 'col' },
    c.sortable === false ? c.label
      : h('button', { type: 'button', class: 'sort', 'data-sort': c.key, on: { click: () => sortBy(c.key) } }, c.label)));
  const table = h('table', { class: 'data', 'data-table': name }, h('thead', {}, h('tr', {}, headers)), tbody);

  function sortBy(key) {
    state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
    draw();
  }
  function visible() {
    const needle = state.text.toLowerCase();
    let out = rows.filter((r) => selects.every((s) => !state.selects[s.name] || s.test(r, state.selects[s.name])));
    if (needle) out = out.filter((r) => columns.some((c) => String(c.value(r) ?? '').toLowerCase().includes(needle)));
    const col = columns.find((c) => c.key === state.sort.key);
    if (col) {
      out = [...out].sort((a, b) => {
        const x = col.value(a), y = col.value(b);
        const cmp = typeof x === 'number' && typeof y === 'number' ? x - y : String(x ?? '').localeCompare(String(y ?? ''));
        return cmp * state.sort.dir;
      });
    }
    return out;
  }
  function draw() {
    const shown = visible();
    tbody.replaceChildren(...shown.map((r) => h('tr', {}, columns.map((c) => h('td', { 'data-col': c.key }, c.cell ? c.cell(r) : text(c.value(r)))))));
    if (shown.length === 0) tbody.appendChild(h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty)));
    count.textContent = `${shown.length} of ${rows.length} shown`;
    for (const th of headers) {
      const b = th.querySelector('button');
      if (b) b.setAttribute('aria-sort', b.dataset.sort === state.sort.key ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    }
  }
  const controls = h('div', { class: 'filters' },
    h('label', {}, 'Filter ', h('input', { type: 'search', name: 'filter', 'data-filter': name,
      on: { input: (ev) => { state.text = ev.target.value; draw(); } } })),
    selects.map((s) => h('label', {}, `${s.label} `, h('select', { name: s.name, 'data-filter': name,
      on: { change: (ev) => { state.selects[s.name] = ev.target.value; draw(); } } },
      s.options.map(([v, l]) => h('option', { value: v }, l))))));
  draw();
  return h('div', { class: 'table-wrap' }, controls, h('div', { class: 'scroll' }, table), count);
}

const severityValue = (sev) => 5 - Math.max(0, SEVERITIES.indexOf(sev));
const severitySelect = (get) => ({
  name: 'severity', label: 'Severity', options: [['', 'any'], ...SEVERITIES.map((s) => [s, s])],
  test: (r, v) => get(r) === v,
});

// ---------------------------------------------------------------- pages

async function pageOverview(gen) {
  const [o, keys] = await Promise.all([api('/api/v1/overview'), api(`/api/v1/keys?${q({ limit: 25 })}`)]);
  if (gen !== generation) return;
  const c = o.certificates;
  const stat = (label, value, note) => h('div', { class: 'stat' }, h('div', { class: 'value' }, String(value)),
    h('div', { class: 'label' }, label), note ? h('div', { class: 'note' }, note) : null);
  const stats = h('div', { class: 'stats' },
    stat('hosts', o.hosts, `${o.hosts_reported} reported`),
    stat('keys', o.keys, `${o.quantum.vulnerable} quantum-vulnerable`),
    stat('new keys this week', o.new_keys_7d),
    stat('open findings', o.open_findings, SEVERITIES.map((s) => `${o.open_by_severity[s]} ${s}`).join(' · ')),
    stat('certificates expiring within 30 days', c.expiring_30d, `${c.expiring_60d} within 60 d · ${c.expiring_90d} within 90 d · ${c.expired} expired`));
  setPage(h('h1', {}, 'Fleet overview'), stats,
    h('div', { class: 'columns' }, riskByHost(o.risk_by_host), quantumTable(o.quantum)),
    certificateSection(c), riskiestKeys(keys));
}

function riskByHost(hosts) {
  const most = Math.max(1, ...hosts.map((x) => x.open_findings));
  const rows = hosts.map((x) => h('li', { class: 'host-risk', 'data-host': x.agent_id },
    hostLink(x.hostname, x.agent_id),
    bar(SEVERITIES.map((s) => ({ value: x.by_severity[s], class: `sev-${s}`, title: s })), most,
      `${x.open_findings} open findings`),
    h('span', { class: 'bar-label' }, `${x.open_findings} open`, x.max_score ? ` · max ${x.max_score}` : '')));
  return section('Risk by host', hosts.length ? h('ul', { class: 'bars' }, rows) : h('p', { class: 'empty' }, 'No hosts yet.'),
    h('p', { class: 'legend' }, SEVERITIES.map((s) => h('span', { class: `key sev-${s}` }, s))));
}

function quantumTable(qv) {
  const total = Math.max(1, ...qv.by_algorithm.map((a) => a.keys));
  const rows = qv.by_algorithm.map((a) => h('tr', {},
    h('td', {}, text(a.algorithm)), h('td', { class: 'num' }, String(a.keys)),
    h('td', {}, bar([{ value: a.keys, class: a.quantum_vulnerable ? 'qv' : 'qs', title: text(a.algorithm) }], total, `${a.keys} keys`)),
    h('td', {}, a.quantum_vulnerable ? h('span', { class: 'tag bad' }, 'quantum-vulnerable') : h('span', { class: 'tag good' }, 'quantum-safe'))));
  return section('Keys by algorithm',
    h('p', {}, `${qv.vulnerable} quantum-vulnerable, ${qv.safe} quantum-safe, ${qv.unknown} unknown (encrypted or not a key).`),
    h('table', { class: 'data', 'data-table': 'algorithms' },
      h('thead', {}, h('tr', {}, h('th', {}, 'algorithm'), h('th', {}, 'keys'), h('th', {}, ''), h('th', {}, ''))),
      h('tbody', {}, rows)));
}

function certificateSection(c) {
  const windows = [['expired', c.expired], ['within 30 days', c.expiring_30d], ['within 60 days', c.expiring_60d],
    ['within 90 days', c.expiring_90d]];
  return section('Certificates expiring', h('ul', { class: 'windows' },
    windows.map(([label, n]) => h('li', {}, h('span', { class: 'value' }, String(n)), ` ${label}`))));
}

function riskiestKeys(keys) {
  return section('Riskiest keys', dataTable({
    name: 'keys', rows: keys.items, empty: 'No keys yet.',
    columns: [
      { key: 'severity', label: 'severity', value: (k) => severityValue(k.max_severity), cell: (k) => severityBadge(k.max_severity) },
      { key: 'score', label: 'score', value: (k) => k.max_score },
      { key: 'identity', label: 'key', value: (k) => k.identity, cell: (k) => h('a', { href: keyHref(k.identity), class: 'mono' }, k.identity) },
      { key: 'algorithm', label: 'algorithm', value: (k) => `${k.algorithm}${k.bits ? ` ${k.bits}` : ''}` },
      { key: 'hosts', label: 'hosts', value: (k) => k.hosts },
      { key: 'places', label: 'where', value: (k) => k.places.map((p) => `${text(p.hostname)}:${text(p.path)}`).join(' '),
        cell: (k) => h('ul', { class: 'places' }, k.places.slice(0, 3).map((p) => h('li', {}, `${text(p.hostname)}: ${text(p.path)}`))) },
    ],
  }), h('p', { class: 'note' }, `${keys.total} keys in all; the 25 riskiest are listed.`));
}

async function pageHost(gen, id) {
  const [hosts, findings] = await Promise.all([api('/api/v1/hosts'),
    api(`/api/v1/findings?${q({ host: id, status: 'all', limit: 1000 })}`)]);
  if (gen !== generation) return;
  const host = hosts.items.find((x) => x.agent_id === id || x.hostname === id);
  if (!host) return setPage(h('h1', {}, 'No such host'), h('p', {}, 'The collector knows no host ', h('code', {}, id), '.'));
  const facts = h('dl', { class: 'facts' },
    [['agent', host.agent_id], ['os', host.os], ['status', host.agent_status], ['source', host.source],
      ['tags', host.tags.join(', ') || '—'], ['last report', when(host.last_report_at) || 'never'],
      ['open findings', String(host.open_findings)]].map(([k, v]) => [h('dt', {}, k), h('dd', {}, text(v))]));
  setPage(h('h1', {}, 'Host ', h('span', { class: 'name' }, text(host.hostname))), section('Facts', facts),
    section('Findings', findingsTable(findings.items, 'host'),
      findings.total > findings.items.length ? h('p', { class: 'note' }, `The first ${findings.items.length} of ${findings.total} are listed.`) : null));
}

// The places of findings (a host's, or a key's), with filters by severity, status and kind.
function findingsTable(items, name) {
  const f = (r) => r.finding || {};
  const where = (r) => `${text(f(r).location?.path)}${f(r).location?.member ? ` (${text(f(r).location.member)})` : ''}`;
  const statuses = ['open', 'resolved', 'excepted', 'false_positive', 'managed'];
  return dataTable({
    name, rows: items, sort: { key: 'score', dir: -1 }, empty: 'No findings.',
    selects: [severitySelect((r) => f(r).risk?.severity),
      { name: 'status', label: 'Status', options: [['', 'any'], ...statuses.map((s) => [s, s])], test: (r, v) => r.status === v },
      { name: 'kind', label: 'Kind', options: [['', 'any'], ['private_key', 'private key'], ['keystore', 'key store'], ['certificate', 'certificate'], ['public_key', 'public key']],
        test: (r, v) => f(r).kind === v }],
    columns: [
      { key: 'severity', label: 'severity', value: (r) => severityValue(f(r).risk?.severity), cell: (r) => severityBadge(f(r).risk?.severity) },
      { key: 'score', label: 'score', value: (r) => f(r).risk?.score ?? 0 },
      name === 'key' ? { key: 'host', label: 'host', value: (r) => `${text(r.hostname)} ${r.agent_id}`, cell: (r) => hostLink(r.hostname, r.agent_id) } : null,
      { key: 'path', label: 'path', value: where, cell: (r) => h('span', { class: 'path' }, where(r)) },
      { key: 'kind', label: 'kind', value: (r) => text(f(r).kind) },
      { key: 'rule', label: 'rule', value: (r) => text(f(r).rule) },
      { key: 'status', label: 'status', value: (r) => r.status, cell: (r) => h('span', { class: `status st-${r.status}` }, r.status) },
      { key: 'first_seen', label: 'first seen', value: (r) => r.first_seen || '', cell: (r) => when(r.first_seen) },
      name === 'host' ? { key: 'identity', label: 'key', value: (r) => r.identity, cell: (r) => h('a', { href: keyHref(r.identity), class: 'mono' }, shortId(r.identity)) } : null,
    ].filter(Boolean),
  });
}

const shortId = (identity) => (identity.length > 26 ? `${identity.slice(0, 24)}…` : identity);

async function pageKey(gen, identity) {
  const [places, events] = await Promise.all([
    api(`/api/v1/findings?${q({ identity, status: 'all', limit: 1000 })}`),
    api(`/api/v1/events?${q({ identity, limit: 1000 })}`)]);
  if (gen !== generation) return;
  if (places.items.length === 0) return setPage(h('h1', {}, 'No such key'), h('p', {}, 'No host holds the key ', h('code', {}, identity), '.'));
  const best = places.items.find((r) => r.status === 'open') || places.items[0];
  const fin = best.finding || {};
  const key = fin.key || fin.certificate || {};
  const hostsOpen = new Set(places.items.filter((r) => r.status === 'open').map((r) => r.agent_id));
  const facts = h('dl', { class: 'facts' },
    [['identity', identity], ['kind', fin.kind], ['algorithm', key.algorithm || key.key_algorithm || ''], ['bits', key.bits ? String(key.bits) : ''],
      ['curve', key.curve || ''], ['subject', fin.certificate?.subject || ''], ['not after', when(fin.certificate?.not_after)],
      ['open on hosts', String(hostsOpen.size)]]
      .filter(([, v]) => v).map(([k, v]) => [h('dt', {}, k), h('dd', {}, text(v))]));
  setPage(h('h1', {}, 'Key ', h('span', { class: 'mono name' }, shortId(identity))), section('Facts', facts),
    section('Where it sits', findingsTable(places.items, 'key'),
      places.total > places.items.length ? h('p', { class: 'note' }, `The first ${places.items.length} of ${places.total} are listed.`) : null),
    section('History', eventsTable(events.items),
      events.items.length === 1000 ? h('p', { class: 'note' }, 'The oldest 1000 events are listed.') : null));
}

// A key's events: new and resolved places, exceptions, migrations.
function eventsTable(items) {
  const detail = (e) => {
    const d = e.detail || {};
    return [d.path && text(d.path), d.member && `(${text(d.member)})`, d.severity, d.kind && text(d.kind), d.reason && `“${text(d.reason)}”`,
      d.item_id && `item ${text(d.item_id)}`].filter(Boolean).join(' ');
  };
  return dataTable({
    name: 'events', rows: items, sort: { key: 'seq', dir: -1 }, empty: 'No events.',
    columns: [
      { key: 'seq', label: '#', value: (e) => e.seq },
      { key: 'time', label: 'time', value: (e) => e.time || '', cell: (e) => when(e.time) },
      { key: 'type', label: 'event', value: (e) => e.type, cell: (e) => h('span', { class: 'event' }, e.type.replaceAll('_', ' ')) },
      { key: 'host', label: 'host', value: (e) => `${text(e.hostname)} ${e.agent_id || ''}`, cell: (e) => (e.agent_id ? hostLink(e.hostname, e.agent_id) : '') },
      { key: 'detail', label: 'detail', value: detail },
    ],
  });
}

async function pageExceptions(gen) {
  const list = await api('/api/v1/exceptions');
  if (gen !== generation) return;
  setPage(h('h1', {}, 'Exceptions'),
    h('p', { class: 'note' }, 'An analyst requests an exception for a key through the API; an approver who is someone else approves it.'),
    section('All exceptions', dataTable({
      name: 'exceptions', rows: list.items, sort: { key: 'requested_at', dir: -1 }, empty: 'No exceptions.',
      selects: [{ name: 'status', label: 'Status', options: [['', 'any'], ['pending', 'pending'], ['approved', 'approved'], ['expired', 'expired']], test: (x, v) => x.status === v }],
      columns: [
        { key: 'identity', label: 'key', value: (x) => x.identity, cell: (x) => h('a', { href: keyHref(x.identity), class: 'mono' }, shortId(x.identity)) },
        { key: 'kind', label: 'kind', value: (x) => x.kind.replace('_', ' ') },
        { key: 'reason', label: 'reason', value: (x) => text(x.reason) },
        { key: 'status', label: 'status', value: (x) => x.status, cell: (x) => h('span', { class: `status st-${x.status}` }, x.status) },
        { key: 'requested_by', label: 'requested by', value: (x) => text(x.requested_by) },
        { key: 'requested_at', label: 'requested', value: (x) => x.requested_at || '', cell: (x) => when(x.requested_at) },
        { key: 'approved_by', label: 'approved by', value: (x) => text(x.approved_by) },
        { key: 'expires_at', label: 'expires', value: (x) => x.expires_at || '', cell: (x) => when(x.expires_at) },
        { key: 'action', label: '', sortable: false, value: () => '', cell: exceptionAction },
      ],
    })));
}

function exceptionAction(x) {
  if (!canDecide() || x.status !== 'pending') return '';
  if (ownRequest(x.requested_by)) return h('span', { class: 'note' }, 'your request');
  return h('button', { type: 'button', class: 'approve', 'data-exception': x.id,
    on: { click: (ev) => act(ev.target, `/api/v1/exceptions/${encodeURIComponent(x.id)}/approve`, undefined, 'Exception approved.') } }, 'Approve');
}

const requested = (it) => it.state === 'proposed' && text(it.requested_by) !== '';
const stateLabel = (it) => (requested(it) ? 'requested' : it.state);

async function pagePlan(gen) {
  const plan = await api(`/api/v1/plan?${q({ format: 'json' })}`);
  if (gen !== generation) return;
  const states = ['proposed', 'requested', 'approved', 'running', 'done', 'failed', 'refused'];
  setPage(h('h1', {}, 'Migration plan'),
    h('p', { class: 'note' }, roleNote()),
    section('Items', dataTable({
      name: 'plan', rows: plan.items, sort: { key: 'rank', dir: 1 }, empty: 'Nothing to migrate.',
      selects: [{ name: 'state', label: 'State', options: [['', 'any'], ...states.map((s) => [s, s])], test: (it, v) => stateLabel(it) === v },
        severitySelect((it) => it.severity)],
      columns: [
        { key: 'rank', label: '#', value: (it) => it.rank },
        { key: 'severity', label: 'severity', value: (it) => severityValue(it.severity), cell: (it) => severityBadge(it.severity) },
        { key: 'identity', label: 'key', value: (it) => it.identity, cell: (it) => h('a', { href: keyHref(it.identity), class: 'mono' }, shortId(it.identity)) },
        { key: 'algorithm', label: 'algorithm', value: (it) => text(it.algorithm) },
        { key: 'places', label: 'places', value: (it) => it.places.map((p) => `${text(p.host)}:${text(p.path)}`).join(' '),
          cell: (it) => h('ul', { class: 'places' }, it.places.map((p) => h('li', {}, `${text(p.host)}: ${text(p.path)}`))) },
        { key: 'strategy', label: 'strategy', value: (it) => it.strategy },
        { key: 'target', label: 'target', value: (it) => text(it.target?.profile) },
        { key: 'state', label: 'state', value: stateLabel, cell: (it) => h('span', { class: `status st-${stateLabel(it)}`, 'data-item-state': it.id }, stateLabel(it)) },
        { key: 'who', label: 'requested / decided', value: (it) => `${text(it.requested_by)} ${text(it.approved_by)} ${text(it.refused_by)}`, cell: whoCell },
        { key: 'action', label: '', sortable: false, value: () => '', cell: planActions },
      ],
    })));
}

function roleNote() {
  if (canRequest()) return 'As an analyst you may request an item’s migration, with a reason; an approver decides.';
  if (canDecide()) return 'As an approver you may approve or refuse a requested item (never one you requested).';
  return `Your role (${me ? me.role : '?'}) may read the plan; analysts request migrations and approvers decide.`;
}

function whoCell(it) {
  const lines = [];
  if (text(it.requested_by)) lines.push(h('li', {}, `requested by ${text(it.requested_by)}`, it.requested_at ? ` at ${when(it.requested_at)}` : ''));
  if (text(it.approved_by)) lines.push(h('li', {}, `approved by ${text(it.approved_by)}`));
  if (text(it.refused_by)) lines.push(h('li', {}, `refused by ${text(it.refused_by)}`, text(it.decision_reason) ? `: “${text(it.decision_reason)}”` : ''));
  for (const b of it.blockers || []) lines.push(h('li', { class: 'blocker' }, `blocked: ${text(b.message)}`));
  return h('ul', { class: 'who' }, lines);
}

// The buttons the caller's role may use on a plan item; request and refuse ask for a reason.
function planActions(it) {
  const cell = h('div', { class: 'actions', 'data-item': it.id });
  const path = (verb) => `/api/v1/plan/items/${encodeURIComponent(it.id)}/${verb}`;
  if (canRequest() && ((it.state === 'proposed' && !requested(it)) || it.state === 'refused' || it.state === 'failed'))
    cell.appendChild(h('button', { type: 'button', class: 'request', on: { click: () => reasonForm(cell, 'Request', path('request'), 'Migration requested.') } }, 'Request'));
  if (canDecide() && (requested(it) || it.state === 'approved')) {
    if (ownRequest(it.requested_by)) cell.appendChild(h('span', { class: 'note' }, 'your request'));
    else {
      if (requested(it) && (it.blockers || []).length === 0)
        cell.appendChild(h('button', { type: 'button', class: 'approve', on: { click: (ev) => act(ev.target, path('approve'), undefined, 'Migration approved.') } }, 'Approve'));
      cell.appendChild(h('button', { type: 'button', class: 'refuse', on: { click: () => reasonForm(cell, 'Refuse', path('refuse'), 'Migration refused.') } }, 'Refuse'));
    }
  }
  return cell;
}

// A small form for a reason (1 to 2000 characters), then the POST.
function reasonForm(cell, verb, path, done) {
  const reason = h('textarea', { name: 'reason', required: true, maxlength: '2000', rows: '2', placeholder: 'Why?' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h('form', { class: 'reason', on: { submit: async (ev) => {
    ev.preventDefault();
    const text_ = reason.value.trim();
    if (!text_) { error.textContent = 'A reason is required.'; error.hidden = false; return; }
    await act(form.querySelector('button[type=submit]'), path, { reason: text_ }, done, error);
  } } },
  h('label', {}, `Reason (${verb.toLowerCase()})`, reason),
  h('button', { type: 'submit' }, verb),
  h('button', { type: 'button', on: { click: () => route() } }, 'Cancel'), error);
  cell.replaceChildren(form);
  reason.focus();
}

// POSTs a change, then draws the page again with what the collector now says.
async function act(button, path, body, done, errorEl) {
  button.disabled = true;
  try {
    await api(path, { method: 'POST', body: body === undefined ? {} : body });
    flash = { text: done, kind: 'ok' };
    route();
  } catch (e) {
    if (e instanceof SignedOut) return;
    button.disabled = false;
    const message = `The collector refused: ${e.message}`;
    if (errorEl) { errorEl.textContent = message; errorEl.hidden = false; } else { flash = { text: message, kind: 'bad' }; route(); }
  }
}

// ---------------------------------------------------------------- router

const ROUTES = [
  [/^#\/overview$/, (gen) => pageOverview(gen), 'overview'],
  [/^#\/hosts\/([^/]+)$/, (gen, m) => pageHost(gen, decodeURIComponent(m[1])), 'overview'],
  [/^#\/keys\/([^/]+)$/, (gen, m) => pageKey(gen, decodeURIComponent(m[1])), 'overview'],
  [/^#\/exceptions$/, (gen) => pageExceptions(gen), 'exceptions'],
  [/^#\/plan$/, (gen) => pagePlan(gen), 'plan'],
];

async function route() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return showSignIn();
  if (!me && !(await loadMe())) return;
  const hash = location.hash || '#/overview';
  const gen = ++generation;
  const found = ROUTES.map(([re, page, nav]) => [hash.match(re), page, nav]).find(([m]) => m);
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('current', !!found && a.dataset.page === found[2]);
  if (!found) return setPage(h('h1', {}, 'No such page'), h('p', {}, h('a', { href: '#/overview' }, 'Back to the overview')));
  main.setAttribute('aria-busy', 'true');
  try {
    await found[1](gen, found[0]);
  } catch (e) {
    if (e instanceof SignedOut || gen !== generation) return;
    setPage(h('h1', {}, 'Cannot show this page'), h('p', { class: 'error' }, e instanceof URIError ? 'The address is malformed.' : e.message));
  } finally {
    if (gen === generation) main.setAttribute('aria-busy', 'false');
  }
}

document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.'));
window.addEventListener('hashchange', () => route());
route();
