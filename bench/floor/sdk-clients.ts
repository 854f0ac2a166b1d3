import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

// The cold-start floor: the AWS SDK clients every callback function needs (SQS for the queues, S3
// for the payload bucket), bundled exactly like a function (infra/build/bundle.mjs `bundleOptions`),
// built once at import, and a trivial handler. A function bundle is compared against this: what a
// callback function costs beyond the SDK.
const sqs = new SQSClient({});
const s3 = new S3Client({});

export const handler = async (): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 200,
  body: `${sqs.config.serviceId ?? 'SQS'} ${s3.config.serviceId ?? 'S3'}`,
});
