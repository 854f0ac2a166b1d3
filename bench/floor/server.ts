import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { createSqsClient } from '../../lib/queue/send-event.ts';

// The end-to-end floor: the least a callback endpoint can do and still answer 200 only once the
// event is in the queue. Same shape as `npm start` (one process: an HTTP server and an embedded
// local-aws-sqs, the SDK client built like the functions'), but each request is answered after one
// SendMessage of a constant body: no decode, no validation, no event, no log line.
// Env: PORT (0: any free port). Prints `listening on <url>` and `EventsQueue: <queue url>`.

const BODY = JSON.stringify({ specversion: '1.0', id: 'floor', source: 'floor', type: 'floor.constant.event' });

const sqs = await createSqsServer({
  port: 0,
  hostname: '127.0.0.1',
  region: 'us-east-1',
  accountId: '000000000000',
  emulateQueueCreationLifecycle: false,
  queues: [{ QueueName: 'floor-events', Attributes: { MaximumMessageSize: '1048576' } }],
});
const endpoint = `http://127.0.0.1:${(sqs.address() as AddressInfo).port}`;
const queueUrl = `${endpoint}/000000000000/floor-events`;
const client = createSqsClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

const server = createServer((request, response) => {
  // Read the whole body, as the local run does, then enqueue the constant event.
  request.on('data', () => undefined);
  request.on('end', () => {
    client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: BODY })).then(
      () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"ok":true}');
      },
      () => {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end('{"error":"queue unavailable"}');
      },
    );
  });
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.stdout.write(`listening on http://127.0.0.1:${port}\nembedded SQS at ${endpoint}; queues:\n  EventsQueue: ${queueUrl}\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close();
    sqs.closeAllConnections();
    sqs.close();
    process.exit(0);
  });
}
