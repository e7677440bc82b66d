// The shape of a generated statement: T-SQL text with `@name` references and the typed values bound to them.

export type ParamType = 'nvarchar' | 'int' | 'bigint' | 'bit' | 'datetime2';
export type ParamValue = string | number | boolean | Date | null;
export interface Param {
  type: ParamType;
  value: ParamValue;
}
/** A statement and its named parameters; the text never contains a value, only `@name` references. */
export interface Statement {
  text: string;
  params: Record<string, Param>;
}

export const textParam = (value: string | null): Param => ({ type: 'nvarchar', value });
export const intParam = (value: number | null): Param => ({ type: 'int', value });
export const bigintParam = (value: number | null): Param => ({ type: 'bigint', value });
export const bitParam = (value: boolean | null): Param => ({ type: 'bit', value });
export const datetimeParam = (value: Date | null): Param => ({ type: 'datetime2', value });
