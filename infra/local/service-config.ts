import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SENDERS, type SourceName } from '../../lib/sources/registry.ts';

/** An HTTP API route of a function, as `serverless.yml` declares it. */
export interface HttpRoute {
  /** `POST`, or `*` for any method. */
  readonly method: string;
  /** e.g. `/callbacks/thain/{kind}` */
  readonly path: string;
}

/** A function of `serverless.yml`: where its handler lives and how it is reached. */
export interface ServiceFunction {
  readonly name: string;
  /** The handler module, relative to the service root, without extension (`functions/bk-job`). */
  readonly module: string;
  /** The exported handler's name (`handler`). */
  readonly export: string;
  readonly routes: readonly HttpRoute[];
  /** Whether the function has a Lambda function URL. */
  readonly url: boolean;
  /** The sender whose callbacks it takes (its `sender:` property), for a callback function. */
  readonly sender?: string;
}

/** An SQS queue declared under `resources.Resources`. */
export interface ServiceQueue {
  readonly logicalId: string;
  readonly name: string;
  /** CreateQueue attributes, as strings. */
  readonly attributes: Record<string, string>;
  /** The redrive policy: the dead-letter queue's logical id and the receive count that moves a message. */
  readonly redrive?: { readonly deadLetterQueue: string; readonly maxReceiveCount: number };
}

/** An S3 bucket declared under `resources.Resources`. */
export interface ServiceBucket {
  readonly logicalId: string;
  /** Its `BucketName`, or (CloudFormation names it when deployed) `<service>-local-<logical id in kebab case>`. */
  readonly name: string;
}

/** What the local run needs from `serverless.yml`. */
export interface ServiceConfig {
  readonly service: string;
  readonly functions: readonly ServiceFunction[];
  readonly queues: readonly ServiceQueue[];
  readonly buckets: readonly ServiceBucket[];
  /** Environment variables whose value is `{ Ref: <queue> }`, with the queue's logical id. */
  readonly queueVariables: Readonly<Record<string, string>>;
  /** Environment variables whose value is `{ Ref: <bucket> }`, with the bucket's logical id. */
  readonly bucketVariables: Readonly<Record<string, string>>;
}

/** The service root: the folder of `serverless.yml`. */
export const SERVICE_DIR = join(import.meta.dirname, '..', '..');

type Yaml = Record<string, unknown>;

function isObject(value: unknown): value is Yaml {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads `serverless.yml` and resolves the few variables the local run needs (`${self:service}`,
 * `${sls:stage}`, `${opt:...}` defaults, `${param:...}` defaults) with the stage `local`.
 */
export function loadServiceConfig(file = join(SERVICE_DIR, 'serverless.yml')): ServiceConfig {
  const document: unknown = parse(readFileSync(file, 'utf8'));
  if (!isObject(document)) throw new Error(`${file}: not a YAML mapping`);
  const service = String(document.service);
  const params = isObject(document.params) && isObject(document.params.default) ? document.params.default : {};
  const resolve = (value: unknown): string =>
    String(value)
      .replaceAll('${self:service}', service)
      .replaceAll('${sls:stage}', 'local')
      .replace(/\$\{param:([\w-]+)\}/g, (_match, name: string) => String(params[name] ?? ''))
      .replace(/\$\{opt:[\w-]+,\s*'([^']*)'\}/g, '$1');

  const functions = Object.entries(isObject(document.functions) ? document.functions : {}).map(([name, spec]): ServiceFunction => {
    if (!isObject(spec) || typeof spec.handler !== 'string') {
      throw new Error(`serverless.yml: function ${name} has no handler`);
    }
    const dot = spec.handler.lastIndexOf('.');
    const events = Array.isArray(spec.events) ? spec.events : [];
    const routes = events.flatMap((event: unknown): HttpRoute[] => {
      if (!isObject(event) || !isObject(event.httpApi)) return [];
      return [{ method: String(event.httpApi.method ?? '*').toUpperCase(), path: String(event.httpApi.path) }];
    });
    return {
      name,
      module: spec.handler.slice(0, dot),
      export: spec.handler.slice(dot + 1),
      routes,
      url: Boolean(spec.url),
      ...(typeof spec.sender === 'string' && { sender: spec.sender }),
    };
  });

  const resources = isObject(document.resources) && isObject(document.resources.Resources) ? document.resources.Resources : {};
  const conditions = isObject(document.resources) && isObject(document.resources.Conditions) ? document.resources.Conditions : {};
  // The little CloudFormation the queues use: `Fn::If` on `Fn::Equals` conditions, `AWS::NoValue`.
  const holds = (name: string): boolean => {
    const condition = conditions[name];
    const equals = isObject(condition) ? condition['Fn::Equals'] : undefined;
    return Array.isArray(equals) && resolve(equals[0]) === resolve(equals[1]);
  };
  const evaluate = (value: unknown): unknown => {
    if (!isObject(value)) return value;
    const branch = value['Fn::If'];
    if (Array.isArray(branch)) return evaluate(holds(String(branch[0])) ? branch[1] : branch[2]);
    if (value.Ref === 'AWS::NoValue') return undefined;
    return value;
  };
  const queues: ServiceQueue[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isObject(resource) || resource.Type !== 'AWS::SQS::Queue') continue;
    const properties = isObject(resource.Properties) ? resource.Properties : {};
    const attributes: Record<string, string> = {};
    let redrive: ServiceQueue['redrive'];
    for (const [key, declared] of Object.entries(properties)) {
      const value = evaluate(declared);
      if (key === 'QueueName' || key === 'Tags' || value === undefined) continue;
      if (key === 'RedrivePolicy' && isObject(value)) {
        const target = value.deadLetterTargetArn;
        const getAtt = isObject(target) ? target['Fn::GetAtt'] : undefined;
        if (Array.isArray(getAtt)) {
          redrive = { deadLetterQueue: String(getAtt[0]), maxReceiveCount: Number(value.maxReceiveCount ?? 5) };
        }
        continue;
      }
      if (typeof value === 'object') continue;
      attributes[key] = typeof value === 'boolean' ? String(value) : resolve(value);
    }
    const name = properties.QueueName ? resolve(evaluate(properties.QueueName)) : logicalId;
    queues.push({ logicalId, name, attributes, ...(redrive && { redrive }) });
  }

  const buckets: ServiceBucket[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isObject(resource) || resource.Type !== 'AWS::S3::Bucket') continue;
    const properties = isObject(resource.Properties) ? resource.Properties : {};
    const kebab = logicalId.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
    buckets.push({
      logicalId,
      name: properties.BucketName ? resolve(evaluate(properties.BucketName)) : `${service}-local-${kebab}`,
    });
  }

  const provider = isObject(document.provider) ? document.provider : {};
  const environment = isObject(provider.environment) ? provider.environment : {};
  const queueVariables: Record<string, string> = {};
  const bucketVariables: Record<string, string> = {};
  for (const [variable, value] of Object.entries(environment)) {
    if (!isObject(value) || typeof value.Ref !== 'string') continue;
    const ref = value.Ref;
    if (queues.some((q) => q.logicalId === ref)) queueVariables[variable] = ref;
    if (buckets.some((b) => b.logicalId === ref)) bucketVariables[variable] = ref;
  }
  return { service, functions, queues, buckets, queueVariables, bucketVariables };
}

/** One route of a sender as deployed: the sender, the route's name, its function and its HTTP API path. */
export interface CallbackRoute {
  readonly source: SourceName;
  /** The route's name in the sender's descriptor (`flow`). */
  readonly route: string;
  /** The function that serves it (`thain`). */
  readonly function: string;
  /** The HTTP API path a sender posts to (`/callbacks/thain/flow`). */
  readonly path: string;
}

/**
 * Every route of every registered sender, with the function `serverless.yml` serves it from (the one
 * whose `sender:` names it) and its HTTP API path: the function's route, whose `{param}` (when the
 * sender has several routes) is the route's name. Throws when a sender has no function, or a
 * function names no registered sender: the two lists must agree.
 */
export function callbackRoutes(config: ServiceConfig = loadServiceConfig()): CallbackRoute[] {
  for (const fn of config.functions) {
    if (fn.sender !== undefined && !SENDERS.some((sender) => sender.name === fn.sender)) {
      throw new Error(`serverless.yml: function ${fn.name} names sender ${fn.sender}, which lib/sources/registry.ts does not list`);
    }
  }
  return SENDERS.flatMap((sender) => {
    const fns = config.functions.filter((candidate) => candidate.sender === sender.name);
    const [fn] = fns;
    if (!fn || fns.length > 1) {
      throw new Error(
        `serverless.yml: sender ${sender.name} needs exactly one function with \`sender: ${sender.name}\` (found ${fns.length})`,
      );
    }
    const [httpRoute] = fn.routes;
    const names = Object.keys(sender.routes);
    return names.map(
      (route): CallbackRoute => ({
        source: sender.name,
        route,
        function: fn.name,
        path: httpRoute ? (names.length > 1 ? httpRoute.path.replace(/\{[^}/]+\}/, route) : httpRoute.path) : `/${route}`,
      }),
    );
  });
}
