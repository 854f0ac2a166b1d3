import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SERVICE_DIR } from './service-config.ts';

// `npm start` as a user runs it (the same command as the npm script), with one malformed setting:
// it must stop before it serves anything, with exit code 1 and one line that names the variable.

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function npmStart(env: Record<string, string>): Promise<Outcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(SERVICE_DIR, 'infra', 'local', 'start.ts')],
      { cwd: SERVICE_DIR, env: { PATH: process.env.PATH ?? '', PORT: '0', SQS_PORT: '0', ...env }, timeout: 30_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number | null; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm start with a malformed setting', () => {
  it.each([
    ['ALLOW_CIDRS_THAIN', '10.9.9.9/', 'item 1 ("10.9.9.9/") has an empty prefix length after "/"'],
    ['ALLOW_CIDRS_BK_JOB', '203.0.113.7/', 'item 1 ("203.0.113.7/") has an empty prefix length after "/"'],
    ['ALLOW_CIDRS_TENCENT_CI', '2001:db8::/', 'item 1 ("2001:db8::/") has an empty prefix length after "/"'],
    ['ALLOW_CIDRS_THAIN', '10.0.0.0/8/32', 'item 1 ("10.0.0.0/8/32") has more than one "/"'],
    ['TOKENS_THAIN', 'abc+defghijklmnopq', 'item 1 has a character other than'],
    ['PORT', 'abc', 'must be an integer 0–65535, got "abc"'],
    ['TOKEN_BK_JOB', 'abcdefghijklmnopqrs', 'is not a setting: did you mean TOKENS_BK_JOB?'],
    ['tokens_thain', 'abcdefghijklmnopqrs', 'is not a setting: did you mean TOKENS_THAIN?'],
  ])(
    '%s=%s stops it with exit code 1 and one line naming the variable',
    async (variable, value, problem) => {
      const outcome = await npmStart({ [variable]: value });
      expect(outcome.code).toBe(1);
      expect(outcome.stdout).not.toMatch(/listening on/);
      const lines = outcome.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`npm start: ${variable} ${problem}`);
      if (/^tokens?_/i.test(variable)) expect(outcome.stderr).not.toContain(value);
    },
    40_000,
  );
});
