import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import type { JobEvent } from '../../lib/consumer/event-schemas.ts';
import { readEventRecord } from '../../lib/consumer/parse-record.ts';
import type { AccessPolicy } from '../../lib/http/authorize.ts';
import { type CallbackHandler, createCallbackHandler } from '../../lib/http/callback-handler.ts';
import {
  createSqsQuarantine,
  objectReaderFor,
  type QuarantineRecord,
  QuarantineRecordSchema,
  quarantinedBytes,
} from '../../lib/queue/quarantine.ts';
import { createSqsClient, createSqsQueue, type EventQueue } from '../../lib/queue/send-event.ts';
import { loadAllCallbacks } from '../../lib/sources/load-callbacks.ts';
import type { SourceName } from '../../lib/sources/registry.ts';
import type { PayloadBucket } from '../../lib/store/payload-bucket.ts';
import { createSpool, type RedriveSummary, redriveSpool } from '../../lib/store/spool.ts';
import { TEST_QUEUE_TIMEOUTS } from './budgets.ts';
import { startTestS3, type TestS3 } from './s3.ts';
import { receiveAll, startTestSqs, type TestSqs, toSqsRecord } from './sqs.ts';

/** An event read back from the queue as a consumer reads it, with how it travelled. */
export interface QueuedEvent {
  readonly event: JobEvent;
  /** The SQS message body: the event itself, or its reference when `dataref` is set. */
  readonly message: Message;
  /** The exact bytes of the whole event (the message body, or the object its `dataref` names). */
  readonly bytes: Buffer;
  readonly dataref?: string;
}

/** A quarantined callback read back, with the exact bytes of its body. */
export interface QuarantinedCallback {
  readonly record: QuarantineRecord;
  readonly body: Buffer;
}

/**
 * Real stores for end-to-end tests of the durable path: a local SQS (events and quarantine queues)
 * and a local S3 (the payload bucket). Handlers built by {@link DurableStores.handler} use the
 * production clients and budgets, pointed at `sqsEndpoint` (a faulty proxy, if a test wants one).
 */
export interface DurableStores {
  readonly sqs: TestSqs;
  readonly s3: TestS3;
  readonly bucket: PayloadBucket;
  readonly eventsUrl: string;
  readonly quarantineUrl: string;
  /**
   * The handler of a source whose SQS calls go to `sqsEndpoint` (default: the real local SQS), open
   * to anyone unless `access` says who may call.
   */
  handler(source: SourceName, sqsEndpoint?: string, access?: AccessPolicy): CallbackHandler;
  /** The events queue as the redrive (and handlers) use it, at `sqsEndpoint`. */
  queue(sqsEndpoint?: string): EventQueue;
  /** One redrive run, as the scheduled function runs it, against the real local SQS. */
  redrive(): Promise<RedriveSummary>;
  /** Receives (and deletes) every event now queued, resolving `dataref` as consumers do. */
  takeEvents(): Promise<QueuedEvent[]>;
  /** Receives (and deletes) every quarantine record now queued, with the exact body bytes. */
  takeQuarantined(): Promise<QuarantinedCallback[]>;
  /**
   * The whole environment of a function process (a bundle in its own `node`, as Lambda runs it)
   * that uses these stores: the queues and the bucket, reached at `endpoints` (default: the stores
   * themselves; a TLS relay in front of them, say), the region, keys, and the log off.
   */
  lambdaEnvironment(endpoints?: { readonly sqs?: string; readonly s3?: string }): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const BUCKET = 'payloads';

/** Starts the stores. */
export async function startDurableStores(): Promise<DurableStores> {
  const [sqs, s3, parsers] = await Promise.all([startTestSqs(['events', 'quarantine']), startTestS3([BUCKET]), loadAllCallbacks()]);
  const bucket = s3.bucket(BUCKET);
  const eventsUrl = await sqs.queueUrl('events');
  const quarantineUrl = await sqs.queueUrl('quarantine');
  const accountPath = new URL(eventsUrl).pathname.replace(/\/events$/, '');
  const clients: SQSClient[] = [];
  const clientAt = (endpoint: string) => {
    const client = createSqsClient({ endpoint, region: 'us-east-1', credentials }, TEST_QUEUE_TIMEOUTS);
    clients.push(client);
    return client;
  };
  const read = objectReaderFor(bucket);
  const queue = (endpoint = sqs.endpoint) =>
    createSqsQueue({ queueUrl: `${endpoint}${accountPath}/events`, client: clientAt(endpoint), bucket, budget: TEST_QUEUE_TIMEOUTS });
  const quarantine = (endpoint = sqs.endpoint) =>
    createSqsQuarantine({
      queueUrl: `${endpoint}${accountPath}/quarantine`,
      client: clientAt(endpoint),
      bucket,
      budget: TEST_QUEUE_TIMEOUTS,
    });
  const redriveQueue = queue();
  const redriveQuarantine = quarantine();
  return {
    sqs,
    s3,
    bucket,
    eventsUrl,
    quarantineUrl,
    handler: (source, endpoint, access) =>
      createCallbackHandler(required(parsers.get(source), source), {
        queue: queue(endpoint),
        quarantine: quarantine(endpoint),
        spool: createSpool(bucket),
        access: access ?? false,
      }),
    queue,
    redrive: () => redriveSpool({ bucket, events: redriveQueue, quarantine: redriveQuarantine }),
    async takeEvents() {
      const messages = await receiveAll(sqs.client, eventsUrl, { remove: true });
      return Promise.all(
        messages.map(async (message): Promise<QueuedEvent> => {
          const event = await readEventRecord(toSqsRecord(message, 'arn:aws:sqs:us-east-1:000000000000:events'), read);
          const body: unknown = JSON.parse(message.Body ?? '');
          const dataref =
            typeof body === 'object' && body !== null && 'dataref' in body && typeof body.dataref === 'string' ? body.dataref : undefined;
          const bytes = dataref ? await read(dataref) : Buffer.from(message.Body ?? '');
          return { event, message, bytes, ...(dataref && { dataref }) };
        }),
      );
    },
    async takeQuarantined() {
      const messages = await receiveAll(sqs.client, quarantineUrl, { remove: true });
      return Promise.all(
        messages.map(async (message) => {
          const record = v.parse(QuarantineRecordSchema, JSON.parse(message.Body ?? ''));
          return { record, body: await quarantinedBytes(record, read) };
        }),
      );
    },
    lambdaEnvironment(endpoints = {}) {
      const sqsEndpoint = endpoints.sqs ?? sqs.endpoint;
      return {
        PATH: process.env.PATH,
        QUEUE_URL: `${sqsEndpoint}${accountPath}/events`,
        QUARANTINE_QUEUE_URL: `${sqsEndpoint}${accountPath}/quarantine`,
        PAYLOAD_BUCKET: BUCKET,
        AWS_ENDPOINT_URL_SQS: sqsEndpoint,
        AWS_ENDPOINT_URL_S3: endpoints.s3 ?? s3.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        LOG_LEVEL: 'silent',
      };
    },
    async close() {
      for (const client of clients) client.destroy();
      await Promise.all([sqs.close(), s3.close()]);
    },
  };
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`no parsers for ${what}`);
  return value;
}
