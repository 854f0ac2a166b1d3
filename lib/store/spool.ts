import * as v from 'valibot';
import { toError } from '../errors.ts';
import { CloudEventSchema } from '../events/cloud-event.ts';
import { type Quarantine, QuarantineRecordSchema } from '../queue/quarantine.ts';
import type { EventQueue } from '../queue/send-event.ts';
import { type PayloadBucket, PREFIXES, sha256Hex, shardOf } from './payload-bucket.ts';

/**
 * The spool: where an event (or a quarantine record) goes when SQS did not take it within its
 * deadline, so that the callback can still be answered 200. A redrive ({@link redriveSpool}) moves
 * what it holds to its queue, oldest first, and deletes each object only after SQS took it.
 *
 * Key: `spool/<shard>/<received at, ISO 8601 UTC>_<target>_<id>.json`. The shard (2 hex digits of
 * the id's hash) spreads writes over 256 key prefixes; after it, the receive time sorts the keys in
 * receive order, so one listing of `spool/` gives the redrive its order; the target says which
 * queue; the id (event id, or request id of a quarantine record) makes a second spooling of the
 * same thing write the same key.
 */

/** The queue a spooled object is for. */
export type SpoolTarget = 'events' | 'quarantine';

/** Where spooled objects wait. */
export interface Spool {
  /** Writes `body` (the SQS message body it would have been) to the spool. */
  keep(target: SpoolTarget, receivedAt: Date, id: string, body: string): Promise<void>;
}

/** The key of a spooled object. */
export function spoolKey(target: SpoolTarget, receivedAt: Date, id: string): string {
  return `${PREFIXES.spool}${shardOf(id)}/${receivedAt.toISOString()}_${target}_${id}.json`;
}

const SPOOL_KEY = /^spool\/[0-9a-f]{2}\/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)_(events|quarantine)_([^/]+)\.json$/;

/** A spooled object, as its key describes it. */
export interface SpooledItem {
  readonly key: string;
  readonly receivedAt: Date;
  readonly target: SpoolTarget;
  readonly id: string;
}

/** Reads a spool key; undefined for a key that is not one. */
export function parseSpoolKey(key: string): SpooledItem | undefined {
  const match = SPOOL_KEY.exec(key);
  if (!match?.[1] || !match[3]) return undefined;
  return { key, receivedAt: new Date(match[1]), target: match[2] === 'quarantine' ? 'quarantine' : 'events', id: match[3] };
}

/** A spool in the payload bucket. */
export function createSpool(bucket: PayloadBucket): Spool {
  return {
    async keep(target, receivedAt, id, body) {
      const bytes = Buffer.from(body);
      await bucket.put(spoolKey(target, receivedAt, id), bytes, 'application/json; charset=utf-8', sha256Hex(bytes));
    },
  };
}

/** Options of {@link redriveSpool}. */
export interface RedriveOptions {
  readonly bucket: PayloadBucket;
  /** Where spooled events go (claim-checking again when one is too large for a message). */
  readonly events: EventQueue;
  /** Where spooled quarantine records go; without one they stay spooled. */
  readonly quarantine?: Quarantine | undefined;
  /** Stop starting new sends once this time (ms since the epoch) has passed. */
  readonly stopAt?: number;
  /** Most objects looked at in one run. */
  readonly maxItems?: number;
  readonly now?: () => number;
  /** Told about an object that cannot be sent (not an event, not a record): it stays spooled. */
  readonly onUnreadable?: (item: SpooledItem, error: Error) => void;
}

/** What one redrive run did. */
export interface RedriveSummary {
  /** Objects sent to their queue and deleted from the spool. */
  readonly sent: number;
  /** The same, by the sender of each event or quarantine record (only senders with one or more). */
  readonly sentBySource: Readonly<Record<string, number>>;
  /** Objects still spooled when the run ended (the queue failed again, time ran out, unreadable ones). */
  readonly left: number;
  /** Age of the oldest spooled object when the run started, in seconds (0 when the spool was empty). */
  readonly oldestAgeSeconds: number;
  /** Why the run stopped before the end, if it did. */
  readonly stoppedBy?: string;
}

/** Default of {@link RedriveOptions}.maxItems: ten listing pages. */
export const REDRIVE_MAX_ITEMS = 10_000;

/**
 * Moves spooled objects to their queues in receive order: read, send (the events queue claim-checks
 * an event again when it is too large), and only then delete. Idempotent: a run that dies between a
 * send and its delete leaves the object, and the next run sends it again with the same event id (or
 * request id), which consumers and FIFO queues drop; nothing is deleted before SQS has it. The first
 * failed send ends the run (the queue is most likely still down, and the order must hold); the next
 * run starts again from the oldest.
 */
export async function redriveSpool(options: RedriveOptions): Promise<RedriveSummary> {
  const now = options.now ?? Date.now;
  const listed = await options.bucket.list(PREFIXES.spool, options.maxItems ?? REDRIVE_MAX_ITEMS);
  const items = listed
    .flatMap((object) => parseSpoolKey(object.key) ?? [])
    .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || (a.key < b.key ? -1 : 1));
  const [oldest] = items;
  const oldestAgeSeconds = oldest ? Math.max(0, Math.round((now() - oldest.receivedAt.getTime()) / 1000)) : 0;
  let sent = 0;
  const sentBySource: Record<string, number> = {};
  let stoppedBy: string | undefined;
  for (const item of items) {
    if (options.stopAt !== undefined && now() >= options.stopAt) {
      stoppedBy = 'out of time';
      break;
    }
    let send: () => Promise<void>;
    let source: string;
    try {
      ({ send, source } = await sendOf(item, await options.bucket.get(item.key), options));
    } catch (error) {
      options.onUnreadable?.(item, toError(error));
      continue;
    }
    try {
      await send();
    } catch (error) {
      stoppedBy = `send failed: ${toError(error).message}`;
      break;
    }
    await options.bucket.delete(item.key);
    sent++;
    sentBySource[source] = (sentBySource[source] ?? 0) + 1;
  }
  return { sent, sentBySource, left: listed.length - sent, oldestAgeSeconds, ...(stoppedBy && { stoppedBy }) };
}

/** How to send one spooled object (and whose it is), once its body has been checked to be what its key says. */
async function sendOf(item: SpooledItem, bytes: Buffer, options: RedriveOptions): Promise<{ send: () => Promise<void>; source: string }> {
  const body = bytes.toString('utf8');
  const json: unknown = JSON.parse(body);
  if (item.target === 'events') {
    const event = v.parse(CloudEventSchema, json);
    return { send: () => options.events.send(event, body), source: event.source };
  }
  const record = v.parse(QuarantineRecordSchema, json);
  const { quarantine } = options;
  if (!quarantine) throw new Error('no quarantine queue is configured');
  return { send: () => quarantine.keep(record), source: record.source };
}
