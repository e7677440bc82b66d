// Dashboard core: the operator key, API calls, and DOM helpers that build elements from data with textContent only.
'use strict';
window.refdata = window.refdata || {};
(function (r) {
  const KEY = 'refdata.operatorKey';
  r.session = { key: sessionStorage.getItem(KEY), namespace: 'default', temporalUiUrl: '' };

  r.saveKey = function (key) {
    r.session.key = key;
    if (key) sessionStorage.setItem(KEY, key);
    else sessionStorage.removeItem(KEY);
  };

  /** fetch with the operator key; resolves { status, body } (body null when not JSON), never rejects on HTTP errors. */
  // One fetch for every call of the page: the key, the JSON answer (null when there is none) and a 401's sign-in.
  r.request = async function (path, init) {
    const headers = Object.assign({ accept: 'application/json' }, init.headers);
    if (r.session.key) headers.authorization = 'Bearer ' + r.session.key;
    const res = await fetch(path, Object.assign({}, init, { headers }));
    let json = null;
    try {
      json = await res.json();
    } catch (_) {
      json = null;
    }
    if (res.status === 401) r.onUnauthorized();
    return { status: res.status, body: json };
  };
  r.api = function (method, path, body) {
    if (body === undefined) return r.request(path, { method });
    return r.request(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  };
  r.onUnauthorized = function () {};

  /** el('td', { class: 'x', dataset: { id: 1 } }, 'text', childNode): attributes as properties, children as text or nodes. */
  r.el = function (tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k in node) node[k] = v;
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  };

  r.fmtNumber = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));

  r.fmtBytes = function (n) {
    if (n === null || n === undefined) return '–';
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    let v = n;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return (i === 0 ? v : v.toFixed(1)) + ' ' + units[i];
  };

  r.ago = function (iso) {
    if (!iso) return '–';
    const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    const text = s < 60 ? s + ' s ago' : s < 3600 ? Math.round(s / 60) + ' min ago' : s < 86400 ? Math.round(s / 3600) + ' h ago' : Math.round(s / 86400) + ' d ago';
    return r.el('time', { dateTime: iso, title: iso }, text);
  };

  r.duration = function (ms) {
    if (ms === null || ms === undefined) return '–';
    return ms < 1000 ? ms + ' ms' : ms < 120000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms / 60000) + ' min';
  };

  /** The run's page in the Temporal Web UI: that run when its id is known, else the latest run of the workflow id. */
  r.temporalUrl = function (workflowId, runId) {
    const base = r.session.temporalUiUrl + '/namespaces/' + encodeURIComponent(r.session.namespace) + '/workflows/' + encodeURIComponent(workflowId);
    return runId ? base + '/' + encodeURIComponent(runId) + '/history' : base;
  };

  r.temporalLink = function (workflowId, label, runId) {
    if (!workflowId) return '–';
    return r.el('a', { href: r.temporalUrl(workflowId, runId), target: '_blank', rel: 'noopener', class: 'temporal', title: 'open in the Temporal Web UI' }, label || workflowId);
  };

  r.status = (s) => r.el('span', { class: 'status status-' + String(s).replace(/[^a-z_]/gi, '') }, s);

  /** Replaces a section's body; `rows` empty shows `emptyText`. */
  r.fillTable = function (tbody, rows, emptyText, columns) {
    tbody.replaceChildren(...(rows.length ? rows : [r.el('tr', { class: 'empty' }, r.el('td', { colSpan: columns }, emptyText))]));
  };

  r.toast = function (text, severity) {
    const box = document.getElementById('toasts');
    const t = r.el('div', { class: 'toast toast-' + (severity || 'info'), role: 'status' }, text);
    box.append(t);
    setTimeout(() => t.remove(), 8000);
  };
})(window.refdata);
