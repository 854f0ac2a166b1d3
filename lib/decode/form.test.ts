import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apacheEncode } from '../../infra/testing/apache-form.ts';
import { MalformedBodyError } from '../errors.ts';
import { decodeForm } from './form.ts';
import { DECODE_LIMITS } from './limits.ts';

/** A small deterministic PRNG (mulberry32), so a failing round trip is reproducible. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Text from characters that stress a form decoder: reserved ASCII, controls, CJK, astral. */
const ALPHABET = [...'aZ09-_.*~!\'()&=+%#?/:;@[]{}|\\^`"<>$, \t\n\r', '\u0000', '数', '据', 'é', '💥', '𠀀', '\u00a0', '\ufeff', '\u2028'];

describe('decodeForm', () => {
  it('decodes what Thain sends: every field a string, in order', () => {
    const fields = decodeForm('flowId=101&flowExecutionId=5001&code=3&message=');
    expect(fields).toEqual({ flowId: '101', flowExecutionId: '5001', code: '3', message: '' });
    expect(Object.keys(fields)).toEqual(['flowId', 'flowExecutionId', 'code', 'message']);
  });

  it.each([
    ['+ is a space, %2B is a plus', 'a=1+%2B+1', '1 + 1'],
    ['%0A and %09 are a line break and a tab', 'a=x%0A%09at+y%0A', 'x\n\tat y\n'],
    ['& and = inside a value', 'a=k%3Dv%26k2%3Dv2', 'k=v&k2=v2'],
    ['%25 is a literal percent, decoded once only', 'a=100%2525', '100%25'],
    ['%7E is a tilde', 'a=%7E%2Fsql', '~/sql'],
    ['UTF-8 Chinese', 'a=%E6%95%B0%E6%8D%AE', '数据'],
    ['a 4-byte character', 'a=%F0%9F%92%A5', '💥'],
    ['lowercase hex', 'a=%e6%95%b0%7e', '数~'],
    ['a literal = after the first one belongs to the value', 'a=b=c', 'b=c'],
    ['; is not a separator', 'a=1;b=2', '1;b=2'],
    ['a value-less key is empty', 'a', undefined],
  ])('%s', (_case, body, expected) => {
    if (expected === undefined) {
      expect(decodeForm(`x=1&${body}`)).toEqual({ x: '1', a: '' });
    } else {
      expect(decodeForm(body)).toEqual({ a: expected });
    }
  });

  it('round-trips random text that Apache encoded, byte for byte', () => {
    const next = random(20261122);
    for (let round = 0; round < 500; round++) {
      const length = Math.floor(next() * 40);
      let text = '';
      for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(next() * ALPHABET.length)];
      const body = `flowId=1&message=${apacheEncode(text)}`;
      expect(decodeForm(body).message, JSON.stringify(text)).toBe(text);
    }
  });

  it('property: reads every field as URLSearchParams does, escaped or written as is (any text, `+`, `%XX`, raw UTF-8)', () => {
    // Pieces of a form: characters as they are (any text but the separators), escapes of them, `+`.
    const piece = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 6 }).map((text) => text.replace(/[&=%+]/g, '')),
      fc.string({ unit: 'grapheme', maxLength: 4 }).map((text) => apacheEncode(text)),
      fc.constant('+'),
    );
    const part = fc.array(piece, { maxLength: 4 }).map((pieces) => pieces.join(''));
    fc.assert(
      fc.property(fc.array(fc.tuple(part, part), { minLength: 1, maxLength: 5 }), (pairs) => {
        const body = pairs.map(([key, value]) => `${key}=${value}`).join('&');
        const expected: Record<string, string | string[]> = {};
        for (const [key, value] of new URLSearchParams(body)) {
          const previous = expected[key];
          expected[key] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
        }
        expect(decodeForm(body)).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: refuses exactly the escaped bytes that are not UTF-8 (as decodeURIComponent judges them)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.boolean(), (bytes, split) => {
        const escaped = [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`);
        // Split in two runs by a plain character: each run must hold whole characters.
        const half = Math.floor(escaped.length / 2);
        const value = split ? `${escaped.slice(0, half).join('')}x${escaped.slice(half).join('')}` : escaped.join('');
        let valid = true;
        try {
          if (split) {
            decodeURIComponent(escaped.slice(0, half).join(''));
            decodeURIComponent(escaped.slice(half).join(''));
          } else {
            decodeURIComponent(value);
          }
        } catch {
          valid = false;
        }
        if (valid) expect(decodeForm(`a=${value}`).a).toBe(decodeURIComponent(value));
        else expect(() => decodeForm(`a=${value}`)).toThrow(/not valid UTF-8/);
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps every value of a repeated key, in order, so a schema can refuse it', () => {
    expect(decodeForm('code=2&a=x&code=3&code=4')).toEqual({ code: ['2', '3', '4'], a: 'x' });
  });

  it('keeps __proto__ and constructor as plain own data', () => {
    const fields = decodeForm('__proto__=x&constructor=y&toString=z');
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(Object.hasOwn(fields, '__proto__')).toBe(true);
    expect(fields.constructor).toBe('y');
    expect({}.constructor).toBe(Object);
  });

  it('skips empty pairs between separators', () => {
    expect(decodeForm('a=1&&b=2&')).toEqual({ a: '1', b: '2' });
  });

  it.each([
    ['no key=value pair', 'flowId', /not a form/],
    ['empty', '', /not a form/],
    ['a lone %', 'a=50%+off', /bad percent-escape at line 1, column 5/],
    ['% at the end', 'a=1&b=%', /bad percent-escape at line 1, column 7/],
    ['a non-hex escape', 'a=%zz', /bad percent-escape at line 1, column 3/],
    ['a %u escape', 'a=%u0041', /bad percent-escape/],
    ['bytes that are not UTF-8', 'x=1&y=%FF%FE', /not valid UTF-8 in the part at line 1, column 7/],
    ['a truncated UTF-8 character', 'a=%E6%95', /not valid UTF-8/],
    ['an overlong encoding', 'a=%C0%AF', /not valid UTF-8/],
    ['an encoded surrogate (CESU-8)', 'a=%ED%A0%80', /not valid UTF-8/],
    ['a broken key', '%E6=1', /not valid UTF-8 in the part at line 1, column 1/],
  ])('refuses %s with a MalformedBodyError (400) saying where', (_case, body, message) => {
    let thrown: unknown;
    try {
      decodeForm(body);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MalformedBodyError);
    expect(thrown instanceof MalformedBodyError && thrown.statusCode).toBe(400);
    expect(thrown instanceof Error ? thrown.message : '').toMatch(message);
  });

  it(`takes ${DECODE_LIMITS.maxFormFields} fields and refuses one more`, () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=${i}`).join('&');
    expect(Object.keys(decodeForm(body(DECODE_LIMITS.maxFormFields)))).toHaveLength(DECODE_LIMITS.maxFormFields);
    expect(() => decodeForm(body(DECODE_LIMITS.maxFormFields + 1))).toThrow(/more than/);
  });

  // URLSearchParams alone would drop one leading `?` and read `?flowId=1` as `flowId`.
  it('keeps a leading ? as part of the first key', () => {
    expect(decodeForm('?a=1')).toEqual({ '?a': '1' });
  });
});
