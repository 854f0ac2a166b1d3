// Measures how long the real callback handler takes per callback, against a real (local) SQS
// server: the duration docs/cost.md uses as a local proxy for the billed Lambda duration.
//   node --import tsx infra/build/measure-handler.ts [rounds]
import { cpus } from 'node:os';
import { createCallbackHandler } from '../../lib/http/callback-handler.ts';
import { createSqsClient, createSqsQueue } from '../../lib/queue/send-event.ts';
import { SOURCES } from '../../lib/sources/registry.ts';
import type { SourceName } from '../../lib/events/cloud-event.ts';
import { createHttpEvent } from '../local/http-event.ts';
import { loadFixture } from '../testing/fixtures.ts';
import { startTestSqs } from '../testing/sqs.ts';

const ROUNDS = Number(process.argv[2] ?? 2000);
const WARMUP = 200;
const CASES: ReadonlyArray<{ source: SourceName; fixture: string; path: string }> = [
  { source: 'bk-job', fixture: 'bkjob-json-failed', path: '/callbacks/bk-job' },
  { source: 'tencent-ci', fixture: 'ci-workflowfinish-xml', path: '/callbacks/tencent-ci' },
  { source: 'tencent-ci', fixture: 'ci-translation-json', path: '/callbacks/tencent-ci' },
  { source: 'thain', fixture: 'thain-flow-error-stacktrace', path: '/callbacks/thain/flow' },
];

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
const runs = [['local SQS', sqsQueue], ['in-memory', memoryQueue]] as const;
for (const [queueName, queue] of runs) {
  for (const { source, fixture, path } of CASES) {
    const handler = createCallbackHandler(SOURCES[source], { queue, quarantine: false, access: false });
    const { body, contentType } = loadFixture(source, fixture);
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
