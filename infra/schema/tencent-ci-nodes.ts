import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPEATABLE_NODES } from '../../lib/sources/tencent-ci/repeatable-nodes.ts';
import { SERVICE_DIR } from '../local/service-config.ts';

/** The Tencent CI data schema, hand-written but for the parts {@link repeatableNodeDefs} fills in. */
export const TENCENT_CI_SCHEMA_FILE = join(SERVICE_DIR, 'events', 'tencent-ci.schema.json');

type Json = Record<string, unknown>;

const ref = (path: string): Json => ({ $ref: `#/$defs/${path}` });

/**
 * The JSON Schema of the repeatable CI nodes (lib/sources/tencent-ci/repeatable-nodes.ts), so that
 * the shipped schema says what the code does: `ciNode` is any CI node, whose child named like a
 * parent in the table is `values/<parent>`: text, a list of such, or `nodes/<parent>`, a node whose
 * repeatable children are arrays (of text where the SDK declares `[]string`; in text moderation
 * results a category's `Keywords` may be one text).
 */
export function repeatableNodeDefs(): { ciNode: Json; nodes: Json; values: Json } {
  const children = new Map<string, Map<string, Json>>();
  const parents = new Set(REPEATABLE_NODES.flatMap((node) => node.parents));
  for (const node of REPEATABLE_NODES) {
    const items = node.text ? { type: 'string' } : parents.has(node.name) ? ref(`values/${node.name}`) : ref('ciValue');
    const list: Json = node.textInTextResults
      ? {
          description: 'A list; one comma-separated text in text moderation results (ReviewText, web page TextResults).',
          type: ['array', 'string'],
          items,
        }
      : { type: 'array', items };
    for (const parent of node.parents) {
      const entries = children.get(parent) ?? new Map<string, Json>();
      entries.set(node.name, list);
      children.set(parent, entries);
    }
  }
  const sorted = [...children.keys()].sort();
  const nodes: Json = {};
  const values: Json = {};
  for (const parent of sorted) {
    const entries = [...(children.get(parent) ?? new Map<string, Json>())].sort(([a], [b]) => (a < b ? -1 : 1));
    nodes[parent] = { allOf: [ref('ciNode'), { type: 'object', properties: Object.fromEntries(entries) }] };
    values[parent] = {
      anyOf: [{ type: 'string' }, { type: 'array', items: ref(`values/${parent}`) }, ref(`nodes/${parent}`)],
    };
  }
  const ciNode: Json = {
    description: 'A CI node as received; a child named like a parent of repeatable nodes follows values/<name>.',
    type: 'object',
    properties: Object.fromEntries(sorted.map((parent) => [parent, ref(`values/${parent}`)])),
    additionalProperties: ref('ciValue'),
  };
  return { ciNode, nodes, values };
}

/** The schema file's text with the generated parts as {@link repeatableNodeDefs} makes them now. */
export function tencentCiSchemaText(current: string): string {
  const schema: unknown = JSON.parse(current);
  if (typeof schema !== 'object' || schema === null || !('$defs' in schema)) {
    throw new Error(`${TENCENT_CI_SCHEMA_FILE} has no $defs`);
  }
  const { $defs } = schema;
  if (typeof $defs !== 'object' || $defs === null) throw new Error(`${TENCENT_CI_SCHEMA_FILE}: $defs is not an object`);
  Object.assign($defs, repeatableNodeDefs());
  return `${readable(schema, '')}\n`;
}

/** Two-space JSON, with any object or array that fits in 110 characters on one line. */
function readable(value: unknown, indent: string): string {
  const flat = JSON.stringify(value);
  if (typeof value !== 'object' || value === null || indent.length + flat.length <= 110) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((item) => inner + readable(item, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value).map(([key, item]) => `${inner}${JSON.stringify(key)}: ${readable(item, inner)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(TENCENT_CI_SCHEMA_FILE, tencentCiSchemaText(readFileSync(TENCENT_CI_SCHEMA_FILE, 'utf8')));
  process.stdout.write(`wrote ${TENCENT_CI_SCHEMA_FILE}\n`);
}
