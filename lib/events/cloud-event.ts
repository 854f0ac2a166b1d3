import { createHash, hash } from 'node:crypto';
import * as v from 'valibot';
import { StatusSchema } from './status.ts';

/**
 * A sender's name as it appears in an event's `source` (`bk-job`): lower-case letters, digits and
 * dashes. Which senders there are is the registry's business (`lib/sources/registry.ts`).
 */
export const SourceNameSchema = v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]{0,62}$/, 'expected a sender name'));

/** An event type: `<sender>.<what>.<how>`, lower case (`bkjob.job.finished`). */
export const EventTypeSchema = v.pipe(v.string(), v.regex(/^[a-z0-9]+\.[a-z]+\.[a-z]+$/, 'expected an event type'));

/**
 * The request body exactly as received, with its Content-Type: nothing a sender sent is lost. `body`
 * is the text when the bytes are UTF-8 (and decode to the same text under the declared charset, if
 * any); otherwise `encoding` is `base64` and `body` holds the exact bytes in base64 (a GBK body, a
 * UTF-16 body, bytes that are no text at all). The events' `data.raw` and the quarantine records
 * share this one definition.
 */
export const RawBodySchema = v.object({
  contentType: v.string(),
  body: v.string(),
  encoding: v.optional(v.literal('base64')),
  /**
   * Present (true) when a token (a configured one, or the request's own `?token=`) was found in the
   * body and replaced with `REDACTED`; every other byte is as received.
   */
  redacted: v.optional(v.literal(true)),
});
/** The request body exactly as received. */
export type RawBody = v.InferOutput<typeof RawBodySchema>;

/** The exact bytes a {@link RawBody} holds. */
export function rawBytes(raw: RawBody): Buffer {
  return Buffer.from(raw.body, raw.encoding === 'base64' ? 'base64' : 'utf8');
}

/** One step of a job (bk-job step, CI workflow task), in the sender's order. */
export const StepSchema = v.looseObject({
  id: v.string(),
  status: StatusSchema,
  sourceStatus: v.union([v.number(), v.string()]),
});
/** One step of a job. */
export type Step = v.InferOutput<typeof StepSchema>;

/** The `data` fields every event has; each source adds its own beside them. */
export const EventDataSchema = v.looseObject({
  status: StatusSchema,
  terminal: v.boolean(),
  sourceStatus: v.union([v.number(), v.string()]),
  message: v.optional(v.string()),
  labels: v.record(v.string(), v.string()),
  steps: v.optional(v.array(StepSchema)),
  raw: RawBodySchema,
});
/** The `data` of an event. */
export type EventData = v.InferOutput<typeof EventDataSchema>;

/**
 * The normalized event: a CloudEvents 1.0 event in JSON structured mode, the SQS message body
 * (docs/contract.md, The event), whatever its sender. Consumers validate with the schema of each
 * sender's event (`lib/consumer/event-schemas.ts`), or with `events/event.schema.json`.
 */
export const CloudEventSchema = v.object({
  specversion: v.literal('1.0'),
  id: v.pipe(v.string(), v.minLength(1)),
  source: SourceNameSchema,
  type: EventTypeSchema,
  subject: v.pipe(v.string(), v.minLength(1)),
  time: v.pipe(v.string(), v.isoTimestamp()),
  datacontenttype: v.literal('application/json'),
  data: EventDataSchema,
});
/** The normalized event. */
export type CloudEvent = v.InferOutput<typeof CloudEventSchema>;

/** A digest of some bytes: SHA-256, 64 lower-case hex digits. */
export const Sha256Schema = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 in 64 hex digits'));

/** An object of the payload bucket, `s3://<bucket>/<key>`. */
export const ObjectUrlSchema = v.pipe(v.string(), v.regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+$/, 'expected s3://<bucket>/<key>'));

const { data: _fullData, ...envelope } = CloudEventSchema.entries;

/**
 * The SQS message body of an event too large for one SQS message (the claim-check): the envelope
 * of the event with the CloudEvents `dataref` extension naming the object that holds the whole
 * event, byte for byte as it would have been sent, and `datarefsha256`, the SHA-256 of that object
 * (also in the message attribute of the same name). `data` keeps what consumers route and filter
 * on; the consumer helper (`lib/consumer`) fetches and checks the whole event.
 */
export const EventReferenceSchema = v.object({
  ...envelope,
  dataref: ObjectUrlSchema,
  datarefsha256: Sha256Schema,
  data: v.object({
    status: StatusSchema,
    terminal: v.boolean(),
    sourceStatus: v.union([v.number(), v.string()]),
    labels: v.record(v.string(), v.string()),
  }),
});
/** The SQS message body of an event too large for one SQS message. */
export type EventReference = v.InferOutput<typeof EventReferenceSchema>;

/** The reference event that stands in the queue for `event`, whose whole bytes are at `dataref`. */
export function toEventReference(event: CloudEvent, dataref: string, sha256: string): EventReference {
  const { data, ...head } = event;
  return {
    ...head,
    dataref,
    datarefsha256: sha256,
    data: { status: data.status, terminal: data.terminal, sourceStatus: data.sourceStatus, labels: data.labels },
  };
}

/**
 * A deterministic event id: the same callback delivered twice gives the same id, callbacks that
 * differ in anything that matters give different ids. `parts` is everything that matters (kind,
 * subject, statuses, steps, payload time, message, labels: two Thain jobs differ only in their
 * labels) and never the receive time of a resend or the raw bytes (bk-job's retry differs only in
 * its Content-Type). `parts` must be JSON in a stable order: arrays, or objects built in a fixed order.
 */
export function eventId(source: string, parts: readonly unknown[]): string {
  // The digest of `<source>\n<JSON of parts>`. A large part (a message of megabytes) is hashed piece
  // by piece, so the parts' JSON is never joined into one more copy of it.
  const pieces = parts.map((part) => JSON.stringify(part) ?? 'null');
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (length < 64 * 1024) return hash('sha256', `${source}\n[${pieces.join(',')}]`).slice(0, 32);
  const digest = createHash('sha256').update(`${source}\n[`);
  for (const [index, piece] of pieces.entries()) digest.update(index === 0 ? piece : `,${piece}`);
  return digest.update(']').digest('hex').slice(0, 32);
}

/** JSON with object keys sorted, so equal values always serialize to equal text. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableStringify(item)}`).join(',')}}`;
}
