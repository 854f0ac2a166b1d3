import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOG_LINE_BYTES } from '../../lib/http/log.ts';
import { MAX_BODY_BYTES } from '../../lib/http/read-request.ts';
import { CALLBACK_METRICS, DIMENSIONS, OUTCOMES } from '../../lib/metrics/catalogue.ts';
import { MAX_MESSAGE_BYTES } from '../../lib/queue/send-event.ts';
import { SENDERS } from '../../lib/sources/registry.ts';
import { createHttpEvent } from '../local/http-event.ts';
import { type Datapoint, metricDatapoints } from '../local/metric-counters.ts';
import { loadServiceConfig } from '../local/service-config.ts';
import { type BundleRun, buildFunctionBundle, runBundle } from '../testing/deployed-bundle.ts';
import { ROUTE_CALLBACKS } from '../testing/route-callbacks.ts';
import { startTestS3, type TestS3 } from '../testing/s3.ts';
import { startTestSqs, type TestSqs } from '../testing/sqs.ts';

// The metrics as a deployed stack produces them: each callback function's bundle, exactly as
// `sls deploy` ships it, run by a fresh `node` against a real local SQS and S3, is sent a mix of good,
// bad, unauthenticated and oversized callbacks, one that is claim-checked and one that is spooled;
// the spool redrive's bundle then moves the spooled one. The lines they print are read as CloudWatch
// reads embedded metric format, and the counts per source and outcome must be those of the mix.

const TOKEN = 'bundle-metrics-token-0123456789';
const TARGET = { METRICS_NAMESPACE: 'jobhooks/test', METRICS_SERVICE: 'jobhooks-test' };

let dir: string;
let sqs: TestSqs;
let s3: TestS3;
let stores: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobhooks-bundle-metrics-'));
  [sqs, s3] = await Promise.all([startTestSqs(['events', 'quarantine']), startTestS3(['payloads'])]);
  stores = {
    ...TARGET,
    QUEUE_URL: await sqs.queueUrl('events'),
    QUARANTINE_QUEUE_URL: await sqs.queueUrl('quarantine'),
    PAYLOAD_BUCKET: 'payloads',
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    LOG_LEVEL: 'info',
  };
}, 60_000);
afterAll(async () => {
  await Promise.all([sqs.close(), s3.close()]);
  await rm(dir, { recursive: true, force: true });
});

/** One request of the mix and the outcome it must have. */
interface Case {
  readonly what: string;
  readonly event: APIGatewayProxyEventV2;
  readonly bodyBytes: number;
  readonly outcome: string;
  readonly quarantined?: true;
  readonly claimChecked?: true;
  readonly spooled?: true;
}

/** A valid body made larger than one SQS message, in its own format (an unknown field is kept, not refused). */
function padded(body: Buffer): Buffer {
  const pad = 'x'.repeat(MAX_MESSAGE_BYTES + 100_000);
  const text = body.toString('utf8');
  if (text.trimStart().startsWith('{')) return Buffer.from(text.replace('{', `{"pad":"${pad}",`));
  if (text.trimStart().startsWith('<')) {
    const close = text.lastIndexOf('</');
    return Buffer.from(`${text.slice(0, close)}<Pad>${pad}</Pad>${text.slice(close)}`);
  }
  return Buffer.from(`${text}&pad=${pad}`);
}

/** The mix sent to one callback function; the last case goes to a copy whose queue is missing, so it is spooled. */
function mixOf(fn: string): Case[] {
  const routes = ROUTE_CALLBACKS.filter((route) => route.function === fn);
  const [first] = routes;
  const sender = SENDERS.find((candidate) => candidate.name === first?.source);
  if (!first || !sender) throw new Error(`no route or sender for ${fn}`);
  const post = (body: string | Buffer, options: { path?: string; query?: string; contentType?: string } = {}) =>
    createHttpEvent({
      body,
      path: options.path ?? first.path,
      query: options.query ?? `token=${TOKEN}`,
      contentType: options.contentType ?? first.sample.contentType,
    });
  const sized = (body: string | Buffer) => Buffer.byteLength(body);
  const unknownShape = sender.formats.includes('json') ? '{}' : sender.formats.includes('form') ? 'x=1' : '<Response/>';
  const big = padded(first.sample.body);
  const oversize = 'x'.repeat(MAX_BODY_BYTES + 1);
  return [
    ...routes.flatMap((route) =>
      [1, 2].map((n) => ({
        what: `${route.route} sample, label ${n}`,
        event: post(route.sample.body, { path: route.path, query: `token=${TOKEN}&n=${n}` }),
        bodyBytes: sized(route.sample.body),
        outcome: 'accepted',
      })),
    ),
    {
      what: 'a body whose event is larger than a message',
      event: post(big),
      bodyBytes: big.length,
      outcome: 'accepted',
      claimChecked: true,
    },
    {
      what: 'a shape the sender never sends',
      event: post(unknownShape),
      bodyBytes: sized(unknownShape),
      outcome: 'refused-422',
      quarantined: true,
    },
    { what: 'truncated JSON', event: post('{"a":'), bodyBytes: 5, outcome: 'refused-400', quarantined: true },
    // Lambda itself refuses such an invocation: the handler only sees one under npm start, and cannot keep it.
    {
      what: 'a body over what Lambda takes',
      event: post(oversize, { contentType: 'text/plain' }),
      bodyBytes: oversize.length,
      outcome: 'refused-413',
    },
    { what: 'no token', event: post(first.sample.body, { query: 'n=3' }), bodyBytes: sized(first.sample.body), outcome: 'refused-401' },
    {
      what: 'SQS does not take it',
      event: post(first.sample.body, { query: `token=${TOKEN}&n=4` }),
      bodyBytes: sized(first.sample.body),
      outcome: 'accepted',
      spooled: true,
    },
  ];
}

const CALLBACK_FUNCTIONS = loadServiceConfig().functions.filter((fn) => fn.sender !== undefined);

describe('the metric lines the packaged bundles print', () => {
  it.each(CALLBACK_FUNCTIONS.map((fn) => [fn.name, fn.sender ?? ''] as const))(
    '%s: one line per request, and the counts per source and outcome of the mix',
    async (fn, source) => {
      const sender = SENDERS.find((candidate) => candidate.name === source);
      if (!sender) throw new Error(`${fn} names no registered sender`);
      const mix = mixOf(fn);
      const healthy = mix.filter((c) => !c.spooled);
      const spooled = mix.filter((c) => c.spooled);
      const bundle = await buildFunctionBundle(fn, dir);
      const access = { [`TOKENS_${sender.environmentSuffix}`]: TOKEN };

      // Prepare / Act: the mix, then the spooled case against a queue that does not exist, then one redrive.
      const runs: BundleRun[] = [
        await runBundle(
          bundle,
          healthy.map((c) => c.event),
          { ...stores, ...access },
        ),
        await runBundle(
          bundle,
          spooled.map((c) => c.event),
          { ...stores, ...access, QUEUE_URL: `${stores.QUEUE_URL}-missing` },
        ),
      ];
      const redrive = await runBundle(await buildFunctionBundle('spoolRedrive', dir), [{}], stores);

      // Assess: every answer is the one the case names...
      const answers = runs.flatMap((run) => run.answers);
      expect(answers.map((a, i) => `${mix[i]?.what}: ${a.statusCode}`)).toEqual(
        mix.map((c) => `${c.what}: ${c.outcome === 'accepted' ? 200 : Number(c.outcome.slice('refused-'.length))}`),
      );
      // ...each request printed one line, within the bound, which carries its metrics...
      const lines = runs.flatMap((run) => run.lines);
      expect(lines).toHaveLength(mix.length);
      for (const line of lines) expect(Buffer.byteLength(`${line}\n`)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
      const points: Datapoint[] = [...lines, ...redrive.lines].flatMap((line) => metricDatapoints(line));
      // ...in the stack's namespace, under dimensions from short fixed lists only...
      const allowed: Record<string, readonly string[]> = {
        [DIMENSIONS.service]: ['jobhooks-test'],
        [DIMENSIONS.source]: [source],
        [DIMENSIONS.type]: sender.types,
        [DIMENSIONS.outcome]: OUTCOMES,
      };
      for (const point of points) {
        expect(point.namespace).toBe('jobhooks/test');
        for (const [name, value] of Object.entries(point.dimensions)) expect(allowed[name], `${name}=${value}`).toContain(value);
      }
      // ...and the sums, as CloudWatch adds them up per metric and dimension set, are the mix's.
      const sum = (name: string, dimensions: Record<string, string>) =>
        points
          .filter((p) => p.name === name && JSON.stringify(p.dimensions) === JSON.stringify({ Service: 'jobhooks-test', ...dimensions }))
          .reduce((total, p) => total + p.values.reduce((a, b) => a + b, 0), 0);
      const count = (name: string, dimensions: Record<string, string>) =>
        points.filter(
          (p) => p.name === name && JSON.stringify(p.dimensions) === JSON.stringify({ Service: 'jobhooks-test', ...dimensions }),
        ).length;
      const bySource = { source };
      expect(sum(CALLBACK_METRICS.callbacks.Name, bySource)).toBe(mix.length);
      const outcomes = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, sum(CALLBACK_METRICS.callbacks.Name, { source, outcome })]));
      const expected = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, mix.filter((c) => c.outcome === outcome).length]));
      expect(outcomes).toEqual(expected);
      expect(sum(CALLBACK_METRICS.quarantined.Name, bySource)).toBe(mix.filter((c) => c.quarantined).length);
      expect(sum(CALLBACK_METRICS.claimChecked.Name, bySource)).toBe(1);
      expect(sum(CALLBACK_METRICS.spooled.Name, bySource)).toBe(1);
      expect(sum(CALLBACK_METRICS.redriven.Name, bySource)).toBe(1);
      expect(sum(CALLBACK_METRICS.bodyBytes.Name, bySource)).toBe(mix.reduce((total, c) => total + c.bodyBytes, 0));
      expect(count(CALLBACK_METRICS.answerTime.Name, bySource)).toBe(mix.length);
      // Accepted callbacks by type: what reached the events queue (the redrive included), type by type.
      const queued = (await sqs.drain(stores.QUEUE_URL ?? '')).map((message) => message.MessageAttributes?.type?.StringValue ?? '');
      expect(queued).toHaveLength(mix.filter((c) => c.outcome === 'accepted').length);
      const byType = Object.fromEntries(sender.types.map((type) => [type, sum(CALLBACK_METRICS.callbacks.Name, { source, type })]));
      expect(byType).toEqual(Object.fromEntries(sender.types.map((type) => [type, queued.filter((t) => t === type).length])));
      await sqs.drain(stores.QUARANTINE_QUEUE_URL ?? '');
    },
    120_000,
  );
});
