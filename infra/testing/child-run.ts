import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { SERVICE_DIR } from '../local/service-config.ts';

/** A command of the project running as a user runs it (`npm start`), in a process group of its own. */
export interface ChildRun {
  /** Everything it printed so far, stdout and stderr in the order they came. */
  output(): string;
  /** Waits until its output matches `pattern` (returns the match), failing if it exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Stops it and what it started (its process group), and waits for it to exit. */
  stop(): Promise<void>;
  readonly process: ChildProcess;
}

/**
 * This process's environment without what vitest set for its own workers (a vitest run, or a tool
 * that reads `NODE_ENV`, starts afresh), with `LOG_LEVEL` unset so the command decides.
 */
export function ownEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('VITEST') && !name.startsWith('npm_') && name !== 'NODE_ENV' && name !== 'TEST' && name !== 'LOG_LEVEL',
    ),
  );
}

/** Where and with what a child runs. */
export interface ChildOptions {
  /** The folder to run in: the repository unless a copy of it. */
  readonly cwd?: string;
  /** Variables to set; with `inherit: false`, the whole environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** Start from this process's environment (less vitest's own variables): true unless said. */
  readonly inherit?: boolean;
}

/**
 * Starts `node --import tsx <script> <args>` (what the npm scripts run) in `cwd` (the repository
 * by default) with the pinned Node running the tests, on free ports unless `env` says others.
 */
export function startChild(script: string, args: readonly string[] = [], options: ChildOptions = {}): ChildRun {
  const cwd = options.cwd ?? SERVICE_DIR;
  const child = spawn(process.execPath, ['--import', 'tsx', join(cwd, script), ...args], {
    cwd,
    env: { ...(options.inherit === false ? {} : ownEnvironment()), PORT: '0', SQS_PORT: '0', S3_PORT: '0', ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    process: child,
    output: () => output,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = pattern.exec(output);
        if (found) return found;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${script} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output.slice(-3000)}`);
        }
        if (Date.now() > deadline) throw new Error(`${script} did not print ${pattern} within ${timeoutMs} ms:\n${output.slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async stop() {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      await exited;
    },
  };
}

/** What a command that runs to its end did. */
export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node --import tsx <script> <args>` to its end (as its npm script does) and returns what it printed. */
export async function runScript(
  script: string,
  args: readonly string[] = [],
  options: ChildOptions & { readonly timeoutMs?: number } = {},
): Promise<Finished> {
  const cwd = options.cwd ?? SERVICE_DIR;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(cwd, script), ...args],
      {
        cwd,
        env: { ...(options.inherit === false ? {} : ownEnvironment()), ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
