import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apacheForm } from '../../infra/testing/apache-form.ts';
import { MIN_ANYWHERE_CHARS, REDACTED, redactSecrets } from './redact.ts';

const TOKEN = 'EXAMPLE-SECRET-TOKEN';
const bytes = (text: string) => Buffer.from(text, 'utf8');
const redact = (text: string, secrets: string[] = [TOKEN]) => {
  const result = redactSecrets(bytes(text), secrets);
  return { text: result.bytes.toString('utf8'), redacted: result.redacted, count: result.count };
};

/** Each character of `text` percent-encoded, `%XX` per UTF-8 byte. */
const percentAll = (text: string, lower = false) =>
  [...bytes(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')[lower ? 'toLowerCase' : 'toUpperCase']()}`).join('');
const jsonUnicode = (text: string) => [...text].map((char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`).join('');

describe('redactSecrets: the shapes senders send', () => {
  it('bk-job repeating its registered URL in a `callback` object (a field shape seen after the first release)', () => {
    // The body bytes of that callback, exactly (posted to ?team=payments&token=EXAMPLE-SECRET-TOKEN).
    const body =
      '{"job_instance_id":1200349,"status":3,"step_instances":[{"step_instance_id":3400940,"status":3}],"callback":{"url":"https://jobhooks.example.com/callbacks/bk-job?team=payments&token=EXAMPLE-SECRET-TOKEN","content_type":"application/x-www-form-urlencoded"}}';
    const result = redact(body);
    expect(result).toEqual({ text: body.replace(TOKEN, REDACTED), redacted: true, count: 1 });
    expect(JSON.parse(result.text).callback.url).toBe('https://jobhooks.example.com/callbacks/bk-job?team=payments&token=REDACTED');
  });

  it('the same URL JSON-escaped as some encoders write it (`\\/`, `\\u0026`, every character escaped)', () => {
    const url = 'https:\\/\\/jobhooks.example.com\\/callbacks\\/bk-job?team=payments\\u0026token=';
    for (const written of [TOKEN, jsonUnicode(TOKEN), `${jsonUnicode('EX')}AMPLE-SECRET-TOKE${jsonUnicode('N')}`]) {
      const body = `{"callback":{"url":"${url}${written}"}}`;
      const result = redact(body);
      expect(result.text, written).toBe(`{"callback":{"url":"${url}${REDACTED}"}}`);
      expect(JSON.parse(result.text).callback.url).toMatch(/token=REDACTED$/);
    }
  });

  it('a Thain form with a token field, and with the registered URL percent-encoded in a field', () => {
    const plain = apacheForm([
      ['flowId', '1'],
      ['flowExecutionId', '2'],
      ['code', '3'],
      ['message', ''],
      ['token', TOKEN],
    ]);
    expect(redact(plain).text).toBe(plain.replace(TOKEN, REDACTED));
    const url = apacheForm([
      ['callback', `https://h.example.com/callbacks/thain/flow?flow=etl&token=${TOKEN}`],
      ['code', '2'],
    ]);
    expect(url).toContain('%26token%3DEXAMPLE-SECRET-TOKEN&code');
    expect(redact(url).text).toBe(url.replace(TOKEN, REDACTED));
    // Every byte encoded, upper or lower case, or encoded twice (a URL inside a URL).
    for (const written of [percentAll(TOKEN), percentAll(TOKEN, true), percentAll(TOKEN).replaceAll('%', '%25')]) {
      expect(redact(`callback=x%3Ftoken%3D${written}&code=2`).text, written).toBe(`callback=x%3Ftoken%3D${REDACTED}&code=2`);
    }
  });

  it('XML character references', () => {
    const references = [...TOKEN]
      .map((char, i) => (i % 2 === 0 ? `&#${char.charCodeAt(0)};` : `&#x${char.charCodeAt(0).toString(16)};`))
      .join('');
    const body = `<Response><Url>https://h/cb?a=1&amp;token=${references}</Url></Response>`;
    expect(redact(body).text).toBe(`<Response><Url>https://h/cb?a=1&amp;token=${REDACTED}</Url></Response>`);
  });

  it('every occurrence, each counted once; overlapping secrets become one marker', () => {
    expect(redact(`${TOKEN} and ${TOKEN}`)).toEqual({ text: `${REDACTED} and ${REDACTED}`, redacted: true, count: 2 });
    expect(redact('x-abcdefgh12345678ijkl-x', ['abcdefgh12345678', 'efgh12345678ijkl'])).toEqual({
      text: `x-${REDACTED}-x`,
      redacted: true,
      count: 1,
    });
  });
});

describe('redactSecrets: the request’s own token value', () => {
  it('a value with a space came from `+` or `%20`; one with `+` from `%2B` (or a literal `+` in the body)', () => {
    expect(redact('{"u":"h?token=secret+value+1234"}', ['secret value 1234']).text).toBe(`{"u":"h?token=${REDACTED}"}`);
    expect(redact('{"u":"h?token=secret%20value%201234"}', ['secret value 1234']).text).toBe(`{"u":"h?token=${REDACTED}"}`);
    expect(redact('{"u":"h?token=abc%2Bdefghijkl"}', ['abc+defghijkl']).text).toBe(`{"u":"h?token=${REDACTED}"}`);
    expect(redact('{"u":"h?token=abc+defghijkl"}', ['abc+defghijkl']).text).toBe(`{"u":"h?token=${REDACTED}"}`);
  });

  it(`a value under ${MIN_ANYWHERE_CHARS} characters is replaced only where it is a token= value`, () => {
    const body = '{"id":"abc","u":"https://h/cb?x=abc&token=abc","v":"token%3Dabc"}';
    expect(redact(body, ['abc']).text).toBe(`{"id":"abc","u":"https://h/cb?x=abc&token=${REDACTED}","v":"token%3D${REDACTED}"}`);
  });

  it('non-ASCII values, as UTF-8 bytes or their escapes', () => {
    const value = 'tökenwert-語-123';
    expect(redact(`{"a":"${value}"}`, [value]).text).toBe(`{"a":"${REDACTED}"}`);
    expect(redact(`a=${encodeURIComponent(value)}`, [value]).text).toBe(`a=${REDACTED}`);
    expect(redact(`{"a":"${jsonUnicode(value)}"}`, [value]).text).toBe(`{"a":"${REDACTED}"}`);
    expect(redact('{"a":"\\ud83d\\ude00-emoji-token"}', ['😀-emoji-token']).text).toBe(`{"a":"${REDACTED}"}`);
  });
});

describe('redactSecrets: everything else stays byte-exact', () => {
  it('returns the same bytes, unredacted, when no secret occurs (and ignores empty secrets)', () => {
    const body = bytes('{"job_instance_id":1,"status":3}');
    const result = redactSecrets(body, [TOKEN, '']);
    expect(result).toMatchObject({ redacted: false, count: 0 });
    expect(result.bytes.equals(body)).toBe(true);
    expect(redactSecrets(body, []).redacted).toBe(false);
  });

  it('is case-sensitive and needs the whole secret', () => {
    expect(redact(`${TOKEN.toLowerCase()} ${TOKEN.slice(1)} ${TOKEN.slice(0, -1)}`).redacted).toBe(false);
  });

  it('keeps bytes that are not UTF-8 (a GBK body) around a replaced token', () => {
    const gbk = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]); // 你好 in GBK
    const body = Buffer.concat([gbk, bytes(`&token=${TOKEN}&`), gbk]);
    const result = redactSecrets(body, [TOKEN]);
    expect(result.bytes.equals(Buffer.concat([gbk, bytes(`&token=${REDACTED}&`), gbk]))).toBe(true);
  });

  it('never starts a replacement inside an escape sequence, which would break the body', () => {
    // Each body holds a string that *decodes* to something else than the secret.
    expect(redact('{"a":"\\u0041secret-value-x"}', ['u0041secret-value-x']).redacted).toBe(false);
    expect(redact('{"a":"\\nsecret-value-x"}', ['nsecret-value-x']).redacted).toBe(false);
    expect(redact('a=%41secret-value-x', ['41secret-value-x']).redacted).toBe(false);
    expect(redact('a=%4Fsecret-value-x', ['Fsecret-value-x']).redacted).toBe(false);
    expect(redact('<a>&#65;secret-value-x</a>', ['5;secret-value-x']).redacted).toBe(false);
    // An escaped backslash is a backslash: what follows it is plain text again.
    expect(redact('{"a":"\\\\nsecret-value-x"}', ['nsecret-value-x']).text).toBe(`{"a":"\\\\${REDACTED}"}`);
  });

  it('property: a secret written in any mix of forms between plain text is replaced, and nothing else changes', () => {
    const secretArb = fc.stringMatching(/^[A-Za-z0-9._~-]{16,40}$/);
    const form = (char: string, choice: number) => {
      const code = char.charCodeAt(0);
      switch (choice) {
        case 0:
          return char;
        case 1:
          return `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
        case 2:
          return `%${code.toString(16).padStart(2, '0')}`;
        case 3:
          return `%25${code.toString(16).toUpperCase().padStart(2, '0')}`;
        case 4:
          return `\\u${code.toString(16).padStart(4, '0')}`;
        case 5:
          return `&#${code};`;
        default:
          return `&#x${code.toString(16)};`;
      }
    };
    // Plain text that cannot join a secret or open an escape: no letters, digits or escape starters.
    const plainArb = fc.stringMatching(/^[ !"'(),:;<=>?@[\]^`{|}]{0,30}$/);
    fc.assert(
      fc.property(
        secretArb,
        plainArb,
        plainArb,
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 40, maxLength: 40 }),
        (secret, before, after, choices) => {
          const written = [...secret].map((char, i) => form(char, choices[i] ?? 0)).join('');
          const result = redact(`${before}${written}${after}`, [secret]);
          expect(result).toEqual({ text: `${before}${REDACTED}${after}`, redacted: true, count: 1 });
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(secretArb, fc.string({ maxLength: 200 }), (secret, body) => {
        fc.pre(!body.includes(secret.slice(0, 4)));
        const input = bytes(body);
        const result = redactSecrets(input, [secret]);
        expect(result.redacted).toBe(false);
        expect(result.bytes.equals(input)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
