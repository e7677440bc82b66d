// docs/api-reference.md from the OpenAPI document: every operation with its roles, parameters, body and responses. Pure.
import type { JsonSchema, OpenApiDocument, OpenApiOperation } from './openapi';
import { generatedNotice } from './notice';

const METHOD_ORDER = ['get', 'post', 'put', 'patch', 'delete'];

/** One line of a Markdown table cell: pipes escaped, whitespace folded. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

function refName(ref: string, doc: OpenApiDocument): string {
  const key = ref.replace('#/components/schemas/', '');
  const title = doc.components?.schemas?.[key]?.title;
  return typeof title === 'string' ? title : key;
}

/** A schema's type in one phrase: `string`, `integer`, `"A" \| "B"`, `object`, `string[]`, `ErrorBody`. */
export function typeOf(s: JsonSchema, doc: OpenApiDocument): string {
  if (typeof s.$ref === 'string') return refName(s.$ref, doc);
  const alternatives = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (alternatives) return alternatives.map((a) => typeOf(a, doc)).join(' | ');
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const type = Array.isArray(s.type) ? s.type.join(' | ') : typeof s.type === 'string' ? s.type : s.properties ? 'object' : 'any';
  if (type === 'array' && s.items) {
    const item = typeOf(s.items as JsonSchema, doc);
    return item.includes('|') ? `(${item})[]` : `${item}[]`;
  }
  return `${type}${s.nullable ? ' | null' : ''}`;
}

/** Constraints and description, as people read them. */
function notesOf(s: JsonSchema): string {
  const notes: string[] = [];
  if (typeof s.description === 'string') notes.push(s.description);
  if (s.minLength !== undefined || s.maxLength !== undefined) notes.push(`length ${s.minLength ?? 0}–${s.maxLength ?? '∞'}`);
  if (s.minimum !== undefined || s.maximum !== undefined) notes.push(`${s.minimum ?? '−∞'} ≤ value ≤ ${s.maximum ?? '∞'}`);
  if (s.minItems !== undefined || s.maxItems !== undefined) notes.push(`${s.minItems ?? 0}–${s.maxItems ?? '∞'} items`);
  if (typeof s.pattern === 'string') notes.push(`pattern \`${s.pattern}\``);
  if (typeof s.format === 'string') notes.push(`format ${s.format}`);
  if (s.default !== undefined) notes.push(`default \`${JSON.stringify(s.default)}\``);
  return notes.join('; ');
}

interface FieldRow {
  name: string;
  type: string;
  required: boolean;
  notes: string;
}

/** An object's fields, nested objects and arrays of objects flattened with dotted names (`report.file_path`, `items[].id`). */
export function fieldsOf(s: JsonSchema, doc: OpenApiDocument, prefix = '', depth = 0): FieldRow[] {
  const target = s.items && (s.type === 'array' || !s.properties) ? (s.items as JsonSchema) : s;
  const props = target.properties as Record<string, JsonSchema> | undefined;
  if (!props || depth > 4) return [];
  const required = new Set((target.required as string[] | undefined) ?? []);
  const rows: FieldRow[] = [];
  for (const [name, p] of Object.entries(props)) {
    const full = `${prefix}${name}`;
    rows.push({ name: full, type: typeOf(p, doc), required: required.has(name), notes: notesOf(p) });
    if (p.properties) rows.push(...fieldsOf(p, doc, `${full}.`, depth + 1));
    else if (p.type === 'array' && (p.items as JsonSchema | undefined)?.properties) rows.push(...fieldsOf(p.items as JsonSchema, doc, `${full}[].`, depth + 1));
  }
  return rows;
}

function fieldTable(rows: FieldRow[]): string[] {
  if (rows.length === 0) return [];
  return ['| field | type | required | notes |', '| --- | --- | --- | --- |', ...rows.map((r) => `| \`${r.name}\` | ${cell(r.type)} | ${r.required ? 'yes' : 'no'} | ${cell(r.notes)} |`)];
}

/** The shared schema (by title) that `s` repeats inline, if any: @fastify/swagger inlines `$ref`s to added schemas. */
function sharedSchemaOf(s: JsonSchema, doc: OpenApiDocument): string | null {
  const shape = JSON.stringify(s);
  for (const [key, shared] of Object.entries(doc.components?.schemas ?? {})) {
    const { title, ...rest } = shared;
    if (JSON.stringify(rest) === shape) return typeof title === 'string' ? title : key;
  }
  return null;
}

/** How a schema reads under a heading: its type, then its fields when it has any. */
function schemaBlock(s: JsonSchema | undefined, doc: OpenApiDocument): string[] {
  if (!s) return [];
  const shared = sharedSchemaOf(s, doc);
  if (shared) return [`Type: [${shared}](#${shared.toLowerCase()}).`];
  const rows = fieldsOf(s, doc);
  const type = typeOf(s, doc);
  return rows.length ? [...(type === 'object' ? [] : [`Type: ${cell(type)}.`, '']), ...fieldTable(rows)] : [`Type: ${cell(type)}.${notesOf(s) ? ` ${cell(notesOf(s))}` : ''}`];
}

function authOf(op: OpenApiOperation): string {
  const roles = op['x-roles'];
  if (roles?.length) return `\`Authorization: Bearer <key>\` of role ${roles.map((r) => `\`${r}\``).join(', ')}`;
  return op.security?.length ? '`Authorization: Bearer <key>`' : 'none (open)';
}

function operationSection(method: string, path: string, op: OpenApiOperation, doc: OpenApiDocument): string[] {
  const out = [`### ${method.toUpperCase()} \`${path}\``, ''];
  if (op.summary) out.push(op.summary, '');
  if (op.description) out.push(op.description, '');
  out.push(`Auth: ${authOf(op)}.`, '');
  const params = op.parameters ?? [];
  if (params.length) {
    out.push('Parameters:', '', '| in | name | type | required | notes |', '| --- | --- | --- | --- | --- |');
    for (const p of params) out.push(`| ${p.in} | \`${p.name}\` | ${cell(p.schema ? typeOf(p.schema, doc) : 'string')} | ${p.required ? 'yes' : 'no'} | ${cell([p.description, p.schema ? notesOf(p.schema) : ''].filter(Boolean).join('; '))} |`);
    out.push('');
  }
  for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
    out.push(`Request body (\`${type}\`):`, '', ...schemaBlock(media.schema, doc), '');
  }
  out.push('Responses:', '');
  for (const [status, r] of Object.entries(op.responses ?? {})) {
    const media = Object.entries(r.content ?? {});
    out.push(`- **${status}**${r.description ? ` — ${cell(r.description)}` : ''}${media.length ? ` (\`${media.map(([t]) => t).join('`, `')}\`)` : ''}`);
    const schema = media[0]?.[1].schema;
    if (schema) {
      const block = schemaBlock(schema, doc);
      if (block.length) out.push('', ...block.map((l) => (l ? `  ${l}` : l)), '');
    }
  }
  out.push('');
  return out;
}

/** The whole reference: operations grouped by their first tag (in order of first appearance), then shared schemas. */
export function renderApiReference(doc: OpenApiDocument): string {
  const groups = new Map<string, Array<[string, string, OpenApiOperation]>>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods).sort((a, b) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b))) {
      const op = methods[method]!;
      const tag = op.tags?.[0] ?? 'other';
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag)!.push([method, path, op]);
    }
  }
  const count = [...groups.values()].reduce((n, g) => n + g.length, 0);
  const out = [
    '# API reference',
    '',
    generatedNotice('refdata docs api', 'the OpenAPI document the API serves at `/docs/json` (Swagger UI at `/docs`)'),
    '',
    `${doc.info.title} ${doc.info.version}: ${doc.info.description ?? ''} ${count} operations.`,
    '',
    'Keys: the bootstrap admin key (`REFDATA_ADMIN_KEY`) or a stored key of role `admin`, `operator` or `subscriber`',
    '(`refdata keys create`); a subscriber key sees only its own subscriptions and deliveries. Errors answer',
    '`{"error": {"code", "message"}}` (`ErrorBody` below). The WebSocket streams (`/api/v1/events/stream`,',
    '`/api/v1/reporting/stream`) and the dashboard page are not in the OpenAPI document: see [events](events.md),',
    '[reporting](reporting.md) and [operations](operations.md). What each flow does is in the flow\'s own page;',
    'the table, plan and error endpoints are explained in [api-tables-plan-errors](api-tables-plan-errors.md).',
    '',
    '## Contents',
    '',
    ...[...groups.entries()].map(([tag, ops]) => `- ${tag}: ${ops.map(([m, p]) => `${m.toUpperCase()} \`${p}\``).join(', ')}`),
    '',
  ];
  for (const [tag, ops] of groups) {
    out.push(`## ${tag}`, '');
    for (const [method, path, op] of ops) out.push(...operationSection(method, path, op, doc));
  }
  const schemas = Object.entries(doc.components?.schemas ?? {});
  if (schemas.length) {
    out.push('## Shared schemas', '');
    for (const [key, s] of schemas) out.push(`### ${typeof s.title === 'string' ? s.title : key}`, '', ...fieldTable(fieldsOf(s, doc)), '');
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
