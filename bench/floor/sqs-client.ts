import { SQSClient } from '@aws-sdk/client-sqs';

// The cold-start floor: the AWS SDK's SQS client, bundled exactly like a function
// (infra/build/bundle.mjs `bundleOptions`), built once at import, and a trivial handler.
// A function bundle is compared against this: what a callback function costs beyond the SDK.
const client = new SQSClient({});

export const handler = async (): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 200,
  body: client.config.serviceId ?? 'SQS',
});
