import { describe, expect, it } from 'vitest';
import { MalformedBodyError } from '../errors.ts';
import { decodeJson } from './json.ts';
import { DECODE_LIMITS } from './limits.ts';

describe('decodeJson', () => {
  it('keeps integers past 2^53 as their exact digits, and safe ones as numbers', () => {
    expect(decodeJson('{"a":9007199254740993,"b":-18446744073709551615,"c":12345,"d":"9007199254740993"}')).toEqual({
      a: '9007199254740993',
      b: '-18446744073709551615',
      c: 12345,
      d: '9007199254740993',
    });
  });

  it('leaves long digit runs inside strings, fractions and exponents alone', () => {
    expect(decodeJson('{"s":"id 12345678901234567890","f":1.12345678901234567890,"e":1e300,"x":12345678901234567890}')).toEqual({
      s: 'id 12345678901234567890',
      f: 1.1234567890123457,
      e: 1e300,
      x: '12345678901234567890',
    });
  });

  it('tolerates a trailing comma before } or ], never inside strings', () => {
    expect(decodeJson('{"a":[1,2,],"b":{"c":"x,}",},}')).toEqual({ a: [1, 2], b: { c: 'x,}' } });
    expect(decodeJson('{"q":"say \\",}\\"",}')).toEqual({ q: 'say ",}"' });
  });

  it.each([
    ['truncated', '{"a":1'],
    ['two commas', '{"a":1,,}'],
    ['single quotes', "{'a':1}"],
    ['a comma alone', '[,]'],
  ])('refuses %s JSON with a 400 that quotes the parser', (_case, text) => {
    expect(() => decodeJson(text)).toThrow(MalformedBodyError);
    expect(() => decodeJson(text)).toThrow(/^body is not valid JSON: /);
  });

  it.each([
    ['two top-level values', '{"job_instance_id":1,"status":3}{"job_instance_id":2}', 'Unexpected non-whitespace character after JSON', 33],
    ['a value cut short', '{"a":1', "Expected ',' or '}' after property value", 7],
    ['a bad escape', '{"a":"\\q"}', 'Bad escaped character', 8],
    ['an unterminated string', '"abc', 'Unterminated string', 5],
  ])('says where the problem is once, in line and column (%s)', (_case, text, problem, column) => {
    expect(() => decodeJson(text)).toThrow(`body is not valid JSON: ${problem} (line 1, column ${column})`);
  });

  it('names the problem without quoting the body back', () => {
    expect(() => decodeJson('{"secret-ish":"value",]')).toThrow(/^body is not valid JSON: [^"]*$/);
  });

  it('refuses nesting deeper than the limit, and takes the limit itself', () => {
    const nest = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(() => decodeJson(nest(DECODE_LIMITS.maxDepth))).not.toThrow();
    expect(() => decodeJson(nest(DECODE_LIMITS.maxDepth + 1))).toThrow(/deeper than/);
    expect(() => decodeJson(nest(100_000))).toThrow(/deeper than/);
  });

  it('keeps __proto__ and constructor as plain own keys', () => {
    const value = decodeJson('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');
    expect(Object.keys(value as object)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});
