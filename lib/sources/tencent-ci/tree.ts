import * as v from 'valibot';
import { isPlainData, plainData } from '../../decode/plain-data.ts';
import type { XmlElement } from '../../decode/xml.ts';
import { bodyIssue, InvalidPayloadError } from '../../errors.ts';
import { invalidPayload } from '../source.ts';
import type { CiNode, CiValue } from './event.ts';
import { REPEATABLE_NODES, TEXT_RESULTS } from './repeatable-nodes.ts';

export type { CiNode, CiValue } from './event.ts';

/** The element name the tree's top level stands for: CI's `<Response>` root. */
const ROOT = 'Response';

/**
 * For each repeatable name, the parents it repeats under, each mapped to whether it is a list in
 * text results too (false: one text there, see `textInTextResults`).
 */
const LISTS: ReadonlyMap<string, ReadonlyMap<string, boolean>> = (() => {
  const lists = new Map<string, Map<string, boolean>>();
  for (const node of REPEATABLE_NODES) {
    const parents = lists.get(node.name) ?? new Map<string, boolean>();
    for (const parent of node.parents) parents.set(parent, node.textInTextResults !== true);
    lists.set(node.name, parents);
  }
  return lists;
})();

const TEXT_EVENT_NAMES: ReadonlySet<string> = new Set(TEXT_RESULTS.eventNames);
const TEXT_NODES: ReadonlySet<string> = new Set(TEXT_RESULTS.nodes);

/** Whether `name` under `parent` is a list (inside text results or not). */
export function isRepeatable(parent: string, name: string, inTextResults: boolean): boolean {
  const everywhere = LISTS.get(name)?.get(parent);
  return everywhere === undefined ? false : everywhere || !inTextResults;
}

/** An empty node: every key plain own data (`__proto__` included), nothing inherited (`decode/plain-data.ts`). */
export function newNode(): CiNode {
  return plainData<CiValue>();
}

/**
 * Brings a decoded value, XML or JSON, to one shape: a JSON number or boolean becomes its text (XML
 * leaves already are text; no text is ever turned into a number), `null` is `""` like XML's `<X/>`,
 * and a repeatable child ({@link REPEATABLE_NODES}) is a list. Recursion is bounded: both decoders
 * refuse nesting deeper than `DECODE_LIMITS.maxDepth`.
 *
 * The XML decoder's elements are already plain data and belong to this callback alone: they are
 * shaped where they are, not copied (a 6 MB body's tree is a few hundred thousand of them). A JSON
 * object is copied into a new node, which drops its prototype.
 */
function shape(value: unknown, name: string, inTextResults: boolean): CiValue {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = shape(value[i], name, inTextResults);
    return value;
  }
  if (typeof value !== 'object' || value === null) return '';
  const within = inTextResults || TEXT_NODES.has(name);
  const node: CiNode = isXmlElement(value) ? value : newNode();
  for (const [key, item] of Object.entries(value)) {
    const child = shape(item, key, within);
    node[key] = isRepeatable(name, key, within) ? listed(child) : child;
  }
  return node;
}

/**
 * Whether a decoded value is an element the XML decoder made: plain data (`decode/plain-data.ts`)
 * whose values are text, elements or lists, which is what a CI node holds too.
 */
function isXmlElement(value: object): value is XmlElement {
  return isPlainData(value);
}

/** A repeatable child as a list: one that came once is a one-item list, an empty one (`<X/>`) none. */
function listed(value: CiValue): CiValue[] {
  if (Array.isArray(value)) return value;
  return value === '' ? [] : [value];
}

/** The own value of `key` on a decoded object, or undefined. */
function own(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key)
    ? Object.getOwnPropertyDescriptor(value, key)?.value
    : undefined;
}

const ENVELOPE_KEYS = ['EventName', 'JobsDetail', 'WorkflowExecution'] as const;

/**
 * The callback's content as one shaped {@link CiNode}: XML's `<Response>` root and the JSON wrapper
 * `{"Response": {...}}` (one doc sample) are unwrapped, so both read like the bare JSON form. Text
 * moderation results (`EventName` `ReviewText`, web page `TextResults`) keep `Keywords` as text.
 */
export function toCiTree(decoded: unknown): CiNode {
  const response = own(decoded, ROOT);
  const wrapped =
    typeof response === 'object' &&
    response !== null &&
    !Array.isArray(response) &&
    ENVELOPE_KEYS.every((key) => own(decoded, key) === undefined);
  const content = wrapped ? response : decoded;
  const eventName = own(content, 'EventName');
  const tree = shape(content, ROOT, typeof eventName === 'string' && TEXT_EVENT_NAMES.has(eventName));
  if (typeof tree === 'string' || Array.isArray(tree)) {
    throw new InvalidPayloadError(WHAT, [bodyIssue(`expected an object, received ${Array.isArray(tree) ? 'an array' : 'text'}`)]);
  }
  return tree;
}

/** Whether a value is text (a leaf), not a node or a list. */
export function isText(value: CiValue): value is string {
  return typeof value === 'string';
}

/** Whether a value is one node, not text or a list. */
export function isNode(value: CiValue): value is CiNode {
  return typeof value === 'object' && !Array.isArray(value);
}

/** A value as a node, or undefined when it is text or a list. */
export function asNode(value: CiValue | undefined): CiNode | undefined {
  return typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

/** A value as a list: undefined is none, a single value one. */
export function asList(value: CiValue | undefined): CiValue[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A value as text, or undefined when it is a node or a list. */
export function asText(value: CiValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * Splits a node in two: the children named (lifted into the event's own fields) and the rest, as
 * received, or undefined when nothing is left. So each value the sender sent is in one place. A
 * child that `accept` refuses (not the shape the event's field takes) stays in the rest.
 */
export function split<const K extends string>(
  node: CiNode | undefined,
  names: readonly K[],
  accept: (value: CiValue) => boolean = () => true,
): { readonly picked: Partial<Record<K, CiValue>>; readonly rest: CiNode | undefined } {
  const picked: Partial<Record<K, CiValue>> = Object.create(null);
  if (!node) return { picked, rest: undefined };
  const rest = newNode();
  let kept = false;
  for (const [key, value] of Object.entries(node)) {
    if (isOneOf(key, names) && accept(value)) {
      picked[key] = value;
    } else {
      rest[key] = value;
      kept = true;
    }
  }
  return { picked, rest: kept ? rest : undefined };
}

/**
 * A copy of a node with one child set to `value` in its place (added last if new), or removed when
 * `value` is undefined; undefined when nothing is left.
 */
export function withChild(node: CiNode | undefined, key: string, value: CiValue | undefined): CiNode | undefined {
  const copy = newNode();
  let kept = false;
  let placed = false;
  for (const [name, child] of Object.entries(node ?? {})) {
    const next = name === key ? value : child;
    placed ||= name === key;
    if (next === undefined) continue;
    copy[name] = next;
    kept = true;
  }
  if (!placed && value !== undefined) {
    copy[key] = value;
    kept = true;
  }
  return kept ? copy : undefined;
}

function isOneOf<const K extends string>(key: string, names: readonly K[]): key is K {
  return (names as readonly string[]).includes(key);
}

/** One upload header of the input object, as every CI event carries it. */
export interface CosHeader {
  readonly key: string;
  readonly value: string;
}

/**
 * `CosHeaders` as `{key, value}` pairs, in order, whatever shape CI sent: job and workflow callbacks
 * send `{Key, Value}` nodes (one, or a list), moderation callbacks a map (`{"x-cos-meta-id": "…"}`).
 * An empty node is skipped.
 */
export function cosHeadersOf(value: CiValue | undefined): CosHeader[] {
  return asList(value).flatMap((item): CosHeader[] => {
    const node = asNode(item);
    if (!node) return [];
    const keys = Object.keys(node);
    if (keys.length === 0) return [];
    if (Object.hasOwn(node, 'Key') && keys.every((key) => key === 'Key' || key === 'Value')) {
      return [{ key: asText(node.Key) ?? '', value: asText(node.Value) ?? '' }];
    }
    return Object.entries(node).map(([key, header]) => ({ key, value: asText(header) ?? '' }));
  });
}

/** What a CI callback is called in error messages. */
export const WHAT = 'tencent-ci callback';

/** Validates a shaped tree; a 422 naming every field that is wrong when it does not pass. */
export function parse<const S extends v.GenericSchema>(schema: S, tree: CiNode): v.InferOutput<S> {
  const result = v.safeParse(schema, tree);
  if (!result.success) throw invalidPayload(WHAT, result.issues);
  return result.output;
}

/** Optional CI text. */
export const Text = v.optional(v.string());
/** A CI id: text that is not empty. */
export const Id = v.pipe(v.string(), v.nonEmpty('expected a non-empty id'));
