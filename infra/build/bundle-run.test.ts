import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpEvent } from '../local/http-event.ts';
import { loadServiceConfig } from '../local/service-config.ts';
import { buildFunctionBundle, runBundle } from '../testing/deployed-bundle.ts';
import { ROUTE_CALLBACKS } from '../testing/route-callbacks.ts';
import { startTestSqs, type TestSqs } from '../testing/sqs.ts';

// What `sls deploy` ships, run as Lambda runs it: each function's bundle, built with the options the
// Serverless plugin uses, imported by a fresh `node` (no TypeScript loader, nothing but the bundle)
// and invoked with an HTTP API event; the event must land in a real local queue.

/** Per callback function, its sender's first route with a real callback for it. */
const CASES = loadServiceConfig()
  .functions.filter((fn) => fn.sender !== undefined)
  .map((fn) => {
    const route = ROUTE_CALLBACKS.find((candidate) => candidate.function === fn.name);
    if (!route) throw new Error(`no route of ${fn.name}`);
    return { fn: fn.name, source: route.source, sample: route.sample, path: route.path };
  });

let dir: string;
let sqs: TestSqs;
let queueUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobhooks-bundles-'));
  sqs = await startTestSqs(['events']);
  queueUrl = await sqs.queueUrl('events');
}, 60_000);
afterAll(async () => {
  await sqs.close();
  await rm(dir, { recursive: true, force: true });
});

describe('deployed bundles', () => {
  it('cover every callback function of serverless.yml', () => {
    const served = loadServiceConfig()
      .functions.filter((fn) => fn.url)
      .map((fn) => fn.name);
    expect([...served].sort()).toEqual(CASES.map((c) => c.fn).sort());
  });

  it.each(CASES)(
    '$fn: the bundle alone answers 200 and its event is in the queue',
    async ({ fn, source, sample, path }) => {
      const event = createHttpEvent({ body: sample.body, contentType: sample.contentType, path, query: 'team=ops' });
      const {
        answers: [response],
      } = await runBundle(await buildFunctionBundle(fn, dir), [event], {
        QUEUE_URL: queueUrl,
        AWS_ENDPOINT_URL_SQS: sqs.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        LOG_LEVEL: 'silent',
      });
      expect(response?.statusCode).toBe(200);
      const [message] = await sqs.drain(queueUrl);
      expect(JSON.parse(message?.Body ?? '{}')).toMatchObject({
        id: JSON.parse(response?.body ?? '{}').id,
        source,
        data: { labels: { team: 'ops' } },
      });
    },
    60_000,
  );
});
