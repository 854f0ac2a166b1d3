import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBrowser, NO_BROWSER } from './browser.ts';

// Where the browser tests take their Chromium from, and the one line they fail with without one.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobhooks-browser-'));
  await writeFile(join(dir, 'chromium'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(join(dir, 'not-executable'), '', { mode: 0o644 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const elsewhere = { os: 'darwin', arch: 'arm64' };

describe('findBrowser', () => {
  it('takes CHROME_PATH when it is set, and says so when it is not a program', async () => {
    expect(await findBrowser({ CHROME_PATH: join(dir, 'chromium') }, elsewhere)).toMatchObject({
      executablePath: join(dir, 'chromium'),
      from: 'CHROME_PATH',
    });
    await expect(findBrowser({ CHROME_PATH: join(dir, 'not-executable') }, elsewhere)).rejects.toThrow(
      `CHROME_PATH=${join(dir, 'not-executable')} is not an executable file: point it at a Chrome or Chromium`,
    );
  });

  it('finds an installed Chromium on PATH where npm brings none', async () => {
    expect(await findBrowser({ PATH: `/nonexistent:${dir}` }, elsewhere)).toMatchObject({ executablePath: join(dir, 'chromium') });
  });

  it('without any, fails with one line that says how to get one', async () => {
    await expect(findBrowser({ PATH: '/nonexistent' }, elsewhere)).rejects.toThrow(NO_BROWSER);
    expect(NO_BROWSER.includes('\n')).toBe(false);
  });

  it.runIf(process.platform === 'linux' && process.arch === 'x64')(
    'on Linux x64 takes the one npm brings (@sparticuz/chromium)',
    async () => {
      expect(await findBrowser({ PATH: '' }, { os: 'linux', arch: 'x64' })).toMatchObject({ from: '@sparticuz/chromium' });
    },
  );
});
