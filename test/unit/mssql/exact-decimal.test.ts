// Decimals go over TDS exactly: scaled with BigInt from their text, laid out as the DECIMALN wire value.
import { describe, expect, it } from 'vitest';
import { EXACT_DECIMAL_TYPE, encodeDecimal, magnitudeBytes, scaleDecimal } from '../../../src/db/mssql/exact-decimal';

/** tedious, as mssql resolves it: its own Decimal is the reference where a double holds the value exactly. */
const tedious = require(require.resolve('tedious', { paths: [require.resolve('mssql')] })) as {
  TYPES: { Decimal: typeof EXACT_DECIMAL_TYPE };
};

const bytes = (p: { value: unknown; precision: number; scale: number }, type = EXACT_DECIMAL_TYPE) =>
  Buffer.concat([type.generateParameterLength(p), ...type.generateParameterData(p)]);

describe('scaleDecimal', () => {
  it.each<[string, number, number, bigint]>([
    ['1.5', 10, 2, 150n],
    ['-1.5', 10, 2, -150n],
    ['0', 5, 0, 0n],
    ['.25', 5, 2, 25n],
    ['7.', 5, 1, 70n],
    ['+3', 5, 0, 3n],
    ['1.005', 10, 2, 101n],
    ['-1.005', 10, 2, -101n],
    ['1.004', 10, 2, 100n],
    ['0.5', 5, 0, 1n],
    ['0.05', 5, 0, 0n],
    ['1e3', 10, 0, 1000n],
    ['1.5E-1', 10, 2, 15n],
    ['5e-1', 5, 0, 1n],
    ['5e-2', 5, 0, 0n],
    ['0.0000', 5, 2, 0n],
    ['12345678901234567890.0123456789', 38, 10, 123456789012345678900123456789n],
    ['99999999999999999999999999999999999999', 38, 0, 10n ** 38n - 1n],
  ])('%s as decimal(%d,%d) is %s', (text, precision, scale, expected) => {
    expect(scaleDecimal(text, precision, scale)).toBe(expected);
  });

  it.each<[string, number, number]>([
    ['1000', 5, 2],
    ['9.995', 3, 2],
    ['100000000000000000000000000000000000000', 38, 0],
    ['1e999999999', 38, 0],
  ])('%s does not fit decimal(%d,%d)', (text, precision, scale) => {
    expect(() => scaleDecimal(text, precision, scale)).toThrow(/does not fit/);
  });

  it.each(['', '.', '-', 'abc', '1,5', '1.2.3', '1e'])('%j is not a number', (text) => {
    expect(() => scaleDecimal(text, 10, 2)).toThrow(/not a decimal/);
  });
});

describe('the DECIMALN wire value', () => {
  it.each([
    [1, 4],
    [9, 4],
    [10, 8],
    [19, 8],
    [20, 12],
    [28, 12],
    [29, 16],
    [38, 16],
  ])('precision %d uses %d magnitude bytes', (precision, size) => {
    expect(magnitudeBytes(precision)).toBe(size);
  });

  it('is a sign byte then the magnitude little-endian', () => {
    expect([...encodeDecimal(258n, 5)]).toEqual([1, 2, 1, 0, 0]);
    expect([...encodeDecimal(-258n, 5)]).toEqual([0, 2, 1, 0, 0]);
    expect(encodeDecimal(2n ** 96n, 38).subarray(13, 14)[0]).toBe(1);
  });

  it.each<[string, number, number]>([
    ['1.5', 5, 2],
    ['-123.45', 9, 2],
    ['12345678.9', 18, 4],
    ['-0.0001', 19, 4],
    ['42', 28, 0],
    ['3.25', 38, 6],
  ])('matches tedious Decimal byte for byte where a double is exact: %s decimal(%d,%d)', (value, precision, scale) => {
    const p = { value, precision, scale };
    expect(bytes(p)).toEqual(bytes({ ...p, value: Number(value) }, tedious.TYPES.Decimal));
    expect(EXACT_DECIMAL_TYPE.generateTypeInfo(p)).toEqual(tedious.TYPES.Decimal.generateTypeInfo(p));
    expect(EXACT_DECIMAL_TYPE.declaration(p)).toBe(tedious.TYPES.Decimal.declaration(p));
  });

  it('keeps the digits a double would lose', () => {
    const p = { value: '1234567890123456789.12', precision: 38, scale: 2 };
    const scaled = bytes(p).subarray(2).reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
    expect(scaled).toBe(123456789012345678912n);
  });

  it('sends NULL as a zero length and validates text', () => {
    expect([...bytes({ value: null, precision: 10, scale: 2 })]).toEqual([0]);
    expect(EXACT_DECIMAL_TYPE.validate(null)).toBeNull();
    expect(EXACT_DECIMAL_TYPE.validate('1.5')).toBe('1.5');
    expect(() => EXACT_DECIMAL_TYPE.validate('x')).toThrow(TypeError);
  });
});
