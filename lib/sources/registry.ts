import { bkJob } from './bk-job/index.ts';
import type { Sender } from './sender.ts';
import { tencentCi } from './tencent-ci/index.ts';
import { thain } from './thain/index.ts';

/**
 * Every sender the project takes, by its descriptor (`<name>/index.ts`): the one list from which the
 * sender names, event types, the consumer's event schema, the JSON Schema, the example consumer's
 * sentences, the test tables, the bench and the deploy's per-sender parts are derived. Descriptors
 * carry no parser: a Lambda function imports its own sender's `callback.ts` for parsing, and this list
 * only for the senders' names (which setting names exist, checked when it starts).
 */
export const SENDERS = [bkJob, tencentCi, thain] as const;

/** A sender's name, as it appears in an event's `source`. */
export type SourceName = (typeof SENDERS)[number]['name'];

/** Every sender's name, in registry order. */
export const SOURCE_NAMES: readonly SourceName[] = SENDERS.map((sender) => sender.name);

/** Whether a text is a registered sender's name. */
export function isSourceName(name: string): name is SourceName {
  return SENDERS.some((sender) => sender.name === name);
}

/** The descriptor of a registered sender, or undefined. */
export function senderNamed(name: string): Sender | undefined {
  return SENDERS.find((sender) => sender.name === name);
}
