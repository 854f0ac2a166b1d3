import { describe, expect, it } from 'vitest';
import { gbk } from '../../infra/testing/gbk.ts';
import { MalformedBodyError } from '../errors.ts';
import { rawBytes } from '../events/cloud-event.ts';
import { declaredCharset, decodeBodyText, rawBodyOf } from './charset.ts';

describe('declaredCharset', () => {
  it.each([
    ['application/xml; charset=GBK', 'GBK'],
    ['text/xml;charset="gb18030"', 'gb18030'],
    ['application/x-www-form-urlencoded; charset=UTF-8', 'UTF-8'],
    ['application/json', undefined],
    ['application/json; charset=', undefined],
  ])('%s -> %s', (contentType, charset) => {
    expect(declaredCharset(contentType)).toBe(charset);
  });
});

describe('decodeBodyText', () => {
  it('decodes by the Content-Type charset: GBK', () => {
    expect(decodeBodyText(gbk('<M>数据失败</M>'), 'application/xml; charset=GBK')).toBe('<M>数据失败</M>');
  });

  it('decodes by the XML declaration when the Content-Type names no charset', () => {
    const body = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="GBK"?><M>'), gbk('数据'), Buffer.from('</M>')]);
    expect(decodeBodyText(body, 'application/xml')).toBe('<?xml version="1.0" encoding="GBK"?><M>数据</M>');
  });

  it('honours a UTF-16 byte order mark, LE and BE, and keeps the mark as U+FEFF', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":"数"}', 'utf16le')]);
    expect(decodeBodyText(le, 'application/json')).toBe('\uFEFF{"a":"数"}');
    const be = Buffer.from(le).swap16();
    expect(decodeBodyText(be, 'application/json')).toBe('\uFEFF{"a":"数"}');
  });

  it('refuses undeclared bytes that are not UTF-8 (400), never replacing them with U+FFFD', () => {
    expect(() => decodeBodyText(gbk('数据'), 'application/xml')).toThrow(MalformedBodyError);
    expect(() => decodeBodyText(gbk('数据'), 'application/xml')).toThrow(/not valid UTF-8 and declares no other encoding/);
  });

  it('refuses bytes that are not valid in the declared encoding, and an unknown label', () => {
    expect(() => decodeBodyText(Buffer.from([0x7b, 0xff, 0x7d]), 'application/json; charset=utf-8')).toThrow(
      /not valid utf-8 text, the encoding declared in the Content-Type charset/,
    );
    expect(() => decodeBodyText(Buffer.from('{}'), 'application/json; charset=klingon')).toThrow(
      /"klingon" in the Content-Type charset, which is not one we know/,
    );
  });
});

describe('rawBodyOf', () => {
  it('keeps UTF-8 as text', () => {
    expect(rawBodyOf(Buffer.from('flowId=1&message=数据'), 'application/x-www-form-urlencoded; charset=UTF-8')).toEqual({
      contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
      body: 'flowId=1&message=数据',
    });
  });

  it('keeps bytes that are not UTF-8 (GBK, UTF-16, garbage) as base64, exactly', () => {
    for (const [bytes, type] of [
      [gbk('数据'), 'application/xml; charset=GBK'],
      [Buffer.from('{}', 'utf16le'), 'application/json; charset=utf-16le'],
      [Buffer.from([0x00, 0xff, 0xfe, 0x80]), 'application/octet-stream'],
    ] as const) {
      const raw = rawBodyOf(bytes, type);
      expect(raw.encoding).toBe('base64');
      expect(rawBytes(raw).equals(bytes)).toBe(true);
    }
  });

  it('keeps ASCII declared as GBK as text (the same text either way), and a UTF-8 byte order mark as U+FEFF', () => {
    expect(rawBodyOf(Buffer.from('<a>1</a>'), 'application/xml; charset=GBK')).toEqual({
      contentType: 'application/xml; charset=GBK',
      body: '<a>1</a>',
    });
    const bom = Buffer.from('\uFEFF{"a":1}');
    const raw = rawBodyOf(bom, 'application/json');
    expect(raw.body).toBe('\uFEFF{"a":1}');
    expect(rawBytes(raw).equals(bom)).toBe(true);
  });
});
