import * as v from 'valibot';
import { environmentSuffix } from '../sources/sender.ts';
import { type Cidr, parseCidr } from './cidr.ts';

/**
 * A setting that is malformed. Its message is one line that names the variable and the bad part,
 * and never repeats a token. Thrown while a function initialises (so Lambda reports an init error
 * and no request is served with it) and when `npm start` starts (it prints the line and exits 1).
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    // One line whatever a value held: a control character (a newline pasted into a variable) is
    // written as its JSON escape.
    super(
      message.replace(/[\p{Cc}\u2028\u2029]/gu, (char) => {
        const escaped = JSON.stringify(char).slice(1, -1);
        return escaped === char ? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}` : escaped;
      }),
      options,
    );
  }
}

/** A setting's value as an error message quotes it: in JSON quotes, so that every character shows. */
function quoted(value: unknown): string {
  return JSON.stringify(String(value));
}

/** The process environment, or a test's stand-in for it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Shortest token taken: 16 characters of `openssl rand -hex` carry 64 bits, enough against guessing. */
export const MIN_TOKEN_CHARS = 16;
/** Longest token taken; anything longer is a paste error. */
export const MAX_TOKEN_CHARS = 256;
/**
 * The characters a token may use: RFC 3986 "unreserved", the only ones every sender writes into a
 * query string as they are. Any other would need percent-encoding by hand: a `+` written as is reads
 * as a space, so a token with `+` would work only if the sender wrote `%2B`. Such tokens are refused
 * at start instead of failing at the first callback.
 */
const TOKEN_CHARS = /^[A-Za-z0-9._~-]+$/;

/** Whether a text could be a token: {@link MIN_TOKEN_CHARS} to {@link MAX_TOKEN_CHARS} of the token characters. */
export function isTokenShaped(text: string): boolean {
  return text.length >= MIN_TOKEN_CHARS && text.length <= MAX_TOKEN_CHARS && TOKEN_CHARS.test(text);
}

/** The variables one source reads (its tokens, where else its tokens may be, its allowlist). */
function accessVariables(source: string): {
  readonly tokens: string;
  readonly tokensParameter: string;
  readonly allowCidrs: string;
} {
  const suffix = environmentSuffix(source);
  return {
    tokens: `TOKENS_${suffix}`,
    tokensParameter: `TOKENS_${suffix}_SSM_NAME`,
    allowCidrs: `ALLOW_CIDRS_${suffix}`,
  };
}

/** The settings every function or `npm start` may read besides each sender's own. */
const COMMON_SETTINGS = [
  'QUEUE_URL',
  'QUARANTINE_QUEUE_URL',
  'PAYLOAD_BUCKET',
  'LOG_LEVEL',
  'PORT',
  'SQS_PORT',
  'S3_PORT',
  'METRICS_NAMESPACE',
  'METRICS_SERVICE',
] as const;

/** Every setting's name, with each sender's (`TOKENS_<SUFFIX>`, `TOKENS_<SUFFIX>_SSM_NAME`, `ALLOW_CIDRS_<SUFFIX>`). */
export function settingNames(sources: readonly string[]): string[] {
  return [...COMMON_SETTINGS, ...sources.flatMap((source) => Object.values(accessVariables(source)))];
}

/** A name in upper case with nothing but letters and digits: `tokens-bk_job` and `TOKENSBKJOB` are alike. */
const squash = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, '');

/**
 * The edit distance of two names (insertions, deletions, substitutions and swaps of neighbours,
 * each 1): how far a misspelling is from what was meant.
 */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = rows[i];
      if (row) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known setting a variable name was probably meant to be, when it looks like one of ours but is
 * not: the same name in another case or with other separators (`tokens_thain`, `TOKENS_BKJOB`), any
 * name of the token or allowlist kind (`TOKEN_BK_JOB`, `ALLOW_CIDR_THAIN`, `TOKENS_UNKNOWNSENDER`,
 * `THAIN_TOKENS`), whose mistake leaves a source open, or a long name one or two letters off
 * (`QUEUE_ULR`). Undefined for any other variable (`PATH`, `AWS_REGION`, `NPM_TOKEN`,
 * `TOKENIZERS_PARALLELISM`).
 */
function meantSetting(name: string, known: readonly string[], suffixes: readonly string[]): string | undefined {
  if (known.includes(name)) return undefined;
  const bare = squash(name);
  const same = known.find((candidate) => squash(candidate) === bare);
  if (same) return same;
  const closest = (candidates: readonly string[]) =>
    candidates.reduce<[string | undefined, number]>(
      (best, candidate) => {
        const d = distance(bare, squash(candidate));
        return d < best[1] ? [candidate, d] : best;
      },
      [undefined, Number.POSITIVE_INFINITY],
    )[0];
  const upper = name.toUpperCase();
  const named = suffixes.filter((suffix) => bare.includes(squash(suffix)));
  /** The settings of a kind, those of the sender the name names first, in the SSM form if it says SSM. */
  const ofKind = (prefix: string) => {
    const kind = known.filter((candidate) => candidate.startsWith(prefix) && candidate.endsWith('_SSM_NAME') === bare.includes('SSM'));
    const sender = kind.filter((candidate) => named.some((suffix) => squash(candidate).includes(squash(suffix))));
    return closest(sender.length > 0 ? sender : kind.length > 0 ? kind : known.filter((candidate) => candidate.startsWith(prefix)));
  };
  if (/^TOKENS?(?:[^A-Z0-9]|$)/.test(upper) || (named.length > 0 && bare.includes('TOKEN'))) return ofKind('TOKENS_');
  if (/^ALLOW(?:ED)?[^A-Z0-9]*(?:CIDR|IP|ADDRESS|NETWORK)/.test(upper) || (named.length > 0 && bare.includes('CIDR'))) {
    return ofKind('ALLOW_CIDRS_');
  }
  const near = closest(known);
  if (near === undefined || bare.length < 8) return undefined;
  return distance(bare, squash(near)) <= (bare.length >= 12 ? 2 : 1) ? near : undefined;
}

/**
 * Refuses any variable that looks like a setting of ours but is not one (see {@link meantSetting}),
 * naming the setting it was probably meant to be: a misspelt `TOKENS_THAIN` would otherwise be
 * ignored, and the source would run open.
 * @param sources every registered sender's name, whose settings are known
 * @throws ConfigError for the first such variable
 */
export function checkSettingNames(env: Readonly<Record<string, unknown>>, sources: readonly string[]): void {
  const known = settingNames(sources);
  const suffixes = sources.map(environmentSuffix);
  for (const name of Object.keys(env)) {
    const meant = meantSetting(name, known, suffixes);
    if (meant === undefined) continue;
    const shown = /^[A-Za-z0-9_.-]+$/.test(name) ? name : quoted(name);
    const senders = suffixes.some((suffix) => squash(name).includes(squash(suffix))) ? '' : ` (the senders are ${sources.join(', ')})`;
    const hint = distance(squash(name), squash(meant)) <= 2 ? '' : senders;
    throw new ConfigError(`${shown} is not a setting: did you mean ${meant}?${hint}`);
  }
}

/**
 * Splits a comma-separated list: whitespace around an item is dropped, an empty item (`a,,b`, a
 * comma at either end) is refused, because it is usually where something was deleted by mistake.
 */
function listSchema<T>(describe: (item: string, index: number) => string, parseItem: (item: string) => T | string) {
  return v.pipe(
    v.string(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const items = dataset.value.split(',').map((item) => item.trim());
      const parsed: T[] = [];
      for (const [index, item] of items.entries()) {
        const result = item === '' ? 'is empty (two commas in a row, or a comma at an end)' : parseItem(item);
        if (typeof result === 'string') {
          addIssue({ message: `${describe(item, index)} ${result}` });
          return NEVER;
        }
        parsed.push(result);
      }
      return parsed;
    }),
  );
}

/** One token, checked against the rules above; the message never repeats it. */
function parseToken(token: string): string {
  if (/\s/.test(token)) return 'contains whitespace';
  if (token.length < MIN_TOKEN_CHARS) {
    return `is ${token.length} characters long; a token needs at least ${MIN_TOKEN_CHARS} (e.g. openssl rand -hex 24)`;
  }
  if (token.length > MAX_TOKEN_CHARS) return `is longer than ${MAX_TOKEN_CHARS} characters`;
  if (!TOKEN_CHARS.test(token)) {
    return 'has a character other than A-Z a-z 0-9 - . _ ~ (others, such as "+", "/" or "=", change meaning in a URL unless the sender percent-encodes them)';
  }
  return token;
}

/** A comma-separated token list; an item is named by its position, never by its content. */
const TokenListSchema = listSchema(
  (_item, index) => `item ${index + 1}`,
  (token): string | { token: string } => {
    const problem = parseToken(token);
    return problem === token ? { token } : problem;
  },
);

/** A comma-separated list of IPv4/IPv6 addresses and CIDR blocks, each checked by {@link parseCidr}. */
const CidrListSchema = listSchema((item, index) => `item ${index + 1}${item === '' ? '' : ` (${quoted(item)})`}`, parseCidr);

/** An SSM parameter name as a full path (`/jobhooks/prod/thain-tokens`), the form IAM policies name. */
const ParameterNameSchema = v.pipe(
  v.string(),
  v.regex(
    /^(\/[A-Za-z0-9_.-]+)+$/,
    (issue) => `must be an SSM parameter name starting with "/" (like /jobhooks/prod/thain-tokens), got ${quoted(issue.input)}`,
  ),
  v.maxLength(1011, 'is longer than an SSM parameter name may be'),
);

/** A TCP port; 0 asks the system for a free one. */
const PortSchema = v.pipe(
  v.string(),
  v.regex(/^(0|[1-9][0-9]{0,4})$/, (issue) => `must be an integer 0–65535, got ${quoted(issue.input)}`),
  v.transform(Number),
  v.maxValue(65535, (issue) => `must be an integer 0–65535, got ${quoted(issue.input)}`),
);

/**
 * A URL as an error may repeat it: a user name and password (`https://user:pw@…`) become `***`, and a
 * query string `?…`, because either may hold a credential.
 */
function withoutSecrets(url: string): string {
  return url.replace(/^([^/?#@]*:\/\/|)[^/?#]*@/, '$1***@').replace(/\?.*$/s, '?…');
}

/** An SQS queue name: up to 80 letters, digits, `-` and `_`, and `.fifo` for a FIFO queue. */
const QUEUE_PATH = /^\/[0-9]{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/**
 * An SQS queue URL: http(s), no credentials, query or fragment, and the path `/<12-digit account>/<queue
 * name>` that SQS and the embedded local SQS both use.
 */
const QueueUrlSchema = v.pipe(
  v.string(),
  v.check(
    (text) => {
      if (!URL.canParse(text)) return false;
      const url = new URL(text);
      return (
        // The URL parser drops tabs and line breaks; the SDK would not.
        !/[\s\p{Cc}]/u.test(text) &&
        (url.protocol === 'https:' || url.protocol === 'http:') &&
        url.username === '' &&
        url.password === '' &&
        url.search === '' &&
        url.hash === '' &&
        QUEUE_PATH.test(url.pathname)
      );
    },
    (issue) =>
      `must be an SQS queue URL like https://sqs.<region>.amazonaws.com/<12-digit account>/<queue name>, got ${quoted(withoutSecrets(String(issue.input)))}`,
  ),
);

/**
 * Reads one variable with its schema. Unset or empty (what an empty deploy parameter becomes) is
 * undefined; anything else must pass, or a {@link ConfigError} names the variable and the problem.
 */
function readVariable<const S extends v.GenericSchema<string, unknown>>(
  env: Environment,
  name: string,
  schema: S,
): v.InferOutput<S> | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const result = v.safeParse(schema, raw);
  if (!result.success) throw new ConfigError(`${name} ${result.issues[0].message}`);
  return result.output;
}

/** Where a source's tokens come from: none, the variable itself, or an SSM SecureString parameter. */
export type TokenSetting =
  | { readonly from: 'none' }
  | { readonly from: 'variable'; readonly tokens: readonly string[] }
  | { readonly from: 'ssm'; readonly parameter: string; readonly variable: string };

/** Who may call one source, as configured. */
export interface AccessSettings {
  readonly tokens: TokenSetting;
  /** The allowed caller networks; undefined: any address. */
  readonly allow?: readonly Cidr[];
}

/**
 * Reads a source's access settings, strictly: `TOKENS_<SOURCE>` (comma-separated tokens) or
 * `TOKENS_<SOURCE>_SSM_NAME` (an SSM SecureString parameter holding them; not both), and
 * `ALLOW_CIDRS_<SOURCE>`. Unset or empty: no token, any address.
 * @throws ConfigError for anything malformed
 */
export function readAccessSettings(source: string, env: Environment): AccessSettings {
  const names = accessVariables(source);
  const tokens = readVariable(env, names.tokens, TokenListSchema);
  const parameter = readVariable(env, names.tokensParameter, ParameterNameSchema);
  const allow = readVariable(env, names.allowCidrs, CidrListSchema);
  if (tokens && parameter) {
    throw new ConfigError(`${names.tokens} and ${names.tokensParameter} are both set: keep one`);
  }
  const setting: TokenSetting = parameter
    ? { from: 'ssm', parameter, variable: names.tokensParameter }
    : tokens
      ? { from: 'variable', tokens: tokens.map((item) => item.token) }
      : { from: 'none' };
  return { tokens: setting, ...(allow && { allow }) };
}

/**
 * Checks the settings a function will read at init, as the packaged template gives them, so that a
 * malformed token list, allowlist or parameter name stops `sls package`/`sls deploy` instead of every
 * callback then failing at init. Values CloudFormation fills in at deploy time (`{{resolve:…}}`, or
 * not text) cannot be checked here and are skipped; the function checks them when it starts. A
 * tokens parameter's name (`TOKENS_<SOURCE>_SSM_NAME`) may not be filled in: it is also the resource
 * of the function's `ssm:GetParameter` permission, so a `*` in it must be refused here.
 * @param environment a function's `Environment.Variables` in the template
 * @throws ConfigError for the first malformed setting
 */
export function checkPackagedSettings(environment: Readonly<Record<string, unknown>>, sources: readonly string[]): void {
  checkSettingNames(environment, sources);
  const known: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    const literal = typeof value === 'string' && !value.includes('{{resolve:');
    // A tokens parameter's name is also the one resource of the function's ssm:GetParameter
    // permission: it is checked here or nowhere, so that no wildcard can reach the policy.
    if (!literal && name.endsWith('_SSM_NAME')) {
      throw new ConfigError(
        `${name} must be written out, not filled in by CloudFormation: it names the one SSM parameter the function may read`,
      );
    }
    if (literal) known[name] = value;
  }
  readVariable(known, 'PAYLOAD_BUCKET', BucketNameSchema);
  readVariable(known, 'LOG_LEVEL', LogLevelSchema);
  for (const source of sources) readAccessSettings(source, known);
}

/** `LOG_LEVEL`: `silent` turns the request log off; `info` (or unset) keeps it. */
const LogLevelSchema = v.picklist(['info', 'silent'], (issue) => `must be info or silent, got ${quoted(issue.input)}`);

/**
 * Reads `LOG_LEVEL` strictly: a misspelt `SILENT` must not quietly leave the log on.
 * @throws ConfigError for any other value
 */
export function readLogLevel(env: Environment): 'info' | 'silent' {
  return readVariable(env, 'LOG_LEVEL', LogLevelSchema) ?? 'info';
}

/**
 * Reads the tokens held in an SSM parameter's value with the same rules as `TOKENS_<SOURCE>`.
 * @throws ConfigError naming the variable that names the parameter
 */
export function parseTokenValue(value: string, variable: string, parameter: string): string[] {
  const result = v.safeParse(TokenListSchema, value);
  if (!result.success) {
    throw new ConfigError(`${variable}: the SSM parameter ${parameter} ${result.issues[0].message}`);
  }
  return result.output.map((item) => item.token);
}

/**
 * An S3 bucket name as S3 takes it for a new bucket: 3–63 lowercase letters, digits, `.` and `-`,
 * starting and ending with a letter or digit, not shaped like an IP address.
 */
const BucketNameSchema = v.pipe(
  v.string(),
  v.check(
    (text) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(text) && !/^\d+\.\d+\.\d+\.\d+$/.test(text) && !text.includes('..'),
    (issue) => `must be an S3 bucket name (3–63 of a-z 0-9 . -), got ${quoted(issue.input)}`,
  ),
);

/** The queues (and the payload bucket) a callback function writes to. */
export interface QueueSettings {
  readonly queueUrl: string;
  readonly quarantineQueueUrl?: string;
  /** Unset: no bucket (no claim-check, no spool). */
  readonly payloadBucket?: string;
}

/**
 * Reads `QUEUE_URL` (required: a function without it could answer nothing but 503),
 * `QUARANTINE_QUEUE_URL` and `PAYLOAD_BUCKET` (optional).
 * @throws ConfigError for a missing or malformed URL
 */
export function readQueueSettings(env: Environment): QueueSettings {
  const queueUrl = readVariable(env, 'QUEUE_URL', QueueUrlSchema);
  if (queueUrl === undefined) throw new ConfigError('QUEUE_URL is not set: it names the events queue');
  const quarantineQueueUrl = readVariable(env, 'QUARANTINE_QUEUE_URL', QueueUrlSchema);
  const payloadBucket = readVariable(env, 'PAYLOAD_BUCKET', BucketNameSchema);
  readLogLevel(env);
  return {
    queueUrl,
    ...(quarantineQueueUrl !== undefined && { quarantineQueueUrl }),
    ...(payloadBucket !== undefined && { payloadBucket }),
  };
}

/**
 * Reads a port variable (`PORT`, `SQS_PORT`, `S3_PORT`) strictly: an integer 0–65535, else `fallback`
 * when unset. For the tools that find `npm start` by its ports.
 * @throws ConfigError for anything else
 */
export function readPort(env: Environment, variable: string, fallback: number): number {
  return readVariable(env, variable, PortSchema) ?? fallback;
}

/** What `npm start` reads besides each source's access settings. */
export interface LocalRunSettings {
  readonly port: number;
  readonly sqsPort: number;
  readonly s3Port: number;
  /** Unset: the embedded queues. */
  readonly queueUrl?: string;
  /** Unset: the embedded quarantine queue (without `queueUrl`), or none. */
  readonly quarantineQueueUrl?: string;
  /** Unset: the embedded bucket. */
  readonly payloadBucket?: string;
}

/**
 * Reads `npm start`'s settings, strictly, before anything starts: `PORT`, `SQS_PORT`, `S3_PORT`, the
 * queue URLs and `PAYLOAD_BUCKET` when set, and every source's tokens and allowlist.
 * @throws ConfigError for the first malformed setting
 */
export function readLocalRunSettings(
  env: Environment,
  sources: readonly string[],
  defaults: { readonly port: number; readonly sqsPort: number; readonly s3Port: number },
): LocalRunSettings {
  checkSettingNames(env, sources);
  const port = readVariable(env, 'PORT', PortSchema) ?? defaults.port;
  const sqsPort = readVariable(env, 'SQS_PORT', PortSchema) ?? defaults.sqsPort;
  const s3Port = readVariable(env, 'S3_PORT', PortSchema) ?? defaults.s3Port;
  const queueUrl = readVariable(env, 'QUEUE_URL', QueueUrlSchema);
  const quarantineQueueUrl = readVariable(env, 'QUARANTINE_QUEUE_URL', QueueUrlSchema);
  const payloadBucket = readVariable(env, 'PAYLOAD_BUCKET', BucketNameSchema);
  readLogLevel(env);
  for (const source of sources) readAccessSettings(source, env);
  return {
    port,
    sqsPort,
    s3Port,
    ...(queueUrl !== undefined && { queueUrl }),
    ...(quarantineQueueUrl !== undefined && { quarantineQueueUrl }),
    ...(payloadBucket !== undefined && { payloadBucket }),
  };
}
