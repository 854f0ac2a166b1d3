import { MalformedBodyError } from '../errors.ts';
import { DECODE_LIMITS } from './limits.ts';
import { describePosition, positionOf } from './position.ts';

/** A decoded form body: each key once; a key sent twice keeps every value, in order. */
export type FormFields = Record<string, string | string[]>;

/**
 * Decodes an `application/x-www-form-urlencoded` body the way Apache HttpClient's
 * `URLEncodedUtils.format` writes it (UTF-8 percent-encoding, `+` for space): `&`-separated
 * fields (empty ones skipped), each split at its first `=`, as URLSearchParams reads them.
 * Keys are plain own data: `__proto__` or `constructor` cannot reach a prototype.
 */
export function decodeForm(text: string): FormFields {
  if (!text.includes('=')) {
    throw new MalformedBodyError('body is not a form (no key=value pair), JSON or XML', { problem: 'form-syntax' });
  }
  // Counted before anything is decoded: URLSearchParams parses every pair at once, and a body of
  // millions of `&#` pairs takes it minutes.
  if (fieldCount(text, DECODE_LIMITS.maxFormFields) > DECODE_LIMITS.maxFormFields) {
    throw new MalformedBodyError(`form body has more than ${DECODE_LIMITS.maxFormFields} fields`, {
      problem: 'too-many-fields',
    });
  }
  assertValidPercentEncoding(text);
  const fields: FormFields = Object.create(null);
  for (let start = 0; start <= text.length; ) {
    const end = text.indexOf('&', start);
    const stop = end < 0 ? text.length : end;
    if (stop > start) {
      const equals = text.indexOf('=', start);
      const split = equals >= 0 && equals < stop ? equals : stop;
      const key = decodeComponent(text.slice(start, split));
      const value = split < stop ? decodeComponent(text.slice(split + 1, stop)) : '';
      const previous = fields[key];
      if (previous === undefined) fields[key] = value;
      else if (Array.isArray(previous)) previous.push(value);
      else fields[key] = [previous, value];
    }
    start = stop + 1;
  }
  return { ...fields };
}

/** The value of a hex digit's character code (the escapes were checked: every `%` has two). */
function hexValue(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x61 + 10;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * One key or value of a form: `+` is a space and each `%XX` a byte, and the bytes are UTF-8 (their
 * escapes were checked before), as the WHATWG URL standard's form parser reads them. Decoded into
 * one buffer: String.replaceAll and URLSearchParams build a value of millions of `+` piece by
 * piece, in hundreds of MB.
 */
function decodeComponent(text: string): string {
  if (!text.includes('+') && !text.includes('%')) return text;
  // The bytes are written straight from the text: no UTF-8 copy of it first.
  const out = Buffer.allocUnsafe(Buffer.byteLength(text));
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2b /* + */) {
      out[length++] = 0x20;
    } else if (code === 0x25 /* % */) {
      out[length++] = hexValue(text.charCodeAt(i + 1)) * 16 + hexValue(text.charCodeAt(i + 2));
      i += 2;
    } else if (code < 0x80) {
      out[length++] = code;
    } else {
      // A character outside ASCII, as it stands in the text (a surrogate pair is one character).
      const wide = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? 2 : 1;
      length += out.write(text.slice(i, i + wide), length, 'utf8');
      i += wide - 1;
    }
  }
  return utf8.decode(out.subarray(0, length));
}

/** How many fields (non-empty `&`-separated parts, as URLSearchParams counts them) a form has; stops counting past `limit`. */
function fieldCount(text: string, limit: number): number {
  let count = 0;
  for (let start = 0; start <= text.length && count <= limit; ) {
    const end = text.indexOf('&', start);
    const stop = end < 0 ? text.length : end;
    if (stop > start) count++;
    start = stop + 1;
  }
  return count;
}

/**
 * URLSearchParams silently keeps a broken `%` escape as text and turns invalid UTF-8 into U+FFFD;
 * a callback that arrives that way was damaged on the wire, so it is refused instead. The bytes of
 * one character are consecutive escapes, so each run of escapes is checked on its own, as UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), in one pass that allocates
 * nothing: a body of a million escapes must not leave a million strings behind.
 */
function assertValidPercentEncoding(text: string): void {
  const broken = /%(?![0-9A-Fa-f]{2})/.exec(text);
  if (broken) {
    const at = positionOf(text, broken.index);
    throw new MalformedBodyError(`form body has a bad percent-escape at ${describePosition(at)}`, {
      problem: 'form-escape',
      at,
    });
  }
  for (let run = text.indexOf('%'); run >= 0; ) {
    // One run of escapes: the bytes of whole characters, or it is refused.
    let i = run;
    let pending = 0;
    let lower = 0x80;
    let upper = 0xbf;
    let valid = true;
    while (valid && text.charCodeAt(i) === 0x25 /* % */) {
      const byte = hexValue(text.charCodeAt(i + 1)) * 16 + hexValue(text.charCodeAt(i + 2));
      i += 3;
      if (pending > 0) {
        valid = byte >= lower && byte <= upper;
        pending--;
        lower = 0x80;
        upper = 0xbf;
      } else if (byte >= 0x80) {
        [pending, lower, upper] = utf8Lead(byte);
        valid = pending > 0;
      }
    }
    if (!valid || pending > 0) {
      const at = positionOf(text, run);
      throw new MalformedBodyError(`form body has percent-escapes that are not valid UTF-8 in the part at ${describePosition(at)}`, {
        problem: 'form-escape',
        at,
      });
    }
    run = text.indexOf('%', i);
  }
}

/**
 * For the first byte of a UTF-8 sequence: how many bytes follow, and the range of the next one
 * (narrower after E0, ED, F0, F4, which would otherwise start overlong forms, surrogates or code
 * points past U+10FFFF); 0 for a byte that starts no sequence.
 */
function utf8Lead(byte: number): [number, number, number] {
  if (byte >= 0xc2 && byte <= 0xdf) return [1, 0x80, 0xbf];
  if (byte === 0xe0) return [2, 0xa0, 0xbf];
  if (byte === 0xed) return [2, 0x80, 0x9f];
  if (byte >= 0xe1 && byte <= 0xef) return [2, 0x80, 0xbf];
  if (byte === 0xf0) return [3, 0x90, 0xbf];
  if (byte === 0xf4) return [3, 0x80, 0x8f];
  if (byte >= 0xf1 && byte <= 0xf3) return [3, 0x80, 0xbf];
  return [0, 0, 0];
}
