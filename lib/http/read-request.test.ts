import { describe, expect, it } from 'vitest';
import { createHttpEvent } from '../../infra/local/http-event.ts';
import { MalformedBodyError, PayloadTooLargeError } from '../errors.ts';
import { MAX_BODY_BYTES, readBody, readRequest } from './read-request.ts';

describe('readRequest', () => {
  it('reads method, path, query, caller and Content-Type whatever the header case', () => {
    const event = createHttpEvent({ method: 'post', path: '/callbacks/thain/job', query: 'job=a&token=t', sourceIp: '198.51.100.9' });
    event.headers = { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' };
    const request = readRequest(event);
    expect(request).toMatchObject({ method: 'POST', path: '/callbacks/thain/job', sourceIp: '198.51.100.9', contentType: 'application/x-www-form-urlencoded; charset=UTF-8' });
    expect([...request.query]).toEqual([['job', 'a'], ['token', 't']]);
  });

  it('copes with an event that has no headers and no query', () => {
    const event = createHttpEvent({ path: '/' });
    event.headers = {};
    event.rawQueryString = '';
    expect(readRequest(event)).toMatchObject({ contentType: '', path: '/' });
  });
});

describe('readBody', () => {
  it('decodes a base64 body to the exact text, multi-byte characters included', () => {
    const text = 'message=数据同步%0A&x=🙂';
    expect(readBody(createHttpEvent({ body: Buffer.from(text), isBase64Encoded: true }))).toBe(text);
  });

  it('takes a body of exactly the limit and refuses one byte more, base64 or not', () => {
    const at = 'a'.repeat(MAX_BODY_BYTES);
    expect(readBody(createHttpEvent({ body: at }))).toHaveLength(MAX_BODY_BYTES);
    expect(readBody(createHttpEvent({ body: Buffer.from(at) }))).toHaveLength(MAX_BODY_BYTES);
    expect(() => readBody(createHttpEvent({ body: `${at}a` }))).toThrow(PayloadTooLargeError);
    expect(() => readBody(createHttpEvent({ body: Buffer.from(`${at}a`) }))).toThrow(PayloadTooLargeError);
  });

  it('counts bytes, not characters: 3-byte characters reach the limit three times sooner', () => {
    const chars = Math.floor(MAX_BODY_BYTES / 3) + 1;
    expect(() => readBody(createHttpEvent({ body: '数'.repeat(chars) }))).toThrow(/bytes; the limit is/);
  });

  it('refuses base64 bytes that are not UTF-8', () => {
    expect(() => readBody(createHttpEvent({ body: Buffer.from([0x66, 0x6f, 0xc3, 0x28]) }))).toThrow(MalformedBodyError);
  });

  it('reads a missing body as empty', () => {
    expect(readBody(createHttpEvent({}))).toBe('');
  });
});
