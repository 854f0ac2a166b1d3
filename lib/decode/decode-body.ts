import { MalformedBodyError } from '../errors.ts';
import { decodeForm, type FormFields } from './form.ts';
import { decodeJson } from './json.ts';

/** The formats a body can be in; the first meaningful character decides, never the Content-Type. */
export type BodyFormat = 'json' | 'xml' | 'form';

/** A decoded body, tagged with the format it was read as. */
export type DecodedBody = { format: 'json'; value: unknown } | { format: 'xml'; value: unknown } | { format: 'form'; value: FormFields };

/**
 * The XML decoder is passed in by the sources that take XML (only Tencent CI), so that the XML
 * parser is bundled into that function alone.
 */
export type XmlDecoder = (text: string) => unknown;

/** Which formats a source takes, and the XML decoder when it takes XML. */
export interface Decoders {
  readonly formats: readonly BodyFormat[];
  readonly xml?: XmlDecoder;
}

/**
 * Sniffs the body's format from its first non-whitespace character (`{`/`[` JSON, `<` XML, else
 * form), as docs/contract.md (Responses) says: bk-job labels JSON as a form, so Content-Type cannot decide.
 */
export function sniffFormat(text: string): BodyFormat | undefined {
  const match = /\S/.exec(text);
  if (!match) return undefined;
  const first = match[0];
  if (first === '{' || first === '[') return 'json';
  if (first === '<') return 'xml';
  return 'form';
}

const FORMAT_NAMES: Record<BodyFormat, string> = { json: 'JSON', xml: 'XML', form: 'a form' };

/** Decodes a callback body in whatever format it is, provided the source takes that format. */
export function decodeBody(text: string, decoders: Decoders): DecodedBody {
  const format = sniffFormat(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (format === undefined) throw new MalformedBodyError('body is empty', { problem: 'empty' });
  if (!decoders.formats.includes(format)) {
    const taken = decoders.formats.map((f) => FORMAT_NAMES[f]).join(' or ');
    throw new MalformedBodyError(`body looks like ${FORMAT_NAMES[format]}, but this route takes ${taken}`, {
      problem: 'format-not-taken',
    });
  }
  const body = text.trim().replace(/^\uFEFF/, '');
  switch (format) {
    case 'json':
      return { format, value: decodeJson(body) };
    case 'form':
      return { format, value: decodeForm(body) };
    case 'xml':
      if (!decoders.xml) throw new MalformedBodyError('this route does not take XML', { problem: 'format-not-taken' });
      return { format, value: decoders.xml(body) };
  }
}
