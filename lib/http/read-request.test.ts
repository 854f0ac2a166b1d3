import { describe, expect, it } from 'vitest';
import { createHttpEvent } from '../../infra/local/http-event.ts';
import { PayloadTooLargeError } from '../errors.ts';
import { bodyBytesOf, MAX_BODY_BYTES, readBody, readRequest } from './read-request.ts';

describe('readRequest', () => {
  it('reads method, path, query, caller and Content-Type whatever the header case', () => {
    const event = createHttpEvent({ method: 'post', path: '/callbacks/thain/job', query: 'job=a&token=t', sourceIp: '198.51.100.9' });
    event.headers = { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' };
    const request = readRequest(event);
    expect(request).toMatchObject({
      method: 'POST',
      path: '/callbacks/thain/job',
      sourceIp: '198.51.100.9',
      contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
    });
    expect([...request.query]).toEqual([
      ['job', 'a'],
      ['token', 't'],
    ]);
  });

  it('reads the Content-Encoding lower-cased, and none or identity as empty', () => {
    const encoding = (value?: string) =>
      readRequest(createHttpEvent({ ...(value !== undefined && { headers: { 'Content-Encoding': value } }) })).contentEncoding;
    expect(encoding('GZIP')).toBe('gzip');
    expect(encoding('deflate, br')).toBe('deflate, br');
    expect(encoding('identity')).toBe('');
    expect(encoding()).toBe('');
  });

  it('copes with an event that has no headers and no query', () => {
    const event = createHttpEvent({ path: '/' });
    event.headers = {};
    event.rawQueryString = '';
    expect(readRequest(event)).toMatchObject({ contentType: '', path: '/' });
  });
});

describe('readBody', () => {
  it('gives the exact bytes of a base64 body, multi-byte characters and non-UTF-8 bytes included', () => {
    const text = 'message=数据同步%0A&x=🙂';
    expect(readBody(createHttpEvent({ body: Buffer.from(text), isBase64Encoded: true })).toString('utf8')).toBe(text);
    const gbk = Buffer.from([0xca, 0xfd, 0xbe, 0xdd]); // 数据 in GBK
    expect(readBody(createHttpEvent({ body: gbk })).equals(gbk)).toBe(true);
  });

  it('takes a body of exactly the limit (what Lambda can be handed) and refuses one byte more', () => {
    const at = 'a'.repeat(MAX_BODY_BYTES);
    expect(readBody(createHttpEvent({ body: at }))).toHaveLength(MAX_BODY_BYTES);
    expect(() => readBody(createHttpEvent({ body: `${at}a` }))).toThrow(PayloadTooLargeError);
    // What is over is not measured (npm start hands over at most one byte more): the message says
    // "more than" the limit, never a size the sender did not send.
    expect(() => readBody(createHttpEvent({ body: `${at}a` }))).toThrow(
      'body is more than 6291456 bytes as handed to the function, the limit of what Lambda takes in one invocation',
    );
  });

  it('measures a base64 body as delivered: 4/3 of its bytes count against the limit', () => {
    const fits = Buffer.alloc((MAX_BODY_BYTES / 4) * 3, 0x61);
    expect(readBody(createHttpEvent({ body: fits }))).toHaveLength(fits.length);
    expect(() => readBody(createHttpEvent({ body: Buffer.alloc(fits.length + 3, 0x61) }))).toThrow(/base64-encoded/);
  });

  it('counts bytes, not characters: 3-byte characters reach the limit three times sooner', () => {
    const chars = Math.floor(MAX_BODY_BYTES / 3) + 1;
    expect(() => readBody(createHttpEvent({ body: '数'.repeat(chars) }))).toThrow(
      /^body is more than 6291456 bytes as handed to the function,/,
    );
  });

  it('is 6 MB, what Lambda takes in one synchronous invocation', () => {
    expect(MAX_BODY_BYTES).toBe(6_291_456);
  });

  it('reads a missing body as no bytes', () => {
    expect(readBody(createHttpEvent({}))).toHaveLength(0);
  });
});

describe('bodyBytesOf', () => {
  it.each([
    ['text', 'aé語', false],
    ['empty', '', false],
    ['base64 without padding', 'abc', true],
    ['base64 with one =', 'abcde', true],
    ['base64 with two =', 'abcd', true],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x00]), true],
  ] as const)('%s: the bytes readBody reads, without reading them', (_what, body, base64) => {
    const event = createHttpEvent({ body, isBase64Encoded: base64 });
    expect(bodyBytesOf(event)).toBe(readBody(event).length);
  });

  it('is 0 for a request without a body', () => {
    expect(bodyBytesOf(createHttpEvent({ method: 'GET' }))).toBe(0);
  });
});
