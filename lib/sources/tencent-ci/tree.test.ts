import { describe, expect, it } from 'vitest';
import { decodeJson } from '../../decode/json.ts';
import { decodeXml } from '../../decode/xml.ts';
import { REPEATABLE_NODES, type RepeatableNode } from './repeatable-nodes.ts';
import { type CiNode, type CiValue, cosHeadersOf, toCiTree } from './tree.ts';

/** Every (parent, name) pair of the table, with its entry. */
const PAIRS = REPEATABLE_NODES.flatMap((node) => node.parents.map((parent) => [parent, node.name, node] as const));

/** One item of a repeatable node as XML and as the JSON CI makes of it: text, or a node. */
function item(node: RepeatableNode, value: string): { xml: string; json: unknown; shaped: CiValue } {
  return node.text ? { xml: value, json: value, shaped: value } : { xml: `<V>${value}</V>`, json: { V: value }, shaped: { V: value } };
}

/** A body holding `items` of `name` under `parent` (at the top for `Response`), XML and JSON. */
function bodies(parent: string, name: string, items: ReadonlyArray<{ xml: string; json: unknown }>) {
  const elements = items.map((one) => `<${name}>${one.xml}</${name}>`).join('');
  const json = items.length === 1 ? items[0]?.json : items.map((one) => one.json);
  return parent === 'Response'
    ? { xml: `<Response>${elements}</Response>`, json: JSON.stringify({ [name]: json }) }
    : { xml: `<Response><${parent}>${elements}</${parent}></Response>`, json: JSON.stringify({ [parent]: { [name]: json } }) };
}

/** The value at `parent` > `name` of a shaped tree (in the first `parent` when it is a list itself). */
function valueAt(tree: CiNode, parent: string, name: string): CiValue | undefined {
  if (parent === 'Response') return tree[name];
  const node = Array.isArray(tree[parent]) ? tree[parent][0] : tree[parent];
  return typeof node === 'object' && !Array.isArray(node) ? node[name] : undefined;
}

/** A plain copy (the tree's nodes have no prototype), for comparing with plain objects. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('repeatable CI nodes: every pair of the table, in XML and JSON', () => {
  it('has every pair once', () => {
    const keys = PAIRS.map(([parent, name]) => `${parent}>${name}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(143);
  });

  it.each(PAIRS)('%s > %s: one item is a one-item list, two are two', (parent, name, node) => {
    const one = item(node, 'a');
    const two = [one, item(node, 'b')];
    for (const [items, expected] of [
      [[one], [one.shaped]],
      [two, two.map((i) => i.shaped)],
    ] as const) {
      const { xml, json } = bodies(parent, name, items);
      expect(plain(valueAt(toCiTree(decodeXml(xml)), parent, name)), `XML ${xml}`).toEqual(expected);
      expect(plain(valueAt(toCiTree(decodeJson(json)), parent, name)), `JSON ${json}`).toEqual(expected);
    }
  });

  it.each(PAIRS)('%s > %s: an empty element is an empty list', (parent, name) => {
    const xml = parent === 'Response' ? `<Response><${name}/></Response>` : `<Response><${parent}><${name}/></${parent}></Response>`;
    expect(valueAt(toCiTree(decodeXml(xml)), parent, name)).toEqual([]);
  });
});

describe('names that repeat only under some parents', () => {
  it.each([
    ['ObjectName in Md5Info', '<Md5Info><Md5>m</Md5><ObjectName>a.mp4</ObjectName></Md5Info>', ['Md5Info', 'ObjectName'], 'a.mp4'],
    ['Audio in a Transcode template', '<Transcode><Audio><Codec>aac</Codec></Audio></Transcode>', ['Transcode', 'Audio'], { Codec: 'aac' }],
    [
      'Video in an Animation template',
      '<Animation><Video><Codec>gif</Codec></Video></Animation>',
      ['Animation', 'Video'],
      { Codec: 'gif' },
    ],
    ['Result (a verdict) in a Snapshot', '<Snapshot><Result>1</Result></Snapshot>', ['Snapshot', 'Result'], '1'],
    [
      'Snapshot in an Operation',
      '<Operation><Snapshot><Mode>Interval</Mode></Snapshot></Operation>',
      ['Operation', 'Snapshot'],
      { Mode: 'Interval' },
    ],
    ['Key in CosHeaders', '<CosHeaders><Key>k</Key><Value>v</Value></CosHeaders>', ['CosHeaders', 'Key'], 'k'],
    ['Subtitle in a Stream', '<Stream><Subtitle/></Stream>', ['Stream', 'Subtitle'], ''],
    ['Words in an OCR Detection', '<Detection><Words>w</Words></Detection>', ['Detection', 'Words'], 'w'],
  ])('%s stays one value', (_case, xml, [parent = '', name = ''], expected) => {
    expect(plain(valueAt(toCiTree(decodeXml(`<Response>${xml}</Response>`)), parent, name))).toEqual(expected);
  });

  it('reads category Keywords as text in text results (ReviewText, web page TextResults), as a list elsewhere', () => {
    const text = toCiTree(decodeJson('{"EventName":"ReviewText","JobsDetail":{"PornInfo":{"HitFlag":1,"Keywords":"a,b"}}}'));
    expect(plain(text.JobsDetail)).toEqual([{ PornInfo: { HitFlag: '1', Keywords: 'a,b' } }]);
    const image = toCiTree(decodeJson('{"EventName":"ReviewImage","JobsDetail":{"PornInfo":{"HitFlag":1,"Keywords":"a"}}}'));
    expect(plain(image.JobsDetail)).toEqual([{ PornInfo: { HitFlag: '1', Keywords: ['a'] } }]);
    const page = toCiTree(
      decodeJson(
        '{"EventName":"ReviewHtml","JobsDetail":{"TextResults":{"Results":{"PornInfo":{"Keywords":"x,y"}}},"ImageResults":{"Results":{"PornInfo":{"OcrResults":{"Keywords":"z"},"Keywords":"w"}}}}}',
      ),
    );
    expect(plain(page.JobsDetail)).toEqual([
      {
        TextResults: { Results: [{ PornInfo: { Keywords: 'x,y' } }] },
        ImageResults: { Results: [{ PornInfo: { OcrResults: [{ Keywords: ['z'] }], Keywords: ['w'] } }] },
      },
    ]);
    const textLib = toCiTree(decodeJson('{"EventName":"ReviewText","JobsDetail":{"PornInfo":{"LibResults":{"Keywords":"k"}}}}'));
    expect(plain(textLib.JobsDetail)).toEqual([{ PornInfo: { LibResults: [{ Keywords: ['k'] }] } }]);
  });
});

describe('toCiTree', () => {
  it('turns JSON numbers, booleans and null into text, and never text into numbers', () => {
    const tree = toCiTree(decodeJson('{"A":{"N":7,"F":1.50,"B":true,"Z":null,"S":"0012"}}'));
    expect(plain(tree)).toEqual({ A: { N: '7', F: '1.5', B: 'true', Z: '', S: '0012' } });
  });

  it('unwraps <Response> and {"Response": ...}, but not a Response beside the envelope', () => {
    expect(plain(toCiTree(decodeJson('{"Response":{"EventName":"TaskFinish"}}')))).toEqual({ EventName: 'TaskFinish' });
    expect(plain(toCiTree(decodeXml('<Response><EventName>TaskFinish</EventName></Response>')))).toEqual({ EventName: 'TaskFinish' });
    expect(plain(toCiTree(decodeJson('{"EventName":"X","Response":{"A":"1"}}')))).toEqual({ EventName: 'X', Response: { A: '1' } });
  });

  it('refuses a body that is not an object', () => {
    expect(() => toCiTree(decodeJson('[1]'))).toThrow(/expected an object, received an array/);
  });
});

describe('cosHeadersOf', () => {
  it('reads Key/Value nodes (one or a list) and maps alike, in order', () => {
    const pairs = toCiTree(
      decodeJson(
        '{"H":[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}],"One":{"Key":"c","Value":"3"},"Map":{"x-cos-meta-id":"7","Content-Type":"video/mp4"}}',
      ),
    );
    expect(cosHeadersOf(pairs.H)).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    expect(cosHeadersOf(pairs.One)).toEqual([{ key: 'c', value: '3' }]);
    expect(cosHeadersOf(pairs.Map)).toEqual([
      { key: 'x-cos-meta-id', value: '7' },
      { key: 'Content-Type', value: 'video/mp4' },
    ]);
    expect(cosHeadersOf(undefined)).toEqual([]);
    expect(cosHeadersOf('')).toEqual([]);
  });
});
