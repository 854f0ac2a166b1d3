import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import { createCallbackHandler } from '../lib/http/callback-handler.ts';
import { type ObjectReader, objectReaderFor, QuarantineRecordSchema, quarantinedBytes } from '../lib/queue/quarantine.ts';
import { createSqsClient, createSqsQueue, type EventQueue } from '../lib/queue/send-event.ts';
import { loadCallbacks } from '../lib/sources/load-callbacks.ts';
import type { Callbacks } from '../lib/sources/source.ts';
import { createPayloadBucket, createS3Client, type PayloadBucket } from '../lib/store/payload-bucket.ts';
import { createHttpEvent } from './local/http-event.ts';
import { DEFAULT_S3_PORT, DEFAULT_SQS_PORT, localBucketName } from './local/local-run.ts';
import { loadServiceConfig } from './local/service-config.ts';

/** What one replay run did. */
export interface ReplaySummary {
  /** Quarantined callbacks that now pass and are on the events queue (and off the quarantine). */
  readonly replayed: number;
  /** Those that still fail, with the answer they get now; they stay in the quarantine. */
  readonly failing: ReadonlyArray<{ readonly messageId: string; readonly status: number; readonly error: string }>;
}

/** Options of {@link replayQuarantine}. */
export interface ReplayOptions {
  readonly client: SQSClient;
  readonly quarantineUrl: string;
  readonly eventsUrl: string;
  /**
   * The payload bucket: where the bodies of large quarantined callbacks are, and where replayed
   * events too large for one message go. Without one, such records fail and stay quarantined.
   */
  readonly bucket?: PayloadBucket | undefined;
  /** Only report what would pass; change nothing. */
  readonly dryRun?: boolean;
  /** The code to run a sender's callbacks through; defaults to its current parsers (`lib/sources/<name>/callback.ts`). */
  readonly callbacksOf?: (source: string) => Promise<Callbacks>;
}

/**
 * Runs every quarantined callback through the current code, as it first arrived (same route,
 * labels, body, Content-Type and receive time, so it gets the event id it would have had).
 * Those that now pass go to the events queue and leave the quarantine; the others stay.
 */
export async function replayQuarantine(options: ReplayOptions): Promise<ReplaySummary> {
  const { client } = options;
  const events = createSqsQueue({ queueUrl: options.eventsUrl, client, bucket: options.bucket });
  const { bucket } = options;
  const read: ObjectReader = bucket ? objectReaderFor(bucket) : (url) => Promise.reject(new Error(`no payload bucket to read ${url} from`));
  const discard: EventQueue = { send: () => Promise.resolve() };
  let replayed = 0;
  const failing: Array<{ messageId: string; status: number; error: string }> = [];
  // Tried messages stay out of sight until the run ends, so each is tried once; then the ones
  // that still fail become visible again for the next replay (after the next fix).
  const held: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: options.quarantineUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 300,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages) {
      const outcome = await replayOne(message, options.dryRun ? discard : events, options.callbacksOf ?? loadCallbacks, read);
      if (outcome.status === 200) replayed++;
      else failing.push({ messageId: message.MessageId ?? '', ...outcome });
      if (outcome.status === 200 && !options.dryRun) {
        await client.send(new DeleteMessageCommand({ QueueUrl: options.quarantineUrl, ReceiptHandle: message.ReceiptHandle }));
      } else {
        held.push(message);
      }
    }
  }
  for (const message of held) {
    await client.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: options.quarantineUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }),
    );
  }
  return { replayed, failing };
}

async function replayOne(
  message: Message,
  queue: EventQueue,
  callbacksOf: (source: string) => Promise<Callbacks>,
  read: ObjectReader,
): Promise<{ status: number; error: string }> {
  let json: unknown;
  try {
    json = JSON.parse(message.Body ?? '');
  } catch {
    return { status: 0, error: 'not a quarantine record (not JSON)' };
  }
  const parsed = v.safeParse(QuarantineRecordSchema, json);
  if (!parsed.success) return { status: 0, error: `not a quarantine record: ${v.summarize(parsed.issues)}` };
  const record = parsed.output;
  let body: Buffer;
  try {
    body = await quarantinedBytes(record, read);
  } catch (error) {
    return { status: 0, error: `body not readable: ${error instanceof Error ? error.message : String(error)}` };
  }
  let callbacks: Callbacks;
  try {
    callbacks = await callbacksOf(record.source);
  } catch (error) {
    return { status: 0, error: `no parsers for ${record.source}: ${error instanceof Error ? error.message : String(error)}` };
  }
  const handler = createCallbackHandler(callbacks, {
    queue,
    quarantine: false,
    spool: false,
    access: false,
    now: () => new Date(record.receivedAt),
  });
  const response = await handler(
    createHttpEvent({
      // The exact bytes, handed over base64-encoded as a front door hands binary bodies.
      body,
      contentType: record.raw.contentType,
      path: record.route,
      query: new URLSearchParams(record.labels).toString(),
      requestId: record.requestId,
    }),
  );
  const answer: unknown = JSON.parse(response.body ?? '{}');
  const error = typeof answer === 'object' && answer !== null && 'error' in answer ? String(answer.error) : '';
  return { status: response.statusCode ?? 500, error };
}

/** `npm run replay [-- --dry-run]`: replays the deployed quarantine, or `npm start`'s when no URL is set. */
async function main(): Promise<void> {
  const dryRun = process.argv.includes('--dry-run');
  let quarantineUrl = process.env.QUARANTINE_QUEUE_URL;
  let eventsUrl = process.env.QUEUE_URL;
  let client: SQSClient;
  let bucket: PayloadBucket | undefined;
  if (quarantineUrl && eventsUrl) {
    client = createSqsClient();
    const name = process.env.PAYLOAD_BUCKET;
    bucket = name ? createPayloadBucket({ bucket: name }) : undefined;
  } else {
    // No queues named: the ones `npm start` holds on its embedded SQS.
    const endpoint = `http://127.0.0.1:${process.env.SQS_PORT ?? DEFAULT_SQS_PORT}`;
    const queues = loadServiceConfig().queues;
    const named = (id: string) => `${endpoint}/000000000000/${queues.find((q) => q.logicalId === id)?.name}`;
    quarantineUrl ??= named('QuarantineQueue');
    eventsUrl ??= named('EventsQueue');
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    client = createSqsClient({ endpoint, region: 'us-east-1', credentials });
    bucket = createPayloadBucket({
      bucket: process.env.PAYLOAD_BUCKET ?? localBucketName(loadServiceConfig()),
      client: createS3Client({
        endpoint: process.env.AWS_ENDPOINT_URL_S3 ?? `http://127.0.0.1:${process.env.S3_PORT ?? DEFAULT_S3_PORT}`,
        region: 'us-east-1',
        credentials,
      }),
    });
  }
  process.stdout.write(`replaying ${quarantineUrl} -> ${eventsUrl}${dryRun ? ' (dry run)' : ''}\n`);
  const summary = await replayQuarantine({ client, quarantineUrl, eventsUrl, dryRun, bucket });
  for (const failure of summary.failing) {
    process.stdout.write(`  still failing ${failure.messageId}: ${failure.status} ${failure.error}\n`);
  }
  process.stdout.write(`${dryRun ? 'would replay' : 'replayed'} ${summary.replayed}, still failing ${summary.failing.length}\n`);
  client.destroy();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.LOG_LEVEL ??= 'silent';
  await main();
}
