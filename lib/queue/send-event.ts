import { SQSClient, type SQSClientConfig, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { CloudEvent } from '../events/cloud-event.ts';

/** Where events go. The pipeline only needs `send`; it resolves once the queue holds the event. */
export interface EventQueue {
  send(event: CloudEvent, body: string): Promise<void>;
}

/**
 * Time budget for one enqueue, retries included. bk-job waits 15 s and never retries a timeout, so
 * a dead queue must turn into a 503 well before that: every attempt is bounded, and so is the total.
 */
export const QUEUE_TIMEOUTS = {
  connectMs: 1_000,
  requestMs: 1_500,
  totalMs: 4_000,
  maxAttempts: 3,
} as const;

/** Largest SQS message our queues take (their `MaximumMessageSize`, 1 MiB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Options for {@link createSqsQueue}. */
export interface SqsQueueOptions {
  readonly queueUrl: string;
  /** Defaults to a client built for callbacks: keep-alive, bounded timeouts and retries. */
  readonly client?: SQSClient;
}

/**
 * Builds the SQS client (once per container), with bounded timeouts and retries. The endpoint,
 * region and credentials follow the SDK's own variables unless `overrides` names them.
 */
export function createSqsClient(overrides: SQSClientConfig = {}): SQSClient {
  return new SQSClient({
    // Resolve the middleware stack once per command type instead of on every send.
    cacheMiddleware: true,
    ...overrides,
    maxAttempts: QUEUE_TIMEOUTS.maxAttempts,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: QUEUE_TIMEOUTS.connectMs,
      requestTimeout: QUEUE_TIMEOUTS.requestMs,
      // Without it the handler only logs a warning when an attempt runs over, and one stuck
      // connection would use the whole budget instead of being retried.
      throwOnRequestTimeout: true,
    },
  });
}

/** One message: its body, its String attributes, and for a FIFO queue its group and dedup ids. */
export interface OutgoingMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly group: string;
  readonly deduplicationId: string;
}

/**
 * Sends one message within the callback's time budget; the FIFO ids go only to a `.fifo` queue. The
 * one place that talks SendMessage, for events and quarantined callbacks alike.
 */
export async function sendMessage(client: SQSClient, queueUrl: string, message: OutgoingMessage): Promise<void> {
  const sent = client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: message.body,
      MessageAttributes: Object.fromEntries(
        Object.entries(message.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
      ),
      ...(queueUrl.endsWith('.fifo') && {
        MessageGroupId: message.group.slice(0, 128),
        MessageDeduplicationId: message.deduplicationId.slice(0, 128),
      }),
    }),
  );
  await withinDeadline(sent, QUEUE_TIMEOUTS.totalMs);
}

/**
 * Settles with `work`, or rejects once `ms` have passed. Each attempt is already cut at `requestMs`
 * and the attempts are counted, so this only guards the sum (backoff included). It is not an
 * AbortSignal: an options argument to `client.send` would disable the client's middleware cache,
 * which saves a stack resolution on every send.
 */
function withinDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`SQS did not answer within ${ms} ms`)), ms);
  });
  // A late outcome after the deadline has nobody to tell; it must not become an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, deadline]).then(
    () => clearTimeout(timer),
    (error: unknown) => {
      clearTimeout(timer);
      throw error;
    },
  );
}

/**
 * A queue backed by SQS. On a FIFO queue (`.fifo`) the message group is source + subject, so one
 * job's events stay in order, and the deduplication id is the event id.
 */
export function createSqsQueue(options: SqsQueueOptions): EventQueue {
  const client = options.client ?? createSqsClient();
  return {
    send: (event, body) =>
      sendMessage(client, options.queueUrl, {
        body,
        attributes: { source: event.source, type: event.type, status: event.data.status },
        group: `${event.source}:${event.subject}`,
        deduplicationId: event.id,
      }),
  };
}

let sharedClient: SQSClient | undefined;
/** The one SQS client of this container (events and quarantine share its connections). */
export function containerSqsClient(): SQSClient {
  sharedClient ??= createSqsClient();
  return sharedClient;
}

/** The queue named by `QUEUE_URL`; without one every send fails, so callbacks get a 503. */
export function queueFromEnvironment(): EventQueue {
  const queueUrl = process.env.QUEUE_URL;
  if (!queueUrl) {
    return { send: () => Promise.reject(new Error('QUEUE_URL is not set')) };
  }
  return createSqsQueue({ queueUrl, client: containerSqsClient() });
}
