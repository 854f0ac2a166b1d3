import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { decodeBody } from '../decode/decode-body.ts';
import {
  CallbackError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  QueueUnavailableError,
  toError,
} from '../errors.ts';
import { type CloudEvent, eventId } from '../events/cloud-event.ts';
import { isTerminal } from '../events/status.ts';
import { type EventQueue, queueFromEnvironment } from '../queue/send-event.ts';
import type { CallbackContext, Source } from '../sources/source.ts';
import { logRequest } from './log.ts';
import { readBody, readRequest } from './read-request.ts';
import { json } from './responses.ts';

/** A Lambda handler for HTTP API (payload 2.0) and function URL events. */
export type CallbackHandler = (
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Largest SQS message the events queue takes (its `MaximumMessageSize`, 1 MiB). */
export const MAX_EVENT_BYTES = 1024 * 1024;

/** Options for {@link createCallbackHandler}; the defaults are what Lambda runs. */
export interface CallbackHandlerOptions {
  /** Where events go; defaults to the SQS queue named by `QUEUE_URL`. */
  readonly queue?: EventQueue;
  /** The clock, for the receive time of payloads that carry none. */
  readonly now?: () => Date;
}

/**
 * The one pipeline every source runs (house-style "Data flow"): read, decode, validate, normalize,
 * enqueue, answer. It answers 200 only once the event is in SQS, 503 when SQS did not take it, and a
 * 4xx with a clear message for input that will never pass (contract §2).
 */
export function createCallbackHandler(
  source: Source,
  options: CallbackHandlerOptions = {},
): CallbackHandler {
  const queue = options.queue ?? queueFromEnvironment();
  const now = options.now ?? (() => new Date());

  return async (event) => {
    const started = performance.now();
    const request = readRequest(event);
    let logged: { type?: string; subject?: string; eventId?: string } = {};
    let response: APIGatewayProxyStructuredResultV2;
    let failure: Error | undefined;
    try {
      const normalized = await accept(event);
      logged = { type: normalized.type, subject: normalized.subject, eventId: normalized.id };
      response = json(200, { ok: true, id: normalized.id });
    } catch (error) {
      failure = toError(error);
      response = errorResponse(failure);
    }
    logRequest({
      route: request.path,
      source: source.name,
      status: response.statusCode ?? 500,
      ms: Math.round((performance.now() - started) * 10) / 10,
      requestId: request.requestId,
      ...logged,
      ...(failure && { error: describe(failure) }),
    });
    return response;

    async function accept(event: APIGatewayProxyEventV2): Promise<CloudEvent> {
      if (request.method !== 'POST') throw new MethodNotAllowedError(request.method);
      const route = source.route(request.path);
      if (!route) throw new NotFoundError(`no ${source.name} callback is served at ${request.path}`);
      const text = readBody(event);
      const labels = labelsOf(request.query);
      const context: CallbackContext = {
        labels,
        receivedAt: now(),
        raw: { contentType: request.contentType, body: text },
      };
      const decoded = decodeBody(text, source.decoders);
      const draft = route.toDraft(decoded.value, context);
      const cloudEvent: CloudEvent = {
        specversion: '1.0',
        id: eventId(source.name, { type: draft.type, labels, payload: decoded.value }),
        source: source.name,
        type: draft.type,
        subject: draft.subject,
        time: draft.time ?? context.receivedAt.toISOString(),
        datacontenttype: 'application/json',
        data: {
          status: draft.status,
          terminal: isTerminal(draft.status),
          sourceStatus: draft.sourceStatus,
          ...(draft.message !== undefined && { message: draft.message }),
          labels,
          ...(draft.steps && { steps: [...draft.steps] }),
          ...draft.extra,
          raw: context.raw,
        },
      };
      const body = JSON.stringify(cloudEvent);
      if (Buffer.byteLength(body) > MAX_EVENT_BYTES) {
        throw new PayloadTooLargeError(
          `the event built from this body is larger than the queue's ${MAX_EVENT_BYTES}-byte message limit`,
        );
      }
      try {
        await queue.send(cloudEvent, body);
      } catch (error) {
        throw new QueueUnavailableError({ cause: error });
      }
      return cloudEvent;
    }
  };
}

/** An error's message with its causes, for the log only. */
function describe(error: Error): string {
  const cause = error.cause instanceof Error ? `: ${describe(error.cause)}` : '';
  return `${error.message}${cause}`;
}

/** Every query parameter but `token` becomes a label; a repeated one keeps its values comma-joined. */
function labelsOf(query: URLSearchParams): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of query) {
    if (key === 'token') continue;
    Object.defineProperty(labels, key, {
      value: Object.hasOwn(labels, key) ? `${labels[key]},${value}` : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return labels;
}

/** Maps an error to its response, in this one place: 4xx say what is wrong, 5xx say nothing internal. */
function errorResponse(error: Error): APIGatewayProxyStructuredResultV2 {
  if (error instanceof CallbackError && error.expose) {
    const issues = 'issues' in error ? error.issues : undefined;
    return json(error.statusCode, { error: error.message, ...(issues !== undefined && { issues }) });
  }
  if (error instanceof QueueUnavailableError) return json(503, { error: error.message });
  return json(500, { error: 'internal error' });
}
