import { describe, expect, it } from 'vitest';
import { isTokenKey, labelsOf, tokenValues } from './labels.ts';
import { REDACTED } from './redact.ts';

const TOKEN = 'EXAMPLE-SECRET-TOKEN';

describe('isTokenKey', () => {
  it.each(['token', 'Token', 'TOKEN', ' token', 'token ', '\ttoken\n', 'to ken', '\u200btoken', 'amp;token', 'AMP;amp;Token'])(
    '%j is the token',
    (key) => {
      expect(isTokenKey(key)).toBe(true);
    },
  );

  it.each(['tokens', 'my_token', 'token_id', 'amp', 'ampToken', 'to-ken', ''])('%j is a label', (key) => {
    expect(isTokenKey(key)).toBe(false);
  });
});

describe('labelsOf', () => {
  it('keeps every other parameter, repeated ones comma-joined, and redacts what holds a secret', () => {
    const query = new URLSearchParams(`a=1&TOKEN=${TOKEN}&a=2&u=${encodeURIComponent(`https://x/?token=${TOKEN}`)}&__proto__=p`);
    expect(tokenValues(query)).toEqual([TOKEN]);
    expect(labelsOf(query, [TOKEN])).toEqual(JSON.parse(`{"a":"1,2","u":"https://x/?token=${REDACTED}","__proto__":"p"}`));
    expect(labelsOf(query, [])).toMatchObject({ u: `https://x/?token=${TOKEN}` });
  });
});
