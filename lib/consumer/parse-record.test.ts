import { createHash } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SampleEvent, sampleEvents } from '../../infra/testing/sample-events.ts';
import { toEventReference } from '../events/cloud-event.ts';
import { EventRecordError, parseEventRecord, processEvents, readEventRecord } from './parse-record.ts';

let events: SampleEvent[];
beforeAll(async () => {
  events = await sampleEvents({ query: 'job=etl-load' });
});

/** A record as Lambda hands it over from the events queue. */
function record(body: string, messageId: string, queue = 'jobhooks-dev-events'): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1700000000000',
      SenderId: 'AROAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1700000000001',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${queue}`,
    awsRegion: 'us-east-1',
  };
}

describe('parseEventRecord', () => {
  it('returns the typed event of every fixture, narrowed by source', () => {
    for (const [index, fixture] of events.entries()) {
      // Act
      const event = parseEventRecord(record(fixture.body, String(index)));
      // Assess
      expect(event).toEqual(fixture.event);
      if (event.source === 'thain') expect(event.data.labels.job).toBe('etl-load');
      if (event.source === 'bk-job') expect(Array.isArray(event.data.steps)).toBe(true);
    }
  });

  it('says which record is not JSON', () => {
    expect(() => parseEventRecord(record('{"specversion":', 'm-1'))).toThrow(new EventRecordError('m-1', 'body is not JSON', []));
  });

  it('names the fields of a body that is not an event', () => {
    const bkJob = JSON.parse(events.find((e) => e.source === 'bk-job')?.body ?? '{}');
    delete bkJob.subject;
    const error = (() => {
      try {
        parseEventRecord(record(JSON.stringify({ ...bkJob, data: { ...bkJob.data, status: 'done' } }), 'm-2'));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(EventRecordError);
    expect((error as EventRecordError).messageId).toBe('m-2');
    expect((error as EventRecordError).issues.map((issue) => issue.path)).toEqual(['subject', 'data.status']);
    expect((error as EventRecordError).message).toMatch(/^SQS record m-2: not a jobhooks event: subject: /);
  });

  it('rejects an event whose type belongs to another source', () => {
    const thain = JSON.parse(events.find((e) => e.source === 'thain')?.body ?? '{}');
    expect(() => parseEventRecord(record(JSON.stringify({ ...thain, type: 'bkjob.job.finished' }), 'm-3'))).toThrow(/type/);
  });
});

describe('processEvents', () => {
  const batch = (records: SQSRecord[]): SQSEvent => ({ Records: records });
  const silent = { onFailure: () => undefined };

  it('reports only the record that is not an event; the others are handled', async () => {
    const handled: string[] = [];
    const records = [record(events[0]?.body ?? '', 'a'), record('not json', 'bad'), record(events[1]?.body ?? '', 'b')];
    const response = await processEvents(batch(records), async (event) => void handled.push(event.id), silent);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(handled.sort()).toEqual([events[0]?.event.id, events[1]?.event.id].sort());
  });

  it('reports a record whose handler threw, and tells onFailure why', async () => {
    const failures: string[] = [];
    const records = events.slice(0, 3).map((e, i) => record(e.body, `m${i}`));
    const response = await processEvents(
      batch(records),
      async (_event, r) => {
        if (r.messageId === 'm1') throw new Error('database down');
      },
      { onFailure: (r, error) => failures.push(`${r.messageId} ${error.message}`) },
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(failures).toEqual(['m1 database down']);
  });

  it('on a FIFO queue, stops at the first failure and returns the rest unprocessed, in order', async () => {
    const handled: string[] = [];
    const records = [
      record(events[0]?.body ?? '', 'f0', 'q.fifo'),
      record('{}', 'f1', 'q.fifo'),
      record(events[1]?.body ?? '', 'f2', 'q.fifo'),
    ];
    const response = await processEvents(batch(records), async (event) => void handled.push(event.id), silent);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'f1' }, { itemIdentifier: 'f2' }]);
    expect(handled).toEqual([events[0]?.event.id]);
  });

  it('answers an empty failure list for a clean batch', async () => {
    const records = events.map((e, i) => record(e.body, `c${i}`));
    expect(await processEvents(batch(records), async () => undefined, silent)).toEqual({ batchItemFailures: [] });
  });
});

describe('readEventRecord: events too large for SQS (dataref)', () => {
  /** A reference to `fixture`'s whole event, at an in-memory "bucket". */
  function referenced(fixture: SampleEvent, stored = fixture.body) {
    const objects = new Map([['s3://payloads/events/ab/x.json', Buffer.from(stored)]]);
    const sha256 = createHash('sha256').update(fixture.body).digest('hex');
    const reference = toEventReference(fixture.event, 's3://payloads/events/ab/x.json', sha256);
    const read = async (url: string) => {
      const object = objects.get(url);
      if (!object) throw new Error(`no ${url}`);
      return object;
    };
    const message = record(JSON.stringify(reference), 'ref');
    message.messageAttributes = { datarefsha256: { dataType: 'String', stringValue: sha256, stringListValues: [], binaryListValues: [] } };
    return { message, read };
  }

  it('fetches the whole event, checks its SHA-256 and id, and hands over the same event as inline', async () => {
    for (const fixture of events) {
      const { message, read } = referenced(fixture);
      expect(await readEventRecord(message, read)).toEqual(fixture.event);
      // The synchronous parser cannot fetch: it says so instead of failing on the shape.
      expect(() => parseEventRecord(message)).toThrow(/dataref.*readEventRecord/);
    }
  });

  it('refuses an object whose bytes are not the ones referenced', async () => {
    const [fixture] = events;
    if (!fixture) throw new Error('no fixture');
    const { message, read } = referenced(fixture, fixture.body.replace('"specversion"', ' "specversion"'));
    await expect(readEventRecord(message, read)).rejects.toThrow(/SHA-256 differs/);
  });

  it('processEvents resolves references, so a handler sees one shape', async () => {
    const [fixture] = events;
    if (!fixture) throw new Error('no fixture');
    const { message, read } = referenced(fixture);
    const seen: string[] = [];
    const batch: SQSEvent = { Records: [message, record(fixture.body, 'inline')] };
    const response = await processEvents(batch, async (event) => void seen.push(event.id), { read });
    expect(response.batchItemFailures).toEqual([]);
    expect(seen).toEqual([fixture.event.id, fixture.event.id]);
  });
});
