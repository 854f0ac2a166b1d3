import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Where a Chromium was found, and what to launch it with. */
export interface FoundBrowser {
  readonly executablePath: string;
  readonly args: readonly string[];
  /** Where it came from, for a failure message. */
  readonly from: string;
}

/** The one line a test without a browser fails with. */
export const NO_BROWSER =
  'no browser for the inspector test: npm ci installs @sparticuz/chromium (Linux x64); elsewhere set CHROME_PATH to a Chrome or Chromium, or install chromium';

/** Names an installed Chrome or Chromium goes by on PATH. */
const INSTALLED = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

/**
 * Finds a headless Chromium for the browser tests: `CHROME_PATH` when it is set (the user's choice);
 * else on Linux x64 the one `@sparticuz/chromium` ships in npm (a devDependency, so `npm ci` brings it:
 * nothing else to install), unpacked once per version into the temporary folder; else a Chrome or
 * Chromium on PATH.
 * @throws Error with {@link NO_BROWSER} when there is none
 */
export async function findBrowser(
  env: NodeJS.ProcessEnv = process.env,
  platform: { readonly os: string; readonly arch: string } = { os: process.platform, arch: process.arch },
): Promise<FoundBrowser> {
  const chosen = env.CHROME_PATH;
  if (chosen) {
    if (!isExecutable(chosen)) throw new Error(`CHROME_PATH=${chosen} is not an executable file: point it at a Chrome or Chromium`);
    return { executablePath: chosen, args: ['--no-sandbox'], from: 'CHROME_PATH' };
  }
  if (platform.os === 'linux' && platform.arch === 'x64') {
    const shipped = await sparticuzChromium();
    if (shipped) return shipped;
  }
  for (const folder of (env.PATH ?? '').split(delimiter)) {
    for (const name of INSTALLED) {
      const candidate = join(folder, name);
      if (folder !== '' && isExecutable(candidate)) return { executablePath: candidate, args: ['--no-sandbox'], from: candidate };
    }
  }
  throw new Error(NO_BROWSER);
}

/** Launches the browser {@link findBrowser} finds, headless. */
export async function launchBrowser(): Promise<Browser> {
  const found = await findBrowser();
  try {
    return await chromium.launch({ executablePath: found.executablePath, args: [...found.args], headless: true });
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    throw new Error(`the browser from ${found.from} (${found.executablePath}) did not start: ${reason}`);
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium of `@sparticuz/chromium`, unpacked into `<tmp>/jobhooks-chromium-<version>/`. Its own
 * `executablePath()` unpacks into the temporary folder itself and reuses whatever is there, so two
 * test runs at once could take a half-written binary: it unpacks into a folder of its own here, which
 * is then renamed into place whole (the first run to finish wins; the other's copy is removed).
 */
async function sparticuzChromium(): Promise<FoundBrowser | undefined> {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    // Its `exports` has no `./package.json`: its root is above its entry (`build/index.js`).
    root = dirname(dirname(require.resolve('@sparticuz/chromium')));
  } catch {
    return undefined;
  }
  const version = String(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  const { default: Chromium } = await import('@sparticuz/chromium');
  const args = Chromium.args;
  const folder = join(tmpdir(), `jobhooks-chromium-${version}`);
  const executablePath = join(folder, 'chromium');
  if (existsSync(executablePath)) return { executablePath, args, from: '@sparticuz/chromium' };
  const staging = await mkdtemp(join(tmpdir(), 'jobhooks-chromium-unpacking-'));
  const saved = process.env.TMPDIR;
  try {
    // It unpacks into os.tmpdir(), which follows TMPDIR.
    process.env.TMPDIR = staging;
    await Chromium.executablePath(join(root, 'bin'));
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  try {
    await rename(staging, folder);
  } catch {
    // Another run put its copy there first.
    await rm(staging, { recursive: true, force: true });
  }
  return { executablePath, args, from: '@sparticuz/chromium' };
}
