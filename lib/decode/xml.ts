import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { MalformedBodyError } from '../errors.ts';
import { DECODE_LIMITS } from './limits.ts';
import { describePosition, positionOf } from './position.ts';

/** A decoded XML value: a leaf's text, an element's children by name, or repeated siblings. */
export type XmlValue = string | XmlElement | XmlValue[];
/** An element with child elements: each child name once; a name that repeats holds a list. */
export interface XmlElement {
  [name: string]: XmlValue;
}

/**
 * Marks a tag name that would clash with an object's built-in keys (`__proto__`, `constructor`,
 * `toString`, ...), which fast-xml-parser refuses or renames. No XML name can contain U+0000, so
 * the mark cannot collide with a real name; it is removed again when the tree is built.
 */
const RESERVED_MARK = '\u0000';
const RESERVED_NAMES = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);
const TEXT = '#text';
const CDATA = '#cdata';

/**
 * fast-xml-parser only tokenizes here: entities are decoded by {@link decodeEntities} (so no
 * DOCTYPE entity can ever expand, and `&amp;lt;` decodes once), values stay text (`0012`,
 * `0xc64847`), and the ordered output lets repeated siblings become lists whatever their order.
 */
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: false,
  cdataPropName: CDATA,
  // The parser calls this twice for a self-closing tag, so it must be idempotent.
  transformTagName: (name) => (RESERVED_NAMES.has(name) ? `${RESERVED_MARK}${name}` : name),
});

/**
 * Decodes an XML body into plain data, hardened for bodies from the internet.
 *
 * - `<!DOCTYPE`, `<!ENTITY` and every other markup declaration are refused before parsing (no
 *   billion laughs, no external entities); only the five XML entities and character references
 *   are decoded.
 * - Nesting deeper than {@link DECODE_LIMITS.maxDepth} is refused by a linear pre-scan, before any
 *   recursive code runs.
 * - Malformed XML is refused with what is wrong and where (line, column). Two or more top-level
 *   elements are read as if wrapped in one `<Response>` (see {@link withImpliedRoot}).
 * - Every leaf is a string, never a number: `<X/>`, `<X></X>` and whitespace-only text are `""`;
 *   attributes, comments and processing instructions are ignored; repeated siblings become a list.
 * - Objects have no prototype, so `__proto__` or `constructor` elements are plain own data.
 */
export function decodeXml(text: string): XmlElement {
  prescan(text);
  const valid = XMLValidator.validate(text);
  let roots = rootsOf(valid === true ? { text, implied: false } : withImpliedRoot(text, valid.err));
  // The validator lets some bodies with several top-level elements through (when the first one is
  // self-closing): the parser then drops any text between them, so they are read again, wrapped.
  if (roots.length > 1) roots = rootsOf(withImpliedRoot(text, undefined));
  const [root] = roots;
  if (roots.length !== 1 || !root) {
    throw new MalformedBodyError(`body is not well-formed XML: expected one root element, found ${roots.length}`, {
      problem: 'xml-roots',
    });
  }
  const { implied } = root;
  if (implied && root.children.some((node) => (textOf(node) ?? '').trim() !== '')) {
    throw new MalformedBodyError('body is not well-formed XML: text between its top-level elements', {
      problem: 'xml-roots',
    });
  }
  const document = newElement();
  document[root.name] = buildValue(root.children);
  return document;
}

/** The top-level elements of well-formed markup, in order. */
function rootsOf(markup: { text: string; implied: boolean }): Array<OrderedElement & { implied: boolean }> {
  let nodes: unknown;
  try {
    nodes = parser.parse(markup.text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MalformedBodyError(`body is not well-formed XML: ${reason}`, { cause: error, problem: 'xml-syntax' });
  }
  const top = Array.isArray(nodes) ? nodes : [];
  return top.flatMap((node) => {
    const element = elementOf(node);
    return element ? [{ ...element, implied: markup.implied }] : [];
  });
}

/** The root a document with several top-level elements is read under (Tencent CI's root). */
export const IMPLIED_ROOT = 'Response';

/** What fast-xml-parser's validator says is wrong, and where. */
type ValidationFault = Exclude<ReturnType<typeof XMLValidator.validate>, true>['err'];

/**
 * The body with its top-level elements inside one {@link IMPLIED_ROOT}, after the XML declaration if
 * there is one: a CI doc page prints a callback without its `<Response>` root. Only a body whose one
 * fault is having several top-level elements is read so (`fault` is the validator's complaint, or
 * undefined when it had none); any other fault is refused with what is wrong and where (line,
 * column of the body as sent).
 */
function withImpliedRoot(text: string, fault: ValidationFault | undefined): { text: string; implied: boolean } {
  if (fault === undefined || fault.msg === 'Multiple possible root nodes found.') {
    const declaration = /^<\?xml\b[\s\S]*?\?>/.exec(text)?.[0] ?? '';
    const wrapped = `${declaration}<${IMPLIED_ROOT}>${text.slice(declaration.length)}</${IMPLIED_ROOT}>`;
    if (XMLValidator.validate(wrapped) === true) return { text: wrapped, implied: true };
  }
  const { msg = 'not well-formed', line = 1, col = 1 } = fault ?? {};
  throw new MalformedBodyError(`body is not well-formed XML: ${msg} (line ${line}, column ${col})`, {
    problem: 'xml-syntax',
    at: { line, column: col },
  });
}

/**
 * One linear pass over the markup, with constant memory: refuses declarations (`<!DOCTYPE`,
 * `<!ENTITY`, ...) and nesting past the limit before the validator or the parser sees the body.
 * Comments, CDATA sections and quoted attribute values are skipped, so their content never counts.
 */
function prescan(text: string): void {
  let depth = 0;
  let i = text.indexOf('<');
  while (i >= 0) {
    let end: number;
    if (text.startsWith('<!--', i)) {
      end = closing(text, '-->', i, 'comment');
    } else if (text.startsWith('<![CDATA[', i)) {
      end = closing(text, ']]>', i, 'CDATA section');
    } else if (text.startsWith('<!', i)) {
      const at = positionOf(text, i);
      throw new MalformedBodyError(
        `XML markup declarations (<!DOCTYPE, <!ENTITY, ...) are refused: one starts at ${describePosition(at)}`,
        { problem: 'xml-declaration', at },
      );
    } else if (text.startsWith('<?', i)) {
      end = closing(text, '?>', i, 'processing instruction');
    } else if (text.startsWith('</', i)) {
      end = closing(text, '>', i, 'end tag');
      depth--;
    } else {
      end = endOfStartTag(text, i);
      if (text.charCodeAt(end - 2) !== 0x2f /* / */ && ++depth > DECODE_LIMITS.maxDepth) {
        const at = positionOf(text, i);
        throw new MalformedBodyError(`body nests deeper than ${DECODE_LIMITS.maxDepth} levels (at ${describePosition(at)})`, {
          problem: 'too-deep',
          at,
        });
      }
    }
    i = text.indexOf('<', end);
  }
}

/** The index just past `terminator`, searched from `start`. */
function closing(text: string, terminator: string, start: number, what: string): number {
  const at = text.indexOf(terminator, start + 2);
  if (at < 0) {
    const position = positionOf(text, start);
    throw new MalformedBodyError(`XML ${what} at ${describePosition(position)} is never closed`, {
      problem: 'xml-syntax',
      at: position,
    });
  }
  return at + terminator.length;
}

/** The index just past the `>` of a start tag, skipping `>` inside quoted attribute values. */
function endOfStartTag(text: string, start: number): number {
  let quote = 0;
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) {
      quote = c;
    } else if (c === 0x3e /* > */) {
      return i + 1;
    }
  }
  const at = positionOf(text, start);
  throw new MalformedBodyError(`XML tag at ${describePosition(at)} is never closed`, { problem: 'xml-syntax', at });
}

/** A null-prototype object: assigning `__proto__` creates an own key, never a prototype. */
function newElement(): XmlElement {
  return Object.create(null);
}

interface OrderedElement {
  readonly name: string;
  readonly children: unknown[];
}

/** Reads one node of fast-xml-parser's ordered output (`{name: children}`) as an element. */
function elementOf(node: unknown): OrderedElement | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  for (const [key, children] of Object.entries(node)) {
    if (key === TEXT || key === CDATA || key === ':@' || !Array.isArray(children)) continue;
    const name = key.startsWith(RESERVED_MARK) ? key.slice(RESERVED_MARK.length) : key;
    return { name, children };
  }
  return undefined;
}

/** The text of a text or CDATA node, entities decoded (CDATA is literal), else undefined. */
function textOf(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  if (TEXT in node && typeof node[TEXT] === 'string') return decodeEntities(node[TEXT]);
  if (CDATA in node && Array.isArray(node[CDATA])) {
    return node[CDATA]
      .map((part: unknown) =>
        typeof part === 'object' && part !== null && TEXT in part && typeof part[TEXT] === 'string' ? part[TEXT] : '',
      )
      .join('');
  }
  return undefined;
}

/**
 * An element's value: its text when it has no child elements, else its children by name. Recursion
 * is bounded: the pre-scan ({@link prescan}, the one depth guard) refused any body nested deeper
 * than {@link DECODE_LIMITS.maxDepth} before the parser ran.
 */
function buildValue(children: readonly unknown[]): XmlValue {
  let text = '';
  let element: XmlElement | undefined;
  for (const child of children) {
    const childText = textOf(child);
    if (childText !== undefined) {
      text += childText;
      continue;
    }
    const childElement = elementOf(child);
    if (!childElement) continue;
    element ??= newElement();
    const value = buildValue(childElement.children);
    const previous = element[childElement.name];
    if (previous === undefined) element[childElement.name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else element[childElement.name] = [previous, value];
  }
  const meaningful = text.trim() === '' ? '' : text;
  if (!element) return meaningful;
  // Mixed content (text beside child elements) does not occur in callbacks; keep the text anyway.
  if (meaningful) element[TEXT] = meaningful;
  return element;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

/**
 * Decodes the five XML entities and character references in one pass (so `&amp;lt;` is `&lt;`).
 * An undeclared entity or a reference to a character XML forbids is malformed.
 */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&\s]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) {
      throw new MalformedBodyError(`body is not well-formed XML: unterminated entity "${whole}"`, { problem: 'xml-entity' });
    }
    const named = Object.hasOwn(NAMED_ENTITIES, name) ? NAMED_ENTITIES[name] : undefined;
    if (named !== undefined) return named;
    // Any number of leading zeros is well-formed (`&#000000099;` is `c`); past them, more digits
    // than U+10FFFF has is no character.
    const numeric = /^#(?:x0*([0-9a-fA-F]{1,6})|0*([0-9]{1,7}))$/.exec(name);
    const code = numeric ? Number.parseInt(numeric[1] ?? numeric[2] ?? '', numeric[1] !== undefined ? 16 : 10) : NaN;
    if (!isXmlChar(code)) {
      throw new MalformedBodyError(
        `body is not well-formed XML: ${name.startsWith('#') ? 'invalid character reference' : 'undeclared entity'} "${whole}"`,
        { problem: 'xml-entity' },
      );
    }
    return String.fromCodePoint(code);
  });
}

/** Whether a code point is a `Char` of XML 1.0 (§2.2). */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}
