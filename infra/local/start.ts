import { ConfigError, type LocalRunSettings, readAccessSettings, readLocalRunSettings } from '../../lib/config/settings.ts';
import { setLogWriter } from '../../lib/http/log.ts';
import { SOURCE_NAMES } from '../../lib/sources/registry.ts';
import { environmentSuffix } from '../../lib/sources/sender.ts';
import { commandLine, fail } from '../cli/args.ts';
import { START_COMMAND } from '../cli/commands.ts';
import { DEFAULT_PORT, DEFAULT_REDRIVE_INTERVAL_MS, DEFAULT_S3_PORT, DEFAULT_SQS_PORT, LOCAL_KEY } from './defaults.ts';
import { type LocalRun, startLocalRun } from './local-run.ts';
import { formatCounters } from './metric-counters.ts';
import { checkBucket, checkQueue, StoreUnreachableError } from './preflight.ts';
import { redriveLine, reloadLine, requestLine } from './report.ts';

/** How often `npm start` prints the metric counters, when requests came since the last time. */
const COUNTERS_INTERVAL_MS = 10_000;

// `npm start`: the service's handlers on 127.0.0.1:$PORT, with an embedded SQS unless QUEUE_URL is
// set, an embedded S3 for the payload bucket unless PAYLOAD_BUCKET is set, the spool redrive, and the
// inspector page. Under load a write per line costs a system call each (stdout to a file or pipe is
// synchronous): lines are gathered and written once per turn of the event loop.
let pending = '';
function print(line: string): void {
  if (pending === '') setImmediate(flush);
  pending += line;
}
function flush(): void {
  const text = pending;
  pending = '';
  process.stdout.write(text);
}
// The functions' JSON request log says less than npm start's own lines: it is printed only when
// LOG_LEVEL asks for it. It is still written, so that its metrics are counted (LOG_LEVEL=silent: not).
setLogWriter(process.env.LOG_LEVEL === undefined ? () => undefined : print);

/** Stops `npm start` with one line on stderr and exit code 1. */
function stop(reason: string): never {
  return fail(START_COMMAND, reason);
}

const started = performance.now();
const args = commandLine(START_COMMAND);
const watch = args.values.watch === true;
const verbose = args.values.verbose === true;

// Every setting is checked before anything starts; a malformed one stops here, named.
let settings: LocalRunSettings;
try {
  settings = readLocalRunSettings(process.env, SOURCE_NAMES, { port: DEFAULT_PORT, sqsPort: DEFAULT_SQS_PORT, s3Port: DEFAULT_S3_PORT });
} catch (error) {
  stop(error instanceof ConfigError ? error.message : String(error));
}
// A queue or bucket named by the environment is asked once now, so a wrong one stops the start
// instead of every callback getting a 503.
try {
  if (settings.queueUrl) await checkQueue(settings.queueUrl, 'QUEUE_URL');
  if (settings.queueUrl && settings.quarantineQueueUrl) await checkQueue(settings.quarantineQueueUrl, 'QUARANTINE_QUEUE_URL');
  if (settings.payloadBucket)
    await checkBucket(settings.payloadBucket, undefined, process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
} catch (error) {
  stop(error instanceof StoreUnreachableError ? error.message : String(error));
}

let routes: readonly string[] = [];
const run: LocalRun = await startLocalRun({
  port: settings.port,
  queueUrl: settings.queueUrl,
  sqsPort: settings.sqsPort,
  payloadBucket: settings.payloadBucket,
  s3Port: settings.s3Port,
  redriveIntervalMs: DEFAULT_REDRIVE_INTERVAL_MS,
  onRequest: (served) => print(requestLine(served, routes, verbose)),
  onRedrive: (summary, sent) => print(redriveLine(new Date(), summary, sent)),
  watch: watch && { onReload: (outcome) => print(reloadLine(new Date(), outcome)) },
}).catch((error: unknown) =>
  stop(
    error instanceof Error && 'code' in error && error.code === 'EADDRINUSE'
      ? `port ${settings.port} (PORT) is in use: stop what holds it or pick another port`
      : error instanceof Error
        ? error.message
        : String(error),
  ),
);
routes = run.routes.map((route) => route.replace(/ -> \S+/, ''));
process.stdout.write(banner(run, Math.round(performance.now() - started)));

// The counters: printed when they changed, on SIGUSR2, and at exit.
let printed = JSON.stringify(run.counters());
const printCounters = (always: boolean) => {
  const snapshot = run.counters();
  const text = JSON.stringify(snapshot);
  if (!always && text === printed) return;
  printed = text;
  print(formatCounters(snapshot));
};
const counting = setInterval(() => printCounters(false), COUNTERS_INTERVAL_MS);
counting.unref();
process.on('SIGUSR2', () => printCounters(true));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(counting);
    printCounters(true);
    flush();
    void run.close().then(() => process.exit(0));
  });
}

/** What runs where, and what is switched on: printed once, ending with the `listening on` line. */
function banner(local: LocalRun, ms: number): string {
  const embeddedQueue = local.sqsEndpoint !== undefined;
  const embeddedBucket = local.s3Endpoint !== undefined;
  const mode =
    embeddedQueue && embeddedBucket
      ? 'embedded queue and bucket: nothing leaves this machine'
      : embeddedQueue
        ? 'embedded queue, external bucket (PAYLOAD_BUCKET)'
        : `external queue (QUEUE_URL)${embeddedBucket ? ', embedded bucket' : ', external bucket (PAYLOAD_BUCKET)'}`;
  const row = (name: string, value: string) => `  ${name.padEnd(11)} ${value}`;
  const access = SOURCE_NAMES.map((source) => [source, readAccessSettings(source, process.env)] as const);
  const lines = [
    `jobhooks local run: ${mode}`,
    row('inspector', `${local.url}/  (every request, live; resend, save as a sample, replay)`),
    ...local.routes.map((route, index) => row(index === 0 ? 'routes' : '', route)),
    ...(embeddedQueue
      ? [
          row('queues', `embedded SQS at ${local.sqsEndpoint} (SQS_PORT)`),
          ...Object.entries(local.queueUrls).map(([id, url]) => row('', `${id}: ${url}`)),
          row('quarantine', 'on: refused callbacks are kept in QuarantineQueue (npm run replay, or the inspector)'),
        ]
      : [
          row('events', `${local.eventsQueueUrl} (QUEUE_URL, checked)`),
          row(
            'quarantine',
            local.quarantineQueueUrl
              ? `on: ${local.quarantineQueueUrl} (QUARANTINE_QUEUE_URL, checked; npm run replay)`
              : 'off: QUARANTINE_QUEUE_URL is not set, refused callbacks are not kept',
          ),
        ]),
    row(
      'bucket',
      embeddedBucket
        ? `${local.bucket} on the embedded S3 at ${local.s3Endpoint} (S3_PORT): large events, the spool, large quarantined bodies`
        : `${local.bucket} (PAYLOAD_BUCKET, checked${process.env.AWS_ENDPOINT_URL_S3 ? ` at ${process.env.AWS_ENDPOINT_URL_S3}` : ''})`,
    ),
    row('redrive', `the spool every ${DEFAULT_REDRIVE_INTERVAL_MS / 1000} s`),
    row(
      'metrics',
      `what the deployed dashboard shows: every ${COUNTERS_INTERVAL_MS / 1000} s after new requests, on kill -USR2 ${process.pid}, and at exit`,
    ),
    row(
      'tokens',
      access
        .map(([source, settings]) =>
          settings.tokens.from === 'none'
            ? `${source}: none, any caller`
            : settings.tokens.from === 'variable'
              ? `${source}: ${settings.tokens.tokens.length} (TOKENS_${environmentSuffix(source)})`
              : `${source}: from SSM ${settings.tokens.parameter}`,
        )
        .join('; '),
    ),
    row(
      'allowlists',
      access
        .map(
          ([source, settings]) => `${source}: ${settings.allow ? process.env[`ALLOW_CIDRS_${environmentSuffix(source)}`] : 'any address'}`,
        )
        .join('; '),
    ),
    ...(embeddedQueue || embeddedBucket
      ? [
          row(
            'consumers',
            `AWS_REGION=${process.env.AWS_REGION} AWS_ACCESS_KEY_ID=${process.env.AWS_ACCESS_KEY_ID ?? LOCAL_KEY} AWS_SECRET_ACCESS_KEY=…${
              embeddedQueue ? ` AWS_ENDPOINT_URL_SQS=${local.sqsEndpoint}` : ''
            }${embeddedBucket ? ` AWS_ENDPOINT_URL_S3=${local.s3Endpoint}` : ''}`,
          ),
        ]
      : []),
    row('watch', watch ? 'on: lib/ and functions/ reload the handlers when they change' : 'off (npm start -- --watch)'),
    row('output', `one line per request${verbose ? ', and its event' : ' (npm start -- --verbose: and its event)'}`),
    `listening on ${local.url} (ready in ${ms} ms)`,
    '',
  ];
  return lines.join('\n');
}
