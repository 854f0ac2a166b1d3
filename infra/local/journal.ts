import { readAccessSettings } from '../../lib/config/settings.ts';
import { parseSpoolKey } from '../../lib/store/spool.ts';
import type { AwsCall } from './observe-aws.ts';

/** A message a handler sent while serving one request, as SendMessage took it. */
export interface SentMessage {
  /** Which of the run's queues: `events`, `quarantine`, or the queue's name when it is neither. */
  readonly queue: string;
  readonly body: string;
  /** Its String message attributes (`source`, `type`, `status`, ...). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** An object a handler wrote to the payload bucket while serving one request. */
export interface WrittenObject {
  readonly key: string;
  /** Its bytes as text (every object the pipeline writes but a large quarantined body is JSON). */
  readonly text?: string;
  readonly size: number;
}

/**
 * What became of a request:
 * - `event`: an event is on the events queue (answered 200);
 * - `spooled`: SQS did not take the event, the spool did (answered 200; the redrive sends it on);
 * - `quarantined`: refused (400, 413, 422 or a 500) and kept in the quarantine (or spooled for it);
 * - `refused`: refused and not kept (401, 403, 404, 405: nothing to recover);
 * - `unrouted`: no route serves the path (404 from the local server itself);
 * - `failed`: neither SQS nor the spool took it (503), or the handler failed.
 */
export type Outcome = 'event' | 'spooled' | 'quarantined' | 'refused' | 'unrouted' | 'failed';

/** The route a request matched on the local server. */
export interface MatchedRoute {
  /** The HTTP API route key (`ANY /callbacks/thain/{kind}`), or `$default` on a function URL. */
  readonly routeKey: string;
  /** The function (`thain`). */
  readonly function: string;
  /** Its sender (`thain`), when it is a callback function. */
  readonly source?: string;
  /** Whether it came in on the function URL (`/url/<function>/…`). */
  readonly functionUrl: boolean;
  /** The path the function sees (on a function URL, what follows `/url/<function>`). */
  readonly path: string;
}

/**
 * One request the local run served, from its arrival to its answer: the raw request (headers in
 * the order they came, exact body bytes), the route, the answer, and what the handler sent to SQS
 * and wrote to the bucket on its behalf. Kept in memory for the inspector page and `npm start`'s
 * lines, and the hook for anything else that wants to count or show what the local run did.
 */
export interface ServedRequest {
  /** 1, 2, 3, … in order of arrival. */
  readonly seq: number;
  /** The request id the handler was given (a quarantine record names it). */
  readonly requestId: string;
  readonly receivedAt: Date;
  readonly method: string;
  /** The path on the local server (`/callbacks/thain/flow`, `/url/thain/flow`). */
  readonly path: string;
  /** The query string as it came, without `?` (it may hold a `token`: never shown as it is). */
  readonly query: string;
  /** Header lines in the order the client sent them, names as it wrote them. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  readonly route?: MatchedRoute;
  /** The request this one re-sent (the inspector's resend button), if any. */
  readonly resentFrom?: number;
  /** Everything below is set once the answer is sent. */
  readonly done: boolean;
  readonly status: number;
  /** The answer's body. */
  readonly answer: string;
  /** Time from the whole body read to the answer, in ms. */
  readonly ms: number;
  readonly outcome: Outcome;
  readonly messages: readonly SentMessage[];
  readonly objects: readonly WrittenObject[];
  /** AWS calls that failed while serving it (`SendMessageCommand: TimeoutError ...`), in order. */
  readonly failures: readonly string[];
  /** The event's id (the answer's `id`), on a 200. */
  readonly eventId?: string;
  /** The first earlier request of this run whose event had the same id: a consumer sees a duplicate. */
  readonly duplicateOf?: number;
  /** Each time its quarantine record was run again through the code (the inspector's replay button). */
  readonly replays: readonly ReplayNote[];
}

/** One replay of a quarantined request's record. */
export interface ReplayNote {
  readonly at: Date;
  /** The answer the code gives the record now: 200 when it became an event. */
  readonly status: number;
  /** Why it still fails (empty on a 200). */
  readonly error: string;
  /** The event it became: its id and the message body sent. */
  readonly eventId?: string;
  readonly eventBody?: string;
}

/** Where the run's queues are, to tell an event from a quarantine record. */
export interface JournalQueues {
  readonly events?: string | undefined;
  readonly quarantine?: string | undefined;
}

/** Options of {@link createJournal}. */
export interface JournalOptions {
  /** Most requests kept; older ones are forgotten first. */
  readonly maxRequests?: number;
  /** Most body bytes kept in all; older requests are forgotten first. */
  readonly maxBodyBytes?: number;
}

/** A request while it is served: what {@link Journal.begin} returns. */
export interface PendingRequest {
  readonly seq: number;
  /** Records an AWS call made for it (see `withAwsCalls`). */
  observe(call: AwsCall): void;
  /** Records the answer; the request is then complete and listeners are told. */
  finish(answer: { status: number; body: string; ms: number }): ServedRequest;
}

/** The requests of one local run, newest last, and who wants to hear of each. */
export interface Journal {
  begin(
    request: Omit<ServedRequest, 'seq' | 'done' | 'status' | 'answer' | 'ms' | 'outcome' | 'messages' | 'objects' | 'failures' | 'replays'>,
  ): PendingRequest;
  /** Adds a replay to a kept request, and tells the listeners. */
  noteReplay(seq: number, replay: ReplayNote): void;
  /** The requests kept, oldest first. */
  list(): readonly ServedRequest[];
  get(seq: number): ServedRequest | undefined;
  /** Calls `listener` with each request when it arrives and again when it is answered; returns the unsubscribe. */
  subscribe(listener: (request: ServedRequest) => void): () => void;
}

const DEFAULT_MAX_REQUESTS = 500;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** A new, empty journal. `queues` is read at each request (the run sets the queue URLs as it starts). */
export function createJournal(queues: () => JournalQueues, options: JournalOptions = {}): Journal {
  const maxRequests = options.maxRequests ?? DEFAULT_MAX_REQUESTS;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const kept: ServedRequest[] = [];
  let bodyBytes = 0;
  let seq = 0;
  /** The first request of each event id, so a later one is marked as its duplicate. */
  const firstOfId = new Map<string, number>();
  const listeners = new Set<(request: ServedRequest) => void>();

  const tell = (request: ServedRequest) => {
    for (const listener of listeners) listener(request);
  };
  const replace = (request: ServedRequest) => {
    const index = kept.findIndex((candidate) => candidate.seq === request.seq);
    if (index >= 0) kept[index] = request;
  };

  return {
    begin(request) {
      const pending: ServedRequest = {
        ...request,
        seq: ++seq,
        done: false,
        status: 0,
        answer: '',
        ms: 0,
        outcome: 'failed',
        messages: [],
        objects: [],
        failures: [],
        replays: [],
      };
      kept.push(pending);
      bodyBytes += pending.body.length;
      while (kept.length > maxRequests || (bodyBytes > maxBodyBytes && kept.length > 1)) {
        const dropped = kept.shift();
        if (dropped) bodyBytes -= dropped.body.length;
      }
      const messages: SentMessage[] = [];
      const objects: WrittenObject[] = [];
      const failures: string[] = [];
      tell(pending);
      return {
        seq: pending.seq,
        observe(call) {
          if (call.error) {
            failures.push(`${call.command.replace(/Command$/, '')}: ${call.error.name}: ${call.error.message.split('\n')[0]}`);
            return;
          }
          const message = sentMessageOf(call, queues());
          if (message) messages.push(message);
          const object = writtenObjectOf(call);
          if (object) objects.push(object);
        },
        finish(answer) {
          const eventId = answer.status === 200 ? answerId(answer.body) : undefined;
          const first = eventId === undefined ? undefined : firstOfId.get(eventId);
          if (eventId !== undefined && first === undefined) firstOfId.set(eventId, pending.seq);
          const done: ServedRequest = {
            ...pending,
            done: true,
            status: answer.status,
            answer: answer.body,
            ms: answer.ms,
            outcome: outcomeOf(pending.route, answer.status, messages, objects),
            messages,
            objects,
            failures,
            ...(eventId !== undefined && { eventId }),
            ...(first !== undefined && { duplicateOf: first }),
          };
          replace(done);
          tell(done);
          return done;
        },
      };
    },
    noteReplay(wanted, replay) {
      const request = kept.find((candidate) => candidate.seq === wanted);
      if (!request) return;
      const noted = { ...request, replays: [...request.replays, replay] };
      replace(noted);
      tell(noted);
    },
    list: () => kept,
    get: (wanted) => kept.find((request) => request.seq === wanted),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function outcomeOf(
  route: MatchedRoute | undefined,
  status: number,
  messages: readonly SentMessage[],
  objects: readonly WrittenObject[],
): Outcome {
  if (!route) return 'unrouted';
  const spooled = (target: string) => objects.some((object) => parseSpoolKey(object.key)?.target === target);
  if (status === 200) return spooled('events') && !messages.some((m) => m.queue === 'events') ? 'spooled' : 'event';
  if (messages.some((m) => m.queue === 'quarantine') || spooled('quarantine')) return 'quarantined';
  return status >= 500 ? 'failed' : 'refused';
}

/** The `id` of a 200 answer (`{"ok":true,"id":"…"}`). */
function answerId(body: string): string | undefined {
  const id = jsonObjectOf(body)?.id;
  return typeof id === 'string' ? id : undefined;
}

/** Reads a field of an SDK command's input, whose type the observer does not know. */
function field(input: unknown, name: string): unknown {
  if (typeof input !== 'object' || input === null) return undefined;
  return Object.entries(input).find(([key]) => key === name)?.[1];
}

/** The message a SendMessage call sent, or undefined for another call. */
export function sentMessageOf(call: AwsCall, queues: JournalQueues): SentMessage | undefined {
  if (call.command !== 'SendMessageCommand') return undefined;
  const url = String(field(call.input, 'QueueUrl') ?? '');
  const attributes: Record<string, string> = {};
  const declared = field(call.input, 'MessageAttributes');
  if (typeof declared === 'object' && declared !== null) {
    for (const [name, value] of Object.entries(declared)) attributes[name] = String(field(value, 'StringValue') ?? '');
  }
  return {
    queue: url === queues.events ? 'events' : url === queues.quarantine ? 'quarantine' : (url.split('/').pop() ?? url),
    body: String(field(call.input, 'MessageBody') ?? ''),
    attributes,
  };
}

function writtenObjectOf(call: AwsCall): WrittenObject | undefined {
  if (call.command !== 'PutObjectCommand') return undefined;
  const key = String(field(call.input, 'Key') ?? '');
  const body = field(call.input, 'Body');
  const bytes = Buffer.isBuffer(body) ? body : typeof body === 'string' ? Buffer.from(body) : undefined;
  // A quarantined body is the sender's bytes: shown from the request itself, not kept twice.
  const text = bytes && !key.startsWith('quarantine/') ? bytes.toString('utf8') : undefined;
  return { key, size: bytes?.length ?? 0, ...(text !== undefined && { text }) };
}

/** The query as it is shown (the inspector, `npm start`'s lines): every `token` value replaced, however its name is encoded. */
export function shownQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => ([...new URLSearchParams(pair).keys()][0] === 'token' ? 'token=REDACTED' : pair))
    .join('&');
}

/** The event a request produced (from its message, or the spool when SQS did not take it), as JSON text. */
export function eventTextOf(served: ServedRequest): string | undefined {
  const message = served.messages.find((candidate) => candidate.queue === 'events');
  if (message) {
    // A claim-checked event: the whole one is the object it names, written just before.
    const whole = served.objects.find((object) => object.key.startsWith('events/') && object.text !== undefined);
    return whole?.text ?? message.body;
  }
  return served.objects.find((object) => parseSpoolKey(object.key)?.target === 'events')?.text;
}

/** The quarantine record a request left, as JSON text. */
export function recordTextOf(served: ServedRequest): string | undefined {
  return (
    served.messages.find((candidate) => candidate.queue === 'quarantine')?.body ??
    served.objects.find((object) => parseSpoolKey(object.key)?.target === 'quarantine')?.text
  );
}

/** A JSON object's fields, or undefined when the text is not a JSON object. */
export function jsonObjectOf(text: string | undefined): Readonly<Record<string, unknown>> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The tokens a request's views and samples must not show: its own `token` values and those its sender's
 * `TOKENS_<SOURCE>` lists (tokens kept in SSM are not known here; the pipeline has replaced them in
 * every event and record already).
 */
export function secretsOf(served: Pick<ServedRequest, 'query' | 'route'>): string[] {
  const own = new URLSearchParams(served.query).getAll('token');
  const source = served.route?.source;
  if (source === undefined) return own;
  try {
    const settings = readAccessSettings(source, process.env);
    return [...own, ...(settings.tokens.from === 'variable' ? settings.tokens.tokens : [])];
  } catch {
    return own;
  }
}
