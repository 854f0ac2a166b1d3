import type { SQSClient } from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import { RawBodySchema, SOURCE_NAMES } from '../events/cloud-event.ts';
import { MAX_MESSAGE_BYTES, containerSqsClient, createSqsClient, sendMessage } from './send-event.ts';

/**
 * A callback that was authenticated but could not be decoded or validated, kept so that a fix to
 * the parser can recover it (`npm run replay`). It holds everything needed to run it again.
 */
export const QuarantineRecordSchema = v.object({
  source: v.picklist(SOURCE_NAMES),
  /** The path the request came in on (`/callbacks/thain/job`): it picks the Thain kind. */
  route: v.string(),
  /** The answer it got and why. */
  status: v.number(),
  error: v.string(),
  issues: v.optional(v.array(v.string())),
  labels: v.record(v.string(), v.string()),
  /**
   * The body as received. `encoding: 'base64'` when its JSON-escaped text would not fit one SQS
   * message (control characters escape to six bytes each): the bytes are kept all the same.
   */
  raw: v.object({ ...RawBodySchema.entries, encoding: v.optional(v.literal('base64')) }),
  receivedAt: v.pipe(v.string(), v.isoTimestamp()),
  requestId: v.string(),
});
/** A quarantined callback. */
export type QuarantineRecord = v.InferOutput<typeof QuarantineRecordSchema>;

/** The body of a quarantined callback as text, whichever way the record holds it. */
export function rawBodyOf(record: QuarantineRecord): string {
  return record.raw.encoding === 'base64' ? Buffer.from(record.raw.body, 'base64').toString('utf8') : record.raw.body;
}

/** Where rejected callbacks are kept. */
export interface Quarantine {
  keep(record: QuarantineRecord): Promise<void>;
}

/** A quarantine backed by an SQS queue; the message body is the record as JSON. */
export function createSqsQuarantine(options: { queueUrl: string; client?: SQSClient }): Quarantine {
  const client = options.client ?? createSqsClient();
  return {
    async keep(record) {
      let body = JSON.stringify(record);
      if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
        const raw = { ...record.raw, body: Buffer.from(record.raw.body).toString('base64'), encoding: 'base64' };
        body = JSON.stringify({ ...record, raw });
      }
      await sendMessage(client, options.queueUrl, {
        body,
        attributes: { source: record.source, status: String(record.status) },
        group: record.source,
        deduplicationId: record.requestId || String(Date.now()),
      });
    },
  };
}

/** The quarantine named by `QUARANTINE_QUEUE_URL`, or undefined when none is configured. */
export function quarantineFromEnvironment(): Quarantine | undefined {
  const queueUrl = process.env.QUARANTINE_QUEUE_URL;
  return queueUrl ? createSqsQuarantine({ queueUrl, client: containerSqsClient() }) : undefined;
}
