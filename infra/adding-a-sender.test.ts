import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawTemplate } from './build/sls-package.ts';
import { SERVICE_DIR } from './local/service-config.ts';
import { ownEnvironment, startChild } from './testing/child-run.ts';
import { copyService, type ServiceCopy } from './testing/service-copy.ts';

// docs/adding-a-sender.md, followed in a copy of the repository: each of its code blocks written where
// it says, then the copy checked as a user would (its files, npm run schema, tsc, npm start, sls
// package, the sender's tests, the JSON Schema test and a short fuzz). Nothing in this repository
// changes; the copy shares node_modules through a symbolic link.

const run = promisify(execFile);
const DOC = join(SERVICE_DIR, 'docs', 'adding-a-sender.md');
const NODE = process.execPath;

/** What the page asks for: whole files, one registry entry and one serverless.yml entry. */
interface Steps {
  readonly files: ReadonlyArray<{ readonly path: string; readonly text: string }>;
  readonly registry: { readonly importLine: string; readonly sendersLine: string };
  readonly functionEntry: string;
}

/** Reads the page's marked code blocks: `<!-- file: <path> -->`, `<!-- registry -->`, `<!-- serverless.yml functions -->`. */
function stepsOf(doc: string): Steps {
  const blocks = [...doc.matchAll(/<!-- (file: (\S+)|registry|serverless\.yml functions) -->\n```\w*\n([\s\S]*?)\n```/g)];
  const files = blocks.flatMap(([, , path, text]) => (path && text !== undefined ? [{ path, text }] : []));
  const registry = blocks.find(([, kind]) => kind === 'registry')?.[3]?.split('\n') ?? [];
  const [importLine = '', sendersLine = ''] = registry;
  const functionEntry = blocks.find(([, kind]) => kind === 'serverless.yml functions')?.[3] ?? '';
  return { files, registry: { importLine, sendersLine }, functionEntry };
}

/** Runs a command in the copy; rejects with its output when it fails. */
async function inCopy(cwd: string, file: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, args, {
      cwd,
      env: { ...ownEnvironment(), SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return `${stdout}${stderr}`;
  } catch (error) {
    const output =
      error instanceof Error && 'stdout' in error ? `${String(error.stdout)}${'stderr' in error ? String(error.stderr) : ''}` : '';
    throw new Error(`${file} ${args.join(' ')} failed in the copy:\n${output.slice(-4000)}`, { cause: error });
  }
}

let serviceCopy: ServiceCopy | undefined;
let copy: string;
let steps: Steps;

beforeAll(async () => {
  steps = stepsOf(await readFile(DOC, 'utf8'));
  // The repository in its working state, with the same node_modules, and a commit to diff against.
  serviceCopy = await copyService('jobhooks-fourth-sender-');
  copy = serviceCopy.dir;
  const git = (...args: string[]) => inCopy(copy, 'git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args]);
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-qm', 'the repository before the new sender');

  // Steps 1 to 3: the files the page shows, as it shows them (a sample's body ends where its block does).
  for (const { path, text } of steps.files) {
    await mkdir(dirname(join(copy, path)), { recursive: true });
    await writeFile(join(copy, path), path.endsWith('.http') ? text : `${text}\n`);
  }
  // Step 1: the registry's import and entry.
  const registryFile = join(copy, 'lib', 'sources', 'registry.ts');
  const registry = await readFile(registryFile, 'utf8');
  const sendersLine = registry.split('\n').find((line) => line.startsWith('export const SENDERS = '));
  if (!sendersLine) throw new Error('lib/sources/registry.ts has no `export const SENDERS = ` line');
  const lastImport = registry.lastIndexOf('\nimport ');
  const afterImports = registry.indexOf('\n', lastImport + 1) + 1;
  await writeFile(
    registryFile,
    `${registry.slice(0, afterImports)}${steps.registry.importLine}\n${registry.slice(afterImports)}`.replace(
      sendersLine,
      steps.registry.sendersLine,
    ),
  );
  // Step 4: the function entry, first under `functions:`.
  const service = await readFile(join(copy, 'serverless.yml'), 'utf8');
  await writeFile(join(copy, 'serverless.yml'), service.replace(/^functions:\n/m, `functions:\n${steps.functionEntry}\n\n`));
  // Then: the JSON Schema, and the imports sorted.
  await inCopy(copy, NODE, ['--import', 'tsx', 'infra/schema/generate.ts']);
  await inCopy(copy, join(copy, 'node_modules', '.bin', 'biome'), ['check', '--write', '.']);
}, 120_000);

afterAll(async () => {
  await serviceCopy?.remove();
});

describe('docs/adding-a-sender.md, followed in a copy of the repository', () => {
  it('has the four steps the page promises: a folder, samples, a function, a serverless.yml entry', () => {
    expect(steps.files.map((file) => file.path).sort()).toEqual([
      'docs/senders/acme.md',
      'events/acme/acme-run-done.http',
      'functions/acme.ts',
      'lib/sources/acme/callback.test.ts',
      'lib/sources/acme/callback.ts',
      'lib/sources/acme/event.ts',
      'lib/sources/acme/index.ts',
    ]);
    expect(steps.registry.importLine).toMatch(/^import \{ acme \}/);
    expect(steps.functionEntry).toMatch(/^ {2}acme:\n/);
  });

  it('edits no other file (besides the JSON Schema that npm run schema writes)', async () => {
    const status = await inCopy(copy, 'git', ['status', '--porcelain', '--untracked-files=all']);
    const changed = status
      .split('\n')
      .filter(Boolean)
      .map((line) => `${line.slice(0, 2).trim()} ${line.slice(3)}`)
      .sort();
    expect(changed).toEqual(
      [
        'M events/event.schema.json',
        'M lib/sources/registry.ts',
        'M serverless.yml',
        '?? docs/senders/acme.md',
        '?? events/acme/acme-run-done.http',
        '?? functions/acme.ts',
        '?? lib/sources/acme/callback.test.ts',
        '?? lib/sources/acme/callback.ts',
        '?? lib/sources/acme/event.ts',
        '?? lib/sources/acme/index.ts',
      ].sort(),
    );
  });

  it('type-checks, lints and passes its own tests, the JSON Schema and docs tests and a short fuzz of every route', async () => {
    await inCopy(copy, join(copy, 'node_modules', '.bin', 'tsc'), ['-p', '.']);
    await inCopy(copy, join(copy, 'node_modules', '.bin', 'biome'), ['check', '.']);
    const report = join(copy, '.build', 'vitest.json');
    // Its exit code says only that something failed: the report says what, so the failure is read from it.
    await inCopy(
      copy,
      join(copy, 'node_modules', '.bin', 'vitest'),
      // Generous time limits: this run shares the machine with the rest of npm test (or two of them).
      [
        'run',
        'lib/sources/acme',
        'infra/schema',
        'lib/http/fuzz.test.ts',
        '--testTimeout=120000',
        '--hookTimeout=120000',
        '--reporter=json',
        `--outputFile=${report}`,
      ],
      { FUZZ_RUNS: '50', FUZZ_QUARANTINE_RUNS: '20', LOG_LEVEL: 'silent' },
    ).catch(() => undefined);
    const results: {
      testResults: Array<{
        name: string;
        status: string;
        message?: string;
        assertionResults: Array<{ fullName: string; status: string; failureMessages?: string[] }>;
      }>;
    } = JSON.parse(await readFile(report, 'utf8'));
    expect(results.testResults.filter((file) => file.status !== 'passed').map((file) => `${file.name}: ${file.message ?? ''}`)).toEqual([]);
    const tests = results.testResults.flatMap((file) => file.assertionResults);
    expect(tests.filter((test) => test.status === 'failed').map((test) => `${test.fullName}: ${test.failureMessages?.join('; ')}`)).toEqual(
      [],
    );
    // The fuzz took the new route, and the JSON Schema test checked the new sample's event.
    expect(tests.some((test) => test.fullName.includes('/callbacks/acme') && test.status === 'passed')).toBe(true);
    expect(tests.some((test) => test.fullName.startsWith('acme') && test.status === 'passed')).toBe(true);
    const schema = await readFile(join(copy, 'events', 'event.schema.json'), 'utf8');
    expect(schema).toContain('"const": "acme"');
    expect(schema).toContain('"acme.run.finished"');
  }, 180_000);

  it('is served by npm start: its sample gets 200 and its event reaches the queue', async () => {
    const child = startChild('infra/local/start.ts', [], { cwd: copy });
    try {
      const [, url] = await child.waitFor(/listening on (http:\/\/\S+)/);
      expect(child.output()).toContain('POST /callbacks/acme -> acme');
      const sample = await readFile(join(copy, 'events', 'acme', 'acme-run-done.http'));
      const split = sample.indexOf('\n\n');
      const response = await fetch(`${url}/callbacks/acme?team=data`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: sample.subarray(split + 2),
      });
      expect(response.status).toBe(200);
      const { id } = v.parse(v.object({ id: v.string() }), await response.json());
      // npm start's line for it: the event's type, subject and id, as the queue got it.
      await child.waitFor(new RegExp(`#1 200 POST /callbacks/acme\\?team=data  acme\\.run\\.finished  subject r-42  id ${id}`));
    } finally {
      await child.stop();
    }
  }, 60_000);

  it('is packaged by sls package with its role, settings, metric filter, alarms, dashboard row and callback URL outputs', async () => {
    const out = join(copy, '.build', 'package');
    await inCopy(copy, NODE, [join(copy, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'test', '--package', out]);
    const template: RawTemplate = JSON.parse(await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
    const fn = template.Resources.AcmeLambdaFunction;
    expect(fn?.Properties).toMatchObject({
      Handler: 'functions/acme.handler',
      Role: { 'Fn::GetAtt': ['AcmeRole', 'Arn'] },
      ReservedConcurrentExecutions: { 'Fn::If': ['HasReservedConcurrency', '10', { Ref: 'AWS::NoValue' }] },
      Environment: { Variables: { TOKENS_ACME: '', TOKENS_ACME_SSM_NAME: '', ALLOW_CIDRS_ACME: '' } },
    });
    expect(template.Resources.AcmeRole?.Type).toBe('AWS::IAM::Role');
    expect(template.Resources.AcmeServerErrorMetricFilter?.Properties).toMatchObject({ LogGroupName: { Ref: 'AcmeLogGroup' } });
    expect(template.Resources.AcmeErrorsAlarm?.Properties).toMatchObject({
      AlarmName: 'jobhooks-test-acme-errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'AcmeLambdaFunction' } }],
      AlarmActions: [{ 'Fn::If': ['UseAlarmTopicArn', '', { Ref: 'AlarmTopic' }] }],
    });
    // Its format-change alarm and its row of the dashboard come from the registry too.
    expect(template.Resources.AcmeFormatChangeAlarm?.Properties).toMatchObject({ AlarmName: 'jobhooks-test-acme-format-change' });
    const dashboard = JSON.stringify(template.Resources.Dashboard?.Properties?.DashboardBody);
    expect(dashboard).toContain('acme: answers (per 5 minutes)');
    expect(dashboard).toContain(`\${AcmeFormatChangeAlarm.Arn}`);
    expect(template.Outputs.AcmeCallbackUrl).toMatchObject({
      Description: 'Acme Scheduler webhook URL (HTTP API)',
      Value: {
        'Fn::Join': [
          '',
          ['https://', { Ref: 'HttpApi' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/callbacks/acme'],
        ],
      },
    });
    expect(template.Outputs.AcmeLambdaFunctionUrl).toBeDefined();
  }, 120_000);
});
