// The generated pages under docs/: which file each is, and how to make it. `refdata docs` writes them; a test compares.
import path from 'node:path';
import { renderApiReference } from './api-reference';
import { renderConfiguration } from './configuration';
import { databaseSchemaMarkdown } from './database-schema';
import { openApiDocument } from './openapi';

export interface GeneratedDoc {
  /** `api`, `config`, `schema`: the argument of `refdata docs`. */
  name: string;
  /** Path under the repository root. */
  file: string;
  render(): Promise<string>;
}

export const generatedDocs: GeneratedDoc[] = [
  { name: 'api', file: 'docs/api-reference.md', render: async () => renderApiReference(await openApiDocument()) },
  { name: 'config', file: 'docs/configuration.md', render: async () => renderConfiguration() },
  { name: 'schema', file: 'docs/database-schema.md', render: databaseSchemaMarkdown },
];

export const repositoryRoot = path.resolve(__dirname, '../..');
