// Every statement that carries a value carries it as a parameter: hostile values never reach the SQL text.
import { describe, expect, it } from 'vitest';
import * as gen from '../../../src/db/mssql/sql';
import type { Statement } from '../../../src/db/mssql/sql';
import * as history from '../../../src/db/mssql/load-history-sql';
import { expectParamsConsistent } from './statement-check';

/** Values an attacker (or an unlucky file name) could supply; each is unique so its presence in text is telling. */
const evil = (tag: string) => `V_${tag}'); DROP TABLE ref.loads; --`;
const table = { schema: 'data', name: 't' };

const statements: [string, Statement][] = [
  ['ensureSchemaSql', gen.ensureSchemaSql(evil('schema'))],
  ['tableExistsSql', gen.tableExistsSql(table)],
  ['describeTableSql', gen.describeTableSql({ schema: evil('ds'), name: evil('dn') })],
  ['deleteLoadRowsSql', gen.deleteLoadRowsSql(table, evil('load'))],
  ['swapSql', gen.swapSql(table, { schema: 'data', name: 's' }, { schema: 'bkp', name: 'b' })],
  ['tablesWithPrefixSql', gen.tablesWithPrefixSql([evil('schema')], evil('prefix'))],
  ['selectLoadSql', gen.selectLoadSql(evil('load'), true)],
  ['insertLoadSql', gen.insertLoadSql({ loadId: evil('id'), target: table, staging: table, mode: 'append', filePath: evil('path'), fileHash: evil('hash') })],
  ['advanceCheckpointSql', gen.advanceCheckpointSql(evil('load'), { rowsCommitted: 11111, byteOffset: 22222 }, { rowsCommitted: 33333, byteOffset: 44444 })],
  ['finishLoadRecordSql', gen.finishLoadRecordSql(evil('load'), { schema: 'bkp', name: evil('backup') })],
  ['abortLoadRecordSql', gen.abortLoadRecordSql(evil('load'))],
  ['revertSwapSql', history.revertSwapSql(table, { schema: 'bkp', name: 'p' }, { schema: 'bkp', name: 'b' })],
  ['laterFullloadSql', history.laterFullloadSql(evil('load'))],
  ['revertLoadRecordSql', history.revertLoadRecordSql(evil('load'))],
  ['findLoadedByHashSql', history.findLoadedByHashSql({ schema: evil('fs'), name: evil('fn') }, evil('hash'))],
  ['listLoadsSql', history.listLoadsSql({ table: evil('table'), status: 'loaded', limit: 77 })],
  ['backupTablesSql', history.backupTablesSql()],
  [
    'insertInvalidRecordsSql',
    gen.insertInvalidRecordsSql([{ source: evil('src'), sourceRef: evil('ref'), recordId: evil('rec'), rowNumber: 13579, rawText: evil('raw'), errors: [evil('err')] }])[0]!,
  ],
  ['migrationAppliedSql', gen.migrationAppliedSql(12345)],
  ['recordMigrationSql', gen.recordMigrationSql(12345, evil('migration'))],
  ['migrationLockSql', gen.migrationLockSql(98765)],
  [
    'upsertTrackingSql',
    gen.upsertTrackingSql({
      filePath: evil('path'), fileName: evil('name'), fileHash: evil('hash'), tableName: evil('table'), detectedDelimiter: evil('delim'),
      detectedHeaders: [evil('h1')], status: 'error', errorMessage: evil('error'), workflowId: evil('wf'), fileSize: 13579, rowsLoaded: 24680,
      processedAt: new Date(0), isReferenceData: true, referenceConfigInserted: true, loadType: 'append',
    }),
  ],
  ['selectTrackingSql(path)', gen.selectTrackingSql({ filePath: evil('path') })],
  ['selectTrackingSql(id)', gen.selectTrackingSql({ id: 424242 })],
  ['listTrackingSql', gen.listTrackingSql({ status: 'error', table: evil('table'), limit: 77 })],
  ['deleteTrackingSql', gen.deleteTrackingSql(evil('path'))],
  ['upsertReferenceConfigSql', gen.upsertReferenceConfigSql({ table: { schema: evil('s'), name: evil('n') }, sourceFile: evil('src'), loadType: 'fullload', keyColumn: evil('key') })],
];

describe('generated statements take values only as parameters', () => {
  it.each(statements)('%s: every @reference is bound and every binding is used', (_, stmt) => {
    expectParamsConsistent(stmt);
  });

  it.each(statements)('%s: no bound value appears in the text', (_, stmt) => {
    // Identifier-valued params (sp_rename's names, OBJECT_ID's path) are built by us from quoted names, not file values.
    const values = Object.values(stmt.params).map((p) => p.value);
    for (const v of values) if (typeof v === 'string' && v.startsWith('V_')) expect(stmt.text).not.toContain(v);
    expect(stmt.text).not.toContain('V_');
    expect(stmt.text).not.toContain('DROP TABLE ref.loads');
    expect(stmt.text).not.toMatch(/\b(13579|24680|424242|12345|98765|77|11111|22222|33333|44444)\b/);
  });

  it('a hostile value can only ever be a parameter: the statement text is the same whatever the value', () => {
    const a = gen.upsertTrackingSql({ filePath: 'plain', errorMessage: 'ok' });
    const b = gen.upsertTrackingSql({ filePath: evil('x'), errorMessage: evil('y') });
    expect(b.text).toBe(a.text);
    expect(gen.listTrackingSql({ table: evil('t') }).text).toBe(gen.listTrackingSql({ table: 'x' }).text);
    expect(gen.deleteLoadRowsSql(table, evil('l')).text).toBe(gen.deleteLoadRowsSql(table, 'l').text);
  });
});
