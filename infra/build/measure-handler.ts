// Measures how long the real callback handler takes per callback, against a real (local) SQS
// server: the duration docs/cost.md uses as a local proxy for the billed Lambda duration.
//   node --import tsx infra/build/measure-handler.ts [rounds]
import { cpus } from 'node:os';
import { createCallbackHandler } from '../../lib/http/callback-handler.ts';
import { createSqsClient, createSqsQueue } from '../../lib/queue/send-event.ts';
import { loadCallbacks } from '../../lib/sources/load-callbacks.ts';
import { createHttpEvent } from '../local/http-event.ts';
import { ROUTE_CALLBACKS, validSamples } from '../testing/route-callbacks.ts';
import { startTestSqs } from '../testing/sqs.ts';

const ROUNDS = Number(process.argv[2] ?? 2000);
const WARMUP = 200;
/** Per route of every sender, its largest valid sample: the dearest callback it takes. */
const CASES = ROUTE_CALLBACKS.map((route) => {
  const samples = validSamples(route.source).filter((sample) => sample.path === route.path);
  const largest = samples.reduce((a, b) => (b.body.length > a.body.length ? b : a), route.sample);
  return { ...route, sample: largest };
});

process.env.LOG_LEVEL = 'silent';
const sqs = await startTestSqs(['events']);
const queueUrl = await sqs.queueUrl('events');
const client = createSqsClient({
  endpoint: sqs.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

process.stdout.write(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'}, ${ROUNDS} callbacks per case after ${WARMUP} warm-up\n`);
process.stdout.write('case | queue | mean ms | p50 | p95 | p99\n');
const sqsQueue = createSqsQueue({ queueUrl, client });
// The second run swaps SQS for an in-memory queue: what is left is the handler's own CPU time.
const memoryQueue = { send: async () => undefined };
const runs = [
  ['local SQS', sqsQueue],
  ['in-memory', memoryQueue],
] as const;
for (const [queueName, queue] of runs) {
  for (const { source, sample, path } of CASES) {
    const handler = createCallbackHandler(await loadCallbacks(source), { queue, quarantine: false, access: false });
    const { body, contentType, name: fixture } = sample;
    const times: number[] = [];
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const event = createHttpEvent({ body: body.toString('utf8'), contentType, path, query: `job=etl-load&n=${round}` });
      const started = performance.now();
      const response = await handler(event);
      const ms = performance.now() - started;
      if (response.statusCode !== 200) throw new Error(`${fixture}: ${response.statusCode} ${response.body ?? ''}`);
      if (round >= WARMUP) times.push(ms);
      if (round % 500 === 0) await sqs.drain(queueUrl);
    }
    times.sort((a, b) => a - b);
    const mean = times.reduce((sum, ms) => sum + ms, 0) / times.length;
    const f = (ms: number) => ms.toFixed(2);
    process.stdout.write(
      `${fixture} | ${queueName} | ${f(mean)} | ${f(percentile(times, 0.5))} | ${f(percentile(times, 0.95))} | ${f(percentile(times, 0.99))}\n`,
    );
  }
}
client.destroy();
await sqs.close();
