// docs/ingestion.md shows the fault matrix exactly as test/faults/cells.ts defines the cells the fault suite runs,
// so the page cannot promise a cell the suite does not check, or leave one out. REFDATA_UPDATE_DOCS=1 rewrites it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderMatrix } from '../faults/cells';

const page = path.resolve(__dirname, '../../docs/ingestion.md');
const begin = '<!-- fault-matrix:begin (generated from test/faults/cells.ts) -->';
const end = '<!-- fault-matrix:end -->';

describe('the fault matrix in docs/ingestion.md', () => {
  it('is the one test/faults/cells.ts defines', () => {
    const text = fs.readFileSync(page, 'utf8');
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    expect(from, 'docs/ingestion.md lacks the fault-matrix markers').toBeGreaterThanOrEqual(0);
    const generated = `${begin}\n${renderMatrix()}\n${end}`;
    const current = text.slice(from, to + end.length);
    if (current !== generated && process.env.REFDATA_UPDATE_DOCS === '1') {
      fs.writeFileSync(page, text.slice(0, from) + generated + text.slice(to + end.length));
      return;
    }
    expect(current).toBe(generated);
  });
});
