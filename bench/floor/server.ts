import { DEFAULT_REDRIVE_INTERVAL_MS, type Handler, startLocalRun } from '../../infra/local/local-run.ts';
import { requestLine } from '../../infra/local/report.ts';
import { SERVICE_DIR } from '../../infra/local/service-config.ts';

// The end-to-end floor: `npm start` itself (the same local server, the same translation of HTTP into
// Lambda events, the same embedded SQS and S3, the same line printed per request), with
// every function served by the floor handler (./sdk-clients.ts): it sends the raw body as the
// message with three attributes, as API Gateway's direct SQS integration would. What the bench
// then compares is the functions' own work. Env: PORT, SQS_PORT, S3_PORT (0: any free port).
// Prints `listening on <url>` and `EventsQueue: <queue url>` like `npm start`.

let instance = 0;
const run = await startLocalRun({
  port: Number(process.env.PORT ?? 0),
  sqsPort: Number(process.env.SQS_PORT ?? 0),
  s3Port: Number(process.env.S3_PORT ?? 0),
  redriveIntervalMs: DEFAULT_REDRIVE_INTERVAL_MS,
  onRequest: (request) => process.stdout.write(`${requestLine(request, run.routes)}\n`),
  // A module instance per function, as each function has its own clients and connections.
  handlerFor: async (): Promise<Handler> => {
    const module: unknown = await import(`${SERVICE_DIR}/bench/floor/sdk-clients.ts?function=${++instance}`);
    if (typeof module !== 'object' || module === null || !('handler' in module) || typeof module.handler !== 'function') {
      throw new Error('bench/floor/sdk-clients.ts exports no handler');
    }
    const { handler } = module;
    return (event) => Promise.resolve(handler(event));
  },
});
process.stdout.write(
  `listening on ${run.url}\nembedded SQS at ${run.sqsEndpoint}; queues:\n${Object.entries(run.queueUrls)
    .map(([id, url]) => `  ${id}: ${url}`)
    .join('\n')}\n`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void run.close().then(() => process.exit(0));
  });
}
