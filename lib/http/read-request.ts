import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { MalformedBodyError, PayloadTooLargeError } from '../errors.ts';

/** Largest body taken, in bytes; any callback of the three senders is far smaller (a few KiB). */
export const MAX_BODY_BYTES = 256 * 1024;

/** The parts of an HTTP API (payload 2.0) or function URL event that the pipeline reads. */
export interface CallbackRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string;
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

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as text: base64-decoded when the event says so, UTF-8 checked (a body that is not UTF-8
 * was damaged, 400), and never larger than {@link MAX_BODY_BYTES} (413).
 */
export function readBody(event: APIGatewayProxyEventV2): string {
  const body = event.body ?? '';
  if (!event.isBase64Encoded) {
    // A string's UTF-8 size is at most 3 bytes per UTF-16 unit: measure only when it could be over.
    if (body.length * 3 > MAX_BODY_BYTES && Buffer.byteLength(body) > MAX_BODY_BYTES) {
      throw tooLarge(Buffer.byteLength(body));
    }
    return body;
  }
  if (Math.floor((body.length * 3) / 4) > MAX_BODY_BYTES + 2) {
    throw tooLarge(Math.floor((body.length * 3) / 4));
  }
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge(bytes.length);
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new MalformedBodyError('body is not valid UTF-8 text', { cause: error });
  }
}

function tooLarge(bytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes`,
  );
}
