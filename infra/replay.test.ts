import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../lib/errors.ts';
import { accessPolicy } from '../lib/http/authorize.ts';
import { createCallbackHandler } from '../lib/http/callback-handler.ts';
import { createSqsQuarantine, QuarantineRecordSchema } from '../lib/queue/quarantine.ts';
import { createSqsQueue } from '../lib/queue/send-event.ts';
import { callbacks as bkJob } from '../lib/sources/bk-job/callback.ts';
import { loadCallbacks } from '../lib/sources/load-callbacks.ts';
import type { Callbacks } from '../lib/sources/source.ts';
import { createHttpEvent } from './local/http-event.ts';
import { replayQuarantine } from './replay.ts';
import { startTestS3 } from './testing/s3.ts';
import { startTestSqs, type TestSqs } from './testing/sqs.ts';

let sqs: TestSqs;
let eventsUrl: string;
let quarantineUrl: string;

beforeAll(async () => {
  sqs = await startTestSqs(['events', 'quarantine']);
  eventsUrl = await sqs.queueUrl('events');
  quarantineUrl = await sqs.queueUrl('quarantine');
});
afterAll(() => sqs.close());

/** bk-job as an older release shipped it: it did not know the doc-only `step_instance_list`. */
const oldBkJob: Callbacks = {
  ...bkJob,
  route: (path) => {
    const route = bkJob.route(path);
    return (
      route && {
        toDraft(decoded, context) {
          if (typeof decoded === 'object' && decoded !== null && 'step_instance_list' in decoded) {
            throw new InvalidPayloadError('bk-job callback', [
              { path: 'step_instance_list', message: 'unknown key', field: 'step_instance_list' },
            ]);
          }
          return route.toDraft(decoded, context);
        },
      }
    );
  },
};

const DOC_SHAPE = '{"job_instance_id":77,"status":3,"step_instance_list":[{"step_instance_id":1,"status":3}]}';

describe('quarantine and replay', () => {
  it('quarantines a rejected callback with everything needed to run it again', async () => {
    const handler = createCallbackHandler(oldBkJob, {
      queue: createSqsQueue({ queueUrl: eventsUrl, client: sqs.client }),
      quarantine: createSqsQuarantine({ queueUrl: quarantineUrl, client: sqs.client }),
      access: false,
    });
    const response = await handler(
      createHttpEvent({
        body: DOC_SHAPE,
        contentType: 'application/x-www-form-urlencoded',
        path: '/callbacks/bk-job',
        query: 'team=ops&token=t0k',
      }),
    );
    expect(response.statusCode).toBe(422);
    expect(await sqs.drain(eventsUrl)).toEqual([]);
    const [message] = await sqs.drain(quarantineUrl);
    const record = v.parse(QuarantineRecordSchema, JSON.parse(message?.Body ?? ''));
    expect(record).toMatchObject({
      source: 'bk-job',
      route: '/callbacks/bk-job',
      status: 422,
      issues: ['step_instance_list: unknown key'],
      labels: { team: 'ops' },
      raw: { contentType: 'application/x-www-form-urlencoded', body: DOC_SHAPE },
    });
    expect(message?.Body).not.toContain('t0k');
  });

  it('replays quarantined callbacks through the fixed code into events, and keeps what still fails', async () => {
    const quarantine = createSqsQuarantine({ queueUrl: quarantineUrl, client: sqs.client });
    const handler = createCallbackHandler(oldBkJob, {
      queue: createSqsQueue({ queueUrl: eventsUrl, client: sqs.client }),
      quarantine,
      access: false,
      now: () => new Date('2026-01-02T03:04:05.000Z'),
    });
    await handler(createHttpEvent({ body: DOC_SHAPE, path: '/callbacks/bk-job', query: 'team=ops' }));
    await handler(createHttpEvent({ body: '{"job_instance_id":"x"}', path: '/callbacks/bk-job' }));

    // Before the fix: the old code still rejects both.
    const before = await replayQuarantine({
      client: sqs.client,
      quarantineUrl,
      eventsUrl,
      callbacksOf: (source) => (source === 'bk-job' ? Promise.resolve(oldBkJob) : loadCallbacks(source)),
    });
    expect(before.replayed).toBe(0);
    expect(before.failing).toHaveLength(2);

    // After the fix (the current bk-job takes the doc shape): one becomes an event.
    const after = await replayQuarantine({ client: sqs.client, quarantineUrl, eventsUrl });
    expect(after.replayed).toBe(1);
    expect(after.failing.map((f) => f.status)).toEqual([422]);
    const [event] = (await sqs.drain(eventsUrl)).map((m) => JSON.parse(m.Body ?? ''));
    expect(event).toMatchObject({
      subject: '77',
      time: '2026-01-02T03:04:05.000Z',
      data: { labels: { team: 'ops' }, steps: [{ id: '1', status: 'succeeded' }] },
    });
    // The one that still fails stays quarantined for the next fix.
    const left = await sqs.drain(quarantineUrl);
    expect(left.map((m) => JSON.parse(m.Body ?? '').raw.body)).toEqual(['{"job_instance_id":"x"}']);
  });

  it('answers 503 when the callback cannot be quarantined either', async () => {
    const handler = createCallbackHandler(bkJob, {
      queue: createSqsQueue({ queueUrl: eventsUrl, client: sqs.client }),
      quarantine: createSqsQuarantine({ queueUrl: `${sqs.endpoint}/123456789012/missing`, client: sqs.client }),
      access: false,
    });
    const response = await handler(createHttpEvent({ body: '{"status":3}', path: '/callbacks/bk-job' }));
    expect(response.statusCode).toBe(503);
  });

  it('does not quarantine a request that fails its token check', async () => {
    const handler = createCallbackHandler(bkJob, {
      queue: createSqsQueue({ queueUrl: eventsUrl, client: sqs.client }),
      quarantine: createSqsQuarantine({ queueUrl: quarantineUrl, client: sqs.client }),
      access: accessPolicy(['a-token-of-sixteen-chars']),
    });
    const response = await handler(createHttpEvent({ body: 'garbage', path: '/callbacks/bk-job', query: 'token=nope' }));
    expect(response.statusCode).toBe(401);
    expect(await sqs.drain(quarantineUrl)).toEqual([]);
  });
});

describe('replay of a body kept in the payload bucket', () => {
  it('reads a quarantined body from the bucket (its SHA-256 checked) and replays it into an event', async () => {
    const s3 = await startTestS3(['payloads']);
    const bucket = s3.bucket('payloads');
    try {
      const handler = createCallbackHandler(oldBkJob, {
        queue: createSqsQueue({ queueUrl: eventsUrl, client: sqs.client, bucket }),
        quarantine: createSqsQuarantine({ queueUrl: quarantineUrl, client: sqs.client, bucket }),
        access: false,
      });
      // Valid for the fixed code, refused by the old one; its record would be over 1 MiB.
      const body = `{"job_instance_id":78,"status":3,"step_instance_list":[{"step_instance_id":1,"status":3}],"log":"${'\\u0001'.repeat(200_000)}"}`;
      expect((await handler(createHttpEvent({ body, path: '/callbacks/bk-job' }))).statusCode).toBe(422);
      expect(await s3.keys('payloads', 'quarantine/')).toHaveLength(1);
      const summary = await replayQuarantine({ client: sqs.client, quarantineUrl, eventsUrl, bucket });
      expect(summary).toMatchObject({ replayed: 1, failing: [] });
      const [message] = await sqs.drain(eventsUrl);
      const event = JSON.parse(message?.Body ?? '{}');
      expect(event).toMatchObject({ subject: '78', dataref: expect.stringMatching(/^s3:\/\/payloads\/events\//) });
    } finally {
      await s3.close();
    }
  });
});
