// Reads the numbered migration files of a dialect (`NNN_name.sql`, rollbacks in `NNN_name.down.sql`).
import fs from 'node:fs';
import path from 'node:path';

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  downSql: string | null;
}

export const migrationsRoot = path.resolve(__dirname, '../../sql');

export function readMigrations(dir: string): MigrationFile[] {
  const files = fs.readdirSync(dir).filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f) && !f.endsWith('.down.sql'));
  return files
    .map((f) => {
      const base = f.replace(/\.sql$/, '');
      const down = path.join(dir, `${base}.down.sql`);
      return {
        version: Number(f.slice(0, 3)),
        name: base.slice(4),
        sql: fs.readFileSync(path.join(dir, f), 'utf8'),
        downSql: fs.existsSync(down) ? fs.readFileSync(down, 'utf8') : null,
      };
    })
    .sort((a, b) => a.version - b.version);
}

/** Refuses to run code against a schema that a newer release migrated. */
export function assertNotNewer(applied: number[], known: MigrationFile[]): void {
  const newest = Math.max(0, ...known.map((m) => m.version));
  const ahead = applied.filter((v) => v > newest);
  if (ahead.length > 0) {
    throw new Error(
      `the database schema is at migration ${Math.max(...ahead)} but this release knows only up to ${newest}: run a newer refdata or roll the database back`,
    );
  }
}
