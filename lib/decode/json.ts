import { MalformedBodyError } from '../errors.ts';
import { jsonErrorIndex } from './json-syntax.ts';
import { DECODE_LIMITS } from './limits.ts';
import { describePosition, positionOf } from './position.ts';

/**
 * Parses a JSON body without losing anything a sender put in it.
 *
 * - Integers past 2^53 (64-bit ids) come back as their exact decimal text instead of a rounded
 *   number. The fast path is plain `JSON.parse`; only a body that holds a run of 16 or more digits
 *   is parsed twice.
 * - One trailing comma before `}` or `]` is tolerated (Tencent CI's documented sample has one).
 * - Nesting deeper than {@link DECODE_LIMITS.maxDepth}, an object with more than
 *   {@link DECODE_LIMITS.maxKeys} keys, and more than {@link DECODE_LIMITS.maxNodes} objects and
 *   arrays in all are refused.
 * - `__proto__` and `constructor` keys stay plain own data (JSON.parse defines, never assigns).
 *
 * The bounds are checked on the text, in one pass that allocates nothing: a 6 MB body of three
 * million numbers costs what parsing it does, not an array per value.
 */
export function decodeJson(text: string): unknown {
  // Bounds first, so that JSON.parse never builds what they refuse (a million keys is 300 MB).
  const digits = scanText(text);
  // A trailing comma is stripped before the first parse when the text looks like it has one: a
  // refused JSON.parse costs an exception with its stack. Valid JSON has no comma before `}` or `]`
  // outside its strings, so stripping never changes it.
  const relaxed = TRAILING_COMMA.test(text) ? stripTrailingCommas(text) : text;
  let value: unknown;
  try {
    value = JSON.parse(relaxed);
  } catch (relaxedError) {
    // What is wrong is said of the text as sent.
    let error: unknown = relaxedError;
    if (relaxed !== text) {
      try {
        JSON.parse(text);
      } catch (original) {
        error = original;
      }
    }
    throw malformed(text, error);
  }
  text = relaxed;
  return digits === 'long-integer' ? JSON.parse(quoteUnsafeIntegers(text)) : value;
}

/** A comma, maybe spaces, then `}` or `]`: a trailing comma, unless it stands in a string. */
const TRAILING_COMMA = /,\s*[}\]]/;

function malformed(text: string, error: unknown): MalformedBodyError {
  // V8 quotes a piece of the body in its message and gives no position for an unexpected
  // character: the answer names the problem and where it is, the log only where.
  const reason = (error instanceof Error ? error.message : String(error))
    .replace(/,\s*(\.\.\.)?".*"(\.\.\.)?\s+is not valid JSON$/s, '')
    // V8 ends most messages with where it stopped ("… in JSON at position 6 (line 1 column 7)", "…
    // after JSON at position 32 …"): the position is said once, below, in the body's own terms.
    .replace(/\s+at position \d+( \(line \d+ column \d+\))?$/, '')
    .replace(/ in JSON$/, '');
  const index = jsonErrorIndex(text);
  const at = positionOf(text, index < 0 ? text.length : index);
  return new MalformedBodyError(`body is not valid JSON: ${reason} (${describePosition(at)})`, {
    cause: error,
    problem: 'json-syntax',
    at,
  });
}

/**
 * One pass over the text (JSON or not: a bracket inside a string is never counted): refuses nesting
 * past {@link DECODE_LIMITS.maxDepth}, objects with more than {@link DECODE_LIMITS.maxKeys} keys and
 * more than {@link DECODE_LIMITS.maxNodes} objects and arrays, and says whether a run of 16 or more
 * digits stands outside the strings (a number that may be an integer past 2^53).
 */
function scanText(text: string): 'ok' | 'long-integer' {
  const keys = new Int32Array(DECODE_LIMITS.maxDepth + 1);
  let depth = 0;
  let nodes = 0;
  let digits = 0;
  let found: 'ok' | 'long-integer' = 'ok';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) {
      if (++digits === 16) found = 'long-integer';
      continue;
    }
    digits = 0;
    switch (code) {
      case 0x22 /* " */:
        i = stringEnd(text, i);
        break;
      case 0x7b /* { */:
      case 0x5b /* [ */:
        if (++depth > DECODE_LIMITS.maxDepth) {
          throw new MalformedBodyError(`body nests deeper than ${DECODE_LIMITS.maxDepth} levels`, { problem: 'too-deep' });
        }
        if (++nodes > DECODE_LIMITS.maxNodes) {
          throw new MalformedBodyError(`body has more than ${DECODE_LIMITS.maxNodes} objects and arrays`, { problem: 'too-many-nodes' });
        }
        keys[depth] = 0;
        break;
      case 0x7d /* } */:
      case 0x5d /* ] */:
        if (depth > 0) depth--;
        break;
      case 0x3a /* : */:
        if (++(keys[depth] as number) > DECODE_LIMITS.maxKeys) {
          throw new MalformedBodyError(`body has an object with more than ${DECODE_LIMITS.maxKeys} keys`, { problem: 'too-many-fields' });
        }
        break;
    }
  }
  return found;
}

/** The index of the quote that closes the string opened at `open`, or the text's length when none does. */
function stringEnd(text: string, open: number): number {
  for (let from = open + 1; ; ) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/**
 * Applies `rewrite` to every run of text outside string literals and keeps the strings as they are.
 * Shared by the two rewrites below, so both agree on what "outside a string" means.
 */
function rewriteOutsideStrings(text: string, rewrite: (code: string) => string): string {
  // Pieces joined once: `+=` on millions of strings builds a rope of as many nodes.
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) !== 0x22 /* " */) {
      i++;
      continue;
    }
    out.push(rewrite(text.slice(start, i)));
    const open = i++;
    while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
    i++;
    out.push(text.slice(open, i));
    start = i;
  }
  out.push(rewrite(text.slice(start)));
  return out.join('');
}

const isSpace = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;

function stripTrailingCommas(text: string): string {
  // Only a comma that follows a value: `[,]` and `{,}` stay invalid. A comma at the start of a run
  // follows a string, which is a value. Each space is looked at once from each side.
  return rewriteOutsideStrings(text, (code) => {
    const parts: string[] = [];
    let kept = 0;
    for (let comma = code.indexOf(','); comma >= 0; comma = code.indexOf(',', comma + 1)) {
      let after = comma + 1;
      while (isSpace(code.charCodeAt(after))) after++;
      const next = code.charCodeAt(after);
      if (next !== 0x7d /* } */ && next !== 0x5d /* ] */) continue;
      let before = comma - 1;
      while (before >= 0 && isSpace(code.charCodeAt(before))) before--;
      const previous = code.charCodeAt(before);
      if (previous === 0x5b /* [ */ || previous === 0x7b /* { */ || previous === 0x2c /* , */) continue;
      parts.push(code.slice(kept, comma));
      kept = comma + 1;
    }
    if (kept === 0) return code;
    parts.push(code.slice(kept));
    return parts.join('');
  });
}

const isDigit = (code: number) => code >= 0x30 && code <= 0x39;
/** Characters that make a digit run part of a fraction or an exponent when they touch it. */
const isNumberPart = (code: number) => isDigit(code) || code === 0x2e /* . */ || code === 0x65 /* e */ || code === 0x45 /* E */;

/**
 * Turns integer literals too large for a double into strings, so JSON.parse keeps their digits:
 * a run of 16 or more digits (with its minus sign) that is not part of a fraction or an exponent.
 * A loop, not a regular expression: a run of millions of digits overflows the regex engine's stack.
 */
function quoteUnsafeIntegers(text: string): string {
  return rewriteOutsideStrings(text, (code) => {
    const parts: string[] = [];
    let kept = 0;
    for (let i = 0; i < code.length; ) {
      if (!isDigit(code.charCodeAt(i))) {
        i++;
        continue;
      }
      let end = i;
      while (end < code.length && isDigit(code.charCodeAt(end))) end++;
      const start = code.charCodeAt(i - 1) === 0x2d /* - */ ? i - 1 : i;
      const before = code.charCodeAt(start - 1);
      const standalone = !isNumberPart(before) && before !== 0x2b /* + */ && before !== 0x2d && !isNumberPart(code.charCodeAt(end));
      if (end - i >= 16 && standalone && !Number.isSafeInteger(Number(code.slice(start, end)))) {
        parts.push(code.slice(kept, start), '"', code.slice(start, end), '"');
        kept = end;
      }
      i = end;
    }
    if (kept === 0) return code;
    parts.push(code.slice(kept));
    return parts.join('');
  });
}
