// Dashboard sections: files in flight (live progress), recent files, loads (revert), syncs, distributions, deliveries (replay).
'use strict';
(function (r) {
  const { el, api, fmtNumber, fmtBytes, ago, duration, temporalLink, status, fillTable } = r;
  const $ = (id) => document.getElementById(id);
  const pick = (o, ...keys) => keys.map((k) => o[k]).find((v) => v !== undefined && v !== null);

  /** A section whose route is missing (a 404 for the list itself) says so instead of erroring. */
  function unavailable(section, on) {
    $(section).classList.toggle('unavailable', on);
  }

  // ---------------------------------------------------------------- files in flight
  const inflight = new Map(); // tracking id → { row, doneAt }
  const FINAL = ['loaded', 'error', 'cancelled', 'duplicate', 'vanished'];

  function percentOf(file) {
    const p = file.progress;
    if (FINAL.includes(file.status) || (p && p.phase === 'done')) return 100;
    if (!p) return 0;
    if (p.phase === 'finishing' || p.phase === 'archiving') return 100;
    if (p.phase === 'loading' && p.totalBytes) return Math.min(99.9, (100 * p.bytes) / p.totalBytes);
    return 0;
  }

  function phaseText(file) {
    const p = file.progress;
    if (FINAL.includes(file.status)) return file.status;
    if (!p) return file.status;
    if (p.phase === 'waiting') return 'waiting until stable (' + p.stableChecks + '/' + p.requiredChecks + ')';
    return p.phase;
  }

  function renderInflight(file) {
    let entry = inflight.get(file.id);
    if (!entry) {
      const bar = el('progress', { max: 100, value: 0, dataset: { fileId: file.id } });
      const row = el('tr', { dataset: { fileId: file.id } },
        el('td', { class: 'name' }, temporalLink(file.workflowId, file.fileName)),
        el('td', { class: 'table' }), el('td', { class: 'phase' }),
        el('td', { class: 'progress' }, bar, el('span', { class: 'pct' })),
        el('td', { class: 'rows num' }), el('td', { class: 'rate num' }), el('td', { class: 'actions' }));
      entry = { row, bar, doneAt: null };
      inflight.set(file.id, entry);
    }
    const p = file.progress || {};
    const pct = percentOf(file);
    const cells = entry.row.children;
    cells[1].textContent = pick(p, 'table') || file.tableName || '–';
    cells[2].replaceChildren(FINAL.includes(file.status) ? status(file.status) : phaseText(file));
    entry.bar.value = pct;
    cells[3].querySelector('.pct').textContent = pct.toFixed(0) + ' %' + (p.totalBytes ? ' of ' + fmtBytes(p.totalBytes) : '');
    cells[4].textContent = fmtNumber(FINAL.includes(file.status) ? file.rowsLoaded : p.rows);
    cells[5].textContent = p.rowsPerSecond ? fmtNumber(p.rowsPerSecond) + ' rows/s' : '–';
    entry.row.classList.toggle('done', FINAL.includes(file.status));
    entry.row.classList.toggle('failed', file.status === 'error' || file.status === 'cancelled');
    if (FINAL.includes(file.status)) {
      entry.doneAt = entry.doneAt || Date.now();
      cells[6].replaceChildren();
    } else if (!cells[6].firstChild) {
      cells[6].append(el('button', { class: 'small', onclick: () => cancelFile(file) }, 'Cancel'));
    }
  }

  async function cancelFile(file) {
    if (!confirm('Cancel ' + file.fileName + '? Its rows are removed and the file goes to error/.')) return;
    const res = await api('POST', '/api/v1/files/' + file.id + '/cancel');
    r.toast(res.status === 202 ? 'Cancelling ' + file.fileName : 'Could not cancel: ' + ((res.body && res.body.error && res.body.error.message) || res.status), res.status === 202 ? 'info' : 'warning');
  }

  r.refreshInflight = async function () {
    const phases = await Promise.all(['waiting', 'planning', 'loading', 'finishing'].map((s) => api('GET', '/api/v1/files?status=' + s + '&limit=50')));
    if (phases.some((p) => p.status !== 200)) return;
    const running = phases.flatMap((p) => p.body.items);
    // Files that just left the list are read once more, so their bar ends at their outcome rather than vanishing.
    const left = [...inflight.keys()].filter((id) => !inflight.get(id).doneAt && !running.some((f) => f.id === id));
    const details = await Promise.all([...running.map((f) => f.id), ...left].map((id) => api('GET', '/api/v1/files/' + id)));
    for (const d of details) if (d.status === 200) renderInflight(d.body);
    for (const [id, entry] of inflight) if (entry.doneAt && Date.now() - entry.doneAt > 60000) inflight.delete(id);
    const rows = [...inflight.values()].map((e) => e.row);
    fillTable($('inflight-rows'), rows, 'No file is being processed.', 7);
  };

  // ---------------------------------------------------------------- recent files and loads
  let workflowByPath = new Map();

  r.refreshFiles = async function () {
    const res = await api('GET', '/api/v1/files?limit=25');
    if (res.status !== 200) return;
    workflowByPath = new Map(res.body.items.map((f) => [f.filePath, f.workflowId]));
    const rows = res.body.items.map((f) => el('tr', { dataset: { fileId: f.id } },
      el('td', {}, temporalLink(f.workflowId, f.fileName)), el('td', {}, status(f.status)), el('td', {}, f.tableName || '–'),
      el('td', { class: 'num' }, fmtNumber(f.rowsLoaded)), el('td', { class: 'error-text', title: f.error || '' }, f.error || ''),
      el('td', {}, ago(f.processedAt || f.createdAt))));
    fillTable($('file-rows'), rows, 'No files yet.', 6);
  };

  r.refreshLoads = async function () {
    const res = await api('GET', '/api/v1/loads?limit=25');
    if (res.status !== 200) return;
    const rows = res.body.items.map((l) => {
      const took = l.finishedAt ? Date.parse(l.finishedAt) - Date.parse(l.startedAt) : null;
      const wf = workflowByPath.get(l.filePath);
      return el('tr', { dataset: { loadId: l.loadId } },
        // A load id is `load_<run id>` of the file's run (workflows/file-lifecycle.ts), so the link opens that very run.
        el('td', { class: 'mono' }, wf ? temporalLink(wf, l.loadId, l.loadId.startsWith('load_') ? l.loadId.slice(5) : undefined) : l.loadId), el('td', {}, l.table), el('td', {}, l.mode),
        el('td', { class: 'load-status' }, status(l.status)), el('td', { class: 'num' }, fmtNumber(l.rows)), el('td', { class: 'num' }, duration(took)),
        el('td', {}, ago(l.startedAt)),
        el('td', { class: 'actions' }, l.status === 'loaded' ? el('button', { class: 'small danger revert', onclick: () => revertLoad(l) }, 'Revert') : ''));
    });
    fillTable($('load-rows'), rows, 'No loads yet.', 8);
  };

  async function revertLoad(l) {
    const what = l.mode === 'fullload' ? l.table + ' gets its previous contents back from bkp' : 'its ' + l.rows + ' rows are deleted from ' + l.table;
    if (!confirm('Revert load ' + l.loadId + '? ' + what + '.')) return;
    const res = await api('POST', '/api/v1/loads/' + encodeURIComponent(l.loadId) + '/revert');
    if (res.status === 200) r.toast('Reverted ' + l.loadId, 'info');
    else r.toast('Revert refused: ' + ((res.body && res.body.error && res.body.error.message) || res.status), 'warning');
    await r.refreshLoads();
  }

  // ---------------------------------------------------------------- instrument syncs
  r.refreshSyncs = async function () {
    const res = await api('GET', '/api/v1/instruments/sync?limit=10');
    unavailable('syncs', res.status === 404);
    if (res.status !== 200) return;
    const rows = res.body.items.flatMap((s) => {
      const changes = s.status === 'succeeded' ? '+' + fmtNumber(s.added) + ' ~' + fmtNumber(s.updated) + ' −' + fmtNumber(s.deactivated) + ' ↺' + fmtNumber(s.reactivated) : '';
      const segs = Object.entries(s.bySegment || {}).map(([seg, b]) => el('li', {}, seg + ': ' + fmtNumber(b.activeAfter) + ' active, +' + b.added + ' ~' + b.updated + ' −' + b.deactivated));
      const report = el('details', {}, el('summary', {}, 'report'), el('p', {}, s.source + (s.fileBytes ? ' · ' + fmtBytes(s.fileBytes) : '') + ' · ' + fmtNumber(s.records) + ' records, ' + fmtNumber(s.invalid) + ' invalid'), el('ul', {}, segs),
        s.guard && s.guard.reasons.length ? el('p', { class: 'error-text' }, 'guard: ' + s.guard.reasons.join('; ')) : '');
      return [el('tr', { dataset: { syncRunId: s.runId } },
        el('td', { class: 'mono' }, temporalLink(s.workflowId, s.runId.slice(0, 8), s.runId)), el('td', {}, status(s.status)), el('td', {}, s.trigger),
        el('td', {}, ago(s.startedAt)), el('td', { class: 'num' }, duration(s.durationMs)), el('td', {}, changes),
        el('td', { class: 'error-text', title: s.errorMessage || '' }, s.errorMessage || ''), el('td', {}, report))];
    });
    fillTable($('sync-rows'), rows, 'No syncs yet.', 8);
  };

  // ---------------------------------------------------------------- distributions and deliveries (issues 5 and 6)
  r.refreshDistributions = async function () {
    const res = await api('GET', '/api/v1/distribution/runs?limit=10');
    unavailable('distributions', res.status === 404);
    if (res.status !== 200) return;
    const runs = res.body.items || [];
    // The list has a delivery count; the newest runs' details say how those deliveries went.
    const details = await Promise.all(runs.slice(0, 5).map((d) => api('GET', '/api/v1/distribution/runs/' + encodeURIComponent(d.runId))));
    const deliveriesOf = new Map(details.filter((x) => x.status === 200).map((x) => [x.body.runId, x.body.deliveries || []]));
    const rows = runs.map((d) => {
      const files = (d.files || []).filter((f) => f.type !== 'manifest').map((f) => f.name + ' (' + fmtNumber(f.rows) + ')').join(', ');
      const dels = deliveriesOf.get(d.runId);
      const byStatus = dels ? Object.entries(dels.reduce((acc, x) => ((acc[x.status] = (acc[x.status] || 0) + 1), acc), {})).map(([s, n]) => n + ' ' + s).join(', ') : '';
      return el('tr', { dataset: { runId: d.runId }, class: d.status === 'failed' || (dels || []).some((x) => x.status === 'failed') ? 'failed' : '' },
        el('td', { class: 'mono' }, temporalLink(d.workflowId, d.runId, d.workflowRunId)), el('td', {}, d.businessDate), el('td', {}, d.kind),
        el('td', {}, status(d.status)), el('td', { class: 'wrap' }, files || '–'),
        el('td', {}, d.deliveryCount ? d.deliveryCount + (byStatus ? ': ' + byStatus : '') : '–'),
        el('td', { class: 'error-text', title: d.errorMessage || '' }, d.errorMessage || ''), el('td', {}, ago(d.startedAt)));
    });
    fillTable($('distribution-rows'), rows, 'No distribution runs yet.', 8);
  };

  r.refreshDeliveries = async function () {
    const res = await api('GET', '/api/v1/dashboard/deliveries?limit=50');
    unavailable('deliveries', res.status === 404);
    if (res.status !== 200) return;
    // The API orders them: failed first, then in progress, then the rest, newest first.
    const rows = res.body.items.map((d) => {
      const err = d.errorDetails || '';
      return el('tr', { dataset: { deliveryId: d.deliveryId }, class: d.status === 'failed' ? 'failed' : '' },
        el('td', { class: 'mono' }, temporalLink(d.workflowId, d.deliveryId, d.runId)), el('td', {}, d.channel),
        el('td', {}, d.subscriberId), el('td', {}, d.reportType),
        el('td', { class: 'delivery-status' }, status(d.status)), el('td', { class: 'num' }, fmtNumber(d.retryCount)),
        el('td', { class: 'error-text', title: err }, err), el('td', {}, ago(d.updatedAt)),
        el('td', { class: 'actions' }, d.status === 'failed' || d.status === 'cancelled' ? el('button', { class: 'small replay', onclick: () => replay(d.deliveryId) }, 'Replay') : ''));
    });
    fillTable($('delivery-rows'), rows, 'No deliveries yet.', 9);
  };

  async function replay(id) {
    const res = await api('POST', '/api/v1/reporting/delivery/' + encodeURIComponent(id) + '/replay');
    if (res.status >= 200 && res.status < 300) r.toast('Replaying ' + id, 'info');
    else r.toast('Replay refused: ' + ((res.body && res.body.error && res.body.error.message) || res.status), 'warning');
    await r.refreshDeliveries();
  }
})(window.refdata);
