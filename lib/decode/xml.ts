import { XMLValidator } from 'fast-xml-parser';
import { MalformedBodyError } from '../errors.ts';
import { DECODE_LIMITS } from './limits.ts';
import { plainData } from './plain-data.ts';
import { describePosition, positionOf } from './position.ts';

/** A decoded XML value: a leaf's text, an element's children by name, or repeated siblings. */
export type XmlValue = string | XmlElement | XmlValue[];
/** An element with child elements: each child name once; a name that repeats holds a list. */
export interface XmlElement {
  [name: string]: XmlValue;
}

const TEXT = '#text';

/**
 * Decodes an XML body into plain data, hardened for bodies from the internet. fast-xml-parser's
 * validator judges whether the markup is well-formed and says where it is not; the tree is then built
 * here, in one pass, straight into the value (no intermediate tree: a 6 MB body of elements cost
 * fast-xml-parser's parser about 1 GB).
 *
 * - `<!DOCTYPE`, `<!ENTITY` and every other markup declaration are refused before parsing (no
 *   billion laughs, no external entities); only the five XML entities and character references
 *   are decoded.
 * - Nesting deeper than {@link DECODE_LIMITS.maxDepth} and more than {@link DECODE_LIMITS.maxNodes}
 *   elements are refused by a linear pre-scan, and an element with more than
 *   {@link DECODE_LIMITS.maxKeys} different child names while it is read.
 * - Malformed XML is refused with what is wrong and where (line, column). Two or more top-level
 *   elements are read as if wrapped in one `<Response>` (see {@link assertImpliedRoot}).
 * - Every leaf is a string, never a number: `<X/>`, `<X></X>` and whitespace-only text are `""`;
 *   attributes, comments and processing instructions are ignored; repeated siblings become a list.
 * - Objects inherit nothing (see `plain-data.ts`), so `__proto__` or `constructor` elements are plain own data.
 */
export function decodeXml(text: string): XmlElement {
  prescan(text);
  const valid = XMLValidator.validate(text);
  // The validator lets some bodies with several top-level elements through (when the first one is
  // self-closing); they are read like those it refuses for that one reason (see assertImpliedRoot).
  let implied = valid !== true;
  if (implied) assertImpliedRoot(text, valid === true ? undefined : valid.err);
  const top = buildTree(text);
  const roots = Object.keys(top.element ?? {});
  if (!implied && (roots.length !== 1 || Array.isArray(top.element?.[roots[0] ?? '']))) {
    assertImpliedRoot(text, undefined);
    implied = true;
  }
  if (!top.element) {
    throw new MalformedBodyError('body is not well-formed XML: expected one root element, found 0', { problem: 'xml-roots' });
  }
  if (implied && top.text.trim() !== '') {
    throw new MalformedBodyError('body is not well-formed XML: text between its top-level elements', { problem: 'xml-roots' });
  }
  if (!implied) return top.element;
  const document = newElement();
  document[IMPLIED_ROOT] = top.element;
  return document;
}

/** The root a document with several top-level elements is read under (Tencent CI's root). */
export const IMPLIED_ROOT = 'Response';

/** What fast-xml-parser's validator says is wrong, and where. */
type ValidationFault = Exclude<ReturnType<typeof XMLValidator.validate>, true>['err'];

/**
 * Whether a body may be read as if its top-level elements were inside one {@link IMPLIED_ROOT}
 * (after the XML declaration, if there is one): a CI doc page prints a callback without its
 * `<Response>` root. Only a body whose one fault is having several top-level elements is read so
 * (`fault` is the validator's complaint, or undefined when it had none); any other fault is refused
 * with what is wrong and where (line, column of the body as sent).
 */
function assertImpliedRoot(text: string, fault: ValidationFault | undefined): void {
  if (fault === undefined || fault.msg === 'Multiple possible root nodes found.') {
    const declaration = /^<\?xml\b[\s\S]*?\?>/.exec(text)?.[0] ?? '';
    const wrapped = `${declaration}<${IMPLIED_ROOT}>${text.slice(declaration.length)}</${IMPLIED_ROOT}>`;
    if (XMLValidator.validate(wrapped) === true) return;
  }
  const { msg = 'not well-formed', line = 1, col = 1 } = fault ?? {};
  throw new MalformedBodyError(`body is not well-formed XML: ${msg} (line ${line}, column ${col})`, {
    problem: 'xml-syntax',
    at: { line, column: col },
  });
}

/**
 * One linear pass over the markup, with constant memory: refuses declarations (`<!DOCTYPE`,
 * `<!ENTITY`, ...), nesting past the limit and more than {@link DECODE_LIMITS.maxNodes} elements
 * before the validator or the parser sees the body.
 * Comments, CDATA sections and quoted attribute values are skipped, so their content never counts.
 */
function prescan(text: string): void {
  let depth = 0;
  let elements = 0;
  let i = text.indexOf('<');
  while (i >= 0) {
    let end: number;
    if (text.startsWith('<!--', i)) {
      end = closing(text, '-->', i, 'comment', 4);
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
      if (++elements > DECODE_LIMITS.maxNodes) {
        const at = positionOf(text, i);
        throw new MalformedBodyError(`body has more than ${DECODE_LIMITS.maxNodes} elements (at ${describePosition(at)})`, {
          problem: 'too-many-nodes',
          at,
        });
      }
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

/** The index just past `terminator`, searched from `skip` characters after `start` (4 for a comment: `<!-->` is not one). */
function closing(text: string, terminator: string, start: number, what: string, skip = 2): number {
  const at = text.indexOf(terminator, start + skip);
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

/** An empty element: every key plain own data (`__proto__` included), nothing inherited (see plain-data.ts). */
function newElement(): XmlElement {
  return plainData<XmlValue>();
}

/** An element being read: its name, its child elements so far, and its text so far (entities decoded). */
interface Frame {
  readonly name: string;
  element: XmlElement | undefined;
  /** How many different names its children have. */
  names: number;
  text: string;
}

/** Adds a child's value under its name; a name that repeats becomes a list, in document order. */
function addChild(frame: Frame, name: string, value: XmlValue): void {
  frame.element ??= newElement();
  const previous = frame.element[name];
  if (previous === undefined) {
    if (++frame.names > DECODE_LIMITS.maxKeys) {
      throw new MalformedBodyError(`body has an element with more than ${DECODE_LIMITS.maxKeys} different child elements`, {
        problem: 'too-many-fields',
      });
    }
    frame.element[name] = value;
  } else if (Array.isArray(previous)) previous.push(value);
  else frame.element[name] = [previous, value];
}

/**
 * An element's value once it is read: its text when it has no child elements, else its children by
 * name (with the text, if any, under `#text`: mixed content does not occur in callbacks, but
 * nothing is dropped). Whitespace-only text is `""`.
 */
function elementValue(frame: Frame): XmlValue {
  const meaningful = frame.text.trim() === '' ? '' : frame.text;
  if (!frame.element) return meaningful;
  if (meaningful) frame.element[TEXT] = meaningful;
  return frame.element;
}

/** Characters that end a tag name. */
const NAME_END = /[\s/>]/g;

/**
 * Reads markup that the validator has found well-formed (or well-formed once its top-level elements
 * are wrapped), in one pass, into plain data: the top level's elements by name and its text. Each
 * element is built once, where it ends; comments, processing instructions and attributes are
 * skipped, CDATA is literal text, entities are decoded in text. Nesting is bounded by the pre-scan.
 */
function buildTree(text: string): Frame {
  const stack: Frame[] = [{ name: '', element: undefined, names: 0, text: '' }];
  let frame = stack[0] as Frame;
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('<', i);
    const stop = open < 0 ? text.length : open;
    // Text beside the root element (what the validator lets through after a self-closing one, or a
    // character reference after the end) is no part of the value: only checked to be whitespace
    // when several top-level elements are read as one.
    if (stop > i) frame.text += stack.length > 1 ? decodeEntities(text.slice(i, stop)) : text.slice(i, stop);
    if (open < 0) break;
    if (text.startsWith('<!--', open)) {
      i = closing(text, '-->', open, 'comment', 4);
    } else if (text.startsWith('<![CDATA[', open)) {
      i = closing(text, ']]>', open, 'CDATA section');
      frame.text += text.slice(open + 9, i - 3);
    } else if (text.startsWith('<?', open)) {
      i = closing(text, '?>', open, 'processing instruction');
    } else if (text.startsWith('</', open)) {
      const ended = stack.pop();
      const parent = stack.at(-1);
      if (!ended || !parent)
        throw new MalformedBodyError('body is not well-formed XML: an end tag without its start', { problem: 'xml-syntax' });
      addChild(parent, ended.name, elementValue(ended));
      frame = parent;
      i = closing(text, '>', open, 'end tag');
    } else {
      const end = endOfStartTag(text, open);
      NAME_END.lastIndex = open + 1;
      const nameEnd = NAME_END.exec(text)?.index ?? end - 1;
      const name = text.slice(open + 1, nameEnd);
      if (text.charCodeAt(end - 2) === 0x2f /* / */) {
        addChild(frame, name, '');
      } else {
        frame = { name, element: undefined, names: 0, text: '' };
        stack.push(frame);
      }
      i = end;
    }
  }
  return frame;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

/** Where an entity's name ends: `;`, or (an unterminated one) `&` or a space. */
const ENTITY_END = /[;&\s]/g;

/**
 * Decodes the five XML entities and character references in one pass (so `&amp;lt;` is `&lt;`).
 * An undeclared entity or a reference to a character XML forbids is malformed. The pieces are
 * joined once (a regular expression's replace builds a text of a million entities in hundreds of MB).
 */
function decodeEntities(text: string): string {
  let amp = text.indexOf('&');
  if (amp < 0) return text;
  const parts: string[] = [];
  let kept = 0;
  while (amp >= 0) {
    ENTITY_END.lastIndex = amp + 1;
    const end = ENTITY_END.exec(text)?.index ?? text.length;
    if (text.charCodeAt(end) !== 0x3b /* ; */) {
      throw new MalformedBodyError(`body is not well-formed XML: unterminated entity "${text.slice(amp, end)}"`, { problem: 'xml-entity' });
    }
    if (amp > kept) parts.push(text.slice(kept, amp));
    parts.push(decodeEntity(text.slice(amp + 1, end), text.slice(amp, end + 1)));
    kept = end + 1;
    amp = text.indexOf('&', kept);
  }
  if (kept < text.length) parts.push(text.slice(kept));
  return parts.join('');
}

/** The text of one entity or character reference (`name` is what stands between `&` and `;`). */
function decodeEntity(name: string, whole: string): string {
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
