// @ts-check
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { formatChangeAlarm } from './observability.mjs';

/**
 * The per-sender parts of the stack, generated for each callback function of serverless.yml (a
 * function with `sender: <name>`), so that serverless.yml names a sender once, in its function
 * entry. What a callback function gets:
 *
 * - deploy parameters `<fn>Tokens`, `<fn>TokensSsmName` and `<fn>AllowCidrs` (default empty), and
 *   their variables `TOKENS_<SUFFIX>`, `TOKENS_<SUFFIX>_SSM_NAME` and `ALLOW_CIDRS_<SUFFIX>`;
 * - its own IAM role, allowed only what a callback function does (its log group, SendMessage to the
 *   events and quarantine queues, PutObject under the bucket's three prefixes, its tokens' SSM
 *   parameter when one is named, the KMS key when one is given);
 * - a metric filter counting the 5xx answers it logs, an alarm on its Lambda errors, and an alarm
 *   that its sender changed its callback format (observability.mjs);
 * - its reserved concurrency, and the reasons cdk-nag's remaining findings on it are accepted;
 * - outputs holding the URLs to register: per route, the HTTP API URL and, when the sender has
 *   several routes, the function URL with the route's name.
 */

/**
 * @typedef {{ readonly registers: string, readonly hint?: string }} RouteSpec
 * @typedef {{ readonly name: string, readonly title: string, readonly environmentSuffix: string, readonly routes: Readonly<Record<string, RouteSpec>> }} SenderInfo
 * @typedef {{ readonly httpApi?: { readonly method?: string, readonly path?: string } }} FunctionEvent
 * @typedef {{ readonly sender?: string, readonly events?: readonly FunctionEvent[] }} FunctionSpec
 * @typedef {{
 *   getNormalizedFunctionName(name: string): string,
 *   getHttpApiRouteLogicalId(routeKey: string): string,
 * }} Naming
 * @typedef {{
 *   readonly kmsKeyUse: unknown,
 *   readonly nagReasons: { readonly logStreams: string, readonly objectKeys: string },
 * }} Shared
 * @typedef {{ readonly path: readonly string[], readonly value: unknown }} Extension
 * @typedef {import('./observability.mjs').MetricFacts} MetricFacts
 * @typedef {{ readonly senders: readonly SenderInfo[], readonly metrics: MetricFacts }} StackFacts
 */

/**
 * The registry's descriptors (`lib/sources/registry.ts`) and the metric catalogue
 * (`lib/metrics/catalogue.ts`), read by bundling them with esbuild (they are TypeScript; the
 * framework runs plain Node) and importing the bundle once.
 * @param {string} serviceDir
 * @returns {Promise<StackFacts>}
 */
export async function loadStackFacts(serviceDir) {
  const result = await build({
    stdin: {
      contents: "export { SENDERS } from './lib/sources/registry.ts'; export * from './lib/metrics/catalogue.ts';",
      resolveDir: serviceDir,
      sourcefile: 'stack-facts.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild wrote nothing for lib/sources/registry.ts and lib/metrics/catalogue.ts');
  const dir = await mkdtemp(join(tmpdir(), 'jobhooks-registry-'));
  try {
    const file = join(dir, 'stack-facts.mjs');
    await writeFile(file, output.contents);
    /** @type {{ SENDERS: readonly SenderInfo[] } & MetricFacts} */
    const facts = await import(pathToFileURL(file).href);
    const { SENDERS, ...metrics } = facts;
    return { senders: SENDERS, metrics };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const upperFirst = (/** @type {string} */ text) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/** The HTTP API URL of a path, as an output value. */
const apiUrl = (/** @type {string} */ path) => ({
  'Fn::Join': ['', ['https://', { Ref: 'HttpApi' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, path]],
});

/** Every key under a prefix (kept out of template literals, where `/*` after a substitution trips some parsers). */
const ANY_KEY = '/*';

/** The payload bucket's objects under a prefix. */
const objectsUnder = (/** @type {string} */ prefix) => ({
  'Fn::Join': ['', [{ 'Fn::GetAtt': ['PayloadBucket', 'Arn'] }, `/${prefix}${ANY_KEY}`]],
});

/**
 * Everything one callback function adds to the configuration, as `extendConfiguration` pairs.
 * @param {{ fn: string, spec: FunctionSpec, sender: SenderInfo, naming: Naming, shared: Shared, defaults: Readonly<Record<string, unknown>>, metrics: MetricFacts }} input
 * @returns {Extension[]}
 */
export function senderParts({ fn, spec, sender, naming, shared, defaults, metrics }) {
  const id = naming.getNormalizedFunctionName(fn);
  const suffix = sender.environmentSuffix;
  const param = (/** @type {string} */ name) => `\${param:${fn}${name}}`;
  /** @type {Extension[]} */
  const parts = [];
  const add = (/** @type {readonly string[]} */ path, /** @type {unknown} */ value) => parts.push({ path, value });

  for (const name of ['Tokens', 'TokensSsmName', 'AllowCidrs']) {
    if (!Object.hasOwn(defaults, `${fn}${name}`)) add(['params', 'default', `${fn}${name}`], '');
  }
  // Each function holds only its own sender's tokens and allowlist.
  add(['functions', fn, 'environment', `TOKENS_${suffix}`], param('Tokens'));
  add(['functions', fn, 'environment', `TOKENS_${suffix}_SSM_NAME`], param('TokensSsmName'));
  add(['functions', fn, 'environment', `ALLOW_CIDRS_${suffix}`], param('AllowCidrs'));
  add(['functions', fn, 'role'], `${id}Role`);

  const tokensParameter = `Has${id}TokensParameter`;
  add(['resources', 'Conditions', tokensParameter], { 'Fn::Not': [{ 'Fn::Equals': [param('TokensSsmName'), ''] }] });
  const logGroup = `/aws/lambda/\${self:service}-\${sls:stage}-${fn}`;
  add(['resources', 'Resources', `${id}Role`], {
    Type: 'AWS::IAM::Role',
    Metadata: {
      cdk_nag: {
        rules_to_suppress: [
          {
            id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${logGroup}:*]`,
            reason: shared.nagReasons.logStreams,
          },
          ...['events', 'spool', 'quarantine'].map((prefix) => ({
            id: `AwsSolutions-IAM5[Resource::<PayloadBucket.Arn>/${prefix}${ANY_KEY}]`,
            reason: shared.nagReasons.objectKeys,
          })),
        ],
      },
    },
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: fn,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
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
                        logGroup,
                        '*',
                      ],
                    ],
                  },
                ],
              },
              // Events and rejected callbacks go to their queues...
              {
                Effect: 'Allow',
                Action: ['sqs:SendMessage'],
                Resource: [{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }, { 'Fn::GetAtt': ['QuarantineQueue', 'Arn'] }],
              },
              // ...or, too large or when SQS fails, into the bucket: write only, under three prefixes.
              { Effect: 'Allow', Action: ['s3:PutObject'], Resource: ['events', 'spool', 'quarantine'].map(objectsUnder) },
              // Its own tokens' SSM SecureString parameter, when named, read once at init.
              {
                'Fn::If': [
                  tokensParameter,
                  {
                    Effect: 'Allow',
                    Action: 'ssm:GetParameter',
                    Resource: {
                      'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${param('TokensSsmName')}`,
                    },
                  },
                  { Ref: 'AWS::NoValue' },
                ],
              },
              shared.kmsKeyUse,
            ],
          },
        },
      ],
    },
  });

  // A 503 (queue unavailable) is an answer the handler chose, not a Lambda error, and function URLs
  // have no API metrics: the handler's own log line (`"status":503`) counts them on both front doors.
  add(['resources', 'Resources', `${id}ServerErrorMetricFilter`], {
    Type: 'AWS::Logs::MetricFilter',
    Properties: {
      LogGroupName: { Ref: `${id}LogGroup` },
      FilterPattern: '{ $.status >= 500 }',
      MetricTransformations: [
        { MetricNamespace: '${self:service}/${sls:stage}', MetricName: 'ServerErrorAnswers', MetricValue: '1', Unit: 'Count' },
      ],
    },
  });
  add(['resources', 'Resources', `${id}ErrorsAlarm`], {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `\${self:service}-\${sls:stage}-${fn}-errors`,
      AlarmDescription: `Invocations of ${fn} that failed (crash, timeout, out of memory)`,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${id}LambdaFunction` } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
  });
  add(['resources', 'Resources', `${id}FormatChangeAlarm`], formatChangeAlarm({ sender, metrics }));

  add(['resources', 'extensions', `${id}LambdaFunction`], {
    Properties: {
      ReservedConcurrentExecutions: { 'Fn::If': ['HasReservedConcurrency', '${param:reservedConcurrency}', { Ref: 'AWS::NoValue' }] },
    },
    Metadata: {
      cdk_nag: {
        rules_to_suppress: [
          {
            id: 'Serverless-LambdaDLQ',
            reason:
              'Invoked synchronously by the HTTP API and its function URL; a dead-letter queue or on-failure destination only ever applies to asynchronous invocations. A callback that cannot be enqueued is answered 503 (the sender retries) and the quarantine keeps bodies that fail to parse.',
          },
        ],
      },
    },
  });

  const routes = Object.entries(sender.routes);
  for (const event of spec.events ?? []) {
    const { httpApi } = event;
    if (!httpApi?.path) continue;
    const method = httpApi.method === undefined || httpApi.method === '*' ? 'ANY' : httpApi.method.toUpperCase();
    // The senders cannot sign requests or add headers, so the function checks the `?token=` and the caller's address itself.
    add(['resources', 'extensions', naming.getHttpApiRouteLogicalId(`${method} ${httpApi.path}`)], {
      Metadata: {
        cdk_nag: {
          rules_to_suppress: [
            {
              id: 'AwsSolutions-APIG4',
              reason: `${sender.title} can only call a plain URL (no signature, no custom header), so API Gateway authorizers cannot apply; the function checks the ?token= of the registered URL (constant time) and the source address allowlist itself, before reading the body.`,
            },
          ],
        },
      },
    });
    for (const [name, route] of routes) {
      const several = routes.length > 1;
      const path = several ? httpApi.path.replace(/\{[^}/]+\}/, name) : httpApi.path;
      const describe = (/** @type {string} */ door) => `${route.registers} (${door})${route.hint ? `; ${route.hint}` : ''}`;
      add(['resources', 'Outputs', `${id}${several ? upperFirst(name) : ''}CallbackUrl`], {
        Description: describe('HTTP API'),
        Value: apiUrl(path),
      });
      // A function URL ends in `/`; a function with several routes reads the route from the last path segment.
      if (several) {
        add(['resources', 'Outputs', `${id}${upperFirst(name)}FunctionUrl`], {
          Description: describe('function URL'),
          Value: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [`${id}LambdaFunctionUrl`, 'FunctionUrl'] }, name]] },
        });
      }
    }
  }
  return parts;
}
