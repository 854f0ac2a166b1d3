import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { readLogLines } from '../../lib/http/log.ts';
import { MAX_BODY_BYTES } from '../../lib/http/read-request.ts';
import { metricsTargetFrom } from '../../lib/metrics/emf.ts';
import { quarantineFromEnvironment } from '../../lib/queue/quarantine.ts';
import { createSqsClient, queueFromEnvironment } from '../../lib/queue/send-event.ts';
import { senderNamed } from '../../lib/sources/registry.ts';
import type { Callbacks } from '../../lib/sources/source.ts';
import { createPayloadBucket, createS3Client } from '../../lib/store/payload-bucket.ts';
import { redriveMetricLines } from '../../lib/store/redrive-handler.ts';
import { type RedriveSummary, redriveSpool } from '../../lib/store/spool.ts';
import { type ReplayedRecord, replayQuarantine } from '../replay.ts';
import { DEFAULT_PORT, LOCAL_ACCOUNT, LOCAL_KEY, LOCAL_REGION, localBucketName, localQueueUrl } from './defaults.ts';
import * as firstGeneration from './generation.ts';
import { createHttpEvent, handsOverAsText } from './http-event.ts';
import { createInspector } from './inspector.ts';
import { createJournal, type Journal, type MatchedRoute, type SentMessage, type ServedRequest, sentMessageOf } from './journal.ts';
import { type CountersSnapshot, createMetricCounters } from './metric-counters.ts';
import { observeAwsCalls, withAwsCalls } from './observe-aws.ts';
import { type LocalS3, startLocalS3 } from './s3-server.ts';
import { type SavedSample, saveSample } from './samples.ts';
import { loadServiceConfig, SERVICE_DIR, type ServiceConfig, type ServiceFunction } from './service-config.ts';
import { watchCode } from './watch.ts';

/** A function's handler, as the local run calls it. */
export type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Options of {@link startLocalRun}. */
export interface LocalRunOptions {
  /** The HTTP port; 0 picks a free one. The server listens on 127.0.0.1 only. */
  readonly port?: number;
  /**
   * Where events go. Unset: an embedded SQS-compatible server holds the queues `serverless.yml`
   * declares. Set: that queue (with the SDK's own `AWS_ENDPOINT_URL_SQS`, region and credentials).
   */
  readonly queueUrl?: string | undefined;
  /** The embedded SQS server's port; 0 (the default) picks a free one. `npm start` uses 9324. */
  readonly sqsPort?: number;
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
  /** Called once after each redrive run that moved or found something, with the messages it sent. */
  readonly onRedrive?: (summary: RedriveSummary, sent: readonly SentMessage[]) => void;
  /** Called with each request once it is answered (the same as `journal.subscribe`, answered ones only). */
  readonly onRequest?: (request: ServedRequest) => void;
  /**
   * The inspector page at `/` (`false`: none). `samplesDir` is where its "save as a sample" writes
   * (`<samplesDir>/<source>/<name>.http` and its `.expected.json`): the repository's `events/` by default.
   */
  readonly inspector?: false | { readonly samplesDir?: string };
  /**
   * Reload the handlers when a file under `lib/` or `functions/` changes (`npm start -- --watch`), and
   * report each reload. The queues, the bucket and the inspector's requests stay.
   */
  readonly watch?: false | { readonly onReload: (outcome: ReloadOutcome) => void };
  /**
   * The parsers the inspector's replay runs a quarantined record through; defaults to the current
   * code's (`lib/sources/<name>/callback.ts`, reloaded under `watch`). Tests put a fix here.
   */
  readonly replayCallbacks?: (source: string) => Promise<Callbacks>;
  readonly config?: ServiceConfig;
  /**
   * The handler a function is served by; defaults to its module from serverless.yml. The bench
   * serves its floor handler this way, behind the same server and event translation.
   */
  readonly handlerFor?: (fn: ServiceFunction) => Promise<Handler>;
}

/** What one reload did: the files that changed, and the time it took or why it failed. */
export type ReloadOutcome =
  | { readonly ok: true; readonly changed: readonly string[]; readonly ms: number }
  | { readonly ok: false; readonly changed: readonly string[]; readonly error: string };

/** A running local copy of the service. */
export interface LocalRun {
  /** `http://127.0.0.1:<port>`; the inspector page is at `<url>/`. */
  readonly url: string;
  /** The embedded SQS endpoint, when one runs. */
  readonly sqsEndpoint?: string;
  /** Queue URLs by logical id (`EventsQueue`), when the embedded SQS runs. */
  readonly queueUrls: Readonly<Record<string, string>>;
  /** The events queue's URL, the quarantine queue's (when there is one). */
  readonly eventsQueueUrl: string;
  readonly quarantineQueueUrl?: string;
  /** The embedded S3 endpoint, when one runs. */
  readonly s3Endpoint?: string;
  /** The payload bucket's name. */
  readonly bucket: string;
  /** Every request served (up to the last 500), with its answer and what it sent: the inspector's list. */
  readonly journal: Journal;
  /** Runs the spool redrive once now (what the loop runs). */
  redrive(): Promise<RedriveSummary>;
  /** Runs one quarantined request's record through the current code (the inspector's replay button). */
  replay(seq: number): Promise<ReplayedRecord>;
  /** Loads the handlers afresh from the files (what `watch` does on a change). */
  reload(changed?: readonly string[]): Promise<ReloadOutcome>;
  /**
   * The metrics the handlers' log lines and the redrive's runs carried since the run started, per
   * sender: what a deployed stack's dashboard shows (none while `LOG_LEVEL=silent`).
   */
  counters(): CountersSnapshot;
  /** The routes served, for the banner: `POST /callbacks/bk-job -> bkJob`. */
  readonly routes: readonly string[];
  close(): Promise<void>;
}

export {
  DEFAULT_PORT,
  DEFAULT_REDRIVE_INTERVAL_MS,
  DEFAULT_S3_PORT,
  DEFAULT_SQS_PORT,
  LOCAL_ACCOUNT,
  LOCAL_KEY,
  LOCAL_REGION,
  localBucketName,
  localQueueUrl,
} from './defaults.ts';

/** The project's code of one load: the handlers and what the local run takes beside them. */
interface Generation {
  readonly handlers: ReadonlyMap<string, Handler>;
  readonly tools: typeof firstGeneration;
  /** Stops the loader of this load's copy of the code (a later reload replaced it). */
  readonly retire: () => Promise<void>;
}

/**
 * Runs the service's real Lambda handlers behind a small HTTP server on 127.0.0.1, with routes from
 * `serverless.yml`: each HTTP API route at its path, and each function URL at `/url/<function>/…`
 * (the rest of the path is what the function sees, as a function URL passes any path). Each request
 * is kept in {@link LocalRun.journal} with what its handler sent, and the inspector page at `/` shows them.
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
    for (const queue of config.queues) queueUrls[queue.logicalId] = localQueueUrl(config, endpoint, queue.logicalId);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_REGION: process.env.AWS_REGION ?? LOCAL_REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? LOCAL_KEY,
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? LOCAL_KEY,
    });
    for (const [variable, logicalId] of Object.entries(config.queueVariables)) {
      const url = queueUrls[logicalId];
      if (url) process.env[variable] = url;
    }
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
      accessKeyIds: [process.env.AWS_ACCESS_KEY_ID ?? LOCAL_KEY],
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: process.env.AWS_REGION ?? LOCAL_REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? LOCAL_KEY,
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? LOCAL_KEY,
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
  const eventsQueueUrl = process.env.QUEUE_URL ?? '';
  const quarantineQueueUrl = process.env.QUARANTINE_QUEUE_URL || undefined;

  // Only functions with an HTTP front door are served; a queue consumer has none.
  const served = config.functions.filter((fn) => fn.routes.length > 0 || fn.url);
  let generation: Generation;
  try {
    // Imported only now: a handler builds its clients from the environment set above.
    generation = await loadFirstGeneration(served, options.handlerFor);
  } catch (error) {
    // A handler that cannot initialise (a malformed setting) stops the run; nothing is left running
    // or on disk (the embedded S3 keeps its objects in a temporary folder).
    await closeStores();
    throw error;
  }
  const match = createRouter(served);
  const journal = createJournal(() => ({ events: eventsQueueUrl, quarantine: quarantineQueueUrl }));
  if (options.onRequest) {
    const told = options.onRequest;
    journal.subscribe((request) => {
      if (request.done) told(request);
    });
  }

  /** Serves one request as a front door would, and keeps it in the journal. */
  const dispatch = async (
    request: IncomingRequest,
  ): Promise<{ status: number; headers: Record<string, string>; body: string; seq: number }> => {
    const started = performance.now();
    const target = match(request.path);
    const handler = target && generation.handlers.get(target.function);
    const requestId = randomUUID();
    const pending = journal.begin({
      requestId,
      receivedAt: new Date(),
      method: request.method,
      path: request.path,
      query: request.query,
      headers: request.headers,
      body: request.body,
      ...(target && { route: target }),
      ...(request.resentFrom !== undefined && { resentFrom: request.resentFrom }),
    });
    const ms = () => Math.round((performance.now() - started) * 10) / 10;
    if (!target || !handler) {
      // The answer does not repeat the path (a token put in it by mistake must not echo anywhere).
      const body = JSON.stringify({ error: 'no route serves this path: see the routes npm start printed' });
      pending.finish({ status: 404, body, ms: ms() });
      return { status: 404, headers: { 'content-type': 'application/json' }, body, seq: pending.seq };
    }
    // As a front door hands them over: names in lower case, a repeated header's values comma-joined.
    const joined = new Map<string, string>();
    for (const [key, value] of request.headers) {
      const name = key.toLowerCase();
      const before = joined.get(name);
      joined.set(name, before === undefined ? value : `${before},${value}`);
    }
    // fromEntries: a header named `__proto__` stays a header.
    const headers: Record<string, string> = Object.fromEntries(joined);
    const event = createHttpEvent({
      ...(request.body.length > 0 && { body: request.body }),
      isBase64Encoded: request.body.length > 0 && !handsOverAsText(request.body, headers['content-type'] ?? ''),
      method: request.method,
      path: target.path,
      query: request.query,
      headers,
      sourceIp: request.sourceIp,
      frontDoor: target.functionUrl ? 'functionUrl' : 'httpApi',
      routeKey: target.routeKey,
      requestId,
    });
    let result: APIGatewayProxyStructuredResultV2;
    try {
      result = await withAwsCalls(pending.observe, () => handler(event));
    } catch (error) {
      process.stderr.write(`local run: ${error instanceof Error ? error.stack : String(error)}\n`);
      result = { statusCode: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"internal error"}' };
    }
    const status = result.statusCode ?? 200;
    const body = result.body ?? '';
    pending.finish({ status, body, ms: ms() });
    const answerHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) answerHeaders[name] = String(value);
    return { status, headers: answerHeaders, body, seq: pending.seq };
  };

  // The same metric lines Lambda would print, counted as CloudWatch would count them.
  const counters = createMetricCounters();
  const stopCounting = readLogLines((line) => counters.observe(line));

  // The spool redrive, as the scheduled function runs it, on its own clients (as its own container).
  const s3Client = createS3Client();
  const payloads = createPayloadBucket({ bucket, client: s3Client });
  const redriveTargets = { bucket: payloads, events: queueFromEnvironment(payloads), quarantine: quarantineFromEnvironment(payloads) };
  let running: Promise<{ summary: RedriveSummary; sent: SentMessage[] }> | undefined;
  /** Starts a redrive run, or joins the one under way (`started` says which). */
  const redriveRun = () => {
    if (running) return { run: running, started: false };
    const sent: SentMessage[] = [];
    running = withAwsCalls(
      (call) => {
        const message = call.error ? undefined : sentMessageOf(call, { events: eventsQueueUrl, quarantine: quarantineQueueUrl });
        if (message) sent.push(message);
      },
      () =>
        redriveSpool({
          ...redriveTargets,
          onUnreadable: (item, error) => process.stderr.write(`spool redrive: ${item.key} stays: ${error.message}\n`),
        }),
    )
      .then((summary) => {
        if (summary.sent > 0 || summary.left > 0) {
          for (const line of redriveMetricLines(summary, metricsTargetFrom(process.env), Date.now())) counters.observe(line);
        }
        return { summary, sent };
      })
      .finally(() => {
        running = undefined;
      });
    return { run: running, started: true };
  };
  observeGeneration(generation);
  const interval = options.redriveIntervalMs ?? 0;
  const loop =
    interval > 0
      ? setInterval(() => {
          const { run, started } = redriveRun();
          // A run may outlast a tick: only the tick that started it reports it, once.
          if (!started) return;
          run.then(
            ({ summary, sent }) => {
              if (summary.sent > 0 || summary.left > 0) options.onRedrive?.(summary, sent);
            },
            (error: unknown) => process.stderr.write(`spool redrive: ${error instanceof Error ? error.message : String(error)}\n`),
          );
        }, interval)
      : undefined;

  /** Replays the quarantine record of one request: found in the quarantine queue by its request id. */
  const replay = async (seq: number): Promise<ReplayedRecord> => {
    const request = journal.get(seq);
    if (!request) throw new LocalRunError(`no request #${seq} is kept`);
    if (request.outcome !== 'quarantined') throw new LocalRunError(`request #${seq} was not quarantined`);
    if (!quarantineQueueUrl) throw new LocalRunError('no quarantine queue: set QUARANTINE_QUEUE_URL');
    const client = createSqsClient();
    try {
      const { tools } = generation;
      const summary = await replayQuarantine({
        client,
        quarantineUrl: quarantineQueueUrl,
        eventsUrl: eventsQueueUrl,
        bucket: payloads,
        select: (record) => record.requestId === request.requestId,
        callbacksOf: options.replayCallbacks ?? tools.loadCallbacks,
        createHandler: tools.createCallbackHandler,
      });
      const [record] = summary.records;
      if (!record) {
        throw new LocalRunError(
          `request #${seq}'s record is not in the quarantine queue (replayed already, dropped, or still spooled: the redrive sends it within seconds)`,
        );
      }
      journal.noteReplay(seq, {
        at: new Date(),
        status: record.status,
        error: record.error,
        ...(record.eventId !== undefined && { eventId: record.eventId }),
        ...(record.eventBody !== undefined && { eventBody: record.eventBody }),
      });
      return record;
    } finally {
      client.destroy();
    }
  };

  const reload = async (changed: readonly string[] = []): Promise<ReloadOutcome> => {
    const started = performance.now();
    try {
      const next = await loadGeneration(served);
      observeGeneration(next);
      const previous = generation;
      generation = next;
      await previous.retire();
      return { ok: true, changed, ms: Math.round(performance.now() - started) };
    } catch (error) {
      return { ok: false, changed, error: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error) };
    }
  };

  const save = (seq: number, name: string): Promise<SavedSample> => {
    const request = journal.get(seq);
    if (!request) return Promise.reject(new LocalRunError(`no request #${seq} is kept`));
    const samplesDir = options.inspector === false ? undefined : options.inspector?.samplesDir;
    return saveSample(request, name, {
      ...(samplesDir !== undefined && { samplesDir }),
      callbacksOf: options.replayCallbacks ?? generation.tools.loadCallbacks,
      createHandler: generation.tools.createCallbackHandler,
    });
  };

  let port = 0;
  const inspector =
    options.inspector === false
      ? undefined
      : createInspector({
          journal,
          origin: () => `http://127.0.0.1:${port}`,
          resend: async (seq) => {
            const request = journal.get(seq);
            if (!request) throw new LocalRunError(`no request #${seq} is kept`);
            const { method, path, query, headers, body } = request;
            return (await dispatch({ method, path, query, headers, body, sourceIp: '127.0.0.1', resentFrom: seq })).seq;
          },
          save,
          replay,
        });

  const server = createServer((request, response) => {
    (async () => {
      const url = new URL(request.url ?? '/', 'http://local');
      if (inspector && (await inspector.serve(request, response, url))) return;
      const answer = await dispatch({
        method: request.method ?? 'GET',
        path: url.pathname,
        query: url.search.slice(1),
        headers: headerPairs(request.rawHeaders),
        body: await readCapped(request),
        sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      });
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
    })().catch((error: unknown) => {
      process.stderr.write(`local run: ${error instanceof Error ? error.stack : String(error)}\n`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"error":"internal error"}');
    });
  });
  server.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Loopback only: the inspector shows every body and can write files.
      server.listen(options.port ?? DEFAULT_PORT, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    if (loop) clearInterval(loop);
    s3Client.destroy();
    await closeStores();
    throw error;
  }
  port = (server.address() as AddressInfo).port;

  const watcher = options.watch
    ? watchCode(SERVICE_DIR, ['lib', 'functions'], async (changed) => {
        if (options.watch) options.watch.onReload(await reload(changed));
      })
    : undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    ...(sqs && { sqsEndpoint: `http://127.0.0.1:${(sqs.address() as AddressInfo).port}` }),
    queueUrls,
    eventsQueueUrl,
    ...(quarantineQueueUrl !== undefined && { quarantineQueueUrl }),
    ...(s3 && { s3Endpoint: s3.endpoint }),
    bucket,
    journal,
    redrive: async () => (await redriveRun().run).summary,
    counters: () => counters.snapshot(),
    replay,
    reload,
    routes: served.flatMap((fn) => {
      // A sender with several routes is served on one path with a `{param}`: its values are the route names.
      const names = Object.keys((fn.sender !== undefined && senderNamed(fn.sender)?.routes) || {});
      return [
        ...fn.routes.map((route) => {
          const param = names.length > 1 ? /\{[^}/]+\}/.exec(route.path)?.[0] : undefined;
          return `${route.method === '*' ? 'POST' : route.method} ${route.path} -> ${fn.name}${param ? ` (${param}: ${names.join(', ')})` : ''}`;
        }),
        ...(fn.url ? [`POST /url/${fn.name}/… -> ${fn.name} (function URL)`] : []),
      ];
    }),
    async close() {
      watcher?.close();
      if (loop) clearInterval(loop);
      await running?.catch(() => undefined);
      stopCounting();
      inspector?.close();
      await closeServer(server);
      s3Client.destroy();
      await closeStores();
    },
  };
}

/** A failure of the local run's own tools (replay, save, resend), in one line for the page. */
export class LocalRunError extends Error {
  override name = 'LocalRunError';
}

/** A request as the local server got it. */
interface IncomingRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly resentFrom?: number;
}

/** Node's `rawHeaders` (`[name, value, name, value, …]`) as pairs, in the order they came. */
function headerPairs(raw: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return pairs;
}

function queueArn(config: ServiceConfig, logicalId: string): string {
  const queue = config.queues.find((q) => q.logicalId === logicalId);
  if (!queue) throw new Error(`serverless.yml: redrive target ${logicalId} is not a queue`);
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${queue.name}`;
}

let runs = 0;

/** The handlers as the run's own code imports them: each a fresh module instance, as a fresh Lambda container. */
async function loadFirstGeneration(
  functions: readonly ServiceFunction[],
  handlerFor?: (fn: ServiceFunction) => Promise<Handler>,
): Promise<Generation> {
  const handlers = new Map<string, Handler>();
  const run = ++runs;
  for (const fn of functions) {
    // Each builds its clients from the environment this run set (or the caller's stand-in: the bench's floor).
    handlers.set(fn.name, handlerFor ? await handlerFor(fn) : handlerOf(fn, await import(`${SERVICE_DIR}/${fn.module}.ts?run=${run}`)));
  }
  return { handlers, tools: firstGeneration, retire: () => Promise.resolve() };
}

let reloads = 0;

/**
 * The handlers and their code loaded afresh, lib/ included: each load imports the files under a
 * namespace of its own (tsx's `register({ namespace })`), so every module is read again rather than
 * taken from the module cache. Node cannot unload a module: each reload keeps the earlier copy in
 * memory, a few MB (fine for a development session).
 */
async function loadGeneration(functions: readonly ServiceFunction[]): Promise<Generation> {
  const { register } = await import('tsx/esm/api');
  const api = register({ namespace: `jobhooks-reload-${++reloads}` });
  try {
    const tools: unknown = await api.import('./generation.ts', import.meta.url);
    if (!isTools(tools)) throw new Error('infra/local/generation.ts does not export what the local run needs');
    // Every sender's parsers now, while this load's loader is the current one.
    await tools.loadAllCallbacks();
    const handlers = new Map<string, Handler>();
    for (const fn of functions) {
      const module: unknown = await api.import(`${SERVICE_DIR}/${fn.module}.ts`, import.meta.url);
      handlers.set(fn.name, handlerOf(fn, module));
    }
    return { handlers, tools, retire: () => api.unregister() };
  } catch (error) {
    await api.unregister();
    throw error;
  }
}

/** Watches the AWS clients a load's handlers share (what they send, what they spool). */
function observeGeneration(generation: Generation): void {
  observeAwsCalls(generation.tools.containerSqsClient());
  observeAwsCalls(generation.tools.containerS3Client());
}

function isTools(value: unknown): value is typeof firstGeneration {
  if (typeof value !== 'object' || value === null) return false;
  const exports = Object.fromEntries(Object.entries(value));
  return Object.keys(firstGeneration).every((name) => typeof exports[name] === 'function');
}

function handlerOf(fn: ServiceFunction, module: unknown): Handler {
  const exports = typeof module === 'object' && module !== null ? Object.fromEntries(Object.entries(module)) : {};
  const handler = exports[fn.export];
  if (typeof handler !== 'function') throw new Error(`${fn.module}.ts exports no ${fn.export}()`);
  return (event) => Promise.resolve(handler(event, {}));
}

/** Matches a request path to a function: HTTP API routes (with `{param}` segments) or `/url/<function>/…`. */
function createRouter(functions: readonly ServiceFunction[]): (path: string) => MatchedRoute | undefined {
  const routes = functions.flatMap((fn) =>
    fn.routes.map((route) => ({
      fn,
      routeKey: `${route.method === '*' ? 'ANY' : route.method} ${route.path}`,
      pattern: new RegExp(`^${route.path.replace(/\{[^}/]+\}/g, '[^/]+').replace(/\{[^}/]+\+\}/g, '.+')}/?$`),
    })),
  );
  const matched = (fn: ServiceFunction, functionUrl: boolean, path: string, routeKey: string): MatchedRoute => ({
    routeKey,
    function: fn.name,
    ...(fn.sender !== undefined && { source: fn.sender }),
    functionUrl,
    path,
  });
  return (path) => {
    const route = routes.find((candidate) => candidate.pattern.test(path));
    if (route) return matched(route.fn, false, path, route.routeKey);
    const url = /^\/url\/([^/]+)(\/.*)?$/.exec(path);
    const fn = url?.[1] ? functions.find((candidate) => candidate.url && candidate.name === url[1]) : undefined;
    return fn ? matched(fn, true, url?.[2] ?? '/', '$default') : undefined;
  };
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
