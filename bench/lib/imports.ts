import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadServiceConfig, SERVICE_DIR } from '../../infra/local/service-config.ts';
import { type BuiltBundle, writeBundle } from './bundles.ts';
import { median, quartiles } from './stats.ts';

const run = promisify(execFile);
const CHILD = join(SERVICE_DIR, 'bench', 'lib', 'import-child.mjs');

// Import time alone, in fresh processes (bench/metrics-choice.ts compares two ways of writing the
// metrics by it). The bench's own cold starts (bench/cold-start.ts) measure init against TLS instead.

/** Import timings of one bundle, in ms, one sample per fresh process. */
export interface ImportSamples {
  readonly name: string;
  /** `import()` until the handler is in hand. */
  readonly importMs: number[];
  /** Process start (performance.timeOrigin) until the handler is in hand. */
  readonly sinceStartMs: number[];
  /** spawn until exit, seen from the bench. */
  readonly processMs: number[];
}

export interface ImportSummary {
  readonly name: string;
  readonly importMs: number;
  readonly importIqr: [number, number];
  readonly sinceStartMs: number;
  readonly processMs: number;
  readonly samples: number;
  /** Median over rounds of this bundle's import time / the floor's in the same round. */
  readonly pairedRatio: number;
}

/**
 * The environment a function sees on Lambda, as far as import goes: a region, and each queue
 * variable of `serverless.yml` set (so a handler builds its SQS client at import, as on Lambda).
 */
function lambdaLikeEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    LOG_LEVEL: 'silent',
    // Nothing listens there: the init's connection to the queue is refused at once, for every bundle alike.
    AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
  };
  for (const [variable, logicalId] of Object.entries(loadServiceConfig().queueVariables)) {
    env[variable] = `https://sqs.us-east-1.amazonaws.com/000000000000/jobhooks-bench-${logicalId}`;
  }
  return env;
}

async function importOnce(file: string, env: NodeJS.ProcessEnv): Promise<{ importMs: number; sinceStartMs: number; processMs: number }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, [CHILD, file], { env, cwd: SERVICE_DIR });
  const processMs = performance.now() - started;
  const parsed = JSON.parse(stdout) as { importMs: number; sinceStartMs: number };
  return { ...parsed, processMs };
}

/**
 * Imports each bundle in fresh `node` processes, `rounds` times, interleaved: every round runs the
 * floor and every function once, the order rotating each round, so drift hits all alike. The first
 * bundle is the floor: each bundle's ratio is the median of its per-round ratios to it.
 */
export async function measureImports(bundles: readonly BuiltBundle[], rounds: number): Promise<ImportSummary[]> {
  const env = lambdaLikeEnvironment();
  const files = await Promise.all(bundles.map((bundle) => writeBundle(bundle)));
  const samples: ImportSamples[] = bundles.map((bundle) => ({ name: bundle.name, importMs: [], sinceStartMs: [], processMs: [] }));
  // Warm-up: the page cache and node's own startup files, for every bundle alike.
  for (const file of files) await importOnce(file, env);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < files.length; k++) {
      const index = (round + k) % files.length;
      const result = await importOnce(files[index] as string, env);
      const sample = samples[index] as ImportSamples;
      sample.importMs.push(result.importMs);
      sample.sinceStartMs.push(result.sinceStartMs);
      sample.processMs.push(result.processMs);
    }
  }
  const floor = samples[0] as ImportSamples;
  return samples.map((sample) => ({
    name: sample.name,
    importMs: median(sample.importMs),
    importIqr: quartiles(sample.importMs),
    sinceStartMs: median(sample.sinceStartMs),
    processMs: median(sample.processMs),
    samples: sample.importMs.length,
    pairedRatio: median(sample.importMs.map((ms, round) => ms / (floor.importMs[round] as number))),
  }));
}
