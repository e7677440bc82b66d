// A regular expression for calendar dates that only real days match (2024-02-29 yes, 2025-02-29 and 2025-04-31 no).
// It goes into the OpenAPI document: a client or fuzzer that generates from the schema must never be able to produce a
// date the server then refuses, and the document should say exactly which dates are accepted.

/** Month and day, with `sep` between them: 31-day months, 30-day months, and February up to the 28th. */
function monthDay(sep: string): string {
  return `(0[13578]|1[02])${sep}(0[1-9]|[12][0-9]|3[01])|(0[469]|11)${sep}(0[1-9]|[12][0-9]|30)|02${sep}(0[1-9]|1[0-9]|2[0-8])`;
}

/** Leap years 1900–2099: divisible by four, 1900 not (2000 is). */
const LEAP_YEAR = '(19(0[48]|[2468][048]|[13579][26])|20(0[048]|[2468][048]|[13579][26]))';

/** Days from 1900-01-01 to 2099-12-31 as `yyyy-MM-dd` or `yyyyMMdd`. */
export const CALENDAR_DATE_PATTERN =
  `^((19|20)[0-9]{2}(-(${monthDay('-')})|(${monthDay('')}))|${LEAP_YEAR}(-02-29|0229))$`;

/**
 * A bound of a stats period as src/reporting/stats.ts reads it: a day as yyyy-MM-dd (midnight UTC), or that day with a
 * time and a zone (2025-06-21T10:00:00Z, 2025-06-21T10:00+02:00).
 */
export const RANGE_BOUND_PATTERN =
  `^((19|20)[0-9]{2}-(${monthDay('-')})|${LEAP_YEAR}-02-29)` +
  // \d and (\+|-) instead of [0-9] and [+-] before a group: the docs' link checker reads `](` as a Markdown link.
  '(T([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d{1,9})?)?(Z|(\\+|-)([01]\\d|2[0-3]):?[0-5]\\d))?$';
