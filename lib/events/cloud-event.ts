import { hash } from 'node:crypto';
import * as v from 'valibot';
import { StatusSchema } from './status.ts';

/** The three senders, as they appear in an event's `source`. */
export const SOURCE_NAMES = ['bk-job', 'tencent-ci', 'thain'] as const;
/** A sender's name. */
export type SourceName = (typeof SOURCE_NAMES)[number];

/** The request body exactly as received, with its Content-Type: nothing a sender sent is lost. */
export const RawBodySchema = v.object({
  contentType: v.string(),
  body: v.string(),
});
/** The request body exactly as received. */
export type RawBody = v.InferOutput<typeof RawBodySchema>;

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
 * (contract §3). Consumers validate with this schema, or with `events/event.schema.json`.
 */
export const CloudEventSchema = v.object({
  specversion: v.literal('1.0'),
  id: v.pipe(v.string(), v.minLength(1)),
  source: v.picklist(SOURCE_NAMES),
  type: v.pipe(v.string(), v.regex(/^(bkjob|tencentci|thain)\.[a-z]+\.[a-z]+$/)),
  subject: v.pipe(v.string(), v.minLength(1)),
  time: v.pipe(v.string(), v.isoTimestamp()),
  datacontenttype: v.literal('application/json'),
  data: EventDataSchema,
});
/** The normalized event. */
export type CloudEvent = v.InferOutput<typeof CloudEventSchema>;

/**
 * A deterministic event id: the same callback delivered twice gives the same id, callbacks that
 * differ in anything that matters give different ids. `parts` is everything that matters (kind,
 * subject, statuses, steps, payload time, message, labels: two Thain jobs differ only in their
 * labels) and never the receive time of a resend or the raw bytes (bk-job's retry differs only in
 * its Content-Type). `parts` must be JSON in a stable order: arrays, or objects built in a fixed order.
 */
export function eventId(source: SourceName, parts: unknown): string {
  return hash('sha256', `${source}\n${JSON.stringify(parts)}`).slice(0, 32);
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
