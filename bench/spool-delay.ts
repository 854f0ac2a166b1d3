/**
 * Spool to queue delay under `npm start`: the events queue is down (a faulty SQS in front of the
 * embedded one refuses every call), callbacks are answered 200 from the spool, then the queue comes
 * back and the local redrive loop (every 2 s, as `npm start` runs it) sends them. Prints, per event,
 * the time from the queue's return to its arrival in the queue, and from its 200 to its arrival.
 *
 *   node --import tsx bench/spool-delay.ts [callbacks]
 */

import { DEFAULT_REDRIVE_INTERVAL_MS, startLocalRun } from '../infra/local/local-run.ts';
import { FaultySqs } from '../infra/testing/faulty-sqs.ts';
import { receiveAll, startTestSqs } from '../infra/testing/sqs.ts';

process.env.LOG_LEVEL ??= 'silent';
const count = Number(process.argv[2] ?? 20);
const sqs = await startTestSqs(['events', 'quarantine']);
const faulty = new FaultySqs(sqs.endpoint, 'service-unavailable');
const endpoint = await faulty.listen();
const eventsUrl = await sqs.queueUrl('events');
Object.assign(process.env, {
  AWS_ENDPOINT_URL_SQS: endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  QUARANTINE_QUEUE_URL: `${endpoint}${new URL(await sqs.queueUrl('quarantine')).pathname}`,
});
const run = await startLocalRun({
  port: 0,
  queueUrl: `${endpoint}${new URL(eventsUrl).pathname}`,
  redriveIntervalMs: DEFAULT_REDRIVE_INTERVAL_MS,
});
const answered = new Map<string, number>();
for (let i = 0; i < count; i++) {
  const response = await fetch(`${run.url}/callbacks/thain/flow?n=${i}`, {
    method: 'POST',
    body: `flowId=1&flowExecutionId=${i}&code=3&message=x`,
  });
  const { id } = (await response.json()) as { id: string };
  if (response.status !== 200) throw new Error(`answered ${response.status}`);
  answered.set(id, performance.now());
}
faulty.mode = 'forward';
const back = performance.now();
const arrived = new Map<string, number>();
while (arrived.size < count && performance.now() - back < 30_000) {
  for (const message of await receiveAll(sqs.client, eventsUrl, { remove: true })) {
    arrived.set(JSON.parse(message.Body ?? '{}').id, performance.now());
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const fromBack = [...arrived.values()].map((t) => t - back).sort((a, b) => a - b);
const fromAnswer = [...arrived].map(([id, t]) => t - (answered.get(id) ?? t)).sort((a, b) => a - b);
const pct = (values: number[], p: number) => Math.round(values[Math.min(values.length - 1, Math.floor(values.length * p))] ?? NaN);
console.log(
  `spool -> queue: ${arrived.size}/${count} events arrived; after the queue came back: min ${pct(fromBack, 0)} ms, ` +
    `median ${pct(fromBack, 0.5)} ms, max ${pct(fromBack, 1)} ms; after their 200: median ${pct(fromAnswer, 0.5)} ms, max ${pct(fromAnswer, 1)} ms ` +
    `(redrive every ${DEFAULT_REDRIVE_INTERVAL_MS} ms)`,
);
await run.close();
await faulty.close();
await sqs.close();
