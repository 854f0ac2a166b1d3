import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { loadFixture, loadFixtures } from '../../infra/testing/fixtures.ts';
import { createHttpEvent } from '../../infra/local/http-event.ts';
import { useSourceHarness } from '../../infra/testing/source-harness.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import { tencentCi } from './tencent-ci.ts';

const RECEIVED = new Date('2026-11-22T10:00:00.000Z');
const harness = useSourceHarness(tencentCi, { now: () => RECEIVED });

/** Posts a body to /callbacks/tencent-ci and returns the answer and what reached the queue. */
async function post(body: string | Buffer, contentType = 'application/xml') {
  const { answer, ...rest } = await harness.post({ body, contentType, path: '/callbacks/tencent-ci' });
  return { ...rest, body: v.parse(AnswerSchema, answer) };
}

const AnswerSchema = v.object({ ok: v.optional(v.boolean()), id: v.optional(v.string()), error: v.optional(v.string()), issues: v.optional(v.array(v.string())) });

/** Posts a fixture and returns its one event (fails the test unless it was accepted). */
async function eventOf(name: string): Promise<CloudEvent> {
  const fixture = loadFixture('tencent-ci', name);
  const { status, events } = await post(fixture.body, fixture.contentType);
  expect(status).toBe(200);
  expect(events).toHaveLength(1);
  const [event] = events;
  if (!event) throw new Error('no event');
  return event;
}

/** The event's data without `raw`, for comparing the XML and JSON forms of one callback. */
function dataWithoutRaw(event: CloudEvent): Record<string, unknown> {
  const { raw: _raw, ...rest } = event.data;
  return rest;
}

const EXPECTED: Record<string, { type: string; subject: string; time: string; status: string }> = {
  'ci-concat-workflow-json': { type: 'tencentci.job.finished', subject: 'j07f6263adf8a11eebdf419856486c0ab', time: '2024-03-12T10:33:20Z', status: 'succeeded' },
  'ci-concat-workflow-xml': { type: 'tencentci.job.finished', subject: 'j07f6263adf8a11eebdf419856486c0ab', time: '2024-03-12T10:33:20Z', status: 'succeeded' },
  'ci-concat-xml': { type: 'tencentci.job.finished', subject: 'j07f6263adf8a11eebdf419856486c0ab', time: '2024-03-12T10:33:20Z', status: 'succeeded' },
  'ci-docprocess-xml-declaration-tabs': { type: 'tencentci.job.finished', subject: 'd89c4cf4adf8a11eeb1229f23e6c9963b', time: '2024-03-15T07:24:46Z', status: 'succeeded' },
  'ci-legacy-job-xml': { type: 'tencentci.job.finished', subject: 'jd4f0e9a6d6e811eab1b6525400e9c0f5', time: '2020-08-05T08:04:32Z', status: 'succeeded' },
  'ci-legacy-workflowexecution-xml': { type: 'tencentci.workflow.finished', subject: 'id4ef4b4cd6e811eab1b6525400e9c0f5', time: '2020-08-05T08:04:09Z', status: 'failed' },
  'ci-snapshot-compact-xml': { type: 'tencentci.job.finished', subject: 'j9a8b7c6d5e4f11eea1b2525400aa33dd', time: '2024-03-20T01:00:05Z', status: 'succeeded' },
  'ci-transcode-failed-xml': { type: 'tencentci.job.finished', subject: 'j0f1e2d3c4b5a11eeb9c8525400bb44ee', time: '2024-03-21T16:00:03Z', status: 'failed' },
  'ci-translation-json-doc-trailing-comma': { type: 'tencentci.job.finished', subject: 'a1f0c2e6d8e3411eeb2a0525400aa11bb', time: '2024-03-11T02:02:21Z', status: 'succeeded' },
  'ci-translation-json': { type: 'tencentci.job.finished', subject: 'a1f0c2e6d8e3411eeb2a0525400aa11bb', time: '2024-03-11T02:02:21Z', status: 'succeeded' },
  'ci-translation-xml': { type: 'tencentci.job.finished', subject: 'a1f0c2e6d8e3411eeb2a0525400aa11bb', time: '2024-03-11T02:02:21Z', status: 'succeeded' },
  'ci-unknown-eventname-xml': { type: 'tencentci.event.unknown', subject: 'i2b3c4d5e6f7a11eea1b2525400cc55ff', time: '2024-03-23T00:00:00Z', status: 'running' },
  'ci-wordsgeneralize-json-response-wrapped': { type: 'tencentci.job.finished', subject: 'a3b2c1d0e5f6411eebf0a525400aa22cc', time: '2023-06-01T02:00:02Z', status: 'succeeded' },
  'ci-workflowfinish-json': { type: 'tencentci.workflow.finished', subject: 'i166ee190dfa011eda8a5525400c540df', time: '2024-03-16T06:54:42Z', status: 'succeeded' },
  'ci-workflowfinish-single-json': { type: 'tencentci.workflow.finished', subject: 'i3c4d5e6f7a8b11eea1b2525400dd66aa', time: '2024-03-24T04:00:09Z', status: 'failed' },
  'ci-workflowfinish-xml': { type: 'tencentci.workflow.finished', subject: 'i166ee190dfa011eda8a5525400c540df', time: '2024-03-16T06:54:42Z', status: 'succeeded' },
};

describe('tencent-ci fixtures', () => {
  it('has an expectation for every fixture', () => {
    expect(loadFixtures('tencent-ci').map((f) => f.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(loadFixtures('tencent-ci').map((f) => [f.name, f] as const))(
    '%s: 200 and exactly the right event',
    async (name, fixture) => {
      const { status, body, events, messages } = await post(fixture.body, fixture.contentType);
      expect(status).toBe(200);
      expect(events).toHaveLength(1);
      const [event] = events;
      const { status: expectedStatus, ...envelope } = EXPECTED[name] ?? {};
      expect(body).toEqual({ ok: true, id: event?.id });
      expect(event).toMatchObject({ source: 'tencent-ci', ...envelope, data: { status: expectedStatus } });
      expect(event?.data.raw).toEqual({ contentType: fixture.contentType, body: fixture.body.toString('utf8') });
      expect(messages[0]?.MessageAttributes).toMatchObject({
        source: { StringValue: 'tencent-ci' },
        type: { StringValue: EXPECTED[name]?.type },
        status: { StringValue: EXPECTED[name]?.status },
      });
    },
  );

  it('maps a workflow-triggered Concat job: ids, tag, times, input, output, operation, workflow, CosHeaders', async () => {
    const event = await eventOf('ci-concat-workflow-xml');
    expect(event.data).toMatchObject({
      terminal: true,
      sourceStatus: 'Success',
      eventName: 'TaskFinish',
      legacyFormat: false,
      jobId: 'j07f6263adf8a11eebdf419856486c0ab',
      tag: 'Concat',
      code: 'Success',
      queueId: 'p2242ab62c7c94486915508540933a2c6',
      creationTime: '2024-03-12T10:33:07Z',
      startTime: '2024-03-12T10:33:08Z',
      endTime: '2024-03-12T10:33:20Z',
      input: { BucketId: 'media-1250000000', Object: 'input/part1.mp4', Region: 'ap-chongqing' },
      output: { Bucket: 'media-1250000000', Object: 'output/concat.mp4', Region: 'ap-chongqing' },
      workflow: {
        Name: 'Concat_1581665960537',
        RunId: 'i5b7e2f10df8a11eeb8e1525400c3d4e5',
        WorkflowId: 'w2c9a6b1e0f4d4b7c9a8e7d6c5b4a3f21',
        WorkflowName: 'concat-on-upload',
      },
      cosHeaders: [
        { key: 'Content-Type', value: 'video/mp4' },
        { key: 'x-cos-request-id', value: 'NjVmMDAxYTJfOWIxZTJkMGJfMWE0Zl82YzNk' },
        { key: 'EventName', value: 'cos:ObjectCreated:Put' },
        { key: 'Size', value: '7309593' },
      ],
    });
    expect(event.data).not.toHaveProperty('message');
    expect(event.data).not.toHaveProperty('jobs');
    expect(event.data.input).not.toHaveProperty('CosHeaders');
    expect(event.data.operation).toMatchObject({
      TemplateId: 't140325e8918ac423da53b7d78dbbab564',
      UserData: 'concat job for order 42',
      JobLevel: '0',
      MediaResult: {
        OutputFile: {
          Md5Info: [{ Md5: '96322f8638d38480683e069e6b2ba1e9', ObjectName: 'output/concat.mp4' }],
          ObjectName: ['output/concat.mp4'],
          ObjectPrefix: '',
        },
      },
      MediaInfo: { Stream: { Audio: [{ CodecName: 'aac' }], Video: [{ Width: '1280' }], Subtitle: '' } },
    });
  });

  it('gives the XML and JSON forms of one callback the same data (JSON drops empty nodes)', async () => {
    const xml = dataWithoutRaw(await eventOf('ci-concat-workflow-xml'));
    const json = dataWithoutRaw(await eventOf('ci-concat-workflow-json'));
    expect(json).toEqual({
      ...xml,
      operation: expect.objectContaining({ MediaResult: { OutputFile: expect.not.objectContaining({ ObjectPrefix: '' }) } }),
    });
    expect(JSON.stringify(json.cosHeaders)).toBe(JSON.stringify(xml.cosHeaders));
    expect(dataWithoutRaw(await eventOf('ci-workflowfinish-json'))).toEqual(
      dataWithoutRaw(await eventOf('ci-workflowfinish-xml')),
    );
    const translation = dataWithoutRaw(await eventOf('ci-translation-xml'));
    expect(dataWithoutRaw(await eventOf('ci-translation-json'))).toEqual(translation);
    expect(dataWithoutRaw(await eventOf('ci-translation-json-doc-trailing-comma'))).toEqual(translation);
  });

  it('maps WorkflowFinish tasks to steps, in order, times in UTC, with the task as received', async () => {
    const event = await eventOf('ci-workflowfinish-xml');
    expect(event.data).toMatchObject({
      eventName: 'WorkflowFinish',
      runId: 'i166ee190dfa011eda8a5525400c540df',
      workflowId: 'web6ac56c1ef54dbfa44d7f4103203be9',
      workflowName: 'workflow-3',
      bucketId: 'media-1250000000',
      object: 'wk-test/game.mp4',
      createTime: '2024-03-16T06:54:17Z',
      cosHeaders: [
        { key: 'Content-Type', value: 'video/mp4' },
        { key: 'x-cos-request-id', value: 'NjVmNTJhOTlfNjUzYTYyNjRfZjEwZl8xMmZh' },
      ],
      steps: [
        {
          id: 'j23c11e1edfa011edaab4ab15ec33d076',
          status: 'succeeded',
          sourceStatus: 'Success',
          type: 'Snapshot',
          name: 'Snapshot_1581665960536',
          createTime: '2024-03-16T06:54:40Z',
          endTime: '2024-03-16T06:54:42Z',
          task: { TemplateName: 'snapshot_1280*720_3' },
        },
        { id: 'j168668b2dfa011ed8efb27bb229e2d11', status: 'succeeded', type: 'Transcode' },
      ],
      workflowExecution: { RunId: 'i166ee190dfa011eda8a5525400c540df', State: 'Success' },
    });
    expect(event.data.workflowExecution).not.toHaveProperty('Tasks');
  });

  it('reads a single CosHeaders, Tasks and ObjectInfo as one-item lists, and numbers as text', async () => {
    const event = await eventOf('ci-workflowfinish-single-json');
    expect(event.data.cosHeaders).toEqual([{ key: 'Content-Type', value: 'video/mp4' }]);
    expect(event.data.steps).toHaveLength(1);
    expect(event.data.steps?.[0]).toMatchObject({
      id: 'j4d5e6f7a8b9c11eea1b2525400dd66aa',
      status: 'failed',
      task: { ResultInfo: { ObjectCount: '0', ObjectInfo: [{ ObjectName: 'wk-test/one.m3u8', Code: 'Failed' }] } },
    });
  });

  it('reads the legacy job form (no EventName, CosHeaders first, Workflow before QueueId)', async () => {
    const event = await eventOf('ci-legacy-job-xml');
    expect(event.data).toMatchObject({
      eventName: 'TaskFinish',
      legacyFormat: true,
      tag: 'Transcode',
      queueId: 'p09d709939fef48a0a5c247ef39d90cec',
      cosHeaders: [{ key: 'Content-Type', value: 'video/mp4' }],
      workflow: { RunId: 'id4ef4b4cd6e811eab1b6525400e9c0f5', WorkflowName: 'legacy-flow' },
      input: { Object: 'legacy/input.mp4', Region: 'ap-beijing', BucketId: 'media-1250000000' },
    });
    expect(event.data).not.toHaveProperty('startTime');
  });

  it('reads the legacy workflow form: empty <X></X> as "", time from CreateTime when no task ended', async () => {
    const event = await eventOf('ci-legacy-workflowexecution-xml');
    expect(event.data).toMatchObject({
      eventName: 'WorkflowFinish',
      legacyFormat: true,
      bucketId: '',
      workflowName: '',
      steps: [{ id: 'jd4f0e9a6d6e811eab1b6525400e9c0f5', status: 'failed', task: { EndTime: '' } }],
    });
    expect(event.data.steps?.[0]).not.toHaveProperty('endTime');
  });

  it('keeps Code and the decoded Message of a failed job', async () => {
    const event = await eventOf('ci-transcode-failed-xml');
    expect(event.data).toMatchObject({
      status: 'failed',
      terminal: true,
      sourceStatus: 'Failed',
      code: 'InvalidInput',
      message: '输入文件解析失败: moov atom not found <code=1001>',
      input: { Object: 'uploads/broken & bad.mp4' },
      operation: { WatermarkTemplateId: ['t1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'], UserData: '' },
    });
  });

  it('reads compact single-line XML, keeping 0xc64847 and 0012 as text', async () => {
    const event = await eventOf('ci-snapshot-compact-xml');
    expect(event.data).toMatchObject({
      tag: 'Snapshot',
      cosHeaders: [{ key: 'Content-Type', value: 'video/mp4' }],
      operation: {
        UserData: '0012',
        MediaInfo: { Stream: { Audio: [], Subtitle: '', Video: [{ CodecTag: '0xc64847', Index: '0' }] } },
        Output: { Object: 'snap/a-${Number}.jpg' },
      },
    });
    expect(event.data).not.toHaveProperty('message');
  });

  it('unwraps {"Response": ...} JSON and keeps repeatable nodes as lists', async () => {
    const event = await eventOf('ci-wordsgeneralize-json-response-wrapped');
    expect(event.data).toMatchObject({
      tag: 'WordsGeneralize',
      message: 'Success',
      input: { Object: 'text/intro.txt' },
      operation: {
        UserData: '0012',
        WordsGeneralizeResult: {
          WordsGeneralizeLable: [{ Category: 'ORG', Word: '腾讯云' }],
          WordsGeneralizeToken: [{ Word: '腾讯云' }, { Word: '发布' }],
        },
      },
    });
  });

  it('accepts an unknown EventName as tencentci.event.unknown, keeping the whole callback', async () => {
    const event = await eventOf('ci-unknown-eventname-xml');
    expect(event.data).toMatchObject({
      eventName: 'WorkflowStart',
      runId: 'i2b3c4d5e6f7a11eea1b2525400cc55ff',
      sourceStatus: 'Running',
      terminal: false,
      body: { EventName: 'WorkflowStart', WorkflowExecution: { Object: 'wk-test/new.mp4' } },
    });
  });

  it('keeps Chinese keys and PageInfo lists of the DocProcess capture', async () => {
    const event = await eventOf('ci-docprocess-xml-declaration-tabs');
    expect(event.data).toMatchObject({
      input: { Object: '合同/2024/采购合同.docx' },
      operation: {
        DocProcessResult: {
          PageInfo: [
            { PageNo: '1', TgtUri: 'preview/采购合同/1.jpg' },
            { PageNo: '2', TgtUri: 'preview/采购合同/2.jpg' },
          ],
        },
      },
    });
  });

  it('gives the XML and JSON forms of one callback the same id', async () => {
    for (const [xml, json] of [['ci-translation-xml', 'ci-translation-json'], ['ci-workflowfinish-xml', 'ci-workflowfinish-json']] as const) {
      expect((await eventOf(json)).id, json).toBe((await eventOf(xml)).id);
    }
  });

  it('tells apart two unknown events that carry no job or run id', async () => {
    const a = await post('<Response><EventName>TaskStart</EventName><Foo>1</Foo></Response>');
    const b = await post('<Response><EventName>TaskStart</EventName><Foo>2</Foo></Response>');
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.events[0]?.id).not.toBe(b.events[0]?.id);
  });

  it('gives a callback delivered twice the same id', async () => {
    const first = await eventOf('ci-transcode-failed-xml');
    const second = await eventOf('ci-transcode-failed-xml');
    expect(second.id).toBe(first.id);
    expect((await eventOf('ci-concat-xml')).id).not.toBe(first.id);
  });
});

const job = (fields: string) =>
  `<Response><EventName>TaskFinish</EventName><JobsDetail><JobId>j1</JobId><State>Success</State><Tag>Transcode</Tag>${fields}</JobsDetail></Response>`;

const SCHEMA: unknown = JSON.parse(
  readFileSync(new URL('../../events/tencent-ci.schema.json', import.meta.url), 'utf8'),
);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The JSON Schema keywords events/tencent-ci.schema.json uses (type, enum, const, minLength,
 * required, properties, additionalProperties, items, $ref, allOf, anyOf): enough to hold every
 * produced event to the shipped schema without a validator dependency. Returns the problems found.
 */
function schemaProblems(schema: unknown, value: unknown, path = 'data'): string[] {
  if (!isRecord(schema)) return [];
  const problems: string[] = [];
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const target = ref.replace('#/', '').split('/').reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), SCHEMA);
    if (!isRecord(target)) return [`${path}: unresolved ${ref}`];
    problems.push(...schemaProblems(target, value, path));
  }
  const typeOf = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  const types = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? undefined : [schema.type];
  if (types && !types.includes(typeOf)) return [...problems, `${path}: expected ${types.join('|')}, got ${typeOf}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${path}: not in enum`);
  if ('const' in schema && schema.const !== value) problems.push(`${path}: expected ${JSON.stringify(schema.const)}`);
  if (typeof schema.minLength === 'number' && typeof value === 'string' && value.length < schema.minLength) problems.push(`${path}: too short`);
  if (Array.isArray(schema.allOf)) for (const part of schema.allOf) problems.push(...schemaProblems(part, value, path));
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((part) => schemaProblems(part, value, path).length === 0)) {
    problems.push(`${path}: matches none of anyOf`);
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((item, index) => problems.push(...schemaProblems(schema.items, item, `${path}.${index}`)));
  }
  if (isRecord(value)) {
    const properties = isRecord(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required)) {
      for (const key of schema.required) if (typeof key === 'string' && !Object.hasOwn(value, key)) problems.push(`${path}.${key}: is missing`);
    }
    for (const [key, item] of Object.entries(value)) {
      if (Object.hasOwn(properties, key)) problems.push(...schemaProblems(properties[key], item, `${path}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${path}.${key}: not allowed`);
      else if (schema.additionalProperties !== undefined) problems.push(...schemaProblems(schema.additionalProperties, item, `${path}.${key}`));
    }
  }
  return problems;
}

describe('events/tencent-ci.schema.json', () => {
  it.each(loadFixtures('tencent-ci').map((f) => [f.name] as const))('describes the data of %s', async (name) => {
    const event = await eventOf(name);
    expect(schemaProblems(SCHEMA, event.data)).toEqual([]);
  });

  it('describes the data of a multi-job callback', async () => {
    const { events } = await post('{"EventName":"TaskFinish","JobsDetail":[{"JobId":"j1","State":"Success"},{"JobId":"j2","State":"Failed","Message":"m"}]}', 'application/json');
    expect(schemaProblems(SCHEMA, events[0]?.data)).toEqual([]);
  });

  it('catches data that breaks it', async () => {
    const event = await eventOf('ci-concat-workflow-xml');
    const broken = { ...event.data, status: 'done', cosHeaders: [{ key: 'a' }], operation: { Size: 7 } };
    expect(schemaProblems(SCHEMA, broken)).toEqual(
      expect.arrayContaining(['data.status: not in enum', 'data: matches none of anyOf']),
    );
    expect(schemaProblems(SCHEMA, { ...event.data, eventName: 'WorkflowFinish' })).toContain('data: matches none of anyOf');
  });
});

describe('tencent-ci variants no fixture shows', () => {
  it('reads any child order alike', async () => {
    const a = await post('<Response><JobsDetail><Tag>T</Tag><State>Success</State><JobId>j1</JobId><EndTime>2024-03-12T18:33:20+0800</EndTime></JobsDetail><EventName>TaskFinish</EventName></Response>');
    const b = await post('<Response><EventName>TaskFinish</EventName><JobsDetail><EndTime>2024-03-12T18:33:20+0800</EndTime><JobId>j1</JobId><State>Success</State><Tag>T</Tag></JobsDetail></Response>');
    expect(a.status).toBe(200);
    expect(a.events[0]?.id).toBe(b.events[0]?.id);
    expect(a.events[0]?.time).toBe('2024-03-12T10:33:20Z');
  });

  it('reads JSON with numeric leaves as text, JobsDetail as an object or an array', async () => {
    for (const jobs of ['{"JobId":"j1","State":"Success","Progress":100,"Operation":{"JobLevel":0}}', '[{"JobId":"j1","State":"Success","Progress":100,"Operation":{"JobLevel":0}}]']) {
      const { status, events } = await post(`{"EventName":"TaskFinish","JobsDetail":${jobs}}`, 'application/json');
      expect(status).toBe(200);
      expect(events[0]?.data).toMatchObject({ progress: '100', operation: { JobLevel: '0' } });
    }
  });

  it('reads a legacy JSON body without EventName', async () => {
    const { events } = await post('{"WorkflowExecution":{"RunId":"r1","State":"Success","Tasks":[]}}', 'application/json');
    expect(events[0]).toMatchObject({ type: 'tencentci.workflow.finished', subject: 'r1', time: RECEIVED.toISOString(), data: { legacyFormat: true, steps: [] } });
  });

  it('reads an empty <EventName/> like the legacy form', async () => {
    const { events } = await post('<Response><EventName/><JobsDetail><JobId>j1</JobId><State>Failed</State></JobsDetail></Response>');
    expect(events[0]).toMatchObject({ type: 'tencentci.job.finished', data: { status: 'failed', legacyFormat: true } });
  });

  it('describes the first job of several and keeps them all under data.jobs', async () => {
    const { status, events } = await post(
      '{"EventName":"TaskFinish","JobsDetail":[{"JobId":"j1","State":"Success","Tag":"A"},{"JobId":"j2","State":"Failed","Tag":"B","Code":"E1","Message":"boom"}]}',
      'application/json',
    );
    expect(status).toBe(200);
    expect(events[0]).toMatchObject({
      subject: 'j1',
      data: {
        status: 'succeeded',
        tag: 'A',
        jobs: [
          { jobId: 'j1', status: 'succeeded', state: 'Success' },
          { jobId: 'j2', status: 'failed', state: 'Failed', code: 'E1', message: 'boom', tag: 'B' },
        ],
      },
    });
  });

  it.each([
    ['Submitted', 'pending', false],
    ['Running', 'running', false],
    ['Success', 'succeeded', true],
    ['Failed', 'failed', true],
    ['Pause', 'paused', false],
    ['Cancel', 'cancelled', true],
    ['Exploded', 'unknown', false],
    ['', 'unknown', false],
  ])('State %j is %s', async (state, expected, terminal) => {
    const { status, events } = await post(job(`<Code>X</Code>`).replace('<State>Success</State>', `<State>${state}</State>`));
    expect(status).toBe(200);
    expect(events[0]?.data).toMatchObject({ status: expected, terminal, sourceStatus: state });
  });

  it('accepts any Tag, and keeps SubTag', async () => {
    const { events } = await post(job('<SubTag>DigitalWatermark</SubTag>').replace('Transcode', 'SomeTagFrom2030'));
    expect(events[0]?.data).toMatchObject({ tag: 'SomeTagFrom2030', subTag: 'DigitalWatermark' });
  });

  it('uses the receive time when EndTime is missing or not a time, and keeps the text', async () => {
    const { events } = await post(job('<EndTime>soon</EndTime>'));
    expect(events[0]?.time).toBe(RECEIVED.toISOString());
    expect(events[0]?.data).toMatchObject({ endTime: 'soon' });
  });

  it('accepts an unknown EventName carrying nothing known, with the name as subject', async () => {
    const { status, events } = await post('{"EventName":"SomethingNew","Foo":{"Bar":"1"}}', 'application/json');
    expect(status).toBe(200);
    expect(events[0]).toMatchObject({ type: 'tencentci.event.unknown', subject: 'SomethingNew', data: { status: 'unknown', body: { Foo: { Bar: '1' } } } });
  });

  it('keeps __proto__ and constructor nodes as own data, in XML and JSON', async () => {
    const xml = await post(job('<Operation><__proto__><x>1</x></__proto__><constructor>c</constructor></Operation>'));
    const json = await post('{"EventName":"TaskFinish","JobsDetail":{"JobId":"j1","State":"Success","Operation":{"__proto__":{"x":"1"},"constructor":"c"}}}', 'application/json');
    for (const { status, messages } of [xml, json]) {
      expect(status).toBe(200);
      expect(messages[0]?.Body).toContain('"operation":{"__proto__":{"x":"1"},"constructor":"c"}');
    }
    expect(Object.prototype).not.toHaveProperty('x');
  });

  it('takes a base64-encoded body on any function URL path', async () => {
    const fixture = loadFixture('tencent-ci', 'ci-translation-xml');
    const response = await harness.handler(createHttpEvent({ body: fixture.body, isBase64Encoded: true, contentType: fixture.contentType, path: '/', frontDoor: 'functionUrl' }));
    expect(response.statusCode).toBe(200);
    const [message] = await harness.sqs.drain(harness.queueUrl);
    expect(JSON.parse(message?.Body ?? '').subject).toBe('a1f0c2e6d8e3411eeb2a0525400aa11bb');
  });
});

describe('bad tencent-ci input', () => {
  const billionLaughs = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE lolz [<!ENTITY lol "lol">',
    ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
    ']>',
    '<Response><EventName>TaskFinish</EventName><JobsDetail><JobId>&lol9;</JobId><State>Success</State></JobsDetail></Response>',
  ].join('\n');
  const externalEntity =
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Response><EventName>TaskFinish</EventName><JobsDetail><JobId>&xxe;</JobId><State>Success</State></JobsDetail></Response>';
  const deep = `<Response>${'<a>'.repeat(10_000)}x${'</a>'.repeat(10_000)}</Response>`;

  it.each([
    ['billion laughs', billionLaughs, /<!DOCTYPE.*refused/],
    ['external entity', externalEntity, /<!DOCTYPE.*refused/],
    ['10,000 levels of nesting', deep, /nests deeper than 64/],
    ['JSON nested 10,000 levels', `{"EventName":"TaskFinish","JobsDetail":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, /nests deeper/],
    ['malformed XML', '<Response><EventName>TaskFinish</EventName>\n<JobsDetail><JobId>j1</JobsDetail></Response>', /line 2/],
    ['truncated JSON', '{"EventName":"TaskFinish","JobsDetail":{', /not valid JSON/],
    ['a form body', 'EventName=TaskFinish', /looks like a form/],
    ['empty', '', /empty/],
  ])('%s: 400 saying what is wrong, nothing enqueued', async (_case, body, message) => {
    const { status, body: answer, events } = await post(body);
    expect(status).toBe(400);
    expect(answer.error).toMatch(message);
    expect(events).toHaveLength(0);
  });

  it('keeps memory flat while refusing hostile XML again and again', async () => {
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 30; i++) {
      for (const body of [billionLaughs, externalEntity, deep]) {
        const response = await harness.handler(createHttpEvent({ body, contentType: 'application/xml', path: '/callbacks/tencent-ci' }));
        expect(response.statusCode).toBe(400);
      }
    }
    expect(await harness.sqs.drain(harness.queueUrl)).toHaveLength(0);
    // An expanded billion laughs alone would take gigabytes; 64 MiB leaves room for the GC's timing.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });

  it.each([
    ['missing JobId', job('').replace('<JobId>j1</JobId>', ''), 'JobsDetail.0.JobId'],
    ['empty JobId', job('').replace('<JobId>j1</JobId>', '<JobId/>'), 'JobsDetail.0.JobId'],
    ['missing State', job('').replace('<State>Success</State>', ''), 'JobsDetail.0.State'],
    ['JobId with children', job('').replace('<JobId>j1</JobId>', '<JobId><A>1</A></JobId>'), 'JobsDetail.0.JobId'],
    ['TaskFinish without JobsDetail', '<Response><EventName>TaskFinish</EventName></Response>', 'JobsDetail'],
    ['empty JobsDetail', '<Response><EventName>TaskFinish</EventName><JobsDetail/></Response>', 'JobsDetail'],
    ['missing RunId', '<Response><EventName>WorkflowFinish</EventName><WorkflowExecution><State>Success</State></WorkflowExecution></Response>', 'WorkflowExecution.RunId'],
    ['workflow without State', '{"EventName":"WorkflowFinish","WorkflowExecution":{"RunId":"r1"}}', 'WorkflowExecution.State'],
    ['neither job nor workflow', '<Response><Foo>1</Foo></Response>', '(body)'],
    ['EventName with children', '<Response><EventName><A/></EventName></Response>', 'EventName'],
    ['a JSON array', '[{"JobId":"j1"}]', '(body)'],
  ])('%s: 422 naming the field, nothing enqueued', async (_case, body, path) => {
    const { status, body: answer, events } = await post(body, body.startsWith('<') ? 'application/xml' : 'application/json');
    expect(status).toBe(422);
    expect((answer.issues ?? []).some((issue) => issue.startsWith(`${path}:`))).toBe(true);
    expect(events).toHaveLength(0);
  });
});
