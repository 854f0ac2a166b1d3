import { TextDecoder } from 'node:util';
import { MalformedBodyError } from '../errors.ts';
import type { RawBody } from '../events/cloud-event.ts';

/**
 * Reading a body's bytes as text, by the character encoding it declares (WHATWG Encoding labels,
 * which Node's full-ICU `TextDecoder` implements: UTF-8, GBK, GB18030, Big5, UTF-16LE/BE, ...).
 *
 * Where the encoding comes from, first match wins:
 * 1. a byte order mark (UTF-8 `EF BB BF`, UTF-16LE `FF FE`, UTF-16BE `FE FF`): unambiguous;
 * 2. the Content-Type's `charset` parameter;
 * 3. the XML declaration's `encoding` (`<?xml version="1.0" encoding="GBK"?>`);
 * 4. none declared: UTF-8, strictly. Bytes that are not UTF-8 are refused (400), never replaced
 *    with U+FFFD, so the quarantine keeps them exactly.
 */

const decoders = new Map<string, TextDecoder>();
/** A strict decoder per label (cached); undefined for a label that names no encoding. */
function decoderFor(label: string): TextDecoder | undefined {
  const key = label.toLowerCase();
  let decoder = decoders.get(key);
  if (!decoder) {
    try {
      // ignoreBOM: the text keeps a byte order mark as U+FEFF, so it maps back to the exact bytes;
      // the body decoders skip it.
      decoder = new TextDecoder(key, { fatal: true, ignoreBOM: true });
    } catch {
      return undefined;
    }
    decoders.set(key, decoder);
  }
  return decoder;
}

const UTF8 = 'utf-8';

/** The encoding a byte order mark names, or undefined. */
function bomEncoding(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return UTF8;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** The `charset` parameter of a Content-Type (`text/xml; charset="GBK"` gives `GBK`), or undefined. */
export function declaredCharset(contentType: string): string | undefined {
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const value = (match?.[1] ?? match?.[2] ?? '').trim();
  return value === '' ? undefined : value;
}

/** The `encoding` of an XML declaration at the start of the bytes (read as ASCII), or undefined. */
function xmlDeclaredEncoding(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 256)).toString('latin1');
  const match = /^\s*<\?xml\s[^?]*?\bencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(head);
  const value = (match?.[1] ?? match?.[2] ?? '').trim();
  return value === '' ? undefined : value;
}

/** Where the encoding of a body was read from, for error messages. */
type Declared = { label: string; where: string } | undefined;

function declaredEncoding(bytes: Uint8Array, contentType: string): Declared {
  const bom = bomEncoding(bytes);
  if (bom) return { label: bom, where: 'its byte order mark' };
  const charset = declaredCharset(contentType);
  if (charset) return { label: charset, where: 'the Content-Type charset' };
  const xml = xmlDeclaredEncoding(bytes);
  if (xml) return { label: xml, where: 'the XML declaration' };
  return undefined;
}

/**
 * The encoding a body is read in, by the rules above: the WHATWG name of the declared encoding
 * (`utf-16le`, `gbk`, `windows-1252`, ...), or `utf-8` when none is declared or the label names none
 * (such a body is refused when decoded; its bytes are still best read as ASCII-compatible).
 */
export function bodyEncoding(bytes: Uint8Array, contentType: string): string {
  const declared = declaredEncoding(bytes, contentType);
  return (declared && decoderFor(declared.label)?.encoding) ?? UTF8;
}

/** Whether the bytes are valid text in an encoding (a WHATWG label or name). */
export function isValidIn(bytes: Uint8Array, encoding: string): boolean {
  try {
    decoderFor(encoding)?.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The bytes as UTF-8 text, or undefined when they are not UTF-8. */
function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return decoderFor(UTF8)?.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The raw body of `bytes`: their UTF-8 text when they are UTF-8 and, read by the declared
 * encoding, mean the same text; otherwise base64 with `encoding: 'base64'`. Never throws, so a body
 * that fails to decode is still kept exactly.
 */
export function rawBodyOf(bytes: Uint8Array, contentType: string): RawBody {
  const text = utf8Text(bytes);
  if (text !== undefined && sameAsDeclared(bytes, contentType, text)) return { contentType, body: text };
  return { contentType, body: Buffer.from(bytes).toString('base64'), encoding: 'base64' };
}

function sameAsDeclared(bytes: Uint8Array, contentType: string, text: string): boolean {
  const declared = declaredEncoding(bytes, contentType);
  const decoder = declared && decoderFor(declared.label);
  if (!decoder || decoder.encoding === UTF8) return true;
  try {
    return decoder.decode(bytes) === text;
  } catch {
    return false;
  }
}

/**
 * Decodes a body by the encoding it declares (see the module comment). `raw`, the body's
 * {@link rawBodyOf}, saves a second decoding when it already holds the text. Throws
 * {@link MalformedBodyError} (400) for a label that names no encoding, for bytes that are not valid
 * in the declared encoding, and for bytes that declare none and are not UTF-8.
 */
export function decodeBodyText(bytes: Uint8Array, contentType: string, raw?: RawBody): string {
  const declared = declaredEncoding(bytes, contentType);
  const decoder = declared ? decoderFor(declared.label) : decoderFor(UTF8);
  if (!decoder) {
    throw new MalformedBodyError(
      `body declares the character encoding "${declared?.label}" in ${declared?.where}, which is not one we know`,
    );
  }
  if (raw && raw.encoding === undefined && decoder.encoding === UTF8) return raw.body;
  try {
    return decoder.decode(bytes);
  } catch (error) {
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      throw new MalformedBodyError('body is gzip-compressed (it starts with the gzip signature 1F 8B); send it uncompressed', {
        cause: error,
        problem: 'compressed',
      });
    }
    const what = declared
      ? `valid ${decoder.encoding} text, the encoding declared in ${declared.where}`
      : 'valid UTF-8 and declares no other encoding (Content-Type charset, or an XML encoding declaration)';
    throw new MalformedBodyError(`body is not ${what}`, { cause: error });
  }
}
