import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import * as v from 'valibot';

/**
 * Reading one SSM parameter with SigV4 and `fetch`, not with `@aws-sdk/client-ssm`: that client
 * adds about 80 KiB to every bundle (measured with the functions' esbuild options), which would put
 * `tencentCi` past its size budget, while the signer and the credential chain used here are already
 * in each bundle for the SQS client.
 */

/** How long one attempt may take, in milliseconds; two attempts fit well inside Lambda's 10 s init. */
const ATTEMPT_TIMEOUT_MS = 3_000;
const ATTEMPTS = 2;

/** Bytes as the signer hands them over: text, an ArrayBuffer, or a view of one. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

/** SHA-256 (or HMAC-SHA-256 with a key) in the shape the signer takes, from `node:crypto`. */
export class Sha256 {
  readonly #secret: string | Buffer | undefined;
  #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : toBytes(secret);
    this.#hash = this.#fresh();
  }
  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: SourceData): void {
    this.#hash.update(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
}

/** What GetParameter answers (AWS JSON 1.1); only the fields read here. */
const GetParameterOutputSchema = v.object({
  Parameter: v.object({ Type: v.string(), Value: v.string() }),
});
const ErrorOutputSchema = v.object({ __type: v.optional(v.string()) });

/** Options of {@link readSecureStringParameter}; the defaults are what Lambda provides. */
export interface ReadParameterOptions {
  /** Defaults to `AWS_REGION`. */
  readonly region?: string;
  /** Defaults to `AWS_ENDPOINT_URL_SSM` (the SDK's own variable), else the regional endpoint. */
  readonly endpoint?: string;
  /** Defaults to the SDK's credential chain (on Lambda: the function role's keys in the environment). */
  readonly credentials?: ConstructorParameters<typeof SignatureV4>[0]['credentials'];
}

/** A parameter that could not be read, with a message that never holds its value. */
export class ParameterReadError extends Error {
  override name = 'ParameterReadError';
}

/**
 * Reads an SSM `SecureString` parameter, decrypted (`GetParameter` with `WithDecryption`). Needs
 * `ssm:GetParameter` on the parameter; a parameter encrypted with the account's default key
 * (`aws/ssm`) needs no KMS permission, one encrypted with a customer managed key needs `kms:Decrypt`
 * on that key. A parameter of another type is refused, so that tokens never sit in plain text.
 * @returns the parameter's value
 * @throws ParameterReadError when SSM refuses (not found, access denied, ...), does not answer
 *   within two attempts of 3 s, or the parameter is not a SecureString
 */
export async function readSecureStringParameter(name: string, options: ReadParameterOptions = {}): Promise<string> {
  const region = options.region ?? process.env.AWS_REGION ?? '';
  if (region === '') throw new ParameterReadError('no AWS region: AWS_REGION is not set');
  const endpoint = new URL(
    options.endpoint ?? process.env.AWS_ENDPOINT_URL_SSM ?? `https://ssm.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`,
  );
  const signer = new SignatureV4({
    service: 'ssm',
    region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Sha256,
  });
  const body = JSON.stringify({ Name: name, WithDecryption: true });
  let lastProblem = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port !== '' && { port: Number(endpoint.port) }),
      path: '/',
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonSSM.GetParameter',
      },
      body,
    });
    let response: Response;
    try {
      response = await fetch(new URL('/', endpoint), {
        method: 'POST',
        headers: signed.headers,
        body,
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
    } catch (error) {
      lastProblem = networkProblem(error, endpoint.host);
      continue;
    }
    const answer: unknown = await response.json().catch(() => undefined);
    if (response.ok) {
      const parsed = v.safeParse(GetParameterOutputSchema, answer);
      if (!parsed.success) throw new ParameterReadError(`SSM parameter ${name}: the answer is not a GetParameter result`);
      if (parsed.output.Parameter.Type !== 'SecureString') {
        throw new ParameterReadError(
          `SSM parameter ${name} is a ${parsed.output.Parameter.Type} parameter; tokens must be kept in a SecureString`,
        );
      }
      return parsed.output.Parameter.Value;
    }
    const type = v.safeParse(ErrorOutputSchema, answer);
    const code = (type.success ? type.output.__type : undefined)?.split('#').pop() ?? 'unknown error';
    lastProblem = `${code} (HTTP ${response.status})`;
    // Only throttling and server errors are worth a second try.
    if (response.status < 500 && !/Throttl/.test(code)) break;
  }
  throw new ParameterReadError(`SSM parameter ${name} could not be read: ${lastProblem}`);
}

/**
 * What went wrong on the way to SSM, in words a person can act on: fetch only says `TypeError: fetch
 * failed`, its cause has the system error (`ENOTFOUND`, `ECONNREFUSED`, ...) and a timeout is an
 * `AbortError`/`TimeoutError`.
 */
function networkProblem(error: unknown, host: string): string {
  if (!(error instanceof Error)) return 'network error';
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return `no answer from ${host} within ${ATTEMPT_TIMEOUT_MS} ms`;
  const cause = error.cause;
  const code = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${host} could not be resolved (${code}): check AWS_REGION and the network`;
  if (code) return `${host} could not be reached (${code})`;
  return `${host} could not be reached (${cause instanceof Error ? cause.message : error.message})`;
}
