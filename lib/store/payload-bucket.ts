import { hash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { boundedClientConfig, type CallBudget, withinDeadline } from '../aws/deadline.ts';

/**
 * Time budget of one call to the payload bucket, retries included. A spool write follows a failed
 * SQS send (at most `QUEUE_TIMEOUTS.totalMs`), so the two together stay well inside the 15 s that
 * bk-job waits for an answer. An attempt may carry an object of several MB, hence the longer
 * `requestMs` than SQS's.
 */
export const STORE_TIMEOUTS: CallBudget = {
  connectMs: 1_000,
  requestMs: 2_500,
  totalMs: 4_000,
  maxAttempts: 4,
};

/** The key prefixes of the payload bucket; each has its own lifecycle rule. */
export const PREFIXES = {
  /** Whole events too large for one SQS message (claim-check), referenced by `dataref`. */
  events: 'events/',
  /** Events (and quarantine records) that SQS did not take in time, until the redrive sends them. */
  spool: 'spool/',
  /** Bodies of rejected callbacks too large for a quarantine record, referenced by the record. */
  quarantine: 'quarantine/',
} as const;

/** An object of the bucket as a listing shows it. */
export interface StoredObject {
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
}

/**
 * The payload bucket: the project's second durable store beside SQS. Every call is bounded by
 * {@link STORE_TIMEOUTS} and rejects when the bucket did not answer in time.
 */
export interface PayloadBucket {
  readonly name: string;
  /**
   * Writes an object. `sha256` (hex) of `body` goes along, so S3 refuses the write if the bytes
   * changed on the way.
   */
  put(key: string, body: Buffer, contentType: string, sha256: string): Promise<void>;
  /** Reads a whole object; rejects with an error named `NoSuchKey` when there is none. */
  get(key: string): Promise<Buffer>;
  /** The keys under `prefix`, in key order, at most `limit` of them. */
  list(prefix: string, limit: number): Promise<StoredObject[]>;
  delete(key: string): Promise<void>;
}

/** The SHA-256 of some bytes, as 64 lower-case hex digits. */
export function sha256Hex(body: Buffer | string): string {
  return hash('sha256', body);
}

/**
 * A shard of 2 hex digits (256 of them) to put after a key's prefix, so that writes spread over
 * many key prefixes: S3 scales its request rate per prefix (3,500 writes a second each).
 */
export function shardOf(text: string): string {
  return hash('sha256', text).slice(0, 2);
}

/**
 * Where the whole event goes when it is too large for SQS: content-addressed (the event id and the
 * digest of its bytes), so writing the same event twice writes the same object, and two deliveries
 * with one id (bk-job's JSON attempt and its form-labelled retry) never overwrite each other.
 */
export function eventObjectKey(id: string, sha256: string): string {
  return `${PREFIXES.events}${sha256.slice(0, 2)}/${id}-${sha256.slice(0, 16)}.json`;
}

/** Where a rejected callback's body goes when it does not fit its quarantine record. */
export function quarantineObjectKey(receivedAt: Date, requestId: string, sha256: string): string {
  return `${PREFIXES.quarantine}${sha256.slice(0, 2)}/${receivedAt.toISOString()}-${requestId || sha256.slice(0, 16)}.body`;
}

/** `s3://bucket/key`, the form of a CloudEvents `dataref` into the bucket. */
export function objectUrl(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The bucket and key of an `s3://bucket/key` URL, or undefined when it is not one. */
export function parseObjectUrl(url: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(url);
  return match?.[1] && match[2] ? { bucket: match[1], key: match[2] } : undefined;
}

/**
 * Builds the S3 client (once per container) with bounded timeouts and retries. The endpoint,
 * region and credentials follow the SDK's own variables (`AWS_ENDPOINT_URL_S3`, ...) unless
 * `overrides` names them. With a custom endpoint (a local S3-compatible server) requests use
 * path-style addressing, since `<bucket>.127.0.0.1` resolves nowhere.
 */
export function createS3Client(overrides: S3ClientConfig = {}, budget: CallBudget = STORE_TIMEOUTS): S3Client {
  const customEndpoint = Boolean(overrides.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
  return new S3Client({
    forcePathStyle: customEndpoint,
    // The project checks its objects with its own SHA-256 (sent along on each write, and compared by
    // every reader of a `dataref`): no second CRC over several MB on every call.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
    ...boundedClientConfig(budget),
  });
}

/** A {@link PayloadBucket} on S3; each call within `budget` ({@link STORE_TIMEOUTS} by default). */
export function createPayloadBucket(options: { bucket: string; client?: S3Client; budget?: CallBudget }): PayloadBucket {
  const budget = options.budget ?? STORE_TIMEOUTS;
  const client = options.client ?? createS3Client({}, budget);
  const Bucket = options.bucket;
  const bounded = <T>(work: Promise<T>) => withinDeadline(work, budget.totalMs, 'the payload bucket');
  return {
    name: Bucket,
    async put(key, body, contentType, sha256) {
      await bounded(
        client.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          }),
        ),
      );
    },
    get: (key) =>
      bounded(
        (async () => {
          const { Body } = await client.send(new GetObjectCommand({ Bucket, Key: key }));
          if (!Body) throw new Error(`s3://${Bucket}/${key} has no body`);
          return Buffer.from(await Body.transformToByteArray());
        })(),
      ),
    list: (prefix, limit) =>
      bounded(
        (async () => {
          const found: StoredObject[] = [];
          let token: string | undefined;
          do {
            const page = await client.send(
              new ListObjectsV2Command({
                Bucket,
                Prefix: prefix,
                MaxKeys: Math.min(1_000, limit - found.length),
                ...(token && { ContinuationToken: token }),
              }),
            );
            for (const object of page.Contents ?? []) {
              if (object.Key) found.push({ key: object.Key, size: object.Size ?? 0 });
            }
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
          } while (token && found.length < limit);
          return found;
        })(),
      ),
    async delete(key) {
      await bounded(client.send(new DeleteObjectCommand({ Bucket, Key: key })));
    },
  };
}

const sharedClients = new Map<string, S3Client>();
/**
 * The one S3 client of this container. (One per `AWS_ENDPOINT_URL_S3`: in Lambda that never
 * changes; a test process runs several local S3 servers one after the other.)
 */
export function containerS3Client(): S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? '';
  let client = sharedClients.get(endpoint);
  if (!client) {
    client = createS3Client();
    sharedClients.set(endpoint, client);
  }
  return client;
}

/**
 * Reads the object an `s3://bucket/key` URL names (a `dataref`), with the container's S3 client
 * unless given one. Rejects for a URL that is not `s3://`, or when S3 does not answer in time.
 */
export function readObjectUrl(url: string, client: S3Client = containerS3Client()): Promise<Buffer> {
  const parsed = parseObjectUrl(url);
  if (!parsed) return Promise.reject(new Error(`${url} is not an s3://<bucket>/<key> URL`));
  return createPayloadBucket({ bucket: parsed.bucket, client }).get(parsed.key);
}

/** The bucket named by `PAYLOAD_BUCKET`, or undefined when none is configured. */
export function bucketFromEnvironment(): PayloadBucket | undefined {
  const bucket = process.env.PAYLOAD_BUCKET;
  return bucket ? createPayloadBucket({ bucket, client: containerS3Client() }) : undefined;
}
