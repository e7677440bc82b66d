import { describe, expect, it } from 'vitest';
import { CALENDAR_DATE_PATTERN } from '../../src/api/date-pattern';

const re = new RegExp(CALENDAR_DATE_PATTERN);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

describe('the calendar date pattern of the API document', () => {
  it('matches every real day of 1900–2099 in both forms, and no day a month does not have', () => {
    let real = 0;
    for (let y = 1900; y <= 2099; y++) {
      for (let m = 1; m <= 12; m++) {
        for (let d = 1; d <= 31; d++) {
          const date = new Date(Date.UTC(y, m - 1, d));
          const exists = date.getUTCMonth() === m - 1;
          if (exists) real++;
          expect(re.test(`${y}-${pad(m)}-${pad(d)}`), `${y}-${pad(m)}-${pad(d)}`).toBe(exists);
          expect(re.test(`${y}${pad(m)}${pad(d)}`), `${y}${pad(m)}${pad(d)}`).toBe(exists);
        }
      }
    }
    expect(real).toBe(73_049);
  });

  it('refuses mixed separators, other centuries and trailing text', () => {
    for (const s of ['2024-0229', '202402-29', '1899-12-31', '2100-01-01', '2024-01-01x', ' 2024-01-01', '2024-1-01', '20240100']) {
      expect(re.test(s), s).toBe(false);
    }
  });
});
