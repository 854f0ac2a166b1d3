import { SendMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { boundedClientConfig, type CallBudget, withinDeadline } from '../aws/deadline.ts';
import { PayloadTooLargeError } from '../errors.ts';
import { type CloudEvent, toEventReference } from '../events/cloud-event.ts';
import { eventObjectKey, objectUrl, type PayloadBucket, sha256Hex } from '../store/payload-bucket.ts';

/** Where events go. The pipeline only needs `send`; it resolves once the queue holds the event. */
export interface EventQueue {
  send(event: CloudEvent, body: string): Promise<void>;
}

/**
 * Time budget for one enqueue, retries (and a claim-check write) included. bk-job waits 15 s and
 * never retries a timeout; when the queue does not answer in time the event goes to the spool, which
 * has its own budget (`STORE_TIMEOUTS`), and the two together stay well inside those 15 s.
 */
export const QUEUE_TIMEOUTS: CallBudget = {
  connectMs: 1_000,
  requestMs: 1_500,
  totalMs: 4_000,
  maxAttempts: 4,
};

/** Largest SQS message our queues take (their `MaximumMessageSize`, 1 MiB), in bytes. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/**
 * Room left under {@link MAX_MESSAGE_BYTES}, in bytes: a message whose measured size is over the
 * limit minus this goes to the payload bucket instead (claim-check), so an event never depends on
 * the last bytes of SQS's own accounting.
 */
export const MESSAGE_MARGIN_BYTES = 16 * 1024;

/** Options for {@link createSqsQueue}. */
export interface SqsQueueOptions {
  readonly queueUrl: string;
  /** Defaults to a client built for callbacks: keep-alive, bounded timeouts and retries. */
  readonly client?: SQSClient;
  /**
   * Where an event too large for one SQS message goes (claim-check). Without one such an event is
   * refused with {@link PayloadTooLargeError}.
   */
  readonly bucket?: PayloadBucket | undefined;
  /** The time budget of one enqueue; defaults to {@link QUEUE_TIMEOUTS} (tests use a shorter one). */
  readonly budget?: CallBudget;
}

/**
 * Builds the SQS client (once per container), with bounded timeouts and retries (`budget`, by
 * default {@link QUEUE_TIMEOUTS}). The endpoint, region and credentials follow the SDK's own
 * variables unless `overrides` names them.
 */
export function createSqsClient(overrides: SQSClientConfig = {}, budget: CallBudget = QUEUE_TIMEOUTS): SQSClient {
  return new SQSClient({ ...overrides, ...boundedClientConfig(budget) });
}

/**
 * Readies `client` for the first callback, in the function's init phase: one `SendMessage` to the
 * queue that SQS refuses, since it has no message body (400 `MissingParameter`: nothing is queued,
 * and it needs no permission the function does not already have). It opens the connection to the
 * queue's endpoint in the client's own keep-alive pool (TCP and TLS handshakes: about 100 ms on
 * Lambda) and runs the SDK's whole send path once (endpoint, credentials, signing, serializing,
 * reading an answer), so the first callback's `SendMessage` finds both ready instead of paying for
 * them while the sender waits. Settles within the budget's connect and request time whatever the
 * queue does, and never rejects: a queue that does not answer costs the first callback its own
 * connection, nothing else.
 * @returns whether SQS answered (its refusal included)
 */
export async function primeConnection(client: SQSClient, queueUrl: string, budget: CallBudget = QUEUE_TIMEOUTS): Promise<boolean> {
  const refused = client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '' })).then(
    () => true,
    (error: unknown) => httpStatusOf(error) !== undefined,
  );
  try {
    return await withinDeadline(refused, budget.connectMs + budget.requestMs, 'SQS');
  } catch {
    return false;
  }
}

/** The HTTP status of an AWS SDK error that an answer made (undefined for a network error or a timeout). */
function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = error.$metadata;
  if (typeof metadata !== 'object' || metadata === null || !('httpStatusCode' in metadata)) return undefined;
  return typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/** One message: its body, its String attributes, and for a FIFO queue its group and dedup ids. */
export interface OutgoingMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly group: string;
  readonly deduplicationId: string;
}

/**
 * A message's size as SQS counts it against `MaximumMessageSize`, in bytes: the body's UTF-8 bytes
 * plus, for each attribute, the bytes of its name, its data type (`String`) and its value.
 */
export function messageSize(message: Pick<OutgoingMessage, 'body' | 'attributes'>): number {
  let size = Buffer.byteLength(message.body);
  for (const [name, value] of Object.entries(message.attributes)) {
    size += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
  }
  return size;
}

/** Whether a message fits one SQS message with the margin to spare. */
export function fitsOneMessage(message: Pick<OutgoingMessage, 'body' | 'attributes'>): boolean {
  // A UTF-16 unit is at most 3 UTF-8 bytes: only a long body needs counting.
  const roughly = message.body.length * 3 + 4_096;
  return roughly <= MAX_MESSAGE_BYTES - MESSAGE_MARGIN_BYTES || messageSize(message) <= MAX_MESSAGE_BYTES - MESSAGE_MARGIN_BYTES;
}

/**
 * Sends one message; the FIFO ids go only to a `.fifo` queue. The one place that talks
 * SendMessage, for events and quarantined callbacks alike. Not bounded by itself: callers bound
 * the whole of what they do with {@link QUEUE_TIMEOUTS}.
 */
export async function sendMessage(client: SQSClient, queueUrl: string, message: OutgoingMessage): Promise<void> {
  await client.send(
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
}

/** Runs `work` (a send, with what it needs first) within the queue's time budget. */
export function withinQueueBudget<T>(work: Promise<T>, budget: CallBudget = QUEUE_TIMEOUTS): Promise<T> {
  return withinDeadline(work, budget.totalMs, 'SQS');
}

/** The String attributes of an event's message, which consumers filter on. */
function eventAttributes(event: CloudEvent): Record<string, string> {
  return { source: event.source, type: event.type, status: event.data.status };
}

/**
 * Whether an event travels by reference (claim-check, {@link eventMessage}): its message with its
 * attributes does not fit one SQS message with the margin to spare.
 */
export function travelsByReference(event: CloudEvent, body: string): boolean {
  return !fitsOneMessage({ body, attributes: eventAttributes(event) });
}

/**
 * The SQS message of an event: the event itself when it fits one message, else (claim-check) the
 * whole event goes to the bucket and the message is its reference event (`dataref`), with the
 * object's SHA-256 in the `datarefsha256` attribute.
 */
export async function eventMessage(event: CloudEvent, body: string, bucket: PayloadBucket | undefined): Promise<OutgoingMessage> {
  const attributes = eventAttributes(event);
  const common = { group: `${event.source}:${event.subject}`, deduplicationId: event.id };
  if (fitsOneMessage({ body, attributes })) return { body, attributes, ...common };
  if (!bucket) {
    throw new PayloadTooLargeError(
      `the event built from this body is larger than one queue message (${MAX_MESSAGE_BYTES} bytes) and no payload bucket is configured`,
    );
  }
  const bytes = Buffer.from(body);
  const sha256 = sha256Hex(bytes);
  const key = eventObjectKey(event.id, sha256);
  await bucket.put(key, bytes, 'application/cloudevents+json; charset=utf-8', sha256);
  return {
    body: JSON.stringify(toEventReference(event, objectUrl(bucket.name, key), sha256)),
    attributes: { ...attributes, datarefsha256: sha256 },
    ...common,
  };
}

/**
 * A queue backed by SQS. On a FIFO queue (`.fifo`) the message group is source + subject, so one
 * job's events stay in order, and the deduplication id is the event id. An event too large for one
 * message is claim-checked into `bucket` first; both together stay within {@link QUEUE_TIMEOUTS}.
 */
export function createSqsQueue(options: SqsQueueOptions): EventQueue {
  const client = options.client ?? createSqsClient({}, options.budget);
  return {
    send: (event, body) =>
      withinQueueBudget(
        (async () => sendMessage(client, options.queueUrl, await eventMessage(event, body, options.bucket)))(),
        options.budget,
      ),
  };
}

let sharedClient: SQSClient | undefined;
/** The one SQS client of this container (events and quarantine share its connections). */
export function containerSqsClient(): SQSClient {
  sharedClient ??= createSqsClient();
  return sharedClient;
}

/**
 * Opens the connection to the queue named by `QUEUE_URL` in this container's client (see
 * {@link primeConnection}); false when there is none to open or it could not be opened.
 */
export function primeContainerConnection(): Promise<boolean> {
  const queueUrl = process.env.QUEUE_URL;
  return queueUrl ? primeConnection(containerSqsClient(), queueUrl) : Promise.resolve(false);
}

/** The queue named by `QUEUE_URL`; without one every send fails, so callbacks get a 503. */
export function queueFromEnvironment(bucket: PayloadBucket | undefined): EventQueue {
  const queueUrl = process.env.QUEUE_URL;
  if (!queueUrl) {
    return { send: () => Promise.reject(new Error('QUEUE_URL is not set')) };
  }
  return createSqsQueue({ queueUrl, client: containerSqsClient(), bucket });
}
