import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { createHttpEvent } from '../../../infra/local/http-event.ts';
import { apacheForm } from '../../../infra/testing/apache-form.ts';
import { type HttpFixture, listedSamples, loadFixture } from '../../../infra/testing/fixtures.ts';
import { useSourceHarness } from '../../../infra/testing/source-harness.ts';
import { isTerminal } from '../../events/status.ts';
import { routeNameOf } from '../sender.ts';
import { normalizeFlow, normalizeJob, normalizeModify, type ThainKind, callbacks as thain } from './callback.ts';
import { thain as thainSender } from './index.ts';

const RECEIVED = new Date('2026-11-22T10:00:00.000Z');
const FORM = 'application/x-www-form-urlencoded; charset=UTF-8';
const harness = useSourceHarness(thain, { now: () => RECEIVED });

interface PostOptions {
  readonly path?: string;
  readonly query?: string;
  readonly contentType?: string;
  readonly frontDoor?: 'httpApi' | 'functionUrl';
  readonly isBase64Encoded?: boolean;
}

/** Posts a body to a Thain kind's route and returns the answer and what reached the queue. */
function post(body: string | Buffer, kind: string, options: PostOptions = {}) {
  return harness.post({
    body,
    contentType: options.contentType ?? FORM,
    path: options.path ?? `/callbacks/thain/${kind}`,
    query: options.query ?? '',
    frontDoor: options.frontDoor ?? 'httpApi',
    ...(options.isBase64Encoded !== undefined && { isBase64Encoded: options.isBase64Encoded }),
  });
}

/** Parses an error answer (docs/contract.md, Responses): `error`, and `issues` on a 422. */
const ErrorAnswerSchema = v.object({ error: v.string(), issues: v.optional(v.array(v.string())) });

/** A flow or job status body, in Thain's key order. */
function statusBody(code: number | string, message = '', flowExecutionId = '5001'): string {
  return apacheForm([
    ['flowId', '101'],
    ['flowExecutionId', flowExecutionId],
    ['code', String(code)],
    ['message', message],
  ]);
}

/** The kind a sample is for: the route its request line names (`/callbacks/thain/job`). */
function fixtureKind(fixture: HttpFixture): ThainKind {
  const kind = routeNameOf(thainSender, fixture.path);
  if (kind !== 'flow' && kind !== 'job' && kind !== 'modify') throw new Error(`${fixture.name}: posted to no Thain route`);
  return kind;
}

/** Validates an event's `data` against the JSON Schema the project ships for consumers. */
const validateData = new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(
  v.parse(
    v.record(v.string(), v.unknown()),
    JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'events', 'thain.schema.json'), 'utf8')),
  ),
);

/** The original texts the generated fixtures carry in `message`, before Apache encoded them. */
const STACK_TRACE = [
  'java.lang.IllegalStateException: no runnable job in flow 101 (数据同步)',
  '\tat com.xiaomi.thain.core.process.runtime.executor.FlowExecutor.runJobs(FlowExecutor.kt:142)',
  '\tat com.xiaomi.thain.core.process.runtime.executor.FlowExecutor.start(FlowExecutor.kt:98)',
  '\tat com.xiaomi.thain.core.process.runtime.executor.service.FlowExecutionService.startFlowExecution(FlowExecutionService.kt:61)',
  '\tat java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1149)',
  '\tat java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:624)',
  '\tat java.lang.Thread.run(Thread.java:748)',
  'Caused by: java.util.NoSuchElementException: job [数据同步] not found; keys=[a, b] {retry=0}',
  '\tat com.xiaomi.thain.core.process.runtime.executor.FlowExecutor.runJobs(FlowExecutor.kt:139)',
  '\t... 5 more',
  '',
].join('\n');
const RESERVED_CHARS =
  "SQLException: query failed: SELECT * FROM t WHERE a=1 & b='x+y' AND pct LIKE '50%' -- ~/sql/load.sql (耗时 3.2s, 进度 100%25) #1 ?x=y;z@host:8080 \"quoted\" [ok] {}|\\^`!$<>";

/** What each valid fixture must become; every fixture must be listed here (checked below). */
const VALID: Record<string, { type: string; subject: string; status: string; sourceStatus: number; message?: string }> = {
  'thain-flow-running': { type: 'thain.flow.status', subject: '5001', status: 'running', sourceStatus: 4 },
  'thain-flow-success': { type: 'thain.flow.status', subject: '5001', status: 'succeeded', sourceStatus: 2 },
  'thain-flow-error': {
    type: 'thain.flow.status',
    subject: '5002',
    status: 'failed',
    sourceStatus: 3,
    message: 'Job[数据同步] exception: JobExecuteException: 错误: 输入文件 /data/in/2024-01-01.csv 不存在\n',
  },
  'thain-flow-error-stacktrace': {
    type: 'thain.flow.status',
    subject: '5003',
    status: 'failed',
    sourceStatus: 3,
    message: STACK_TRACE,
  },
  'thain-flow-killed': { type: 'thain.flow.status', subject: '5004', status: 'cancelled', sourceStatus: 5 },
  'thain-flow-auto-killed': { type: 'thain.flow.status', subject: '5005', status: 'failed', sourceStatus: 7 },
  'thain-job-running': { type: 'thain.job.status', subject: '5001', status: 'running', sourceStatus: 2 },
  'thain-job-success': { type: 'thain.job.status', subject: '5001', status: 'succeeded', sourceStatus: 3 },
  'thain-job-error': {
    type: 'thain.job.status',
    subject: '5002',
    status: 'failed',
    sourceStatus: 4,
    message: RESERVED_CHARS,
  },
  'thain-modify-pause': { type: 'thain.flow.modified', subject: '101', status: 'paused', sourceStatus: 1 },
  'thain-modify-resume': { type: 'thain.flow.modified', subject: '101', status: 'resumed', sourceStatus: 2 },
};

/** What each `invalid-*` fixture must be refused with: the status, and the field a 422 names. */
const INVALID: Record<string, { status: 400 | 422; field?: string }> = {
  'thain-invalid-flow-missing-flowid': { status: 422, field: 'flowId' },
  'thain-invalid-job-code-not-numeric': { status: 422, field: 'code' },
  'thain-invalid-flow-code-repeated': { status: 422, field: 'code' },
  'thain-invalid-modify-missing-status': { status: 422, field: 'status' },
  'thain-invalid-flow-broken-escape': { status: 400 },
};

const fixtures = listedSamples('thain');
const validFixtures = fixtures.filter((f) => !f.name.includes('invalid'));
const invalidFixtures = fixtures.filter((f) => f.name.includes('invalid'));

describe('thain fixtures', () => {
  it('every fixture has an expectation, and its Content-Length matches its body', () => {
    expect(validFixtures.map((f) => f.name).sort()).toEqual(Object.keys(VALID).sort());
    expect(invalidFixtures.map((f) => f.name).sort()).toEqual(Object.keys(INVALID).sort());
    for (const fixture of fixtures) {
      const length = fixture.headers.find(([name]) => name === 'Content-Length')?.[1];
      expect(Number(length), fixture.name).toBe(fixture.body.length);
      expect(fixture.contentType).toBe(FORM);
    }
  });

  it("encodes like Thain's Apache client: the test encoder reproduces a shared fixture byte for byte", () => {
    const fixture = loadFixture('thain', 'thain-flow-error');
    const fields = [...new URLSearchParams(fixture.body.toString('utf8'))];
    expect(apacheForm(fields)).toBe(fixture.body.toString('utf8'));
  });

  it.each(validFixtures.map((f) => [f.name, f] as const))('%s: 200 and exactly the right event', async (name, fixture) => {
    // Prepare
    const kind = fixtureKind(fixture);
    const want = VALID[name];
    if (!want) throw new Error(`no expectation for ${name}`);
    // Act
    const { status, answer, events, messages } = await post(fixture.body, kind);
    // Assess
    expect(status).toBe(200);
    expect(events).toHaveLength(1);
    const event = events[0];
    expect(answer).toEqual({ ok: true, id: event?.id });
    expect(event).toMatchObject({
      specversion: '1.0',
      source: 'thain',
      type: want.type,
      subject: want.subject,
      time: RECEIVED.toISOString(),
      datacontenttype: 'application/json',
    });
    expect(event?.data).toEqual({
      status: want.status,
      terminal: ['succeeded', 'failed', 'cancelled'].includes(want.status),
      sourceStatus: want.sourceStatus,
      ...(want.message !== undefined && { message: want.message }),
      labels: {},
      kind,
      flowId: '101',
      ...(kind === 'modify' ? { scheduling: want.status === 'paused' ? 'paused' : 'scheduling' } : { flowExecutionId: want.subject }),
      raw: { contentType: FORM, body: fixture.body.toString('utf8') },
    });
    expect(validateData(event?.data), JSON.stringify(validateData.errors)).toBe(true);
    expect(messages[0]?.attributes).toEqual({ source: 'thain', type: want.type, status: want.status });
  });

  it.each(invalidFixtures.map((f) => [f.name, f] as const))('%s: refused, naming the field, nothing enqueued', async (name, fixture) => {
    const want = INVALID[name];
    if (!want) throw new Error(`no expectation for ${name}`);
    const { status, answer, events } = await post(fixture.body, fixtureKind(fixture));
    expect(status).toBe(want.status);
    expect(events).toHaveLength(0);
    const error = v.parse(ErrorAnswerSchema, answer);
    if (want.field !== undefined) {
      expect(error.issues?.some((issue) => issue.startsWith(`${want.field}:`))).toBe(true);
      expect(error.error).toContain(want.field);
    }
  });
});

describe('the URL decides the kind', () => {
  it('the same body on /flow and on /job gives different types, statuses and ids', async () => {
    const body = loadFixture('thain', 'thain-flow-success').body; // code=2
    const flow = await post(body, 'flow');
    const job = await post(body, 'job');
    expect(flow.events[0]).toMatchObject({ type: 'thain.flow.status', data: { status: 'succeeded', kind: 'flow' } });
    expect(job.events[0]).toMatchObject({ type: 'thain.job.status', data: { status: 'running', kind: 'job' } });
    expect(flow.events[0]?.id).not.toBe(job.events[0]?.id);
  });

  it('a plain resend of the same callback to the same URL gives the same id', async () => {
    const body = statusBody(3);
    const first = await post(body, 'job', { query: 'job=etl-load' });
    const second = await post(body, 'job', { query: 'job=etl-load' });
    expect(first.events[0]?.id).toBe(second.events[0]?.id);
  });

  // A modify body (`flowId=101&status=1`) has nothing per-change in it; Thain never redelivers a
  // callback (docs/senders/thain.md), so the receive time joins the id and a later pause is a new event.
  it('a second pause of the same flow, later on, gets a new id', async () => {
    const first = await post('flowId=101&status=1', 'modify');
    await post('flowId=101&status=2', 'modify');
    const later = useSourceHarness(thain, { now: () => new Date(RECEIVED.getTime() + 60_000) });
    const again = await later.post({ body: 'flowId=101&status=1', contentType: FORM, path: '/callbacks/thain/modify' });
    expect(again.status).toBe(200);
    expect(again.events[0]?.id).not.toBe(first.events[0]?.id);
  });

  it('labels tell two otherwise identical job callbacks apart', async () => {
    const body = statusBody(2);
    const load = await post(body, 'job', { query: 'job=etl-load&token=s3cret' });
    const extract = await post(body, 'job', { query: 'job=etl-extract' });
    expect(load.events[0]?.data.labels).toEqual({ job: 'etl-load' });
    expect(extract.events[0]?.data.labels).toEqual({ job: 'etl-extract' });
    expect(load.events[0]?.id).not.toBe(extract.events[0]?.id);
    expect(JSON.stringify(load.events[0])).not.toContain('s3cret');
  });

  it.each([
    ['/x/y/flow', 'thain.flow.status'],
    ['/job', 'thain.job.status'],
    ['/callbacks/thain/job/', 'thain.job.status'],
    ['/anything/modify//', 'thain.flow.modified'],
    ['/x/Flow', 'thain.flow.status'],
    ['/JOB', 'thain.job.status'],
  ])('a function URL path %s picks %s from its last segment', async (path, type) => {
    const body = path.includes('modify') ? 'flowId=101&status=2' : statusBody(4);
    const { status, events } = await post(body, '', { path, frontDoor: 'functionUrl' });
    expect(status).toBe(200);
    expect(events[0]?.type).toBe(type);
  });

  it.each([
    ['/callbacks/thain', 'httpApi'],
    ['/callbacks/thain/', 'httpApi'],
    ['/callbacks/thain/flows', 'httpApi'],
    ['/callbacks/thain/flow/status', 'httpApi'],
    ['/', 'functionUrl'],
    ['/x/y/kill', 'functionUrl'],
  ] as const)('%s (%s): 404, nothing enqueued', async (path, frontDoor) => {
    const { status, answer, events } = await post(statusBody(2), '', { path, frontDoor });
    expect(status).toBe(404);
    expect(v.parse(ErrorAnswerSchema, answer).error).toMatch(/thain/);
    expect(events).toHaveLength(0);
  });

  it.each([
    ['/callbacks/thain/Flow', 'thain.flow.status'],
    ['/callbacks/thain/FLOW', 'thain.flow.status'],
    ['/callbacks/thain/Job', 'thain.job.status'],
    ['/callbacks/thain/MODIFY/', 'thain.flow.modified'],
  ])('an HTTP API path %s, the kind in any letter case, picks %s', async (path, type) => {
    const body = type === 'thain.flow.modified' ? 'flowId=101&status=2' : statusBody(4);
    const { status, events } = await post(body, '', { path });
    expect(status).toBe(200);
    expect(events[0]?.type).toBe(type);
  });

  it('takes a base64-encoded body from a function URL', async () => {
    const fixture = loadFixture('thain', 'thain-job-error');
    const { status, events } = await post(fixture.body, '', {
      path: '/x/y/job',
      frontDoor: 'functionUrl',
      isBase64Encoded: true,
    });
    expect(status).toBe(200);
    expect(events[0]?.data.message).toBe(RESERVED_CHARS);
    expect(events[0]?.data.raw.body).toBe(fixture.body.toString('utf8'));
  });

  it('answers 405 to a GET', async () => {
    const response = await harness.handler(createHttpEvent({ method: 'GET', path: '/callbacks/thain/flow' }));
    expect(response.statusCode).toBe(405);
  });
});

describe('status mappings (docs/contract.md, The event): the normalizers alone', () => {
  const status = (code: number) => ({ flowId: '101', flowExecutionId: '5001', code, message: '' });

  it.each([
    [4, 'running', false],
    [2, 'succeeded', true],
    [3, 'failed', true],
    [5, 'cancelled', true],
    [7, 'failed', true],
    [1, 'unknown', false],
    [6, 'unknown', false],
    [0, 'unknown', false],
    [-1, 'unknown', false],
    [99, 'unknown', false],
  ] as const)('flow code %i is %s', (code, expected, terminal) => {
    // Act
    const draft = normalizeFlow(status(code));
    // Assess
    expect(draft).toMatchObject({
      type: 'thain.flow.status',
      subject: '5001',
      data: { status: expected, sourceStatus: code, kind: 'flow' },
    });
    expect(isTerminal(draft.data.status)).toBe(terminal);
  });

  it.each([
    [2, 'running'],
    [3, 'succeeded'],
    [4, 'failed'],
    [1, 'unknown'],
    [5, 'unknown'],
    [7, 'unknown'],
  ] as const)('job code %i is %s', (code, expected) => {
    const draft = normalizeJob(status(code));
    expect(draft).toMatchObject({ type: 'thain.job.status', subject: '5001', data: { status: expected, sourceStatus: code, kind: 'job' } });
  });

  it.each([
    [1, 'paused', 'paused'],
    [2, 'resumed', 'scheduling'],
    [0, 'unknown', undefined],
    [3, 'unknown', undefined],
  ] as const)('modify status %i is %s', (code, expected, scheduling) => {
    const draft = normalizeModify({ flowId: '101', status: code });
    expect(draft.subject).toBe('101');
    expect(draft.data).toEqual({ status: expected, sourceStatus: code, kind: 'modify', flowId: '101', ...(scheduling && { scheduling }) });
    expect(isTerminal(draft.data.status)).toBe(false);
  });

  it('a modify event holds the flow and its schedule, no execution, and fits the shipped data schema', async () => {
    const { status: answered, events } = await post('flowId=101&status=2', 'modify');
    expect(answered).toBe(200);
    expect(events[0]?.data).not.toHaveProperty('flowExecutionId');
    expect(validateData(events[0]?.data), JSON.stringify(validateData.errors)).toBe(true);
  });
});

describe('messages survive the encoding whole', () => {
  it.each([
    ['a Java stack trace with tabs and a trailing newline', STACK_TRACE],
    ['reserved characters & = + % ~ and Chinese', RESERVED_CHARS],
    ['text that looks percent-encoded', '100%25 done, %41 is not A, + is not a space, %%, %'],
    ['only a newline', '\n'],
    ['leading and trailing spaces', '  padded  '],
    ['CRLF line breaks', 'line 1\r\nline 2\r\n'],
    ['emoji and other 4-byte characters', 'deploy failed 💥 𠀀 ✓'],
    ['a NUL and other control characters', 'a\u0000b\u0001c\u007f'],
    ["a shell job's stderr lines", "Job[导入] exception: ShellExecuteException: rm: cannot remove '/tmp/x': 权限不够\nexit 1\n"],
  ])('%s', async (_case, message) => {
    // Prepare: the body Thain's client would send
    const body = statusBody(4, message);
    // Act
    const { status, events } = await post(body, 'job');
    // Assess
    expect(status).toBe(200);
    expect(events[0]?.data.message).toBe(message);
    expect(events[0]?.data.raw.body).toBe(body);
  });

  it('takes a long stack trace (64 KiB) whole', async () => {
    const message = `${STACK_TRACE.repeat(Math.ceil(65536 / STACK_TRACE.length))}`;
    const { status, events } = await post(statusBody(3, message), 'flow');
    expect(status).toBe(200);
    expect(events[0]?.data.message).toBe(message);
  });

  it('decodes lowercase hex escapes too (other clients than Apache)', async () => {
    const { events } = await post('flowId=101&flowExecutionId=5001&code=3&message=a%7eb%e6%95%b0', 'flow');
    expect(events[0]?.data.message).toBe('a~b数');
  });

  it('leaves out an empty message, and reads a missing one as empty', async () => {
    for (const body of ['flowId=101&flowExecutionId=5001&code=3&message=', 'flowId=101&flowExecutionId=5001&code=3']) {
      const { status, events } = await post(body, 'flow');
      expect(status).toBe(200);
      expect(events[0]?.data).not.toHaveProperty('message');
    }
  });

  it('gives different ids to callbacks that differ only in their message', async () => {
    const a = await post(statusBody(4, 'disk full'), 'job');
    const b = await post(statusBody(4, 'disk full\n'), 'job');
    expect(a.events[0]?.id).not.toBe(b.events[0]?.id);
  });
});

describe('ids and other encodings', () => {
  it('keeps 64-bit ids past 2^53 exactly, from a form and from JSON', async () => {
    const form = await post(
      apacheForm([
        ['flowId', '9223372036854775807'],
        ['flowExecutionId', '9007199254740993123'],
        ['code', '2'],
        ['message', ''],
      ]),
      'flow',
    );
    expect(form.events[0]).toMatchObject({
      subject: '9007199254740993123',
      data: { flowId: '9223372036854775807', flowExecutionId: '9007199254740993123' },
    });
    const json = await post('{"flowId":9223372036854775807,"flowExecutionId":9007199254740993123,"code":2,"message":""}', 'flow', {
      contentType: 'application/json',
    });
    expect(json.status).toBe(200);
    expect(json.events[0]).toMatchObject({
      subject: '9007199254740993123',
      data: { flowId: '9223372036854775807', flowExecutionId: '9007199254740993123' },
    });
  });

  it('takes JSON as a lenient extra, with numbers or digit strings', async () => {
    const { status, events } = await post('{"flowId":"101","flowExecutionId":5002,"code":4,"message":"boom"}', 'job', {
      contentType: 'application/json',
    });
    expect(status).toBe(200);
    expect(events[0]).toMatchObject({
      subject: '5002',
      data: { status: 'failed', sourceStatus: 4, message: 'boom', flowId: '101', flowExecutionId: '5002' },
    });
  });

  it('reads the body whatever the Content-Type says', async () => {
    const { status, events } = await post(statusBody(2), 'flow', { contentType: 'text/plain' });
    expect(status).toBe(200);
    expect(events[0]?.data.raw.contentType).toBe('text/plain');
  });

  it('tolerates keys Thain may add later, and a different key order', async () => {
    const { status, events } = await post('message=&code=2&traceId=abc&flowExecutionId=5001&flowId=101', 'flow');
    expect(status).toBe(200);
    expect(events[0]).toMatchObject({ subject: '5001', data: { status: 'succeeded' } });
  });
});

describe('bad thain input', () => {
  it.each([
    ['flow', 'missing flowId', 'flowExecutionId=5001&code=2&message=', 'flowId'],
    ['job', 'missing flowId', 'flowExecutionId=5001&code=2&message=', 'flowId'],
    ['modify', 'missing flowId', 'status=1', 'flowId'],
    ['flow', 'missing flowExecutionId', 'flowId=101&code=2&message=', 'flowExecutionId'],
    ['flow', 'missing code', 'flowId=101&flowExecutionId=5001&message=', 'code'],
    ['flow', 'non-numeric code', 'flowId=101&flowExecutionId=5001&code=SUCCESS&message=', 'code'],
    ['job', 'empty code', 'flowId=101&flowExecutionId=5001&code=&message=', 'code'],
    ['job', 'fractional code', 'flowId=101&flowExecutionId=5001&code=3.0&message=', 'code'],
    ['job', 'code with a space', 'flowId=101&flowExecutionId=5001&code=+3&message=', 'code'],
    ['job', 'code too large for an int', 'flowId=101&flowExecutionId=5001&code=99999999999&message=', 'code'],
    ['flow', 'non-numeric flowId', 'flowId=abc&flowExecutionId=5001&code=2&message=', 'flowId'],
    ['flow', 'hex flowExecutionId', 'flowId=101&flowExecutionId=0x1F&code=2&message=', 'flowExecutionId'],
    ['flow', 'repeated flowId', 'flowId=101&flowId=102&flowExecutionId=5001&code=2&message=', 'flowId'],
    ['job', 'repeated message', 'flowId=101&flowExecutionId=5001&code=4&message=a&message=b', 'message'],
    ['modify', 'repeated status', 'flowId=101&status=1&status=2', 'status'],
    ['modify', 'a status body sent to /modify', 'flowId=101&flowExecutionId=5001&code=2&message=', 'status'],
    ['modify', 'non-numeric status', 'flowId=101&status=PAUSE', 'status'],
    ['flow', 'a modify body sent to /flow', 'flowId=101&status=1', 'flowExecutionId'],
    ['job', 'JSON with a string code', '{"flowId":101,"flowExecutionId":5001,"code":"x"}', 'code'],
    ['job', 'JSON with a fractional id', '{"flowId":1.5,"flowExecutionId":5001,"code":2}', 'flowId'],
    ['job', 'JSON array body', '[1,2]', '(body)'],
  ])('%s, %s: 422 naming %s, nothing enqueued', async (kind, _case, body, field) => {
    const { status, answer, events } = await post(body, kind);
    expect(status).toBe(422);
    const error = v.parse(ErrorAnswerSchema, answer);
    expect(
      error.issues?.some((issue) => issue.startsWith(`${field}:`)),
      JSON.stringify(error),
    ).toBe(true);
    expect(error.error).toMatch(new RegExp(`^thain ${kind} callback is not valid`));
    expect(events).toHaveLength(0);
  });

  it.each([
    ['code', 'flow', 'flowId=101&flowExecutionId=5001&code=2&code=3&message='],
    ['flowId', 'flow', 'flowId=101&flowId=101&flowExecutionId=5001&code=2&message='],
    ['flowExecutionId', 'job', 'flowId=101&flowExecutionId=1&flowExecutionId=2&code=2&message='],
    ['message', 'job', 'flowId=101&flowExecutionId=5001&code=4&message=a&message=b'],
    ['status', 'modify', 'flowId=101&status=1&status=1'],
  ])('%s sent twice to /%s: 422 "sent more than once", no value picked', async (field, kind, body) => {
    const { answer } = await post(body, kind);
    expect(v.parse(ErrorAnswerSchema, answer).issues).toEqual([`${field}: sent more than once`]);
  });

  it.each([
    ['empty', '', /empty/],
    ['a broken escape', 'flowId=101&flowExecutionId=5001&code=3&message=50%+off', /percent-escape/],
    ['escapes that are not UTF-8', 'flowId=101&flowExecutionId=5001&code=3&message=%FF%FE', /UTF-8/],
    ['a truncated UTF-8 character', 'flowId=101&flowExecutionId=5001&code=3&message=%E6%95', /UTF-8/],
    ['no key=value pair', 'flowId', /not a form/],
    ['XML', '<flowId>101</flowId>', /looks like XML/],
    ['truncated JSON', '{"flowId":101,', /not valid JSON/],
  ])('%s: 400 saying what is wrong, nothing enqueued', async (_case, body, message) => {
    const { status, answer, events } = await post(body, 'flow');
    expect(status).toBe(400);
    expect(v.parse(ErrorAnswerSchema, answer).error).toMatch(message);
    expect(events).toHaveLength(0);
  });
});
