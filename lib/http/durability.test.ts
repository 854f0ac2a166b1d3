/**
 * Nothing a sender sends is lost: the four ways the first release lost a callback for good, each as
 * a test over real stores (local-aws-sqs, s3rver), and a property over random bodies up to 6 MB.
 * Times are printed (`DURABLE` lines), never asserted.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpEvent, handsOverAsText } from '../../infra/local/http-event.ts';
import { apacheForm } from '../../infra/testing/apache-form.ts';
import { type DurableStores, startDurableStores } from '../../infra/testing/durable-stores.ts';
import { FaultySqs } from '../../infra/testing/faulty-sqs.ts';
import { loadFixture } from '../../infra/testing/fixtures.ts';
import { gbk } from '../../infra/testing/gbk.ts';
import { type CloudEvent, rawBytes } from '../events/cloud-event.ts';
import { MAX_MESSAGE_BYTES, messageSize } from '../queue/send-event.ts';
import { callbacks as bkJob } from '../sources/bk-job/callback.ts';
import type { SourceName } from '../sources/registry.ts';
import { callbacks as thain } from '../sources/thain/callback.ts';
import { PREFIXES } from '../store/payload-bucket.ts';
import { createCallbackHandler } from './callback-handler.ts';
import { MAX_BODY_BYTES } from './read-request.ts';

let stores: DurableStores;
beforeAll(async () => {
  stores = await startDurableStores();
});
afterAll(() => stores?.close());
beforeEach(async () => {
  // Under load a send can outlast its deadline and be spooled too (at least once): a spooled copy
  // left by one test must not surface in the next.
  await stores.redrive();
  await stores.takeEvents();
  await stores.takeQuarantined();
});

interface Answer {
  readonly status: number;
  readonly id?: string;
  readonly error?: string;
  readonly ms: number;
}

async function post(source: SourceName, path: string, body: Buffer | string, contentType: string, query = ''): Promise<Answer> {
  const bytes = Buffer.from(body);
  const started = performance.now();
  const text = handsOverAsText(bytes, contentType);
  const response = await stores.handler(source)(
    createHttpEvent({ path, body: text ? bytes.toString('utf8') : bytes, isBase64Encoded: !text, contentType, query }),
  );
  const answer = JSON.parse(response.body ?? '{}') as { id?: string; error?: string };
  return { status: response.statusCode ?? 0, ...answer, ms: performance.now() - started };
}

describe('1. large genuine bodies get 200 and one event holding their exact bytes (they got 413, kept nowhere)', () => {
  it.each([
    ['tencent-ci', 'field/ci-asr-30min-word-detail-xml'],
    ['thain', 'field/thain-flow-error-curl-progress-over-256k'],
  ] as const)('%s %s', async (source, name) => {
    const fixture = loadFixture(source, name);
    const answer = await post(source, fixture.path, fixture.body, fixture.contentType, fixture.query);
    expect(answer.status).toBe(200);
    // One event; on a machine so busy that SQS outlasts its deadline, also a spooled copy with the same id.
    await stores.redrive();
    const [queued, ...copies] = await stores.takeEvents();
    expect(copies.map((copy) => copy.event.id).filter((id) => id !== answer.id)).toEqual([]);
    expect(queued?.event.id).toBe(answer.id);
    expect(rawBytes(queued?.event.data.raw ?? { contentType: '', body: '' }).equals(fixture.body)).toBe(true);
    console.log(
      `DURABLE ${name}: ${answer.status} in ${Math.round(answer.ms)} ms; raw ${fixture.body.length} B, event ${queued?.bytes.length} B ` +
        `(${((queued?.bytes.length ?? 0) / fixture.body.length).toFixed(2)}x), ${queued?.dataref ? `by dataref ${queued.dataref}` : 'inline'}`,
    );
  });

  it('a 5 MB Thain message: 200, its event in the bucket by dataref, the whole event byte for byte', async () => {
    const line = '[2026-03-12 10:33:20] curl: (56) Recv failure: Connection reset by peer\n';
    const message = `Job[dump] exception: JobExecuteException: ${line.repeat(Math.floor(5_000_000 / line.length))}`;
    const body = apacheForm([
      ['flowId', '211'],
      ['flowExecutionId', '90418'],
      ['code', '3'],
      ['message', message],
    ]);
    const answer = await post('thain', '/callbacks/thain/flow', body, 'application/x-www-form-urlencoded; charset=UTF-8');
    expect(answer.status).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.dataref).toMatch(/^s3:\/\/payloads\/events\/[0-9a-f]{2}\//);
    expect(queued?.event.data.message).toBe(message);
    expect(queued?.event.data.raw.body).toBe(body);
    // The message on the queue is small: the envelope, the status, the reference.
    expect(Buffer.byteLength(queued?.message.Body ?? '')).toBeLessThan(1_000);
    console.log(
      `DURABLE thain 5 MB message: body ${body.length} B, event ${queued?.bytes.length} B, ${answer.status} in ${Math.round(answer.ms)} ms`,
    );
  });
});

describe('2. an event that SQS can never take (over its limit once attributes count) is claim-checked, not 503 forever', () => {
  it('an event of 1,048,540 bytes, which its three attributes push past 1 MiB: 200, whole event in the bucket', async () => {
    // Find the padding that makes the event body exactly 1,048,540 bytes (the receive time is fixed).
    const now = new Date('2026-03-12T10:33:20.000Z');
    const built = (pad: number): Promise<string> =>
      new Promise((resolve) => {
        const capture = createCallbackHandler(bkJob, {
          queue: { send: async (_event: CloudEvent, body: string) => resolve(body) },
          quarantine: false,
          spool: false,
          access: false,
          now: () => now,
        });
        void capture(createHttpEvent({ path: '/callbacks/bk-job', body: `{"job_instance_id":7,"status":3,"note":"${'x'.repeat(pad)}"}` }));
      });
    const target = 1_048_540;
    const pad = target - Buffer.byteLength(await built(0));
    const event = await built(pad);
    expect(Buffer.byteLength(event)).toBe(target);
    const attributes = { source: 'bk-job', type: 'bkjob.job.finished', status: 'succeeded' };
    expect(messageSize({ body: event, attributes })).toBeGreaterThan(MAX_MESSAGE_BYTES);

    const handler = createCallbackHandler(bkJob, {
      queue: stores.queue(),
      quarantine: false,
      access: false,
      now: () => now,
    });
    const body = `{"job_instance_id":7,"status":3,"note":"${'x'.repeat(pad)}"}`;
    const response = await handler(createHttpEvent({ path: '/callbacks/bk-job', body }));
    expect(response.statusCode).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.dataref).toBeDefined();
    expect(queued?.bytes.toString('utf8')).toBe(event);
    expect(queued?.message.MessageAttributes?.datarefsha256?.StringValue).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('3. a body with 87,000 empty steps gets its 422 fast, and one bounded quarantine record (it made an 8.4 MB record, then a 503)', () => {
  it('422, at most 20 issues, one record holding the exact 262 KB body', async () => {
    const body = `{"job_instance_id":1,"status":3,"step_instances":[${Array(87_000).fill('{}').join(',')}]}`;
    expect(body.length).toBeGreaterThan(260_000);
    const answer = await post('bk-job', '/callbacks/bk-job', body, 'application/json');
    expect(answer.status).toBe(422);
    await stores.redrive();
    const [kept, ...copies] = await stores.takeQuarantined();
    // One record (and, on a machine so busy that SQS outlasts its deadline, a spooled copy of it).
    expect(copies.map((copy) => copy.record.requestId).filter((id) => id !== kept?.record.requestId)).toEqual([]);
    expect(kept?.record.issues?.length).toBeLessThanOrEqual(20);
    expect(kept?.record.issues?.[0]).toBe('step_instances.0.step_instance_id: is missing');
    expect(kept?.body.toString('utf8')).toBe(body);
    console.log(
      `DURABLE 87k-step bk-job body (${body.length} B): ${answer.status} in ${Math.round(answer.ms)} ms; record issues ${JSON.stringify(kept?.record.issues)}`,
    );
  });

  it('a small body still lists every problem (up to 20) and counts them all', async () => {
    const body = `{"job_instance_id":"x","status":"y","step_instances":[${Array(30).fill('{}').join(',')}]}`;
    const answer = await post('bk-job', '/callbacks/bk-job', body, 'application/json');
    expect(answer.status).toBe(422);
    const [kept] = await stores.takeQuarantined();
    expect(kept?.record.issues).toHaveLength(20);
    expect(kept?.record.issueCount).toBe(62);
  });

  it('a rejected body too large for a record goes to the bucket under quarantine/, referenced with its SHA-256', async () => {
    const body = Buffer.concat([
      Buffer.from('<Response><JobsDetail>'),
      Buffer.alloc(2_000_000, 0x01),
      Buffer.from('</JobsDetail></Response>'),
    ]);
    const answer = await post('tencent-ci', '/callbacks/tencent-ci', body, 'application/xml');
    expect([400, 422]).toContain(answer.status);
    const [kept] = await stores.takeQuarantined();
    expect(kept?.record.raw).toMatchObject({
      contentType: 'application/xml',
      size: body.length,
      dataref: expect.stringMatching(/^s3:\/\/payloads\/quarantine\//),
    });
    expect(kept?.body.equals(body)).toBe(true);
  });
});

describe('4. bodies that are not UTF-8 keep their bytes (GBK gave U+FFFD, or a 400 kept nowhere)', () => {
  const xml = (declaration: string) =>
    Buffer.concat([
      Buffer.from(`${declaration}<Response><EventName>TaskFinish</EventName><JobsDetail><JobId>j1</JobId><State>Failed</State><Message>`),
      gbk('输入失败'),
      Buffer.from('</Message></JobsDetail></Response>'),
    ]);

  it.each([
    ['the XML declaration', xml('<?xml version="1.0" encoding="GBK"?>'), 'application/xml'],
    ['the Content-Type charset', xml(''), 'application/xml; charset=GBK'],
    ['gb18030 in the Content-Type', xml(''), 'text/xml; charset=gb18030'],
  ])('GBK declared in %s: 200, the right Chinese message, the exact bytes in data.raw (base64)', async (_where, body, contentType) => {
    const answer = await post('tencent-ci', '/callbacks/tencent-ci', body, contentType);
    expect(answer.status).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.event.data.message).toBe('输入失败');
    expect(queued?.event.data.raw.encoding).toBe('base64');
    expect(rawBytes(queued?.event.data.raw ?? { contentType: '', body: '' }).equals(body)).toBe(true);
    expect(JSON.stringify(queued?.event)).not.toContain('\uFFFD');
  });

  it.each(['application/xml', 'text/plain', 'application/octet-stream'])(
    'GBK declared nowhere (%s): 400, and the exact bytes quarantined, never replaced',
    async (contentType) => {
      const body = xml('');
      const answer = await post('tencent-ci', '/callbacks/tencent-ci', body, contentType);
      expect(answer.status).toBe(400);
      expect(answer.error).toMatch(/not valid UTF-8/);
      const [kept] = await stores.takeQuarantined();
      expect(kept?.record.raw).toMatchObject({ encoding: 'base64' });
      expect(kept?.body.equals(body)).toBe(true);
    },
  );

  it('UTF-16 with a byte order mark: 200, the text read, the bytes kept', async () => {
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"job_instance_id":5,"status":3}', 'utf16le')]);
    const answer = await post('bk-job', '/callbacks/bk-job', body, 'application/json');
    expect(answer.status).toBe(200);
    const [queued] = await stores.takeEvents();
    expect(queued?.event.subject).toBe('5');
    expect(rawBytes(queued?.event.data.raw ?? { contentType: '', body: '' }).equals(body)).toBe(true);
  });
});

describe('…and when SQS fails, a Thain callback (never resent) is spooled and redriven, not gone', () => {
  it('SQS refuses: 200 from the spool; the redrive puts the event on the queue and empties the spool', async () => {
    const faulty = new FaultySqs(stores.sqs.endpoint, 'service-unavailable');
    const endpoint = await faulty.listen();
    try {
      const body = loadFixture('thain', 'thain-flow-error').body;
      const response = await stores.handler('thain', endpoint)(createHttpEvent({ path: '/callbacks/thain/flow', body }));
      expect(response.statusCode).toBe(200);
      const { id } = JSON.parse(response.body ?? '{}');
      expect(await stores.takeEvents()).toEqual([]);
      expect(await stores.s3.keys('payloads', PREFIXES.spool)).toHaveLength(1);
      expect(await stores.redrive()).toMatchObject({ sent: 1, left: 0 });
      expect((await stores.takeEvents()).map((queued) => queued.event.id)).toEqual([id]);
      expect(await stores.s3.keys('payloads', PREFIXES.spool)).toEqual([]);
    } finally {
      await faulty.close();
    }
  });

  it('SQS refuses a rejected callback too: its quarantine record is spooled, then redriven to the quarantine queue', async () => {
    const faulty = new FaultySqs(stores.sqs.endpoint, 'reset');
    const endpoint = await faulty.listen();
    try {
      const response = await stores.handler('bk-job', endpoint)(createHttpEvent({ path: '/callbacks/bk-job', body: '{"status":3}' }));
      expect(response.statusCode).toBe(422);
      expect(await stores.redrive()).toMatchObject({ sent: 1 });
      const [kept] = await stores.takeQuarantined();
      expect(kept?.body.toString()).toBe('{"status":3}');
    } finally {
      await faulty.close();
    }
  });

  it('503 only when the spool fails too', async () => {
    const faulty = new FaultySqs(stores.sqs.endpoint, 'reset');
    const endpoint = await faulty.listen();
    try {
      const handler = createCallbackHandler(thain, {
        queue: stores.queue(endpoint),
        quarantine: false,
        spool: { keep: () => Promise.reject(new Error('the bucket is down too')) },
        access: false,
      });
      const response = await handler(
        createHttpEvent({ path: '/callbacks/thain/flow', body: loadFixture('thain', 'thain-flow-error').body }),
      );
      expect(response.statusCode).toBe(503);
    } finally {
      await faulty.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Property: for random bodies up to 6 MB, a 200 always means an event (inline or by dataref) with
// the exact bytes, and a 4xx always means a quarantine record with the exact bytes.
// ---------------------------------------------------------------------------------------------

type Kind = 'thain-form' | 'bk-job-json' | 'ci-xml' | 'random-bytes' | 'broken-json';
const ROUTE_OF: Record<Kind, { source: SourceName; path: string; contentType: string }> = {
  'thain-form': { source: 'thain', path: '/callbacks/thain/flow', contentType: 'application/x-www-form-urlencoded; charset=UTF-8' },
  'bk-job-json': { source: 'bk-job', path: '/callbacks/bk-job', contentType: 'application/json' },
  'ci-xml': { source: 'tencent-ci', path: '/callbacks/tencent-ci', contentType: 'application/xml' },
  'random-bytes': { source: 'tencent-ci', path: '/callbacks/tencent-ci', contentType: 'application/octet-stream' },
  'broken-json': { source: 'bk-job', path: '/callbacks/bk-job', contentType: 'application/json' },
};

/** A body of about `size` bytes of the given kind; `seed` varies its content. */
function bodyOf(kind: Kind, size: number, seed: number): Buffer {
  const filler = (n: number) => Buffer.alloc(Math.max(0, n), String.fromCharCode(97 + (seed % 26)));
  switch (kind) {
    case 'thain-form':
      return Buffer.concat([Buffer.from(`flowId=${seed}&flowExecutionId=${seed + 1}&code=3&message=`), filler(size - 60)]);
    case 'bk-job-json':
      return Buffer.concat([Buffer.from(`{"job_instance_id":${seed},"status":4,"note":"`), filler(size - 50), Buffer.from('"}')]);
    case 'ci-xml':
      return Buffer.concat([
        Buffer.from(`<Response><JobsDetail><JobId>j${seed}</JobId><State>Success</State><Message>`),
        filler(size - 100),
        Buffer.from('</Message></JobsDetail></Response>'),
      ]);
    case 'random-bytes': {
      const bytes = Buffer.alloc(size);
      let x = seed || 1;
      for (let i = 0; i < size; i++) {
        x = (x * 1_103_515_245 + 12_345) >>> 0;
        bytes[i] = x >>> 24;
      }
      return bytes;
    }
    case 'broken-json':
      return Buffer.concat([Buffer.from('{"job_instance_id":1,"status":'), filler(size - 40)]);
  }
}

describe('property: random bodies up to 6 MB', () => {
  it('a 200 always means one event with the exact bytes, a 4xx always one quarantine record with them', async () => {
    const counts = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Kind>('thain-form', 'bk-job-json', 'ci-xml', 'random-bytes', 'broken-json'),
        fc.oneof(fc.integer({ min: 0, max: 300_000 }), fc.integer({ min: 300_000, max: MAX_BODY_BYTES - 100 })),
        fc.nat(1_000),
        async (kind, size, seed) => {
          const route = ROUTE_OF[kind];
          const body = bodyOf(kind, size, seed);
          // Text reaches the handler as text, other bytes base64-encoded (4/3 larger): keep both under the limit.
          if (!handsOverAsText(body, route.contentType) && Math.ceil(body.length / 3) * 4 > MAX_BODY_BYTES) return;
          const answer = await post(route.source, route.path, body, route.contentType);
          counts.set(`${kind} ${answer.status}`, (counts.get(`${kind} ${answer.status}`) ?? 0) + 1);
          const queued = await stores.takeEvents();
          const kept = await stores.takeQuarantined();
          if (answer.status === 200) {
            expect(kept).toEqual([]);
            expect(queued.map((q) => q.event.id)).toEqual([answer.id]);
            expect(rawBytes(queued[0]?.event.data.raw ?? { contentType: '', body: '' }).equals(body)).toBe(true);
          } else {
            expect([400, 422]).toContain(answer.status);
            expect(queued).toEqual([]);
            expect(kept).toHaveLength(1);
            expect(kept[0]?.body.equals(body)).toBe(true);
          }
        },
      ),
      { numRuns: Number(process.env.DURABLE_RUNS ?? 16), seed: 20_261_129, endOnFailure: true },
    );
    console.log(`DURABLE property: ${JSON.stringify(Object.fromEntries(counts))}`);
  }, 120_000);
});
