import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { MAX_BODY_BYTES } from '../../lib/http/read-request.ts';
import { quarantineFromEnvironment } from '../../lib/queue/quarantine.ts';
import { queueFromEnvironment } from '../../lib/queue/send-event.ts';
import { createPayloadBucket, createS3Client } from '../../lib/store/payload-bucket.ts';
import { type RedriveSummary, redriveSpool } from '../../lib/store/spool.ts';
import { createHttpEvent, handsOverAsText } from './http-event.ts';
import { type LocalS3, startLocalS3 } from './s3-server.ts';
import { loadServiceConfig, SERVICE_DIR, type ServiceConfig, type ServiceFunction } from './service-config.ts';

/** A function's handler, as the local run calls it. */
export type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Options of {@link startLocalRun}. */
export interface LocalRunOptions {
  /** The HTTP port; 0 picks a free one. */
  readonly port?: number;
  readonly host?: string;
  /**
   * Where events go. Unset: an embedded SQS-compatible server holds the queues `serverless.yml`
   * declares. Set: that queue (with the SDK's own `AWS_ENDPOINT_URL_SQS`, region and credentials).
   */
  readonly queueUrl?: string | undefined;
  /** The embedded SQS server's port; 0 (the default) picks a free one. `npm start` uses 9324. */
  readonly sqsPort?: number;
  /** Called with each event body that reaches the embedded events queue. */
  readonly onEvent?: (body: string, queueName: string) => void;
  /**
   * The payload bucket. Unset: an embedded S3-compatible server (s3rver) holds the bucket that
   * `serverless.yml` declares. Set: that bucket (with the SDK's own `AWS_ENDPOINT_URL_S3`, region
   * and credentials).
   */
  readonly payloadBucket?: string | undefined;
  /** The embedded S3 server's port; 0 (the default) picks a free one. `npm start` uses 4568. */
  readonly s3Port?: number;
  /** How often the spool redrive runs, in ms (the deployed one runs every minute); 0: never. */
  readonly redriveIntervalMs?: number;
  /** Called after each redrive run that moved or found something. */
  readonly onRedrive?: (summary: RedriveSummary) => void;
  readonly config?: ServiceConfig;
  /**
   * The handler a function is served by; defaults to its module from serverless.yml. The bench
   * serves its floor handler this way, behind the same server and event translation.
   */
  readonly handlerFor?: (fn: ServiceFunction) => Promise<Handler>;
}

/** A running local copy of the service. */
export interface LocalRun {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The embedded SQS endpoint, when one runs. */
  readonly sqsEndpoint?: string;
  /** Queue URLs by logical id (`EventsQueue`), when the embedded SQS runs. */
  readonly queueUrls: Readonly<Record<string, string>>;
  /** The embedded S3 endpoint, when one runs. */
  readonly s3Endpoint?: string;
  /** The payload bucket's name. */
  readonly bucket: string;
  /** Runs the spool redrive once now (what the loop runs). */
  redrive(): Promise<RedriveSummary>;
  /** The routes served, for the banner: `POST /callbacks/bk-job -> bkJob`. */
  readonly routes: readonly string[];
  close(): Promise<void>;
}

/** The HTTP port of `npm start`. */
export const DEFAULT_PORT = 3000;

/** The embedded SQS port of `npm start`, so that `npm run replay` and consumers find it. */
export const DEFAULT_SQS_PORT = 9324;
/** The embedded S3 port of `npm start` (s3rver's own default). */
export const DEFAULT_S3_PORT = 4568;
/** How often `npm start` redrives the spool, in ms. */
export const DEFAULT_REDRIVE_INTERVAL_MS = 2_000;

/** The payload bucket's name in the local run: the bucket `serverless.yml` declares. */
export function localBucketName(config: ServiceConfig): string {
  const [bucket] = config.buckets;
  if (!bucket) throw new Error('serverless.yml declares no S3 bucket for the payloads');
  return bucket.name;
}

/** An account id and region for the embedded SQS: cosmetic, they only shape ARNs and URLs. */
const LOCAL_ACCOUNT = '000000000000';
const LOCAL_REGION = 'us-east-1';

/**
 * Runs the service's real Lambda handlers behind a small HTTP server, with routes from
 * `serverless.yml`: each HTTP API route at its path, and each function URL at `/url/<function>/…`
 * (the rest of the path is what the function sees, as a function URL passes any path).
 */
export async function startLocalRun(options: LocalRunOptions = {}): Promise<LocalRun> {
  const config = options.config ?? loadServiceConfig();
  let sqs: Server | undefined;
  const queueUrls: Record<string, string> = {};
  if (options.queueUrl) {
    process.env.QUEUE_URL = options.queueUrl;
  } else {
    if (options.sqsPort) await assertPortFree(options.sqsPort, 'the embedded SQS port (SQS_PORT)');
    // Both ports are checked before either server starts, so a failed start leaves nothing behind.
    if (!options.payloadBucket && options.s3Port) await assertPortFree(options.s3Port, 'the embedded S3 port (S3_PORT)');
    sqs = await createSqsServer({
      port: options.sqsPort ?? 0,
      hostname: '127.0.0.1',
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      emulateQueueCreationLifecycle: false,
      // Dead-letter queues first: a redrive policy must name a queue that exists.
      queues: [...config.queues]
        .sort((a, b) => Number(Boolean(a.redrive)) - Number(Boolean(b.redrive)))
        .map((queue) => ({
          QueueName: queue.name,
          Attributes: {
            ...queue.attributes,
            ...(queue.redrive && {
              RedrivePolicy: JSON.stringify({
                deadLetterTargetArn: queueArn(config, queue.redrive.deadLetterQueue),
                maxReceiveCount: queue.redrive.maxReceiveCount,
              }),
            }),
          },
        })),
    });
    const endpoint = `http://127.0.0.1:${(sqs.address() as AddressInfo).port}`;
    for (const queue of config.queues) {
      queueUrls[queue.logicalId] = `${endpoint}/${LOCAL_ACCOUNT}/${queue.name}`;
    }
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_REGION: process.env.AWS_REGION ?? LOCAL_REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    });
    for (const [variable, logicalId] of Object.entries(config.queueVariables)) {
      const url = queueUrls[logicalId];
      if (url) process.env[variable] = url;
    }
    if (options.onEvent) observeSends(sqs, options.onEvent);
  }

  let s3: LocalS3 | undefined;
  let bucket: string;
  if (options.payloadBucket) {
    bucket = options.payloadBucket;
    process.env.PAYLOAD_BUCKET = bucket;
  } else {
    if (options.s3Port) await assertPortFree(options.s3Port, 'the embedded S3 port (S3_PORT)');
    bucket = localBucketName(config);
    s3 = await startLocalS3({
      port: options.s3Port ?? 0,
      buckets: config.buckets.map((b) => b.name),
      accessKeyIds: [process.env.AWS_ACCESS_KEY_ID ?? 'local'],
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: process.env.AWS_REGION ?? LOCAL_REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    });
    for (const [variable, logicalId] of Object.entries(config.bucketVariables)) {
      const name = config.buckets.find((b) => b.logicalId === logicalId)?.name;
      if (name) process.env[variable] = name;
    }
  }
  const closeStores = async () => {
    if (sqs) await closeServer(sqs);
    if (s3) await s3.close();
  };

  // Imported only now: a handler builds its SQS client from the environment set above.
  // Only functions with an HTTP front door are served; a queue consumer has none.
  const served = config.functions.filter((fn) => fn.routes.length > 0 || fn.url);
  const handlers = new Map<string, Handler>();
  try {
    for (const fn of served) handlers.set(fn.name, await (options.handlerFor ?? importHandler)(fn));
  } catch (error) {
    // A handler that cannot initialise (a malformed setting) stops the run; nothing is left running
    // or on disk (the embedded S3 keeps its objects in a temporary folder).
    await closeStores();
    throw error;
  }
  const match = createRouter(served);

  const server = createServer((request, response) => {
    serve(request, response, match, handlers).catch((error: unknown) => {
      process.stderr.write(`local run: ${error instanceof Error ? error.stack : String(error)}\n`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"error":"internal error"}');
    });
  });
  server.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? DEFAULT_PORT, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await closeStores();
    throw error;
  }
  const { port } = server.address() as AddressInfo;

  // The spool redrive, as the scheduled function runs it, on its own clients (as its own container).
  const s3Client = createS3Client();
  const payloads = createPayloadBucket({ bucket, client: s3Client });
  const redriveTargets = { bucket: payloads, events: queueFromEnvironment(payloads), quarantine: quarantineFromEnvironment(payloads) };
  let running: Promise<RedriveSummary> | undefined;
  const redrive = (): Promise<RedriveSummary> => {
    running ??= redriveSpool({
      ...redriveTargets,
      onUnreadable: (item, error) => process.stderr.write(`spool redrive: ${item.key} stays: ${error.message}\n`),
    }).finally(() => {
      running = undefined;
    });
    return running;
  };
  const interval = options.redriveIntervalMs ?? 0;
  const loop =
    interval > 0
      ? setInterval(() => {
          redrive().then(
            (summary) => {
              if (summary.sent > 0 || summary.left > 0) options.onRedrive?.(summary);
            },
            (error: unknown) => process.stderr.write(`spool redrive: ${error instanceof Error ? error.message : String(error)}\n`),
          );
        }, interval)
      : undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    ...(sqs && { sqsEndpoint: `http://127.0.0.1:${(sqs.address() as AddressInfo).port}` }),
    queueUrls,
    ...(s3 && { s3Endpoint: s3.endpoint }),
    bucket,
    redrive,
    routes: served.flatMap((fn) => [
      ...fn.routes.map((route) => `${route.method === '*' ? 'POST' : route.method} ${route.path} -> ${fn.name}`),
      ...(fn.url ? [`POST /url/${fn.name}/… -> ${fn.name} (function URL)`] : []),
    ]),
    async close() {
      if (loop) clearInterval(loop);
      await running?.catch(() => undefined);
      await closeServer(server);
      s3Client.destroy();
      await closeStores();
    },
  };
}

function queueArn(config: ServiceConfig, logicalId: string): string {
  const queue = config.queues.find((q) => q.logicalId === logicalId);
  if (!queue) throw new Error(`serverless.yml: redrive target ${logicalId} is not a queue`);
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${queue.name}`;
}

let runs = 0;

async function importHandler(fn: ServiceFunction): Promise<Handler> {
  // A fresh module instance per run, as a fresh Lambda container: each builds its queue client
  // from the environment this run set.
  const module: Record<string, unknown> = await import(`${SERVICE_DIR}/${fn.module}.ts?run=${++runs}`);
  const handler = module[fn.export];
  if (typeof handler !== 'function') throw new Error(`${fn.module}.ts exports no ${fn.export}()`);
  return (event) => Promise.resolve(handler(event, {}));
}

interface Match {
  readonly fn: string;
  readonly functionUrl: boolean;
  /** The path the function sees. */
  readonly path: string;
  readonly routeKey: string;
}

/** Matches a request path to a function: HTTP API routes (with `{param}` segments) or `/url/<fn>/…`. */
function createRouter(functions: readonly ServiceFunction[]): (path: string) => Match | undefined {
  const routes = functions.flatMap((fn) =>
    fn.routes.map((route) => ({
      fn: fn.name,
      routeKey: `${route.method === '*' ? 'ANY' : route.method} ${route.path}`,
      pattern: new RegExp(`^${route.path.replace(/\{[^}/]+\}/g, '[^/]+').replace(/\{[^}/]+\+\}/g, '.+')}/?$`),
    })),
  );
  const urls = new Set(functions.filter((fn) => fn.url).map((fn) => fn.name));
  return (path) => {
    const route = routes.find((candidate) => candidate.pattern.test(path));
    if (route) return { fn: route.fn, functionUrl: false, path, routeKey: route.routeKey };
    const url = /^\/url\/([^/]+)(\/.*)?$/.exec(path);
    if (url?.[1] && urls.has(url[1])) {
      return { fn: url[1], functionUrl: true, path: url[2] ?? '/', routeKey: '$default' };
    }
    return undefined;
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  match: (path: string) => Match | undefined,
  handlers: ReadonlyMap<string, Handler>,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://local');
  const body = await readCapped(request);
  const target = match(url.pathname);
  const handler = target && handlers.get(target.fn);
  if (!target || !handler) {
    response.writeHead(404, { 'content-type': 'application/json' });
    // The answer does not repeat the path (a token put in it by mistake must not echo anywhere).
    response.end(JSON.stringify({ error: 'no route serves this path: see the routes npm start printed' }));
    return;
  }
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(',') : value;
  }
  const event = createHttpEvent({
    ...(body.length > 0 && { body }),
    isBase64Encoded: body.length > 0 && !handsOverAsText(body, headers['content-type'] ?? ''),
    method: request.method ?? 'GET',
    path: target.path,
    query: url.search.slice(1),
    headers,
    sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
    frontDoor: target.functionUrl ? 'functionUrl' : 'httpApi',
    routeKey: target.routeKey,
  });
  const result = await handler(event);
  response.writeHead(result.statusCode ?? 200, result.headers as Record<string, string> | undefined);
  response.end(result.body ?? '');
}

/**
 * Reads the body, keeping at most one byte more than the handler's limit (what Lambda can be
 * handed) in memory: the handler sees a body over its limit and answers 413 itself, and a huge
 * upload cannot fill the memory.
 */
function readCapped(request: IncomingMessage): Promise<Buffer> {
  const cap = MAX_BODY_BYTES + 1;
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise((resolve, reject) => {
    request.on('data', (chunk: Buffer) => {
      if (size < cap) chunks.push(chunk.length > cap - size ? chunk.subarray(0, cap - size) : chunk);
      size += chunk.length;
    });
    request.on('end', () => resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Reports every message that the SQS server accepted, by watching its SendMessage answers. */
function observeSends(sqs: Server, onEvent: (body: string, queueName: string) => void): void {
  sqs.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    if (!target.endsWith('.SendMessage') && !target.endsWith('.SendMessageBatch')) return;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('finish', () => {
      if (response.statusCode !== 200) return;
      const input: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (typeof input !== 'object' || input === null) return;
      const queueName =
        String('QueueUrl' in input ? input.QueueUrl : '')
          .split('/')
          .pop() ?? '';
      const entries = 'Entries' in input && Array.isArray(input.Entries) ? input.Entries : [input];
      for (const entry of entries) {
        if (typeof entry === 'object' && entry !== null && 'MessageBody' in entry) {
          onEvent(String(entry.MessageBody), queueName);
        }
      }
    });
  });
}

/** Fails with a message that says what to change, instead of an unhandled EADDRINUSE. */
function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () => reject(new Error(`${what} ${port} is in use: stop what holds it or pick another port`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
