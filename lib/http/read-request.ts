import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PayloadTooLargeError } from '../errors.ts';

/**
 * Largest request payload Lambda takes for a synchronous invocation, in bytes: 6 MB, which the
 * Invoke API counts as 6,291,456 bytes ("Request must be smaller than 6291456 bytes for the
 * InvokeFunction operation"). Both front doors (an HTTP API route, a function URL) invoke the
 * function synchronously with the whole request in one event, so no body can reach the handler
 * beyond it: HTTP API's own 10 MB limit is cut by this one.
 */
export const LAMBDA_PAYLOAD_BYTES = 6_291_456;

/**
 * Largest body taken, as it sits in the event, in bytes: what Lambda can be handed. A body handed
 * over as text can be nearly that size; one handed over base64-encoded (binary Content-Types) is
 * 4/3 of its bytes there, so at most about 4.7 MB of bytes. Real callbacks stay far below: a
 * 30-minute speech-recognition result is about 450 KB, a Thain job's whole stderr a few MB.
 */
export const MAX_BODY_BYTES = LAMBDA_PAYLOAD_BYTES;

/** The parts of an HTTP API (payload 2.0) or function URL event that the pipeline reads. */
export interface CallbackRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string;
  /**
   * The Content-Encoding header, lower-cased (`gzip`), or empty when there is none or it is
   * `identity`: the body is then as the sender wrote it.
   */
  readonly contentEncoding: string;
  /** Every query parameter; `token` is among them until the pipeline removes it. */
  readonly query: URLSearchParams;
  readonly sourceIp: string;
  readonly requestId: string;
}

/** Reads method, path, headers and query of an HTTP API v2 or function URL event (the same shape). */
export function readRequest(event: APIGatewayProxyEventV2): CallbackRequest {
  const http = event.requestContext?.http;
  return {
    method: (http?.method ?? 'POST').toUpperCase(),
    path: event.rawPath ?? http?.path ?? '/',
    contentType: headerValue(event.headers, 'content-type'),
    contentEncoding: headerValue(event.headers, 'content-encoding')
      .split(',')
      .map((coding) => coding.trim().toLowerCase())
      .filter((coding) => coding !== '' && coding !== 'identity')
      .join(', '),
    query: new URLSearchParams(event.rawQueryString ?? ''),
    sourceIp: http?.sourceIp ?? '',
    requestId: event.requestContext?.requestId ?? '',
  };
}

function headerValue(headers: APIGatewayProxyEventV2['headers'] | undefined, name: string): string {
  if (!headers) return '';
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value ?? '';
  }
  return '';
}

/**
 * The body's exact bytes: base64-decoded when the event says so, never more than the event could
 * carry ({@link MAX_BODY_BYTES}, else 413). Reading them as text is the decoders' business, by the
 * encoding the body declares (`decode/charset.ts`).
 */
export function readBody(event: APIGatewayProxyEventV2): Buffer {
  const body = event.body ?? '';
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit: measure only when it could be over.
  const delivered = body.length * 3 > MAX_BODY_BYTES ? Buffer.byteLength(body) : body.length;
  if (delivered > MAX_BODY_BYTES) {
    // "More than": what reaches here may be cut at one byte over (npm start keeps no more), so its
    // own size says nothing about what the sender sent.
    throw new PayloadTooLargeError(
      `body is more than ${MAX_BODY_BYTES} bytes as handed to the function${event.isBase64Encoded ? ' (base64-encoded)' : ''}, ` +
        'the limit of what Lambda takes in one invocation',
    );
  }
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/**
 * The body's size in bytes as received (base64 decoded), without decoding it: what the `BodyBytes`
 * metric reports for every request, including those refused before their body is read.
 */
export function bodyBytesOf(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): number {
  const body = event.body ?? '';
  if (!event.isBase64Encoded) return Buffer.byteLength(body);
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((body.length * 3) / 4) - padding);
}
