import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** What a test says about a request; everything else gets the value API Gateway would give. */
export interface HttpEventOptions {
  readonly body?: string | Buffer;
  readonly contentType?: string;
  readonly method?: string;
  /** The request path, e.g. `/callbacks/bk-job`. */
  readonly path?: string;
  /** The raw query string, without `?`. */
  readonly query?: string;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Record<string, string>;
  readonly sourceIp?: string;
  /** `httpApi` (default): a route of the HTTP API; `functionUrl`: a Lambda function URL. */
  readonly frontDoor?: 'httpApi' | 'functionUrl';
  /** The HTTP API route key (`ANY /callbacks/thain/{kind}`); defaults to method and path. */
  readonly routeKey?: string;
  readonly requestId?: string;
}

/**
 * Builds the event Lambda receives from an HTTP API (payload 2.0) route or a function URL: the two
 * share one shape and differ in `routeKey`, `domainName` and `apiId`.
 */
export function createHttpEvent(options: HttpEventOptions = {}): APIGatewayProxyEventV2 {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/';
  const query = options.query ?? '';
  const base64 = options.isBase64Encoded ?? Buffer.isBuffer(options.body);
  const body = options.body === undefined ? undefined : base64 ? Buffer.from(options.body).toString('base64') : options.body.toString();
  const functionUrl = options.frontDoor === 'functionUrl';
  const routeKey = functionUrl ? '$default' : (options.routeKey ?? `${method} ${path}`);
  const headers: Record<string, string> = {
    host: functionUrl ? 'abc123.lambda-url.us-east-1.on.aws' : 'api123.execute-api.us-east-1.amazonaws.com',
    ...(options.contentType !== undefined && { 'content-type': options.contentType }),
    ...Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: query,
    headers,
    requestContext: {
      accountId: functionUrl ? 'anonymous' : '123456789012',
      apiId: functionUrl ? 'abc123' : 'api123',
      domainName: headers.host ?? '',
      domainPrefix: functionUrl ? 'abc123' : 'api123',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: options.sourceIp ?? '203.0.113.7',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: options.requestId ?? crypto.randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: base64,
  };
  if (body !== undefined) event.body = body;
  if (query) {
    event.queryStringParameters = Object.fromEntries(new URLSearchParams(query));
  }
  return event;
}

/** Content types a function URL or the HTTP API hands over as text; anything else arrives base64-encoded. */
export const TEXT_TYPES = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+(json|xml))/i;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Whether a front door hands a body over as text: a text Content-Type, and bytes that are UTF-8.
 * Other bytes go base64-encoded, so the handler sees them exactly (AWS does not document what its
 * front doors make of non-UTF-8 bytes under a text Content-Type; the handler keeps what it is given).
 */
export function handsOverAsText(body: Uint8Array, contentType: string): boolean {
  if (!TEXT_TYPES.test(contentType)) return false;
  try {
    strictUtf8.decode(body);
    return true;
  } catch {
    return false;
  }
}
