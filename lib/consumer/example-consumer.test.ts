import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRun, startLocalRun } from '../../infra/local/local-run.ts';
import { loadFixture } from '../../infra/testing/fixtures.ts';
import { validSamples } from '../../infra/testing/route-callbacks.ts';
import { receiveAll, testSqsClient, toSqsRecord } from '../../infra/testing/sqs.ts';
import { SOURCE_NAMES } from '../sources/registry.ts';
import { describeEvent } from './event-schemas.ts';
import { createExampleConsumer } from './example-consumer.ts';
import { parseEventRecord } from './parse-record.ts';

// The example consumer against the queue of `npm start`: real callbacks over HTTP into the local
// run, a real SQS-protocol queue, messages received with the SDK and handed over in Lambda's shape.
let run: LocalRun;
let sqs: SQSClient;
let queueUrl: string;
let queueArn: string;

beforeAll(async () => {
  run = await startLocalRun({ port: 0 });
  sqs = testSqsClient(run.sqsEndpoint ?? '');
  queueUrl = run.queueUrls.EventsQueue ?? '';
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  queueArn = Attributes?.QueueArn ?? '';
});
afterAll(async () => {
  sqs.destroy();
  await run.close();
});

/** Every message now visible, received the way Lambda's SQS poller does (attributes included). */
function receiveVisible(): Promise<Message[]> {
  return receiveAll(sqs, queueUrl, { remove: false, visibilityTimeout: 30 });
}

const toRecord = (message: Message): SQSRecord => toSqsRecord(message, queueArn);

describe('functions/example-consumer.ts on the events queue of npm start', () => {
  it('takes every event, and fails only the one record that is not an event', async () => {
    // Prepare: every valid sample of every sender as the sender posts it, and one stray message.
    const ids: string[] = [];
    for (const source of SOURCE_NAMES) {
      for (const fixture of validSamples(source)) {
        const response = await fetch(`${run.url}${fixture.path}?${fixture.query}`, {
          method: 'POST',
          headers: { 'content-type': fixture.contentType },
          body: fixture.body,
        });
        expect(response.status, fixture.name).toBe(200);
        ids.push(((await response.json()) as { id: string }).id);
      }
    }
    const stray = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"hello":"not an event"}' }));
    const messages = await receiveVisible();
    expect(messages).toHaveLength(ids.length + 1);

    // Act: batches of 10, as `batchSize: 10` in serverless.yml.
    const lines: string[] = [];
    const handler = createExampleConsumer({ log: (line) => lines.push(line) });
    const failed: string[] = [];
    for (let start = 0; start < messages.length; start += 10) {
      const batch: SQSEvent = { Records: messages.slice(start, start + 10).map(toRecord) };
      const response = await handler(batch);
      failed.push(...response.batchItemFailures.map((failure) => failure.itemIdentifier));
    }

    // Assess: the stray record alone failed; each event gave one line naming it.
    expect(failed).toEqual([stray.MessageId]);
    const logged = lines.map((line) => JSON.parse(line) as { id: string; source: string; said: string });
    expect(logged.map((line) => line.id).sort()).toEqual([...ids].sort());
    expect(logged.every((line) => line.said.length > 0)).toBe(true);
    expect(logged.some((line) => line.said.includes('Thain job etl-load of flow'))).toBe(true);
    // A moderation result says its verdict (the field fixture is CI's own URL test: normal).
    expect(logged.some((line) => line.said === 'CI moderation ReviewVideo job av1 ended succeeded: normal')).toBe(true);

    // As Lambda does with a partial batch response: delete the rest, the failed record comes back.
    for (const message of messages) {
      if (failed.includes(message.MessageId ?? '')) {
        await sqs.send(
          new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }),
        );
      } else {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }
    const again = await receiveVisible();
    expect(again.map((message) => message.MessageId)).toEqual([stray.MessageId]);
    expect(Number(again[0]?.Attributes?.ApproximateReceiveCount)).toBeGreaterThan(1);
  });

  it('hands over the message attributes that filters use (source, type, status)', async () => {
    const fixture = loadFixture('bk-job', 'bkjob-json-failed');
    await fetch(`${run.url}${fixture.path}`, { method: 'POST', headers: { 'content-type': fixture.contentType }, body: fixture.body });
    const [message] = (await receiveVisible()).filter((m) => !m.Body?.includes('hello'));
    const record = toRecord(message ?? {});
    const event = parseEventRecord(record);
    expect(record.messageAttributes).toEqual({
      source: expect.objectContaining({ stringValue: 'bk-job' }),
      type: expect.objectContaining({ stringValue: 'bkjob.job.finished' }),
      status: expect.objectContaining({ stringValue: event.data.status }),
    });
    expect(describeEvent(event)).toMatch(/^bk-job job \d+ ended failed/);
  });
});
