'use strict';
// The project's Serverless plugin:
// - adds each callback function's per-sender parts (a function with `sender: <name>`: its role,
//   settings, metric filter, alarms, reserved concurrency and outputs; infra/build/sender-parts.mjs)
//   and the dashboard (infra/build/observability.mjs), and sets every alarm's actions to
//   `custom.alarmTopic`, before variables are resolved;
// - turns X-Ray active tracing on for every function, with the permission it needs, when
//   `custom.tracing` is true (the `tracing` deploy parameter);
// - builds every function with esbuild when Serverless packages or deploys, so `sls package` and
//   `sls deploy` never ship a stale bundle and a user never runs a separate build step;
// - refuses queue retentions that would lose messages.
const path = require('node:path');

/**
 * `${retentionDays:<seconds>[;<seconds>...]}`: the longest of the given retentions in whole days,
 * rounded up (an S3 lifecycle rule counts days; SQS counts seconds). So the payload bucket keeps an
 * object as long as the message that names it can exist.
 */
function retentionDays(address) {
  const seconds = String(address)
    // Not a comma: in a Serverless variable a comma starts the fallback value.
    .split(';')
    .map((part) => Number(part.trim()));
  if (seconds.length === 0 || seconds.some((value) => !Number.isFinite(value) || value <= 0)) {
    throw new Error(`\${retentionDays:${address}}: expected retention periods in seconds, separated by ;`);
  }
  return Math.ceil(Math.max(...seconds) / 86_400);
}

class EsbuildBundles {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    // `sender: <name>` on a function: it takes that registered sender's callbacks.
    serverless.configSchemaHandler?.defineFunctionProperties('aws', {
      properties: { sender: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' } },
    });
    this.configurationVariablesSources = {
      retentionDays: { resolve: ({ address }) => ({ value: retentionDays(address) }) },
    };
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.bundleAll(),
      'before:aws:package:finalize:saveServiceState': async () => {
        this.applyTracing();
        this.checkRetention();
        this.checkAlarmSettings();
        await this.checkSettings();
      },
      'before:deploy:function:packageFunction': () => this.bundleAll(options.function),
      'before:invoke:local:invoke': () => undefined,
    };
  }

  /**
   * Runs while the configuration can still be extended (before variables are resolved): the parts
   * each callback function gets from its sender's descriptor, and the alarm actions.
   */
  async asyncInit() {
    const input = this.serverless.configurationInput;
    const Failure = this.serverless.classes.Error;
    const functions = Object.entries(input.functions ?? {});
    const callbackFunctions = functions.filter(([, spec]) => spec && typeof spec.sender === 'string');
    const { loadStackFacts, senderParts } = await import('./sender-parts.mjs');
    const { dashboard } = await import('./observability.mjs');
    const { senders, metrics } = await loadStackFacts(this.serverless.serviceDir);
    for (const sender of senders) {
      const serving = callbackFunctions.filter(([, spec]) => spec.sender === sender.name);
      if (serving.length !== 1) {
        throw new Failure(
          `sender ${sender.name} (lib/sources/registry.ts) needs exactly one function with \`sender: ${sender.name}\` in serverless.yml; found ${serving.length}`,
        );
      }
    }
    const custom = input.custom ?? {};
    if (!custom.kmsKeyUse || !custom.nagReasons || !custom.alarmTopic) {
      throw new Failure(
        'serverless.yml: custom.kmsKeyUse, custom.nagReasons and custom.alarmTopic are needed by the callback functions and alarms',
      );
    }
    const naming = this.serverless.getProvider('aws').naming;
    const defaults = input.params?.default ?? {};
    for (const [fn, spec] of callbackFunctions) {
      const sender = senders.find((candidate) => candidate.name === spec.sender);
      if (!sender) throw new Failure(`function ${fn} names sender ${spec.sender}, which lib/sources/registry.ts does not list`);
      for (const part of senderParts({ fn, spec, sender, naming, shared: custom, defaults, metrics })) {
        this.serverless.extendConfiguration(part.path, part.value);
      }
    }
    const alarms = Object.entries(input.resources?.Resources ?? {})
      .filter(([, resource]) => resource?.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => id);
    // In registry order, as the callback functions serve them.
    const served = senders.filter((sender) => callbackFunctions.some(([, spec]) => spec.sender === sender.name));
    this.serverless.extendConfiguration(['resources', 'Resources', 'Dashboard'], dashboard({ senders: served, alarms, metrics }));
    // Every alarm notifies the alarm topic when it fires and when it recovers.
    for (const [id, resource] of Object.entries(input.resources?.Resources ?? {})) {
      if (resource?.Type !== 'AWS::CloudWatch::Alarm') continue;
      for (const actions of ['AlarmActions', 'OKActions']) {
        if (resource.Properties?.[actions] === undefined) {
          this.serverless.extendConfiguration(['resources', 'Resources', id, 'Properties', actions], [custom.alarmTopic]);
        }
      }
    }
  }

  async bundleAll(only) {
    const { bundleFunction } = await import('./bundle.mjs');
    const service = this.serverless.service;
    const serviceDir = this.serverless.serviceDir;
    // Serverless's own temp dir: it moves what is there to `--package <dir>` when asked to.
    const outDir = path.join(serviceDir, '.serverless');
    const names = only ? [only] : service.getAllFunctions();
    const results = await Promise.all(
      names.map((name) => {
        const fn = service.getFunction(name);
        return bundleFunction({ name, handler: fn.handler, serviceDir, outDir });
      }),
    );
    for (const result of results) {
      const fn = service.getFunction(result.name);
      fn.package = { ...fn.package, artifact: result.artifact };
      this.log?.info?.(`bundled ${result.name}: ${result.bundleBytes} bytes, ${result.zipBytes} zipped`);
    }
  }

  /**
   * X-Ray active tracing (`custom.tracing`, the `tracing` parameter): when true, every function's
   * `TracingConfig` is `Active` and its role may write traces (`xray:PutTraceSegments` and
   * `xray:PutTelemetryRecords`, which X-Ray grants on `*` only). When false (the default), each
   * function carries the reason cdk-nag's tracing rule is accepted. Decided at package time, so the
   * template says plainly which it is. Lambda records the traces itself: no X-Ray SDK is bundled.
   */
  applyTracing() {
    const Failure = this.serverless.classes.Error;
    const value = String(this.serverless.service.custom?.tracing ?? 'false');
    if (value !== 'true' && value !== 'false') throw new Failure(`tracing is "${value}": it must be true or false`);
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const reasons = this.serverless.service.custom?.nagReasons ?? {};
    const suppress = (resource, id, reason) => {
      resource.Metadata ??= {};
      resource.Metadata.cdk_nag ??= { rules_to_suppress: [] };
      resource.Metadata.cdk_nag.rules_to_suppress.push({ id, reason });
    };
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      if (value === 'false') {
        suppress(resource, 'Serverless-LambdaTracing', reasons.tracingOff);
        continue;
      }
      resource.Properties.TracingConfig = { Mode: 'Active' };
      const roleId = resource.Properties.Role?.['Fn::GetAtt']?.[0];
      const role = resources[roleId];
      const policy = role?.Properties?.Policies?.[0]?.PolicyDocument;
      if (!policy) throw new Failure(`${id}: tracing=true needs the function's own role with a policy (found ${roleId})`);
      policy.Statement.push({ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' });
      // The same `*`, seen by the two rule packs.
      suppress(role, 'AwsSolutions-IAM5[Resource::*]', reasons.tracingWrite);
      suppress(role, 'Serverless-LambdaStarPermissions', reasons.tracingWrite);
    }
  }

  /**
   * Refuses format-change alarm settings that CloudWatch would refuse at deploy time, or that make
   * the alarm meaningless, naming the parameter.
   */
  checkAlarmSettings() {
    const Failure = this.serverless.classes.Error;
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const alarm = Object.values(resources).find((resource) => String(resource.Properties?.AlarmName ?? '').endsWith('-format-change'));
    if (!alarm) return;
    const percent = Number(alarm.Properties.Threshold);
    if (!(percent > 0 && percent <= 100)) {
      throw new Failure(`formatChangeAlarmPercent is "${alarm.Properties.Threshold}": it must be a number above 0 and at most 100`);
    }
    const window = alarm.Properties.Metrics[0].MetricStat.Period;
    if (!/^[1-9][0-9]*$/.test(String(window)) || Number(window) % 60 !== 0 || Number(window) > 86_400) {
      throw new Failure(
        `formatChangeAlarmWindowSeconds is "${window}": it must be a whole number of minutes in seconds (60, 120, ...), at most 86400`,
      );
    }
    const minimum = /^IF\(read >= (.*), 100/.exec(alarm.Properties.Metrics.at(-1).Expression)?.[1];
    if (!/^[1-9][0-9]{0,8}$/.test(String(minimum))) {
      throw new Failure(`formatChangeAlarmMinCallbacks is "${minimum}": it must be a whole number of callbacks, 1 or more`);
    }
  }

  /**
   * Refuses a template whose queue settings would lose messages, with the parameter to change:
   * a standard dead-letter queue keeps each message's original enqueue time, so it must keep
   * messages well past the events queue's retention; the quarantine age alarm must fire before
   * its messages expire.
   */
  checkRetention() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const seconds = (id, property) => Number(resources[id]?.Properties?.[property]);
    const events = seconds('EventsQueue', 'MessageRetentionPeriod');
    const deadLetters = seconds('EventsDeadLetterQueue', 'MessageRetentionPeriod');
    const minDeadLetterLife = 4 * 24 * 3600;
    // The framework's own error class: it prints the message alone, not a stack.
    const Failure = this.serverless.classes.Error;
    if (!(deadLetters - events >= minDeadLetterLife)) {
      throw new Failure(
        `eventRetentionSeconds is ${events}: at most ${deadLetters - minDeadLetterLife}, so that a dead letter stays ` +
          `at least ${minDeadLetterLife / 86400} days in the dead-letter queue (which keeps ${deadLetters} s from the first enqueue)`,
      );
    }
    const quarantine = seconds('QuarantineQueue', 'MessageRetentionPeriod');
    const alarm = Number(resources.QuarantineAgeAlarm?.Properties?.Threshold);
    if (!(alarm < quarantine)) {
      throw new Failure(`quarantineAgeAlarmSeconds is ${alarm}: it must be below quarantineRetentionSeconds (${quarantine})`);
    }
  }
}

/**
 * Checks every function's settings as the template gives them (tokens, allowlists, token parameter
 * names, bucket, log level) with the same strict rules the functions apply when they start, and the
 * deploy parameters that pick a branch (`fifo`, `exampleConsumer`, `reservedConcurrency`): a typo
 * stops the package instead of a deploy whose every callback then fails, or that silently takes the
 * other branch.
 */
EsbuildBundles.prototype.checkSettings = async function checkSettings() {
  const Failure = this.serverless.classes.Error;
  // Node 24 runs the project's TypeScript directly (type stripping): one set of rules, not two.
  const { ConfigError, checkPackagedSettings } = await import('../../lib/config/settings.ts');
  const { SOURCE_NAMES } = await import('../../lib/sources/registry.ts');
  const template = this.serverless.service.provider.compiledCloudFormationTemplate;
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    try {
      checkPackagedSettings(resource.Properties?.Environment?.Variables ?? {}, SOURCE_NAMES);
    } catch (error) {
      if (error instanceof ConfigError) throw new Failure(`${id}: ${error.message} (set by a deploy parameter; see docs/deploy.md)`);
      throw error;
    }
  }
  const conditions = template.Conditions ?? {};
  const equalsOf = (name) => conditions[name]?.['Fn::Equals']?.[0];
  for (const [parameter, condition] of [
    ['fifo', 'FifoEvents'],
    ['exampleConsumer', 'ExampleConsumerEnabled'],
  ]) {
    const value = equalsOf(condition);
    if (value !== undefined && value !== 'true' && value !== 'false') {
      throw new Failure(`${parameter} is "${value}": it must be true or false`);
    }
  }
  const reserved = conditions.HasReservedConcurrency?.['Fn::Not']?.[0]?.['Fn::Or']?.[0]?.['Fn::Equals']?.[0];
  if (reserved !== undefined && reserved !== '' && reserved !== 'none' && !/^[1-9][0-9]{0,5}$/.test(String(reserved))) {
    throw new Failure(`reservedConcurrency is "${reserved}": it must be a whole number of executions, or none`);
  }
};

module.exports = EsbuildBundles;
module.exports.retentionDays = retentionDays;
