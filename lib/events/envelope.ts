import { type CloudEvent, eventId, type RawBody, type Step, stableStringify } from './cloud-event.ts';
import { isTerminal, type Status } from './status.ts';

/** What a callback brings besides its body: everything the event takes from the request. */
export interface CallbackContext {
  /** Query parameters of the registered URL, except `token` (docs/contract.md, Routes). */
  readonly labels: Readonly<Record<string, string>>;
  /** When the request arrived. */
  readonly receivedAt: Date;
  /** The body exactly as received, with its Content-Type. */
  readonly raw: RawBody;
}

/** The `data` fields a normalizer always gives; the sender's own fields come beside them. */
export interface DraftData {
  readonly status: Status;
  /** The sender's own status value, unchanged. */
  readonly sourceStatus: number | string;
  /** The sender's failure text, whole; absent when it sent none. */
  readonly message?: string | undefined;
  readonly steps?: readonly Step[] | undefined;
}

/**
 * What a route's pure normalizer makes of one valid callback: the event without what the pipeline
 * adds (`id`, `source`, `data.terminal`, `data.labels`, `data.raw`). A sender's normalizer returns
 * `SenderDraft<typeof itsDescriptor>` (`lib/sources/sender.ts`): its event data and one of its event
 * types, so the compiler holds it to what the descriptor declares and consumers get.
 */
export interface EventDraft<Data extends DraftData = DraftData, Type extends string = string> {
  /** One of the sender's event types (its descriptor's routes list them). */
  readonly type: Type;
  readonly subject: string;
  /** When the reported state was reached, if the payload says so (RFC 3339, UTC); else the receive time is used. */
  readonly time?: string | undefined;
  readonly data: Data;
  /**
   * What tells this event apart when the fields the id is made of do not (an event of a kind the
   * sender does not document): it joins the event id.
   */
  readonly identity?: unknown;
}

/** The part of a sender's event data its normalizer gives: all but what the pipeline adds. */
export type DraftOf<Data> = Omit<Data, 'terminal' | 'labels' | 'raw'>;

/** How the envelope treats one sender's callbacks. */
export interface EnvelopeSender {
  /** The event's `source`. */
  readonly name: string;
  /**
   * True for a sender that never sends the same callback twice (Thain): two equal bodies are then
   * two real events (a flow paused twice), so the receive time joins the event id. False for senders
   * that resend (bk-job after a non-200): a resend must keep its id so that consumers drop it.
   */
  readonly deliversOnce: boolean;
}

/**
 * The event id (docs/contract.md, The event): a digest of everything that tells two callbacks apart
 * (type, subject, payload time, sender status, message, steps, labels: two Thain jobs differ only in
 * their labels) and of nothing a resend changes (the receive time, the raw bytes: bk-job's retry
 * differs only in its Content-Type). Thain never resends, so its receive time joins the id.
 */
export function eventIdOf(sender: EnvelopeSender, draft: EventDraft, context: CallbackContext): string {
  const { data } = draft;
  return eventId(sender.name, [
    draft.type,
    draft.subject,
    draft.time ?? null,
    data.sourceStatus,
    data.message ?? null,
    data.steps?.map((step) => [step.id, step.sourceStatus]) ?? null,
    sortedEntries(context.labels),
    draft.identity === undefined ? null : stableStringify(draft.identity),
    sender.deliversOnce ? context.receivedAt.getTime() : null,
  ]);
}

/**
 * The CloudEvents 1.0 event of one callback, in JSON structured mode: the envelope, and `data` with
 * the common fields first (`status`, `terminal`, `sourceStatus`, `message`, `labels`, `steps`), then
 * the sender's own, then `raw`, the body as received. `time` is the payload's, else the receive time.
 */
export function toCloudEvent(sender: EnvelopeSender, draft: EventDraft, context: CallbackContext): CloudEvent {
  const { status, sourceStatus, message, steps, ...own } = draft.data;
  return {
    specversion: '1.0',
    id: eventIdOf(sender, draft, context),
    source: sender.name,
    type: draft.type,
    subject: draft.subject,
    time: draft.time ?? context.receivedAt.toISOString(),
    datacontenttype: 'application/json',
    data: {
      status,
      terminal: isTerminal(status),
      sourceStatus,
      ...(message !== undefined && { message }),
      labels: context.labels,
      ...(steps && { steps: [...steps] }),
      ...own,
      raw: context.raw,
    },
  };
}

function sortedEntries(record: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
