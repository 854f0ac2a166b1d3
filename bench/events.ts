import { handle, sampleRequest } from '../infra/testing/sample-events.ts';
import { fitsOneMessage, messageSize } from '../lib/queue/send-event.ts';
import type { BenchTarget } from './lib/targets.ts';

/** SQS bills each 64 KiB of a message as one request. */
export const SQS_CHUNK_BYTES = 64 * 1024;

/** How large one sample's event is next to its body, and how it travels. */
export interface EventSize {
  readonly function: string;
  readonly sample: string;
  /** The raw body's bytes. */
  readonly rawBytes: number;
  /** The whole event's bytes (the message body, or the object a `dataref` names). */
  readonly eventBytes: number;
  /** eventBytes / rawBytes. */
  readonly ratio: number;
  /**
   * The part of the event that is there whatever the body: the CloudEvents attributes, `status`,
   * `terminal`, `sourceStatus`, `labels` and the raw body's Content-Type, in bytes.
   */
  readonly envelopeBytes: number;
  /** `inline` (the event is the message) or `dataref` (the event is an object of the bucket). */
  readonly travels: 'inline' | 'dataref';
  /** SQS requests the SendMessage is billed as (64 KiB chunks of the message with its attributes). */
  readonly sqsChunks: number;
  /** Objects written to the payload bucket. */
  readonly bucketObjects: number;
}

/**
 * Every accepted sample of every function, through its real handler with an in-memory queue: the
 * event's bytes against the body's, and what it costs in SQS chunks and bucket objects.
 */
export async function measureEventSizes(targets: readonly BenchTarget[]): Promise<EventSize[]> {
  const sizes: EventSize[] = [];
  for (const target of targets) {
    for (const { fixture } of target.accepted) {
      const handled = await handle(target.callbacks, sampleRequest(fixture));
      if (handled.status !== 200 || !handled.event || handled.body === undefined) {
        throw new Error(`${target.fn.name}/${fixture.name}: answered ${handled.status}`);
      }
      const { event, body } = handled;
      const attributes = { source: event.source, type: event.type, status: event.data.status };
      const inline = fitsOneMessage({ body, attributes });
      // The reference message stands in for a claim-checked event: about 500 bytes, one chunk.
      const message = inline ? messageSize({ body, attributes }) : 1;
      const envelope = JSON.stringify({
        ...event,
        data: {
          status: event.data.status,
          terminal: event.data.terminal,
          sourceStatus: event.data.sourceStatus,
          labels: event.data.labels,
          raw: { contentType: event.data.raw.contentType, body: '' },
        },
      });
      const eventBytes = Buffer.byteLength(body);
      sizes.push({
        function: target.fn.name,
        sample: fixture.name,
        rawBytes: fixture.body.length,
        eventBytes,
        ratio: eventBytes / fixture.body.length,
        envelopeBytes: Buffer.byteLength(envelope),
        travels: inline ? 'inline' : 'dataref',
        sqsChunks: Math.ceil(message / SQS_CHUNK_BYTES),
        bucketObjects: inline ? 0 : 1,
      });
    }
  }
  return sizes;
}
