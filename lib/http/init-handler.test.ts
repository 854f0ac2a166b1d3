import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpEvent } from '../../infra/local/http-event.ts';
import { startTestSqs, type TestSqs } from '../../infra/testing/sqs.ts';
import { ConfigError } from '../config/settings.ts';
import { Sha256 } from '../config/ssm-parameter.ts';
import { callbacks as thain } from '../sources/thain/callback.ts';
import { initCallbackHandler } from './init-handler.ts';

// The init of a deployed function, over real sockets: settings from the environment, tokens from an
// SSM SecureString parameter read with a signed GetParameter call. SSM itself does not run here, so a
// small server stands in for it: it checks the call's SigV4 signature and answers as SSM does.

const CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret-key' };
const TOKEN = 'ssm-token-0123456789abcdef';

interface Parameter {
  readonly Type: string;
  readonly Value: string;
}

/** What the stand-in answers, per parameter name; a missing name answers ParameterNotFound. */
let parameters: Record<string, Parameter> = {};
/** Answers to give before the real one (a throttled SSM), as HTTP statuses. */
let failFirst: number[] = [];
let calls: Array<{ target: string; body: unknown; signatureValid: boolean; scope: string }> = [];
let ssm: Server;
let sqs: TestSqs;
let queueUrl: string;
const savedEnv = { ...process.env };

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Signs the received request again with the known keys: equal signatures mean a valid SigV4 call. */
async function signatureValid(request: IncomingMessage, body: string): Promise<boolean> {
  const headers: Record<string, string> = {};
  for (const name of ['host', 'content-type', 'x-amz-target', 'x-amz-date', 'x-amz-content-sha256']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const date = headers['x-amz-date'] ?? '';
  const signingDate = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({ service: 'ssm', region: 'eu-west-1', credentials: CREDENTIALS, sha256: Sha256 });
  const expected = await signer.sign(
    { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', query: {}, headers, body },
    { signingDate },
  );
  return expected.headers.authorization === request.headers.authorization;
}

beforeAll(async () => {
  ssm = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const parsed = JSON.parse(body) as { Name: string };
      calls.push({
        target: String(request.headers['x-amz-target']),
        body: parsed,
        signatureValid: await signatureValid(request, body),
        scope: /Credential=[^/]+\/\d{8}\/([^,]+),/.exec(String(request.headers.authorization))?.[1] ?? '',
      });
      const status = failFirst.shift();
      if (status !== undefined) {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ __type: status === 400 ? 'ThrottlingException' : 'InternalServerError' }));
        return;
      }
      const parameter = parameters[parsed.Name];
      response.writeHead(parameter ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(
        JSON.stringify(
          parameter
            ? { Parameter: { Name: parsed.Name, ...parameter, Version: 1 } }
            : { __type: 'ParameterNotFound', message: `parameter ${parsed.Name} not found` },
        ),
      );
    })();
  });
  await new Promise<void>((resolve) => ssm.listen(0, '127.0.0.1', resolve));
  sqs = await startTestSqs(['events']);
  queueUrl = await sqs.queueUrl('events');
});
afterAll(async () => {
  await sqs.close();
  await new Promise<void>((resolve) => ssm.close(() => resolve()));
});
afterEach(() => {
  process.env = { ...savedEnv };
  parameters = {};
  failFirst = [];
  calls = [];
});

/** A Lambda-like environment: the queue, the region and the role's keys, plus `extra`. */
function lambdaEnvironment(extra: Record<string, string>): void {
  Object.assign(process.env, {
    QUEUE_URL: queueUrl,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${(ssm.address() as AddressInfo).port}`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    ...extra,
  });
  delete process.env.AWS_PROFILE;
}

async function initFailure(): Promise<string> {
  const error = await initCallbackHandler(thain).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as Error).message;
}

const post = (query: string) =>
  createHttpEvent({ path: '/callbacks/thain/flow', query, body: 'flowId=1&flowExecutionId=2&code=2&message=' });

describe('initCallbackHandler', () => {
  it('reads the tokens from the SSM SecureString once, with a signed GetParameter call, and requires them', async () => {
    lambdaEnvironment({ TOKENS_THAIN_SSM_NAME: '/jobhooks/test/thain-tokens' });
    parameters['/jobhooks/test/thain-tokens'] = { Type: 'SecureString', Value: `${TOKEN},another-token-0123456789` };
    const handler = await initCallbackHandler(thain);
    expect(calls).toEqual([
      {
        target: 'AmazonSSM.GetParameter',
        body: { Name: '/jobhooks/test/thain-tokens', WithDecryption: true },
        signatureValid: true,
        scope: 'eu-west-1/ssm/aws4_request',
      },
    ]);
    expect((await handler(post(`token=${TOKEN}`))).statusCode).toBe(200);
    expect((await handler(post('token=another-token-0123456789'))).statusCode).toBe(200);
    expect((await handler(post('token=wrong-token-0123456789'))).statusCode).toBe(401);
    expect((await handler(post(''))).statusCode).toBe(401);
    expect(calls).toHaveLength(1);
    expect(await sqs.drain(queueUrl)).toHaveLength(2);
  });

  it('tries once more after a throttled or failed call', async () => {
    lambdaEnvironment({ TOKENS_THAIN_SSM_NAME: '/t' });
    parameters['/t'] = { Type: 'SecureString', Value: TOKEN };
    failFirst = [500];
    const handler = await initCallbackHandler(thain);
    expect(calls).toHaveLength(2);
    expect((await handler(post(`token=${TOKEN}`))).statusCode).toBe(200);
    await sqs.drain(queueUrl);
  });

  it('fails the init, naming the variable and the parameter, when SSM refuses', async () => {
    lambdaEnvironment({ TOKENS_THAIN_SSM_NAME: '/jobhooks/missing' });
    expect(await initFailure()).toBe(
      'TOKENS_THAIN_SSM_NAME: SSM parameter /jobhooks/missing could not be read: ParameterNotFound (HTTP 400)',
    );
    expect(calls).toHaveLength(1);
  });

  it('says what to check when SSM cannot be reached at all (a name that does not resolve, a closed port)', async () => {
    lambdaEnvironment({ TOKENS_THAIN_SSM_NAME: '/t', AWS_ENDPOINT_URL_SSM: 'http://ssm.invalid' });
    expect(await initFailure()).toBe(
      'TOKENS_THAIN_SSM_NAME: SSM parameter /t could not be read: ssm.invalid could not be resolved (ENOTFOUND): check AWS_REGION and the network',
    );
    // Port 2: nothing listens there (and fetch does not refuse it as a "bad port", as it does 1).
    lambdaEnvironment({ TOKENS_THAIN_SSM_NAME: '/t', AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:2' });
    expect(await initFailure()).toBe(
      'TOKENS_THAIN_SSM_NAME: SSM parameter /t could not be read: 127.0.0.1:2 could not be reached (ECONNREFUSED)',
    );
  });

  it('fails the init when the parameter is not a SecureString, or holds a malformed token list, never quoting it', async () => {
    lambdaEnvironment({ TOKENS_THAIN_SSM_NAME: '/p' });
    parameters['/p'] = { Type: 'String', Value: TOKEN };
    expect(await initFailure()).toBe(
      'TOKENS_THAIN_SSM_NAME: SSM parameter /p is a String parameter; tokens must be kept in a SecureString',
    );
    parameters['/p'] = { Type: 'SecureString', Value: `${TOKEN},,short` };
    const message = await initFailure();
    expect(message).toBe('TOKENS_THAIN_SSM_NAME: the SSM parameter /p item 2 is empty (two commas in a row, or a comma at an end)');
    expect(message).not.toContain(TOKEN);
  });

  it('fails the init without QUEUE_URL or with any malformed setting', async () => {
    lambdaEnvironment({});
    delete process.env.QUEUE_URL;
    expect(await initFailure()).toBe('QUEUE_URL is not set: it names the events queue');
    lambdaEnvironment({ ALLOW_CIDRS_THAIN: '10.0.0.0/8/32' });
    expect(await initFailure()).toBe('ALLOW_CIDRS_THAIN item 1 ("10.0.0.0/8/32") has more than one "/"');
    lambdaEnvironment({ TOKENS_THAIN: 'too-short' });
    expect(await initFailure()).toMatch(/^TOKENS_THAIN item 1 is 9 characters long/);
    expect(calls).toEqual([]);
  });

  it('fails the init on a variable that looks like a setting but is none, so the source never runs open', async () => {
    lambdaEnvironment({ TOKEN_THAIN: TOKEN });
    expect(await initFailure()).toBe('TOKEN_THAIN is not a setting: did you mean TOKENS_THAIN?');
    delete process.env.TOKEN_THAIN;
    lambdaEnvironment({ ALLOW_CIDR_THAIN: '10.0.0.0/8' });
    expect(await initFailure()).toBe('ALLOW_CIDR_THAIN is not a setting: did you mean ALLOW_CIDRS_THAIN?');
  });
});
