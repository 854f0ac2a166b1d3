import { describe, expect, it } from 'vitest';
import { SOURCE_NAMES } from '../sources/registry.ts';
import {
  ConfigError,
  checkPackagedSettings,
  checkSettingNames,
  readAccessSettings,
  readLocalRunSettings,
  readLogLevel,
  readQueueSettings,
} from './settings.ts';

const TOKEN_A = 'a'.repeat(16);
const TOKEN_B = '0123456789abcdef0123456789abcdef';

/** The message of the ConfigError that `act` throws (fails the test if it throws nothing else). */
function problem(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('no ConfigError');
}

describe('tokens', () => {
  it('takes unreserved characters, 16 or more, trims around commas, and treats empty as unset', () => {
    expect(readAccessSettings('bk-job', { TOKENS_BK_JOB: ` ${TOKEN_A} , ${TOKEN_B}` }).tokens).toEqual({
      from: 'variable',
      tokens: [TOKEN_A, TOKEN_B],
    });
    expect(readAccessSettings('bk-job', { TOKENS_BK_JOB: 'Az09-._~Az09-._~' }).tokens).toMatchObject({ from: 'variable' });
    expect(readAccessSettings('bk-job', { TOKENS_BK_JOB: '' }).tokens).toEqual({ from: 'none' });
    expect(readAccessSettings('bk-job', {}).tokens).toEqual({ from: 'none' });
  });

  it.each([
    [`${TOKEN_A},,${TOKEN_B}`, /^TOKENS_THAIN item 2 is empty/],
    [`${TOKEN_A},`, /^TOKENS_THAIN item 2 is empty/],
    [`,${TOKEN_A}`, /^TOKENS_THAIN item 1 is empty/],
    [' ', /^TOKENS_THAIN item 1 is empty/],
    ['abcdefgh ijklmnopq', /^TOKENS_THAIN item 1 contains whitespace/],
    ['abcdefgh\tijklmnopq', /^TOKENS_THAIN item 1 contains whitespace/],
    ['short-token', /^TOKENS_THAIN item 1 is 11 characters long; a token needs at least 16/],
    [`${TOKEN_A},abc+defghijklmnop`, /^TOKENS_THAIN item 2 has a character other than A-Z a-z 0-9 - \. _ ~/],
    ['abc/defghijklmnopq', /character other than/],
    ['abcdefghijklmnop==', /character other than/],
    ['abcdefghijklmnop%2B', /character other than/],
    ['tökenötökenötöken', /character other than/],
    ['x'.repeat(257), /longer than 256 characters/],
  ])('refuses %j, naming the variable and the item, never the token', (value, expected) => {
    const message = problem(() => readAccessSettings('thain', { TOKENS_THAIN: value }));
    expect(message).toMatch(expected);
    for (const part of value.split(',').filter((item) => item.trim().length > 3)) {
      expect(message).not.toContain(part.trim());
    }
  });

  it('takes tokens from an SSM parameter name, never from both places', () => {
    expect(readAccessSettings('tencent-ci', { TOKENS_TENCENT_CI_SSM_NAME: '/jobhooks/prod/ci-tokens' }).tokens).toEqual({
      from: 'ssm',
      parameter: '/jobhooks/prod/ci-tokens',
      variable: 'TOKENS_TENCENT_CI_SSM_NAME',
    });
    expect(problem(() => readAccessSettings('tencent-ci', { TOKENS_TENCENT_CI: TOKEN_A, TOKENS_TENCENT_CI_SSM_NAME: '/a' }))).toBe(
      'TOKENS_TENCENT_CI and TOKENS_TENCENT_CI_SSM_NAME are both set: keep one',
    );
    for (const name of ['jobhooks/prod', '/jobhooks/prod/', '/a b', 'arn:aws:ssm:us-east-1:1:parameter/x']) {
      expect(problem(() => readAccessSettings('thain', { TOKENS_THAIN_SSM_NAME: name }))).toMatch(
        /^TOKENS_THAIN_SSM_NAME must be an SSM parameter name starting with "\/"/,
      );
    }
  });
});

describe('allowlists', () => {
  it('reads the blocks of the list', () => {
    expect(readAccessSettings('thain', { ALLOW_CIDRS_THAIN: '10.0.0.0/8, 192.0.2.7 ,2001:db8::/32' }).allow).toEqual([
      { family: 'ipv4', address: '10.0.0.0', prefix: 8 },
      { family: 'ipv4', address: '192.0.2.7', prefix: 32 },
      { family: 'ipv6', address: '2001:db8::', prefix: 32 },
    ]);
    expect(readAccessSettings('thain', { ALLOW_CIDRS_THAIN: '' }).allow).toBeUndefined();
  });

  it.each([
    ['10.9.9.9/', 'ALLOW_CIDRS_THAIN item 1 ("10.9.9.9/") has an empty prefix length after "/"'],
    ['10.0.0.0/8,,192.0.2.7', 'ALLOW_CIDRS_THAIN item 2 is empty (two commas in a row, or a comma at an end)'],
    ['10.0.0.0/8,10.0.0.0/8/32', 'ALLOW_CIDRS_THAIN item 2 ("10.0.0.0/8/32") has more than one "/"'],
    ['2001:db8::/', 'ALLOW_CIDRS_THAIN item 1 ("2001:db8::/") has an empty prefix length after "/"'],
  ])('refuses %j in one line naming the variable and the item', (value, expected) => {
    expect(problem(() => readAccessSettings('thain', { ALLOW_CIDRS_THAIN: value }))).toBe(expected);
  });
});

describe('queues', () => {
  it('takes SQS queue URLs, standard and FIFO, local or AWS', () => {
    expect(
      readQueueSettings({
        QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobhooks-prod-events.fifo',
        QUARANTINE_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobhooks-local-quarantine',
      }),
    ).toEqual({
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobhooks-prod-events.fifo',
      quarantineQueueUrl: 'http://127.0.0.1:9324/000000000000/jobhooks-local-quarantine',
    });
  });

  it.each([
    'jobhooks-prod-events',
    'sqs.eu-west-1.amazonaws.com/123456789012/q',
    'ftp://sqs.eu-west-1.amazonaws.com/123456789012/q',
    'https://sqs.eu-west-1.amazonaws.com/q',
    'https://sqs.eu-west-1.amazonaws.com/12345/q',
    'https://sqs.eu-west-1.amazonaws.com/123456789012/q/extra',
    'https://sqs.eu-west-1.amazonaws.com/123456789012/bad.name',
    'arn:aws:sqs:eu-west-1:123456789012:q',
  ])('refuses QUEUE_URL=%s', (url) => {
    expect(problem(() => readQueueSettings({ QUEUE_URL: url }))).toBe(
      `QUEUE_URL must be an SQS queue URL like https://sqs.<region>.amazonaws.com/<12-digit account>/<queue name>, got "${url}"`,
    );
  });

  it.each([
    ['https://user:s3cr3tpass@sqs.eu-west-1.amazonaws.com/123456789012/q', 'https://***@sqs.eu-west-1.amazonaws.com/123456789012/q'],
    ['http://:s3cr3tpass@127.0.0.1:9324/000000000000/q', 'http://***@127.0.0.1:9324/000000000000/q'],
    ['user:s3cr3tpass@sqs.eu-west-1.amazonaws.com/123456789012/q', '***@sqs.eu-west-1.amazonaws.com/123456789012/q'],
    [
      'https://sqs.eu-west-1.amazonaws.com/123456789012/q?X-Amz-Security-Token=s3cr3tpass',
      'https://sqs.eu-west-1.amazonaws.com/123456789012/q?…',
    ],
  ])('refuses QUEUE_URL=%s without repeating its password or query', (url, shown) => {
    const message = problem(() => readQueueSettings({ QUEUE_URL: url }));
    expect(message).toBe(
      `QUEUE_URL must be an SQS queue URL like https://sqs.<region>.amazonaws.com/<12-digit account>/<queue name>, got "${shown}"`,
    );
    expect(message).not.toContain('s3cr3tpass');
  });

  it('needs QUEUE_URL, and checks QUARANTINE_QUEUE_URL when set', () => {
    expect(problem(() => readQueueSettings({}))).toBe('QUEUE_URL is not set: it names the events queue');
    expect(
      problem(() => readQueueSettings({ QUEUE_URL: 'https://sqs.x.amazonaws.com/123456789012/a', QUARANTINE_QUEUE_URL: 'q' })),
    ).toMatch(/^QUARANTINE_QUEUE_URL must be an SQS queue URL/);
  });
});

describe('npm start settings', () => {
  const defaults = { port: 3000, sqsPort: 9324, s3Port: 4568 };

  it('takes ports 0–65535 (0: a free one), with defaults', () => {
    expect(readLocalRunSettings({}, SOURCE_NAMES, defaults)).toEqual({ port: 3000, sqsPort: 9324, s3Port: 4568 });
    expect(readLocalRunSettings({ PORT: '0', SQS_PORT: '65535', S3_PORT: '1' }, SOURCE_NAMES, defaults)).toEqual({
      port: 0,
      sqsPort: 65535,
      s3Port: 1,
    });
  });

  it.each(['abc', '-1', '65536', '3000.5', ' 3000', '03000', '0x10', '1e3', '99999999999999999999'])('refuses PORT=%j', (port) => {
    expect(problem(() => readLocalRunSettings({ PORT: port }, SOURCE_NAMES, defaults))).toBe(
      `PORT must be an integer 0–65535, got "${port}"`,
    );
    expect(problem(() => readLocalRunSettings({ SQS_PORT: port }, SOURCE_NAMES, defaults))).toBe(
      `SQS_PORT must be an integer 0–65535, got "${port}"`,
    );
    expect(problem(() => readLocalRunSettings({ S3_PORT: port }, SOURCE_NAMES, defaults))).toBe(
      `S3_PORT must be an integer 0–65535, got "${port}"`,
    );
  });

  it('checks every source, and the queue URLs when set', () => {
    expect(problem(() => readLocalRunSettings({ ALLOW_CIDRS_TENCENT_CI: '10.0.0.0/' }, SOURCE_NAMES, defaults))).toMatch(
      /^ALLOW_CIDRS_TENCENT_CI item 1/,
    );
    expect(problem(() => readLocalRunSettings({ QUEUE_URL: 'x' }, SOURCE_NAMES, defaults))).toMatch(/^QUEUE_URL must be/);
    expect(problem(() => readLocalRunSettings({ QUARANTINE_QUEUE_URL: 'x' }, SOURCE_NAMES, defaults))).toMatch(
      /^QUARANTINE_QUEUE_URL must be/,
    );
  });

  it('takes PAYLOAD_BUCKET as S3 names a bucket, and refuses anything else by name', () => {
    expect(readLocalRunSettings({ PAYLOAD_BUCKET: 'my-payloads.1' }, SOURCE_NAMES, defaults).payloadBucket).toBe('my-payloads.1');
    for (const name of ['ab', 'My-Bucket', 'a_b_c', '-abc', 'abc-', 'a..b', '10.0.0.1', 's3://abc', 'x'.repeat(64)]) {
      expect(problem(() => readLocalRunSettings({ PAYLOAD_BUCKET: name }, SOURCE_NAMES, defaults))).toBe(
        `PAYLOAD_BUCKET must be an S3 bucket name (3–63 of a-z 0-9 . -), got "${name}"`,
      );
    }
  });
});

describe('every error is one line', () => {
  it.each([
    ['PORT', '30\n00'],
    ['ALLOW_CIDRS_THAIN', '10.0.0.0/8\n192.168.0.0/16'],
    ['QUEUE_URL', 'https://sqs.x.amazonaws.com/123456789012/q\r\nX'],
    ['PAYLOAD_BUCKET', 'a\u2028b'],
    ['LOG_LEVEL', 'silent\n'],
    ['TOKENS_THAIN_SSM_NAME', '/a\n/b'],
  ])('quotes a %s value with a newline or other control character as its escape', (variable, value) => {
    const message = problem(() => readLocalRunSettings({ [variable]: value }, SOURCE_NAMES, { port: 1, sqsPort: 2, s3Port: 3 }));
    expect(message).toMatch(new RegExp(`^${variable} `));
    expect(message).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
    expect(message).toContain(JSON.stringify(value).slice(1, -1).replace('\u2028', '\\u2028'));
  });

  it('does so for a message built elsewhere too', () => {
    expect(new ConfigError('a\nb\tc\u0000').message).toBe('a\\nb\\tc\\u0000');
  });
});

describe('names that look like a setting but are none', () => {
  it.each([
    ['TOKEN_BK_JOB', 'TOKENS_BK_JOB'],
    ['TOKENS_BKJOB', 'TOKENS_BK_JOB'],
    ['TOKENS_TENCENTCI', 'TOKENS_TENCENT_CI'],
    ['tokens_thain', 'TOKENS_THAIN'],
    ['Tokens-Thain', 'TOKENS_THAIN'],
    ['THAIN_TOKENS', 'TOKENS_THAIN'],
    ['TOKEN_THAIN_SSM', 'TOKENS_THAIN_SSM_NAME'],
    ['TOKENS_THAIN_SSM_NAM', 'TOKENS_THAIN_SSM_NAME'],
    ['ALLOW_CIDR_THAIN', 'ALLOW_CIDRS_THAIN'],
    ['ALLOWED_IPS_BK_JOB', 'ALLOW_CIDRS_BK_JOB'],
    ['allow_cidrs_tencent_ci', 'ALLOW_CIDRS_TENCENT_CI'],
    ['QUEUE_ULR', 'QUEUE_URL'],
    ['QUARANTINE_QUEUE_URLS', 'QUARANTINE_QUEUE_URL'],
    ['PAYLOAD_BUKET', 'PAYLOAD_BUCKET'],
    ['LOGLEVEL', 'LOG_LEVEL'],
    ['S3PORT', 'S3_PORT'],
  ])('refuses %s, naming %s', (name, meant) => {
    const message = `${name} is not a setting: did you mean ${meant}?`;
    expect(problem(() => checkSettingNames({ [name]: 'abcdefghijklmnopqrs' }, SOURCE_NAMES))).toBe(message);
    expect(problem(() => readLocalRunSettings({ [name]: 'x' }, SOURCE_NAMES, { port: 1, sqsPort: 2, s3Port: 3 }))).toBe(message);
    expect(problem(() => checkPackagedSettings({ [name]: 'x' }, SOURCE_NAMES))).toBe(message);
  });

  it('names the senders when the name names none of them', () => {
    expect(problem(() => checkSettingNames({ TOKENS_UNKNOWNSENDER: 'x' }, SOURCE_NAMES))).toBe(
      'TOKENS_UNKNOWNSENDER is not a setting: did you mean TOKENS_TENCENT_CI? (the senders are bk-job, tencent-ci, thain)',
    );
    expect(problem(() => checkSettingNames({ TOKEN: 'x' }, SOURCE_NAMES))).toMatch(
      /^TOKEN is not a setting: did you mean TOKENS_.*\(the senders are/,
    );
  });

  it('derives the known names from the registry, and leaves every other variable alone', () => {
    for (const source of SOURCE_NAMES) {
      const suffix = source.toUpperCase().replaceAll('-', '_');
      for (const name of [`TOKENS_${suffix}`, `TOKENS_${suffix}_SSM_NAME`, `ALLOW_CIDRS_${suffix}`]) {
        expect(() => checkSettingNames({ [name]: 'x' }, SOURCE_NAMES), name).not.toThrow();
      }
    }
    const others = [
      'PATH',
      'HOME',
      'AWS_REGION',
      'AWS_LAMBDA_FUNCTION_NAME',
      '_HANDLER',
      'NPM_TOKEN',
      'GITHUB_TOKEN',
      'NODE_AUTH_TOKEN',
      'TOKENIZERS_PARALLELISM',
      'ALLOWED_HOSTS',
      'HOST',
      'PORTS',
      'npm_config_loglevel',
      'npm_lifecycle_event',
      'METRICS_NAMESPACE',
      'QUEUE_URL',
    ];
    expect(() => checkSettingNames(Object.fromEntries(others.map((name) => [name, 'x'])), SOURCE_NAMES)).not.toThrow();
    expect(() => checkSettingNames(process.env, SOURCE_NAMES)).not.toThrow();
  });
});

describe('settings in the packaged template', () => {
  it('checks tokens, allowlists, bucket and log level of every source as the function will, and skips what CloudFormation fills in', () => {
    const ok = {
      QUEUE_URL: { Ref: 'EventsQueue' },
      TOKENS_THAIN: '{{resolve:ssm:/jobhooks/prod/thain-tokens}}',
      ALLOW_CIDRS_THAIN: '10.0.0.0/8',
      PAYLOAD_BUCKET: { Ref: 'PayloadBucket' },
    };
    expect(() => checkPackagedSettings(ok, SOURCE_NAMES)).not.toThrow();
    expect(problem(() => checkPackagedSettings({ ...ok, ALLOW_CIDRS_THAIN: '10.0.0.0/' }, SOURCE_NAMES))).toMatch(
      /^ALLOW_CIDRS_THAIN item 1/,
    );
    expect(problem(() => checkPackagedSettings({ TOKENS_BK_JOB: 'a+b-0123456789abcdef' }, SOURCE_NAMES))).toMatch(/^TOKENS_BK_JOB item 1/);
    expect(problem(() => checkPackagedSettings({ TOKENS_BK_JOB_SSM_NAME: 'no-slash' }, SOURCE_NAMES))).toMatch(/^TOKENS_BK_JOB_SSM_NAME/);
    expect(problem(() => checkPackagedSettings({ LOG_LEVEL: 'SILENT' }, SOURCE_NAMES))).toBe(
      'LOG_LEVEL must be info or silent, got "SILENT"',
    );
  });

  it('refuses a wildcard, or a value CloudFormation would fill in, as a tokens parameter name: it is the IAM resource', () => {
    for (const name of ['/jobhooks/*', '/jobhooks/prod/*-tokens', '*', '/jobhooks/?', `/jobhooks/\${AWS::Region}`]) {
      expect(problem(() => checkPackagedSettings({ TOKENS_THAIN_SSM_NAME: name }, SOURCE_NAMES))).toBe(
        `TOKENS_THAIN_SSM_NAME must be an SSM parameter name starting with "/" (like /jobhooks/prod/thain-tokens), got ${JSON.stringify(name)}`,
      );
    }
    for (const value of ['{{resolve:ssm:/jobhooks/name}}', { Ref: 'SomeParameter' }]) {
      expect(problem(() => checkPackagedSettings({ TOKENS_THAIN_SSM_NAME: value }, SOURCE_NAMES))).toBe(
        'TOKENS_THAIN_SSM_NAME must be written out, not filled in by CloudFormation: it names the one SSM parameter the function may read',
      );
    }
  });

  it('reads LOG_LEVEL strictly where the functions and npm start read it', () => {
    expect(readLogLevel({})).toBe('info');
    expect(readLogLevel({ LOG_LEVEL: 'silent' })).toBe('silent');
    expect(problem(() => readLogLevel({ LOG_LEVEL: 'debug' }))).toBe('LOG_LEVEL must be info or silent, got "debug"');
  });
});
