import * as v from 'valibot';
import { type CloudEvent, CloudEventSchema } from '../../lib/events/cloud-event.ts';
import { type CallbackHandler, type CallbackHandlerOptions, createCallbackHandler } from '../../lib/http/callback-handler.ts';
import { eventMessage, type OutgoingMessage } from '../../lib/queue/send-event.ts';
import type { Callbacks } from '../../lib/sources/source.ts';
import { createHttpEvent, type HttpEventOptions } from '../local/http-event.ts';

/** What one request did: the answer, and every event it gave the queue. */
export interface Posted {
  readonly status: number | undefined;
  /** The answer's JSON body. */
  readonly answer: unknown;
  /** The events, each read back from its message body and checked against the CloudEvent schema. */
  readonly events: CloudEvent[];
  /** The SQS messages they make: body and message attributes, as `SendMessage` would send them. */
  readonly messages: OutgoingMessage[];
}

/** A sender's real handler on an in-memory queue, for its tests. */
export interface SourceHarness {
  /** Posts through the handler and takes what it queued. */
  post(options: HttpEventOptions): Promise<Posted>;
  /** The handler itself (its queue is the harness's). */
  readonly handler: CallbackHandler;
  /** Takes the messages queued since the last post or drain. */
  drain(): Promise<OutgoingMessage[]>;
}

/**
 * A sender's real handler, everything as deployed but the queue: an in-memory one that keeps each
 * message as `SendMessage` would send it (`eventMessage`, no claim-check bucket). What the sender's
 * parsing, normalizing and envelope make of a request is tested here at the cost of that alone;
 * the way to a real queue is tested end to end elsewhere (the local run, the fuzz, the queue faults).
 */
export function useSourceHarness(callbacks: Callbacks, options: Omit<CallbackHandlerOptions, 'queue'> = {}): SourceHarness {
  const queued: OutgoingMessage[] = [];
  const handler = createCallbackHandler(callbacks, {
    quarantine: false,
    spool: false,
    ...options,
    queue: { send: async (event, body) => void queued.push(await eventMessage(event, body, undefined)) },
  });
  const drain = async () => queued.splice(0, queued.length);
  return {
    handler,
    drain,
    async post(request) {
      await drain();
      const response = await handler(createHttpEvent(request));
      const messages = await drain();
      const events = messages.map((message) => v.parse(CloudEventSchema, JSON.parse(message.body)));
      return { status: response.statusCode, answer: JSON.parse(response.body ?? '{}'), events, messages };
    },
  };
}
