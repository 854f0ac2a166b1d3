import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { TEST_QUEUE_TIMEOUTS } from './budgets.ts';

// ---------------------------------------------------------------------------------------------
// A faulty SQS: answers like a failing SQS, or forwards to a real one.
// ---------------------------------------------------------------------------------------------

/** How a faulty queue fails. */
export type Fault =
  | 'hang'
  | 'slow'
  | 'reset'
  | 'throttling'
  | 'request-throttled'
  | 'too-many-requests'
  | 'service-unavailable'
  | 'internal-error'
  | 'access-denied'
  | 'bad-md5'
  | 'garbage';
/** `hang-once`: the first request hangs, every later one is forwarded (one stuck connection). */
export type Mode = Fault | 'forward' | 'hang-once' | 'slow-ok';

/** How long the slow queue takes to answer: longer than the whole budget of one enqueue (tests use {@link TEST_QUEUE_TIMEOUTS}). */
export const SLOW_MS = TEST_QUEUE_TIMEOUTS.totalMs + 500;
/** A slow queue that still answers inside one attempt's budget. */
export const SLOW_OK_MS = TEST_QUEUE_TIMEOUTS.requestMs / 2;

/** An SQS JSON-protocol error (what SQS sends for `AmazonSQS.SendMessage` failures). */
function sqsError(res: ServerResponse, status: number, type: string, queryCode: string, message: string): void {
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': crypto.randomUUID(),
    'x-amzn-query-error': `${queryCode};${status >= 500 ? 'Receiver' : 'Sender'}`,
  });
  res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message }));
}

/**
 * A faulty SQS for tests: a small `node:http` server that speaks enough of the SQS JSON protocol
 * to fail the way SQS fails (`mode`), or forwards to a real SQS (`local-aws-sqs`) at `target` once
 * "the queue is back" (`mode = 'forward'`).
 */
export class FaultySqs {
  mode: Mode;
  /** Requests that reached this server, per mode (shows the SDK's retries). */
  readonly hits = new Map<Mode, number>();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pending = new Set<Promise<void>>();
  private readonly target: string;

  constructor(target: string, mode: Mode) {
    this.target = target;
    this.mode = mode;
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Waits for the slow answers still on their way to the real queue. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const mode = this.mode;
    this.hits.set(mode, (this.hits.get(mode) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      switch (mode) {
        case 'forward':
          return void this.forward(req, body, res);
        case 'hang':
          return; // never answers
        case 'hang-once':
          this.mode = 'forward';
          return; // this one never answers; the next is forwarded
        case 'slow':
        case 'slow-ok': {
          // Answers, but late; the real queue gets the message all the same (as a slow SQS would).
          const delay = mode === 'slow' ? SLOW_MS : SLOW_OK_MS;
          const done = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => this.forward(req, body, res));
          this.pending.add(done);
          return void done.finally(() => this.pending.delete(done));
        }
        case 'reset':
          return void req.socket.destroy();
        case 'throttling':
          return sqsError(res, 400, 'ThrottlingException', 'ThrottlingException', 'Rate exceeded');
        case 'request-throttled':
          return sqsError(res, 403, 'RequestThrottled', 'AWS.SimpleQueueService.RequestThrottled', 'Request is throttled.');
        case 'too-many-requests':
          return sqsError(res, 429, 'TooManyRequestsException', 'TooManyRequests', 'Too many requests');
        case 'service-unavailable':
          return sqsError(res, 503, 'ServiceUnavailable', 'ServiceUnavailable', 'Service is unavailable. Try again later.');
        case 'internal-error':
          return sqsError(res, 500, 'InternalError', 'InternalError', 'We encountered an internal error. Please try again.');
        case 'access-denied':
          return sqsError(res, 400, 'AccessDeniedException', 'AccessDenied', 'Access to the resource is denied.');
        case 'bad-md5':
          // 200, but the digest does not match what was sent: the message may be damaged.
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': crypto.randomUUID() });
          return void res.end(JSON.stringify({ MessageId: crypto.randomUUID(), MD5OfMessageBody: '0'.repeat(32) }));
        case 'garbage':
          res.writeHead(200, { 'content-type': 'text/html' });
          return void res.end('<html><body>502 Bad Gateway</body></html>');
      }
    });
  }

  private forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const upstream = httpRequest(
        `${this.target}${req.url ?? '/'}`,
        { method: req.method, headers: { ...req.headers, host: new URL(this.target).host } },
        (answer) => {
          if (!res.destroyed) res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
        },
      );
      upstream.on('error', () => {
        res.destroy();
        resolve();
      });
      upstream.end(body);
    });
  }
}
