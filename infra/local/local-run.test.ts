import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEventRecord } from '../../lib/consumer/parse-record.ts';
import { CloudEventSchema, rawBytes } from '../../lib/events/cloud-event.ts';
import { MAX_LOG_LINE_BYTES, setLogWriter } from '../../lib/http/log.ts';
import { callbacks as bkJob } from '../../lib/sources/bk-job/callback.ts';
import { loadCallbacks } from '../../lib/sources/load-callbacks.ts';
import { SOURCE_NAMES } from '../../lib/sources/registry.ts';
import type { Callbacks } from '../../lib/sources/source.ts';
import { createPayloadBucket, createS3Client } from '../../lib/store/payload-bucket.ts';
import type { RedriveSummary } from '../../lib/store/spool.ts';
import { replayQuarantine } from '../replay.ts';
import { FaultySqs } from '../testing/faulty-sqs.ts';
import { loadFixture, loadFixtures } from '../testing/fixtures.ts';
import { validSamples } from '../testing/route-callbacks.ts';
import { startTestS3 } from '../testing/s3.ts';
import { receiveAll as receiveMessages, startTestSqs, testSqsClient, toSqsRecord } from '../testing/sqs.ts';
import { type LocalRun, startLocalRun } from './local-run.ts';

// End to end as a user runs it: real HTTP into the local server, the real handler, a real
// SQS-protocol queue, and the event read back with the AWS SDK.
let run: LocalRun;
const printed: string[] = [];

beforeAll(async () => {
  run = await startLocalRun({
    port: 0,
    onRequest: (served) => printed.push(...served.messages.filter((message) => message.queue === 'events').map((message) => message.body)),
  });
});
afterAll(() => run.close());

/** An event as the spool keeps it. */
const spooledEvent = {
  specversion: '1.0',
  id: 'f'.repeat(32),
  source: 'thain',
  type: 'thain.flow.status',
  subject: '2',
  time: '2026-03-12T10:33:20.000Z',
  datacontenttype: 'application/json',
  data: { status: 'failed', terminal: true, sourceStatus: 3, labels: {}, raw: { contentType: 'x', body: 'y' } },
};

async function receiveAll(): Promise<string[]> {
  const client = testSqsClient(run.sqsEndpoint ?? '');
  const messages = await receiveMessages(client, run.queueUrls.EventsQueue ?? '', { remove: false, visibilityTimeout: 300 });
  client.destroy();
  return messages.map((m) => m.Body ?? '');
}

describe('npm start: HTTP to the queue', () => {
  it('serves the routes that serverless.yml declares, with function URLs', () => {
    expect(run.routes).toContain('POST /callbacks/bk-job -> bkJob');
    expect(run.routes.some((route) => route.startsWith('POST /url/bkJob/'))).toBe(true);
  });

  it.each(SOURCE_NAMES)('turns every valid %s sample, posted to its own route, into exactly one event on the queue', async (source) => {
    const fixtures = validSamples(source);
    printed.length = 0;
    const ids: string[] = [];
    for (const fixture of fixtures) {
      const response = await fetch(`${run.url}${fixture.path}?team=infra`, {
        method: 'POST',
        headers: { 'content-type': fixture.contentType },
        body: fixture.body,
      });
      expect(response.status, fixture.name).toBe(200);
      const answer = (await response.json()) as { ok: boolean; id: string };
      expect(answer.ok).toBe(true);
      ids.push(answer.id);
    }
    const events = (await receiveAll()).map((body) => v.parse(CloudEventSchema, JSON.parse(body)));
    expect(events.map((event) => event.id).sort()).toEqual([...ids].sort());
    expect(events.every((event) => event.data.labels.team === 'infra' && event.source === source)).toBe(true);
    expect(printed).toHaveLength(fixtures.length);
  });

  it('answers every invalid sample with a 4xx and enqueues nothing', async () => {
    for (const fixture of SOURCE_NAMES.flatMap((source) => loadFixtures(source)).filter((f) => f.name.includes('-invalid-'))) {
      const response = await fetch(`${run.url}${fixture.path}?${fixture.query}`, {
        method: 'POST',
        headers: { 'content-type': fixture.contentType },
        body: fixture.body,
      });
      expect([400, 422], fixture.name).toContain(response.status);
    }
    expect(await receiveAll()).toEqual([]);
  });

  it('picks the Thain kind from the last path segment on the function URL, 404 for another', async () => {
    const body = 'flowId=1&flowExecutionId=2&code=2&message=';
    const flow = await fetch(`${run.url}/url/thain/anything/flow`, { method: 'POST', body });
    const job = await fetch(`${run.url}/url/thain/job`, { method: 'POST', body });
    expect([flow.status, job.status]).toEqual([200, 200]);
    const types = (await receiveAll()).map((b) => JSON.parse(b).type).sort();
    expect(types).toEqual(['thain.flow.status', 'thain.job.status']);
    expect((await fetch(`${run.url}/callbacks/thain/task`, { method: 'POST', body })).status).toBe(404);
  });

  it('answers through the function URL path with any suffix, base64 bodies included', async () => {
    const response = await fetch(`${run.url}/url/bkJob/hook`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: '{"job_instance_id":42,"status":3}',
    });
    expect(response.status).toBe(200);
    const [body] = await receiveAll();
    expect(JSON.parse(body ?? '{}')).toMatchObject({ subject: '42', data: { raw: { contentType: 'application/octet-stream' } } });
  });

  it('answers 400 with a reason and enqueues nothing for a truncated body', async () => {
    const response = await fetch(`${run.url}/callbacks/bk-job`, { method: 'POST', body: '{"job_instance_id":4' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/not valid JSON/);
    expect(await receiveAll()).toEqual([]);
  });

  it('answers 404 for a path no function serves, 405 for GET', async () => {
    expect((await fetch(`${run.url}/nowhere`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${run.url}/callbacks/bk-job`)).status).toBe(405);
  });

  it('quarantines an authenticated bad callback, and npm run replay recovers it after a fix', async () => {
    const client = testSqsClient(run.sqsEndpoint ?? '');
    const quarantineUrl = run.queueUrls.QuarantineQueue ?? '';
    const eventsUrl = run.queueUrls.EventsQueue ?? '';
    // What the earlier tests' bad bodies left there (every one of them was kept).
    await receiveMessages(client, quarantineUrl, { remove: true });
    const body = '{"job_instance_id":"77x","status":3}';
    const response = await fetch(`${run.url}/callbacks/bk-job?team=ops`, { method: 'POST', body });
    expect(response.status).toBe(422);
    try {
      // The current code still refuses it: it stays quarantined.
      const before = await replayQuarantine({ client, quarantineUrl, eventsUrl });
      expect([before.replayed, before.failing.length]).toEqual([0, 1]);
      // A fix that reads the id's digits: now it becomes an event with its labels.
      const fixed: Callbacks = {
        ...bkJob,
        route: (path) => {
          const route = bkJob.route(path);
          return (
            route && { toDraft: (decoded, context) => route.toDraft(JSON.parse(JSON.stringify(decoded).replace('"77x"', '77')), context) }
          );
        },
      };
      const after = await replayQuarantine({
        client,
        quarantineUrl,
        eventsUrl,
        callbacksOf: (source) => (source === 'bk-job' ? Promise.resolve(fixed) : loadCallbacks(source)),
      });
      expect([after.replayed, after.failing.length]).toEqual([1, 0]);
      const [event] = (await receiveAll()).map((b) => JSON.parse(b));
      expect(event).toMatchObject({ subject: '77', data: { labels: { team: 'ops' }, raw: { body } } });
      expect(await receiveMessages(client, quarantineUrl, { remove: false })).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('holds the payload bucket in an embedded S3: large field callbacks get 200 and their exact bytes, by dataref when too large', async () => {
    expect(run.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(run.bucket).toBe('jobhooks-local-payload-bucket');
    const s3 = createS3Client({
      endpoint: run.s3Endpoint ?? '',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const bucket = createPayloadBucket({ bucket: run.bucket, client: s3 });
    const client = testSqsClient(run.sqsEndpoint ?? '');
    try {
      const line = 'curl: (56) Recv failure: Connection reset by peer\n';
      const big = `flowId=1&flowExecutionId=2&code=3&message=${encodeURIComponent(line.repeat(80_000))}`;
      const posts: Array<{ path: string; query: string; contentType: string; body: Buffer }> = [
        loadFixture('tencent-ci', 'field/ci-asr-30min-word-detail-xml'),
        loadFixture('thain', 'field/thain-flow-error-curl-progress-over-256k'),
        loadFixture('tencent-ci', 'field/ci-transcode-failed-gbk-xml'),
        {
          path: '/callbacks/thain/flow',
          query: '',
          contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
          body: Buffer.from(big),
        },
      ];
      for (const { path, query, contentType, body } of posts) {
        const response = await fetch(`${run.url}${path}${query ? `?${query}` : ''}`, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body,
        });
        expect(response.status, path).toBe(200);
        const [message, ...more] = await receiveMessages(client, run.queueUrls.EventsQueue ?? '', { remove: true });
        expect(more).toEqual([]);
        const event = await readEventRecord(toSqsRecord(message ?? {}, 'arn'), (url) => bucket.get(url.replace(`s3://${run.bucket}/`, '')));
        expect(rawBytes(event.data.raw).equals(body), path).toBe(true);
      }
    } finally {
      client.destroy();
      s3.destroy();
    }
  });

  it('with QUEUE_URL and PAYLOAD_BUCKET set, uses that queue and that bucket and starts neither embedded server', async () => {
    const external = await startTestSqs(['external-events']);
    const s3 = await startTestS3(['external-payloads']);
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: external.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const queueUrl = await external.queueUrl('external-events');
    const other = await startLocalRun({ port: 0, queueUrl, payloadBucket: 'external-payloads' });
    try {
      expect([other.sqsEndpoint, other.s3Endpoint]).toEqual([undefined, undefined]);
      const body = `{"job_instance_id":9,"status":3,"pad":"${'x'.repeat(1_100_000)}"}`;
      const response = await fetch(`${other.url}/callbacks/bk-job`, { method: 'POST', body });
      expect(response.status).toBe(200);
      const [message] = await external.drain(queueUrl);
      expect(JSON.parse(message?.Body ?? '{}').dataref).toMatch(/^s3:\/\/external-payloads\/events\//);
      expect(await s3.keys('external-payloads', 'events/')).toHaveLength(1);
    } finally {
      await other.close();
      await external.close();
      await s3.close();
      process.env = saved;
    }
  });

  it('redrives the spool: what SQS did not take reaches the queue', async () => {
    const s3 = createS3Client({
      endpoint: run.s3Endpoint ?? '',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const bucket = createPayloadBucket({ bucket: run.bucket, client: s3 });
    const client = testSqsClient(run.sqsEndpoint ?? '');
    try {
      const { createSpool } = await import('../../lib/store/spool.ts');
      const event = spooledEvent;
      await createSpool(bucket).keep('events', new Date(event.time), event.id, JSON.stringify(event));
      expect(await run.redrive()).toMatchObject({ sent: 1, left: 0 });
      const [message] = await receiveMessages(client, run.queueUrls.EventsQueue ?? '', { remove: true });
      expect(JSON.parse(message?.Body ?? '{}').id).toBe(event.id);
    } finally {
      client.destroy();
      s3.destroy();
    }
  });

  it('reports a redrive run once, however many ticks of its loop it outlasts', async () => {
    // A queue that answers each send late, so one run outlasts many 10 ms ticks.
    const upstream = await startTestSqs(['slow-events']);
    const faulty = new FaultySqs(upstream.endpoint, 'slow-ok');
    const endpoint = await faulty.listen();
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    const queueUrl = `${endpoint}${new URL(await upstream.queueUrl('slow-events')).pathname}`;
    const reports: RedriveSummary[] = [];
    const other = await startLocalRun({
      port: 0,
      queueUrl,
      redriveIntervalMs: 10,
      inspector: false,
      onRedrive: (summary) => reports.push(summary),
    });
    try {
      const s3 = createS3Client({
        endpoint: other.s3Endpoint ?? '',
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      const { createSpool } = await import('../../lib/store/spool.ts');
      const event = { ...spooledEvent, id: 'e'.repeat(32) };
      await createSpool(createPayloadBucket({ bucket: other.bucket, client: s3 })).keep(
        'events',
        new Date(event.time),
        event.id,
        JSON.stringify(event),
      );
      s3.destroy();
      while (reports.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      // Two more runs, which find the spool empty and report nothing.
      await other.redrive();
      await other.redrive();
      expect(reports).toEqual([{ sent: 1, sentBySource: { thain: 1 }, left: 0, oldestAgeSeconds: expect.any(Number) }]);
      expect((await upstream.drain(await upstream.queueUrl('slow-events'))).map((message) => JSON.parse(message.Body ?? '{}').id)).toEqual([
        event.id,
      ]);
    } finally {
      await other.close();
      await faulty.close();
      await upstream.close();
      process.env = saved;
    }
  });

  it('with QUEUE_URL set, sends to that queue and starts no embedded one', async () => {
    const external = await startTestSqs(['external-events']);
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: external.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const queueUrl = await external.queueUrl('external-events');
    const other = await startLocalRun({ port: 0, queueUrl });
    try {
      expect(other.sqsEndpoint).toBeUndefined();
      const response = await fetch(`${other.url}/callbacks/bk-job`, { method: 'POST', body: '{"job_instance_id":9,"status":3}' });
      expect(response.status).toBe(200);
      const [message] = await external.drain(queueUrl);
      expect(JSON.parse(message?.Body ?? '{}').subject).toBe('9');
    } finally {
      await other.close();
      await external.close();
      process.env = saved;
    }
  });

  it('logs one bounded line per request, with no body, query value or path in any', async () => {
    const marker = 'Mk9zQ';
    const logged: string[] = [];
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'info';
    setLogWriter((line) => logged.push(line));
    const answers: string[] = [];
    try {
      const requests: Array<[string, string]> = [
        [`/callbacks/bk-job?team=${marker}`, `{"job_instance_id":5,"status":3,"note":"${marker}"}`],
        ['/callbacks/bk-job', `{"job_instance_id":${marker}}`],
        ['/callbacks/tencent-ci', `<Response><${marker}></Response>`],
        ['/callbacks/thain/job', `flowId=${marker}&flowExecutionId=1&code=2&message=`],
        [`/callbacks/thain/${marker}`, 'flowId=1'],
        [`/url/thain/${marker}?token=${marker}`, 'flowId=1'],
        [`/url/bkJob/${marker}`, `{"${marker}":1}`],
        [`/${marker}`, '{}'],
      ];
      for (const [path, body] of requests) {
        const response = await fetch(`${run.url}${path}`, { method: 'POST', body });
        answers.push(`${response.status} ${await response.text()}`);
      }
    } finally {
      setLogWriter((line) => process.stdout.write(line));
      process.env.LOG_LEVEL = level;
    }
    // Every request but the one no function serves reached a handler, which logged it once.
    expect(logged).toHaveLength(7);
    for (const line of logged) {
      expect(line).not.toContain(marker);
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
    }
    // The 404 answers do not echo the path either.
    for (const answer of answers.filter((a) => a.startsWith('404'))) expect(answer).not.toContain(marker);
    expect(answers.filter((a) => a.startsWith('404'))).toHaveLength(3);
    await receiveAll();
  });

  it('counts the metrics its requests carry, per sender and outcome, as the deployed dashboard would (run.counters())', async () => {
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'info';
    setLogWriter(() => undefined);
    const before = run.counters().sources;
    try {
      // Prepare / Act: two good bk-job callbacks, one invalid, one truncated Thain form.
      const requests: Array<[string, string]> = [
        ['/callbacks/bk-job?n=1', '{"job_instance_id":71,"status":3}'],
        ['/callbacks/bk-job?n=2', '{"job_instance_id":72,"status":4}'],
        ['/callbacks/bk-job', '{"status":3}'],
        ['/callbacks/thain/job', 'flowId=1&flowExecutionId=%ZZ'],
      ];
      for (const [path, body] of requests) {
        await fetch(`${run.url}${path}`, { method: 'POST', body });
      }
    } finally {
      setLogWriter((line) => process.stdout.write(line));
      process.env.LOG_LEVEL = level;
    }
    // Assess: what these four added to the counters.
    const after = run.counters().sources;
    const added = (source: string, outcome: string) => (after[source]?.outcomes[outcome] ?? 0) - (before[source]?.outcomes[outcome] ?? 0);
    expect(added('bk-job', 'accepted')).toBe(2);
    expect(added('bk-job', 'refused-422')).toBe(1);
    expect(added('thain', 'refused-400')).toBe(1);
    expect((after['bk-job']?.quarantined ?? 0) - (before['bk-job']?.quarantined ?? 0)).toBe(1);
    expect((after['bk-job']?.types['bkjob.job.finished'] ?? 0) - (before['bk-job']?.types['bkjob.job.finished'] ?? 0)).toBe(2);
    expect(after['bk-job']?.answerMs?.count).toBeGreaterThanOrEqual(3);
    await receiveAll();
  });
});
