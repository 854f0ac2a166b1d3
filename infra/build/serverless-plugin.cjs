'use strict';
// The project's Serverless plugin:
// - adds each callback function's per-sender parts (a function with `sender: <name>`: its role,
//   settings, metric filter, alarm, reserved concurrency and outputs; infra/build/sender-parts.mjs)
//   and sets every alarm's actions to `custom.alarmTopic`, before variables are resolved;
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
        this.checkRetention();
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
    const { loadSenders, senderParts } = await import('./sender-parts.mjs');
    const senders = callbackFunctions.length > 0 ? await loadSenders(this.serverless.serviceDir) : [];
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
      for (const part of senderParts({ fn, spec, sender, naming, shared: custom, defaults })) {
        this.serverless.extendConfiguration(part.path, part.value);
      }
    }
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
