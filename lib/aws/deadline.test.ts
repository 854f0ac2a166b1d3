import { describe, expect, it } from 'vitest';
import { FaultySqs } from '../../infra/testing/faulty-sqs.ts';
import { startTestSqs } from '../../infra/testing/sqs.ts';
import { createSqsClient, QUEUE_TIMEOUTS, sendMessage } from '../queue/send-event.ts';
import { type CallBudget, DeadlineRetryStrategy, withinDeadline } from './deadline.ts';

const budget: CallBudget = { connectMs: 100, requestMs: 200, totalMs: 1_000, maxAttempts: 4 };
const transient = { errorType: 'TRANSIENT' } as const;

describe('DeadlineRetryStrategy', () => {
  it('retries transient, throttling and server errors, never client errors', async () => {
    const strategy = new DeadlineRetryStrategy(budget, () => 0);
    const token = await strategy.acquireInitialRetryToken();
    for (const errorType of ['TRANSIENT', 'THROTTLING', 'SERVER_ERROR'] as const) {
      expect((await strategy.refreshRetryTokenForRetry(token, { errorType })).getRetryCount()).toBe(1);
    }
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR' })).rejects.toThrow(/not retryable/);
  });

  it('stops at maxAttempts, counting the first attempt', async () => {
    const strategy = new DeadlineRetryStrategy(budget, () => 0);
    let token = await strategy.acquireInitialRetryToken();
    for (let retry = 1; retry < budget.maxAttempts; retry++) token = await strategy.refreshRetryTokenForRetry(token, transient);
    expect(token.getRetryCount()).toBe(budget.maxAttempts - 1);
    await expect(strategy.refreshRetryTokenForRetry(token, transient)).rejects.toThrow(/4 attempts made/);
  });

  it('retries only while another attempt can start before the call’s own deadline', async () => {
    let now = 0;
    const strategy = new DeadlineRetryStrategy(budget, () => now);
    const token = await strategy.acquireInitialRetryToken();
    now = budget.totalMs;
    await expect(strategy.refreshRetryTokenForRetry(token, transient)).rejects.toThrow(/no time left/);
    // A call that starts later has its own deadline: nothing is shared between calls.
    const later = await strategy.acquireInitialRetryToken();
    expect((await strategy.refreshRetryTokenForRetry(later, transient)).getRetryCount()).toBe(1);
  });
});

describe('the SQS client under a long outage', () => {
  // The SDK's standard strategy draws retries from one quota per client: after a few dozen failed
  // calls it is spent, and every later call makes one attempt only, the first ones after the queue
  // is back included. Each call here keeps its retries, however many failed before it.
  it('after 110 failed sends, the next send is still retried up to maxAttempts', async () => {
    const sqs = await startTestSqs(['events']);
    const faulty = new FaultySqs(sqs.endpoint, 'service-unavailable');
    const endpoint = await faulty.listen();
    const client = createSqsClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const queueUrl = `${endpoint}${new URL(await sqs.queueUrl('events')).pathname}`;
    const message = { body: '{}', attributes: { source: 'bk-job' }, group: 'g', deduplicationId: 'd' };
    const attemptsOf = async (): Promise<number> => {
      try {
        await sendMessage(client, queueUrl, message);
        return 0;
      } catch (error) {
        const metadata = typeof error === 'object' && error !== null && '$metadata' in error ? error.$metadata : undefined;
        return typeof metadata === 'object' && metadata !== null && 'attempts' in metadata ? Number(metadata.attempts) : -1;
      }
    };
    try {
      const failed: number[] = [];
      for (let batch = 0; batch < 11; batch++) failed.push(...(await Promise.all(Array.from({ length: 10 }, attemptsOf))));
      expect(failed).toEqual(Array(110).fill(QUEUE_TIMEOUTS.maxAttempts));
      const before = faulty.hits.get('service-unavailable') ?? 0;
      expect(await attemptsOf()).toBe(QUEUE_TIMEOUTS.maxAttempts);
      expect((faulty.hits.get('service-unavailable') ?? 0) - before).toBe(QUEUE_TIMEOUTS.maxAttempts);
      // And once the queue is back, the next send goes through.
      faulty.mode = 'forward';
      expect(await attemptsOf()).toBe(0);
    } finally {
      client.destroy();
      await faulty.close();
      await sqs.close();
    }
  }, 60_000);
});

describe('withinDeadline', () => {
  it('rejects once the time is up, naming what did not answer, and settles with the work otherwise', async () => {
    await expect(withinDeadline(new Promise(() => undefined), 10, 'the thing')).rejects.toThrow('the thing did not answer within 10 ms');
    await expect(withinDeadline(Promise.resolve(7), 1_000, 'x')).resolves.toBe(7);
  });
});
