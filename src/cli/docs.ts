// `refdata docs [api|config|schema…] [--check]`: writes the generated pages under docs/, or checks they are current.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { generatedDocs, repositoryRoot } from '../docs/generated';

export function docsCommand(): Command {
  return new Command('docs')
    .description('generate docs/api-reference.md (OpenAPI), docs/configuration.md (src/config.ts) and docs/database-schema.md (migrations)')
    .argument('[which...]', `some of: ${generatedDocs.map((d) => d.name).join(', ')} (default: all)`)
    .option('--check', 'write nothing; exit 1 when a page differs from what would be generated')
    .action(async (which: string[], opts: { check?: boolean }) => {
      const unknown = which.filter((w) => !generatedDocs.some((d) => d.name === w));
      if (unknown.length) throw new Error(`unknown page(s) ${unknown.join(', ')}; choose from ${generatedDocs.map((d) => d.name).join(', ')}`);
      let stale = 0;
      for (const doc of generatedDocs.filter((d) => which.length === 0 || which.includes(d.name))) {
        const file = path.join(repositoryRoot, doc.file);
        const text = await doc.render();
        const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
        if (current === text) {
          process.stdout.write(`${doc.file}: current\n`);
        } else if (opts.check) {
          stale++;
          process.stdout.write(`${doc.file}: out of date; run \`npm run docs\`\n`);
        } else {
          fs.writeFileSync(file, text);
          process.stdout.write(`${doc.file}: written\n`);
        }
      }
      if (stale) process.exitCode = 1;
    });
}
