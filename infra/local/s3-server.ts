import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** An embedded S3-compatible server (s3rver) on loopback, its objects in a temporary folder. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

/** s3rver's one account; SigV4 signatures are not checked, but the access key id must be known. */
function registerAccessKey(accessKeyId: string, secretAccessKey: string): void {
  // The module is the account class, with the one account as its DUMMY_ACCOUNT.
  const account: unknown = createRequire(import.meta.url)('s3rver/lib/models/account.js');
  const dummy = typeof account === 'function' && 'DUMMY_ACCOUNT' in account ? account.DUMMY_ACCOUNT : undefined;
  if (typeof dummy === 'object' && dummy !== null && 'createKeyPair' in dummy && typeof dummy.createKeyPair === 'function') {
    dummy.createKeyPair(accessKeyId, secretAccessKey);
    return;
  }
  throw new Error('s3rver changed: its account module has no DUMMY_ACCOUNT.createKeyPair');
}

/**
 * Starts s3rver with the given buckets (names of 3 or more characters). `accessKeyIds` are the keys
 * clients will sign with (s3rver knows only its own, `S3RVER`, until told). Port 0 picks a free one.
 */
export async function startLocalS3(options: {
  port?: number;
  buckets: readonly string[];
  accessKeyIds?: readonly string[];
}): Promise<LocalS3> {
  for (const id of options.accessKeyIds ?? []) registerAccessKey(id, id);
  const directory = await mkdtemp(join(tmpdir(), 'jobhooks-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    // Signatures are checked against a secret s3rver does not have: any signed request is taken.
    allowMismatchedSignatures: true,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
