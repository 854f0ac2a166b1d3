import { ConfigError, type LocalRunSettings, readLocalRunSettings } from '../../lib/config/settings.ts';
import { setLogWriter } from '../../lib/http/log.ts';
import { SOURCE_NAMES } from '../../lib/sources/registry.ts';
import { DEFAULT_PORT, DEFAULT_REDRIVE_INTERVAL_MS, DEFAULT_S3_PORT, DEFAULT_SQS_PORT, startLocalRun } from './local-run.ts';
import { formatCounters } from './metric-counters.ts';

/** How often `npm start` prints the metric counters, when requests came since the last time. */
const COUNTERS_INTERVAL_MS = 10_000;

// `npm start`: the service's handlers on 127.0.0.1:$PORT, with an embedded SQS unless QUEUE_URL is
// set, an embedded S3 for the payload bucket unless PAYLOAD_BUCKET is set, and the spool redrive.
// Under load a write per line costs a system call each (stdout to a file or pipe is synchronous):
// lines are gathered and written once per turn of the event loop.
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
setLogWriter(print);

/** Stops `npm start` with one line on stderr and exit code 1. */
function stop(reason: string): never {
  process.stderr.write(`npm start: ${reason}\n`);
  process.exit(1);
}

const started = performance.now();
// Every setting is checked before anything starts; a malformed one stops here, named.
let settings: LocalRunSettings;
try {
  settings = readLocalRunSettings(process.env, SOURCE_NAMES, {
    port: DEFAULT_PORT,
    sqsPort: DEFAULT_SQS_PORT,
    s3Port: DEFAULT_S3_PORT,
  });
} catch (error) {
  stop(error instanceof ConfigError ? error.message : String(error));
}
const { port } = settings;
const run = await startLocalRun({
  port,
  queueUrl: settings.queueUrl,
  sqsPort: settings.sqsPort,
  payloadBucket: settings.payloadBucket,
  s3Port: settings.s3Port,
  redriveIntervalMs: DEFAULT_REDRIVE_INTERVAL_MS,
  onEvent: (body, queueName) => print(`event -> ${queueName} ${body}\n`),
  onRedrive: (summary) =>
    print(
      `spool redrive: ${summary.sent} sent, ${summary.left} left, oldest ${summary.oldestAgeSeconds} s${summary.stoppedBy ? ` (${summary.stoppedBy})` : ''}\n`,
    ),
}).catch((error: unknown) =>
  stop(
    error instanceof Error && 'code' in error && error.code === 'EADDRINUSE'
      ? `port ${port} (PORT) is in use: stop what holds it or pick another port`
      : error instanceof Error
        ? error.message
        : String(error),
  ),
);
const ms = Math.round(performance.now() - started);
process.stdout.write(
  [
    `listening on ${run.url} (ready in ${ms} ms)`,
    ...run.routes.map((route) => `  ${route}`),
    run.sqsEndpoint
      ? `embedded SQS at ${run.sqsEndpoint}; queues:\n${Object.entries(run.queueUrls)
          .map(([id, url]) => `  ${id}: ${url}`)
          .join('\n')}`
      : `events go to ${process.env.QUEUE_URL}`,
    run.s3Endpoint
      ? `embedded S3 at ${run.s3Endpoint}; payload bucket: ${run.bucket} (large events, the spool, large quarantined bodies)`
      : `payload bucket: ${run.bucket}${process.env.AWS_ENDPOINT_URL_S3 ? ` at ${process.env.AWS_ENDPOINT_URL_S3}` : ''}`,
    `spool redrive every ${DEFAULT_REDRIVE_INTERVAL_MS / 1000} s`,
    `metrics (what the deployed dashboard shows): every ${COUNTERS_INTERVAL_MS / 1000} s after new requests, on kill -USR2 ${process.pid}, and at exit`,
    ...(run.sqsEndpoint || run.s3Endpoint
      ? [
          `a consumer (or npm run replay) reaches these with AWS_REGION=${process.env.AWS_REGION} AWS_ACCESS_KEY_ID=${process.env.AWS_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=…${
            run.sqsEndpoint ? ` AWS_ENDPOINT_URL_SQS=${run.sqsEndpoint}` : ''
          }${run.s3Endpoint ? ` AWS_ENDPOINT_URL_S3=${run.s3Endpoint}` : ''}`,
        ]
      : []),
    '',
  ].join('\n'),
);

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
