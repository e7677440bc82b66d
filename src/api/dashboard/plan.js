// Dashboard "Plan a file": uploads a CSV to POST /api/v1/plan (nothing is loaded) and shows where it would go and,
// for a new table, the existing tables whose columns match it best.
'use strict';
(function (r) {
  const { el } = r;
  const $ = (id) => document.getElementById(id);

  async function plan(file, folder) {
    const [kind, mode] = folder.split('/');
    const query = '?referenceData=' + (kind === 'reference_data_table') + '&loadType=' + encodeURIComponent(mode);
    const body = new FormData();
    body.append('file', file, file.name);
    // No content-type of ours: this body is multipart, which fetch labels itself (with its boundary).
    return r.request('/api/v1/plan' + query, { method: 'POST', body });
  }

  function render(p) {
    const target = p.schema + '.' + p.table;
    const verdict = p.match
      ? [r.status(p.match.percent >= 70 ? 'match' : 'mismatch'), ' ', p.match.percent + ' % of the existing ' + p.match.table]
      : [r.status('new table'), ' ', p.suggestions.length ? 'existing tables with similar columns below: rename the file to load into one' : 'no existing table shares its columns'];
    $('plan-summary').replaceChildren(
      el('div', {}, el('strong', {}, p.file), ' → ', el('code', { class: 'plan-target' }, target), ' (' + p.loadType + ', ' + r.fmtNumber(p.rowCount) + ' rows, ' + p.columns.length + ' columns)'),
      el('div', { class: 'plan-verdict' }, verdict));
    const rows = p.suggestions.map((s) => el('tr', { dataset: { table: s.table } },
      el('td', { class: 'mono' }, s.table),
      el('td', { class: 'num' }, s.percent + ' %'),
      el('td', { class: 'num' }, String(s.matched)),
      el('td', { class: 'wrap' }, s.missing.join(', ') || '–'),
      el('td', { class: 'wrap' }, s.extra.join(', ') || '–')));
    $('plan-suggestions-card').hidden = p.match !== null;
    r.fillTable($('plan-suggestions'), rows, 'No loaded table shares a column with this file.', 5);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('plan-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const file = $('plan-file').files[0];
      $('plan-error').textContent = '';
      if (!file) {
        $('plan-error').textContent = 'Choose a CSV file first.';
        return;
      }
      $('plan-summary').replaceChildren('Planning…');
      const res = await plan(file, $('plan-folder').value);
      if (res.status !== 200) {
        $('plan-summary').replaceChildren();
        $('plan-suggestions-card').hidden = true;
        $('plan-error').textContent = (res.body && res.body.error && res.body.error.message) || 'The API answered ' + res.status + '.';
        return;
      }
      render(res.body);
    });
  });
})(window.refdata);
