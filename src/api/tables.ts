// /api/v1/tables: the tables refdata has loaded (ref and data), with row counts, columns, last load and config row.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Database } from '../db/types';
import { LOADED_SCHEMAS } from '../db/catalog';
import { ErrorBody } from './schemas';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const Column = Type.Object({ name: Type.String(), dataType: Type.String(), nullable: Type.Boolean() });
const LoadSummary = Type.Object({
  loadId: Type.String(), mode: Type.String(), status: Type.String(), rows: Type.Integer(), filePath: Type.String(),
  startedAt: Type.String({ format: 'date-time' }), finishedAt: Nullable(Type.String({ format: 'date-time' })),
});
const ConfigRow = Type.Object({
  id: Type.Integer(),
  table: Type.Object({ schema: Type.String(), name: Type.String() }),
  sourceFile: Nullable(Type.String()), loadType: Nullable(Type.String()), keyColumn: Nullable(Type.String()), isActive: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }), updatedAt: Type.String({ format: 'date-time' }),
});
const TableSummary = Type.Object({
  schema: Type.String(),
  name: Type.String(),
  referenceData: Type.Boolean(),
  rowCount: Type.Integer(),
  columns: Type.Array(Column),
  lastLoad: Type.Union([LoadSummary, Type.Null()]),
  config: Type.Union([ConfigRow, Type.Null()]),
});
const TableDetail = Type.Intersect([
  TableSummary,
  Type.Object({ loads: Type.Array(LoadSummary, { description: 'the latest loads, newest first' }), backups: Type.Array(Type.String(), { description: 'bkp copies, newest first' }) }),
]);

export const tablesPlugin = (deps: { db: Database }): FastifyPluginAsync => async (app) => {
  app.get('/api/v1/tables', {
    schema: {
      tags: ['tables'],
      summary: 'Loaded tables (schemas ref and data) with row counts, columns, last load and reference-config row',
      response: { 200: Type.Object({ items: Type.Array(TableSummary) }) },
    },
  }, async () => ({ items: await deps.db.catalog.listTables() }));

  app.get('/api/v1/tables/:schema/:name', {
    schema: {
      tags: ['tables'],
      summary: 'One loaded table in detail: its recent loads and its backups in schema bkp as well',
      params: Type.Object({ schema: Type.String({ minLength: 1, maxLength: 128 }), name: Type.String({ minLength: 1, maxLength: 128 }) }),
      response: { 200: TableDetail, 404: ErrorBody },
    },
  }, async (req, reply) => {
    const { schema, name } = req.params as { schema: string; name: string };
    const notFound = () => reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no loaded table ${schema}.${name}; GET /api/v1/tables lists them` } });
    if (!(LOADED_SCHEMAS as readonly string[]).includes(schema)) return notFound();
    const table = await deps.db.catalog.getTable({ schema, name });
    return table ?? notFound();
  });
};
