// The one error type for input that cannot be read as a CSV table, with the closed list of codes callers share.

export type CsvErrorCode =
  | 'EMPTY_FILE'
  | 'HEADER_ONLY'
  | 'BINARY_CONTENT'
  | 'COMPRESSED'
  | 'HTML_PAGE'
  | 'MIXED_ENCODING'
  | 'BOM_MISMATCH'
  | 'UNTERMINATED_QUOTE'
  | 'MIXED_LINE_ENDINGS'
  | 'REPEATED_HEADER'
  | 'RAGGED_ROWS'
  | 'DUPLICATE_HEADERS'
  | 'TOO_MANY_COLUMNS'
  | 'FIELD_TOO_LARGE'
  | 'TYPE_CONVERSION'
  | 'INVALID_NAME';

/** Where in the file the problem is; lines and rows are 1-based, rows count data rows after the header. */
export interface CsvErrorLocation {
  line?: number;
  row?: number;
  column?: string;
}

export class CsvFormatError extends Error {
  override readonly name = 'CsvFormatError';

  constructor(
    readonly code: CsvErrorCode,
    message: string,
    readonly location: CsvErrorLocation = {},
  ) {
    super(message);
  }
}

export function isCsvFormatError(error: unknown): error is CsvFormatError {
  return error instanceof CsvFormatError;
}
