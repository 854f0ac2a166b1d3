import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SERVICE_DIR } from '../local/service-config.ts';

/** A CloudFormation resource as the packaged template holds it. */
export interface RawResource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

/** The CloudFormation template `npx sls package` writes. */
export interface RawTemplate {
  Conditions: Record<string, unknown>;
  Resources: Record<string, RawResource>;
  Outputs: Record<string, { Value: unknown; Condition?: string }>;
}

const run = promisify(execFile);

/**
 * Runs `sls package --stage test --package <out>` offline, with `--param` pairs, and returns the
 * template it wrote. Not two at once: whatever `--package` says, the framework builds everything
 * in the service's `.serverless` folder first (clearing it) and then moves it to `out`.
 */
export async function slsPackage(out: string, params: Record<string, string> = {}): Promise<RawTemplate> {
  await run(
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
  ).catch((error: unknown) => {
    // The framework prints its error on stdout: keep it in the failure.
    const output = error instanceof Error && 'stdout' in error ? String(error.stdout) : '';
    throw new Error(`sls package failed: ${output.trim().split('\n').slice(-12).join('\n')}`, { cause: error });
  });
  return JSON.parse(await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
}
