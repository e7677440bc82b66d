// Dashboard charts: small inline SVG drawn from /api/v1/stats/* over the chosen period. The scale helpers are pure
// (unit-tested under Node through module.exports); every number on a bar is also on its data attributes and title.
'use strict';
(function (r) {
  const DAY_MS = 86400000;

  /** A round axis top at or above `max`: 1, 2, 2.5 or 5 times a power of ten (1 when there is nothing to show). */
  function niceMax(max) {
    if (!(max > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(max)));
    const f = max / p;
    const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * p;
  }

  /** Length of `value` on an axis from 0 to `max` that is `size` long; 0 for nothing or a degenerate axis. */
  function scale(value, max, size) {
    if (!(max > 0) || !(value > 0)) return 0;
    return Math.min(size, (value / max) * size);
  }

  /** `count` bands across `width`: each one's start and breadth, with `gap` between them (1 to `widest` units wide). */
  function bands(count, width, gap, widest) {
    const step = count > 0 ? width / count : width;
    const breadth = Math.max(1, Math.min(widest || Infinity, step - gap));
    return { step, breadth, start: (i) => i * step + (step - breadth) / 2 };
  }

  /** Gridline values of an axis: 0 and `parts` equal steps up to `max`. */
  function ticks(max, parts) {
    const out = [];
    for (let i = 0; i <= parts; i++) out.push((max * i) / parts);
    return out;
  }

  /** 950, 1.2k, 3.4M: labels that fit beside a bar. */
  function compact(n) {
    if (n === null || n === undefined) return '–';
    const a = Math.abs(n);
    if (a >= 1e9) return +(n / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return +(n / 1e6).toFixed(1) + 'M';
    if (a >= 1e3) return +(n / 1e3).toFixed(1) + 'k';
    return String(Math.round(n * 10) / 10);
  }

  /** A share 0..1 as "97.5 %"; '–' for none. */
  function percent(rate) {
    return rate === null || rate === undefined ? '–' : (Math.round(rate * 1000) / 10).toFixed(1) + ' %';
  }

  /** yyyy-MM-dd `days` after (or before) a yyyy-MM-dd day, in UTC. */
  function addDays(day, days) {
    return new Date(Date.parse(day + 'T00:00:00Z') + days * DAY_MS).toISOString().slice(0, 10);
  }

  /** The default period the stats API also uses: the 14 UTC days that end today, `to` inclusive as the form shows it. */
  function defaultPeriod(now) {
    const today = new Date(now).toISOString().slice(0, 10);
    return { from: addDays(today, -13), to: today };
  }

  /** Query string of a period whose `to` is the last day shown (inclusive): the API's `to` is the next midnight. */
  function periodQuery(period) {
    return '?from=' + encodeURIComponent(period.from) + '&to=' + encodeURIComponent(addDays(period.to, 1));
  }

  const math = { niceMax, scale, bands, ticks, compact, percent, addDays, defaultPeriod, periodQuery };
  if (typeof module === 'object' && module.exports) module.exports = math;
  if (!r) return;
  r.chartMath = math;

  // ---------------------------------------------------------------- SVG
  const NS = 'http://www.w3.org/2000/svg';

  /** svg('rect', { x: 1, class: 'bar', dataset: {...} }, children…): attributes by setAttribute, text as text nodes. */
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'dataset') Object.assign(node.dataset, v);
      else node.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const W = 640;
  const LEFT = 46;
  const BOTTOM = 18;

  /**
   * Vertical bars, one group per item, each a stack of segments: items [{ label, title, data, segments: [{ value, cls }] }].
   * The axis starts at 0 and ends at a round value; every group carries its numbers as data attributes and a title.
   */
  function columnChart(items, opts) {
    const H = opts.height || 150;
    const plotH = H - BOTTOM - 8;
    const plotW = W - LEFT - 4;
    const max = niceMax(Math.max(0, ...items.map((it) => it.segments.reduce((n, s) => n + (s.value || 0), 0))));
    const b = bands(items.length, plotW, items.length > 40 ? 1 : 4, 48);
    const grid = ticks(max, 2).map((t) => {
      const y = 8 + plotH - scale(t, max, plotH);
      return svg('g', { class: 'grid' }, svg('line', { x1: LEFT, x2: W - 4, y1: y, y2: y }), svg('text', { x: LEFT - 4, y: y + 4, 'text-anchor': 'end' }, opts.format(t)));
    });
    const labelEvery = Math.max(1, Math.ceil(items.length / 10));
    const groups = items.map((it, i) => {
      const x = LEFT + b.start(i);
      let y = 8 + plotH;
      const rects = it.segments.filter((s) => s.value > 0).map((s) => {
        const h = scale(s.value, max, plotH);
        y -= h;
        return svg('rect', { class: 'bar ' + s.cls, x: x.toFixed(1), y: y.toFixed(1), width: b.breadth.toFixed(1), height: h.toFixed(1) });
      });
      // An empty day still gets a hit area, so its title (and its zeros) can be read.
      const hit = svg('rect', { class: 'hit', x: x.toFixed(1), y: 8, width: b.breadth.toFixed(1), height: plotH });
      const label = i % labelEvery === 0 ? svg('text', { class: 'axis-label', x: (x + b.breadth / 2).toFixed(1), y: H - 4, 'text-anchor': 'middle' }, it.label) : null;
      return svg('g', { class: 'column', dataset: it.data }, svg('title', {}, it.title), hit, rects, label);
    });
    return svg('svg', { class: 'chart-svg', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': opts.label }, grid, groups);
  }

  /** Horizontal bars, one row per item: items [{ label, title, data, bars: [{ value, cls, text }] }] on one shared axis. */
  function barRows(items, opts) {
    const rowH = opts.rowHeight || 18;
    const labelW = opts.labelWidth || 150;
    const per = Math.max(1, ...items.map((it) => it.bars.length));
    const H = Math.max(1, items.length) * (per * rowH + 8) + 4;
    const plotW = W - labelW - 70;
    const max = opts.max || niceMax(Math.max(0, ...items.flatMap((it) => it.bars.map((x) => x.value || 0))));
    let y = 4;
    const rows = items.map((it) => {
      const top = y;
      const bars = it.bars.map((bar, j) => {
        const by = top + j * rowH;
        const w = scale(bar.value, max, plotW);
        return svg('g', { class: 'hbar', dataset: bar.data || {} },
          svg('rect', { class: 'bar ' + bar.cls, x: labelW, y: by + 2, width: w.toFixed(1), height: rowH - 4 }),
          svg('text', { class: 'value', x: (labelW + w + 4).toFixed(1), y: by + rowH - 5 }, bar.text));
      });
      y += per * rowH + 8;
      return svg('g', { class: 'row', dataset: it.data }, svg('title', {}, it.title),
        svg('text', { class: 'row-label', x: labelW - 6, y: top + rowH - 5, 'text-anchor': 'end' }, it.label), bars);
    });
    return svg('svg', { class: 'chart-svg', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': opts.label }, rows);
  }

  // ---------------------------------------------------------------- the charts card
  const { el, fmtNumber, duration } = r;
  const $ = (id) => document.getElementById(id);
  let period = null;

  function show(id, ...nodes) {
    $(id).querySelector('.chart-body').replaceChildren(...nodes);
  }
  const empty = (text) => el('p', { class: 'empty-note' }, text);
  const legend = (...entries) => el('p', { class: 'legend' }, entries.map(([cls, text]) => el('span', { class: 'key ' + cls }, text)));

  function drawLoads(body) {
    const days = body.days;
    const title = (d) => d.day + ': ' + d.loads + ' loads (' + d.loaded + ' loaded, ' + d.aborted + ' aborted, ' + d.reverted + ' reverted), ' +
      fmtNumber(d.rows) + ' rows, average ' + duration(d.avg_duration_ms) + ', longest ' + duration(d.max_duration_ms);
    const data = (d) => ({ day: d.day, loads: d.loads, loaded: d.loaded, aborted: d.aborted, reverted: d.reverted, rows: d.rows, avgDurationMs: d.avg_duration_ms === null ? '' : d.avg_duration_ms });
    const label = (d) => d.day.slice(5);
    show('chart-loads',
      el('p', { class: 'chart-total' }, fmtNumber(body.totals.loads) + ' loads, ' + fmtNumber(body.totals.rows) + ' rows'),
      legend(['bar-ok', 'loaded'], ['bar-bad', 'aborted'], ['bar-warn', 'reverted'], ['bar-info', 'loading']),
      columnChart(days.map((d) => ({ label: label(d), title: title(d), data: data(d), segments: [
        { value: d.loaded, cls: 'bar-ok' }, { value: d.aborted, cls: 'bar-bad' }, { value: d.reverted, cls: 'bar-warn' }, { value: d.loading, cls: 'bar-info' }] })),
      { label: 'loads per day', format: compact, height: 130 }),
      el('h4', {}, 'Rows loaded'),
      columnChart(days.map((d) => ({ label: label(d), title: title(d), data: { day: d.day, rows: d.rows }, segments: [{ value: d.rows, cls: 'bar-accent' }] })),
        { label: 'rows loaded per day', format: compact, height: 110 }),
      el('h4', {}, 'Average load duration'),
      columnChart(days.map((d) => ({ label: label(d), title: title(d), data: { day: d.day, avgDurationMs: d.avg_duration_ms === null ? '' : d.avg_duration_ms }, segments: [{ value: d.avg_duration_ms || 0, cls: 'bar-info' }] })),
        { label: 'average load duration per day', format: (ms) => (ms === 0 ? '0' : duration(Math.round(ms))), height: 110 }));
  }

  function drawFailures(body) {
    if (body.categories.length === 0) return show('chart-failures', empty('No file failed in this period.'));
    show('chart-failures',
      el('p', { class: 'chart-total' }, fmtNumber(body.total) + (body.total === 1 ? ' failed file' : ' failed files')),
      barRows(body.categories.map((c) => {
        const name = c.category || 'uncategorised';
        return { label: name, title: name + ': ' + c.files + (c.files === 1 ? ' file' : ' files'), data: { category: name, files: c.files }, bars: [{ value: c.files, cls: 'bar-bad', text: fmtNumber(c.files) }] };
      }), { label: 'failed files by category', labelWidth: 190 }));
  }

  function drawDeliveries(body) {
    if (body.channels.length === 0) return show('chart-deliveries', empty('No delivery in this period.'));
    const title = (c) => c.channel + ': ' + c.delivered + ' of ' + (c.delivered + c.failed) + ' finished deliveries delivered (' + percent(c.success_rate) + '), ' +
      c.in_progress + ' in progress, ' + c.cancelled + ' cancelled; latency p50 ' + duration(c.p50_latency_ms) + ', p95 ' + duration(c.p95_latency_ms);
    const data = (c) => ({ channel: c.channel, deliveries: c.deliveries, delivered: c.delivered, failed: c.failed, successRate: c.success_rate === null ? '' : c.success_rate,
      p50Ms: c.p50_latency_ms === null ? '' : c.p50_latency_ms, p95Ms: c.p95_latency_ms === null ? '' : c.p95_latency_ms });
    show('chart-deliveries',
      el('h4', {}, 'Success rate'),
      barRows(body.channels.map((c) => ({ label: c.channel, title: title(c), data: data(c),
        bars: [{ value: c.success_rate || 0, cls: c.success_rate !== null && c.success_rate < 0.95 ? 'bar-bad' : 'bar-ok', text: percent(c.success_rate) + ' of ' + fmtNumber(c.delivered + c.failed) }] })),
      { label: 'delivery success rate per channel', max: 1 }),
      el('h4', {}, 'Latency'),
      legend(['bar-info', 'p50'], ['bar-warn', 'p95']),
      barRows(body.channels.map((c) => ({ label: c.channel, title: title(c), data: data(c), bars: [
        { value: c.p50_latency_ms || 0, cls: 'bar-info', text: 'p50 ' + duration(c.p50_latency_ms), data: { percentile: 'p50' } },
        { value: c.p95_latency_ms || 0, cls: 'bar-warn', text: 'p95 ' + duration(c.p95_latency_ms), data: { percentile: 'p95' } }] })),
      { label: 'delivery latency percentiles per channel' }));
  }

  function drawSyncs(body) {
    if (body.syncs.length === 0) return show('chart-syncs', empty('No instrument sync in this period.'));
    const title = (s) => s.started_at.slice(0, 16).replace('T', ' ') + ' ' + s.status + ' (' + s.trigger + '): +' + fmtNumber(s.added) + ' added, ~' +
      fmtNumber(s.updated) + ' changed, −' + fmtNumber(s.deactivated) + ' deactivated, ' + fmtNumber(s.reactivated) + ' reactivated';
    show('chart-syncs',
      body.syncs.length >= body.limit ? el('p', { class: 'muted' }, 'The newest ' + body.limit + ' syncs of the period.') : '',
      legend(['bar-ok', 'added'], ['bar-info', 'changed'], ['bar-bad', 'deactivated']),
      columnChart(body.syncs.map((s) => ({
        label: s.started_at.slice(5, 10), title: title(s),
        data: { runId: s.run_id, status: s.status, added: s.added, updated: s.updated, deactivated: s.deactivated, reactivated: s.reactivated },
        segments: [{ value: s.added, cls: 'bar-ok' }, { value: s.updated, cls: 'bar-info' }, { value: s.deactivated, cls: 'bar-bad' }],
      })), { label: 'instrument changes per sync', format: compact, height: 150 }));
  }

  const charts = [['loads', drawLoads], ['failures', drawFailures], ['deliveries', drawDeliveries], ['syncs', drawSyncs]];

  r.refreshCharts = async function () {
    if (!period) period = defaultPeriod(Date.now());
    const shown = periodQuery(period);
    const answers = await Promise.all(charts.map(([name]) => r.api('GET', '/api/v1/stats/' + name + shown)));
    // A newer period chosen while these were on their way wins.
    if (periodQuery(period) !== shown) return;
    const refused = answers.find((a) => a.status !== 200);
    $('chart-error').textContent = refused ? (refused.body && refused.body.error && refused.body.error.message) || 'The API answered ' + refused.status + '.' : '';
    answers.forEach((a, i) => {
      if (a.status === 200) charts[i][1](a.body);
    });
    $('charts').dataset.period = period.from + '/' + period.to;
  };

  document.addEventListener('DOMContentLoaded', () => {
    const form = $('chart-period');
    if (!form) return;
    const initial = defaultPeriod(Date.now());
    $('chart-from').value = initial.from;
    $('chart-to').value = initial.to;
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const from = $('chart-from').value;
      const to = $('chart-to').value;
      if (!from || !to || from > to) {
        $('chart-error').textContent = 'Choose a first day on or before the last day.';
        return;
      }
      period = { from, to };
      r.refreshCharts();
    });
  });
})(typeof window === 'undefined' ? null : (window.refdata = window.refdata || {}));
