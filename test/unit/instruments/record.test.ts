// Validation of one source record: what is accepted, how values are typed, and the reasons given for the rest.
import { describe, expect, it } from 'vitest';
import { categoryOf, instrumentKeyOf, validateRecord } from '../../../src/instruments/record';

const upstox = {
  instrument_key: 'NSE_FO|43919', segment: 'NSE_FO', exchange: 'NSE', instrument_type: 'CE', name: 'NIFTY', trading_symbol: 'NIFTY 19650 CE 15 FEB 24',
  exchange_token: '43919', lot_size: 50, tick_size: 5, freeze_quantity: 1800, expiry: 1708021799000, strike_price: 19650, weekly: true,
  underlying_key: 'NSE_INDEX|Nifty 50',
};

describe('validateRecord', () => {
  it('types an Upstox option: expiry epoch ms read as an Indian date, option type from the instrument type', () => {
    const r = validateRecord(upstox, 1);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.instrument).toMatchObject({
      instrumentKey: 'NSE_FO|43919', expiry: '2024-02-15', strikePrice: 19650, lotSize: 50, tickSize: 5, freezeQuantity: 1800, optionType: 'CE', weekly: true,
      category: 'fno', tradingSymbol: 'NIFTY 19650 CE 15 FEB 24', underlyingKey: 'NSE_INDEX|Nifty 50',
    });
    expect(r.instrument.rowHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(r.instrument.sourceRecord)).toEqual(upstox);
  });

  it.each([
    // epoch ms at 18:30 UTC is already the next day in India
    [1707935400000, '2024-02-15'],
    ['2024-02-29', '2024-02-29'],
    ['1708021799000', '2024-02-15'],
    [null, null],
    ['', null],
  ])('expiry %j → %j', (expiry, want) => {
    const r = validateRecord({ ...upstox, expiry }, 1);
    expect(r.ok && r.instrument.expiry).toBe(want);
  });

  it.each([
    [{ lot_size: 0 }, 'lot_size must be greater than 0, got 0'],
    [{ tick_size: -0.05 }, 'tick_size must be greater than 0, got -0.05'],
    [{ freeze_quantity: 'many' }, 'freeze_quantity must be a number, got "many"'],
    [{ strike_price: '19,650' }, 'strike_price must be a number, got "19,650"'],
    [{ expiry: '2024-02-30' }, 'expiry must be epoch milliseconds or yyyy-MM-dd, got "2024-02-30"'],
    [{ expiry: '15-02-2024' }, 'expiry must be epoch milliseconds or yyyy-MM-dd, got "15-02-2024"'],
    [{ expiry: 1e20 }, 'expiry must be epoch milliseconds or yyyy-MM-dd, got 100000000000000000000'],
    [{ weekly: 'sometimes' }, 'weekly must be true or false, got "sometimes"'],
    [{ lot_size: -75 }, 'lot_size must be greater than 0, got -75'],
    [{ lot_size: '0' }, 'lot_size must be greater than 0, got 0'],
    [{ freeze_quantity: 0.0 }, 'freeze_quantity must be greater than 0, got 0'],
    // Epoch seconds would otherwise be read as a date in January 1970.
    [{ expiry: 1708021799 }, 'expiry 1708021799 is not epoch milliseconds (as milliseconds it is a date before 1973: epoch seconds?); it must be epoch milliseconds or yyyy-MM-dd'],
    [{ expiry: '1708021799' }, 'expiry "1708021799" is not epoch milliseconds (as milliseconds it is a date before 1973: epoch seconds?); it must be epoch milliseconds or yyyy-MM-dd'],
    [{ name: { first: 'NIFTY' } }, 'name must be text, not an object'],
    [{ segment: 'X'.repeat(51) }, 'segment is 51 characters long; at most 50 fit'],
    [{ short_name: 'bad\u0000byte' }, 'the record cannot be stored: a field name or value contains a NUL character or an unpaired UTF-16 surrogate'],
    [{ short_name: 'half \ud83d pair' }, 'the record cannot be stored: a field name or value contains a NUL character or an unpaired UTF-16 surrogate'],
    [{ extra: { nested: 'bad\u0000' } }, 'the record cannot be stored: a value contains a NUL character'],
  ])('%j is invalid: %s', (change, reason) => {
    const r = validateRecord({ ...upstox, ...change }, 7);
    expect(r).toEqual({ ok: false, invalid: expect.objectContaining({ rowNumber: 7, instrumentKey: 'NSE_FO|43919', errors: [reason] }) });
  });

  it('reads numbers and flags given as text, and null fields as absent', () => {
    const r = validateRecord({ ...upstox, lot_size: '75', strike_price: '23400.0', tick_size: ' 5 ', freeze_quantity: '1800.0', weekly: 'False', isin: null, expiry: null }, 1);
    expect(r).toMatchObject({ ok: true, instrument: { lotSize: 75, strikePrice: 23400, tickSize: 5, freezeQuantity: 1800, weekly: false, isin: null, expiry: null } });
    expect(validateRecord({ ...upstox, weekly: 'TRUE' }, 1)).toMatchObject({ ok: true, instrument: { weekly: true } });
  });

  it('a record without a key, or not an object, is invalid and names no instrument', () => {
    expect(validateRecord({ ...upstox, instrument_key: '  ' }, 3)).toMatchObject({ ok: false, invalid: { instrumentKey: null, errors: ['instrument_key is missing'] } });
    expect(validateRecord([1, 2], 4)).toMatchObject({ ok: false, invalid: { errors: ['the record is not an object'], rawText: '[1,2]' } });
  });

  it('reads a Kite CSV row: text numbers, tradingsymbol, strike, and a key from exchange and instrument_token', () => {
    const kite = { instrument_token: '12345', exchange_token: '48', tradingsymbol: 'NIFTY24FEB19650CE', name: 'NIFTY', last_price: '0', expiry: '2024-02-15', strike: '19650.0', tick_size: '0.05', lot_size: '50', instrument_type: 'CE', segment: 'NFO-OPT', exchange: 'NFO' };
    const r = validateRecord(kite, 1);
    expect(r.ok && r.instrument).toMatchObject({ instrumentKey: 'NFO|12345', tradingSymbol: 'NIFTY24FEB19650CE', strikePrice: 19650, lotSize: 50, tickSize: 0.05, category: 'fno' });
  });

  it('keeps text that only looks like an escape, and emoji (paired surrogates)', () => {
    expect(validateRecord({ ...upstox, short_name: 'C:\\u0000 dir \u{1F600}' }, 1).ok).toBe(true);
  });

  it('nested values are kept in canonical form (keys sorted at every level)', () => {
    const r = validateRecord({ ...upstox, meta: { z: 1, a: [{ y: 2, b: 3 }] } }, 1);
    expect(r.ok && r.instrument.sourceRecord).toContain('"meta":{"a":[{"b":3,"y":2}],"z":1}');
  });

  it('the row hash ignores key order and last_price, and changes with any other field', () => {
    const hash = (r: Record<string, unknown>) => {
      const v = validateRecord(r, 1);
      return v.ok ? v.instrument.rowHash : null;
    };
    const reordered = Object.fromEntries(Object.entries(upstox).reverse());
    expect(hash(reordered)).toBe(hash(upstox));
    expect(hash({ ...upstox, last_price: 12.5 })).toBe(hash({ ...upstox, last_price: 13 }));
    expect(hash({ ...upstox, lot_size: 75 })).not.toBe(hash(upstox));
    expect(hash({ ...upstox, asset_symbol: 'NIFTY' })).not.toBe(hash(upstox));
  });
});

describe('keys and categories', () => {
  it('prefers instrument_key; a Kite row gets <exchange>|<instrument_token>', () => {
    expect(instrumentKeyOf({ instrument_key: ' NSE_EQ|INE002A01018 ' })).toBe('NSE_EQ|INE002A01018');
    expect(instrumentKeyOf({ instrument_token: 256265, exchange: 'NSE' })).toBe('NSE|256265');
    expect(instrumentKeyOf({ instrument_token: 256265 })).toBeNull();
  });

  it.each([
    ['NSE_FO', 'FUT', 'fno'],
    ['BSE_FO', 'PE', 'fno'],
    ['NFO-OPT', 'CE', 'fno'],
    ['BFO-FUT', 'FUT', 'fno'],
    ['MCX_FO', 'FUT', 'other'],
    ['NSE_EQ', 'EQ', 'equity'],
    ['NSE', 'EQ', 'equity'],
    ['NSE_INDEX', 'INDEX', 'other'],
    ['NSE_FOX', 'FUT', 'other'],
  ])('%s / %s is %s', (segment, type, want) => {
    expect(categoryOf(segment, type)).toBe(want);
  });
});
