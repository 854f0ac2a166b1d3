import * as v from 'valibot';
import { EventReferenceSchema } from '../events/cloud-event.ts';
import { SENDERS } from '../sources/registry.ts';
import type { Sender } from '../sources/sender.ts';

/*
 * The event a consumer receives, per sender: the CloudEvent of docs/contract.md (The event), narrowed
 * by `source`, with the `data` each sender's descriptor declares (`lib/sources/<name>/event.ts`).
 * Derived from the registry; `events/event.schema.json` is generated from these (npm run schema).
 * Objects stay open (`looseObject`): the project may add fields, never break them.
 */

/** Each sender's event schema, in registry order, keeping each one's own type. */
function eventSchemasOf<const T extends readonly { readonly event: unknown }[]>(senders: T): { -readonly [K in keyof T]: T[K]['event'] } {
  // `map` cannot say that it keeps a tuple's element types; each element is exactly `sender.event`.
  return senders.map((sender) => sender.event) as { -readonly [K in keyof T]: T[K]['event'] };
}

/** Any event on the queue, told apart by `source`. */
export const JobEventSchema = v.variant('source', eventSchemasOf(SENDERS));
/** Any event on the queue: narrow it with `switch (event.source)`. */
export type JobEvent = v.InferOutput<typeof JobEventSchema>;

/** The event types of every sender, by the prefix before their first dot (`bkjob`). */
const TYPE_PREFIXES = [...new Set(SENDERS.flatMap((sender) => sender.types.map((type) => type.split('.')[0] ?? '')))];

/** A reference event of a registered sender (an event too large for one SQS message, see `EventReferenceSchema`). */
const JobEventReferenceSchema = v.object({
  ...EventReferenceSchema.entries,
  source: v.picklist(SENDERS.map((sender) => sender.name)),
  type: v.pipe(v.string(), v.regex(new RegExp(`^(${TYPE_PREFIXES.join('|')})\\.[a-z]+\\.[a-z]+$`))),
});

/**
 * What an SQS message body of the events queue is: an event, or, for an event too large for one
 * message, its reference event (`dataref` names the object that holds the whole event; the consumer
 * helper resolves it, so handlers only ever see a {@link JobEvent}).
 */
export const QueueMessageSchema = v.union([JobEventSchema, JobEventReferenceSchema]);

/**
 * The sentence the sender's descriptor writes about an event (`describe`): the example consumer's
 * log line, and where a real consumer would act.
 */
export function describeEvent(event: JobEvent): string {
  for (const sender of SENDERS) {
    const sentence = describeWith(sender, event);
    if (sentence !== undefined) return sentence;
  }
  return `${event.source} ${event.type} ${event.subject} is ${event.data.status}`;
}

function describeWith(sender: Sender, event: unknown): string | undefined {
  return v.is(sender.event, event) ? sender.describe(event) : undefined;
}
