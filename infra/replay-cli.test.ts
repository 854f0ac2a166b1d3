import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalRun, startLocalRun } from './local/local-run.ts';
import { checkQueue } from './local/preflight.ts';
import { runScript } from './testing/child-run.ts';
import { closedPort } from './testing/ports.ts';
import { receiveAll, testSqsClient } from './testing/sqs.ts';

// `npm run replay` as a user runs it (the npm script's command), against a local run of its own:
// found by the ports it is given, strict about its flags, one line for what it cannot reach, one
// line per record, and honest about records still in flight.
let run: LocalRun;
let sqs: SQSClient;
let ports: { SQS_PORT: string; S3_PORT: string };

beforeAll(async () => {
  run = await startLocalRun({ port: 0, inspector: false });
  sqs = testSqsClient(run.sqsEndpoint ?? '');
  ports = { SQS_PORT: new URL(run.sqsEndpoint ?? '').port, S3_PORT: new URL(run.s3Endpoint ?? '').port };
});
afterAll(async () => {
  sqs.destroy();
  await run.close();
});
beforeEach(async () => {
  await receiveAll(sqs, run.quarantineQueueUrl ?? '', { remove: true });
  await receiveAll(sqs, run.eventsQueueUrl, { remove: true });
});

/** Runs the replay command with only `env` (and PATH) set: no setting of this process or the machine's user leaks in. */
function replay(args: string[], env: Record<string, string> = ports) {
  return runScript('infra/replay.ts', args, {
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true', ...env },
    inherit: false,
  });
}

async function quarantine(path: string, body: string): Promise<void> {
  const response = await fetch(`${run.url}${path}`, { method: 'POST', body });
  expect([400, 422]).toContain(response.status);
}

/** How many records the quarantine holds, in sight or not. */
async function stillQuarantined(): Promise<number> {
  const depth = await checkQueue(run.quarantineQueueUrl ?? '', 'the quarantine queue', sqs);
  return depth.visible + depth.inFlight;
}

describe('npm run replay', () => {
  it('prints its help, and refuses a flag it does not take, without touching the quarantine', async () => {
    await quarantine('/callbacks/bk-job', '{"status":3}');
    const help = await replay(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run replay -- \[--dry-run\]/);
    for (const flag of ['--dryrun', '-n']) {
      const refused = await replay([flag]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(`npm run replay: Unknown option '${flag}'; npm run replay -- --help lists what it takes\n`);
    }
    const eaten = await replay([], { ...ports, npm_config_dry_run: 'true' });
    expect(eaten.stderr).toBe(
      'npm run replay: npm took --dry-run for itself: put -- between the command and its flags (npm run replay -- --dry-run)\n',
    );
    expect(await stillQuarantined()).toBe(1);
  });

  it('says which endpoints it uses, and one line per record: when, sender, route, labels, what happened', async () => {
    await quarantine('/callbacks/bk-job?team=ops', '{"status":3}');
    const outcome = await replay(['--dry-run']);
    expect(outcome.code).toBe(0);
    const [said, line, summary, left] = outcome.stdout.split('\n');
    expect(said).toBe(
      `replaying npm start's embedded SQS at ${run.sqsEndpoint} (SQS_PORT) and S3 at ${run.s3Endpoint} (S3_PORT) (dry run: nothing is sent or deleted)`,
    );
    expect(line).toMatch(
      /^ {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}bk-job {2}\/callbacks\/bk-job\?team=ops {2}still failing: 422 -> 422 bk-job callback is not valid: job_instance_id: is missing {2}\[id [\w-]+\]$/,
    );
    expect([summary, left]).toEqual(['would replay 0, still failing 1', '1 record(s) stay in the quarantine for the next fix']);
    expect(await stillQuarantined()).toBe(1);
  });

  it('replays a record kept from a mistyped URL on the route it was meant for (--route)', async () => {
    // A modify callback sent to the flow URL: refused there, it is a good one for /modify.
    await quarantine('/callbacks/thain/flow?flow=etl', 'flowId=101&status=1');
    const outcome = await replay(['--source', 'thain', '--route', '/callbacks/thain/modify']);
    expect(outcome.stdout).toMatch(
      / {2}thain {2}\/callbacks\/thain\/flow -> \/callbacks\/thain\/modify\?flow=etl {2}replayed: 422 -> 200, event \w+ /,
    );
    expect(outcome.stdout).toContain('done: the quarantine is empty');
    const [event] = (await receiveAll(sqs, run.eventsQueueUrl, { remove: true })).map((message) => JSON.parse(message.Body ?? '{}'));
    expect(event).toMatchObject({ type: 'thain.flow.modified', subject: '101', data: { labels: { flow: 'etl' }, status: 'paused' } });
    const wrong = await replay(['--source', 'thain', '--route', '/callbacks/thain/task']);
    expect(wrong.stderr).toBe(
      'npm run replay: --route /callbacks/thain/task: not a route of thain (/callbacks/thain/flow, /callbacks/thain/job, /callbacks/thain/modify)\n',
    );
    expect((await replay(['--route', '/callbacks/thain/job'])).stderr).toBe(
      'npm run replay: --route applies to the records you choose: add --source <sender> or --id <id>\n',
    );
  });

  it('drops a junk record by its id, and leaves the others', async () => {
    await quarantine('/callbacks/bk-job', '{"status":3}');
    await quarantine('/callbacks/thain/job', 'junk=1');
    const listed = await replay(['--dry-run', '--source', 'thain']);
    const id = /\[id ([\w-]+)\]/.exec(listed.stdout)?.[1] ?? '';
    const dropped = await replay(['--drop', id]);
    expect(dropped.stdout).toMatch(new RegExp(` {2}thain {2}/callbacks/thain/job {2}dropped {2}\\[id ${id}\\]`));
    expect(dropped.stdout).toContain('replayed 0, still failing 1, dropped 1');
    expect(await stillQuarantined()).toBe(1);
  });

  it('reports records still in flight (taken by a replay that was killed) instead of done', async () => {
    await quarantine('/callbacks/bk-job', '{"status":3}');
    // What a killed replay leaves: a record received, out of sight for its visibility timeout.
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: run.quarantineQueueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 300 }));
    const outcome = await replay([]);
    expect(outcome.stdout).toContain('replayed 0, still failing 0\n');
    expect(outcome.stdout).toContain(
      'not done: 1 record(s) were in flight, taken by another replay or by one that was killed; they come back within 300 s of being taken: run npm run replay again then',
    );
  });

  it('says in one line, without a stack trace, what it cannot reach or what is missing', async () => {
    const closed = await closedPort();
    const unreachable = await replay([], { SQS_PORT: String(closed), S3_PORT: ports.S3_PORT });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(
      `npm run replay: the quarantine queue http://127.0.0.1:${closed}/000000000000/jobhooks-local-quarantine: nothing answers at 127.0.0.1:${closed} (ECONNREFUSED): start it, or fix the address; is npm start running? If it runs with other ports, give replay the same (SQS_PORT=<port> S3_PORT=<port> npm run replay)\n`,
    );
    expect((await replay([], { QUEUE_URL: 'x' })).stderr).toBe(
      'npm run replay: QUEUE_URL must be an SQS queue URL like https://sqs.<region>.amazonaws.com/<12-digit account>/<queue name>, got "x"\n',
    );
    expect((await replay([], { QUEUE_URL: run.eventsQueueUrl })).stderr).toMatch(/set both QUEUE_URL and QUARANTINE_QUEUE_URL/);
    const deployed = { QUEUE_URL: run.eventsQueueUrl, QUARANTINE_QUEUE_URL: run.quarantineQueueUrl ?? '' };
    const noRegion = await replay([], { ...deployed, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    expect(noRegion.stderr).toMatch(/^npm run replay: the quarantine queue \S+: the AWS SDK has no region: set AWS_REGION/);
    const noCredentials = await replay([], { ...deployed, AWS_REGION: 'us-east-1' });
    expect(noCredentials.stderr).toMatch(/^npm run replay: the quarantine queue \S+: no AWS credentials were found/);
    for (const outcome of [unreachable, noRegion, noCredentials]) expect(outcome.stderr).not.toMatch(/\n\s+at /);
  });
});
