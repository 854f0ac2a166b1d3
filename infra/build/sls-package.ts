import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { copyService } from '../testing/service-copy.ts';

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
 * template it wrote. Whatever `--package` says, the framework builds everything in the service's
 * `.serverless` folder first (clearing it): so it runs in a temporary copy of the service
 * ({@link copyService}), and any number of packages (of one test file, of several, of two `npm test`
 * runs) can run at once without touching each other or the user's `.serverless`.
 */
export async function slsPackage(out: string, params: Record<string, string> = {}): Promise<RawTemplate> {
  const copy = await copyService('jobhooks-sls-package-');
  try {
    await run(
      process.execPath,
      [
        join(copy.dir, 'node_modules', 'osls', 'bin', 'serverless.js'),
        'package',
        '--stage',
        'test',
        '--package',
        out,
        ...Object.entries(params).map(([key, value]) => `--param=${key}=${value}`),
      ],
      { cwd: copy.dir, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' } },
    ).catch((error: unknown) => {
      // The framework prints its error on stdout: keep it in the failure.
      const output = error instanceof Error && 'stdout' in error ? String(error.stdout) : '';
      throw new Error(`sls package failed: ${output.trim().split('\n').slice(-12).join('\n')}`, { cause: error });
    });
    return JSON.parse(await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
  } finally {
    await copy.remove();
  }
}
