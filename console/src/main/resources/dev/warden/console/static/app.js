'use strict';
// The approval console. Everything the agent or the database wrote (statements, reasons, names) is put on the page
// with textContent only, never parsed as HTML.
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const state = { csrf: null, approver: null, requests: new Map(), events: null, focus: null };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin', cache: 'no-store' });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      const err = new Error((data && data.error) || ('HTTP ' + r.status));
      err.status = r.status;
      throw err;
    }
    return data;
  }

  // --- SQL highlighting: a tiny tokenizer, output as text nodes inside spans ---
  const KEYWORDS = new Set(('select from where and or not insert into values update set delete create drop alter table index ' +
    'concurrently unique on join left right inner outer full cross using group by order having limit offset returning as ' +
    'distinct union all except intersect with recursive case when then else end is null in exists between like ilike ' +
    'primary key foreign references default constraint add column rename to grant revoke truncate cascade restrict begin ' +
    'commit rollback savepoint explain analyze vacuum copy view materialized function procedure trigger schema if do ' +
    'lock share exclusive mode for nowait skip locked true false asc desc nulls first last').split(' '));
  const DANGER = new Set(['drop', 'truncate', 'delete', 'alter', 'grant', 'revoke', 'update']);

  // What the agent wrote that a screen would hide or reorder (controls, bidi overrides and isolates, zero-width
  // characters) is shown as its code point, so that the approver reads what runs.
  const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]/g;
  function visible(s) {
    return String(s).replace(INVISIBLE, ch => '\u27e8U+' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0') + '\u27e9');
  }

  function highlight(pre, sql) {
    pre.textContent = '';
    // Dollar-quoted strings ($$…$$, $tag$…$tag$) as PostgreSQL reads them: what looks like a comment inside one is not.
    const re = /(--[^\n]*|\/\*[\s\S]*?\*\/)|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?)|(\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?(?:\$\5\$|$))|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_$]*)|(\s+|.)/g;
    let m;
    sql = visible(sql);
    while ((m = re.exec(sql)) !== null) {
      if (m[1]) pre.append(el('span', 'com', m[1]));
      else if (m[2]) pre.append(el('span', 'str', m[2]));
      else if (m[3]) pre.append(document.createTextNode(m[3]));
      else if (m[4]) pre.append(el('span', 'str', m[4]));
      else if (m[6]) pre.append(el('span', 'num', m[6]));
      else if (m[7]) {
        const w = m[7].toLowerCase();
        if (DANGER.has(w)) pre.append(el('span', 'kw danger', m[7]));
        else if (KEYWORDS.has(w)) pre.append(el('span', 'kw', m[7]));
        else pre.append(document.createTextNode(m[7]));
      } else pre.append(document.createTextNode(m[8]));
    }
  }

  // Events and responses can arrive out of order (an approval's response after the "used" event it caused), so a
  // request only moves forward: pending, then approved, then a final state.
  const RANK = { pending: 0, approved: 1, used: 2, denied: 2, expired: 2 };
  function upsert(r) {
    const old = state.requests.get(r.id);
    if (old) {
      const a = RANK[old.status] ?? 0, b = RANK[r.status] ?? 0;
      if (b < a) return;
      if (b === a && r.status === 'pending' && r.approved_by.length < old.approved_by.length) return;
    }
    state.requests.set(r.id, r);
  }

  // --- login ---
  async function checkSession() {
    try {
      const s = await api('GET', '/api/session');
      loggedIn(s);
    } catch (e) {
      showLogin();
    }
  }

  function showLogin() {
    state.csrf = null;
    $('#login').hidden = false;
    $('#tabs').hidden = true;
    $('#who').hidden = true;
    document.querySelectorAll('.tab').forEach(t => { t.hidden = true; });
    if (state.events) { state.events.close(); state.events = null; }
  }

  function loggedIn(s) {
    state.csrf = s.csrf;
    state.approver = s.approver;
    $('#login').hidden = true;
    $('#tabs').hidden = false;
    $('#who').hidden = false;
    $('#approver-name').textContent = s.approver;
    connectEvents();
    route();
  }

  $('#login-form').addEventListener('submit', async ev => {
    ev.preventDefault();
    $('#login-error').textContent = '';
    try {
      const s = await api('POST', '/api/login', { token: $('#token').value });
      $('#token').value = '';
      loggedIn(s);
    } catch (e) {
      $('#login-error').textContent = e.message;
    }
  });

  $('#logout').addEventListener('click', async () => {
    try { await api('POST', '/api/logout', {}); } catch (e) { /* already gone */ }
    showLogin();
  });

  // --- live events ---
  function connectEvents() {
    if (state.events) return;
    const es = new EventSource('/api/events');
    state.events = es;
    es.addEventListener('hello', () => { $('#live').classList.add('on'); loadRequests(); });
    es.addEventListener('request', ev => {
      const m = JSON.parse(ev.data);
      upsert(m.request);
      renderRequests();
    });
    es.addEventListener('agent', () => { if (current() === 'agents') loadAgents(); });
    es.onerror = () => {
      $('#live').classList.remove('on');
      if (es.readyState === EventSource.CLOSED) {
        state.events = null;
        // The session may have ended; find out, and reconnect if not.
        setTimeout(checkSession, 2000);
      }
    };
  }

  async function loadRequests() {
    try {
      const list = await api('GET', '/api/requests');
      list.forEach(upsert);
      renderRequests();
    } catch (e) {
      if (e.status === 401) showLogin();
    }
  }

  // --- pending queue ---
  function objectsOf(r) {
    const out = [];
    for (const s of r.classification.statements) for (const o of s.objects) out.push(o.name + ' (' + o.access + ')');
    return out.length ? out.join(', ') : '—';
  }

  function flagsOf(r) {
    const flags = new Set();
    for (const s of r.classification.statements) for (const f of s.flags) flags.add(f);
    for (const t of r.classification.tags) flags.add('tag:' + t);
    return flags.size ? [...flags].join(', ') : '—';
  }

  // The figure, and what it rests on where the catalog said so (its last note: "no row estimate: …", "rows: …"),
  // or why there is none.
  function rowsOf(r) {
    const c = r.classification;
    const e = c.enrichment || '';
    const at = Math.max(e.indexOf('no row estimate: '), e.indexOf('rows: '));
    const why = at >= 0 ? e.substring(at) : c.estimated_rows === null ? e : '';
    return (c.estimated_rows === null ? 'unknown' : c.estimated_rows.toLocaleString()) + (why ? ' (' + why + ')' : '');
  }

  function commentsOf(r) {
    return r.comments.map(x => x.by + ': ' + x.comment).join('; ');
  }

  function card(r) {
    const c = $('#request-card').content.firstElementChild.cloneNode(true);
    c.dataset.id = r.id;
    c.classList.add(r.status);
    $('.status', c).textContent = r.status;
    $('.kind', c).textContent = r.classification.kind;
    $('.target', c).textContent = r.database + ' (' + r.engine + ')';
    $('.txn', c).hidden = !r.in_transaction;
    highlight($('.sql', c), r.statement);
    $('.agent', c).textContent = r.agent + (r.client ? ' from ' + r.client : '');
    $('.rule', c).textContent = (r.rule || '—') + ' · ' + r.approval.mode;
    $('.objects', c).textContent = objectsOf(r);
    const params = r.parameters || [];
    $('.params', c).textContent = params.length
      ? params.map((p, i) => '$' + (i + 1) + ' = ' + (p === null ? 'NULL' : "'" + visible(p) + "'")).join(', ')
      : 'none';
    $('.flags', c).textContent = flagsOf(r);
    $('.rows', c).textContent = rowsOf(r);
    $('.approvals', c).textContent = r.approved_by.length + ' of ' + r.approvals_needed +
      (r.approved_by.length ? ' (' + r.approved_by.join(', ') + ')' : '');
    if (r.comments.length) $('.comments', c).textContent = commentsOf(r); else c.querySelectorAll('.comments-box').forEach(e => { e.hidden = true; });
    $('.rid', c).textContent = r.id;
    if (r.reason) $('.reason', c).textContent = r.reason; else $('.reason-box', c).hidden = true;
    c.dataset.expires = r.expires;
    const decide = async approve => {
      const err = $('.error', c);
      err.textContent = '';
      c.querySelectorAll('button').forEach(b => { b.disabled = true; });
      try {
        const updated = await api('POST', '/api/requests/' + encodeURIComponent(r.id) + (approve ? '/approve' : '/deny'),
          { comment: $('.comment', c).value });
        upsert(updated);
        renderRequests();
      } catch (e) {
        err.textContent = e.message;
        c.querySelectorAll('button').forEach(b => { b.disabled = false; });
      }
    };
    $('.approve', c).addEventListener('click', () => decide(true));
    $('.deny', c).addEventListener('click', () => decide(false));
    if (r.status !== 'pending' || r.approved_by.includes(state.approver)) $('.decide', c).hidden = true;
    if (state.focus === r.id) c.classList.add('focus');
    return c;
  }

  function renderRequests() {
    const all = [...state.requests.values()].sort((a, b) => a.created < b.created ? -1 : 1);
    const pending = all.filter(r => r.status === 'pending');
    const list = $('#pending-list');
    // Keep what the approver is typing: rebuild only cards whose content changed.
    const keep = new Map();
    list.querySelectorAll('.request').forEach(c => keep.set(c.dataset.id, c));
    const frag = document.createDocumentFragment();
    for (const r of pending) {
      const old = keep.get(r.id);
      const sig = r.status + '|' + r.approved_by.join(',');
      if (old && old.dataset.sig === sig) frag.append(old);
      else { const c = card(r); c.dataset.sig = sig; frag.append(c); }
    }
    list.textContent = '';
    list.append(frag);
    // A request decided here stays visible briefly with its new status.
    for (const r of all) {
      if (r.status !== 'pending' && keep.has(r.id) && !list.querySelector('[data-id="' + r.id + '"]')) {
        const c = card(r);
        list.append(c);
        setTimeout(() => c.remove(), 8000);
      }
    }
    $('#pending-empty').hidden = pending.length > 0;
    $('#pending-count').textContent = String(pending.length);
    document.title = (pending.length ? '(' + pending.length + ') ' : '') + 'Warden — approvals';
    const rows = $('#history-rows');
    rows.textContent = '';
    for (const r of all.filter(x => x.status !== 'pending').reverse()) {
      const tr = el('tr');
      tr.dataset.id = r.id;
      tr.append(el('td', null, r.created.replace('T', ' ').replace(/\..*Z$/, 'Z')), el('td', 'hstatus ' + r.status, r.status),
        el('td', null, r.agent), el('td', null, r.database), el('td', 'stmt', r.statement), el('td', null, r.rule),
        el('td', null, r.decided_by || (r.approved_by || []).join(', ')), el('td', null, r.comments.length ? commentsOf(r) : (r.comment || '')));
      rows.append(tr);
    }
    if (state.focus) {
      const f = list.querySelector('[data-id="' + state.focus + '"]');
      if (f) f.scrollIntoView({ block: 'center' });
    }
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll('#pending-list .request.pending').forEach(c => {
      const left = Math.max(0, Math.round((Date.parse(c.dataset.expires) - now) / 1000));
      const m = Math.floor(left / 60), s = left % 60;
      $('.timer', c).textContent = left > 0 ? m + ':' + String(s).padStart(2, '0') + ' left' : 'timing out';
    });
  }
  setInterval(tick, 1000);

  // --- audit ---
  async function loadAudit() {
    const f = new FormData($('#audit-form'));
    const q = new URLSearchParams();
    for (const [k, v] of f.entries()) {
      if (!v) continue;
      q.set(k, (k === 'from' || k === 'to') ? new Date(v + 'Z').toISOString() : v);
    }
    const rows = $('#audit-rows');
    rows.textContent = '';
    try {
      const data = await api('GET', '/api/ledger?' + q.toString());
      const v = $('#verification');
      v.className = 'verification ' + data.verification.status;
      v.textContent = 'Ledger verification: ' + data.verification.status + (data.verification.detail ? ' — ' + data.verification.detail : '');
      for (const e of data.entries) {
        const op = e.operation || e;
        const d = e.decision && typeof e.decision === 'object' ? e.decision.decision : (e.decision || e.verdict || '');
        const what = op.statement || (e.request_id ? e.request_id + (e.comment ? ' — ' + e.comment : '') : (e.source || (e.decision_seq !== undefined ? 'outcome of #' + e.decision_seq + ': ' + (e.status || '') + (e.error ? ' ' + e.error : '') : '')));
        const tr = el('tr');
        tr.append(el('td', null, e.seq), el('td', null, e.time), el('td', null, e.type), el('td', null, op.agent || ''),
          el('td', null, op.database || ''), el('td', null, d), el('td', 'stmt', what), el('td', null, e.approver || ''));
        rows.append(tr);
      }
      if (!data.entries.length) { const tr = el('tr'); const td = el('td', 'muted', 'No entries match.'); td.colSpan = 8; tr.append(td); rows.append(tr); }
    } catch (e) {
      const tr = el('tr'); const td = el('td', 'error', e.message); td.colSpan = 8; tr.append(td); rows.append(tr);
    }
  }
  $('#audit-form').addEventListener('submit', ev => { ev.preventDefault(); loadAudit(); });

  // --- agents ---
  async function loadAgents() {
    const rows = $('#agent-rows');
    try {
      const agents = await api('GET', '/api/agents');
      rows.textContent = '';
      for (const a of agents) {
        const tr = el('tr');
        tr.dataset.agent = a.name;
        const comment = el('input', 'agent-comment');
        comment.placeholder = 'comment (optional)';
        const b = el('button', a.disabled ? 'enable' : 'deny', a.disabled ? 'Enable' : 'Disable');
        b.type = 'button';
        b.addEventListener('click', async () => {
          b.disabled = true;
          try {
            await api('POST', '/api/agents/' + encodeURIComponent(a.name) + (a.disabled ? '/enable' : '/disable'), { comment: comment.value });
          } catch (e) { alert(e.message); }
          loadAgents();
        });
        const tdC = el('td'); tdC.append(comment);
        const tdB = el('td'); tdB.append(b);
        tr.append(el('td', null, a.name), el('td', a.disabled ? 'error' : null, a.disabled ? 'disabled' : 'enabled'), tdC, tdB);
        rows.append(tr);
      }
    } catch (e) {
      rows.textContent = '';
    }
  }

  // --- routing: #/pending, #/history, #/audit, #/agents, #/requests/ID ---
  function current() {
    const h = location.hash.replace(/^#\/?/, '');
    if (h.startsWith('requests/')) return 'pending';
    return ['pending', 'history', 'audit', 'agents'].includes(h) ? h : 'pending';
  }

  function route() {
    if (!state.approver) return;
    const h = location.hash.replace(/^#\/?/, '');
    state.focus = h.startsWith('requests/') ? h.substring(9) : null;
    const tab = current();
    document.querySelectorAll('.tab').forEach(t => { t.hidden = t.id !== tab; });
    document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.tab === tab));
    if (tab === 'audit') loadAudit();
    if (tab === 'agents') loadAgents();
    if (tab === 'pending' || tab === 'history') renderRequests();
    if (state.focus && !state.requests.has(state.focus)) {
      api('GET', '/api/requests/' + encodeURIComponent(state.focus)).then(r => { upsert(r); renderRequests(); }).catch(() => {});
    }
  }
  window.addEventListener('hashchange', route);

  checkSession();
})();
