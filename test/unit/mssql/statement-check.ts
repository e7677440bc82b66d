// Test helpers: what a generated statement references, and a reader for bracket-quoted identifiers.
import type { Statement } from '../../../src/db/mssql/sql';

/** `@name`s the text reads as values: not procedure argument names (`@objname =`) nor its own DECLAREd variables. */
export function referencedParams(text: string): Set<string> {
  const declared = new Set([...text.matchAll(/DECLARE\s+@(\w+)/gi)].map((m) => m[1]!.toLowerCase()));
  const refs = new Set<string>();
  for (const m of text.matchAll(/@(\w+)\b(?!\s*=(?!=))/g)) {
    const name = m[1]!.toLowerCase();
    if (!declared.has(name)) refs.add(name);
  }
  return refs;
}

/** Every reference is bound and every binding is used. */
export function expectParamsConsistent(stmt: Statement): void {
  const refs = [...referencedParams(stmt.text)].sort();
  const bound = Object.keys(stmt.params).map((k) => k.toLowerCase()).sort();
  if (JSON.stringify(refs) !== JSON.stringify(bound)) {
    throw new Error(`parameters differ: text uses [${refs.join(', ')}], bound are [${bound.join(', ')}]\n${stmt.text}`);
  }
}

/**
 * Reads one bracket-quoted identifier at the start of `text` the way SQL Server does (`]]` is a literal `]`,
 * a single `]` ends it) and returns the name and what follows.
 */
export function readBracketed(text: string): { name: string; rest: string } {
  if (!text.startsWith('[')) throw new Error('not a bracketed identifier');
  let name = '';
  for (let i = 1; i < text.length; i++) {
    if (text[i] === ']') {
      if (text[i + 1] === ']') {
        name += ']';
        i++;
        continue;
      }
      return { name, rest: text.slice(i + 1) };
    }
    name += text[i];
  }
  throw new Error('unterminated identifier');
}
