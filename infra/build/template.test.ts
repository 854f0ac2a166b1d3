import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig, SERVICE_DIR } from '../local/service-config.ts';

// The CloudFormation template exactly as `npx sls package` writes it, offline, no AWS account.
interface RawResource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Properties?: Record<string, unknown>;
}
interface RawTemplate {
  Conditions: Record<string, unknown>;
  Resources: Record<string, RawResource>;
  Outputs: Record<string, { Value: unknown; Condition?: string }>;
}

let dir: string;
let template: Template;
let raw: RawTemplate;
/** The same service packaged with every optional parameter set. */
let withParams: RawTemplate;

/** `sls package` into `out`, with `--param` pairs; returns the template it wrote. */
async function slsPackage(out: string, params: Record<string, string> = {}): Promise<RawTemplate> {
  await promisify(execFile)(
    process.execPath,
    [
      join(SERVICE_DIR, 'node_modules', 'osls', 'bin', 'serverless.js'),
      'package',
      '--stage',
      'test',
      '--package',
      out,
      ...Object.entries(params).map(([key, value]) => `--param=${key}=${value}`),
    ],
    { cwd: SERVICE_DIR, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' } },
  );
  return JSON.parse(await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobhooks-package-'));
  // One after the other: both build into the service's .serverless folder.
  raw = await slsPackage(join(dir, 'default'));
  template = Template.fromJSON(raw);
  withParams = await slsPackage(join(dir, 'params'), {
    exampleConsumer: 'true',
    reservedConcurrency: '20',
    alarmEmail: 'ops@example.com',
    alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops',
    oldestEventAlarmSeconds: '600',
    serverErrorAlarmThreshold: '5',
    httpApiRateLimit: '10',
    httpApiBurstLimit: '20',
    logRetentionDays: '90',
  });
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const functions = loadServiceConfig().functions;
/** The functions that take callbacks: those with an HTTP API route or a function URL. */
const callbackFunctions = functions.filter((fn) => fn.routes.length > 0 || fn.url);
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

  it.each(callbackFunctions.map((fn) => [fn.name, fn] as const))('%s: an HTTP API route per declared path, and a public function URL', (_name, fn) => {
    for (const route of fn.routes) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `${route.method === '*' ? 'ANY' : route.method} ${route.path}`,
      });
    }
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [logicalName(fn.name), 'Arn'] },
    });
    // Function URLs created since late 2025 need both permissions for anonymous callers; the
    // second is limited to calls that come through the function URL.
    const permission = (suffix: string) => raw.Resources[`${logicalName(fn.name).replace(/Function$/, '')}Permission${suffix}`];
    expect(permission('FnUrl')).toEqual({
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: { 'Fn::GetAtt': [logicalName(fn.name), 'Arn'] },
        Action: 'lambda:InvokeFunctionUrl',
        Principal: '*',
        FunctionUrlAuthType: 'NONE',
      },
    });
    expect(permission('Fn')).toEqual({
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: { 'Fn::GetAtt': [logicalName(fn.name), 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: '*',
        InvokedViaFunctionUrl: true,
      },
    });
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

  it('gives each function only its own token and allowlist variables, empty by default', () => {
    const variables = (fn: string) =>
      Object.keys((raw.Resources[fn]?.Properties?.Environment as { Variables: object }).Variables).sort();
    expect(variables('BkJobLambdaFunction')).toEqual(['ALLOW_CIDRS_BK_JOB', 'QUARANTINE_QUEUE_URL', 'QUEUE_URL', 'TOKENS_BK_JOB']);
    expect(variables('TencentCiLambdaFunction')).toEqual(['ALLOW_CIDRS_TENCENT_CI', 'QUARANTINE_QUEUE_URL', 'QUEUE_URL', 'TOKENS_TENCENT_CI']);
    expect(variables('ThainLambdaFunction')).toEqual(['ALLOW_CIDRS_THAIN', 'QUARANTINE_QUEUE_URL', 'QUEUE_URL', 'TOKENS_THAIN']);
    expect(variables('ExampleConsumerLambdaFunction')).toEqual(['QUARANTINE_QUEUE_URL', 'QUEUE_URL']);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TOKENS_THAIN: '', ALLOW_CIDRS_THAIN: '' }) },
    });
  });

  it('grants each queue action on its queue only, logs on the service log groups, and never `*`', () => {
    const roles = Object.values(raw.Resources).filter((r) => r.Type === 'AWS::IAM::Role');
    expect(roles).toHaveLength(1);
    const statements = roles.flatMap((role) =>
      ((role.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>).flatMap(
        (policy) => policy.PolicyDocument.Statement,
      ),
    );
    const queueStatements = statements.filter((s) => [s.Action].flat().some((a) => !String(a).startsWith('logs:')));
    expect(queueStatements).toEqual([
      // The callback functions: send events, and keep rejected callbacks.
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: [{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }, { 'Fn::GetAtt': ['QuarantineQueue', 'Arn'] }],
      },
      // The example consumer's subscription (added by the Serverless Framework for its sqs event).
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: [{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }],
      },
    ]);
    for (const statement of statements.filter((s) => !queueStatements.includes(s))) {
      expect(statement.Effect).toBe('Allow');
      for (const resource of [statement.Resource].flat()) {
        expect(JSON.stringify(resource)).toMatch(/log-group:\/aws\/lambda\/jobhooks-test\*:\*/);
      }
    }
    // No action or resource is `*` or ends in one (`sqs:*`); log-group patterns above are scoped.
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) expect(String(action)).not.toMatch(/\*/);
      for (const resource of [statement.Resource].flat()) expect(resource).not.toBe('*');
      expect(statement.NotAction ?? statement.NotResource).toBeUndefined();
    }
  });

  it('hands the functions HTTP API payload 2.0, the event shape the handler reads', () => {
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    expect(Object.keys(integrations).length).toBeGreaterThan(0);
    for (const integration of Object.values(integrations)) {
      expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
  });

  it('outputs the queue URL and ARN', () => {
    template.hasOutput('EventsQueueUrl', { Value: { Ref: 'EventsQueue' } });
    template.hasOutput('EventsQueueArn', { Value: { 'Fn::GetAtt': ['EventsQueue', 'Arn'] } });
  });

  it('ships one bundled artifact per function', async () => {
    const zips = (await readdir(join(dir, 'default'))).filter((file) => file.endsWith('.zip')).sort();
    expect(zips).toEqual(functions.map((fn) => `${fn.name}.zip`).sort());
  });
});

/** Every `Ref`, `Fn::GetAtt` and `${Name}` in `Fn::Sub` that a value points at. */
function referencesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencesOf);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    if (key === 'Ref' && typeof inner === 'string') return [inner];
    if (key === 'Fn::GetAtt' && Array.isArray(inner)) return [String(inner[0])];
    if (key === 'Fn::Sub') {
      const text = Array.isArray(inner) ? String(inner[0]) : String(inner);
      return [...text.matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}/g)].map((match) => match[1] ?? '');
    }
    return referencesOf(inner);
  });
}

/** The alarm topic, whichever it is: the stack's own, or `alarmTopicArn`. */
const alarmTarget = (arn: string) => ({ 'Fn::If': ['UseAlarmTopicArn', arn, { Ref: 'AlarmTopic' }] });

describe('sls package template: production settings', () => {
  it('keeps every log group for logRetentionDays (30 by default)', () => {
    const retention = (t: RawTemplate) =>
      Object.values(t.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup').map((r) => r.Properties?.RetentionInDays);
    expect(retention(raw)).toEqual(functions.map(() => 30));
    expect(retention(withParams)).toEqual(functions.map(() => 90));
  });

  it.each([
    ['DeadLetterQueueAlarm', 'EventsDeadLetterQueue'],
    ['QuarantineQueueAlarm', 'QuarantineQueue'],
  ])('%s fires as soon as %s holds a message', (alarm, queue) => {
    expect(raw.Resources[alarm]?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on the age of the oldest event, at oldestEventAlarmSeconds', () => {
    const expected = (threshold: number) => ({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['EventsQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(raw.Resources.OldestEventAlarm?.Properties).toMatchObject(expected(3600));
    expect(withParams.Resources.OldestEventAlarm?.Properties).toMatchObject({ ...expected(0), Threshold: '600' });
  });

  it('alarms on 5xx answers of the HTTP API', () => {
    expect(raw.Resources.HttpApiServerErrorAlarm?.Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(withParams.Resources.HttpApiServerErrorAlarm?.Properties?.Threshold).toBe('5');
  });

  it.each(callbackFunctions.map((fn) => [fn.name] as const))(
    '%s: its logged 5xx answers (either front door) count towards one alarm, and so do its Lambda errors',
    (name) => {
      const id = logicalName(name).replace(/LambdaFunction$/, '');
      expect(raw.Resources[`${id}ServerErrorMetricFilter`]).toEqual({
        Type: 'AWS::Logs::MetricFilter',
        Properties: {
          LogGroupName: { Ref: `${id}LogGroup` },
          FilterPattern: '{ $.status >= 500 }',
          MetricTransformations: [
            { MetricNamespace: 'jobhooks/test', MetricName: 'ServerErrorAnswers', MetricValue: '1', Unit: 'Count' },
          ],
        },
      });
      expect(raw.Resources[`${id}LogGroup`]?.Properties?.LogGroupName).toBe(`/aws/lambda/jobhooks-test-${name}`);
      expect(raw.Resources[`${id}ErrorsAlarm`]?.Properties).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalName(name) } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    },
  );

  it('alarms on the logged 5xx answers', () => {
    expect(raw.Resources.ServerErrorAnswersAlarm?.Properties).toMatchObject({
      Namespace: 'jobhooks/test',
      MetricName: 'ServerErrorAnswers',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('has every alarm notify the alarm topic when it fires and when it recovers', () => {
    const alarms = (t: RawTemplate) => Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms(raw)).toHaveLength(5 + callbackFunctions.length);
    for (const alarm of alarms(raw)) {
      expect(alarm.Properties?.AlarmActions).toEqual([alarmTarget('')]);
      expect(alarm.Properties?.OKActions).toEqual([alarmTarget('')]);
      expect(alarm.Condition).toBeUndefined();
    }
    for (const alarm of alarms(withParams)) {
      expect(alarm.Properties?.AlarmActions).toEqual([alarmTarget('arn:aws:sns:us-east-1:123456789012:ops')]);
    }
  });

  it('creates its own alarm topic unless alarmTopicArn is set, and subscribes alarmEmail only when set', () => {
    expect(raw.Resources.AlarmTopic).toMatchObject({ Type: 'AWS::SNS::Topic', Condition: 'CreateAlarmTopic' });
    expect(raw.Resources.AlarmEmailSubscription).toMatchObject({
      Type: 'AWS::SNS::Subscription',
      Condition: 'HasAlarmEmail',
      Properties: { Protocol: 'email', Endpoint: '', TopicArn: alarmTarget('') },
    });
    // Defaults: a topic of the stack, no subscription.
    expect(raw.Conditions).toMatchObject({
      CreateAlarmTopic: { 'Fn::Equals': ['', ''] },
      UseAlarmTopicArn: { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] },
      HasAlarmEmail: { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] },
    });
    expect(withParams.Conditions).toMatchObject({
      CreateAlarmTopic: { 'Fn::Equals': ['arn:aws:sns:us-east-1:123456789012:ops', ''] },
      HasAlarmEmail: { 'Fn::Not': [{ 'Fn::Equals': ['ops@example.com', ''] }] },
    });
    expect(withParams.Resources.AlarmEmailSubscription?.Properties?.Endpoint).toBe('ops@example.com');
    template.hasOutput('AlarmTopicArn', { Value: alarmTarget('') });
  });

  it('throttles the HTTP API at httpApiRateLimit and httpApiBurstLimit', () => {
    expect(raw.Resources.HttpApiStage?.Properties?.DefaultRouteSettings).toEqual({
      DetailedMetricsEnabled: false,
      ThrottlingRateLimit: 100,
      ThrottlingBurstLimit: 200,
    });
    expect(withParams.Resources.HttpApiStage?.Properties?.DefaultRouteSettings).toEqual({
      DetailedMetricsEnabled: false,
      ThrottlingRateLimit: '10',
      ThrottlingBurstLimit: '20',
    });
  });

  it.each(callbackFunctions.map((fn) => [fn.name] as const))('%s: reserves concurrency only when reservedConcurrency is set', (name) => {
    const reserved = (t: RawTemplate) => t.Resources[logicalName(name)]?.Properties?.ReservedConcurrentExecutions;
    expect(reserved(raw)).toEqual({ 'Fn::If': ['HasReservedConcurrency', '', { Ref: 'AWS::NoValue' }] });
    expect(raw.Conditions.HasReservedConcurrency).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    expect(reserved(withParams)).toEqual({ 'Fn::If': ['HasReservedConcurrency', '20', { Ref: 'AWS::NoValue' }] });
    expect(withParams.Conditions.HasReservedConcurrency).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['20', ''] }] });
  });

  it('outputs every callback URL, HTTP API and function URL, to copy after deploy', () => {
    const api = (path: string) => ({
      'Fn::Join': ['', ['https://', { Ref: 'HttpApi' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, path]],
    });
    const url = (fn: string) => ({ 'Fn::GetAtt': [`${fn}LambdaFunctionUrl`, 'FunctionUrl'] });
    const expected: Record<string, unknown> = {
      BkJobCallbackUrl: api('/callbacks/bk-job'),
      TencentCiCallbackUrl: api('/callbacks/tencent-ci'),
      ThainFlowCallbackUrl: api('/callbacks/thain/flow'),
      ThainJobCallbackUrl: api('/callbacks/thain/job'),
      ThainModifyCallbackUrl: api('/callbacks/thain/modify'),
      BkJobLambdaFunctionUrl: url('BkJob'),
      TencentCiLambdaFunctionUrl: url('TencentCi'),
      ThainLambdaFunctionUrl: url('Thain'),
      ThainFlowFunctionUrl: { 'Fn::Join': ['', [url('Thain'), 'flow']] },
      ThainJobFunctionUrl: { 'Fn::Join': ['', [url('Thain'), 'job']] },
      ThainModifyFunctionUrl: { 'Fn::Join': ['', [url('Thain'), 'modify']] },
      EventsQueueUrl: { Ref: 'EventsQueue' },
      EventsQueueArn: { 'Fn::GetAtt': ['EventsQueue', 'Arn'] },
      EventsDeadLetterQueueUrl: { Ref: 'EventsDeadLetterQueue' },
      QuarantineQueueUrl: { Ref: 'QuarantineQueue' },
    };
    for (const [name, value] of Object.entries(expected)) template.hasOutput(name, { Value: value });
    // Every route of serverless.yml has its output: a new route cannot be forgotten here.
    const apiPaths = Object.values(raw.Outputs).flatMap((output) => {
      const parts = (output.Value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1] ?? [];
      return parts.length === 7 ? [String(parts[6])] : [];
    });
    const declared = callbackFunctions.flatMap((fn) =>
      fn.routes.map((route) => route.path.replace('{kind}', '')),
    );
    for (const path of declared) expect(apiPaths.some((p) => p.startsWith(path))).toBe(true);
  });
});

describe('sls package template: the example consumer', () => {
  const consumerResources = (t: RawTemplate) =>
    Object.entries(t.Resources).filter(([id]) => id.startsWith('ExampleConsumer'));

  it('is subscribed to the events queue with partial batch responses', () => {
    expect(raw.Resources.ExampleConsumerEventSourceMappingSQSEventsQueue).toMatchObject({
      Type: 'AWS::Lambda::EventSourceMapping',
      Condition: 'ExampleConsumerEnabled',
      Properties: {
        EventSourceArn: { 'Fn::GetAtt': ['EventsQueue', 'Arn'] },
        FunctionName: { 'Fn::GetAtt': ['ExampleConsumerLambdaFunction', 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        Enabled: true,
      },
    });
    template.hasResource('AWS::Lambda::Function', {
      Condition: 'ExampleConsumerEnabled',
      Properties: Match.objectLike({ Handler: 'functions/example-consumer.handler', Architectures: ['arm64'] }),
    });
  });

  it('exists only with exampleConsumer=true: each of its resources and outputs carries the condition', () => {
    const resources = consumerResources(raw);
    expect(resources.map(([, r]) => r.Type).sort()).toEqual([
      'AWS::Lambda::EventSourceMapping',
      'AWS::Lambda::Function',
      'AWS::Lambda::Version',
      'AWS::Logs::LogGroup',
    ]);
    for (const [, resource] of resources) expect(resource.Condition).toBe('ExampleConsumerEnabled');
    expect(raw.Outputs.ExampleConsumerLambdaFunctionQualifiedArn?.Condition).toBe('ExampleConsumerEnabled');
    expect(raw.Conditions.ExampleConsumerEnabled).toEqual({ 'Fn::Equals': ['false', 'true'] });
    expect(withParams.Conditions.ExampleConsumerEnabled).toEqual({ 'Fn::Equals': ['true', 'true'] });
  });

  it('is referenced by nothing that exists without it (so the stack deploys with it off)', () => {
    const conditional = new Map(
      Object.entries(raw.Resources).flatMap(([id, r]) => (r.Condition ? [[id, r.Condition] as const] : [])),
    );
    const dangling: string[] = [];
    const check = (owner: string, condition: string | undefined, value: unknown, dependsOn: unknown = []) => {
      for (const target of [...referencesOf(value), ...[dependsOn].flat().map(String)]) {
        const needed = conditional.get(target);
        if (needed && needed !== condition) dangling.push(`${owner} -> ${target}`);
      }
    };
    for (const [id, resource] of Object.entries(raw.Resources)) {
      check(id, resource.Condition, resource.Properties, resource.DependsOn);
    }
    for (const [id, output] of Object.entries(raw.Outputs)) check(`Outputs.${id}`, output.Condition, output.Value);
    // Fn::If branches on the topic's own condition are fine: they never resolve to a missing topic.
    expect(dangling.filter((edge) => !edge.endsWith('-> AlarmTopic'))).toEqual([]);
    expect(conditional.get('AlarmTopic')).toBe('CreateAlarmTopic');
  });
});
