import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as v from 'valibot';
import { toError } from '../errors.ts';
import { EventReferenceSchema } from '../events/cloud-event.ts';
import { readObjectUrl, sha256Hex } from '../store/payload-bucket.ts';
import { type JobEvent, JobEventSchema } from './event-schemas.ts';

/** One thing wrong with a record's event: where, and what. */
export interface RecordIssue {
  readonly path: string;
  readonly message: string;
}

/** An SQS record whose body is not a valid event; `messageId` says which record. */
export class EventRecordError extends Error {
  override name = 'EventRecordError' as const;
  readonly messageId: string;
  /** What the schema found wrong, where (a dot path, `(body)` for the whole); empty when the body is not JSON. */
  readonly issues: readonly RecordIssue[];

  constructor(messageId: string, message: string, issues: readonly RecordIssue[], options?: ErrorOptions) {
    super(`SQS record ${messageId}: ${message}`, options);
    this.messageId = messageId;
    this.issues = issues;
  }
}

/** Reads the object a `dataref` names (`s3://bucket/key`), as bytes. */
export type DatarefReader = (url: string) => Promise<Buffer>;

function parseJson(messageId: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EventRecordError(messageId, `${what} is not JSON`, [], { cause: error });
  }
}

function validated<const S extends v.GenericSchema>(messageId: string, schema: S, value: unknown, what: string): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issues = result.issues.map((issue): RecordIssue => ({ path: v.getDotPath(issue) || '(body)', message: issue.message }));
  const shown = `${issues
    .slice(0, 3)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ')}${issues.length > 3 ? '; …' : ''}`;
  throw new EventRecordError(messageId, `${what}: ${shown}`, issues);
}

/** Whether a message body is a reference event (claim-check) rather than the event itself. */
function isReference(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'dataref' in body;
}

/**
 * Turns one SQS record of the events queue into a validated, typed event (narrow it with
 * `switch (event.source)`); throws {@link EventRecordError} when the body is not JSON or not an
 * event. Synchronous, so it takes only events carried whole in the message: a reference event (an
 * event too large for SQS, with `dataref`) throws; {@link readEventRecord} takes both.
 *
 * @example
 * const event = parseEventRecord(record);
 * if (event.source === 'thain' && event.data.kind === 'job') console.log(event.data.labels.job);
 */
export function parseEventRecord(record: SQSRecord): JobEvent {
  const body = parseJson(record.messageId, record.body, 'body');
  if (isReference(body)) {
    throw new EventRecordError(record.messageId, 'the event is in the payload bucket (dataref): read it with readEventRecord', []);
  }
  return validated(record.messageId, JobEventSchema, body, 'not a jobhooks event');
}

/**
 * Like {@link parseEventRecord}, and resolves a reference event: the whole event is fetched from the
 * object its `dataref` names (S3 `GetObject`; the consumer needs `s3:GetObject` on the bucket's
 * `events/*`), its SHA-256 checked against the message's `datarefsha256` attribute and the
 * reference's own, and its `id` against the reference's. So a consumer sees one shape, whatever the
 * size. Throws {@link EventRecordError} when any of that fails (S3 errors propagate as they are).
 */
export async function readEventRecord(record: SQSRecord, read: DatarefReader = readObjectUrl): Promise<JobEvent> {
  const body = parseJson(record.messageId, record.body, 'body');
  if (!isReference(body)) return validated(record.messageId, JobEventSchema, body, 'not a jobhooks event');
  const reference = validated(record.messageId, EventReferenceSchema, body, 'not a jobhooks reference event');
  const bytes = await read(reference.dataref);
  const digest = sha256Hex(bytes);
  const attribute = record.messageAttributes?.datarefsha256?.stringValue;
  if (digest !== reference.datarefsha256 || (attribute !== undefined && attribute !== digest)) {
    throw new EventRecordError(record.messageId, `${reference.dataref} does not hold the event its reference names (SHA-256 differs)`, []);
  }
  const event = validated(
    record.messageId,
    JobEventSchema,
    parseJson(record.messageId, bytes.toString('utf8'), reference.dataref),
    `${reference.dataref} is not a jobhooks event`,
  );
  if (event.id !== reference.id) {
    throw new EventRecordError(record.messageId, `${reference.dataref} holds event ${event.id}, not ${reference.id}`, []);
  }
  return event;
}

/** Options of {@link processEvents}. */
export interface ProcessEventsOptions {
  /** Told about each record that failed (parse or handler); defaults to one JSON line on stderr. */
  readonly onFailure?: (record: SQSRecord, error: Error) => void;
  /** Reads the object of a reference event; defaults to S3 `GetObject` with the SDK's configuration. */
  readonly read?: DatarefReader;
}

/**
 * Runs `handle` on every event of an SQS batch and answers Lambda's partial batch response: only
 * the records that failed (bad body, or `handle` threw) are retried, the others are deleted. Needs
 * `functionResponseType: ReportBatchItemFailures` on the subscription. On a FIFO queue records run
 * in order and, after the first failure, the rest are returned unprocessed so that order holds.
 * Reference events (`dataref`) are resolved first ({@link readEventRecord}): `handle` always gets
 * the whole event.
 */
export async function processEvents(
  event: SQSEvent,
  handle: (event: JobEvent, record: SQSRecord) => Promise<void>,
  options: ProcessEventsOptions = {},
): Promise<SQSBatchResponse> {
  const onFailure = options.onFailure ?? logFailure;
  const run = async (record: SQSRecord): Promise<boolean> => {
    try {
      await handle(await readEventRecord(record, options.read), record);
      return true;
    } catch (error) {
      onFailure(record, toError(error));
      return false;
    }
  };
  const failed: string[] = [];
  const fifo = event.Records.some((record) => record.eventSourceARN.endsWith('.fifo'));
  if (fifo) {
    for (const [index, record] of event.Records.entries()) {
      if (await run(record)) continue;
      failed.push(...event.Records.slice(index).map((rest) => rest.messageId));
      break;
    }
  } else {
    const outcomes = await Promise.all(event.Records.map(run));
    event.Records.forEach((record, index) => {
      if (!outcomes[index]) failed.push(record.messageId);
    });
  }
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

function logFailure(record: SQSRecord, error: Error): void {
  process.stderr.write(`${JSON.stringify({ level: 'error', messageId: record.messageId, error: `${error.name}: ${error.message}` })}\n`);
}
