import type { AddressInfo } from 'node:net';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';

/** A real SQS-protocol server on loopback, with queues, for tests. */
export interface TestSqs {
  readonly endpoint: string;
  readonly client: SQSClient;
  /** The URL of a queue this server holds. */
  queueUrl(name: string): Promise<string>;
  /** Receives (and deletes) every message now in the queue. */
  drain(queueUrl: string): Promise<Message[]>;
  close(): Promise<void>;
}

/** Starts `local-aws-sqs` on a free port with the given queues (names, optionally `.fifo`). */
export async function startTestSqs(queueNames: readonly string[] = ['events']): Promise<TestSqs> {
  const server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    queues: queueNames.map((name) => ({
      QueueName: name,
      Attributes: {
        MaximumMessageSize: '1048576',
        ...(name.endsWith('.fifo') && { FifoQueue: 'true' }),
      },
    })),
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = testSqsClient(endpoint);
  return {
    endpoint,
    client,
    async queueUrl(name) {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
      if (!QueueUrl) throw new Error(`no queue ${name}`);
      return QueueUrl;
    },
    drain: (queueUrl) => receiveAll(client, queueUrl, { remove: true }),
    close() {
      client.destroy();
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/**
 * Receives every message now visible in a queue, attributes included, the way Lambda's poller does.
 * `remove`: delete each batch once received (the queue is empty after); otherwise the messages stay
 * out of sight for `visibilityTimeout` seconds, so each is received once.
 */
export async function receiveAll(
  client: SQSClient,
  queueUrl: string,
  options: { remove: boolean; visibilityTimeout?: number },
): Promise<Message[]> {
  // local-aws-sqs makes a sent message receivable on a 0 ms timer (its DelaySeconds); under load a
  // receive right after the send can run before those timers. A later timer runs after them.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const all: Message[] = [];
  // Bounded: with a visibility timeout shorter than the loop, what it received comes back in sight.
  for (let empty = 0; empty < 50; ) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: options.visibilityTimeout ?? 600,
        MessageAttributeNames: ['All'],
        AttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) {
      // An empty receive is not proof of an empty queue: local-aws-sqs scans its messages on a 10 ms
      // timer within a 40 ms window, and a starved event loop can close the window first. Its counts
      // are exact: receive again while any message is in sight or about to be.
      if (!(await holdsReceivable(client, queueUrl))) return all;
      empty++;
      continue;
    }
    all.push(...Messages);
    if (options.remove) {
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
  }
  return all;
}

/**
 * Whether a local-aws-sqs queue holds a message that a receive could return now or soon: in sight,
 * or delayed (its `ApproximateNumberOfMessages` also counts the ones out of sight).
 */
async function holdsReceivable(client: SQSClient, queueUrl: string): Promise<boolean> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const inSight = Number(Attributes.ApproximateNumberOfMessages ?? 0) - Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  return inSight > 0 || Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0) > 0;
}

/** An SDK client for a local endpoint, with dummy credentials (nothing here talks to AWS). */
export function testSqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** An SQS message as the record Lambda hands to a function subscribed to the queue `queueArn`. */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '',
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: value.DataType ?? 'String', stringValue: value.StringValue ?? '', stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}
