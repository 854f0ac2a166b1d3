import type { SQSClient } from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import type { CallBudget } from '../aws/deadline.ts';
import { ObjectUrlSchema, RawBodySchema, rawBytes, Sha256Schema, SourceNameSchema } from '../events/cloud-event.ts';
import { objectUrl, type PayloadBucket, parseObjectUrl, quarantineObjectKey, sha256Hex } from '../store/payload-bucket.ts';
import { containerSqsClient, createSqsClient, fitsOneMessage, MAX_MESSAGE_BYTES, sendMessage, withinQueueBudget } from './send-event.ts';

/**
 * The body of a quarantined callback that did not fit its record: the exact bytes are the object at
 * `dataref` in the payload bucket (prefix `quarantine/`), `size` bytes with this SHA-256.
 */
export const RawBodyReferenceSchema = v.object({
  contentType: v.string(),
  dataref: ObjectUrlSchema,
  sha256: Sha256Schema,
  /** As on a body kept inline: a token found in it was replaced with `REDACTED`. */
  redacted: v.optional(v.literal(true)),
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
/** The body of a quarantined callback, kept in the payload bucket. */
export type RawBodyReference = v.InferOutput<typeof RawBodyReferenceSchema>;

/**
 * A callback that was authenticated but could not be decoded or validated, kept so that a fix to
 * the parser can recover it (`npm run replay`). It holds everything needed to run it again.
 */
export const QuarantineRecordSchema = v.object({
  source: SourceNameSchema,
  /** The path the request came in on (`/callbacks/thain/job`): it picks the Thain kind. */
  route: v.string(),
  /** The answer it got and why. */
  status: v.number(),
  error: v.string(),
  /** The first problems (at most 20, each at most 300 characters), as the 422 answer gave them. */
  issues: v.optional(v.array(v.string())),
  /** How many problems the body had in all; absent when validation stopped at the first. */
  issueCount: v.optional(v.number()),
  labels: v.record(v.string(), v.string()),
  /** The body as received, in the record (as an event's `data.raw`), or in the bucket when it does not fit. */
  raw: v.union([RawBodySchema, RawBodyReferenceSchema]),
  receivedAt: v.pipe(v.string(), v.isoTimestamp()),
  requestId: v.string(),
});
/** A quarantined callback. */
export type QuarantineRecord = v.InferOutput<typeof QuarantineRecordSchema>;

/** Reads an object of the payload bucket named by an `s3://` URL. */
export type ObjectReader = (url: string) => Promise<Buffer>;

/**
 * The exact bytes of a quarantined callback, from the record or from the bucket (checked against
 * the record's SHA-256; a mismatch rejects).
 */
export async function quarantinedBytes(record: QuarantineRecord, read: ObjectReader): Promise<Buffer> {
  if (!('dataref' in record.raw)) return rawBytes(record.raw);
  const bytes = await read(record.raw.dataref);
  if (sha256Hex(bytes) !== record.raw.sha256) {
    throw new Error(`${record.raw.dataref} does not hold the body the record names (SHA-256 differs)`);
  }
  return bytes;
}

/** Where rejected callbacks are kept. */
export interface Quarantine {
  keep(record: QuarantineRecord): Promise<void>;
}

/** The message attributes of a quarantine record. */
function attributesOf(record: QuarantineRecord): Record<string, string> {
  return { source: record.source, status: String(record.status) };
}

/**
 * A quarantine backed by an SQS queue; the message body is the record as JSON. A body too large
 * for the record goes to `bucket` (prefix `quarantine/`) and the record names it; without a bucket
 * it is kept in base64, which fits whenever its escaped JSON text did not.
 */
export function createSqsQuarantine(options: {
  queueUrl: string;
  client?: SQSClient;
  bucket?: PayloadBucket | undefined;
  /** The time budget of one record; defaults to `QUEUE_TIMEOUTS`. */
  budget?: CallBudget;
}): Quarantine {
  const client = options.client ?? createSqsClient({}, options.budget);
  return {
    keep: (record) =>
      withinQueueBudget(
        (async () => {
          const attributes = attributesOf(record);
          let body = JSON.stringify(record);
          if (!fitsOneMessage({ body, attributes }) && !('dataref' in record.raw)) {
            const bytes = rawBytes(record.raw);
            if (options.bucket) {
              const sha256 = sha256Hex(bytes);
              const key = quarantineObjectKey(new Date(record.receivedAt), record.requestId, sha256);
              await options.bucket.put(key, bytes, 'application/octet-stream', sha256);
              const raw = {
                contentType: record.raw.contentType,
                dataref: objectUrl(options.bucket.name, key),
                sha256,
                size: bytes.length,
                ...(record.raw.redacted && { redacted: true as const }),
              };
              body = JSON.stringify({ ...record, raw });
            } else if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
              body = JSON.stringify({
                ...record,
                raw: { contentType: record.raw.contentType, body: bytes.toString('base64'), encoding: 'base64' },
              });
            }
          }
          await sendMessage(client, options.queueUrl, {
            body,
            attributes,
            group: record.source,
            deduplicationId: record.requestId || String(Date.now()),
          });
        })(),
        options.budget,
      ),
  };
}

/** The quarantine named by `QUARANTINE_QUEUE_URL`, or undefined when none is configured. */
export function quarantineFromEnvironment(bucket: PayloadBucket | undefined): Quarantine | undefined {
  const queueUrl = process.env.QUARANTINE_QUEUE_URL;
  return queueUrl ? createSqsQuarantine({ queueUrl, client: containerSqsClient(), bucket }) : undefined;
}

/** An {@link ObjectReader} for a bucket: only objects of that bucket are read. */
export function objectReaderFor(bucket: PayloadBucket): ObjectReader {
  return (url) => {
    const parsed = parseObjectUrl(url);
    if (!parsed || parsed.bucket !== bucket.name) return Promise.reject(new Error(`${url} is not an object of ${bucket.name}`));
    return bucket.get(parsed.key);
  };
}
