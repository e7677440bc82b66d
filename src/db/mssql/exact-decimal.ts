// An exact decimal for the TDS bulk API: the driver's own Decimal goes through a double and loses digits past ~15.
import type sql from 'mssql';

/** TDS type ids: DECIMAL is declared, DECIMALN (nullable) is what goes in the column metadata. */
const DECIMAL_ID = 0x37;
const DECIMALN_ID = 0x6a;
const NULL_LENGTH = Buffer.from([0x00]);

const DECIMAL_TEXT = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Bytes of the magnitude on the wire: 4, 8, 12 or 16 by precision, as TDS lays decimals out. */
export function magnitudeBytes(precision: number): number {
  return precision <= 9 ? 4 : precision <= 19 ? 8 : precision <= 28 ? 12 : 16;
}

/**
 * The decimal text as an integer scaled by 10^scale, rounded half away from zero as SQL Server rounds a
 * conversion. Throws when the text is not a number or does not fit decimal(precision, scale).
 */
export function scaleDecimal(text: string, precision: number, scale: number): bigint {
  const m = DECIMAL_TEXT.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`'${text}' is not a decimal number`);
  const [, sign, whole = '', fraction = '', exponent = '0'] = m;
  const digits = whole + fraction;
  // Position of the decimal point within `digits` after scaling by 10^scale.
  const point = whole.length + Number(exponent) + scale;
  const firstSignificant = digits.search(/[1-9]/);
  // Checked before padding, so an exponent like 1e999999999 is refused instead of allocating its zeros.
  if (firstSignificant !== -1 && point - firstSignificant > precision) throw new Error(`${text.trim()} does not fit decimal(${precision},${scale})`);
  let magnitude: bigint;
  if (firstSignificant === -1 || point < 0) {
    magnitude = 0n;
  } else if (point === 0) {
    // Only the first dropped digit decides rounding.
    magnitude = Number(digits[0]) >= 5 ? 1n : 0n;
  } else {
    const kept = digits.slice(0, point).padEnd(point, '0');
    magnitude = BigInt(kept);
    if (digits.length > point && Number(digits[point]) >= 5) magnitude += 1n;
  }
  if (magnitude >= 10n ** BigInt(precision)) throw new Error(`${text.trim()} does not fit decimal(${precision},${scale})`);
  return sign === '-' ? -magnitude : magnitude;
}

interface BulkParameter {
  value: unknown;
  precision?: number;
  scale?: number;
}

/** Sign byte (1 = positive) then the magnitude little-endian: the TDS DECIMALN value. */
export function encodeDecimal(scaled: bigint, precision: number): Buffer {
  const size = magnitudeBytes(precision);
  const buffer = Buffer.alloc(1 + size);
  buffer.writeUInt8(scaled < 0n ? 0 : 1, 0);
  let rest = scaled < 0n ? -scaled : scaled;
  for (let i = 0; i < size; i++) {
    buffer.writeUInt8(Number(rest & 0xffn), 1 + i);
    rest >>= 8n;
  }
  return buffer;
}

const precisionOf = (p: BulkParameter) => p.precision ?? 18;
const scaleOf = (p: BulkParameter) => p.scale ?? 0;

/**
 * A tedious data type (the shape tedious's own Decimal has) that writes the scaled integer computed with BigInt.
 * mssql hands any type object it does not know straight to tedious, which calls exactly these members.
 */
const exactDecimalType = {
  id: DECIMAL_ID,
  type: 'DECIMAL',
  name: 'Decimal',
  declaration(parameter: BulkParameter): string {
    return `decimal(${precisionOf(parameter)}, ${scaleOf(parameter)})`;
  },
  resolvePrecision: precisionOf,
  resolveScale: scaleOf,
  generateTypeInfo(parameter: BulkParameter): Buffer {
    return Buffer.from([DECIMALN_ID, 1 + magnitudeBytes(precisionOf(parameter)), precisionOf(parameter), scaleOf(parameter)]);
  },
  generateParameterLength(parameter: BulkParameter): Buffer {
    return parameter.value == null ? NULL_LENGTH : Buffer.from([1 + magnitudeBytes(precisionOf(parameter))]);
  },
  *generateParameterData(parameter: BulkParameter): Generator<Buffer, void> {
    if (parameter.value == null) return;
    yield encodeDecimal(scaleDecimal(String(parameter.value), precisionOf(parameter), scaleOf(parameter)), precisionOf(parameter));
  },
  validate(value: unknown): string | null {
    if (value == null) return null;
    const text = String(value);
    if (!DECIMAL_TEXT.test(text.trim())) throw new TypeError(`'${text}' is not a decimal number`);
    return text;
  },
};

/** Column type for mssql's bulk Table: decimal(precision, scale) carried exactly from its text. */
export function exactDecimal(precision: number, scale: number): sql.ISqlType {
  return { type: exactDecimalType, precision, scale } as sql.ISqlType;
}

export const EXACT_DECIMAL_TYPE = exactDecimalType;
