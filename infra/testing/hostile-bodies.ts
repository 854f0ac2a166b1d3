import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DECODE_LIMITS } from '../../lib/decode/limits.ts';
import { MAX_BODY_BYTES } from '../../lib/http/read-request.ts';
import type { SourceName } from '../../lib/sources/registry.ts';
import { gbk } from './gbk.ts';

/**
 * Worst-case bodies per decoder, generated at any size (the largest accepted, {@link MAX_BODY_BYTES},
 * by default): the shapes that cost a parser most per byte (many siblings, many distinct names, many
 * numbers, long numbers, processing instructions, comments, CDATA, nesting at the allowed depth,
 * escapes and entities, runs of `&`, `=`, `%`) and the shapes that cost the token redaction most
 * (runs of the bytes an escape starts with, runs of the token's own first character). The bench
 * measures their CPU per byte; `infra/build/hostile-run.test.ts` posts them to the bundled
 * functions under Lambda's heap cap. Every body is ASCII but the GBK one, so bytes = characters.
 */

/** Which part of the pipeline a hostile body aims at. */
export type HostileTarget = 'json' | 'xml' | 'form' | 'redaction' | 'charset';

/** One generated request. */
export interface HostileBody {
  /** `<target>-<shape>`, unique. */
  readonly name: string;
  readonly target: HostileTarget;
  readonly source: SourceName;
  /** The request path (a route of the sender). */
  readonly path: string;
  /** The query string, without `?` (the token of a redaction case). */
  readonly query: string;
  readonly contentType: string;
  /** Makes the body (each call anew: at 6 MB, keep only the one in use). */
  body(): Buffer;
  /** Tokens the function is configured with (`TOKENS_<SOURCE>`), for redaction cases. */
  readonly tokens: readonly string[];
}

/** The token the redaction cases configure and send: 32 characters, as `openssl rand -hex 16` makes them. */
export const HOSTILE_TOKEN = 'f3a91c07d2b84e6f9a15c3d7e08b26a4';

/**
 * `head`, then `unit` repeated (at most `maxUnits` times), then `tail`: `size` bytes in all, `pad`
 * filling the rest.
 */
export function fill(head: string, unit: string, tail: string, size: number, pad = ' ', maxUnits = Number.POSITIVE_INFINITY): string {
  const room = size - head.length - tail.length;
  if (room < 0) throw new Error(`a body of ${size} bytes cannot hold its head and tail`);
  const units = Math.min(maxUnits, Math.floor(room / unit.length));
  return `${head}${unit.repeat(units)}${pad.repeat(room - units * unit.length)}${tail}`;
}

/** `head`, then units numbered in base 36 (`<a0/>`, `<a1/>`, ...), then `tail`: `size` bytes in all (spaces fill the rest). */
function numbered(head: string, unit: (n: string) => string, tail: string, size: number): string {
  const room = size - head.length - tail.length;
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; ; i++) {
    const part = unit(i.toString(36));
    if (length + part.length > room) break;
    parts.push(part);
    length += part.length;
  }
  return `${head}${parts.join('')}${' '.repeat(room - length)}${tail}`;
}

const BK_JOB = { source: 'bk-job', path: '/callbacks/bk-job', contentType: 'application/json' } as const;
const CI_JSON = { source: 'tencent-ci', path: '/callbacks/tencent-ci', contentType: 'application/json' } as const;
const CI_XML = { source: 'tencent-ci', path: '/callbacks/tencent-ci', contentType: 'application/xml' } as const;
const THAIN = { source: 'thain', path: '/callbacks/thain/flow', contentType: 'application/x-www-form-urlencoded' } as const;

const BK_HEAD = '{"job_instance_id":20000187,"status":3,"step_instances":[{"step_instance_id":40000501,"status":3}],"x":';
const CI_JSON_HEAD = '{"EventName":"TaskFinish","JobsDetail":{"JobId":"j1","State":"Success","Tag":"Transcode","Operation":{"x":';
const CI_JSON_TAIL = '}}}';
const CI_XML_HEAD =
  '<Response><EventName>TaskFinish</EventName><JobsDetail><JobId>j1</JobId><State>Success</State><Tag>Transcode</Tag><Operation>';
const CI_XML_TAIL = '</Operation></JobsDetail></Response>';
const THAIN_HEAD = 'flowId=1&flowExecutionId=2&code=3&message=';

/** `levels` nested `open`/`close` pairs around `leaf`. */
const nest = (levels: number, open: string, close: string, leaf: string) => `${open.repeat(levels)}${leaf}${close.repeat(levels)}`;

/** The body of a sample from the field (`events/<source>/field/<name>.http`), as text. */
function fieldBody(source: SourceName, name: string): string {
  const file = readFileSync(join(import.meta.dirname, '..', '..', 'events', source, 'field', `${name}.http`));
  return file.subarray(file.indexOf('\n\n') + 2).toString('utf8');
}

/** The 30-minute speech recognition result from the field, its `ResultDetail` sentences repeated to `size` bytes. */
function scaledSpeechRecognition(size: number): string {
  const body = fieldBody('tencent-ci', 'ci-asr-30min-word-detail-xml');
  const first = body.indexOf('<ResultDetail>');
  const last = body.lastIndexOf('</ResultDetail>') + '</ResultDetail>'.length;
  const sentences = body.slice(first, last);
  const head = body.slice(0, first);
  const tail = body.slice(last);
  const bytes = (text: string) => Buffer.byteLength(text);
  const room = size - bytes(head) - bytes(tail);
  const copies = Math.max(1, Math.floor(room / bytes(sentences)));
  const text = `${head}${sentences.repeat(copies)}${tail}`;
  // The rest as whitespace between elements, which XML ignores.
  return text.replace('</Response>', `${' '.repeat(Math.max(0, size - bytes(text)))}</Response>`);
}

/** A Thain job's stderr from the field (curl's progress meter, 285 KB), its message repeated to `size` bytes. */
function scaledStderr(size: number): string {
  const body = fieldBody('thain', 'thain-flow-error-curl-progress-over-256k');
  const at = body.indexOf('&message=') + '&message='.length;
  const message = body.slice(at);
  const repeated = message.repeat(Math.ceil(size / message.length)).slice(0, size - at);
  // An escape cut short at the end becomes spaces (`+`).
  const last = repeated.lastIndexOf('%');
  const whole = last > repeated.length - 3 ? `${repeated.slice(0, last)}${'+'.repeat(repeated.length - last)}` : repeated;
  return `${body.slice(0, at)}${whole}`;
}

/**
 * A real shape of a sender, scaled to the largest body a function is handed: what a big genuine
 * callback costs (the names of cases of {@link hostileBodies}), for the senders the field has given one.
 */
export const SCALED_GENUINE: Readonly<Partial<Record<SourceName, string>>> = {
  'bk-job': 'json-many-steps',
  'tencent-ci': 'xml-speech-recognition-scaled',
  thain: 'form-stderr-scaled',
};

/**
 * Every hostile request, its body made at `size` bytes when asked for (default: the largest accepted body).
 */
export function hostileBodies(size: number = MAX_BODY_BYTES): HostileBody[] {
  const plain = { query: '', tokens: [] as readonly string[] };
  // Shapes made of objects, arrays or elements stop just under the count the decoders refuse
  // (DECODE_LIMITS.maxNodes, `nodes` per unit), spaces filling the rest: the most a body can make
  // them build. Past the count they are refused at once (the `-past-the-count` cases).
  const upTo = (nodes: number) => (nodes === 0 ? Number.POSITIVE_INFINITY : Math.floor((DECODE_LIMITS.maxNodes - 100) / nodes));
  const json = (name: string, unit: string, close = '1]', open = '[', nodes = 0) => ({
    name: `json-${name}`,
    target: 'json' as const,
    ...BK_JOB,
    ...plain,
    body: () => fill(`${BK_HEAD}${open}`, unit, `${close}}`, size, ' ', upTo(nodes)),
  });
  const ciJson = (name: string, unit: string, close = '1]', open = '[', nodes = 0) => ({
    name: `json-ci-${name}`,
    target: 'json' as const,
    ...CI_JSON,
    ...plain,
    body: () => fill(`${CI_JSON_HEAD}${open}`, unit, `${close}${CI_JSON_TAIL}`, size, ' ', upTo(nodes)),
  });
  const xml = (name: string, unit: string, nodes = 0) => ({
    name: `xml-${name}`,
    target: 'xml' as const,
    ...CI_XML,
    ...plain,
    body: () => fill(CI_XML_HEAD, unit, CI_XML_TAIL, size, ' ', upTo(nodes)),
  });
  const form = (name: string, unit: string, head = THAIN_HEAD) => ({
    name: `form-${name}`,
    target: 'form' as const,
    ...THAIN,
    ...plain,
    body: () => fill(head, unit, '', size, unit === '=' ? '=' : 'x'),
  });
  // Redaction: the token configured and sent, bodies that make the scanner look hardest.
  const redaction = (name: string, unit: string) => ({
    name: `redaction-${name}`,
    target: 'redaction' as const,
    ...THAIN,
    query: `token=${HOSTILE_TOKEN}`,
    tokens: [HOSTILE_TOKEN],
    body: () => fill(THAIN_HEAD, unit, '', size, 'x'),
  });
  const depth63 = nest(62, '[', ']', '1');
  const depth64 = nest(60, '<a>', '</a>', '<b/>');
  const cases: Array<Omit<HostileBody, 'body'> & { body: () => string | Buffer }> = [
    // JSON: bk-job (a strict schema around a free-form rest) and Tencent CI (the whole tree is shaped).
    json('many-steps', '{"step_instance_id":40000502,"status":3},', '{"step_instance_id":1,"status":3}]', '[', 1),
    {
      ...json('many-empty-steps-past-the-count', '{},'),
      body: () => fill('{"job_instance_id":1,"status":3,"step_instances":[', '{},', '{}]}', size),
    },
    {
      ...json('many-empty-steps', '{},'),
      body: () => fill('{"job_instance_id":1,"status":3,"step_instances":[', '{},', '{}]}', size, ' ', upTo(1)),
    },
    json('many-numbers', '1,'),
    json('many-zeros', '0,', '0]'),
    json('long-integers', '12345678901234567890,'),
    json('one-long-number', '9', '9', ''),
    json('many-small-objects', '{"a":1},', '{}]', '[', 1),
    json('many-empty-arrays', '[],', '[]]', '[', 1),
    json('allowed-depth', `${depth63},`, `${depth63}]`, '[', 62),
    json('escapes', '\\u0041', '"', '"'),
    json('escaped-quotes', '\\"', '"', '"'),
    json('many-strings', '"a",', '"a"]'),
    json('trailing-commas', '[1,],', '[1,]]', '[', 1),
    json('too-deep', '[', ''),
    json('broken-at-end', '1,', '1}'),
    {
      name: 'json-many-keys',
      target: 'json',
      ...BK_JOB,
      ...plain,
      body: () => numbered(`${BK_HEAD}{`, (n) => `"k${n}":1,`, '"z":1}}', size),
    },
    ciJson('many-zeros', '0,', '0]'),
    ciJson('many-small-objects', '{"a":1},', '{}]', '[', 1),
    {
      name: 'json-ci-many-keys',
      target: 'json',
      ...CI_JSON,
      ...plain,
      body: () => numbered(`${CI_JSON_HEAD}{`, (n) => `"k${n}":1,`, `"z":1}${CI_JSON_TAIL}`, size),
    },
    {
      name: 'json-ci-unknown-event',
      target: 'json',
      ...CI_JSON,
      ...plain,
      body: () =>
        fill(
          '{"EventName":"SomethingNew","JobsDetail":{"JobId":"j1","State":"Success","x":[',
          '{"a":1},',
          `{}]${CI_JSON_TAIL.slice(1)}`,
          size,
          ' ',
          upTo(1),
        ),
    },
    // XML: Tencent CI (the only sender that takes XML).
    xml('many-siblings', '<a>1</a>', 1),
    xml('many-empty-elements', '<a/>', 1),
    { ...xml('many-empty-elements-past-the-count', '<a/>') },
    {
      name: 'xml-many-distinct-elements',
      target: 'xml',
      ...CI_XML,
      ...plain,
      body: () => numbered(CI_XML_HEAD, (n) => `<a${n}/>`, CI_XML_TAIL, size),
    },
    xml('processing-instructions', '<?a?>'),
    xml('comments', '<!---->'),
    xml('cdata', '<![CDATA[]]>'),
    xml('attributes', '<a b="1" c=\'2\'/>', 1),
    xml('allowed-depth', depth64, 61),
    xml('text-entities', '&amp;'),
    xml('character-references', '&#x4E2D;'),
    xml('whitespace', ' '),
    {
      name: 'xml-unknown-event',
      target: 'xml',
      ...CI_XML,
      ...plain,
      body: () =>
        fill(
          '<Response><EventName>SomethingNew</EventName><JobsDetail><JobId>j1</JobId><x>',
          '<a>1</a>',
          '</x></JobsDetail></Response>',
          size,
          ' ',
          upTo(1),
        ),
    },
    { name: 'xml-speech-recognition-scaled', target: 'xml', ...CI_XML, ...plain, body: () => scaledSpeechRecognition(size) },
    {
      name: 'xml-broken-at-end',
      target: 'xml',
      ...CI_XML,
      ...plain,
      body: () => fill(CI_XML_HEAD, '<a>1</a>', CI_XML_TAIL.slice(0, -1), size, ' ', upTo(1)),
    },
    // Form: Thain.
    { name: 'form-stderr-scaled', target: 'form', ...THAIN, ...plain, body: () => scaledStderr(size) },
    form('long-message', 'x'),
    form('escaped-message', '%0A'),
    form('plus-message', '+'),
    form('many-fields', 'a=&'),
    form('ampersands', '&'),
    form('equals', '='),
    form('bad-utf8-escapes', '%C3%28'),
    // Redaction, with the token configured and sent.
    redaction('percents', '%'),
    redaction('backslashes', '\\'),
    redaction('ampersands', '&'),
    redaction('encoded-percents', '%25'),
    redaction('hex-digits', 'a'),
    redaction('token-first-character', HOSTILE_TOKEN.charAt(0)),
    redaction('token-prefix', HOSTILE_TOKEN.slice(0, 31)),
    redaction('character-references', '&#'),
    redaction('json-unicode-escapes', '\\u00'),
    // Charset: a declared GBK body, decoded by ICU.
    {
      name: 'charset-gbk-xml',
      target: 'charset',
      ...CI_XML,
      contentType: 'application/xml; charset=GBK',
      ...plain,
      body: () => {
        const head = gbk(CI_XML_HEAD.replace('<Operation>', '<Message>'));
        const tail = gbk(CI_XML_TAIL.replace('</Operation>', '</Message>'));
        // Not UTF-8, so handed over base64-encoded: 3 bytes for every 4 of the limit.
        const room = Math.floor((size * 3) / 4) - head.length - tail.length;
        // 失败 ("failed") is 4 bytes in GBK; an odd byte left over is a space.
        return Buffer.concat([head, Buffer.alloc(room - (room % 4), gbk('失败')), Buffer.alloc(room % 4, ' '), tail]);
      },
    },
  ];
  return cases.map((c) => ({
    ...c,
    body: () => {
      const made = c.body();
      return typeof made === 'string' ? Buffer.from(made, 'utf8') : made;
    },
  }));
}
