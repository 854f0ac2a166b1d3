import { MalformedBodyError } from '../errors.ts';
import { DECODE_LIMITS } from './limits.ts';
import { describePosition, positionOf } from './position.ts';

/** A decoded form body: each key once; a key sent twice keeps every value, in order. */
export type FormFields = Record<string, string | string[]>;

/**
 * Decodes an `application/x-www-form-urlencoded` body the way Apache HttpClient's
 * `URLEncodedUtils.format` writes it (UTF-8 percent-encoding, `+` for space).
 * Keys are plain own data: `__proto__` or `constructor` cannot reach a prototype.
 */
export function decodeForm(text: string): FormFields {
  if (!text.includes('=')) {
    throw new MalformedBodyError('body is not a form (no key=value pair), JSON or XML', { problem: 'form-syntax' });
  }
  assertValidPercentEncoding(text);
  const fields: FormFields = Object.create(null);
  let count = 0;
  // URLSearchParams drops one leading `?`; a leading `&` keeps it part of the first key.
  for (const [key, value] of new URLSearchParams(text.startsWith('?') ? `&${text}` : text)) {
    if (++count > DECODE_LIMITS.maxFormFields) {
      throw new MalformedBodyError(`form body has more than ${DECODE_LIMITS.maxFormFields} fields`, {
        problem: 'too-many-fields',
      });
    }
    const previous = fields[key];
    if (previous === undefined) fields[key] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else fields[key] = [previous, value];
  }
  return { ...fields };
}

/**
 * URLSearchParams silently keeps a broken `%` escape as text and turns invalid UTF-8 into U+FFFD;
 * a callback that arrives that way was damaged on the wire, so it is refused instead.
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
  let offset = 0;
  for (const part of text.split(/[&=]/)) {
    if (part.includes('%')) {
      try {
        decodeURIComponent(part);
      } catch {
        const at = positionOf(text, offset);
        throw new MalformedBodyError(`form body has percent-escapes that are not valid UTF-8 in the part at ${describePosition(at)}`, {
          problem: 'form-escape',
          at,
        });
      }
    }
    offset += part.length + 1;
  }
}
