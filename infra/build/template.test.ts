import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig, SERVICE_DIR } from '../local/service-config.ts';

// The CloudFormation template exactly as `npx sls package` writes it, offline, no AWS account.
let dir: string;
let template: Template;
let raw: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobhooks-package-'));
  await promisify(execFile)(
    process.execPath,
    [join(SERVICE_DIR, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'test', '--package', dir],
    { cwd: SERVICE_DIR, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' } },
  );
  raw = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
  template = Template.fromJSON(raw);
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const functions = loadServiceConfig().functions;
const logicalName = (fn: string) => `${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`;

describe('sls package template', () => {
  it('has the events queue with a redrive policy to its dead-letter queue', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: Match.objectLike({ 'Fn::If': Match.arrayWith(['jobhooks-test-events']) }),
      MaximumMessageSize: 1048576,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: Match.objectLike({ 'Fn::If': Match.arrayWith(['jobhooks-test-events-dlq']) }),
    });
  });

  it.each(functions.map((fn) => [fn.name, fn] as const))('%s: arm64, current Node.js, QUEUE_URL from Ref', (_name, fn) => {
    template.hasResource('AWS::Lambda::Function', {
      Properties: Match.objectLike({
        Handler: `${fn.module}.${fn.export}`,
        Runtime: Match.stringLikeRegexp('^nodejs(22|24)\\.x$'),
        Architectures: ['arm64'],
        Environment: { Variables: Match.objectLike({ QUEUE_URL: { Ref: 'EventsQueue' } }) },
      }),
    });
    expect(raw.Resources[logicalName(fn.name)]).toBeDefined();
  });

  it.each(functions.map((fn) => [fn.name, fn] as const))('%s: an HTTP API route per declared path, and a public function URL', (_name, fn) => {
    for (const route of fn.routes) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `${route.method === '*' ? 'ANY' : route.method} ${route.path}`,
      });
    }
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [logicalName(fn.name), 'Arn'] },
    });
    // Function URLs created since late 2025 need both permissions for anonymous callers.
    for (const action of ['lambda:InvokeFunctionUrl', 'lambda:InvokeFunction']) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: action,
        Principal: '*',
        FunctionName: Match.objectLike({ 'Fn::GetAtt': [logicalName(fn.name), 'Arn'] }),
      });
    }
  });

  it('has a quarantine queue with its own retention, named to the functions', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'jobhooks-test-quarantine',
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ QUARANTINE_QUEUE_URL: { Ref: 'QuarantineQueue' } }) },
    });
    template.hasOutput('QuarantineQueueUrl', { Value: { Ref: 'QuarantineQueue' } });
  });

  it('builds a FIFO events queue and dead-letter queue only when asked to', () => {
    const queue = raw.Resources.EventsQueue?.Properties ?? {};
    expect(queue.QueueName).toEqual({ 'Fn::If': ['FifoEvents', 'jobhooks-test-events.fifo', 'jobhooks-test-events'] });
    expect(queue.FifoQueue).toEqual({ 'Fn::If': ['FifoEvents', true, { Ref: 'AWS::NoValue' }] });
    expect(raw.Resources.EventsDeadLetterQueue?.Properties?.FifoQueue).toEqual(queue.FifoQueue);
    template.templateMatches({ Conditions: { FifoEvents: { 'Fn::Equals': ['false', 'true'] } } });
  });

  it('fills token and allowlist variables from deploy parameters, empty by default', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TOKENS_BK_JOB: '', TOKENS_TENCENT_CI: '', TOKENS_THAIN: '',
          ALLOW_CIDRS_BK_JOB: '', ALLOW_CIDRS_TENCENT_CI: '', ALLOW_CIDRS_THAIN: '',
        }),
      },
    });
  });

  it('lets the functions send to the events and quarantine queues, and do nothing else but write their logs', () => {
    const roles = Object.values(raw.Resources).filter((r) => r.Type === 'AWS::IAM::Role');
    const statements = roles.flatMap((role) =>
      ((role.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>).flatMap(
        (policy) => policy.PolicyDocument.Statement,
      ),
    );
    const actions = statements.flatMap((s) => [s.Action].flat().map(String));
    expect(actions.filter((a) => !a.startsWith('logs:'))).toEqual(['sqs:SendMessage']);
    const send = statements.find((s) => [s.Action].flat().includes('sqs:SendMessage'));
    expect(send?.Resource).toEqual([
      { 'Fn::GetAtt': ['EventsQueue', 'Arn'] },
      { 'Fn::GetAtt': ['QuarantineQueue', 'Arn'] },
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/"(Action|Resource)":"\*"|"\*"\]/);
  });

  it('outputs the queue URL and ARN', () => {
    template.hasOutput('EventsQueueUrl', { Value: { Ref: 'EventsQueue' } });
    template.hasOutput('EventsQueueArn', { Value: { 'Fn::GetAtt': ['EventsQueue', 'Arn'] } });
  });

  it('ships one bundled artifact per function', async () => {
    const zips = (await readdir(dir)).filter((file) => file.endsWith('.zip')).sort();
    expect(zips).toEqual(functions.map((fn) => `${fn.name}.zip`).sort());
  });
});
