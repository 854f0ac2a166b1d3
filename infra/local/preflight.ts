import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../lib/queue/send-event.ts';
import { createS3Client } from '../../lib/store/payload-bucket.ts';
import { awsProblem } from '../cli/aws-problem.ts';

/** A queue or bucket that is not there, cannot be reached, or may not be used: one line that says what to do. */
export class StoreUnreachableError extends Error {
  override name = 'StoreUnreachableError';
}

/** Says nothing: the SDK's own warnings (a queue URL on another endpoint) would break the one-line answer. */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** How many records a queue holds: visible, and received but not yet deleted (in flight). */
export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
}

/**
 * Checks a queue with one `GetQueueAttributes` call, and says how many messages it holds.
 * @param variable the setting that names it, for the message (`QUEUE_URL`)
 * @throws StoreUnreachableError with one line that says what to do
 */
export async function checkQueue(url: string, variable: string, client?: SQSClient): Promise<QueueDepth> {
  const sqs = client ?? createSqsClient({ logger: quiet });
  try {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  } catch (error) {
    throw new StoreUnreachableError(awsProblem(error, `${variable} ${url}`, 'sqs:GetQueueAttributes', url), { cause: error });
  } finally {
    if (!client) sqs.destroy();
  }
}

/**
 * Checks the payload bucket with one `HeadBucket` call.
 * @param endpoint the S3 endpoint in use, for the message (`AWS_ENDPOINT_URL_S3`), if not AWS's
 * @throws StoreUnreachableError with one line that says what to do
 */
export async function checkBucket(name: string, client?: S3Client, endpoint?: string): Promise<void> {
  const s3 = client ?? createS3Client({ logger: quiet });
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
  } catch (error) {
    throw new StoreUnreachableError(
      awsProblem(error, `PAYLOAD_BUCKET ${name}${endpoint ? ` at ${endpoint}` : ''}`, 's3:ListBucket', endpoint),
      { cause: error },
    );
  } finally {
    if (!client) s3.destroy();
  }
}
