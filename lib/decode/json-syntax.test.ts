import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonErrorIndex } from './json-syntax.ts';

describe('jsonErrorIndex', () => {
  it.each([
    ['{"s":x,"pw":"hu"}', 5],
    ['{"a":1', 6],
    ['{"a":1}}', 7],
    ['{\n"a": tru}', 7],
    ['[1,2,]', 5],
    ['{"a":"\u0001"}', 6],
    ['{"k" 1}', 5],
    ['{1:2}', 1],
    ['"abc', 4],
    ['{"a":-}', 5],
    ['{"a":1e}', 6],
    ['{"a":"\\q"}', 7],
    ['nul', 0],
    ['', 0],
    ['{"a":01}', 6],
    ['{"a":[1,,2]}', 8],
    ["{'a':1}", 1],
  ])('%j breaks at index %i', (text, index) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorIndex(text)).toBe(index);
  });

  it('finds nothing wrong in what JSON.parse takes, and something in what it refuses', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(jsonErrorIndex(text)).toBe(-1);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(jsonErrorIndex(text) === -1).toBe(valid);
      }),
    );
  });

  it('handles any depth without recursion', () => {
    expect(jsonErrorIndex(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBe(-1);
    expect(jsonErrorIndex(`${'['.repeat(100_000)}x`)).toBe(100_000);
  });
});
