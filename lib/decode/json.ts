import { MalformedBodyError } from '../errors.ts';
import { jsonErrorIndex } from './json-syntax.ts';
import { DECODE_LIMITS } from './limits.ts';
import { describePosition, positionOf } from './position.ts';

/**
 * Parses a JSON body without losing anything a sender put in it.
 *
 * - Integers past 2^53 (64-bit ids) come back as their exact decimal text instead of a rounded
 *   number. The fast path is plain `JSON.parse`; only a body that holds such an integer is parsed twice.
 * - One trailing comma before `}` or `]` is tolerated (Tencent CI's documented sample has one).
 * - Nesting deeper than {@link DECODE_LIMITS.maxDepth} is refused.
 * - `__proto__` and `constructor` keys stay plain own data (JSON.parse defines, never assigns).
 */
export function decodeJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const relaxed = stripTrailingCommas(text);
    if (relaxed === text) throw malformed(text, error);
    try {
      value = JSON.parse(relaxed);
    } catch {
      throw malformed(text, error);
    }
    text = relaxed;
  }
  const scan = scanTree(value);
  if (scan === 'too-deep') {
    throw new MalformedBodyError(`body nests deeper than ${DECODE_LIMITS.maxDepth} levels`, { problem: 'too-deep' });
  }
  return scan === 'unsafe-integer' ? JSON.parse(quoteUnsafeIntegers(text)) : value;
}

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

type Scan = 'ok' | 'too-deep' | 'unsafe-integer';

/** Walks the parsed tree once, iteratively: depth bound and integers that JSON.parse rounded. */
function scanTree(root: unknown): Scan {
  let found: Scan = 'ok';
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node === 'number') {
      if (Number.isInteger(node) && !Number.isSafeInteger(node)) found = 'unsafe-integer';
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth >= DECODE_LIMITS.maxDepth) return 'too-deep';
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return found;
}

/**
 * Applies `rewrite` to every run of text outside string literals and keeps the strings as they are.
 * Shared by the two rewrites below, so both agree on what "outside a string" means.
 */
function rewriteOutsideStrings(text: string, rewrite: (code: string) => string): string {
  let out = '';
  let start = 0;
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) !== 0x22 /* " */) {
      i++;
      continue;
    }
    out += rewrite(text.slice(start, i));
    const open = i++;
    while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
    i++;
    out += text.slice(open, i);
    start = i;
  }
  return out + rewrite(text.slice(start));
}

function stripTrailingCommas(text: string): string {
  // Only a comma that follows a value: `[,]` and `{,}` stay invalid. A comma at the start of a run
  // follows a string, which is a value.
  return rewriteOutsideStrings(text, (code) => code.replace(/(?<![[{,]\s*),(?=\s*[}\]])/g, ''));
}

/** Turns integer literals too large for a double into strings, so JSON.parse keeps their digits. */
function quoteUnsafeIntegers(text: string): string {
  return rewriteOutsideStrings(text, (code) =>
    code.replace(/(?<![\d.eE+-])-?\d{16,}(?![.\deE])/g, (digits) => (Number.isSafeInteger(Number(digits)) ? digits : `"${digits}"`)),
  );
}
