import * as v from 'valibot';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestS3, type TestS3 } from '../../infra/testing/s3.ts';
import { startTestSqs, type TestSqs } from '../../infra/testing/sqs.ts';
import { type CloudEvent, CloudEventSchema, EventReferenceSchema } from '../events/cloud-event.ts';
import { createSqsQueue, type EventQueue } from '../queue/send-event.ts';
import { eventObjectKey, type PayloadBucket, PREFIXES, sha256Hex, shardOf } from './payload-bucket.ts';
import { createSpool, parseSpoolKey, redriveSpool, spoolKey } from './spool.ts';

let s3: TestS3;
let sqs: TestSqs;
let bucket: PayloadBucket;
let queueUrl: string;
let events: EventQueue;

beforeAll(async () => {
  [s3, sqs] = await Promise.all([startTestS3(['payloads']), startTestSqs(['events'])]);
  bucket = s3.bucket('payloads');
  queueUrl = await sqs.queueUrl('events');
  events = createSqsQueue({ queueUrl, client: sqs.client, bucket });
});
afterAll(async () => {
  await Promise.all([s3?.close(), sqs?.close()]);
});
beforeEach(async () => {
  for (const key of await s3.keys('payloads')) await bucket.delete(key);
  await sqs.drain(queueUrl);
});

/** A valid event, received at `at`, with an optional large message. */
function eventAt(n: number, at: Date, message = ''): { event: CloudEvent; body: string } {
  const event = v.parse(CloudEventSchema, {
    specversion: '1.0',
    id: `${n.toString(16).padStart(4, '0')}${'0'.repeat(28)}`,
    source: 'thain',
    type: 'thain.flow.status',
    subject: String(n),
    time: at.toISOString(),
    datacontenttype: 'application/json',
    data: {
      status: 'failed',
      terminal: true,
      sourceStatus: 3,
      ...(message && { message }),
      labels: {},
      raw: { contentType: 'application/x-www-form-urlencoded', body: `flowId=1&flowExecutionId=${n}&code=3` },
    },
  });
  return { event, body: JSON.stringify(event) };
}

const T0 = new Date('2026-03-12T10:33:20.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('spool keys', () => {
  it('shard after the prefix, then sort by receive time: one listing gives the receive order', () => {
    const key = spoolKey('events', T0, 'abc');
    expect(key).toBe(`spool/${shardOf('abc')}/2026-03-12T10:33:20.000Z_events_abc.json`);
    expect(parseSpoolKey(key)).toEqual({ key, receivedAt: T0, target: 'events', id: 'abc' });
    expect(parseSpoolKey('spool/zz/whatever.json')).toBeUndefined();
  });

  it('spread over many prefixes, so no prefix takes the whole write rate', () => {
    const shards = new Set(Array.from({ length: 2_000 }, (_, i) => spoolKey('events', T0, `id-${i}`).split('/')[1]));
    expect(shards.size).toBe(256);
  });
});

describe('redriveSpool', () => {
  it('sends spooled events in receive order, whatever their shards, and deletes each once sent', async () => {
    const spool = createSpool(bucket);
    const spooled = [5, 1, 4, 2, 3].map((n) => ({ n, ...eventAt(n, at(n)) }));
    for (const { event, body } of spooled) await spool.keep('events', at(Number(event.subject)), event.id, body);
    const summary = await redriveSpool({ bucket, events, now: () => at(65).getTime() });
    expect(summary).toEqual({ sent: 5, sentBySource: { thain: 5 }, left: 0, oldestAgeSeconds: 64 });
    const sent = (await sqs.drain(queueUrl)).map((m) => JSON.parse(m.Body ?? '{}').subject);
    expect(sent).toEqual(['1', '2', '3', '4', '5']);
    expect(await s3.keys('payloads', PREFIXES.spool)).toEqual([]);
  });

  it('killed halfway (it dies after 3 sends, before their deletes), loses nothing: the next run sends the rest, repeats only equal ids', async () => {
    const spool = createSpool(bucket);
    const spooled = Array.from({ length: 8 }, (_, n) => eventAt(n, at(n)));
    for (const [n, { event, body }] of spooled.entries()) await spool.keep('events', at(n), event.id, body);
    let sends = 0;
    const dying: EventQueue = {
      async send(event, body) {
        await events.send(event, body);
        if (++sends === 3) throw new Error('killed: the process dies before deleting what it sent');
      },
    };
    // A dying process: the third send reached SQS, then the run ended before its delete.
    const first = await redriveSpool({ bucket, events: dying });
    expect(first.sent).toBe(2);
    const second = await redriveSpool({ bucket, events });
    expect(second).toMatchObject({ sent: 6, left: 0 });
    const ids = (await sqs.drain(queueUrl)).map((m) => JSON.parse(m.Body ?? '{}').id as string);
    // Nothing lost; the one repeat has the same id (consumers and FIFO queues drop it).
    expect(new Set(ids)).toEqual(new Set(spooled.map(({ event }) => event.id)));
    expect(ids).toHaveLength(9);
    expect(ids.filter((id) => id === spooled[2]?.event.id)).toHaveLength(2);
  });

  it('stops at the first failed send and keeps the rest, in order, for the next run', async () => {
    const spool = createSpool(bucket);
    for (const n of [1, 2, 3]) {
      const { event, body } = eventAt(n, at(n));
      await spool.keep('events', at(n), event.id, body);
    }
    const down: EventQueue = { send: () => Promise.reject(new Error('SQS is down')) };
    expect(await redriveSpool({ bucket, events: down })).toMatchObject({ sent: 0, left: 3, stoppedBy: 'send failed: SQS is down' });
    expect(await redriveSpool({ bucket, events })).toMatchObject({ sent: 3, left: 0 });
  });

  it('claim-checks a spooled event too large for one SQS message into events/ as it sends it', async () => {
    const { event, body } = eventAt(9, T0, 'x'.repeat(1_100_000));
    await createSpool(bucket).keep('events', T0, event.id, body);
    expect(await redriveSpool({ bucket, events })).toMatchObject({ sent: 1 });
    const [message] = await sqs.drain(queueUrl);
    const reference = v.parse(EventReferenceSchema, JSON.parse(message?.Body ?? ''));
    const sha256 = sha256Hex(Buffer.from(body));
    expect(reference).toMatchObject({ id: event.id, dataref: `s3://payloads/${eventObjectKey(event.id, sha256)}`, datarefsha256: sha256 });
    expect((await bucket.get(eventObjectKey(event.id, sha256))).toString('utf8')).toBe(body);
  });

  it('leaves an object that is not an event where it is, tells about it, and goes on', async () => {
    const junk = Buffer.from('not json');
    await bucket.put(spoolKey('events', at(1), 'junk'), junk, 'application/json', sha256Hex(junk));
    const { event, body } = eventAt(2, at(2));
    await createSpool(bucket).keep('events', at(2), event.id, body);
    const unreadable: string[] = [];
    const summary = await redriveSpool({ bucket, events, onUnreadable: (item) => unreadable.push(item.id) });
    expect(summary).toMatchObject({ sent: 1, left: 1 });
    expect(unreadable).toEqual(['junk']);
  });
});
