import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLBACK_METRICS, DIMENSIONS, FORMAT_CHANGE, OUTCOMES, SPOOL_METRICS } from '../../lib/metrics/catalogue.ts';
import { QUEUE_TIMEOUTS } from '../../lib/queue/send-event.ts';
import { SENDERS } from '../../lib/sources/registry.ts';
import { STORE_TIMEOUTS } from '../../lib/store/payload-bucket.ts';
import { redriveMetricLines } from '../../lib/store/redrive-handler.ts';
import { callbackRoutes, loadServiceConfig, type ServiceFunction } from '../local/service-config.ts';
import { type Finding, type NagReport, runCdkNag } from './nag.ts';
import { type RawTemplate, slsPackage } from './sls-package.ts';

// The CloudFormation template exactly as `npx sls package` writes it, offline, no AWS account.
const KMS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The statement that lets a role use a customer managed key, through SQS and SSM only. */
function kmsKeyUse(key: string) {
  return {
    Effect: 'Allow',
    Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
    Resource: key,
    Condition: {
      StringEquals: {
        'kms:ViaService': [{ 'Fn::Sub': 'sqs.${AWS::Region}.amazonaws.com' }, { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' }],
      },
    },
  };
}

/** The statement that lets a callback role read its one tokens parameter. */
function tokensParameterRead(name: string) {
  return {
    Effect: 'Allow',
    Action: 'ssm:GetParameter',
    Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}` },
  };
}
let dir: string;
let template: Template;
let raw: RawTemplate;
/** The same service packaged with every optional parameter set. */
let withParams: RawTemplate;
let shorter: RawTemplate;
let nagDefault: NagReport;
let nagWithParams: NagReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobhooks-package-'));
  // Each in a copy of the service of its own (see slsPackage); one after the other, to spare the CPU.
  raw = await slsPackage(join(dir, 'default'));
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
    kmsKeyArn: KMS_KEY,
    tracing: 'true',
    formatChangeAlarmPercent: '35.5',
    formatChangeAlarmWindowSeconds: '3600',
    formatChangeAlarmMinCallbacks: '12',
    // Every callback function but one reads its tokens from SSM: one must stay without the grant.
    ...Object.fromEntries(withSsm.map((fn) => [`${fn.name}TokensSsmName`, ssmName(fn)])),
  });
  // Shorter retentions, and no reserved concurrency.
  shorter = await slsPackage(join(dir, 'shorter'), {
    quarantineRetentionSeconds: '90000',
    quarantineAgeAlarmSeconds: '86400',
    spoolRetentionDays: '3',
    reservedConcurrency: 'none',
  });
  template = Template.fromJSON(raw);
  [nagDefault, nagWithParams] = [await runCdkNag(raw, join(dir, 'default.json')), await runCdkNag(withParams, join(dir, 'params.json'))];
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const functions = loadServiceConfig().functions;
/** The functions that take callbacks: those with an HTTP API route or a function URL. */
const callbackFunctions = functions.filter((fn) => fn.routes.length > 0 || fn.url);
const logicalName = (fn: string) => `${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`;
/** `bkJob` → `BkJob`: the prefix of a function's resources. */
const idOf = (fn: string) => logicalName(fn).replace(/LambdaFunction$/, '');
/** The registered sender a callback function takes. */
const senderOf = (fn: ServiceFunction) => {
  const sender = SENDERS.find((candidate) => candidate.name === fn.sender);
  if (!sender) throw new Error(`function ${fn.name} names no registered sender`);
  return sender;
};
/** The callback functions whose tokens the `withParams` template reads from SSM (all but the last). */
const withSsm = callbackFunctions.slice(0, -1);
const ssmName = (fn: ServiceFunction) => `/jobhooks/test/${fn.sender}-tokens`;

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

  it.each(callbackFunctions.map((fn) => [fn.name, fn] as const))(
    '%s: an HTTP API route per declared path, and a public function URL',
    (_name, fn) => {
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
    },
  );

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
      Object.keys((raw.Resources[fn]?.Properties?.Environment as { Variables: object } | undefined)?.Variables ?? {}).sort();
    const stores = ['METRICS_NAMESPACE', 'METRICS_SERVICE', 'PAYLOAD_BUCKET', 'QUARANTINE_QUEUE_URL', 'QUEUE_URL'];
    const own = (suffix: string) => [`ALLOW_CIDRS_${suffix}`, ...stores, `TOKENS_${suffix}`, `TOKENS_${suffix}_SSM_NAME`];
    for (const fn of callbackFunctions) expect(variables(logicalName(fn.name)), fn.name).toEqual(own(senderOf(fn).environmentSuffix));
    expect(variables('ExampleConsumerLambdaFunction')).toEqual(stores);
    expect(variables('SpoolRedriveLambdaFunction')).toEqual(stores);
    // Every function's metrics go to the stack's namespace, with its Service dimension.
    for (const fn of functions) {
      expect(raw.Resources[logicalName(fn.name)]?.Properties?.Environment, fn.name).toMatchObject({
        Variables: { METRICS_NAMESPACE: 'jobhooks/test', METRICS_SERVICE: 'jobhooks-test' },
      });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TOKENS_THAIN: '',
          TOKENS_THAIN_SSM_NAME: '',
          ALLOW_CIDRS_THAIN: '',
          PAYLOAD_BUCKET: { Ref: 'PayloadBucket' },
        }),
      },
    });
  });

  it('gives every function its own role, allowed exactly what it does, action by action', () => {
    const bucket = { 'Fn::GetAtt': ['PayloadBucket', 'Arn'] };
    const under = (prefix: string) => ({ 'Fn::Join': ['', [bucket, `/${prefix}/*`]] });
    const queues = [{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }, { 'Fn::GetAtt': ['QuarantineQueue', 'Arn'] }];
    const logs = (fn: string) => ({
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [
        {
          'Fn::Join': [
            ':',
            [
              'arn',
              { Ref: 'AWS::Partition' },
              'logs',
              { Ref: 'AWS::Region' },
              { Ref: 'AWS::AccountId' },
              'log-group',
              `/aws/lambda/jobhooks-test-${fn}`,
              '*',
            ],
          ],
        },
      ],
    });
    // Only with a customer managed key (none by default): that key, through SQS and SSM.
    const kms = { 'Fn::If': ['HasKmsKey', kmsKeyUse(''), { Ref: 'AWS::NoValue' }] };
    // Only when the source's tokens are in SSM (not by default): that one parameter.
    const tokensParameter = (condition: string) => ({
      'Fn::If': [condition, tokensParameterRead(''), { Ref: 'AWS::NoValue' }],
    });
    const callback = (fn: string, tokensCondition: string) => [
      logs(fn),
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: queues },
      { Effect: 'Allow', Action: ['s3:PutObject'], Resource: [under('events'), under('spool'), under('quarantine')] },
      tokensParameter(tokensCondition),
      kms,
    ];
    const expected: Record<string, { fn: string; statements: unknown[] }> = {
      ...Object.fromEntries(
        callbackFunctions.map((fn) => [
          `${idOf(fn.name)}Role`,
          { fn: fn.name, statements: callback(fn.name, `Has${idOf(fn.name)}TokensParameter`) },
        ]),
      ),
      SpoolRedriveRole: {
        fn: 'spoolRedrive',
        statements: [
          logs('spoolRedrive'),
          { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [bucket], Condition: { StringLike: { 's3:prefix': ['spool/*'] } } },
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:DeleteObject'], Resource: [under('spool')] },
          { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: queues },
          { Effect: 'Allow', Action: ['s3:PutObject'], Resource: [under('events'), under('quarantine')] },
          kms,
        ],
      },
      ExampleConsumerRole: {
        fn: 'exampleConsumer',
        statements: [
          logs('exampleConsumer'),
          {
            Effect: 'Allow',
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
            Resource: [{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }],
          },
          { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [under('events')] },
          kms,
        ],
      },
    };
    const roles = Object.entries(raw.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
    expect(roles.map(([id]) => id).sort()).toEqual(Object.keys(expected).sort());
    for (const [id, role] of roles) {
      const want = expected[id];
      const policies = (role.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: unknown[] } }>;
      expect(
        policies.flatMap((policy) => policy.PolicyDocument.Statement),
        id,
      ).toEqual(want?.statements);
      expect(role.Properties?.AssumeRolePolicyDocument, id).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
      expect(raw.Resources[logicalName(want?.fn ?? '')]?.Properties?.Role, id).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
    }
    expect(raw.Resources.ExampleConsumerRole?.Condition).toBe('ExampleConsumerEnabled');
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

  it('has the payload bucket: encrypted, all public access blocked, TLS only, owner-enforced, its name an output', () => {
    expect(raw.Resources.PayloadBucket).toMatchObject({
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
    });
    expect(raw.Resources.PayloadBucketPolicy?.Properties).toEqual({
      Bucket: { Ref: 'PayloadBucket' },
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [
              { 'Fn::GetAtt': ['PayloadBucket', 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['PayloadBucket', 'Arn'] }, '/*']] },
            ],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    });
    template.hasOutput('PayloadBucketName', { Value: { Ref: 'PayloadBucket' } });
  });

  it('expires each prefix of the bucket with what refers to it, and aborts unfinished uploads', async () => {
    const rules = (t: RawTemplate) =>
      (t.Resources.PayloadBucket?.Properties?.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> } | undefined)?.Rules;
    // events/: as long as the events queue or its dead-letter queue (14 days from the first send) keeps the message.
    expect(rules(raw)).toEqual([
      { Id: 'events', Status: 'Enabled', Prefix: 'events/', ExpirationInDays: 14 },
      { Id: 'spool', Status: 'Enabled', Prefix: 'spool/', ExpirationInDays: 14 },
      { Id: 'quarantine', Status: 'Enabled', Prefix: 'quarantine/', ExpirationInDays: 14 },
      { Id: 'abort-incomplete-multipart-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
    // CloudFormation takes a number given as text (a --param is text).
    expect(rules(shorter)?.map((rule) => rule.ExpirationInDays)).toEqual([14, '3', 2, undefined]);
  }, 120_000);

  it('runs the spool redrive every minute, for at most a minute', () => {
    expect(raw.Resources.SpoolRedriveLambdaFunction?.Properties).toMatchObject({ Handler: 'functions/spool-redrive.handler', Timeout: 60 });
    expect(raw.Resources.SpoolRedriveEventsRuleSchedule1?.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': ['SpoolRedriveLambdaFunction', 'Arn'] } }],
    });
  });

  it('gives a callback time for SQS and then the spool (their budgets), well inside bk-job’s 15 s', () => {
    const timeout = Number(raw.Resources.BkJobLambdaFunction?.Properties?.Timeout);
    expect(timeout * 1000).toBeGreaterThan(QUEUE_TIMEOUTS.totalMs + STORE_TIMEOUTS.totalMs);
    expect(timeout).toBeLessThan(15);
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
  it("keeps every log group (the functions' and the HTTP API access log) for logRetentionDays (30 by default)", () => {
    const retention = (t: RawTemplate) =>
      Object.values(t.Resources)
        .filter((r) => r.Type === 'AWS::Logs::LogGroup')
        .map((r) => r.Properties?.RetentionInDays);
    expect(retention(raw)).toEqual([...functions.map(() => 30), 30]);
    expect(retention(withParams)).toEqual([...functions.map(() => 90), 90]);
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
          MetricTransformations: [{ MetricNamespace: 'jobhooks/test', MetricName: 'ServerErrorAnswers', MetricValue: '1', Unit: 'Count' }],
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

  it('alarms on the age of the oldest spooled event, and on a redrive that reports nothing', () => {
    expect(raw.Resources.SpoolAgeAlarm?.Properties).toMatchObject({
      Namespace: 'jobhooks/test',
      MetricName: 'SpoolOldestAgeSeconds',
      Dimensions: [{ Name: 'Service', Value: 'jobhooks-test' }],
      Statistic: 'Maximum',
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    // What the redrive logs is that metric, in that namespace and dimension (embedded metric format).
    const [run = ''] = redriveMetricLines(
      { sent: 2, sentBySource: { thain: 2 }, left: 1, oldestAgeSeconds: 75 },
      { namespace: 'jobhooks/test', service: 'jobhooks-test' },
      0,
    );
    const line = JSON.parse(run);
    expect(line._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'jobhooks/test', Dimensions: [['Service']] });
    expect(line._aws.CloudWatchMetrics[0].Metrics).toContainEqual({ Name: 'SpoolOldestAgeSeconds', Unit: 'Seconds' });
    expect(line).toMatchObject({ Service: 'jobhooks-test', SpoolOldestAgeSeconds: 75 });
    expect(raw.Resources.SpoolRedriveLambdaFunction?.Properties?.Environment).toMatchObject({
      Variables: { METRICS_NAMESPACE: 'jobhooks/test', METRICS_SERVICE: 'jobhooks-test' },
    });
  });

  it('has every alarm notify the alarm topic when it fires and when it recovers', () => {
    const alarms = (t: RawTemplate) => Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    // Dead letters, quarantine depth and expiry, oldest event, spool age, HTTP API and logged 5xx;
    // per callback function its errors and its sender's format change.
    expect(alarms(raw)).toHaveLength(7 + 2 * callbackFunctions.length);
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

  it.each(callbackFunctions.map((fn) => [fn.name] as const))(
    '%s: reserves (and caps) 10 concurrent executions, or reservedConcurrency; none when it is none or empty',
    (name) => {
      const reserved = (t: RawTemplate) => t.Resources[logicalName(name)]?.Properties?.ReservedConcurrentExecutions;
      const condition = (value: string) => ({
        'Fn::Not': [{ 'Fn::Or': [{ 'Fn::Equals': [value, ''] }, { 'Fn::Equals': [value, 'none'] }] }],
      });
      expect(reserved(raw)).toEqual({ 'Fn::If': ['HasReservedConcurrency', '10', { Ref: 'AWS::NoValue' }] });
      expect(raw.Conditions.HasReservedConcurrency).toEqual(condition('10'));
      expect(reserved(withParams)).toEqual({ 'Fn::If': ['HasReservedConcurrency', '20', { Ref: 'AWS::NoValue' }] });
      expect(withParams.Conditions.HasReservedConcurrency).toEqual(condition('20'));
      // `--param="reservedConcurrency="` is refused by the CLI: `none` is how a deploy says "no cap".
      expect(shorter.Conditions.HasReservedConcurrency).toEqual(condition('none'));
    },
  );

  it('outputs every callback URL, HTTP API and function URL, to copy after deploy', () => {
    const api = (path: string) => ({
      'Fn::Join': ['', ['https://', { Ref: 'HttpApi' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, path]],
    });
    const url = (fn: string) => ({ 'Fn::GetAtt': [`${fn}LambdaFunctionUrl`, 'FunctionUrl'] });
    const expected: Record<string, unknown> = {
      // Per route: its HTTP API URL; with several routes, also its function URL (the route's name last).
      ...Object.fromEntries(
        callbackRoutes().flatMap((route) => {
          const id = idOf(route.function);
          const several = callbackRoutes().filter((other) => other.function === route.function).length > 1;
          const name = several ? `${route.route.charAt(0).toUpperCase()}${route.route.slice(1)}` : '';
          return [
            [`${id}${name}CallbackUrl`, api(route.path)],
            ...(several ? [[`${id}${name}FunctionUrl`, { 'Fn::Join': ['', [url(id), route.route]] }]] : []),
          ];
        }),
      ),
      ...Object.fromEntries(callbackFunctions.map((fn) => [`${idOf(fn.name)}LambdaFunctionUrl`, url(idOf(fn.name))])),
      EventsQueueUrl: { Ref: 'EventsQueue' },
      EventsQueueArn: { 'Fn::GetAtt': ['EventsQueue', 'Arn'] },
      EventsDeadLetterQueueUrl: { Ref: 'EventsDeadLetterQueue' },
      EventsDeadLetterQueueArn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] },
      QuarantineQueueUrl: { Ref: 'QuarantineQueue' },
      PayloadBucketName: { Ref: 'PayloadBucket' },
    };
    for (const [name, value] of Object.entries(expected)) template.hasOutput(name, { Value: value });
    // Every route of serverless.yml has its output: a new route cannot be forgotten here.
    const apiPaths = Object.values(raw.Outputs).flatMap((output) => {
      const parts = (output.Value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1] ?? [];
      return parts.length === 7 ? [String(parts[6])] : [];
    });
    const declared = callbackFunctions.flatMap((fn) => fn.routes.map((route) => route.path.replace('{kind}', '')));
    for (const path of declared) expect(apiPaths.some((p) => p.startsWith(path))).toBe(true);
  });
});

describe('sls package template: what an operator watches', () => {
  const ns = 'jobhooks/test';
  const service = 'jobhooks-test';
  const alarmIds = (t: RawTemplate) =>
    Object.entries(t.Resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => id);
  /** `Callbacks` of a source per outcome, as the callback functions' log lines publish it. */
  const callbacksOf = (source: string, outcome: string) => ({
    Namespace: ns,
    MetricName: CALLBACK_METRICS.callbacks.Name,
    Dimensions: [
      { Name: DIMENSIONS.service, Value: service },
      { Name: DIMENSIONS.source, Value: source },
      { Name: DIMENSIONS.outcome, Value: outcome },
    ],
  });

  it.each(callbackFunctions.map((fn) => [fn.name, fn] as const))(
    '%s: alarms when its sender changes its format: the share of callbacks read refused 400 or 422, once enough were read',
    (_name, fn) => {
      const sender = senderOf(fn);
      const alarm = (t: RawTemplate) => t.Resources[`${idOf(fn.name)}FormatChangeAlarm`]?.Properties ?? {};
      const props = alarm(raw);
      expect(props.AlarmName).toBe(`jobhooks-test-${sender.name}-format-change`);
      expect(String(props.AlarmDescription)).toContain(`${sender.title} (${sender.name})`);
      expect(props).toMatchObject({
        EvaluationPeriods: 1,
        Threshold: 20,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
      const outcomes = [...new Set([...FORMAT_CHANGE.read, ...FORMAT_CHANGE.refused])];
      const id = (outcome: string) => outcome.replace('-', '');
      expect(props.Metrics).toEqual([
        ...outcomes.map((outcome) => ({
          Id: id(outcome),
          ReturnData: false,
          MetricStat: { Metric: callbacksOf(sender.name, outcome), Period: 900, Stat: 'Sum' },
        })),
        {
          Id: 'read',
          Label: 'callbacks read',
          ReturnData: false,
          Expression: 'FILL(accepted, 0) + FILL(refused400, 0) + FILL(refused422, 0)',
        },
        { Id: 'refused', Label: 'refused 400 or 422', ReturnData: false, Expression: 'FILL(refused400, 0) + FILL(refused422, 0)' },
        {
          Id: 'share',
          Label: `${sender.name}: % of callbacks read refused 400 or 422`,
          ReturnData: true,
          Expression: 'IF(read >= 5, 100 * refused / read, 0)',
        },
      ]);
      // The deploy parameters set the threshold, the window and the minimum.
      const tuned = alarm(withParams) as { Threshold: unknown; Metrics: Array<{ MetricStat?: { Period: unknown }; Expression?: string }> };
      expect(tuned.Threshold).toBe('35.5');
      expect(tuned.Metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Period] : []))).toEqual(outcomes.map(() => '3600'));
      expect(tuned.Metrics.at(-1)?.Expression).toBe('IF(read >= 12, 100 * refused / read, 0)');
    },
  );

  it('has one dashboard: every alarm, a row per sender, and a row for the queues, the spool and the quarantine', () => {
    const dashboards = Object.values(raw.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const [dashboard] = dashboards;
    expect(dashboard?.Properties?.DashboardName).toBe('jobhooks-test');
    const text = String((dashboard?.Properties?.DashboardBody as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub']);
    // Every ${...} that CloudFormation fills in names the region or an attribute of a resource of the stack.
    for (const [, name, attribute] of text.matchAll(/\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z]+))?\}/g)) {
      if (name === 'AWS::Region') continue;
      expect(raw.Resources[name ?? ''], name).toBeDefined();
      expect(['Arn', 'QueueName']).toContain(attribute);
    }
    interface Widget {
      type: string;
      x: number;
      y: number;
      width: number;
      height: number;
      properties: { title?: string; markdown?: string; alarms?: string[]; metrics?: unknown[][] };
    }
    const { widgets } = JSON.parse(text) as { widgets: Widget[] };
    // The grid holds: within 24 columns, no two widgets on the same cells.
    const cells = new Set<string>();
    for (const widget of widgets) {
      expect(widget.x + widget.width).toBeLessThanOrEqual(24);
      for (let x = widget.x; x < widget.x + widget.width; x++) {
        for (let y = widget.y; y < widget.y + widget.height; y++) {
          expect(cells.has(`${x},${y}`), `${widget.properties.title} at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
    const [alarms] = widgets.filter((w) => w.type === 'alarm');
    expect(alarms?.properties.alarms?.sort()).toEqual(
      alarmIds(raw)
        .map((id) => `\${${id}.Arn}`)
        .sort(),
    );
    const graph = (title: string) => {
      const found = widgets.find((w) => w.properties.title === title);
      if (!found) throw new Error(`no widget "${title}"`);
      return found.properties.metrics ?? [];
    };
    const own = (name: string, ...dimensions: string[]) => [ns, name, 'Service', service, ...dimensions];
    const served = [...new Set(callbackFunctions.map((fn) => senderOf(fn)))];
    for (const sender of served) {
      const source = ['source', sender.name];
      expect(widgets.some((w) => w.properties.markdown === `## ${sender.title} (\`${sender.name}\`)`)).toBe(true);
      expect(graph(`${sender.name}: callbacks per minute`)).toEqual([[...own('Callbacks', ...source), { label: 'callbacks' }]]);
      expect(graph(`${sender.name}: answers (per 5 minutes)`)).toEqual(
        OUTCOMES.map((outcome) => [...own('Callbacks', ...source, 'outcome', outcome), { label: outcome }]),
      );
      expect(graph(`${sender.name}: kept apart (per 5 minutes)`).map((metric) => metric.slice(0, 6))).toEqual(
        ['Quarantined', 'Spooled', 'Redriven', 'ClaimChecked'].map((name) => own(name, ...source)),
      );
      expect(graph(`${sender.name}: answer time (ms)`)).toEqual([
        [...own('AnswerTime', ...source), { stat: 'p50', label: 'p50' }],
        [...own('AnswerTime', ...source), { stat: 'p99', label: 'p99' }],
      ]);
    }
    const sqs = (metric: string, queue: string) => ['AWS/SQS', metric, 'QueueName', `\${${queue}.QueueName}`];
    expect(graph('Waiting (messages)').map((metric) => metric.slice(0, -1))).toEqual([
      sqs('ApproximateNumberOfMessagesVisible', 'EventsQueue'),
      sqs('ApproximateNumberOfMessagesNotVisible', 'EventsQueue'),
      sqs('ApproximateNumberOfMessagesVisible', 'QuarantineQueue'),
      own(SPOOL_METRICS.left.Name),
    ]);
    expect(graph('Oldest (seconds)').map((metric) => metric.slice(0, -1))).toEqual([
      sqs('ApproximateAgeOfOldestMessage', 'EventsQueue'),
      sqs('ApproximateAgeOfOldestMessage', 'QuarantineQueue'),
      own(SPOOL_METRICS.oldestAge.Name),
    ]);
    expect(graph('Dead letters (events a consumer failed 5 times)').map((metric) => metric.slice(0, -1))).toEqual([
      sqs('ApproximateNumberOfMessagesVisible', 'EventsDeadLetterQueue'),
    ]);
  });

  it('turns X-Ray active tracing on for every function only with tracing=true, with the permission it needs', () => {
    const lambdas = (t: RawTemplate) => Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    const statements = (t: RawTemplate, role: string) =>
      ((t.Resources[role]?.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: unknown[] } }>).flatMap(
        (policy) => policy.PolicyDocument.Statement,
      );
    const roleOf = (resource: { Properties?: Record<string, unknown> }) =>
      String((resource.Properties?.Role as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0]);
    const xray = { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' };
    expect(
      lambdas(raw)
        .map(([id]) => id)
        .sort(),
    ).toEqual(functions.map((fn) => logicalName(fn.name)).sort());
    for (const [id, resource] of lambdas(raw)) {
      expect(resource.Properties?.TracingConfig, id).toBeUndefined();
      expect(statements(raw, roleOf(resource)), id).not.toContainEqual(xray);
    }
    for (const [id, resource] of lambdas(withParams)) {
      expect(resource.Properties?.TracingConfig, id).toEqual({ Mode: 'Active' });
      expect(
        statements(withParams, roleOf(resource)).filter((statement) => JSON.stringify(statement).includes('xray')),
        id,
      ).toEqual([xray]);
    }
    // HTTP APIs have no X-Ray tracing: the stage stays as it was.
    expect(JSON.stringify(withParams.Resources.HttpApiStage)).not.toMatch(/[Tt]racing/);
  });

  it('builds the same artifacts with and without tracing: active tracing needs no code in the bundles', async () => {
    const digests = async (folder: string) =>
      Promise.all(
        functions.map(async (fn) =>
          createHash('sha256')
            .update(await readFile(join(dir, folder, `${fn.name}.zip`)))
            .digest('hex'),
        ),
      );
    expect(await digests('params')).toEqual(await digests('default'));
  });
});

describe('sls package template: the example consumer', () => {
  const consumerResources = (t: RawTemplate) => Object.entries(t.Resources).filter(([id]) => id.startsWith('ExampleConsumer'));

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
      'AWS::IAM::Role',
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
    const conditional = new Map(Object.entries(raw.Resources).flatMap(([id, r]) => (r.Condition ? [[id, r.Condition] as const] : [])));
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

describe('sls package template: hardening', () => {
  const queues = (t: RawTemplate) => Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::SQS::Queue');
  const noValue = { Ref: 'AWS::NoValue' };

  it('encrypts every queue: SQS-managed by default, with the KMS key when kmsKeyArn is set', () => {
    expect(
      queues(raw)
        .map(([id]) => id)
        .sort(),
    ).toEqual(['EventsDeadLetterQueue', 'EventsQueue', 'QuarantineQueue']);
    for (const [id, queue] of queues(raw)) {
      expect(queue.Properties?.SqsManagedSseEnabled, id).toEqual({ 'Fn::If': ['UseSqsManagedSse', true, noValue] });
      expect(queue.Properties?.KmsMasterKeyId, id).toEqual({ 'Fn::If': ['UseSqsManagedSse', noValue, ''] });
    }
    expect(raw.Conditions.UseSqsManagedSse).toEqual({ 'Fn::Equals': ['', ''] });
    for (const [id, queue] of queues(withParams)) {
      expect(queue.Properties?.KmsMasterKeyId, id).toEqual({ 'Fn::If': ['UseSqsManagedSse', noValue, KMS_KEY] });
    }
    expect(withParams.Conditions.UseSqsManagedSse).toEqual({ 'Fn::Equals': [KMS_KEY, ''] });
  });

  it('denies every queue request that does not use TLS', () => {
    const policies = Object.values(raw.Resources).filter((r) => r.Type === 'AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(1);
    const [policy] = policies;
    expect(policy?.Properties?.Queues).toEqual(queues(raw).map(([id]) => ({ Ref: id })));
    expect(policy?.Properties?.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyWithoutTls',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:*',
          Resource: queues(raw).map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
  });

  it("lets only this stack's alarms publish to its alarm topic, only over TLS, encrypted with the KMS key when given", () => {
    expect(raw.Resources.AlarmTopic?.Properties?.KmsMasterKeyId).toEqual({ 'Fn::If': ['HasKmsKey', '', noValue] });
    expect(withParams.Resources.AlarmTopic?.Properties?.KmsMasterKeyId).toEqual({ 'Fn::If': ['HasKmsKey', KMS_KEY, noValue] });
    expect(withParams.Conditions.HasKmsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [KMS_KEY, ''] }] });
    const policy = raw.Resources.AlarmTopicPolicy;
    expect(policy).toMatchObject({
      Type: 'AWS::SNS::TopicPolicy',
      Condition: 'CreateAlarmTopic',
      Properties: { Topics: [{ Ref: 'AlarmTopic' }] },
    });
    expect((policy?.Properties?.PolicyDocument as { Statement: unknown[] } | undefined)?.Statement).toEqual([
      {
        Sid: 'CloudWatchAlarmsPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: 'AlarmTopic' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:jobhooks-test-*' },
          },
        },
      },
      {
        Sid: 'DenyWithoutTls',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: { Ref: 'AlarmTopic' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
    // Every alarm is named so that the policy lets it publish.
    for (const alarm of Object.values(raw.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm')) {
      expect(String(alarm.Properties?.AlarmName)).toMatch(/^jobhooks-test-/);
    }
  });

  it('writes an HTTP API access log with the route key, never the path or the query string', () => {
    const settings = raw.Resources.HttpApiStage?.Properties?.AccessLogSettings as { DestinationArn: unknown; Format: string };
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toMatchObject({
      routeKey: '$context.routeKey',
      status: '$context.status',
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
    });
    const variables = Object.values(format).flatMap((value) => value.match(/\$context\.[A-Za-z.]+/g) ?? []);
    // Each variable is one that holds no part of the URL a sender registered.
    for (const variable of variables) {
      expect(variable).toMatch(
        /^\$context\.(requestId|requestTime|identity\.sourceIp|routeKey|status|responseLength|integrationLatency|integrationStatus|error\.message)$/,
      );
    }
    expect(raw.Resources.HttpApiLogGroup?.Properties).toMatchObject({ LogGroupName: '/aws/http-api/jobhooks-test', RetentionInDays: 30 });
  });

  it('keeps dead letters longer than events: a standard dead-letter queue keeps the first enqueue time', () => {
    const retention = (t: RawTemplate, id: string) => Number(t.Resources[id]?.Properties?.MessageRetentionPeriod);
    expect(retention(raw, 'EventsQueue')).toBe(7 * 86400);
    expect(retention(raw, 'EventsDeadLetterQueue')).toBe(14 * 86400);
    expect(retention(raw, 'EventsDeadLetterQueue') - retention(raw, 'EventsQueue')).toBeGreaterThanOrEqual(4 * 86400);
  });

  it('refuses at package time an events retention that would leave dead letters less than 4 days', async () => {
    await expect(slsPackage(join(dir, 'refused'), { eventRetentionSeconds: '1209600' })).rejects.toThrow(
      /eventRetentionSeconds is 1209600: at most 864000/,
    );
    await expect(slsPackage(join(dir, 'refused'), { quarantineAgeAlarmSeconds: '1209600' })).rejects.toThrow(
      /quarantineAgeAlarmSeconds is 1209600: it must be below quarantineRetentionSeconds/,
    );
  }, 60_000);

  it('gives the example consumer a visibility timeout of at least six times its timeout plus its batching window', () => {
    const consumerTimeout = Number(withParams.Resources.ExampleConsumerLambdaFunction?.Properties?.Timeout);
    const batchingWindow = Number(
      withParams.Resources.ExampleConsumerEventSourceMappingSQSEventsQueue?.Properties?.MaximumBatchingWindowInSeconds,
    );
    expect(consumerTimeout).toBeGreaterThan(0);
    expect(Number(raw.Resources.EventsQueue?.Properties?.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * consumerTimeout + batchingWindow);
  });

  it('alarms when a quarantined callback nears its expiry', () => {
    expect(raw.Resources.QuarantineAgeAlarm?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['QuarantineQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 12 * 86400,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(Number(raw.Resources.QuarantineAgeAlarm?.Properties?.Threshold)).toBeLessThan(
      Number(raw.Resources.QuarantineQueue?.Properties?.MessageRetentionPeriod),
    );
  });

  it('lets each callback function read its own SSM token parameter only, and only when one is named', () => {
    const statements = (t: RawTemplate, role: string) =>
      ((t.Resources[role]?.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: unknown[] } }>).flatMap(
        (policy) => policy.PolicyDocument.Statement,
      );
    const noValue = { Ref: 'AWS::NoValue' };
    const [named, other] = [withSsm[0], callbackFunctions.at(-1)];
    if (!named || !other || named === other) throw new Error('the test needs two callback functions');
    const id = idOf(named.name);
    expect(raw.Conditions[`Has${id}TokensParameter`]).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    expect(withParams.Conditions[`Has${idOf(other.name)}TokensParameter`]).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    for (const fn of withSsm) {
      expect(statements(withParams, `${idOf(fn.name)}Role`)).toContainEqual({
        'Fn::If': [`Has${idOf(fn.name)}TokensParameter`, tokensParameterRead(ssmName(fn)), noValue],
      });
    }
    // No role may read another sender's parameter, and only callback roles read any.
    const roles = Object.keys(withParams.Resources).filter((key) => withParams.Resources[key]?.Type === 'AWS::IAM::Role');
    for (const role of roles.filter((key) => key !== `${id}Role`)) {
      expect(JSON.stringify(statements(withParams, role)), role).not.toContain(ssmName(named));
    }
    for (const role of ['SpoolRedriveRole', 'ExampleConsumerRole']) {
      expect(JSON.stringify(statements(withParams, role)), role).not.toContain('ssm:GetParameter');
    }
    const suffix = senderOf(named).environmentSuffix;
    expect(withParams.Resources[logicalName(named.name)]?.Properties?.Environment).toMatchObject({
      Variables: { [`TOKENS_${suffix}_SSM_NAME`]: ssmName(named), [`TOKENS_${suffix}`]: '' },
    });
  });

  it('lets every role use the KMS key through SQS and SSM only, only when one is given', () => {
    const roles = Object.entries(withParams.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
    expect(roles).toHaveLength(2 + callbackFunctions.length);
    for (const [id, role] of roles) {
      const statements = ((role.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: unknown[] } }>).flatMap(
        (policy) => policy.PolicyDocument.Statement,
      );
      expect(statements, id).toContainEqual({ 'Fn::If': ['HasKmsKey', kmsKeyUse(KMS_KEY), { Ref: 'AWS::NoValue' }] });
    }
    expect(withParams.Conditions.HasKmsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [KMS_KEY, ''] }] });
  });
});

describe('sls package refuses malformed settings before anything is deployed', () => {
  // The functions would refuse them at init, and every callback would then fail: the package fails
  // first, naming what to change.
  it.each([
    [{ thainTokens: 'short' }, /ThainLambdaFunction: TOKENS_THAIN item 1 is 5 characters long/],
    [{ fifo: 'yes' }, /fifo is "yes": it must be true or false/],
    [{ tracing: 'yes' }, /tracing is "yes": it must be true or false/],
    [{ formatChangeAlarmWindowSeconds: '90' }, /formatChangeAlarmWindowSeconds is "90": it must be a whole number of minutes/],
    [{ formatChangeAlarmPercent: '0' }, /formatChangeAlarmPercent is "0": it must be a number above 0 and at most 100/],
  ])(
    '%o',
    async (params, message) => {
      await expect(slsPackage(join(dir, 'refused'), params)).rejects.toThrow(message);
    },
    60_000,
  );
});

describe('cdk-nag (AwsSolutions and Serverless packs) on the packaged template', () => {
  // A real security linter, offline. Every finding is fixed, or suppressed beside its resource in
  // serverless.yml (`Metadata.cdk_nag.rules_to_suppress`, generated resources through
  // `resources.extensions`) with a written reason.
  const list = (findings: readonly Finding[]) => findings.map((f) => `${f.severity} ${f.rule} on ${f.resource}`);

  it('reports nothing that is not suppressed with a reason, with the default parameters', () => {
    expect(list(nagDefault.open)).toEqual([]);
  });

  it('nor with every option set (KMS key, SSM token parameters, example consumer, alarm mail)', () => {
    expect(list(nagWithParams.open)).toEqual([]);
  });

  it('holds no stale suppression: each silences a finding that is there', () => {
    const unused = (report: NagReport) => {
      const found = new Set(report.all.map((f) => `${f.resource} ${f.rule}`));
      return report.suppressions.filter((s) => !found.has(s));
    };
    expect(unused(nagWithParams)).toEqual([]);
    expect(unused(nagDefault)).toEqual([]);
  });
});
