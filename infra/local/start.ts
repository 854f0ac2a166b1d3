import { DEFAULT_SQS_PORT, startLocalRun } from './local-run.ts';

// `npm start`: the service's handlers on 127.0.0.1:$PORT, with an embedded SQS unless QUEUE_URL is set.
// Lambda runs Node 22+; the SDK's notice about an older local Node says nothing about the deployment.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const started = performance.now();
const run = await startLocalRun({
  port: Number(process.env.PORT ?? 3000),
  queueUrl: process.env.QUEUE_URL,
  sqsPort: Number(process.env.SQS_PORT ?? DEFAULT_SQS_PORT),
  onEvent: (body, queueName) => process.stdout.write(`event -> ${queueName} ${body}\n`),
});
const ms = Math.round(performance.now() - started);
process.stdout.write(
  [
    `listening on ${run.url} (ready in ${ms} ms)`,
    ...run.routes.map((route) => `  ${route}`),
    run.sqsEndpoint
      ? `embedded SQS at ${run.sqsEndpoint}; queues:\n${Object.entries(run.queueUrls).map(([id, url]) => `  ${id}: ${url}`).join('\n')}`
      : `events go to ${process.env.QUEUE_URL}`,
    '',
  ].join('\n'),
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void run.close().then(() => process.exit(0));
  });
}
