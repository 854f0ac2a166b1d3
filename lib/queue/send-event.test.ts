import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_QUEUE_TIMEOUTS } from '../../infra/testing/budgets.ts';
import { startTestSqs, type TestSqs } from '../../infra/testing/sqs.ts';
import { createSqsClient, primeConnection } from './send-event.ts';

/** A TCP relay in front of the local SQS that counts the connections clients open. */
interface CountingRelay {
  readonly endpoint: string;
  connections: number;
  close(): Promise<void>;
}

async function countingRelay(target: string): Promise<CountingRelay> {
  const { port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const relay: CountingRelay = { endpoint: '', connections: 0, close: async () => undefined };
  const server: Server = createServer((client) => {
    relay.connections++;
    const upstream = connect(Number(targetPort), '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(relay, {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

let sqs: TestSqs;
let relay: CountingRelay;
let queuePath: string;

beforeAll(async () => {
  sqs = await startTestSqs(['events']);
  relay = await countingRelay(sqs.endpoint);
  queuePath = new URL(await sqs.queueUrl('events')).pathname;
});
afterAll(async () => {
  await relay.close();
  await sqs.close();
});

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('primeConnection', () => {
  it('opens the connection the first SendMessage then uses (one connection for both), and queues nothing', async () => {
    // Prepare: a client that reaches the queue through the relay, as a function's client reaches SQS.
    relay.connections = 0;
    const queueUrl = `${relay.endpoint}${queuePath}`;
    const client = createSqsClient({ region: 'us-east-1', credentials }, TEST_QUEUE_TIMEOUTS);

    // Act
    const primed = await primeConnection(client, queueUrl, TEST_QUEUE_TIMEOUTS);
    const afterPriming = relay.connections;
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'first callback' }));

    // Assess: the send found the primed socket in the pool; the queue holds only the real message.
    expect(primed).toBe(true);
    expect(afterPriming).toBe(1);
    expect(relay.connections).toBe(1);
    expect((await sqs.drain(await sqs.queueUrl('events'))).map((message) => message.Body)).toEqual(['first callback']);
    client.destroy();
  });

  it('gives up within the connect and request budget when the endpoint does not answer, without failing', async () => {
    // A server that accepts connections and never answers.
    const held = new Set<Socket>();
    const silent = createServer((socket) => {
      held.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const client = createSqsClient({ region: 'us-east-1', credentials }, TEST_QUEUE_TIMEOUTS);
    const queueUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}${queuePath}`;

    await expect(primeConnection(client, queueUrl, TEST_QUEUE_TIMEOUTS)).resolves.toBe(false);
    await expect(primeConnection(client, 'http://127.0.0.1:1/000000000000/none', TEST_QUEUE_TIMEOUTS)).resolves.toBe(false);

    client.destroy();
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});
