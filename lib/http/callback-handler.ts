import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { rawBodyOf } from '../decode/charset.ts';
import {
  CallbackError,
  clip,
  InvalidPayloadError,
  issueLine,
  MalformedBodyError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  QueueUnavailableError,
  toError,
} from '../errors.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import type { CallbackContext } from '../events/envelope.ts';
import { metricsTargetFrom } from '../metrics/emf.ts';
import { type Quarantine, type QuarantineRecord, quarantineFromEnvironment } from '../queue/quarantine.ts';
import { type EventQueue, queueFromEnvironment, travelsByReference } from '../queue/send-event.ts';
import { type Callbacks, normalizeCallback } from '../sources/source.ts';
import { bucketFromEnvironment } from '../store/payload-bucket.ts';
import { createSpool, type Spool, type SpoolTarget } from '../store/spool.ts';
import { type AccessPolicy, authorize, policyFromEnvironment } from './authorize.ts';
import { labelsOf, MAX_REQUEST_TOKENS, tokenValues } from './labels.ts';
import { describeError, logRequest } from './log.ts';
import { bodyBytesOf, type CallbackRequest, readBody, readRequest } from './read-request.ts';
import { redactSecrets, redactText } from './redact.ts';
import { json } from './responses.ts';

/** What became of one request's callback, beyond its answer: for its log line and metrics. */
interface Trail {
  /** SQS did not take the event (or quarantine record) in time and the spool did: why. */
  spooled?: Error;
  /** The callback was kept in the quarantine (its queue, or the spool). */
  quarantined?: true;
  /** The event went by reference, whole in the payload bucket. */
  claimChecked?: true;
}

/** A Lambda handler for HTTP API (payload 2.0) and function URL events. */
export type CallbackHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Options for {@link createCallbackHandler}; the defaults are what Lambda runs. */
export interface CallbackHandlerOptions {
  /** Where events go; defaults to the SQS queue named by `QUEUE_URL`. */
  readonly queue?: EventQueue;
  /**
   * Where authenticated callbacks that fail decoding or validation are kept; defaults to the queue
   * named by `QUARANTINE_QUEUE_URL`, or none. `false`: none (the replay tool, so nothing loops).
   */
  readonly quarantine?: Quarantine | false;
  /**
   * Where an event (or a rejected callback's record) goes when SQS did not take it in time, so the
   * callback can still be answered 200; defaults to the spool in the bucket named by
   * `PAYLOAD_BUCKET`, or none. `false`: none (the replay tool: a failure there is reported, not spooled).
   */
  readonly spool?: Spool | false;
  /** Who may call; defaults to `TOKENS_<SOURCE>` and `ALLOW_CIDRS_<SOURCE>`. `false`: anyone. */
  readonly access?: AccessPolicy | false;
  /** The clock, for the receive time of payloads that carry none. */
  readonly now?: () => Date;
}

/**
 * The one pipeline every source runs: check, read, decode, validate, normalize, enqueue, answer.
 * It answers 200 only once the event is durable: in SQS (its whole bytes in the payload bucket when
 * it is too large for one message), or, when SQS did not take it in time, in the spool, from which
 * the redrive sends it on. 503 only when both failed; a 4xx with a clear message for input that will
 * never pass. Input that fails after the caller proved who it is goes to the quarantine queue (or,
 * when that queue fails, to the spool), so that a parser fix can recover it; if that fails too the
 * answer is 503, so the sender tries again.
 */
export function createCallbackHandler(callbacks: Callbacks, options: CallbackHandlerOptions = {}): CallbackHandler {
  const source = callbacks.sender;
  // Built once per container: clients, policy and configuration are reused by every request.
  const bucket = bucketFromEnvironment();
  const queue = options.queue ?? queueFromEnvironment(bucket);
  const quarantine = options.quarantine === false ? undefined : (options.quarantine ?? quarantineFromEnvironment(bucket));
  const spool = options.spool === false ? undefined : (options.spool ?? (bucket && createSpool(bucket)));
  const access = options.access === false ? undefined : (options.access ?? policyFromEnvironment(source.name));
  const now = options.now ?? (() => new Date());
  const metrics = metricsTargetFrom(process.env);

  return async (event) => {
    const started = performance.now();
    const receivedAt = now();
    const request = readRequest(event);
    const trail: Trail = {};
    let response: APIGatewayProxyStructuredResultV2;
    let accepted: CloudEvent | undefined;
    let failure: Error | undefined;
    try {
      accepted = await accept(event, request, receivedAt, trail);
      response = json(200, { ok: true, id: accepted.id });
    } catch (error) {
      failure = toError(error);
      response = errorResponse(failure);
    }
    logRequest(
      {
        // The matched route, never the raw path (on a function URL the path is the sender's).
        route: event.routeKey ?? '$default',
        source: source.name,
        status: response.statusCode ?? 500,
        ms: Math.round((performance.now() - started) * 10) / 10,
        requestId: request.requestId,
        bodyBytes: bodyBytesOf(event),
        ...(accepted && { type: accepted.type, eventId: accepted.id }),
        ...(trail.spooled && { spooled: true }),
        ...(trail.quarantined && { quarantined: true }),
        ...(trail.claimChecked && { claimChecked: true }),
        // Answered 200 from the spool: the log says why SQS did not take it.
        ...(trail.spooled && accepted && { error: describeError(new QueueUnavailableError({ cause: trail.spooled })) }),
        ...(failure && { error: describeError(failure) }),
      },
      metrics,
    );
    return response;
  };

  async function accept(event: APIGatewayProxyEventV2, request: CallbackRequest, receivedAt: Date, trail: Trail): Promise<CloudEvent> {
    if (request.method !== 'POST') throw new MethodNotAllowedError(request.method);
    const route = callbacks.route(request.path);
    // The answer does not repeat the path: a token put in it by mistake must not echo anywhere.
    const notFound = () => new NotFoundError(`no ${source.name} callback is served at this path`);
    if (access) {
      try {
        authorize(access, request.query, request.sourceIp);
      } catch (error) {
        // At a path nothing serves, a caller who is not let in learns nothing more than the 404.
        throw route ? error : notFound();
      }
    }
    // A sender may repeat its registered URL, token included, in the body: every token is replaced
    // before anything is parsed or stored, so no event, quarantine record or object carries one.
    const secrets = [...(access ? access.tokens : []), ...[...new Set(tokenValues(request.query))].slice(0, MAX_REQUEST_TOKENS)];
    const received = readBody(event);
    const redaction = secrets.length > 0 ? redactSecrets(received, secrets, request.contentType) : undefined;
    const bytes = redaction?.bytes ?? received;
    const labels = labelsOf(request.query, secrets);
    // The exact bytes, kept whatever happens next: text when they are UTF-8, else base64.
    const raw = rawBodyOf(bytes, request.contentType);
    const context: CallbackContext = { labels, receivedAt, raw: redaction?.redacted ? { ...raw, redacted: true } : raw };
    let cloudEvent: CloudEvent;
    let body: string;
    try {
      // A mistyped URL (`/callbacks/thain/flwo`) still reached this sender: its callback is kept,
      // so that the quarantine alarm tells someone and nothing is lost.
      if (!route) throw notFound();
      if (request.contentEncoding !== '') {
        const coding = request.contentEncoding;
        throw new MalformedBodyError(
          `body is ${coding.includes(',') ? 'compressed' : `${coding}-compressed`} (Content-Encoding: ${coding}); send it uncompressed`,
          { problem: 'compressed' },
        );
      }
      cloudEvent = normalizeCallback(callbacks, route, bytes, request.contentType, context);
      body = JSON.stringify(cloudEvent);
    } catch (error) {
      // Anything but a plain "this body is wrong" is our bug: keep the callback all the same.
      const failure = error instanceof CallbackError ? error : new Error('internal error', { cause: error });
      await keep(failure, request, context, secrets, trail);
      throw failure;
    }
    const sent = cloudEvent;
    try {
      const spooled = await durably('events', receivedAt, sent.id, body, () => queue.send(sent, body));
      if (spooled) trail.spooled = spooled;
      // What the queue sent as a reference; a spooled event is claim-checked when it is redriven.
      else if (travelsByReference(sent, body)) trail.claimChecked = true;
      return sent;
    } catch (error) {
      // Too large for one message and no bucket to hold it: a 413 like any body we cannot carry.
      if (error instanceof PayloadTooLargeError) await keep(error, request, context, secrets, trail);
      throw error;
    }
  }

  /**
   * Runs `send` (to SQS); when it fails, writes `body` to the spool instead. Resolves once one of
   * them holds it (with the SQS failure when it was the spool), else throws a 503.
   */
  async function durably(
    target: SpoolTarget,
    receivedAt: Date,
    id: string,
    body: string,
    send: () => Promise<void>,
  ): Promise<Error | undefined> {
    try {
      await send();
      return undefined;
    } catch (error) {
      if (error instanceof PayloadTooLargeError) throw error;
      if (!spool) throw new QueueUnavailableError({ cause: error });
      try {
        await spool.keep(target, receivedAt, id, body);
        return toError(error);
      } catch (spoolError) {
        throw new QueueUnavailableError({ cause: new AggregateError([error, spoolError], 'neither SQS nor the spool took it') });
      }
    }
  }

  /** Quarantines a rejected callback (in the spool if the quarantine queue fails); else a 503, so nothing is lost. */
  async function keep(
    failure: Error,
    request: CallbackRequest,
    context: CallbackContext,
    secrets: readonly string[],
    trail: Trail,
  ): Promise<void> {
    if (!quarantine) return;
    const quarantined =
      failure instanceof MalformedBodyError ||
      failure instanceof InvalidPayloadError ||
      failure instanceof PayloadTooLargeError ||
      failure instanceof NotFoundError;
    const status = failure instanceof CallbackError ? failure.statusCode : 500;
    if (!quarantined && status !== 500) return;
    const record: QuarantineRecord = {
      source: source.name,
      // On a function URL the path is the sender's: a token put there by mistake is not kept.
      route: redactText(request.path, secrets),
      status,
      error: clip(failure.message),
      ...(failure instanceof InvalidPayloadError && {
        issues: failure.issues.map(issueLine),
        ...(failure.issueCount !== undefined && { issueCount: failure.issueCount }),
      }),
      labels: context.labels,
      raw: context.raw,
      receivedAt: context.receivedAt.toISOString(),
      requestId: request.requestId,
    };
    const id = request.requestId || `${context.receivedAt.getTime()}`;
    const spooled = await durably('quarantine', context.receivedAt, id, JSON.stringify(record), () => quarantine.keep(record));
    trail.quarantined = true;
    if (spooled) trail.spooled = spooled;
  }
}

/** Maps an error to its response, in this one place: 4xx say what is wrong, 5xx say nothing internal. */
function errorResponse(error: Error): APIGatewayProxyStructuredResultV2 {
  if (error instanceof CallbackError && error.expose) {
    // InvalidPayloadError keeps at most ISSUE_LIMITS of them; each line is clipped.
    const issues = error instanceof InvalidPayloadError ? error.issues.map(issueLine) : undefined;
    return json(error.statusCode, { error: clip(error.message), ...(issues !== undefined && { issues }) });
  }
  if (error instanceof QueueUnavailableError) return json(503, { error: error.message });
  return json(500, { error: 'internal error' });
}
