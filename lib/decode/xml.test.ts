import { describe, expect, it } from 'vitest';
import { MalformedBodyError } from '../errors.ts';
import { DECODE_LIMITS } from './limits.ts';
import { isPlainData } from './plain-data.ts';
import { decodeXml } from './xml.ts';

/** The MalformedBodyError that decoding `text` throws (fails the test if none is thrown). */
function refusal(text: string): MalformedBodyError {
  try {
    decodeXml(text);
  } catch (error) {
    if (error instanceof MalformedBodyError) return error;
    throw error;
  }
  throw new Error('expected a MalformedBodyError');
}

/** `<a>` nested `levels` deep around a leaf. */
function nested(levels: number): string {
  return `${'<a>'.repeat(levels - 1)}<b>x</b>${'</a>'.repeat(levels - 1)}`;
}

describe('decodeXml: shapes', () => {
  it('reads compact, indented and tab-indented XML, with or without a declaration, alike', () => {
    const compact = '<Response><EventName>TaskFinish</EventName><JobsDetail><JobId>j1</JobId></JobsDetail></Response>';
    const indented =
      '<Response>\n    <EventName>TaskFinish</EventName>\n    <JobsDetail>\n        <JobId>j1</JobId>\n    </JobsDetail>\n</Response>\n';
    const tabs =
      '<?xml version="1.0" encoding="utf-8"?>\n<Response>\n\t<EventName>TaskFinish</EventName>\n\t<JobsDetail>\n\t\t<JobId>j1</JobId>\n\t</JobsDetail>\n</Response>';
    const expected = { Response: { EventName: 'TaskFinish', JobsDetail: { JobId: 'j1' } } };
    expect(decodeXml(compact)).toEqual(expected);
    expect(decodeXml(indented)).toEqual(expected);
    expect(decodeXml(tabs)).toEqual(expected);
  });

  it('reads <X/>, <X></X> and whitespace-only elements as empty strings', () => {
    expect(decodeXml('<R><A/><B></B><C>  \n\t </C><D />\n</R>')).toEqual({ R: { A: '', B: '', C: '', D: '' } });
    expect(decodeXml('<R/>')).toEqual({ R: '' });
  });

  it('turns repeated siblings into a list in document order, wherever they are', () => {
    const value = decodeXml('<R><H><K>a</K></H><X>1</X><H><K>b</K></H><Y/><H><K>c</K></H></R>');
    expect(value).toEqual({ R: { H: [{ K: 'a' }, { K: 'b' }, { K: 'c' }], X: '1', Y: '' } });
  });

  it("keeps a single child as a value, not a list (lists are the caller's schema decision)", () => {
    expect(decodeXml('<R><H><K>a</K></H></R>')).toEqual({ R: { H: { K: 'a' } } });
  });

  it('never coerces values: numbers, hex, leading zeros and booleans stay text', () => {
    expect(decodeXml('<R><A>0012</A><B>0xc64847</B><C>1e3</C><D>true</D><E>7309593</E><F>-0</F></R>')).toEqual({
      R: { A: '0012', B: '0xc64847', C: '1e3', D: 'true', E: '7309593', F: '-0' },
    });
  });

  it('keeps leaf text exactly, including inner and edge spaces', () => {
    expect(decodeXml('<R><A> a  b </A></R>')).toEqual({ R: { A: ' a  b ' } });
  });

  it('decodes character references with any number of leading zeros, as XML allows', () => {
    expect(decodeXml('<R><A>&#000000099;&#x0000000041;&#0065;&#x00042;</A></R>')).toEqual({ R: { A: 'cAAB' } });
    // `&#X42;` (upper-case X) is not XML (only HTML takes it).
    expect(() => decodeXml('<R><A>&#X42;</A></R>')).toThrow(MalformedBodyError);
    expect(() => decodeXml('<R><A>&#00000000;</A></R>')).toThrow(/invalid character reference/);
    expect(() => decodeXml('<R><A>&#0001114112;</A></R>')).toThrow(/invalid character reference/);
    expect(() => decodeXml('<R><A>&#12345678;</A></R>')).toThrow(/invalid character reference/);
  });

  it('decodes the five XML entities and character references once', () => {
    expect(decodeXml('<R><A>&lt;b&gt; &amp; &quot;q&quot; &apos;s&apos;</A><B>&amp;lt;</B><C>&#20013;&#x6587;&#x1F600;</C></R>')).toEqual({
      R: { A: '<b> & "q" \'s\'', B: '&lt;', C: '中文😀' },
    });
  });

  it('reads CDATA literally and ignores comments, attributes and processing instructions', () => {
    expect(decodeXml('<R a="1>2"><!-- <A>no</A> --><?pi x?><A><![CDATA[x < y &amp; <z/>]]></A><B id="x">b</B></R>')).toEqual({
      R: { A: 'x < y &amp; <z/>', B: 'b' },
    });
  });

  it('keeps Chinese text', () => {
    expect(decodeXml('<R><Object>合同/2024/采购合同.docx</Object></R>')).toEqual({
      R: { Object: '合同/2024/采购合同.docx' },
    });
  });
});

describe('decodeXml: object keys', () => {
  it('keeps __proto__, constructor and other built-in names as plain own data', () => {
    const value = decodeXml(
      '<R><__proto__><polluted>yes</polluted></__proto__><constructor>c</constructor><prototype>p</prototype><toString>t</toString><hasOwnProperty>h</hasOwnProperty></R>',
    );
    const root = value.R;
    if (typeof root !== 'object' || Array.isArray(root)) throw new Error('expected an element');
    expect(Object.keys(root)).toEqual(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']);
    expect(Object.getOwnPropertyDescriptor(root, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(isPlainData(root)).toBe(true);
    expect(Object.getPrototypeOf(Object.getPrototypeOf(root))).toBeNull();
    expect(root.constructor).toBe('c');
    expect(root.toString).toBe('t');
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(JSON.parse(JSON.stringify(value))).toEqual({
      R: { ['__proto__']: { polluted: 'yes' }, constructor: 'c', prototype: 'p', toString: 't', hasOwnProperty: 'h' },
    });
  });

  it('keeps repeated __proto__ elements as an own list', () => {
    const value = decodeXml('<R><__proto__>a</__proto__><__proto__>b</__proto__></R>');
    expect(JSON.stringify(value)).toBe('{"R":{"__proto__":["a","b"]}}');
  });

  it('does not leave a missing name reachable through a prototype', () => {
    const value = decodeXml('<R><A>1</A></R>');
    const root = value.R;
    if (typeof root !== 'object' || Array.isArray(root)) throw new Error('expected an element');
    expect(root.constructor).toBeUndefined();
    expect(root.toString).toBeUndefined();
  });
});

describe('decodeXml: several top-level elements', () => {
  it('reads them as if wrapped in <Response>, after the declaration, repeats as lists', () => {
    expect(decodeXml('<EventName>WorkflowFinish</EventName><WorkflowExecution><RunId>r1</RunId></WorkflowExecution>')).toEqual({
      Response: { EventName: 'WorkflowFinish', WorkflowExecution: { RunId: 'r1' } },
    });
    expect(decodeXml('<?xml version="1.0" encoding="utf-8"?>\n<A>1</A>\n<B/>\n<A>2</A>\n')).toEqual({
      Response: { A: ['1', '2'], B: '' },
    });
    expect(decodeXml('<B/><A>1</A>')).toEqual({ Response: { B: '', A: '1' } });
  });

  it('does not count the implied root towards the depth limit', () => {
    expect(() => decodeXml(`<x/>${nested(DECODE_LIMITS.maxDepth)}`)).not.toThrow();
    expect(refusal(`<x/>${nested(DECODE_LIMITS.maxDepth + 1)}`).message).toMatch(/nests deeper than 64/);
  });
});

describe('decodeXml: refusals', () => {
  it('refuses a billion-laughs DOCTYPE before parsing', () => {
    const lol = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE lolz [',
      ' <!ENTITY lol "lol">',
      ...Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
      ']>',
      '<lolz>&lol9;</lolz>',
    ].join('\n');
    const error = refusal(lol);
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/<!DOCTYPE.*refused.*line 2, column 1/);
  });

  it('refuses external entities, and any markup declaration', () => {
    expect(refusal('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>').message).toMatch(/refused/);
    expect(refusal('<!DOCTYPE r SYSTEM "http://example.com/r.dtd"><r/>').message).toMatch(/refused/);
    expect(refusal('<r><!ENTITY x "y"></r>').message).toMatch(/refused/);
    expect(refusal('<!doctype r><r/>').message).toMatch(/refused/);
  });

  it('takes the deepest allowed nesting and refuses one level more', () => {
    expect(() => decodeXml(nested(DECODE_LIMITS.maxDepth))).not.toThrow();
    expect(refusal(nested(DECODE_LIMITS.maxDepth + 1)).message).toMatch(/nests deeper than 64/);
  });

  it('refuses 10,000 levels of nesting', () => {
    expect(refusal(nested(10_000)).message).toMatch(/nests deeper/);
  });

  it('does not count self-closing tags, comments or CDATA as depth', () => {
    const many = `<r>${'<a/>'.repeat(10_000)}<!--${'<a>'.repeat(100)}--><![CDATA[${'<a>'.repeat(100)}]]></r>`;
    expect(() => decodeXml(many)).not.toThrow();
  });

  it.each([
    ['an unclosed element', '<R>\n  <A>1</A>\n  <B>2\n</R>', /line 4/],
    ['mismatched tags', '<R><A>1</B></R>', /line 1/],
    ['a bare ampersand', '<R><A>a & b</A></R>', /'&'/],
    ['an undeclared entity', '<R><A>&nbsp;</A></R>', /undeclared entity "&nbsp;"/],
    ['a forbidden character reference', '<R><A>&#0;</A></R>', /invalid character reference/],
    ['a surrogate character reference', '<R><A>&#xD800;</A></R>', /invalid character reference/],
    ['text between two top-level elements', '<R>1</R>text<S/>', /Extra text at the end \(line 1, column 9\)/],
    ['text after a self-closing first element', '<R/>text<S/>', /text between its top-level elements/],
    ['two top-level elements, one malformed', '<R/>\n<S><T></S>', /line 2/],
    ['text only', 'hello', /.+/],
    ['an unclosed comment', '<R><!-- x</R>', /comment at line 1, column 4 is never closed/],
    ['an unclosed tag', '<R><A', /never closed/],
    ['truncated', '<Response><EventName>TaskFin', /.+/],
  ])('refuses %s with a 400 saying what and where', (_case, text, message) => {
    const error = refusal(text);
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(message);
  });
});
