import type { S3Client } from '@aws-sdk/client-s3';
import { createPayloadBucket, createS3Client, type PayloadBucket } from '../../lib/store/payload-bucket.ts';
import { startLocalS3 } from '../local/s3-server.ts';

/** A real S3-compatible server (s3rver) on loopback, with buckets, for tests. */
export interface TestS3 {
  readonly endpoint: string;
  /** A client built as the functions build theirs (bounded timeouts and retries). */
  readonly client: S3Client;
  /** A payload bucket of this server, through {@link client}. */
  bucket(name: string): PayloadBucket;
  /** Every key of a bucket under a prefix, sorted. */
  keys(name: string, prefix?: string): Promise<string[]>;
  close(): Promise<void>;
}

/** Starts s3rver on a free port with the given buckets (names of 3 or more characters). */
export async function startTestS3(buckets: readonly string[] = ['payloads']): Promise<TestS3> {
  const server = await startLocalS3({ buckets, accessKeyIds: ['local'] });
  const client = testS3Client(server.endpoint);
  return {
    endpoint: server.endpoint,
    client,
    bucket: (name) => createPayloadBucket({ bucket: name, client }),
    keys: async (name, prefix = '') =>
      (await createPayloadBucket({ bucket: name, client }).list(prefix, 100_000)).map((object) => object.key).sort(),
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

/** An S3 client for a local endpoint, with dummy credentials (nothing here talks to AWS). */
export function testS3Client(endpoint: string): S3Client {
  return createS3Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}
