import type { CloudEvent } from '../../lib/events/cloud-event.ts';
import { createCallbackHandler } from '../../lib/http/callback-handler.ts';
import { loadCallbacks } from '../../lib/sources/load-callbacks.ts';
import { SENDERS, type SourceName } from '../../lib/sources/registry.ts';
import type { Callbacks } from '../../lib/sources/source.ts';
import { createHttpEvent, type HttpEventOptions } from '../local/http-event.ts';
import type { HttpFixture } from './fixtures.ts';
import { validSamples } from './route-callbacks.ts';

/** What the real handler makes of one request, with nothing sent anywhere. */
export interface Handled {
  readonly status: number;
  /** The answer's JSON body. */
  readonly answer: unknown;
  /** The event it would put on the queue (a 200), and the exact message body. */
  readonly event?: CloudEvent;
  readonly body?: string;
}

/**
 * Runs one request through a sender's real handler with an in-memory queue: no SQS, no quarantine,
 * no spool, no token check, and `now` as the receive time. What a test of a sender's samples and
 * normalizers needs, at the cost of the decoding and normalizing alone.
 */
export async function handle(callbacks: Callbacks, request: HttpEventOptions, now?: Date): Promise<Handled> {
  const sent: Array<{ event: CloudEvent; body: string }> = [];
  const handler = createCallbackHandler(callbacks, {
    queue: { send: async (event, body) => void sent.push({ event, body }) },
    quarantine: false,
    spool: false,
    access: false,
    ...(now && { now: () => now }),
  });
  const response = await handler(createHttpEvent(request));
  const [message] = sent;
  return {
    status: response.statusCode ?? 500,
    answer: JSON.parse(response.body ?? '{}'),
    ...(message && { event: message.event, body: message.body }),
  };
}

/** A sample as the request its request line and headers say: its path, query, Content-Type and exact bytes. */
export function sampleRequest(sample: HttpFixture, query = sample.query): HttpEventOptions {
  return { body: sample.body, contentType: sample.contentType, path: sample.path, query };
}

/** The event one valid sample makes on its own route; throws with the answer when it is not a 200. */
export async function sampleEvent(
  callbacks: Callbacks,
  sample: HttpFixture,
  options: { query?: string; now?: Date } = {},
): Promise<CloudEvent> {
  const handled = await handle(callbacks, sampleRequest(sample, options.query), options.now);
  if (handled.status !== 200 || !handled.event) {
    throw new Error(`${callbacks.sender.name}/${sample.name}: answered ${handled.status} ${JSON.stringify(handled.answer)}`);
  }
  return handled.event;
}

/** The event the real handler builds from one valid sample, and the exact SQS message body. */
export interface SampleEvent {
  readonly source: SourceName;
  readonly sample: string;
  readonly path: string;
  readonly event: CloudEvent;
  readonly body: string;
}

/**
 * Runs every valid sample of every registered sender (`events/<name>/*.http` but `*-invalid-*`)
 * through its real handler, posted to the route its request line names, with its own query unless
 * `query` replaces it.
 */
export async function sampleEvents(options: { query?: string; now?: Date } = {}): Promise<SampleEvent[]> {
  const results: SampleEvent[] = [];
  for (const sender of SENDERS) {
    const callbacks = await loadCallbacks(sender.name);
    for (const sample of validSamples(sender.name)) {
      const handled = await handle(callbacks, sampleRequest(sample, options.query), options.now);
      if (handled.status !== 200 || !handled.event || handled.body === undefined) {
        throw new Error(`${sender.name}/${sample.name}: answered ${handled.status} ${JSON.stringify(handled.answer)}`);
      }
      results.push({ source: sender.name, sample: sample.name, path: sample.path, event: handled.event, body: handled.body });
    }
  }
  return results;
}
