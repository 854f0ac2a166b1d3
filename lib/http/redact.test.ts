import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apacheForm } from '../../infra/testing/apache-form.ts';
import { gbk } from '../../infra/testing/gbk.ts';
import { MAX_LAYERS, REDACTED, redactSecrets, redactText } from './redact.ts';

const TOKEN = 'EXAMPLE-SECRET-TOKEN';
const bytes = (text: string) => Buffer.from(text, 'utf8');
const redact = (text: string, secrets: string[] = [TOKEN], contentType = '') => {
  const result = redactSecrets(bytes(text), secrets, contentType);
  return { text: result.bytes.toString('utf8'), redacted: result.redacted, count: result.count };
};

/** Each character of `text` percent-encoded, `%XX` per UTF-8 byte. */
const percentAll = (text: string, lower = false) =>
  [...bytes(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')[lower ? 'toLowerCase' : 'toUpperCase']()}`).join('');
const jsonUnicode = (text: string) => [...text].map((char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`).join('');
const utf16le = (text: string) => Buffer.from(text, 'utf16le');
const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();
const LE_BOM = Buffer.from([0xff, 0xfe]);
const BE_BOM = Buffer.from([0xfe, 0xff]);

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
    // Every byte encoded, upper or lower case, or encoded two or three times (a URL inside a URL inside a URL).
    const percent25 = (text: string) => text.replaceAll('%', '%25');
    for (const written of [
      percentAll(TOKEN),
      percentAll(TOKEN, true),
      percent25(percentAll(TOKEN)),
      percent25(percent25(percentAll(TOKEN))),
    ]) {
      expect(redact(`callback=x%3Ftoken%3D${written}&code=2`).text, written).toBe(`callback=x%3Ftoken%3D${REDACTED}&code=2`);
    }
  });

  it('XML character references, decimal or hex, with any number of leading zeros, and under &amp;', () => {
    const references = [...TOKEN]
      .map((char, i) => {
        const code = char.charCodeAt(0);
        return [`&#${code};`, `&#x${code.toString(16)};`, `&#000000${code};`, `&#X00${code.toString(16).toUpperCase()};`, `&amp;#${code};`][
          i % 5
        ];
      })
      .join('');
    const body = `<Response><Url>https://h/cb?a=1&amp;token=${references}</Url></Response>`;
    expect(redact(body).text).toBe(`<Response><Url>https://h/cb?a=1&amp;token=${REDACTED}</Url></Response>`);
  });

  it(`escapes inside escapes, up to ${MAX_LAYERS} layers: JSON in JSON, a percent-encoded URL in JSON escapes`, () => {
    const inJsonInJson = `{"a":"{\\"u\\":\\"${jsonUnicode(TOKEN).replaceAll('\\', '\\\\')}\\"}"}`;
    expect(JSON.parse(JSON.parse(inJsonInJson).a).u).toBe(TOKEN);
    expect(redact(inJsonInJson).text).toBe(`{"a":"{\\"u\\":\\"${REDACTED}\\"}"}`);
    const percentInJson = `{"u":"${[...percentAll(TOKEN)].map((char) => (char === '%' ? '\\u0025' : char)).join('')}"}`;
    expect(redact(percentInJson).text).toBe(`{"u":"${REDACTED}"}`);
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

describe('redactSecrets: in the body’s own character encoding', () => {
  const json = `{"callback":{"url":"https://h/cb?token=${TOKEN}"},"note":"失败"}`;
  const expected = `{"callback":{"url":"https://h/cb?token=${REDACTED}"},"note":"失败"}`;

  it('UTF-16LE and UTF-16BE, by byte order mark or by the Content-Type charset; the marker is written in that encoding', () => {
    const cases: Array<[string, Buffer, string, (text: string) => Buffer]> = [
      ['LE with BOM', Buffer.concat([LE_BOM, utf16le(json)]), 'application/json', (t) => Buffer.concat([LE_BOM, utf16le(t)])],
      ['BE with BOM', Buffer.concat([BE_BOM, utf16be(json)]), 'application/json', (t) => Buffer.concat([BE_BOM, utf16be(t)])],
      ['LE by charset', utf16le(json), 'application/json; charset=UTF-16LE', utf16le],
      ['BE by charset', utf16be(json), 'application/json; charset=utf-16be', utf16be],
      ['"utf-16" (LE) by charset', utf16le(json), 'application/json; charset="utf-16"', utf16le],
    ];
    for (const [name, body, contentType, encode] of cases) {
      const result = redactSecrets(body, [TOKEN], contentType);
      expect(result.bytes.equals(encode(expected)), name).toBe(true);
      expect(result.count, name).toBe(1);
    }
  });

  it('UTF-16 with escapes (JSON \\u, percent-encoding), and UTF-16 declared nowhere (found by its NUL bytes)', () => {
    const escaped = `{"u":"${jsonUnicode(TOKEN)}","v":"${percentAll(TOKEN)}"}`;
    const result = redactSecrets(Buffer.concat([LE_BOM, utf16le(escaped)]), [TOKEN], 'application/json');
    expect(result.bytes.equals(Buffer.concat([LE_BOM, utf16le(`{"u":"${REDACTED}","v":"${REDACTED}"}`)]))).toBe(true);
    expect(redactSecrets(utf16be(json), [TOKEN], 'application/json').bytes.equals(utf16be(expected))).toBe(true);
    expect(redactSecrets(utf16le(json), [TOKEN]).bytes.equals(utf16le(expected))).toBe(true);
  });

  it('UTF-8 bytes wrongly declared as UTF-16 or GBK are also read as UTF-8', () => {
    expect(redact(json, [TOKEN], 'application/json; charset=utf-16').text).toBe(expected);
    expect(redact(`<?xml version="1.0" encoding="UTF-16"?><a>${TOKEN}</a>`).text).toBe(
      `<?xml version="1.0" encoding="UTF-16"?><a>${REDACTED}</a>`,
    );
    // 败 in UTF-8 ends in 0xA5, a GBK lead byte: read as GBK, it would take the token's first letter.
    expect(redact(`失败${TOKEN}`, [TOKEN], 'text/plain; charset=GBK').text).toBe(`失败${REDACTED}`);
  });

  it('GBK and GB18030 bodies: found after any character, and never inside a two-byte character', () => {
    const body = gbk(`<Message>失败 ${TOKEN}</Message>失${TOKEN}`);
    const result = redactSecrets(body, [TOKEN], 'application/xml; charset=GBK');
    expect(result.bytes.equals(gbk(`<Message>失败 ${REDACTED}</Message>失${REDACTED}`))).toBe(true);
    // 0x95 0x5C is one GBK character (昞) whose second byte is `\`: what follows is no JSON escape, so
    // `\u0045` + the rest of the token is not the token, and the character stays whole.
    const trailBackslash = Buffer.concat([Buffer.from([0x95, 0x5c]), bytes(`u0045${TOKEN.slice(1)}`)]);
    expect(new TextDecoder('gbk').decode(trailBackslash)).toBe(`昞u0045${TOKEN.slice(1)}`);
    for (const charset of ['GBK', 'gb18030', 'GB2312']) {
      const kept = redactSecrets(trailBackslash, [TOKEN], `text/plain; charset=${charset}`);
      expect(kept.redacted, charset).toBe(false);
      expect(kept.bytes.equals(trailBackslash), charset).toBe(true);
    }
    // A lead byte before the token makes a character with the token's first letter (0x81 0x45 is 丒):
    // the text holds no token there, and replacing it would split that character.
    const leadBefore = Buffer.concat([Buffer.from([0x81]), bytes(TOKEN)]);
    expect(new TextDecoder('gbk').decode(leadBefore)).toBe(`丒${TOKEN.slice(1)}`);
    expect(redactSecrets(leadBefore, [TOKEN], 'text/plain; charset=GBK').redacted).toBe(false);
    // Read as bytes (no charset), the same body holds the token.
    expect(redactSecrets(leadBefore, [TOKEN]).bytes.equals(Buffer.concat([Buffer.from([0x81]), bytes(REDACTED)]))).toBe(true);
  });

  it('a body that is not valid in the encoding it declares is also read as bytes: it will be refused and kept as it is', () => {
    // 0xFF is no GBK lead byte; 0x81 0x45 would take the token's first letter.
    const invalid = Buffer.concat([Buffer.from([0xff, 0x81]), bytes(TOKEN)]);
    expect(() => new TextDecoder('gbk', { fatal: true }).decode(invalid)).toThrow();
    expect(
      redactSecrets(invalid, [TOKEN], 'text/plain; charset=GBK').bytes.equals(Buffer.concat([invalid.subarray(0, 2), bytes(REDACTED)])),
    ).toBe(true);
    // A lone surrogate makes UTF-16 invalid; the ASCII token in it is found as bytes.
    const lone = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xd8]), bytes(` ${TOKEN}`)]);
    expect(redactSecrets(lone, [TOKEN]).bytes.includes(bytes(REDACTED))).toBe(true);
  });

  it('GB18030 four-byte characters, Big5 and Shift_JIS second bytes in the ASCII range', () => {
    // 0x81 0x30 0x81 0x30 is U+0080 in GB18030: four bytes, two of them ASCII digits.
    const four = Buffer.concat([Buffer.from([0x81, 0x30, 0x81, 0x30]), bytes(TOKEN)]);
    expect(
      redactSecrets(four, [TOKEN], 'text/plain; charset=gb18030').bytes.equals(Buffer.concat([four.subarray(0, 4), bytes(REDACTED)])),
    ).toBe(true);
    // Big5 0xA4 0x40 (一) and Shift_JIS 0x83 0x41 (ア): second bytes `@` and `A`.
    for (const [charset, lead, trail] of [
      ['big5', 0xa4, 0x40],
      ['shift_jis', 0x83, 0x41],
    ] as const) {
      const whole = Buffer.concat([Buffer.from([lead, trail]), bytes(`=${TOKEN}`)]);
      expect(redactSecrets(whole, [TOKEN], `text/plain; charset=${charset}`).bytes.toString('latin1'), charset).toBe(
        Buffer.concat([Buffer.from([lead, trail]), bytes(`=${REDACTED}`)]).toString('latin1'),
      );
      const split = Buffer.concat([Buffer.from([lead]), bytes(TOKEN)]);
      expect(redactSecrets(split, [TOKEN], `text/plain; charset=${charset}`).redacted, charset).toBe(
        TOKEN.startsWith(String.fromCharCode(trail)),
      );
    }
  });
});

describe('redactSecrets: only token-shaped secrets', () => {
  it('ignores a value that is not 16 to 256 characters of A-Z a-z 0-9 - . _ ~: no configured token is anything else', () => {
    // Before, a short `?token=abc` (none configured) was replaced where it was a token= value, and
    // values with spaces or other characters anywhere: they cannot be a token of ours.
    const body = '{"id":"abc","u":"https://h/cb?x=abc&token=abc","v":"secret value 1234 and tökenwert-語-1234"}';
    for (const secret of ['abc', 'fifteen-chars-x', 'secret value 1234', 'tökenwert-語-1234', 'abc+defghijklmnopq', 'a'.repeat(257), '']) {
      const result = redactSecrets(bytes(body), [secret]);
      expect(result.redacted, secret).toBe(false);
      expect(result.bytes.equals(bytes(body))).toBe(true);
    }
    expect(redact(`a=${'b'.repeat(256)}`, ['b'.repeat(256)]).text).toBe(`a=${REDACTED}`);
  });

  it('redactText: a label or a path', () => {
    expect(redactText(`https://x/?token=${TOKEN}`, [TOKEN])).toBe(`https://x/?token=${REDACTED}`);
    expect(redactText(`/${encodeURIComponent(encodeURIComponent(TOKEN))}/flow`, [TOKEN])).toBe(`/${TOKEN}/flow`.replace(TOKEN, REDACTED));
    expect(redactText('plain', [TOKEN])).toBe('plain');
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
    const chinese = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]); // 你好 in GBK
    const body = Buffer.concat([chinese, bytes(`&token=${TOKEN}&`), chinese]);
    const result = redactSecrets(body, [TOKEN]);
    expect(result.bytes.equals(Buffer.concat([chinese, bytes(`&token=${REDACTED}&`), chinese]))).toBe(true);
  });

  it('never starts a replacement inside an escape sequence, which would break the body', () => {
    // Each body holds a string that *decodes* to something else than the secret.
    expect(redact('{"a":"\\u0041secret-value-xyz12"}', ['u0041secret-value-xyz12']).redacted).toBe(false);
    expect(redact('{"a":"\\nsecret-value-xyz12"}', ['nsecret-value-xyz12']).redacted).toBe(false);
    expect(redact('a=%41secret-value-xyz12', ['41secret-value-xyz12']).redacted).toBe(false);
    expect(redact('a=%4Fsecret-value-xyz12', ['Fsecret-value-xyz12']).redacted).toBe(false);
    expect(redact('<a>&#65;secret-value-xyz12</a>', ['65secret-value-xyz12']).redacted).toBe(false);
    // An escaped backslash is a backslash: what follows it is plain text again.
    expect(redact('{"a":"\\\\nsecret-value-xyz12"}', ['nsecret-value-xyz12']).text).toBe(`{"a":"\\\\${REDACTED}"}`);
  });

  it('property: a secret written in any mix of forms between plain text is replaced, and nothing else changes', () => {
    const secretArb = fc.stringMatching(/^[A-Za-z0-9._~-]{16,40}$/);
    const hex = (code: number, pad: number) => code.toString(16).padStart(pad, '0');
    const forms = [
      (code: number) => String.fromCharCode(code),
      (code: number) => `%${hex(code, 2).toUpperCase()}`,
      (code: number) => `%${hex(code, 2)}`,
      (code: number) => `%25${hex(code, 2).toUpperCase()}`,
      (code: number) => `%2525${hex(code, 2)}`,
      (code: number) => `\\u${hex(code, 4)}`,
      (code: number) => `\\u${hex(code, 4).toUpperCase()}`,
      (code: number) => `&#${code};`,
      (code: number) => `&#0000${code};`,
      (code: number) => `&#x${hex(code, 1)};`,
      (code: number) => `&#X000${hex(code, 1).toUpperCase()};`,
      (code: number) => `&amp;#${code};`,
      (code: number) => `\\u0025${hex(code, 2)}`,
    ];
    // Plain text that cannot join a secret or open an escape: no letters, digits or escape starters.
    const plainArb = fc.stringMatching(/^[ !"'(),:;<=>?@[\]^`{|}]{0,30}$/);
    fc.assert(
      fc.property(
        secretArb,
        plainArb,
        plainArb,
        fc.array(fc.integer({ min: 0, max: forms.length - 1 }), { minLength: 40, maxLength: 40 }),
        (secret, before, after, choices) => {
          const written = [...secret].map((char, i) => forms[choices[i] ?? 0]?.(char.charCodeAt(0))).join('');
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

  it('property: any bytes with the secret inserted somewhere lose exactly that occurrence', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9._~-]{16,64}$/),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }),
        (secret, before, after) => {
          // Bytes that end an escape or a character on both sides, so the secret stands alone.
          const body = Buffer.concat([before, bytes(` ${secret} `), after]);
          const result = redactSecrets(body, [secret]);
          expect(result.bytes.includes(bytes(` ${REDACTED} `))).toBe(true);
          expect(result.bytes.includes(bytes(secret))).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('redactSecrets: linear work whatever the body', () => {
  const SIZE = 6 * 1024 * 1024;
  const token = (last: string) => `${'a'.repeat(255)}${last}`;
  const fill = (unit: string) => Buffer.alloc(SIZE, unit);
  const cases: Array<[string, Buffer, string[]]> = [
    ['6 MB of "a", token a…ab', fill('a'), [token('b')]],
    ['6 MB of "a", token b + a…a', fill('a'), [`b${'a'.repeat(255)}`]],
    ['6 MB of hex, a hex token', Buffer.from(Buffer.alloc(SIZE / 2, 0xab).toString('hex')), [`${'ab'.repeat(127)}ac`]],
    ['6 MB of "%"', fill('%'), [token('b')]],
    ['6 MB of "%25"', fill('%25'), [token('b')]],
    ['6 MB of "%2"', fill('%2'), [token('b')]],
    ['6 MB of "%2525…" (a layer more each pass)', Buffer.concat([bytes('%'), fill('25')]), [token('b')]],
    ['6 MB of "\\"', fill('\\'), [token('b')]],
    ['6 MB of "\\u00"', fill('\\u00'), [token('b')]],
    ['6 MB of "&#"', fill('&#'), [token('b')]],
    ['6 MB of "&#0" (no ";")', Buffer.concat([bytes('&#'), fill('0')]), [token('b')]],
    ['6 MB of "&amp;"', fill('&amp;'), [token('b')]],
    ['6 MB of "&am"', fill('&am'), [token('b')]],
    ['6 MB of "%61" (decodes to a…)', fill('%61'), [token('b')]],
    ['6 MB of "&#97;" in UTF-16LE', Buffer.concat([LE_BOM, Buffer.from('&#97;'.repeat(SIZE / 10), 'utf16le')]), [token('b')]],
    ['6 MB of GBK "失" + "a"', Buffer.concat(Array.from({ length: SIZE / 3 }, () => gbk('失a'))), [token('b')]],
  ];

  it.each(cases)('%s: the passes read at most 9 codes per byte', (name, body, secrets) => {
    const started = performance.now();
    const result = redactSecrets(body, secrets, name.includes('GBK') ? 'text/plain; charset=GBK' : '');
    const ms = performance.now() - started;
    console.log(
      `redact ${name}: ${body.length} bytes, ${result.work} codes read (${(result.work / body.length).toFixed(2)} per byte), ${ms.toFixed(0)} ms`,
    );
    expect(result.redacted).toBe(false);
    expect(result.work).toBeLessThanOrEqual((1 + 2 * MAX_LAYERS) * body.length);
  });

  it('the work grows with the body, not with its square: twice the body, at most twice the work', () => {
    const work = (size: number) => redactSecrets(Buffer.from('%25&#0\\u'.repeat(size)), [token('b')]).work;
    expect(work(200_000)).toBeLessThan(2.001 * work(100_000));
  });
});
