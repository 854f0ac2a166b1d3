import type { ServiceConfig } from './service-config.ts';

// Where `npm start` runs its parts, so that the tools that talk to it (replay, send, a consumer) find them.

/** The HTTP port of `npm start`. */
export const DEFAULT_PORT = 3000;

/** The embedded SQS port of `npm start`, so that `npm run replay` and consumers find it. */
export const DEFAULT_SQS_PORT = 9324;
/** The embedded S3 port of `npm start` (s3rver's own default). */
export const DEFAULT_S3_PORT = 4568;
/** How often `npm start` redrives the spool, in ms. */
export const DEFAULT_REDRIVE_INTERVAL_MS = 2_000;

/** The payload bucket's name in the local run: the bucket `serverless.yml` declares. */
export function localBucketName(config: ServiceConfig): string {
  const [bucket] = config.buckets;
  if (!bucket) throw new Error('serverless.yml declares no S3 bucket for the payloads');
  return bucket.name;
}

/** An account id and region for the embedded SQS: cosmetic, they only shape ARNs and URLs. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
/** The access key id (and secret) the embedded servers take unless `AWS_ACCESS_KEY_ID` says another. */
export const LOCAL_KEY = 'local';

/** The URL of a queue `serverless.yml` declares, on the embedded SQS at `endpoint`. */
export function localQueueUrl(config: ServiceConfig, endpoint: string, logicalId: string): string {
  const queue = config.queues.find((q) => q.logicalId === logicalId);
  if (!queue) throw new Error(`serverless.yml declares no queue ${logicalId}`);
  return `${endpoint}/${LOCAL_ACCOUNT}/${queue.name}`;
}
