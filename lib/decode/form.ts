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

/** The value of a hex digit's byte (the escapes were checked: every `%` has two). */
function hexValue(byte: number | undefined): number {
  const code = byte ?? 0x30;
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
  const bytes = Buffer.from(text, 'utf8');
  const out = new Uint8Array(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    if (byte === 0x2b /* + */) {
      out[length++] = 0x20;
    } else if (byte === 0x25 /* % */) {
      out[length++] = hexValue(bytes[i + 1]) * 16 + hexValue(bytes[i + 2]);
      i += 2;
    } else {
      out[length++] = byte;
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

/** A run of percent-escapes: the bytes of one or more characters. */
const ESCAPE_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/**
 * URLSearchParams silently keeps a broken `%` escape as text and turns invalid UTF-8 into U+FFFD;
 * a callback that arrives that way was damaged on the wire, so it is refused instead. The bytes of
 * one character are consecutive escapes, so each run of escapes is checked on its own (never a copy
 * of the body per field).
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
  for (const run of text.matchAll(ESCAPE_RUN)) {
    try {
      decodeURIComponent(run[0]);
    } catch {
      const at = positionOf(text, run.index);
      throw new MalformedBodyError(`form body has percent-escapes that are not valid UTF-8 in the part at ${describePosition(at)}`, {
        problem: 'form-escape',
        at,
      });
    }
  }
}
