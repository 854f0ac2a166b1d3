import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { SERVICE_DIR } from '../local/service-config.ts';

/** A copy of the repository in a temporary folder of its own. */
export interface ServiceCopy {
  /** The copy's root (its `serverless.yml`, `package.json`, ...). */
  readonly dir: string;
  /** Deletes the copy (never the repository's own `node_modules`, which the copy only links to). */
  remove(): Promise<void>;
}

/**
 * Copies the repository as it is in the working tree (every file git tracks, and every untracked file
 * it does not ignore) into a new temporary folder, with a symbolic link to its `node_modules`. Tools
 * that write into the service's own folders (`sls package` clears and fills `.serverless/` whatever
 * `--package` says) run there, so two test files, or two `npm test` runs, never share an output
 * folder and nothing of the user's is cleared.
 * @param prefix the temporary folder's name prefix (`jobhooks-package-`)
 */
export async function copyService(prefix: string): Promise<ServiceCopy> {
  const { stdout } = await promisify(execFile)('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: SERVICE_DIR,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: unknown) => {
    throw new Error(`copying the service needs its git checkout (git ls-files failed in ${SERVICE_DIR})`, { cause: error });
  });
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const files = stdout.split('\0').filter((file) => file !== '' && !file.startsWith('node_modules/'));
    const folders = new Set(files.map((file) => dirname(join(dir, file))));
    for (const folder of folders) await mkdir(folder, { recursive: true });
    // A tracked file deleted in the working tree is listed but absent: it is not part of the copy.
    await Promise.all(files.map((file) => copyFile(join(SERVICE_DIR, file), join(dir, file)).catch(ignoreMissing)));
    await symlink(join(SERVICE_DIR, 'node_modules'), join(dir, 'node_modules'), 'dir');
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, remove };
}

function ignoreMissing(error: unknown): void {
  if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return;
  throw error;
}
