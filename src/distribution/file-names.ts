// How distribution files and runs are named: one function for every file, pure, shared by workflow, activities and API.

export type DistributionKind = 'full' | 'delta';
export type DistributionFileType = 'full' | 'delta' | 'cancellation' | 'invalid' | 'manifest';

/** The built-in dataset; its files carry no dataset part (`20250621_full.csv`). */
export const INSTRUMENTS_DATASET = 'instruments';

const EXTENSIONS: Record<DistributionFileType, 'csv' | 'json'> = {
  full: 'csv',
  delta: 'csv',
  cancellation: 'csv',
  invalid: 'json',
  manifest: 'json',
};

const STEM = /^\d{8}(T\d{6})?$/;
const DATASET = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * `${stem}_${type}.ext` for the instruments, `${stem}_${dataset}_${type}.ext` for another dataset. The stem is the
 * business date (`20250621`), or the date and time of an intraday delta (`20250621T143015`).
 */
export function distributionFileName(stem: string, type: DistributionFileType, dataset: string = INSTRUMENTS_DATASET): string {
  if (!STEM.test(stem)) throw new Error(`file stem ${JSON.stringify(stem)} is not YYYYMMDD or YYYYMMDDTHHmmss`);
  if (!DATASET.test(dataset)) throw new Error(`dataset ${JSON.stringify(dataset)} is not a normalised table name`);
  const ext = EXTENSIONS[type];
  return dataset === INSTRUMENTS_DATASET || type === 'manifest' ? `${stem}_${type}.${ext}` : `${stem}_${dataset}_${type}.${ext}`;
}

/** `2025-06-21` → `20250621`. */
export function compactDate(isoDate: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate)) throw new Error(`${JSON.stringify(isoDate)} is not a yyyy-MM-dd date`);
  return isoDate.replace(/-/g, '');
}

/** The run key, which is also the file stem and the workflow id's tail: the date, and `T` + HHmmss for an intraday delta. */
export function runKeyOf(businessDate: string, suffix?: string | null): string {
  if (suffix != null && !/^\d{6}$/.test(suffix)) throw new Error(`intraday suffix ${JSON.stringify(suffix)} is not HHmmss`);
  return `${compactDate(businessDate)}${suffix ? `T${suffix}` : ''}`;
}

export function isRunKey(value: string): boolean {
  return STEM.test(value);
}

/** What a consumer needs to read the file; the channels send it as the attachment's type. */
export function contentTypeOf(fileName: string): string {
  return fileName.endsWith('.json') ? 'application/json' : 'text/csv; charset=utf-8';
}
