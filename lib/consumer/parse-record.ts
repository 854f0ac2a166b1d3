import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as v from 'valibot';
import { toError } from '../errors.ts';
import { type JobEvent, JobEventSchema } from './event-schemas.ts';

/** An SQS record whose body is not a valid event; `messageId` says which record. */
export class EventRecordError extends Error {
  override name = 'EventRecordError' as const;
  readonly messageId: string;
  /** One `path: problem` line per schema issue; empty when the body is not JSON. */
  readonly issues: readonly string[];

  constructor(messageId: string, message: string, issues: readonly string[], options?: ErrorOptions) {
    super(`SQS record ${messageId}: ${message}`, options);
    this.messageId = messageId;
    this.issues = issues;
  }
}

/**
 * Turns one SQS record of the events queue into a validated, typed event (narrow it with
 * `switch (event.source)`); throws {@link EventRecordError} when the body is not JSON or not an event.
 *
 * @example
 * const event = parseEventRecord(record);
 * if (event.source === 'thain' && event.data.kind === 'job') console.log(event.data.labels.job);
 */
export function parseEventRecord(record: SQSRecord): JobEvent {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (error) {
    throw new EventRecordError(record.messageId, 'body is not JSON', [], { cause: error });
  }
  const result = v.safeParse(JobEventSchema, body);
  if (!result.success) {
    const issues = result.issues.map((issue) => `${v.getDotPath(issue) || '(body)'}: ${issue.message}`);
    const shown = `${issues.slice(0, 3).join('; ')}${issues.length > 3 ? '; …' : ''}`;
    throw new EventRecordError(record.messageId, `not a jobhooks event: ${shown}`, issues);
  }
  return result.output;
}

/** Options of {@link processEvents}. */
export interface ProcessEventsOptions {
  /** Told about each record that failed (parse or handler); defaults to one JSON line on stderr. */
  readonly onFailure?: (record: SQSRecord, error: Error) => void;
}

/**
 * Runs `handle` on every event of an SQS batch and answers Lambda's partial batch response: only
 * the records that failed (bad body, or `handle` threw) are retried, the others are deleted. Needs
 * `functionResponseType: ReportBatchItemFailures` on the subscription. On a FIFO queue records run
 * in order and, after the first failure, the rest are returned unprocessed so that order holds.
 */
export async function processEvents(
  event: SQSEvent,
  handle: (event: JobEvent, record: SQSRecord) => Promise<void>,
  options: ProcessEventsOptions = {},
): Promise<SQSBatchResponse> {
  const onFailure = options.onFailure ?? logFailure;
  const run = async (record: SQSRecord): Promise<boolean> => {
    try {
      await handle(parseEventRecord(record), record);
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
  process.stderr.write(
    `${JSON.stringify({ level: 'error', messageId: record.messageId, error: `${error.name}: ${error.message}` })}\n`,
  );
}
