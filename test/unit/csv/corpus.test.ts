// Detection accuracy over a seeded corpus of varied generated files, and of the header shapes that used to read wrong.
import { describe, expect, it } from 'vitest';
import { type CsvPlan, buildPlan, decode } from '../../../src/csv';
import { type GeneratedFile, generateFile } from './corpus-generator';
import { HARD_KINDS, generateHardFile } from './corpus-hard-cases';

const ORDINARY_FILES = 300;
/** Numbers as column names (years, numeric codes, dates), headerless files whose first row is text, values with escape sequences: 30 of each kind. */
const HARD_FILES = 210;
const FILES = ORDINARY_FILES + HARD_FILES;

interface Outcome {
  file: GeneratedFile;
  plan: CsvPlan | null;
  error: string | null;
}

function plan(file: GeneratedFile): Outcome {
  try {
    return { file, plan: buildPlan({ fileName: file.name, sample: file.bytes, sampleIsWholeFile: true }), error: null };
  } catch (error) {
    return { file, plan: null, error: error instanceof Error ? error.message : String(error) };
  }
}

/** A one-column file has no delimiter to find: any choice that keeps each row one field is right. */
function isDelimiterRight({ file, plan: p }: Outcome): boolean {
  if (!p) return false;
  if (file.columns === 1) return p.columns.length === 1 && p.rowCountEstimate === file.rows;
  return p.delimiter === file.delimiter;
}

/** windows-1252 and latin1 agree outside 0x80–0x9F, and ASCII is all of them: right means the text comes back. */
function isEncodingRight({ file, plan: p }: Outcome): boolean {
  return p !== null && decode(file.bytes, p.encoding) === file.text;
}

const share = (outcomes: Outcome[], test: (o: Outcome) => boolean): number =>
  (100 * outcomes.filter(test).length) / outcomes.length;

describe('detection accuracy on a generated corpus', () => {
  const outcomes = [
    ...Array.from({ length: ORDINARY_FILES }, (_, i) => plan(generateFile(1000 + i))),
    ...Array.from({ length: HARD_FILES }, (_, i) => plan(generateHardFile(5000 + i))),
  ];
  const hard = outcomes.slice(ORDINARY_FILES);
  const accuracy = {
    delimiter: share(outcomes, isDelimiterRight),
    header: share(outcomes, (o) => o.plan?.hasHeader === o.file.hasHeader),
    encoding: share(outcomes, isEncodingRight),
    encodingLabel: share(outcomes, (o) => o.plan?.encoding === o.file.encoding),
    rowCount: share(outcomes, (o) => o.plan?.rowCountEstimate === o.file.rows),
    preamble: share(outcomes, (o) => o.plan?.preambleLines === o.file.preambleLines),
    planned: share(outcomes, (o) => o.plan !== null),
  };
  const misses = outcomes.filter((o) => !isDelimiterRight(o) || o.plan?.hasHeader !== o.file.hasHeader || o.plan?.rowCountEstimate !== o.file.rows);
  console.log(`corpus of ${FILES} files, accuracy %:`, Object.fromEntries(Object.entries(accuracy).map(([k, v]) => [k, Number(v.toFixed(1))])));
  for (const miss of misses.slice(0, 10)) {
    const { file, plan: p, error } = miss;
    console.log(`  miss ${file.name}: want ${JSON.stringify([file.delimiter, file.quote, file.hasHeader, file.rows, file.preambleLines])}`,
      p ? `got ${JSON.stringify([p.delimiter, p.quote, p.hasHeader, p.rowCountEstimate, p.preambleLines])}` : `error ${error}`);
  }

  it('finds the delimiter of at least 97 % of files', () => expect(accuracy.delimiter).toBeGreaterThanOrEqual(97));
  it('tells header from data in at least 97 % of files', () => expect(accuracy.header).toBeGreaterThanOrEqual(97));
  it.each(HARD_KINDS)('tells header from data in at least 95 of every 100 %s files', (kind) => {
    const ofKind = hard.filter((o) => o.file.name.startsWith(`hard_${kind}_`));
    expect(ofKind).toHaveLength(HARD_FILES / HARD_KINDS.length);
    expect(share(ofKind, (o) => o.plan?.hasHeader === o.file.hasHeader)).toBeGreaterThanOrEqual(95);
  });
  it('decodes at least 95 % of files correctly', () => expect(accuracy.encoding).toBeGreaterThanOrEqual(95));
  it('counts the rows of at least 98 % of files exactly', () => expect(accuracy.rowCount).toBeGreaterThanOrEqual(98));
});
