import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpEvent } from '../../infra/local/http-event.ts';
import { TEST_QUEUE_TIMEOUTS } from '../../infra/testing/budgets.ts';
import { startTestSqs, type TestSqs } from '../../infra/testing/sqs.ts';
import { createSqsClient, createSqsQueue } from '../queue/send-event.ts';
import { callbacks as bkJob } from '../sources/bk-job/callback.ts';
import { callbacks as tencentCi } from '../sources/tencent-ci/callback.ts';
import { accessPolicy } from './authorize.ts';
import { createCallbackHandler } from './callback-handler.ts';
import { MAX_BODY_BYTES } from './read-request.ts';

const VALID = '{"job_instance_id":12345,"status":3}';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A handler whose queue lives at `endpoint`, with the production client's retries within the tests' budget. */
function handlerFor(endpoint: string, queueUrl = `${endpoint}/000000000000/events`) {
  const client = createSqsClient({ endpoint, region: 'us-east-1', credentials }, TEST_QUEUE_TIMEOUTS);
  return createCallbackHandler(bkJob, { queue: createSqsQueue({ queueUrl, client, budget: TEST_QUEUE_TIMEOUTS }) });
}

function post(body: string | Buffer, extra: Parameters<typeof createHttpEvent>[0] = {}) {
  return createHttpEvent({ body, contentType: 'application/json', path: '/callbacks/bk-job', ...extra });
}

describe('queue faults', () => {
  let silent: Server;
  let silentPort: number;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers: a queue that hangs.
    silent = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as AddressInfo).port;
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('answers 503 without internals when nothing listens at the queue', async () => {
    const response = await handlerFor('http://127.0.0.1:9')(post(VALID));
    expect(response.statusCode).toBe(503);
    const body = JSON.parse(response.body ?? '{}');
    expect(body.error).toMatch(/retry/);
    expect(response.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/);
  });

  it('answers 503 when the queue accepts the connection and never answers', async () => {
    const response = await handlerFor(`http://127.0.0.1:${silentPort}`)(post(VALID));
    expect(response.statusCode).toBe(503);
  });

  it('answers 503 when the queue does not exist, then 200 once it does', async () => {
    const sqs = await startTestSqs(['other']);
    try {
      const handler = handlerFor(sqs.endpoint, `${sqs.endpoint}/123456789012/late`);
      expect((await handler(post(VALID))).statusCode).toBe(503);
      const { CreateQueueCommand } = await import('@aws-sdk/client-sqs');
      await sqs.client.send(new CreateQueueCommand({ QueueName: 'late' }));
      expect((await handler(post(VALID))).statusCode).toBe(200);
      expect(await sqs.drain(await sqs.queueUrl('late'))).toHaveLength(1);
    } finally {
      await sqs.close();
    }
  });
});

describe('request handling', () => {
  let sqs: TestSqs;
  let queueUrl: string;
  beforeAll(async () => {
    sqs = await startTestSqs(['events', 'events.fifo']);
    queueUrl = await sqs.queueUrl('events');
  });
  afterAll(() => sqs.close());
  const handler = () => handlerFor(sqs.endpoint, queueUrl);

  it('answers 413 for a body over the limit, base64 or not, and enqueues nothing', async () => {
    const big = `{"job_instance_id":1,"status":3,"pad":"${'x'.repeat(MAX_BODY_BYTES)}"}`;
    for (const event of [post(big), post(Buffer.from(big))]) {
      const response = await handler()(event);
      expect(response.statusCode).toBe(413);
      expect(JSON.parse(response.body ?? '{}').error).toMatch(/limit/);
    }
    expect(await sqs.drain(queueUrl)).toEqual([]);
  });

  it('keeps error answers short whatever the body names', async () => {
    const tag = 'T'.repeat(100_000);
    const response = await createCallbackHandler(tencentCi, { queue: createSqsQueue({ queueUrl, client: sqs.client }) })(
      post(`<Response><${tag}>`),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body ?? '{}').error.length).toBeLessThanOrEqual(300);
  });

  it('answers 400 for a base64 body that is not UTF-8', async () => {
    const response = await handler()(post(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body ?? '{}').error).toMatch(/UTF-8/);
  });

  it('reads a body behind a UTF-8 byte order mark and surrounding whitespace', async () => {
    const response = await handler()(post(`\uFEFF \n${VALID}\n`));
    expect(response.statusCode).toBe(200);
    expect(await sqs.drain(queueUrl)).toHaveLength(1);
  });

  it('keeps repeated labels and odd label names as plain data', async () => {
    const response = await handler()(post(VALID, { query: 'env=a&env=b&__proto__=x&constructor=y' }));
    expect(response.statusCode).toBe(200);
    const [message] = await sqs.drain(queueUrl);
    const labels = JSON.parse(message?.Body ?? '{}').data.labels;
    expect(labels).toEqual(JSON.parse('{"env":"a,b","__proto__":"x","constructor":"y"}'));
  });

  it('sends to a FIFO queue with the event id as deduplication id, grouped by job', async () => {
    const fifoUrl = await sqs.queueUrl('events.fifo');
    const fifo = handlerFor(sqs.endpoint, fifoUrl);
    const first = JSON.parse((await fifo(post(VALID))).body ?? '{}');
    const again = JSON.parse((await fifo(post(VALID, { contentType: 'application/x-www-form-urlencoded' }))).body ?? '{}');
    expect(again.id).toBe(first.id);
    const messages = await sqs.drain(fifoUrl);
    // The retry is deduplicated by SQS itself: one message for two deliveries.
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Attributes?.MessageGroupId).toBe('bk-job:12345');
  });
});

describe('logs', () => {
  let sqs: TestSqs;
  beforeAll(async () => {
    sqs = await startTestSqs(['events']);
  });
  afterAll(() => sqs.close());

  /** Runs `act` with the default log level and returns every line written to stdout meanwhile. */
  async function captureLogs(act: () => Promise<unknown>): Promise<string[]> {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const level = process.env.LOG_LEVEL;
    delete process.env.LOG_LEVEL;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      lines.push(chunk.toString());
      return true;
    }) as typeof process.stdout.write;
    try {
      await act();
    } finally {
      process.stdout.write = write;
      process.env.LOG_LEVEL = level;
    }
    return lines.join('').split('\n').filter(Boolean);
  }

  it('writes one JSON line per request, with no token and no body, whatever the answer', async () => {
    const queueUrl = await sqs.queueUrl('events');
    const handler = createCallbackHandler(bkJob, {
      queue: createSqsQueue({ queueUrl, client: sqs.client }),
      quarantine: false,
      access: accessPolicy(['tok-SECRET-1']),
    });
    const secretBody = '{"job_instance_id":555,"status":3,"note":"BODY-MARKER"}';
    const lines = await captureLogs(async () => {
      await handler(post(secretBody, { query: 'token=tok-SECRET-1&team=a' })); // 200
      await handler(post(secretBody, { query: 'token=tok-SECRET-2' })); // 401
      await handler(post('{"job_instance_id":"BODY-MARKER","status":"BODY-MARKER"}', { query: 'token=tok-SECRET-1' })); // 422
    });
    expect(lines).toHaveLength(3);
    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.map((entry) => entry.status)).toEqual([200, 401, 422]);
    expect(entries[0]).toMatchObject({ route: 'POST /callbacks/bk-job', source: 'bk-job', type: 'bkjob.job.finished' });
    expect(entries[0].eventId).toMatch(/^[0-9a-f]{32}$/);
    for (const entry of entries) {
      expect(typeof entry.ms).toBe('number');
      expect(entry.requestId).toBeTruthy();
    }
    expect(entries[1].error).toEqual({ name: 'UnauthorizedError' });
    expect(entries[2].error).toEqual({ name: 'InvalidPayloadError', fields: ['job_instance_id', 'status'] });
    expect(lines.join('\n')).not.toMatch(/SECRET|BODY-MARKER/);
    await sqs.drain(queueUrl);
  });
});
