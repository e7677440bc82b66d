// The generated pages under docs/ are what their generators write now: a route, setting or migration changed without
// `npm run docs` fails here. The generators read the real sources: the API built without listening, the config, the
// embedded PostgreSQL after every migration and the SQL Server migration files.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedDocs, repositoryRoot } from '../../src/docs/generated';
import { openApiDocument } from '../../src/docs/openapi';
import { mssqlSchemaFrom } from '../../src/docs/database-schema';

describe.each(generatedDocs.map((d) => [d.file, d] as const))('%s', (file, doc) => {
  it('is current (else run `npm run docs` and commit the result)', async () => {
    const committed = fs.readFileSync(path.join(repositoryRoot, file), 'utf8');
    const generated = await doc.render();
    expect(committed, `${file} is out of date: run \`npm run docs\``).toBe(generated);
    // Deterministic: a second rendering is byte-identical.
    expect(await doc.render()).toBe(generated);
  });
});

describe('what the generated pages say', () => {
  it('the API reference has every operation of the OpenAPI document, with the roles its key check admits', async () => {
    const api = fs.readFileSync(path.join(repositoryRoot, 'docs/api-reference.md'), 'utf8');
    const openapi = await openApiDocument();
    for (const [p, methods] of Object.entries(openapi.paths)) {
      for (const m of Object.keys(methods)) expect(api).toContain(`### ${m.toUpperCase()} \`${p}\``);
    }
    expect(openapi.paths['/api/v1/reporting/deliver']!.post!['x-roles']).toEqual(['admin', 'operator']);
    expect(api).toMatch(/### POST `\/api\/v1\/reporting\/deliver`[\s\S]*?Auth: `Authorization: Bearer <key>` of role `admin`, `operator`\./);
    expect(api).toMatch(/### GET `\/health`[\s\S]*?Auth: none \(open\)\./);
  });

  it('the schema reference gives every PostgreSQL column its SQL Server type', () => {
    const schema = fs.readFileSync(path.join(repositoryRoot, 'docs/database-schema.md'), 'utf8');
    expect(schema).not.toMatch(/\| — \|/);
    expect(schema).toContain('| `files_removed_at` | timestamp with time zone | datetime2 | yes |  |');
  });

  it('reads SQL Server columns from CREATE TABLE bodies and from guarded or multi-column ALTER TABLE … ADD', () => {
    const ms = mssqlSchemaFrom([
      'CREATE TABLE dist.t (\n  id bigint IDENTITY(1,1) NOT NULL CONSTRAINT pk_t PRIMARY KEY,\n  [trigger] nvarchar(20) NOT NULL,\n  CONSTRAINT ck_t CHECK (id > 0)\n);\nCREATE INDEX ix_t ON dist.t (id) WHERE id IS NULL;',
      "IF COL_LENGTH(N'dist.t', N'a') IS NULL\n  ALTER TABLE dist.t ADD a datetime2 NULL;\nALTER TABLE dist.t ADD\n  b nvarchar(20) NOT NULL CONSTRAINT df_b DEFAULT N'x'\n    CONSTRAINT ck_b CHECK (b IN (N'x')),\n  c int NULL;\nALTER TABLE dist.t ADD CONSTRAINT ck_c CHECK (c > 0);",
    ]);
    expect(Object.fromEntries(ms.columns.get('dist.t')!)).toEqual({ id: 'bigint NOT NULL', trigger: 'nvarchar(20) NOT NULL', a: 'datetime2', b: 'nvarchar(20) NOT NULL', c: 'int' });
    expect(Object.fromEntries(ms.indexes.get('dist.t')!)).toEqual({ ix_t: '(id) WHERE id IS NULL' });
  });
});
