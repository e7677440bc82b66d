// Every relative link in README.md and docs/ points at a file that exists and, with a #fragment, at a heading it has.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const pages = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's heading anchors: lower case, punctuation dropped (but `-` and `_`), spaces to `-`. */
function slugOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slugOf(m[1]!)));
}

function linksOf(page: string): Array<{ target: string; fragment: string | null }> {
  const text = fs.readFileSync(path.join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((l) => !/^[a-z]+:/i.test(l))
    .map((l) => {
      const [target, fragment] = l.split('#');
      return { target: target ? path.join(path.dirname(page), target) : page, fragment: fragment ?? null };
    });
}

describe.each(pages.map((p) => [p]))('%s', (page) => {
  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const { target, fragment } of linksOf(page)) {
      const file = path.join(root, target);
      if (!fs.existsSync(file)) broken.push(`${target} (no such file)`);
      else if (fragment && target.endsWith('.md') && !anchorsOf(file).has(fragment)) broken.push(`${target}#${fragment} (no such heading)`);
    }
    expect(broken).toEqual([]);
  });
});

it('finds the links and slugs headings the way GitHub does', () => {
  expect(linksOf('README.md').filter((l) => l.target.startsWith('docs/')).length).toBeGreaterThan(15);
  expect(linksOf('docs/deployment.md')).toContainEqual({ target: 'docs/backup-and-recovery.md', fragment: 'migrations-status-and-rollback' });
  expect(slugOf('Migrations: status and rollback')).toBe('migrations-status-and-rollback');
  expect(slugOf('### `dist.delivery_files`'.replace(/^#+ /, ''))).toBe('distdelivery_files');
  expect(slugOf('Database faults: what is retried and what is not')).toBe('database-faults-what-is-retried-and-what-is-not');
});
