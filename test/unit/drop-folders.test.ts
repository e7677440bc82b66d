// Classification of paths under the drop root, archive naming, and load table names.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { archivePath, classifyPath, dropFolderTree, sanitizeFileName, unarchivedName } from '../../src/drop-folders';
import { backupTableOf, isReservedTable, shadowTableOf } from '../../src/db/load-names';
import { fileWorkflowId } from '../../src/ids';

const root = '/srv/dropoff';

describe('classifyPath', () => {
  it.each([
    ['reference_data_table/fullload/a.csv', true, 'fullload'],
    ['reference_data_table/append/a.CSV', true, 'append'],
    ['none_reference_data_table/fullload/a.csv', false, 'fullload'],
    ['none_reference_data_table/append/a.csv', false, 'append'],
  ] as const)('%s is an input', (rel, referenceData, loadType) => {
    expect(classifyPath(root, path.join(root, rel))).toMatchObject({ kind: 'input', referenceData, loadType, relativePath: rel });
  });

  it.each([
    ['a.csv', /drop root/],
    ['reference_data_table/a.csv', /four leaf folders/],
    ['other/fullload/a.csv', /four leaf folders/],
    ['reference_data_table/fullload/processed/a.csv', /archive/],
    ['reference_data_table/fullload/error/a.csv', /archive/],
    ['reference_data_table/fullload/a.txt', /not a \.csv/],
    ['reference_data_table/fullload/.a.csv', /hidden/],
    ['reference_data_table/fullload/a.csv.part', /partial upload/],
    ['../etc/a.csv', /outside/],
  ])('%s is ignored', (rel, reason) => {
    const c = classifyPath(root, path.join(root, rel));
    expect(c.kind).toBe('ignored');
    expect(c.kind === 'ignored' && c.reason).toMatch(reason);
  });
});

describe('names', () => {
  it('the tree has four leaves, each with processed/ and error/', () => {
    expect(dropFolderTree()).toHaveLength(12);
    expect(dropFolderTree()).toContain('none_reference_data_table/append/error');
  });

  it('archives with a UTC timestamp prefix in the leaf\'s archive folder', () => {
    const p = archivePath('/d/reference_data_table/fullload/x.csv', 'processed', new Date('2024-12-01T10:11:12.345Z'));
    expect(p).toBe('/d/reference_data_table/fullload/processed/20241201T101112Z_x.csv');
  });

  it('an archived name gives back the name the file was dropped with; other names stay as they are', () => {
    const p = archivePath('/d/reference_data_table/fullload/airports_20241201.csv', 'error', new Date('2024-12-01T10:11:12.345Z'));
    expect(unarchivedName(p.split('/').pop()!)).toBe('airports_20241201.csv');
    expect(unarchivedName('20241201_airports.csv')).toBe('20241201_airports.csv');
  });

  it('sanitises hostile and very long file names', () => {
    expect(sanitizeFileName('a\u0000b:c?.csv')).toBe('a_b_c_.csv');
    const long = sanitizeFileName(`${'x'.repeat(250)}.csv`);
    expect(long.length).toBeLessThanOrEqual(180);
    expect(long.endsWith('.csv')).toBe(true);
  });

  it('shadow and backup tables fit in 63 characters and differ per load', () => {
    const t = { schema: 'ref', name: 'x'.repeat(63) };
    expect(shadowTableOf(t, 'load_abc-123').name.length).toBeLessThanOrEqual(63);
    const b = backupTableOf(t, 'load_abc', new Date('2024-12-01T00:00:00Z'));
    expect(b.schema).toBe('bkp');
    expect(b.name.length).toBeLessThanOrEqual(63);
    expect(b.name).toContain('20241201000000');
    expect(isReservedTable('file_monitor_tracking')).toBe(true);
    expect(isReservedTable('airports')).toBe(false);
  });

  it('shadow and backup names of two loads differ when their run ids differ past the shared load_ prefix', () => {
    const t = { schema: 'data', name: 'airports' };
    const [a, b] = ['load_0a1b2c3d-0000-4000-8000-000000000001', 'load_0a1b9999-0000-4000-8000-000000000002'];
    expect(shadowTableOf(t, a).name).toBe('airports__shadow_0a1b2c3d');
    expect(shadowTableOf(t, a).name).not.toBe(shadowTableOf(t, b).name);
    const at = new Date('2024-12-01T00:00:00Z');
    expect(backupTableOf(t, a, at).name).not.toBe(backupTableOf(t, b, at).name);
    expect(backupTableOf(t, `rv${a}`, at).name).toBe('airports__20241201000000_rv0a1b');
  });

  it('workflow ids come from the relative path with forward slashes', () => {
    expect(fileWorkflowId('reference_data_table\\fullload\\a.csv')).toBe('file:reference_data_table/fullload/a.csv');
  });
});
