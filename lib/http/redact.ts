/**
 * Secrets out of stored bodies. A sender that repeats its registered URL in the body (bk-job's
 * `callback` object, a Thain form with a `token` field) copies the token into what the service
 * keeps: the event's `data.raw`, the quarantine, the payload bucket. {@link redactSecrets} replaces
 * each occurrence with {@link REDACTED} and leaves every other byte as it was.
 *
 * An occurrence is the secret written in any of the forms a URL takes inside a body: as is,
 * percent-encoded (either hex case, also twice: `%252B`), `+` for a space, JSON-escaped (`\/`,
 * `\u0041`, a surrogate pair), or as an XML/HTML character reference (`&#65;`, `&#x41;`, `&amp;`),
 * each character in whichever form, mixed. A match never starts inside an escape sequence (after a
 * lone `\`, a `%`, `%X`, `&#…` or `\u…`), so that replacing it cannot break the body's syntax.
 *
 * Pure: bytes in, bytes out, no I/O.
 */

/** What replaces each occurrence of a secret: ASCII letters, valid in JSON, XML, forms and URLs. */
export const REDACTED = 'REDACTED';

/**
 * Shortest value replaced wherever it occurs. A shorter one (a request's own `?token=x` when no
 * token is configured) is replaced only where it is a `token=` value: replacing every `x` would
 * destroy the body. Configured tokens are at least 16 characters, so this only concerns those.
 */
export const MIN_ANYWHERE_CHARS = 8;

/**
 * Most distinct `token` values of one request that are redacted besides the configured tokens: each
 * is one more pass over the body. A sender is given one URL with one token; a request that carries
 * more than this many is made up, and has no secret of anyone's in the values past them.
 */
export const MAX_REQUEST_TOKENS = 8;

/** What {@link redactSecrets} did. */
export interface Redaction {
  /** The body with every occurrence replaced; the input itself when nothing was. */
  readonly bytes: Buffer;
  /** Whether anything was replaced (the event says so: `data.raw.redacted`). */
  readonly redacted: boolean;
  /** How many ranges were replaced. */
  readonly count: number;
}

/** Where one character can end when it starts at `at` (empty: it is not written there). */
type Matcher = (body: Uint8Array, at: number) => number[];

/** A secret as a sequence of characters to match, and where its replacement starts. */
interface Pattern {
  /** Matched but kept (`token=` before a short value). */
  readonly prefix: readonly Matcher[];
  readonly value: readonly Matcher[];
  /** Bytes a match can start with: 1 at their index. */
  readonly firstBytes: Uint8Array;
  /** The prefix and the value as they are (UTF-8), and how many of those bytes are the prefix. */
  readonly literal: Uint8Array;
  readonly prefixBytes: number;
  /** True when no character of the literal can open an escape: then only an escape in the body can make a match other than the literal. */
  readonly plain: boolean;
}

const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const AMPERSAND = 0x26;
const PLUS = 0x2b;

const JSON_SHORT_ESCAPES: Readonly<Record<number, number>> = {
  34: 0x22, // \"
  92: 0x5c, // \\
  47: 0x2f, // \/
  8: 0x62, // \b
  12: 0x66, // \f
  10: 0x6e, // \n
  13: 0x72, // \r
  9: 0x74, // \t
};
const XML_NAMED: Readonly<Record<number, string>> = { 38: 'amp', 60: 'lt', 62: 'gt', 34: 'quot', 39: 'apos' };

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function isHexByte(byte: number | undefined): boolean {
  return hexValue(byte) >= 0;
}

function startsWithAscii(body: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > body.length) return false;
  for (let i = 0; i < text.length; i++) if (body[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** `count` hex digits at `at` as a number, or -1. */
function readHex(body: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const digit = hexValue(body[at + i]);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** The ends of a sequence of matchers applied from `start` (a small set: each step is exact). */
function matchSequence(body: Uint8Array, start: number, units: readonly Matcher[]): number[] {
  let positions = [start];
  for (const unit of units) {
    const next = new Set<number>();
    for (const position of positions) for (const end of unit(body, position)) next.add(end);
    if (next.size === 0) return [];
    positions = [...next];
  }
  return positions;
}

/** One byte written as `%XX` (either case), the `%` itself in any of its forms at `depth`. */
function percentByte(byte: number, depth: number): Matcher {
  const percent = characterMatcher(PERCENT, depth - 1);
  return (body, at) =>
    percent(body, at)
      .filter((end) => readHex(body, end, 2) === byte)
      .map((end) => end + 2);
}

/**
 * Every form one character (a code point) can take in a body. `depth` bounds the nesting of
 * percent-encoding (`%252B` is `+` encoded twice).
 */
function characterMatcher(codePoint: number, depth = 2): Matcher {
  const bytes = [...Buffer.from(String.fromCodePoint(codePoint), 'utf8')];
  const percentForm = depth > 0 ? bytes.map((byte) => percentByte(byte, depth)) : [];
  const named = XML_NAMED[codePoint];
  const shortEscape = JSON_SHORT_ESCAPES[codePoint];
  const units = codePoint > 0xffff ? [0xd800 + ((codePoint - 0x10000) >> 10), 0xdc00 + ((codePoint - 0x10000) & 0x3ff)] : [codePoint];
  return (body, at) => {
    const ends: number[] = [];
    // As is.
    if (bytes.every((byte, i) => body[at + i] === byte)) ends.push(at + bytes.length);
    const first = body[at];
    // `%XX` per byte, where the `%` may itself be encoded (`%25`, `\u0025`, `&#37;`).
    if (percentForm.length > 0 && (first === PERCENT || first === BACKSLASH || first === AMPERSAND)) {
      ends.push(...matchSequence(body, at, percentForm));
    }
    if (first === PLUS && codePoint === 0x20) ends.push(at + 1);
    if (first === BACKSLASH) {
      if (shortEscape !== undefined && body[at + 1] === shortEscape) ends.push(at + 2);
      // \uXXXX, or a surrogate pair of them.
      let position = at;
      for (const unit of units) {
        if (position >= 0 && body[position] === BACKSLASH && body[position + 1] === 0x75 && readHex(body, position + 2, 4) === unit) {
          position += 6;
        } else {
          position = -1;
        }
      }
      if (position >= 0) ends.push(position);
    }
    if (first === AMPERSAND) {
      if (named !== undefined && startsWithAscii(body, at + 1, `${named};`)) ends.push(at + named.length + 2);
      if (body[at + 1] === 0x23 /* # */) {
        const hex = (body[at + 2] ?? 0) | 0x20;
        let position = hex === 0x78 /* x */ ? at + 3 : at + 2;
        const digitsStart = position;
        let value = 0;
        while (position < body.length && position - digitsStart < 8) {
          const digit = hex === 0x78 ? hexValue(body[position]) : (body[position] ?? 0) - 0x30;
          if (digit < 0 || digit > (hex === 0x78 ? 15 : 9)) break;
          value = value * (hex === 0x78 ? 16 : 10) + digit;
          position++;
        }
        if (position > digitsStart && body[position] === 0x3b /* ; */ && value === codePoint) ends.push(position + 1);
      }
    }
    return ends;
  };
}

/** Bytes that can open an escape sequence: where a secret may be written in another form than itself. */
const INTRODUCERS: ReadonlySet<number> = new Set([PERCENT, BACKSLASH, AMPERSAND, PLUS]);
/** What may follow a backslash in a JSON escape (`\u0041`, `\"`, `\/`, ...). */
const JSON_ESCAPED: ReadonlySet<number> = new Set([0x75, ...Object.values(JSON_SHORT_ESCAPES)]);

/** Whether an escape sequence (or a `+` for a space) can start at `at`, judging by the bytes that follow. */
function opensEscape(body: Uint8Array, at: number): boolean {
  const next = body[at + 1];
  switch (body[at]) {
    case PERCENT:
      return isHexByte(next) && isHexByte(body[at + 2]);
    case BACKSLASH:
      return next !== undefined && JSON_ESCAPED.has(next);
    case AMPERSAND:
      return next === 0x23 /* # */ || (next !== undefined && (next | 0x20) >= 0x61 && (next | 0x20) <= 0x7a);
    case PLUS:
      return true;
    default:
      return false;
  }
}

/**
 * Longest character reference a match may start inside of, after its `&#`: an `x` and 8 digits
 * (the matcher reads no more). Bounding the look-back keeps the scan linear over a run of digits.
 */
const MAX_REFERENCE_DIGITS = 9;

/**
 * Whether `at` is inside an escape sequence, where no replacement may start. `backslashes` is how
 * many backslashes come right before `at` (the scan keeps count as it goes), so that no byte is
 * looked at twice: every check looks back a bounded number of bytes.
 */
function insideEscape(body: Uint8Array, at: number, backslashes: number): boolean {
  if (backslashes % 2 === 1) return true;
  if (body[at - 1] === PERCENT || (body[at - 2] === PERCENT && isHexByte(body[at - 1]))) return true;
  // \u, \uX, \uXX, \uXXX
  for (let digits = 0; digits <= 3; digits++) {
    const u = at - digits - 1;
    if (body[u] !== 0x75 || body[u - 1] !== BACKSLASH) continue;
    let hex = true;
    for (let i = u + 1; i < at; i++) hex &&= isHexByte(body[i]);
    if (hex) return true;
  }
  // &#…, &#x…
  let back = at - 1;
  while (back >= 0 && at - back <= MAX_REFERENCE_DIGITS && (isHexByte(body[back]) || body[back] === 0x78)) back--;
  return body[back] === 0x23 && body[back - 1] === AMPERSAND;
}

/** How many backslashes come right before `at`. */
function backslashesBefore(body: Uint8Array, at: number): number {
  let count = 0;
  while (at - count - 1 >= 0 && body[at - count - 1] === BACKSLASH) count++;
  return count;
}

/**
 * The length of the longest border of a text (a proper prefix that is also a suffix), in characters:
 * the Knuth–Morris–Pratt prefix function's last value.
 */
export function longestBorder(text: string): number {
  const chars = [...text];
  const border = new Array<number>(chars.length).fill(0);
  for (let i = 1; i < chars.length; i++) {
    let k = border[i - 1] ?? 0;
    while (k > 0 && chars[i] !== chars[k]) k = border[k - 1] ?? 0;
    if (chars[i] === chars[k]) k++;
    border[i] = k;
  }
  return border.at(-1) ?? 0;
}

function patternOf(secret: string, prefix: string): Pattern {
  const matchers = (text: string) => [...text].map((char) => characterMatcher(char.codePointAt(0) ?? 0));
  const firstChar = (prefix || secret).codePointAt(0) ?? 0;
  const firstBytes = new Uint8Array(256);
  for (const byte of [Buffer.from(String.fromCodePoint(firstChar), 'utf8')[0] ?? 0, PERCENT, BACKSLASH, AMPERSAND]) firstBytes[byte] = 1;
  if (firstChar === 0x20) firstBytes[PLUS] = 1;
  const literal = Buffer.from(`${prefix}${secret}`, 'utf8');
  return {
    prefix: matchers(prefix),
    value: matchers(secret),
    firstBytes,
    literal,
    prefixBytes: Buffer.byteLength(prefix),
    plain: literal.every((byte) => !INTRODUCERS.has(byte) && byte !== 0x20),
  };
}

/**
 * Where a match of `pattern` starting at `start` ends (its longest), and where its value starts;
 * undefined when none starts there. The literal form is compared byte by byte; the matchers (every
 * form of every character) run only where an escape sequence can begin.
 */
function matchAt(body: Uint8Array, start: number, pattern: Pattern): { from: number; end: number } | undefined {
  if (pattern.plain) {
    const { literal } = pattern;
    let i = 0;
    while (i < literal.length && body[start + i] === literal[i]) i++;
    if (i === literal.length) return { from: start + pattern.prefixBytes, end: start + literal.length };
    // Up to `i` the body is the literal, whose bytes open no escape: only an escape at `i` can go on.
    if (start + i >= body.length || !opensEscape(body, start + i)) return undefined;
  }
  let end = -1;
  let from = -1;
  for (const valueStart of matchSequence(body, start, pattern.prefix)) {
    const ends = matchSequence(body, valueStart, pattern.value);
    if (ends.length > 0) {
      from = valueStart;
      end = Math.max(end, ...ends);
    }
  }
  return end > from && from >= 0 ? { from, end } : undefined;
}

/** Patterns compiled for recent secrets: the configured tokens come with every request. */
const compiled = new Map<string, Pattern>();
/** How many compiled patterns are kept (the oldest goes first). */
const COMPILED_PATTERNS = 64;

/** The pattern of a secret (see {@link redactSecrets} for when it is a `token=` value only), compiled once. */
function compiledPattern(secret: string): Pattern {
  let pattern = compiled.get(secret);
  if (!pattern) {
    pattern = patternOf(secret, secret.length >= MIN_ANYWHERE_CHARS && longestBorder(secret) <= MAX_BORDER_CHARS ? '' : 'token=');
    if (compiled.size >= COMPILED_PATTERNS) compiled.delete(compiled.keys().next().value ?? '');
    compiled.set(secret, pattern);
  }
  return pattern;
}

/**
 * Longest border a secret may have and still be looked for anywhere in a body (see
 * {@link redactSecrets}): past it, a body built of the secret's repeats could make the scan
 * quadratic, since every start would match most of the secret before failing.
 */
export const MAX_BORDER_CHARS = 16;

/**
 * Replaces every occurrence of every secret in `body` (see the module comment for what counts as an
 * occurrence) with {@link REDACTED}; overlapping occurrences become one. Empty secrets are ignored;
 * secrets shorter than {@link MIN_ANYWHERE_CHARS}, and secrets that repeat themselves (whose longest
 * border is over {@link MAX_BORDER_CHARS} characters, such as `abcabcabc…`; a random token has none
 * to speak of), are replaced only as the value of a `token=`.
 *
 * Linear in the body's length for each secret: each byte is looked at a bounded number of times
 * (the look-backs are bounded, and a start matches at most the secret's border before another start
 * can match), so a hostile body of 6 MB of `%`, `\` or the secret's own prefix costs about what a
 * plain one does.
 * @param body the raw body bytes, in any charset (secrets are looked for as UTF-8)
 * @param secrets the configured tokens and the request's own `token` query values
 */
export function redactSecrets(body: Uint8Array, secrets: Iterable<string>): Redaction {
  const patterns = [...new Set(secrets)].filter((secret) => secret.length > 0).map(compiledPattern);
  const ranges: Array<[number, number]> = [];
  for (const pattern of patterns) {
    let backslashes = 0;
    for (let start = 0; start < body.length; start++) {
      if (start > 0) backslashes = body[start - 1] === BACKSLASH ? backslashes + 1 : 0;
      if (pattern.firstBytes[body[start] ?? 0] !== 1) continue;
      if (insideEscape(body, start, backslashes)) continue;
      const match = matchAt(body, start, pattern);
      if (match) {
        ranges.push([match.from, match.end]);
        start = match.end - 1;
        backslashes = backslashesBefore(body, start);
      }
    }
  }
  if (ranges.length === 0) return { bytes: Buffer.from(body.buffer, body.byteOffset, body.byteLength), redacted: false, count: 0 };
  ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: Array<[number, number]> = [];
  for (const [from, to] of ranges) {
    const last = merged.at(-1);
    if (last && from < last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  const parts: Buffer[] = [];
  let position = 0;
  const marker = Buffer.from(REDACTED, 'ascii');
  for (const [from, to] of merged) {
    parts.push(Buffer.from(body.subarray(position, from)), marker);
    position = to;
  }
  parts.push(Buffer.from(body.subarray(position)));
  return { bytes: Buffer.concat(parts), redacted: true, count: merged.length };
}
