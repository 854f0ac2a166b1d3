import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { bundleOptions } from '../build/bundle.mjs';
import { loadServiceConfig, SERVICE_DIR } from '../local/service-config.ts';

/**
 * A function's bundle as `sls deploy` ships it (built with the options the Serverless plugin uses),
 * run as Lambda runs it: imported by a fresh `node` with nothing but the bundle and the environment
 * given, its handler invoked with each event in turn.
 */

/** A function's answer to one event. */
export interface BundleAnswer {
  readonly statusCode?: number;
  readonly body?: string;
}

/** What one run of a bundle printed and answered. */
export interface BundleRun {
  /** The answers, one per event, in order. */
  readonly answers: readonly BundleAnswer[];
  /** Every line the bundle wrote to stdout (its log lines), without the answers. */
  readonly lines: readonly string[];
}

/** Marks the line that carries the answers, after everything the bundle printed. */
const ANSWERS = '\u0000answers ';

/** Builds the bundle of a function of serverless.yml into `dir`; returns its file and export name. */
export async function buildFunctionBundle(fn: string, dir: string): Promise<{ file: string; exportName: string }> {
  const spec = loadServiceConfig().functions.find((candidate) => candidate.name === fn);
  if (!spec) throw new Error(`serverless.yml has no function ${fn}`);
  const file = join(dir, `${fn}.mjs`);
  const result = await build({ ...bundleOptions(join(SERVICE_DIR, `${spec.module}.ts`), file), write: false });
  await writeFile(file, result.outputFiles?.[0]?.contents ?? '');
  return { file, exportName: spec.export };
}

/**
 * Runs a built bundle in a fresh `node` with exactly `env` (and PATH), invoking its handler with each
 * event (any JSON: they go through a file, so a 6 MB body fits) and a Lambda context.
 */
export async function runBundle(
  bundle: { file: string; exportName: string },
  events: readonly unknown[],
  env: Readonly<Record<string, string>>,
): Promise<BundleRun> {
  const eventsFile = `${bundle.file}.events-${crypto.randomUUID()}.json`;
  await writeFile(eventsFile, JSON.stringify(events));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { readFile } from 'node:fs/promises';
       const { ${bundle.exportName}: handler } = await import(process.argv[1]);
       const context = { getRemainingTimeInMillis: () => 60_000 };
       const answers = [];
       for (const event of JSON.parse(await readFile(process.argv[2], 'utf8'))) {
         const answer = await handler(event, context);
         answers.push({ statusCode: answer?.statusCode, body: answer?.body });
       }
       process.stdout.write(${JSON.stringify(`\n${ANSWERS}`)} + JSON.stringify(answers) + '\\n');`,
      bundle.file,
      eventsFile,
    ],
    { cwd: SERVICE_DIR, env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 64 * 1024 * 1024 },
  );
  const lines = stdout.split('\n').filter((line) => line !== '');
  const last = lines.at(-1) ?? '';
  if (!last.startsWith(ANSWERS)) throw new Error(`the bundle printed no answers; its last line: ${last.slice(0, 300)}`);
  return { answers: JSON.parse(last.slice(ANSWERS.length)), lines: lines.slice(0, -1) };
}
