import { isUtf8 } from 'node:buffer';
import { isTokenShaped } from '../config/settings.ts';
import { bodyEncoding, isValidIn } from '../decode/charset.ts';

/**
 * Secrets out of stored bodies. A sender that repeats its registered URL in the body (bk-job's
 * `callback` object, a Thain form with a `token` field) copies the token into what the service
 * keeps: the event's `data.raw`, the quarantine, the payload bucket. {@link redactSecrets} replaces
 * each occurrence with {@link REDACTED} and leaves every other byte as it was.
 *
 * **What counts as an occurrence.** A secret is a token: 16 to 256 characters of `A-Z a-z 0-9 - . _ ~`
 * (what `TOKENS_<SOURCE>` takes). It is found in the body's own character encoding (by its byte
 * order mark, else the Content-Type `charset`, else the XML declaration, else UTF-8, as the decoders
 * read it): UTF-8 and every ASCII-compatible encoding, UTF-16LE/BE, and the double-byte encodings
 * GBK, GB18030, Big5 and Shift_JIS, read character by character so that a match never starts or ends
 * inside a two-byte character (their second byte can be an ASCII letter or `\`). Each character of
 * the secret may be written as is or in any of the escapes a URL gets inside a body, mixed:
 * percent-encoded (`%41`, either hex case, also again: `%2541`, `%252541`), JSON-escaped (`\u0041`,
 * `\/`), an XML/HTML character reference (`&#65;`, `&#x41;`, with any number of leading zeros) and
 * `&amp;` before one of them. Escapes inside escapes are decoded up to {@link MAX_LAYERS} layers
 * deep: percent-encoding three times inside a JSON string, or a URL in JSON in JSON.
 *
 * **How.** The body is read once into one code per character (ASCII kept, any other character
 * `0x80`, which no secret holds), and each layer of escapes is decoded in one left-to-right pass
 * that keeps, for each decoded character, the byte offset where its encoded form starts; each
 * secret is then found with `Buffer.indexOf` in each decoded layer, and the byte ranges of the
 * encoded forms are replaced. A match therefore always covers whole escape sequences, so the
 * replacement cannot break the body's syntax. The work is linear in the body size whatever the body
 * (each pass reads each code a bounded number of times: {@link Redaction.work}), plus the searches.
 * A body with no `%`, `\` or `&` is searched as it is, with no copy; one with them costs a copy
 * and a 4-byte offset per byte (30 MB for a 6 MB body) while it is redacted.
 *
 * A body that may declare the wrong encoding is also read the likely other way: as bytes when it is
 * UTF-8 or is not valid in the UTF-16 or double-byte encoding it declares, as UTF-16 when it
 * declares nothing but holds a NUL byte.
 *
 * **Not found** (known limits): a secret split by an XML comment or a CDATA section boundary, a
 * secret in base64 or any other transformation than the escapes above, a secret in a body whose
 * declared encoding is wrong in any other way (valid UTF-16 declared as GBK).
 *
 * Pure: bytes in, bytes out, no I/O.
 */

/** What replaces each occurrence of a secret: ASCII letters, valid in JSON, XML, forms and URLs. */
export const REDACTED = 'REDACTED';

/** How many layers of escapes inside escapes are decoded (each costs one more pass over the body). */
export const MAX_LAYERS = 4;

/** What {@link redactSecrets} did. */
export interface Redaction {
  /** The body with every occurrence replaced; the input itself when nothing was. */
  readonly bytes: Buffer;
  /** Whether anything was replaced (the event says so: `data.raw.redacted`). */
  readonly redacted: boolean;
  /** How many ranges were replaced. */
  readonly count: number;
  /**
   * How many character codes the decoding passes read, lookahead included: at most about
   * 1 + 2 × {@link MAX_LAYERS} times the body length per reading of it, whatever the body. The
   * searches (`Buffer.indexOf`) come on top. For the tests that hold the redaction to linear work.
   */
  readonly work: number;
}

const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const AMPERSAND = 0x26;
const SEMICOLON = 0x3b;
/** The code of any character that is not ASCII: no secret holds one, and no escape starts with it. */
const OTHER = 0x80;

/** One character code per character of the body, and where each starts in the body's bytes. */
interface Reading {
  /** One code per character: the ASCII code, or {@link OTHER}. */
  readonly codes: Uint8Array;
  /** `starts[k]`: the byte offset of character k; `starts[codes.length]`: the end. Undefined: k × `unit`. */
  readonly starts: Uint32Array | undefined;
  readonly unit: number;
  /** {@link REDACTED} in the reading's encoding. */
  readonly marker: Buffer;
}

/** A byte range to replace, and what replaces it. */
interface Range {
  readonly from: number;
  readonly to: number;
  readonly marker: Buffer;
}

const ASCII_MARKER = Buffer.from(REDACTED, 'latin1');
const UTF16LE_MARKER = Buffer.from(REDACTED, 'utf16le');
const UTF16BE_MARKER = Buffer.from(REDACTED, 'utf16le').swap16();

/** The bytes themselves: every ASCII-compatible encoding whose multi-byte characters use bytes 0x80 and up only. */
function byteReading(body: Uint8Array): Reading {
  return { codes: body, starts: undefined, unit: 1, marker: ASCII_MARKER };
}

/** UTF-16: one code per 16-bit unit (a trailing odd byte is no character). */
function utf16Reading(body: Uint8Array, bigEndian: boolean, counter: Counter): Reading {
  const codes = new Uint8Array(body.length >> 1);
  const high = bigEndian ? 0 : 1;
  for (let k = 0; k < codes.length; k++) {
    const unit = (body[2 * k + high] ?? 0) * 256 + (body[2 * k + 1 - high] ?? 0);
    codes[k] = unit < 0x80 ? unit : OTHER;
  }
  counter.work += codes.length;
  return { codes, starts: undefined, unit: 2, marker: bigEndian ? UTF16BE_MARKER : UTF16LE_MARKER };
}

/**
 * How many bytes the character at `at` takes in a double-byte encoding, as the WHATWG decoders
 * read it: a lead byte and a valid second byte make one character; a lead byte before an ASCII byte
 * that cannot follow it is a character of its own (the decoder reads the ASCII byte again).
 */
type CharSize = (body: Uint8Array, at: number) => number;

const between = (byte: number | undefined, low: number, high: number) => byte !== undefined && byte >= low && byte <= high;

const DOUBLE_BYTE: Readonly<Record<string, CharSize>> = {
  // GBK and GB18030: lead 0x81–0xFE; second byte 0x40–0x7E or 0x80–0xFE; GB18030's four-byte form is
  // lead, 0x30–0x39, 0x81–0xFE, 0x30–0x39.
  gbk: gb18030Size,
  gb18030: gb18030Size,
  big5: (body, at) => (between(body[at], 0x81, 0xfe) && (between(body[at + 1], 0x40, 0x7e) || between(body[at + 1], 0xa1, 0xfe)) ? 2 : 1),
  shift_jis: (body, at) => {
    const lead = body[at];
    const isLead = between(lead, 0x81, 0x9f) || between(lead, 0xe0, 0xfc);
    return isLead && (between(body[at + 1], 0x40, 0x7e) || between(body[at + 1], 0x80, 0xfc)) ? 2 : 1;
  },
};

function gb18030Size(body: Uint8Array, at: number): number {
  if (!between(body[at], 0x81, 0xfe)) return 1;
  const second = body[at + 1];
  if (between(second, 0x40, 0x7e) || between(second, 0x80, 0xfe)) return 2;
  if (between(second, 0x30, 0x39) && between(body[at + 2], 0x81, 0xfe) && between(body[at + 3], 0x30, 0x39)) return 4;
  return 1;
}

/** A double-byte encoding, character by character, so that no match starts inside a character. */
function doubleByteReading(body: Uint8Array, size: CharSize, counter: Counter): Reading {
  const codes = new Uint8Array(body.length);
  const starts = new Uint32Array(body.length + 1);
  let k = 0;
  for (let at = 0; at < body.length; k++) {
    const byte = body[at] ?? 0;
    starts[k] = at;
    codes[k] = byte < 0x80 ? byte : OTHER;
    at += byte < 0x80 ? 1 : size(body, at);
  }
  starts[k] = body.length;
  counter.work += body.length;
  return { codes: codes.subarray(0, k), starts: starts.subarray(0, k + 1), unit: 1, marker: ASCII_MARKER };
}

/**
 * Every reading of the body to search: its own encoding's, and, where that may be a wrong
 * declaration, the likely other one: the bytes themselves when the body is UTF-8 or is not valid in
 * the encoding it declares (it will be refused, and kept as it is), UTF-16 when it declares nothing
 * but holds a NUL byte.
 */
function readingsOf(body: Uint8Array, contentType: string, counter: Counter): Reading[] {
  const encoding = bodyEncoding(body, contentType);
  const size = DOUBLE_BYTE[encoding];
  const utf16 = encoding === 'utf-16le' || encoding === 'utf-16be';
  if (utf16 || size) {
    const own = size ? doubleByteReading(body, size, counter) : utf16Reading(body, encoding === 'utf-16be', counter);
    return isUtf8(body) || !isValidIn(body, encoding) ? [own, byteReading(body)] : [own];
  }
  // Text in an ASCII-compatible encoding never holds a NUL byte; UTF-16 with no byte order mark does.
  if (body.includes(0)) return [byteReading(body), utf16Reading(body, false, counter), utf16Reading(body, true, counter)];
  return [byteReading(body)];
}

/** Counts the codes the passes read (see {@link Redaction.work}). */
interface Counter {
  work: number;
}

function hexDigit(code: number | undefined): number {
  if (code === undefined) return -1;
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

const JSON_ESCAPES: Readonly<Record<number, number>> = {
  34: 0x22, // \"
  92: 0x5c, // \\
  47: 0x2f, // \/
  98: 0x08, // \b
  102: 0x0c, // \f
  110: 0x0a, // \n
  114: 0x0d, // \r
  116: 0x09, // \t
};
const XML_NAMED: ReadonlyArray<readonly [Uint8Array, number]> = [
  ['amp', 0x26],
  ['lt', 0x3c],
  ['gt', 0x3e],
  ['quot', 0x22],
  ['apos', 0x27],
].map(([name, code]) => [Buffer.from(`${name};`, 'latin1'), Number(code)] as const);

/** One decoded character: its code and where its encoded form ends. */
interface Decoded {
  code: number;
  end: number;
}

/**
 * `%XX`. A `%` written as `%25` is decoded in the next layer: `%2541` is `%41` in this one and `A` in
 * the next, and the secret is looked for in both.
 */
function decodePercent(codes: Uint8Array, at: number, length: number, out: Decoded, counter: Counter): boolean {
  counter.work += 2;
  if (at + 2 >= length) return false;
  const high = hexDigit(codes[at + 1]);
  const low = hexDigit(codes[at + 2]);
  if (high < 0 || low < 0) return false;
  out.code = high * 16 + low;
  out.end = at + 3;
  return true;
}

/** A JSON escape: `\uXXXX` or one of the short ones. */
function decodeBackslash(codes: Uint8Array, at: number, length: number, out: Decoded, counter: Counter): boolean {
  const next = codes[at + 1];
  if (next === 0x75 /* u */ && at + 5 < length) {
    counter.work += 5;
    let value = 0;
    for (let i = at + 2; i < at + 6; i++) {
      const digit = hexDigit(codes[i]);
      if (digit < 0) return false;
      value = value * 16 + digit;
    }
    out.code = value;
    out.end = at + 6;
    return true;
  }
  counter.work += 1;
  const short = next === undefined || at + 1 >= length ? undefined : JSON_ESCAPES[next];
  if (short === undefined) return false;
  out.code = short;
  out.end = at + 2;
  return true;
}

/**
 * An XML/HTML reference: `&#D…;` or `&#xH…;` (any number of leading zeros; a value past U+10FFFF is
 * none), or one of the five named ones.
 */
function decodeAmpersand(codes: Uint8Array, at: number, length: number, out: Decoded, counter: Counter): boolean {
  if (codes[at + 1] === 0x23 /* # */) {
    const hex = ((codes[at + 2] ?? 0) | 0x20) === 0x78; /* x */
    const base = hex ? 16 : 10;
    let i = hex ? at + 3 : at + 2;
    const first = i;
    let value = 0;
    // Each digit is read once here; a run that ends in no `;` is read again only as plain text.
    for (; i < length; i++) {
      const digit = hex ? hexDigit(codes[i]) : between(codes[i], 0x30, 0x39) ? (codes[i] ?? 0) - 0x30 : -1;
      if (digit < 0) break;
      value = Math.min(value * base + digit, 0x110000);
    }
    counter.work += i - at + 1;
    if (i === first || i >= length || codes[i] !== SEMICOLON || value > 0x10ffff) return false;
    out.code = value;
    out.end = i + 1;
    return true;
  }
  for (const [name, code] of XML_NAMED) {
    if (at + name.length >= length) continue;
    let i = 0;
    while (i < name.length && codes[at + 1 + i] === name[i]) i++;
    counter.work += i + 1;
    if (i === name.length) {
      out.code = code;
      out.end = at + 1 + name.length;
      return true;
    }
  }
  return false;
}

/**
 * Decodes one layer of escapes, in place: `codes[0, length)` becomes the decoded codes and
 * `starts` their byte offsets (the output is never longer than the input, so each read is ahead of
 * each write). Returns the decoded length, or -1 when there was nothing to decode.
 */
function decodeLayer(codes: Uint8Array, starts: Uint32Array, length: number, counter: Counter): number {
  const decoded: Decoded = { code: 0, end: 0 };
  let out = 0;
  let changed = false;
  for (let i = 0; i < length; ) {
    const code = codes[i] ?? 0;
    counter.work += 1;
    const escaped =
      (code === PERCENT && decodePercent(codes, i, length, decoded, counter)) ||
      (code === BACKSLASH && decodeBackslash(codes, i, length, decoded, counter)) ||
      (code === AMPERSAND && decodeAmpersand(codes, i, length, decoded, counter));
    starts[out] = starts[i] ?? 0;
    if (escaped) {
      codes[out] = decoded.code < 0x80 ? decoded.code : OTHER;
      i = decoded.end;
      changed = true;
    } else {
      codes[out] = code;
      i++;
    }
    out++;
  }
  starts[out] = starts[length] ?? 0;
  return changed ? out : -1;
}

/** Whether a reading holds a character that can start an escape. */
function mayHoldEscapes(codes: Uint8Array): boolean {
  const bytes = Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength);
  return bytes.includes(PERCENT) || bytes.includes(BACKSLASH) || bytes.includes(AMPERSAND);
}

/** Every occurrence of each secret in `codes[0, length)`, as byte ranges of the body. */
function findIn(
  codes: Uint8Array,
  length: number,
  offset: (k: number) => number,
  secrets: readonly Buffer[],
  marker: Buffer,
  ranges: Range[],
): void {
  const text = Buffer.from(codes.buffer, codes.byteOffset, length);
  for (const secret of secrets) {
    for (let k = text.indexOf(secret); k >= 0; k = text.indexOf(secret, k + secret.length)) {
      ranges.push({ from: offset(k), to: offset(k + secret.length), marker });
    }
  }
}

/**
 * Searches one reading, layer by layer: the first layer is the text with its escapes decoded once
 * (where a reading holds no escape, the text itself, searched with no copy), each next layer that
 * layer with its escapes decoded again. A secret written literally is in the first layer unless it
 * starts inside an escape (`\u0041…`), where replacing it would break the body.
 */
function searchReading(reading: Reading, secrets: readonly Buffer[], counter: Counter, ranges: Range[]): void {
  const { unit, marker } = reading;
  const length = reading.codes.length;
  const given = reading.starts;
  if (!mayHoldEscapes(reading.codes)) {
    findIn(reading.codes, length, given ? (k) => given[k] ?? 0 : (k) => k * unit, secrets, marker, ranges);
    return;
  }
  // The layers are decoded over a copy; the offsets start as the reading's own.
  const codes = new Uint8Array(reading.codes);
  let starts: Uint32Array;
  if (given) {
    starts = new Uint32Array(given);
  } else {
    starts = new Uint32Array(length + 1);
    for (let k = 0; k <= length; k++) starts[k] = k * unit;
  }
  let current = length;
  for (let layer = 0; layer < MAX_LAYERS; layer++) {
    const next = decodeLayer(codes, starts, current, counter);
    // Nothing decoded: this layer is the last one searched (or, first, the text itself).
    if (next < 0 && layer > 0) return;
    current = next < 0 ? current : next;
    findIn(codes, current, (k) => starts[k] ?? 0, secrets, marker, ranges);
    if (next < 0) return;
  }
}

/**
 * Replaces every occurrence of every secret in `body` (see the module comment for what counts as an
 * occurrence) with {@link REDACTED}; overlapping occurrences become one.
 *
 * A secret that is not token-shaped (16 to 256 characters of `A-Z a-z 0-9 - . _ ~`) is ignored: no
 * configured token is anything else, so such a value (a request's own `?token=` when no token is
 * configured, or a wrong one) cannot be a token of ours, and replacing a short or common value
 * would destroy the body.
 * @param body the raw body bytes, in any encoding
 * @param secrets the configured tokens and the request's own `token` values
 * @param contentType the request's Content-Type: its `charset` says how to read the body
 */
export function redactSecrets(body: Uint8Array, secrets: Iterable<string>, contentType = ''): Redaction {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const wanted = [...new Set(secrets)].filter(isTokenShaped).map((secret) => Buffer.from(secret, 'latin1'));
  const counter: Counter = { work: 0 };
  if (wanted.length === 0 || body.length === 0) return { bytes, redacted: false, count: 0, work: 0 };
  const ranges: Range[] = [];
  for (const reading of readingsOf(body, contentType, counter)) searchReading(reading, wanted, counter, ranges);
  if (ranges.length === 0) return { bytes, redacted: false, count: 0, work: counter.work };
  ranges.sort((a, b) => a.from - b.from || b.to - a.to);
  const merged: Range[] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last && range.from < last.to) merged[merged.length - 1] = { ...last, to: Math.max(last.to, range.to) };
    else merged.push(range);
  }
  const parts: Buffer[] = [];
  let position = 0;
  for (const { from, to, marker } of merged) {
    parts.push(bytes.subarray(position, from), marker);
    position = to;
  }
  parts.push(bytes.subarray(position));
  return { bytes: Buffer.concat(parts), redacted: true, count: merged.length, work: counter.work };
}

/** {@link redactSecrets} on a text (a label, a path), as UTF-8. */
export function redactText(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  const redaction = redactSecrets(Buffer.from(text, 'utf8'), secrets);
  return redaction.redacted ? redaction.bytes.toString('utf8') : text;
}
