import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_DIR } from '../local/service-config.ts';

// The summary line of a real vitest run (in a folder of its own) over test files that fail in each
// way a file can fail without a failing test.
let dir: string;

const FILES: Record<string, string> = {
  'passes.test.ts': `import { it } from 'vitest';\nit('passes', () => {});\n`,
  'fails.test.ts': `import { it } from 'vitest';\nit('fails', () => { throw new Error('no'); });\n`,
  'does-not-load.test.ts': `import { it } from 'vitest';\nthrow new Error('cannot load');\nit('never collected', () => {});\n`,
  'before-all-throws.test.ts': `import { beforeAll, describe, it } from 'vitest';\ndescribe('s', () => {\n  beforeAll(() => { throw new Error('hook'); });\n  it('skipped by its hook', () => {});\n});\n`,
  'after-all-throws.test.ts': `import { afterAll, it } from 'vitest';\nafterAll(() => { throw new Error('hook'); });\nit('passes before its hook', () => {});\n`,
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobhooks-summary-'));
  await symlink(join(SERVICE_DIR, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const [name, text] of Object.entries(FILES)) await writeFile(join(dir, name), text);
  await writeFile(
    join(dir, 'vitest.config.ts'),
    `import { defineConfig } from 'vitest/config';\nimport { SummaryReporter } from ${JSON.stringify(join(import.meta.dirname, 'summary-reporter.ts'))};\n` +
      `export default defineConfig({ test: { include: ['*.test.ts'], reporters: [new SummaryReporter()] } });\n`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the summary line', () => {
  it('counts a failed test, a file that did not load and each hook that threw as failed', async () => {
    const outcome = await promisify(execFile)(join(SERVICE_DIR, 'node_modules', '.bin', 'vitest'), ['run'], {
      cwd: dir,
      env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST'))),
    }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(outcome.code).toBe(1);
    const line = outcome.stdout.split('\n').find((text) => /^\d+ passed, \d+ failed/.test(text));
    // passes and after-all-throws' test pass; fails fails; the file that did not load and the two hooks
    // are three failures outside a test; before-all-throws' test is skipped.
    expect(line).toBe('2 passed, 4 failed, 1 skipped (3 files or suites failed outside a test)');
  }, 60_000);
});
