// Shared response schemas (TypeBox) for the API and its OpenAPI document.
import { Type, type Static } from '@sinclair/typebox';

export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }) },
  { $id: 'ErrorBody' },
);
export type ErrorBodyT = Static<typeof ErrorBody>;

export const FileItem = Type.Object({
  id: Type.Integer(),
  fileName: Type.String(),
  filePath: Type.String(),
  status: Type.String(),
  tableName: Type.Union([Type.String(), Type.Null()]),
  loadType: Type.Union([Type.String(), Type.Null()]),
  rowsLoaded: Type.Union([Type.Integer(), Type.Null()]),
  rowsQuarantined: Type.Union([Type.Integer(), Type.Null()]),
  archivedPath: Type.Union([Type.String(), Type.Null()]),
  runId: Type.Union([Type.String(), Type.Null()]),
  workflowId: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  fileSize: Type.Union([Type.Integer(), Type.Null()]),
  fileHash: Type.Union([Type.String(), Type.Null()]),
  isReferenceData: Type.Union([Type.Boolean(), Type.Null()]),
  detectedDelimiter: Type.Union([Type.String(), Type.Null()]),
  detectedHeaders: Type.Union([Type.Array(Type.String()), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  processedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type FileItemT = Static<typeof FileItem>;
