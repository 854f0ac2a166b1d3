import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { listedSamples, loadFixture } from '../../../infra/testing/fixtures.ts';
import { useSourceHarness } from '../../../infra/testing/source-harness.ts';
import { callbacks as bkJob, normalize } from './callback.ts';

const RECEIVED = new Date('2026-11-22T10:00:00.000Z');
const harness = useSourceHarness(bkJob, { now: () => RECEIVED });

/** Posts a body to /callbacks/bk-job and returns the answer and what reached the queue. */
async function post(body: string | Buffer, contentType = 'application/json', query = '') {
  const { answer, ...rest } = await harness.post({ body, contentType, path: '/callbacks/bk-job', query });
  const { error, issues } = v.parse(v.object({ error: v.optional(v.string()), issues: v.optional(v.array(v.string()), []) }), answer);
  return { ...rest, answer, error, issues };
}

describe('bk-job fixtures', () => {
  it.each(listedSamples('bk-job').map((f) => [f.name, f] as const))('%s: 200 and exactly one event', async (_name, fixture) => {
    const { status, answer, events } = await post(fixture.body, fixture.contentType);
    expect(status).toBe(200);
    expect(events).toHaveLength(1);
    expect(answer).toEqual({ ok: true, id: events[0]?.id });
    expect(events[0]?.data.raw).toEqual({
      contentType: fixture.contentType,
      body: fixture.body.toString('utf8'),
    });
  });

  it('maps the failed job and its steps in order, ids as strings', async () => {
    const fixture = loadFixture('bk-job', 'bkjob-json-failed');
    const { events, messages } = await post(fixture.body, fixture.contentType);
    expect(events[0]).toMatchObject({
      specversion: '1.0',
      source: 'bk-job',
      type: 'bkjob.job.finished',
      subject: '20000187',
      time: RECEIVED.toISOString(),
      datacontenttype: 'application/json',
      data: {
        status: 'failed',
        terminal: true,
        sourceStatus: 4,
        labels: {},
        steps: [
          { id: '40000501', status: 'succeeded', sourceStatus: 3 },
          { id: '40000502', status: 'failed', sourceStatus: 4 },
          { id: '40000503', status: 'pending', sourceStatus: 1 },
        ],
      },
    });
    expect(messages[0]?.attributes).toEqual({ source: 'bk-job', type: 'bkjob.job.finished', status: 'failed' });
  });

  it('gives the JSON attempt and its form-labelled retry the same id', async () => {
    const json = await post(loadFixture('bk-job', 'bkjob-json-failed').body, 'application/json');
    const form = await post(loadFixture('bk-job', 'bkjob-form-fallback').body, 'application/x-www-form-urlencoded');
    expect(form.events[0]?.id).toBe(json.events[0]?.id);
    expect(form.events[0]?.data.raw.contentType).toBe('application/x-www-form-urlencoded');
  });

  it('reads the doc-only step_instance_list, pretty-printed', async () => {
    const { events } = await post(loadFixture('bk-job', 'bkjob-doconly-step_instance_list').body);
    expect(events[0]?.data).toMatchObject({
      status: 'running',
      terminal: false,
      steps: [
        { id: '16271', status: 'succeeded' },
        { id: '16272', status: 'running' },
      ],
    });
  });

  it('maps ignore-error and skipped steps', async () => {
    const { events } = await post(loadFixture('bk-job', 'bkjob-json-success-ignore-error').body);
    expect(events[0]?.data.steps?.map((s) => s.status)).toEqual(['succeeded', 'skipped', 'succeeded']);
  });
});

describe('bk-job variants no fixture shows', () => {
  it('keeps a 64-bit id past 2^53 exactly', async () => {
    const body =
      '{"job_instance_id":9007199254740993123,"status":3,"step_instances":[{"step_instance_id":18446744073709551615,"status":3}]}';
    const { status, events } = await post(body);
    expect(status).toBe(200);
    expect(events[0]?.subject).toBe('9007199254740993123');
    expect(events[0]?.data.steps?.[0]?.id).toBe('18446744073709551615');
  });

  it.each([
    [1, 'pending'],
    [2, 'running'],
    [3, 'succeeded'],
    [4, 'failed'],
    [5, 'skipped'],
    [6, 'succeeded'],
    [7, 'waiting'],
    [8, 'cancelled'],
    [9, 'failed'],
    [10, 'cancelling'],
    [11, 'cancelled'],
    [12, 'unknown'],
    [13, 'cancelled'],
    [14, 'cancelled'],
    [15, 'waiting'],
    [16, 'unknown'],
    [0, 'unknown'],
    [-1, 'unknown'],
  ] as const)('status %i is %s, for the job and for a step', (code, expected) => {
    // Prepare
    const callback = { job_instance_id: '1', status: code, step_instances: [{ step_instance_id: '2', status: code }] };
    // Act
    const { data } = normalize(callback);
    // Assess
    expect(data).toMatchObject({ status: expected, sourceStatus: code });
    expect(data.steps[0]).toEqual({ id: '2', status: expected, sourceStatus: code });
  });

  it('takes an empty step list, and a body with no steps at all', async () => {
    for (const body of ['{"job_instance_id":7,"status":3,"step_instances":[]}', '{"job_instance_id":7,"status":3}']) {
      const { status, events } = await post(body);
      expect(status).toBe(200);
      expect(events[0]?.data.steps).toEqual([]);
    }
  });

  it('copies query parameters into labels, never the token', async () => {
    const { events } = await post('{"job_instance_id":7,"status":3}', 'application/json', 'team=infra&token=s3cret&env=prod');
    expect(events[0]?.data.labels).toEqual({ team: 'infra', env: 'prod' });
    expect(JSON.stringify(events[0])).not.toContain('s3cret');
  });

  it('gives different ids to different statuses, steps and labels', async () => {
    const ids = new Set<string>();
    for (const [body, query] of [
      ['{"job_instance_id":7,"status":3}', ''],
      ['{"job_instance_id":7,"status":4}', ''],
      ['{"job_instance_id":7,"status":3,"step_instances":[{"step_instance_id":1,"status":3}]}', ''],
      ['{"job_instance_id":7,"status":3}', 'team=a'],
    ] as const) {
      const { events } = await post(body, 'application/json', query);
      ids.add(events[0]?.id ?? '');
    }
    expect(ids.size).toBe(4);
  });

  it('takes a base64-encoded body from a function URL', async () => {
    const fixture = loadFixture('bk-job', 'bkjob-json-success');
    const { status, events } = await harness.post({
      body: fixture.body,
      isBase64Encoded: true,
      contentType: fixture.contentType,
      path: '/anything',
      frontDoor: 'functionUrl',
    });
    expect(status).toBe(200);
    expect(events[0]?.subject).toBe('12345');
  });
});

describe('bad bk-job input', () => {
  it.each([
    ['empty', '', /empty/],
    ['whitespace', '  \n ', /empty/],
    ['truncated JSON', '{"job_instance_id":1,"status":', /not valid JSON/],
    ['XML', '<Response/>', /looks like XML/],
  ])('%s: 400 saying what is wrong, nothing enqueued', async (_case, body, message) => {
    const { status, error, events } = await post(body);
    expect(status).toBe(400);
    expect(error).toMatch(message);
    expect(events).toHaveLength(0);
  });

  it.each([
    ['missing job_instance_id', '{"status":3}', 'job_instance_id'],
    ['string status', '{"job_instance_id":1,"status":"done"}', 'status'],
    ['fractional id', '{"job_instance_id":1.5,"status":3}', 'job_instance_id'],
    ['step without id', '{"job_instance_id":1,"status":3,"step_instances":[{"status":3}]}', 'step_instances.0.step_instance_id'],
    ['array body', '[1,2]', '(body)'],
  ])('%s: 422 naming the field, nothing enqueued', async (_case, body, path) => {
    const { status, issues, events } = await post(body);
    expect(status).toBe(422);
    expect(issues.some((issue) => issue.startsWith(`${path}:`))).toBe(true);
    expect(events).toHaveLength(0);
  });

  it('answers 405 to a GET', async () => {
    const { status, events } = await harness.post({ method: 'GET', path: '/callbacks/bk-job' });
    expect(status).toBe(405);
    expect(events).toEqual([]);
  });
});
