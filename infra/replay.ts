import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import { type CallbackHandler, type CallbackHandlerOptions, createCallbackHandler } from '../lib/http/callback-handler.ts';
import {
  type ObjectReader,
  objectReaderFor,
  type QuarantineRecord,
  QuarantineRecordSchema,
  quarantinedBytes,
} from '../lib/queue/quarantine.ts';
import { createSqsQueue, type EventQueue } from '../lib/queue/send-event.ts';
import { loadCallbacks } from '../lib/sources/load-callbacks.ts';
import type { Callbacks } from '../lib/sources/source.ts';
import type { PayloadBucket } from '../lib/store/payload-bucket.ts';
import { createHttpEvent } from './local/http-event.ts';

/** What replay did with one message of the quarantine queue. */
export interface ReplayedRecord {
  /** The SQS message id. */
  readonly messageId: string;
  /** The quarantine record, when the message is one. */
  readonly record?: QuarantineRecord;
  /**
   * `replayed`: it passes now, its event is on the events queue and the record left the quarantine;
   * `would replay`: the same in a dry run (nothing sent, nothing deleted); `failing`: it still fails
   * and stays; `dropped` (`would drop` in a dry run): deleted unread, as asked; `unreadable`: the
   * message is not a quarantine record, or its body cannot be read (it stays).
   */
  readonly action: 'replayed' | 'would replay' | 'failing' | 'dropped' | 'would drop' | 'unreadable';
  /** The answer the current code gives it (0 when it was not run). */
  readonly status: number;
  /** Why it still fails, or cannot be read; empty otherwise. */
  readonly error: string;
  /** The path it was run on: its own, or the one `route` put in its place. */
  readonly route?: string;
  /** The event it became: its id and its message body. */
  readonly eventId?: string;
  readonly eventBody?: string;
}

/** What one replay run did. */
export interface ReplaySummary {
  /** Quarantined callbacks that now pass and are on the events queue (and off the quarantine). */
  readonly replayed: number;
  /** Those that still fail, with the answer they get now; they stay in the quarantine. */
  readonly failing: ReadonlyArray<{ readonly messageId: string; readonly status: number; readonly error: string }>;
  /** Records deleted unread (`drop`). */
  readonly dropped: number;
  /** Every message looked at and chosen (`select`), in the order they were received. */
  readonly records: readonly ReplayedRecord[];
  /** True when `signal` stopped the run before the queue was empty. */
  readonly stopped: boolean;
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
  /** The pipeline that runs them; `createCallbackHandler` unless the code was reloaded (`npm start -- --watch`). */
  readonly createHandler?: (callbacks: Callbacks, options: CallbackHandlerOptions) => CallbackHandler;
  /**
   * Which messages to look at (by record and message id); the others are left as they are. A message
   * that is not a record is looked at only when there is no `select`.
   */
  readonly select?: (record: QuarantineRecord, messageId: string) => boolean;
  /** Which of the chosen messages to delete without running them (junk, or a test). */
  readonly drop?: (record: QuarantineRecord | undefined, messageId: string) => boolean;
  /** Runs the chosen records on this path instead of their own (a callback sent to a mistyped URL). */
  readonly route?: string;
  /** Told of each chosen message as soon as it is done. */
  readonly onRecord?: (record: ReplayedRecord) => void;
  /** Stops receiving more; what was received is settled and released. */
  readonly signal?: AbortSignal;
}

/** How long a received record stays out of sight while a run holds it, in seconds. */
export const REPLAY_VISIBILITY_SECONDS = 300;

/**
 * Runs quarantined callbacks through the current code, as they first arrived (same route, labels,
 * body, Content-Type and receive time, so each gets the event id it would have had). Those that now
 * pass go to the events queue and leave the quarantine; the others stay. Each received message is
 * held out of sight until the run ends (so each is tried once), then the ones that stay are released
 * at once; a run that is killed leaves them out of sight for {@link REPLAY_VISIBILITY_SECONDS} at
 * most, after which the next run takes them again.
 */
export async function replayQuarantine(options: ReplayOptions): Promise<ReplaySummary> {
  const { client } = options;
  const events = createSqsQueue({ queueUrl: options.eventsUrl, client, bucket: options.bucket });
  const { bucket } = options;
  const read: ObjectReader = bucket ? objectReaderFor(bucket) : (url) => Promise.reject(new Error(`no payload bucket to read ${url} from`));
  const records: ReplayedRecord[] = [];
  const held: Message[] = [];
  try {
    while (!options.signal?.aborted) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: options.quarantineUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: REPLAY_VISIBILITY_SECONDS,
          WaitTimeSeconds: 0,
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        const done = await settle(message, options, events, read);
        if (!done) {
          held.push(message);
          continue;
        }
        records.push(done);
        options.onRecord?.(done);
        if (done.action === 'replayed' || done.action === 'dropped') {
          await client.send(new DeleteMessageCommand({ QueueUrl: options.quarantineUrl, ReceiptHandle: message.ReceiptHandle }));
        } else {
          held.push(message);
        }
      }
    }
  } finally {
    for (const message of held) {
      await client.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: options.quarantineUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }),
      );
    }
  }
  return {
    replayed: records.filter((record) => record.action === 'replayed' || record.action === 'would replay').length,
    failing: records
      .filter((record) => record.action === 'failing' || record.action === 'unreadable')
      .map(({ messageId, status, error }) => ({ messageId, status, error })),
    dropped: records.filter((record) => record.action === 'dropped' || record.action === 'would drop').length,
    records,
    stopped: options.signal?.aborted ?? false,
  };
}

/** Runs (or drops) one message; undefined when `select` leaves it alone. */
async function settle(
  message: Message,
  options: ReplayOptions,
  events: EventQueue,
  read: ObjectReader,
): Promise<ReplayedRecord | undefined> {
  const messageId = message.MessageId ?? '';
  const record = recordOf(message);
  if (options.select && (typeof record === 'string' || !options.select(record, messageId))) return undefined;
  const parsed = typeof record === 'string' ? undefined : record;
  if (options.drop?.(parsed, messageId)) {
    return { messageId, ...(parsed && { record: parsed }), action: options.dryRun ? 'would drop' : 'dropped', status: 0, error: '' };
  }
  if (typeof record === 'string') return { messageId, action: 'unreadable', status: 0, error: record };
  const route = options.route ?? record.route;
  let sent: { id: string; body: string } | undefined;
  const queue: EventQueue = {
    send: async (event, body) => {
      if (!options.dryRun) await events.send(event, body);
      sent = { id: event.id, body };
    },
  };
  const outcome = await runRecord(record, route, queue, options, read);
  if (outcome.status === 0) return { messageId, record, action: 'unreadable', status: 0, error: outcome.error, route };
  if (outcome.status !== 200 || !sent) return { messageId, record, action: 'failing', status: outcome.status, error: outcome.error, route };
  return {
    messageId,
    record,
    action: options.dryRun ? 'would replay' : 'replayed',
    status: 200,
    error: '',
    route,
    eventId: sent.id,
    eventBody: sent.body,
  };
}

/** The record a message holds, or why it holds none. */
function recordOf(message: Message): QuarantineRecord | string {
  let json: unknown;
  try {
    json = JSON.parse(message.Body ?? '');
  } catch {
    return 'not a quarantine record (not JSON)';
  }
  const parsed = v.safeParse(QuarantineRecordSchema, json);
  return parsed.success ? parsed.output : `not a quarantine record: ${v.summarize(parsed.issues)}`;
}

async function runRecord(
  record: QuarantineRecord,
  route: string,
  queue: EventQueue,
  options: ReplayOptions,
  read: ObjectReader,
): Promise<{ status: number; error: string }> {
  let body: Buffer;
  try {
    body = await quarantinedBytes(record, read);
  } catch (error) {
    return { status: 0, error: `body not readable: ${error instanceof Error ? error.message : String(error)}` };
  }
  let callbacks: Callbacks;
  try {
    callbacks = await (options.callbacksOf ?? loadCallbacks)(record.source);
  } catch (error) {
    return { status: 0, error: `no parsers for ${record.source}: ${error instanceof Error ? error.message : String(error)}` };
  }
  const handler = (options.createHandler ?? createCallbackHandler)(callbacks, {
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
      path: route,
      query: new URLSearchParams(record.labels).toString(),
      requestId: record.requestId,
    }),
  );
  const answer: unknown = JSON.parse(response.body ?? '{}');
  const error = typeof answer === 'object' && answer !== null && 'error' in answer ? String(answer.error) : '';
  return { status: response.statusCode ?? 500, error };
}
