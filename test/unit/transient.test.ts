// Database faults sorted into transient (retry), data (do not retry) and other, for both dialects' error shapes.
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { classifyDbError, failureForDbError, isTransientDbError } from '../../src/db/transient';
import { DataError } from '../../src/db/types';

const pg = (code: string, message = 'pg error') => Object.assign(new Error(message), { code });
const ms = (number: number, message = 'mssql error') => Object.assign(new Error(message), { code: 'EREQUEST', number });
const node = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('classifyDbError', () => {
  it.each([
    ['PostgreSQL deadlock 40P01', pg('40P01'), 'deadlock'],
    ['PostgreSQL serialization failure 40001', pg('40001'), 'serialization failure'],
    ['admin shutdown 57P01 (pg_terminate_backend)', pg('57P01'), 'server shut down the connection (admin shutdown)'],
    ['crash shutdown 57P02', pg('57P02'), 'server crashed (crash shutdown)'],
    ['cannot connect now 57P03', pg('57P03'), 'server not accepting connections yet'],
    ['connection exception class 08', pg('08006'), 'connection exception'],
    ['too many clients 53300', pg('53300'), 'server out of resources (connections, memory or disk)'],
    ['SQL Server deadlock victim 1205', ms(1205), 'deadlock'],
    ['SQL Server lock timeout 1222', ms(1222), 'lock request timeout'],
    ['SQL Server request timeout -2', ms(-2), 'timeout'],
    ['ECONNRESET', node('ECONNRESET'), 'connection lost or refused'],
    ['ECONNREFUSED', node('ECONNREFUSED'), 'connection lost or refused'],
    ['EPIPE', node('EPIPE'), 'connection lost or refused'],
    ['tedious socket error', Object.assign(new Error('Connection lost - read ECONNRESET'), { code: 'ESOCKET' }), 'connection lost or refused'],
    ['node-pg lost connection', new Error('Connection terminated unexpectedly'), 'connection lost'],
    ['node-pg dead client', new Error('Client has encountered a connection error and is not queryable'), 'connection lost'],
    ['pg-pool exhausted', new Error('timeout exceeded when trying to connect'), 'pool exhausted (no connection within the timeout)'],
    ['mssql pool exhausted', Object.assign(new Error('Failed to acquire a connection from the pool: operation timed out'), { name: 'TimeoutError' }), 'pool exhausted (no connection within the timeout)'],
  ])('%s is transient', (_name, err, reason) => {
    expect(classifyDbError(err)).toMatchObject({ kind: 'transient', reason });
    expect(isTransientDbError(err)).toBe(true);
  });

  it.each([
    ['invalid text representation 22P02', pg('22P02')],
    ['value too long 22001', pg('22001')],
    ['numeric overflow 22003', pg('22003')],
    ['unique violation 23505', pg('23505')],
    ['too many columns 54011', pg('54011')],
    ['SQL Server truncation 8152', ms(8152)],
    ['SQL Server truncation 2628', ms(2628)],
    ['SQL Server conversion 245', ms(245)],
    ['SQL Server duplicate key 2627', ms(2627)],
    ['our own DataError', new DataError('bad value', '22P02', 7, 'price')],
  ])('%s is a data fault', (_name, err) => {
    expect(classifyDbError(err).kind).toBe('data');
    expect(isTransientDbError(err)).toBe(false);
  });

  it.each([
    ['undefined table 42P01', pg('42P01')],
    ['permission denied 42501', pg('42501')],
    ['SQL Server invalid object 208', ms(208)],
    ['a plain Error', new Error('something else')],
    ['a string', 'boom'],
    ['null', null],
  ])('%s is neither', (_name, err) => {
    expect(classifyDbError(err).kind).toBe('other');
  });

  it('looks through cause and mssql originalError', () => {
    expect(classifyDbError(new Error('wrapped', { cause: pg('40P01') })).reason).toBe('deadlock');
    const requestError = Object.assign(new Error('Transaction (Process ID 52) was deadlocked'), { code: 'EREQUEST', originalError: Object.assign(new Error('x'), { number: 1205 }) });
    expect(classifyDbError(requestError).kind).toBe('transient');
  });
});

describe('failureForDbError', () => {
  it('turns a data fault into a non-retryable InvalidFile failure that keeps the location', () => {
    const f = failureForDbError(new DataError('invalid input syntax for type integer: "x"', '22P02', 12, 'qty'));
    expect(f).toBeInstanceOf(ApplicationFailure);
    const af = f as ApplicationFailure;
    expect(af.nonRetryable).toBe(true);
    expect(af.type).toBe('InvalidFile');
    expect(af.message).toMatch(/invalid value.*invalid input syntax/);
    expect(af.details?.[0]).toMatchObject({ code: '22P02', line: 12, column: 'qty' });
  });

  it('leaves transient faults, unknown errors and ApplicationFailures as they are', () => {
    const transient = pg('40P01');
    expect(failureForDbError(transient)).toBe(transient);
    const other = new Error('other');
    expect(failureForDbError(other)).toBe(other);
    const af = ApplicationFailure.nonRetryable('x', 'SchemaMismatch');
    expect(failureForDbError(af)).toBe(af);
  });
});
