import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

// The floor function: the least a callback function can do and still keep every callback. The AWS
// SDK clients every callback function needs (SQS for the queue, S3 for what does not fit a message),
// built once at import with the SDK's defaults, and a handler that sends the raw body as the
// message, with three String attributes as the functions send (what API Gateway's direct SQS
// integration does); a body too large for one message goes to the bucket first and the message
// names it. No decoding, no validation, no event, no log line. It is bundled exactly like a function
// (infra/build/bundle.mjs `bundleOptions`), and the bench compares each function with it: size,
// import, init and first answer, memory.
// Env: QUEUE_URL, PAYLOAD_BUCKET (and the SDK's own AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3).

const sqs = new SQSClient({});
const s3 = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });

/** SQS's largest message, less the margin the functions keep. */
const FITS = 1024 * 1024 - 16 * 1024;

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  // The raw body as text: as handed over, or (bytes that are not text) its base64.
  const body = event.body ?? '';
  const attributes = {
    source: { DataType: 'String', StringValue: event.rawPath },
    type: { DataType: 'String', StringValue: 'floor.raw.body' },
    status: { DataType: 'String', StringValue: event.isBase64Encoded ? 'base64' : 'text' },
  };
  let message = body;
  if (Buffer.byteLength(body) > FITS) {
    const key = `floor/${event.requestContext.requestId}`;
    await s3.send(new PutObjectCommand({ Bucket: process.env.PAYLOAD_BUCKET, Key: key, Body: body }));
    message = `s3://${process.env.PAYLOAD_BUCKET}/${key}`;
  }
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE_URL, MessageBody: message, MessageAttributes: attributes }));
  return { statusCode: 200, body: '{"ok":true}' };
};
