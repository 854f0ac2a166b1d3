import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';

/** The script a container runs (plain JavaScript: nothing but node and the bundle). */
const CHILD = join(import.meta.dirname, '..', 'build', 'invoke-child.mjs');

/**
 * The V8 heap flags Lambda's Node.js runtime starts `node` with for a memory size in MB: a tenth of
 * the memory is the young generation (half of it one semi-space), the rest the old generation. At
 * 256 MB: `--max-semi-space-size=12 --max-old-space-size=231`.
 */
export function lambdaHeapFlags(memoryMb: number): string[] {
  const young = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(young / 2)}`, `--max-old-space-size=${memoryMb - young}`];
}

/** One request to a container. */
export interface ContainerRequest {
  readonly path: string;
  readonly query?: string;
  readonly contentType: string;
  readonly body: Buffer;
  /** Handed over base64-encoded (a binary Content-Type, or bytes that are not UTF-8). */
  readonly base64?: boolean;
}

/** What the handler answered, and what the call cost the process. */
export interface ContainerAnswer {
  readonly statusCode: number;
  readonly body: string;
  /** Handler time, ms. */
  readonly ms: number;
  /** CPU time of the handler call, µs (user + system, every thread). */
  readonly cpuUs: number;
  /** Peak resident set size of the process so far, bytes. */
  readonly rss: number;
  /** V8 heap in use after the call, bytes. */
  readonly heap: number;
}

/** A running container. */
export interface LambdaContainer {
  /** From `import()` of the bundle to its handler in hand (Lambda's init phase), and since process start, ms. */
  readonly init: { readonly initMs: number; readonly sinceStartMs: number };
  /** Invokes the handler once; rejects if the process died (with the end of its stderr). */
  invoke(request: ContainerRequest): Promise<ContainerAnswer>;
  /** Stops the process. */
  close(): Promise<void>;
}

/**
 * Starts a fresh `node` that imports `bundle` (a function bundle as deployed) with `env` as its whole
 * environment, under Lambda's heap flags for `memoryMb` (none: node's defaults), and resolves once
 * its init is done. Requests go one at a time, as in one Lambda container.
 */
export async function startContainer(
  bundle: string,
  env: NodeJS.ProcessEnv,
  options: { memoryMb?: number } = {},
): Promise<LambdaContainer> {
  const folder = await mkdtemp(join(tmpdir(), 'jobhooks-container-'));
  const flags = options.memoryMb === undefined ? [] : lambdaHeapFlags(options.memoryMb);
  const child: ChildProcess = spawn(process.execPath, [...flags, CHILD, bundle], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const lines: Interface = createInterface({ input: child.stdout ?? process.stdin });
  const waiting: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = [];
  let ended: Error | undefined;
  lines.on('line', (line) => waiting.shift()?.resolve(line));
  child.once('exit', (code, signal) => {
    ended = new Error(`the container exited (code ${code}, signal ${signal}):\n${stderr}`);
    for (const wait of waiting.splice(0)) wait.reject(ended);
  });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      if (ended) reject(ended);
      else waiting.push({ resolve, reject });
    });
  const ready = await nextLine();
  if (!ready.startsWith('ready ')) throw new Error(`the container did not start: ${ready}\n${stderr}`);
  const init: LambdaContainer['init'] = JSON.parse(ready.slice('ready '.length));
  let sequence = 0;
  return {
    init,
    async invoke(request) {
      const file = join(folder, `body-${++sequence}`);
      await writeFile(file, request.body);
      const answered = nextLine();
      child.stdin?.write(
        `${JSON.stringify({ file, base64: request.base64 ?? false, path: request.path, query: request.query ?? '', contentType: request.contentType })}\n`,
      );
      try {
        return JSON.parse(await answered);
      } finally {
        await rm(file, { force: true });
      }
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
      await rm(folder, { recursive: true, force: true });
    },
  };
}
