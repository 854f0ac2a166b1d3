import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript, startChild } from '../testing/child-run.ts';
import { loadFixture } from '../testing/fixtures.ts';
import { closedPort } from '../testing/ports.ts';
import { startTestS3, type TestS3 } from '../testing/s3.ts';
import { startTestSqs, type TestSqs } from '../testing/sqs.ts';

// `npm start` as a user runs it (the same command as the npm script). With a malformed setting, a
// queue or bucket it cannot use, or a flag it does not take, it must stop before it serves anything,
// with exit code 1 and one line that says what to do; running, it must say what it does.

let home: string;
let sqs: TestSqs;
let s3: TestS3;
let closed: number;

beforeAll(async () => {
  // An empty home: no ~/.aws of the machine's user is read.
  home = await mkdtemp(join(tmpdir(), 'jobhooks-home-'));
  sqs = await startTestSqs(['events', 'quarantine']);
  s3 = await startTestS3(['payloads']);
  closed = await closedPort();
});
afterAll(async () => {
  await sqs.close();
  await s3.close();
  await rm(home, { recursive: true, force: true });
});

/** Only what is given: no AWS setting of the machine's user leaks in. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_EC2_METADATA_DISABLED: 'true',
    PORT: '0',
    SQS_PORT: '0',
    S3_PORT: '0',
    ...extra,
  };
}

/** A 200 answer. */
const OkSchema = v.object({ ok: v.literal(true), id: v.string() });

const LOCAL_AWS = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

async function npmStart(extra: Record<string, string>, args: string[] = []) {
  return runScript('infra/local/start.ts', args, { env: env(extra), inherit: false, timeoutMs: 40_000 });
}

function oneLine(outcome: { code: number | null; stdout: string; stderr: string }): string {
  expect(outcome.code).toBe(1);
  expect(outcome.stdout).not.toMatch(/listening on/);
  const lines = outcome.stderr.split('\n').filter(Boolean);
  expect(lines, outcome.stderr).toHaveLength(1);
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
  return lines[0] ?? '';
}

describe('npm start with a malformed setting', () => {
  it.each([
    ['ALLOW_CIDRS_THAIN', '10.9.9.9/', 'item 1 ("10.9.9.9/") has an empty prefix length after "/"'],
    ['ALLOW_CIDRS_BK_JOB', '203.0.113.7/', 'item 1 ("203.0.113.7/") has an empty prefix length after "/"'],
    ['ALLOW_CIDRS_TENCENT_CI', '2001:db8::/', 'item 1 ("2001:db8::/") has an empty prefix length after "/"'],
    ['ALLOW_CIDRS_THAIN', '10.0.0.0/8/32', 'item 1 ("10.0.0.0/8/32") has more than one "/"'],
    ['TOKENS_THAIN', 'abc+defghijklmnopq', 'item 1 has a character other than'],
    ['PORT', 'abc', 'must be an integer 0–65535, got "abc"'],
    ['TOKEN_BK_JOB', 'abcdefghijklmnopqrs', 'is not a setting: did you mean TOKENS_BK_JOB?'],
    ['tokens_thain', 'abcdefghijklmnopqrs', 'is not a setting: did you mean TOKENS_THAIN?'],
    ['SQS_PORT', '70000', 'must be an integer 0–65535, got "70000"'],
    ['QUEUE_URL', 'https://sqs.eu-west-1.amazonaws.com/q', 'must be an SQS queue URL like'],
  ])(
    '%s=%s stops it with exit code 1 and one line naming the variable',
    async (variable, value, problem) => {
      const line = oneLine(await npmStart({ [variable]: value }));
      expect(line).toContain(`npm start: ${variable} ${problem}`);
      if (/^tokens?_/i.test(variable)) expect(line).not.toContain(value);
    },
    40_000,
  );

  it('refuses a flag it does not take, and one that npm took for itself', async () => {
    expect(oneLine(await npmStart({}, ['--wacth']))).toBe("npm start: Unknown option '--wacth'; npm start -- --help lists what it takes");
    // `npm start --watch` (no `--`): npm keeps the flag and says so in its environment.
    expect(oneLine(await npmStart({ npm_config_watch: 'true' }))).toBe(
      'npm start: npm took --watch for itself: put -- between the command and its flags (npm start -- --watch)',
    );
  }, 40_000);
});

describe('npm start with a queue or bucket it cannot use', () => {
  it('says nothing answers at QUEUE_URL', async () => {
    const url = `http://127.0.0.1:${closed}/000000000000/events`;
    expect(oneLine(await npmStart({ QUEUE_URL: url, ...LOCAL_AWS }))).toBe(
      `npm start: QUEUE_URL ${url}: nothing answers at 127.0.0.1:${closed} (ECONNREFUSED): start it, or fix the address`,
    );
  }, 40_000);

  it('says the queue does not exist', async () => {
    const url = `${sqs.endpoint}/000000000000/no-such-queue`;
    expect(oneLine(await npmStart({ QUEUE_URL: url, ...LOCAL_AWS }))).toMatch(/^npm start: QUEUE_URL \S+: there is no such queue/);
  }, 40_000);

  it('says what is missing: a region, credentials', async () => {
    const url = await sqs.queueUrl('events');
    expect(oneLine(await npmStart({ QUEUE_URL: url, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' }))).toMatch(
      /the AWS SDK has no region: set AWS_REGION/,
    );
    expect(oneLine(await npmStart({ QUEUE_URL: url, AWS_REGION: 'us-east-1' }))).toMatch(
      /no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
  }, 60_000);

  it('says the bucket does not exist', async () => {
    const line = oneLine(await npmStart({ PAYLOAD_BUCKET: 'no-such-bucket', AWS_ENDPOINT_URL_S3: s3.endpoint, ...LOCAL_AWS }));
    expect(line).toMatch(/^npm start: PAYLOAD_BUCKET no-such-bucket at http:\/\/127\.0\.0\.1:\d+: there is no such bucket/);
  }, 40_000);
});

describe('npm start, running', () => {
  it('says what runs where, and one line per request: events, duplicates, quarantined, unknown routes', async () => {
    const child = startChild('infra/local/start.ts', ['--verbose'], { env: env({}), inherit: false });
    try {
      const [, url] = await child.waitFor(/listening on (http:\/\/\S+)/);
      const banner = child.output();
      expect(banner).toMatch(/^jobhooks local run: embedded queue and bucket/m);
      expect(banner).toContain(`inspector   ${url}/`);
      expect(banner).toMatch(/^ {14}QuarantineQueue: http:\/\/127\.0\.0\.1:\d+\/000000000000\/jobhooks-local-quarantine$/m);
      expect(banner).toMatch(/^ {14}EventsQueue: http:\/\/127\.0\.0\.1:\d+\/000000000000\/jobhooks-local-events$/m);
      expect(banner).toContain('  quarantine  on: refused callbacks are kept in QuarantineQueue');
      expect(banner).toMatch(/^ {2}tokens {6}bk-job: none, any caller; tencent-ci: none, any caller; thain: none, any caller$/m);
      const sample = loadFixture('thain', 'thain-flow-success');
      const post = (path: string, body: string | Buffer) => fetch(`${url}${path}`, { method: 'POST', body });
      const first = v.parse(OkSchema, await (await post(`${sample.path}?flow=etl`, sample.body)).json());
      await post('/callbacks/bk-job?team=ops&token=secret-value', '{"job_instance_id":7,"status":3}');
      await post('/callbacks/bk-job?team=ops', '{"job_instance_id":7,"status":3}');
      await post('/callbacks/bk-job', '{"status":3}');
      await post('/callbacks/bkjob', '{}');
      const time = '\\d\\d:\\d\\d:\\d\\d\\.\\d{3}';
      await child.waitFor(new RegExp(`^${time} #5 404 `, 'm'));
      const output = child.output();
      expect(output).toMatch(
        new RegExp(
          `^${time} #1 200 POST /callbacks/thain/flow\\?flow=etl  thain\\.flow\\.status  subject 5001  id ${first.id}  [\\d.]+ ms$`,
          'm',
        ),
      );
      // --verbose: the attributes and the event under its line.
      expect(output).toContain('  attributes: source=thain type=thain.flow.status status=succeeded\n  {\n    "specversion": "1.0",');
      expect(output).toMatch(
        new RegExp(`^${time} #2 200 POST /callbacks/bk-job\\?team=ops&token=REDACTED  bkjob\\.job\\.finished  subject 7`, 'm'),
      );
      expect(output).toMatch(
        new RegExp(`^${time} #3 200 POST /callbacks/bk-job\\?team=ops  bkjob\\.job\\.finished  subject 7  id \\w+  duplicate of #2 `, 'm'),
      );
      expect(output).toMatch(
        new RegExp(`^${time} #4 422 POST /callbacks/bk-job  quarantined: bk-job callback is not valid: job_instance_id: is missing`, 'm'),
      );
      expect(output).toMatch(
        new RegExp(
          `^${time} #5 404 POST /callbacks/bkjob  no route serves this path; the routes: POST /callbacks/bk-job, POST /url/bkJob/… \\(function URL\\), .*POST /callbacks/thain/\\{kind\\} \\(\\{kind\\}: flow, job, modify\\)`,
          'm',
        ),
      );
      expect(output).not.toContain('secret-value');
    } finally {
      await child.stop();
    }
  }, 60_000);

  it('with QUEUE_URL set: says so, and shows the events and quarantined callbacks the same way', async () => {
    const queueUrl = await sqs.queueUrl('events');
    const quarantineUrl = await sqs.queueUrl('quarantine');
    const child = startChild('infra/local/start.ts', [], {
      env: env({ QUEUE_URL: queueUrl, QUARANTINE_QUEUE_URL: quarantineUrl, AWS_ENDPOINT_URL_SQS: sqs.endpoint, ...LOCAL_AWS }),
      inherit: false,
    });
    try {
      const [, url] = await child.waitFor(/listening on (http:\/\/\S+)/);
      expect(child.output()).toMatch(/^jobhooks local run: external queue \(QUEUE_URL\), embedded bucket$/m);
      expect(child.output()).toContain(`  events      ${queueUrl} (QUEUE_URL, checked)`);
      expect(child.output()).toContain(`  quarantine  on: ${quarantineUrl} (QUARANTINE_QUEUE_URL, checked; npm run replay)`);
      const answer = v.parse(
        OkSchema,
        await (await fetch(`${url}/callbacks/bk-job`, { method: 'POST', body: '{"job_instance_id":8,"status":3}' })).json(),
      );
      await fetch(`${url}/callbacks/bk-job`, { method: 'POST', body: '{"status":3}' });
      await child.waitFor(/#2 422 POST \/callbacks\/bk-job {2}quarantined: /);
      expect(child.output()).toMatch(new RegExp(`#1 200 POST /callbacks/bk-job  bkjob\\.job\\.finished  subject 8  id ${answer.id}`));
      expect((await sqs.drain(queueUrl)).map((message) => JSON.parse(message.Body ?? '{}').id)).toEqual([answer.id]);
      expect(await sqs.drain(quarantineUrl)).toHaveLength(1);
    } finally {
      await child.stop();
    }
  }, 60_000);
});
