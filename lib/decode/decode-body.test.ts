import { describe, expect, it } from 'vitest';
import { MalformedBodyError } from '../errors.ts';
import { decodeBody, sniffFormat } from './decode-body.ts';

describe('sniffFormat', () => {
  it.each([
    ['{"a":1}', 'json'],
    ['  \n\t[1]', 'json'],
    ['<Response/>', 'xml'],
    ['\n <?xml version="1.0"?><a/>', 'xml'],
    ['a=1&b=2', 'form'],
    ['', undefined],
    [' \r\n ', undefined],
  ] as const)('%j is %s', (text, format) => {
    expect(sniffFormat(text)).toBe(format);
  });
});

describe('decodeBody', () => {
  const jsonAndForm = { formats: ['json', 'form'] } as const;

  it('reads JSON whatever Content-Type came with it (the caller never passes one)', () => {
    expect(decodeBody('{"job_instance_id":1}', jsonAndForm)).toEqual({ format: 'json', value: { job_instance_id: 1 } });
  });

  it('reads a form into fields', () => {
    expect(decodeBody('a=1&b=x+y', jsonAndForm)).toEqual({ format: 'form', value: { a: '1', b: 'x y' } });
  });

  it('says which format it saw and which the route takes', () => {
    expect(() => decodeBody('<a/>', jsonAndForm)).toThrow('body looks like XML, but this route takes JSON or a form');
  });

  it('refuses an empty body and a byte order mark alone', () => {
    for (const text of ['', '\uFEFF', '   ']) {
      expect(() => decodeBody(text, jsonAndForm)).toThrow(MalformedBodyError);
    }
  });

  it('hands XML to the decoder the source gave', () => {
    const seen: string[] = [];
    const decoded = decodeBody('\uFEFF <a/> ', {
      formats: ['xml'],
      xml: (text) => {
        seen.push(text);
        return 'tree';
      },
    });
    expect(decoded).toEqual({ format: 'xml', value: 'tree' });
    expect(seen).toEqual(['<a/>']);
  });
});
