import type { Message } from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import { afterAll, beforeAll } from 'vitest';
import { type CloudEvent, CloudEventSchema } from '../../lib/events/cloud-event.ts';
import { type CallbackHandler, type CallbackHandlerOptions, createCallbackHandler } from '../../lib/http/callback-handler.ts';
import { createSqsQueue } from '../../lib/queue/send-event.ts';
import type { Callbacks } from '../../lib/sources/source.ts';
import { type HttpEventOptions, createHttpEvent } from '../local/http-event.ts';
import { type TestSqs, startTestSqs } from './sqs.ts';

/** What one request did: the answer, and every event it put on the (real, local) queue. */
export interface Posted {
  readonly status: number | undefined;
  /** The answer's JSON body. */
  readonly answer: unknown;
  /** The queued events, each checked against the CloudEvent schema. */
  readonly events: CloudEvent[];
  readonly messages: Message[];
}

/** A source's real handler on a real local SQS queue, for a test file. */
export interface SourceHarness {
  /** Posts through the handler and drains the queue. */
  post(options: HttpEventOptions): Promise<Posted>;
  readonly sqs: TestSqs;
  readonly queueUrl: string;
  readonly handler: CallbackHandler;
}

/**
 * Starts a local SQS queue and the source's handler before the file's tests and stops them after.
 * Only use the returned object inside tests (its fields are set in `beforeAll`).
 */
export function useSourceHarness(callbacks: Callbacks, options: Omit<CallbackHandlerOptions, 'queue'> = {}): SourceHarness {
  let sqs: TestSqs | undefined;
  let queueUrl = '';
  let handler: CallbackHandler | undefined;
  beforeAll(async () => {
    sqs = await startTestSqs(['events']);
    queueUrl = await sqs.queueUrl('events');
    handler = createCallbackHandler(callbacks, { ...options, queue: createSqsQueue({ queueUrl, client: sqs.client }) });
  });
  afterAll(() => sqs?.close());
  const ready = () => {
    if (!sqs || !handler) throw new Error('the harness is used outside a test');
    return { sqs, handler };
  };
  return {
    get sqs() {
      return ready().sqs;
    },
    get queueUrl() {
      return queueUrl;
    },
    get handler() {
      return ready().handler;
    },
    async post(request) {
      const { sqs, handler } = ready();
      const response = await handler(createHttpEvent(request));
      const messages = await sqs.drain(queueUrl);
      const events = messages.map((m) => v.parse(CloudEventSchema, JSON.parse(m.Body ?? '')));
      return { status: response.statusCode, answer: JSON.parse(response.body ?? '{}'), events, messages };
    },
  };
}
