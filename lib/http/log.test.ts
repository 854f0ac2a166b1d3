import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpEvent } from '../../infra/local/http-event.ts';
import { metricDatapoints } from '../../infra/local/metric-counters.ts';
import { startTestSqs, type TestSqs } from '../../infra/testing/sqs.ts';
import { DECODE_LIMITS } from '../decode/limits.ts';
import { MalformedBodyError } from '../errors.ts';
import { outcomeOf } from '../metrics/catalogue.ts';
import { createSqsQuarantine } from '../queue/quarantine.ts';
import { createSqsQueue } from '../queue/send-event.ts';
import { loadAllCallbacks, loadCallbacks } from '../sources/load-callbacks.ts';
import type { SourceName } from '../sources/registry.ts';
import type { Callbacks } from '../sources/source.ts';
import { accessPolicy } from './authorize.ts';
import { type CallbackHandler, createCallbackHandler } from './callback-handler.ts';
import { describeError, formatLogLine, MAX_LOG_LINE_BYTES, setLogWriter } from './log.ts';
import { MAX_BODY_BYTES } from './read-request.ts';

// Issue 13: no body content, no query value, no path and no parser quote reaches a log line, and
// no line is longer than MAX_LOG_LINE_BYTES. Every decoder and every error path is fed bodies that
// carry MARKER (in keys, values, tag names, entity names, paths, queries, methods, content types),
// through the real handlers, a real local queue and a real local quarantine.

const MARKER = 'MkR7q';
const TOKEN = 'log-test-token-0123456789';
const m = (n = 1) => MARKER.repeat(n);
/** Markers enough to take a body past the limit. */
const OVERSIZE = Math.ceil(MAX_BODY_BYTES / MARKER.length) + 1;

interface Case {
  readonly name: string;
  readonly source: SourceName;
  readonly body?: string | Buffer;
  readonly path?: string;
  readonly routeKey?: string;
  readonly query?: string;
  readonly method?: string;
  readonly contentType?: string;
  readonly frontDoor?: 'functionUrl';
  /** The status the case must get, so that each path is known to be the one exercised. */
  readonly status: number;
}

const BK = { source: 'bk-job', path: '/callbacks/bk-job', routeKey: 'ANY /callbacks/bk-job' } as const;
const CI = { source: 'tencent-ci', path: '/callbacks/tencent-ci', routeKey: 'ANY /callbacks/tencent-ci' } as const;
const THAIN = { source: 'thain', path: '/callbacks/thain/flow', routeKey: 'ANY /callbacks/thain/{kind}' } as const;
const thainJob = { ...THAIN, path: '/callbacks/thain/job' } as const;

const CASES: readonly Case[] = [
  // Accepted, with the marker in content, labels and the Content-Type (ids are logged on purpose).
  {
    name: 'valid bk-job, marker in content',
    ...BK,
    body: `{"job_instance_id":1,"status":3,"note":"${m()}","${m()}":[1]}`,
    query: `team=${m()}&token=${TOKEN}`,
    contentType: `application/${m()}`,
    status: 200,
  },
  {
    name: 'valid thain, marker in message',
    ...THAIN,
    body: `flowId=1&flowExecutionId=2&code=3&message=${m(3)}`,
    query: `token=${TOKEN}`,
    status: 200,
  },
  {
    name: 'valid ci, marker in values',
    ...CI,
    body: `<Response><EventName>${m()}</EventName><${m()}>${m()}</${m()}></Response>`,
    query: `token=${TOKEN}`,
    status: 200,
  },
  // JSON that does not parse: V8 quotes the body in these messages.
  { name: 'json: unexpected token', ...BK, body: `{"s":${m()},"pw":"${m()}"}`, query: `token=${TOKEN}`, status: 400 },
  { name: 'json: truncated', ...BK, body: `{"${m()}":"${m()}`, query: `token=${TOKEN}`, status: 400 },
  { name: 'json: garbage after', ...BK, body: `{"a":1} ${m()}`, query: `token=${TOKEN}`, status: 400 },
  { name: 'json: control character', ...BK, body: `{"${m()}":"\u0001${m()}"}`, query: `token=${TOKEN}`, status: 400 },
  { name: 'json: bad escape', ...BK, body: `{"${m()}":"\\q${m()}"}`, query: `token=${TOKEN}`, status: 400 },
  {
    name: 'json: too deep',
    ...BK,
    body: `${'['.repeat(DECODE_LIMITS.maxDepth + 1)}"${m()}"${']'.repeat(DECODE_LIMITS.maxDepth + 1)}`,
    query: `token=${TOKEN}`,
    status: 400,
  },
  {
    name: 'json: newline and "at" in the quoted body',
    ...BK,
    body: `{"a":\n    at ${m()} (${m()}:1:1)`,
    query: `token=${TOKEN}`,
    status: 400,
  },
  // XML that does not parse: validator and parser messages name tags and entities.
  { name: 'xml: unclosed tag', ...CI, body: `<Response><${m(20_000)}>`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: mismatched end tag', ...CI, body: `<Response><a></${m()}></Response>`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: doctype', ...CI, body: `<!DOCTYPE ${m()} [<!ENTITY ${m()} "x">]><Response/>`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: undeclared entity', ...CI, body: `<Response><a>&${m()};</a></Response>`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: unterminated entity', ...CI, body: `<Response><a>&${m()}</a></Response>`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: bad character reference', ...CI, body: `<Response><a>&#0;${m()}</a></Response>`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: text between top-level elements', ...CI, body: `<${m()}/>${m()}<${m()}/>`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: bad attribute', ...CI, body: `<Response ${m()}=></Response>`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: unclosed comment', ...CI, body: `<Response><!-- ${m()}`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: unclosed CDATA', ...CI, body: `<Response><![CDATA[${m()}`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: unclosed processing instruction', ...CI, body: `<?${m()}`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: too deep', ...CI, body: `${`<${m()}>`.repeat(DECODE_LIMITS.maxDepth + 2)}`, query: `token=${TOKEN}`, status: 400 },
  { name: 'xml: invalid name', ...CI, body: `<Response><1${m()}>x</1${m()}></Response>`, query: `token=${TOKEN}`, status: 400 },
  // Forms that do not decode.
  { name: 'form: no pair', ...THAIN, body: m(), query: `token=${TOKEN}`, status: 400 },
  { name: 'form: bad escape', ...THAIN, body: `${m()}=%ZZ${m()}`, query: `token=${TOKEN}`, status: 400 },
  { name: 'form: not UTF-8', ...THAIN, body: `${m()}=%FF${m()}`, query: `token=${TOKEN}`, status: 400 },
  {
    name: 'form: too many fields',
    ...THAIN,
    body: Array.from({ length: DECODE_LIMITS.maxFormFields + 1 }, (_, i) => `${m()}${i}=${m()}`).join('&'),
    query: `token=${TOKEN}`,
    status: 400,
  },
  { name: 'format not taken', ...THAIN, body: `<${m()}/>`, query: `token=${TOKEN}`, status: 400 },
  {
    name: 'base64 body that is not UTF-8',
    ...BK,
    body: Buffer.concat([Buffer.from(`{"${m()}":"`), Buffer.from([0xff, 0xfe])]),
    query: `token=${TOKEN}`,
    status: 400,
  },
  // Decoded, but invalid: the marker in keys and values.
  {
    name: 'bk-job: invalid fields',
    ...BK,
    body: `{"job_instance_id":"${m()}","status":"${m()}","${m()}":1,"step_instances":[{"step_instance_id":"${m()}","${m()}":"${m()}"}]}`,
    query: `token=${TOKEN}`,
    status: 422,
  },
  { name: 'bk-job: not an object', ...BK, body: `["${m()}"]`, query: `token=${TOKEN}`, status: 422 },
  {
    name: 'thain: invalid fields',
    ...thainJob,
    body: `flowId=${m()}&flowExecutionId=${m()}&code=${m()}&${m()}=${m()}&token=${m()}`,
    query: `token=${TOKEN}`,
    status: 422,
  },
  {
    name: 'ci: invalid fields',
    ...CI,
    body: `{"EventName":"TaskFinish","JobsDetail":{"JobId":"","${m()}":"${m()}","State":["${m()}"]}}`,
    query: `token=${TOKEN}`,
    status: 422,
  },
  { name: 'ci: no event', ...CI, body: `<Response><${m()}>${m()}</${m()}></Response>`, query: `token=${TOKEN}`, status: 422 },
  // Too large: the body and the event built from it.
  { name: 'oversize body', ...BK, body: `{"pad":"${m(OVERSIZE)}"}`, query: `token=${TOKEN}`, status: 413 },
  { name: 'oversize base64 body', ...BK, body: Buffer.from(`{"pad":"${m(OVERSIZE)}"}`), query: `token=${TOKEN}`, status: 413 },
  // Paths, queries and methods a sender chose.
  {
    name: 'unknown thain kind on the HTTP API',
    ...THAIN,
    path: `/callbacks/thain/${m()}`,
    body: 'flowId=1',
    query: `token=${TOKEN}`,
    status: 404,
  },
  {
    name: 'unknown thain kind on a function URL',
    source: 'thain',
    path: `/${m()}/token=${m()}`,
    frontDoor: 'functionUrl',
    body: 'flowId=1',
    query: `token=${TOKEN}`,
    status: 404,
  },
  { name: 'wrong token', ...BK, body: '{}', query: `token=${m()}&team=${m()}`, status: 401 },
  { name: 'no token', ...BK, body: '{}', query: `team=${m()}`, status: 401 },
  { name: 'odd method', ...BK, method: m(), body: `{"${m()}":1}`, query: `token=${TOKEN}`, status: 405 },
];

let sqs: TestSqs;
const handlers = new Map<SourceName, CallbackHandler>();
const lines: string[] = [];

beforeAll(async () => {
  sqs = await startTestSqs(['events', 'quarantine']);
  const [queueUrl, quarantineUrl] = await Promise.all([sqs.queueUrl('events'), sqs.queueUrl('quarantine')]);
  for (const [name, callbacks] of await loadAllCallbacks()) {
    handlers.set(
      name,
      createCallbackHandler(callbacks, {
        queue: createSqsQueue({ queueUrl, client: sqs.client }),
        quarantine: createSqsQuarantine({ queueUrl: quarantineUrl, client: sqs.client }),
        access: accessPolicy([TOKEN]),
      }),
    );
  }
  process.env.LOG_LEVEL = 'info';
  setLogWriter((line) => lines.push(line));
});
afterAll(async () => {
  setLogWriter((line) => process.stdout.write(line));
  process.env.LOG_LEVEL = 'silent';
  await sqs.close();
});

function eventOf(c: Omit<Case, 'name'>): APIGatewayProxyEventV2 {
  return createHttpEvent({
    ...(c.body !== undefined && { body: c.body }),
    path: c.path ?? '/',
    query: c.query ?? '',
    method: c.method ?? 'POST',
    contentType: c.contentType ?? 'application/json',
    requestId: `req-${Math.random().toString(36).slice(2)}`,
    ...(c.frontDoor ? { frontDoor: c.frontDoor } : c.routeKey !== undefined ? { routeKey: c.routeKey } : {}),
  });
}

/** Runs `act` and returns the log lines it wrote. */
async function logged(act: () => Promise<unknown>): Promise<string[]> {
  const before = lines.length;
  await act();
  return lines.slice(before);
}

describe('request log lines', () => {
  it.each(CASES)('$name: one JSON line, without the marker, within the bound', async (c) => {
    const handler = handlers.get(c.source);
    if (!handler) throw new Error(`no handler for ${c.source}`);
    let status: number | undefined;
    const written = await logged(async () => {
      status = (await handler(eventOf(c))).statusCode;
    });
    expect(status).toBe(c.status);
    expect(written).toHaveLength(1);
    const [line = ''] = written;
    expect(line.endsWith('\n')).toBe(true);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
    expect(line).not.toContain(MARKER);
    expect(line).not.toContain(TOKEN);
    const entry = JSON.parse(line);
    expect(entry).toMatchObject({ source: c.source, status: c.status });
    expect(entry.route).toBe(c.frontDoor ? '$default' : c.routeKey);
    if (c.status !== 200) expect(entry.error.name).toMatch(/Error$/);
    // The line is also the request's metrics: one callback of its source, with its outcome.
    expect(metricDatapoints(line).filter((point) => point.name === 'Callbacks')).toContainEqual(
      expect.objectContaining({ dimensions: { Service: 'jobhooks', source: c.source, outcome: outcomeOf(c.status) }, values: [1] }),
    );
  });

  it('logs a 400 by problem and position, a 422 by declared field paths only', async () => {
    const unexpected = CASES.find((c) => c.name === 'json: unexpected token');
    if (!unexpected) throw new Error('no such case');
    const [json] = await logged(() => handlers.get('bk-job')?.(eventOf(unexpected)) ?? Promise.resolve());
    expect(JSON.parse(json ?? '{}').error).toEqual({ name: 'MalformedBodyError', problem: 'json-syntax', line: 1, column: 6 });
    const [xml] = await logged(
      () =>
        handlers.get('tencent-ci')?.(
          eventOf({ ...CI, body: '<Response>\n  <a></b>\n</Response>', query: `token=${TOKEN}`, status: 400 }),
        ) ?? Promise.resolve(),
    );
    expect(JSON.parse(xml ?? '{}').error).toMatchObject({ name: 'MalformedBodyError', problem: 'xml-syntax', line: 2 });
    const invalid = CASES.find((c) => c.name === 'bk-job: invalid fields');
    if (!invalid) throw new Error('no such case');
    const [fields] = await logged(() => handlers.get('bk-job')?.(eventOf(invalid)) ?? Promise.resolve());
    expect(JSON.parse(fields ?? '{}').error).toEqual({
      name: 'InvalidPayloadError',
      fields: ['job_instance_id', 'status', 'step_instances.0.step_instance_id', 'step_instances.0.status'],
    });
  });

  it('logs an internal error and a queue failure by class and code location, never by message', async () => {
    const bkJob = await loadCallbacks('bk-job');
    const exploding: Callbacks = {
      ...bkJob,
      route: () => ({
        toDraft: () => {
          throw new TypeError(`${m()}\n    at ${m()} (${m()}.js:1:1)`);
        },
      }),
    };
    const failingQueue = { send: () => Promise.reject(Object.assign(new Error(m()), { code: 'ECONNREFUSED' })) };
    const internal = createCallbackHandler(exploding, { queue: failingQueue, quarantine: false, access: false });
    const unavailable = createCallbackHandler(bkJob, { queue: failingQueue, quarantine: false, access: false });
    const body = '{"job_instance_id":1,"status":3}';
    const written = await logged(async () => {
      expect((await internal(eventOf({ ...BK, body, status: 500 }))).statusCode).toBe(500);
      expect((await unavailable(eventOf({ ...BK, body, status: 503 }))).statusCode).toBe(503);
    });
    expect(written.join('')).not.toContain(MARKER);
    const [crash, queue] = written.map((line) => JSON.parse(line));
    expect(crash.error).toMatchObject({ name: 'InternalError', cause: 'TypeError' });
    expect(crash.error.at).toMatch(/log\.test\.ts:\d+:\d+/);
    expect(crash.level).toBe('error');
    expect(queue.error).toEqual({ name: 'QueueUnavailableError', cause: 'Error ECONNREFUSED' });
  });
});

describe('formatLogLine', () => {
  it('bounds every field, and drops error details before it would pass the bound', () => {
    const huge = 'x'.repeat(100_000);
    const line = formatLogLine({
      route: huge,
      source: 'bk-job',
      status: 422,
      ms: 1,
      requestId: huge,
      bodyBytes: 10,
      error: { name: huge, fields: Array.from({ length: 1000 }, () => huge) },
    });
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
    const entry = JSON.parse(line);
    expect(entry.error.fields).toHaveLength(20);
    const wide = formatLogLine({
      route: 'r',
      source: 'bk-job',
      status: 422,
      ms: 1,
      requestId: 'q',
      bodyBytes: 10,
      error: { name: 'InvalidPayloadError', fields: Array.from({ length: 20 }, () => '語'.repeat(199)) },
    });
    expect(Buffer.byteLength(wide)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
    expect(JSON.parse(wide)).toMatchObject({ error: { name: 'InvalidPayloadError' }, truncated: true });
    // A line cut short keeps its metrics whole.
    expect(metricDatapoints(wide).map((point) => point.name)).toEqual(['Callbacks', 'AnswerTime', 'BodyBytes', 'Callbacks']);
  });

  it('describes a 400 without its message', () => {
    const error = new MalformedBodyError(`quoted ${m()}`, { problem: 'xml-entity' });
    expect(describeError(error)).toEqual({ name: 'MalformedBodyError', problem: 'xml-entity' });
  });
});

it('the oversize case is over the body limit', () => {
  expect(Buffer.byteLength(`{"pad":"${m(OVERSIZE)}"}`)).toBeGreaterThan(MAX_BODY_BYTES);
});
