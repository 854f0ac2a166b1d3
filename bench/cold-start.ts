import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { functionMemoryMb } from '../infra/build/bundle-budget.ts';
import { handsOverAsText } from '../infra/local/http-event.ts';
import { loadServiceConfig, SERVICE_DIR } from '../infra/local/service-config.ts';
import { startDurableStores } from '../infra/testing/durable-stores.ts';
import { type ContainerRequest, startContainer } from '../infra/testing/lambda-container.ts';
import { ROUTE_CALLBACKS } from '../infra/testing/route-callbacks.ts';
import { BENCH_BUILD_DIR, type BuiltBundle, writeBundle } from './lib/bundles.ts';
import { median, quartiles } from './lib/stats.ts';
import { makeThrowawayCertificate, startTlsRelay } from './lib/tls.ts';

const run = promisify(execFile);
const CHILD = join(SERVICE_DIR, 'bench', 'lib', 'import-child.mjs');

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

/** A function's cold start against TLS endpoints, and the floor's doing the same callbacks. */
export interface ColdStart {
  readonly function: string;
  readonly subject: ColdSide;
  readonly floor: ColdSide;
}

/** Medians over fresh processes of one bundle. */
export interface ColdSide {
  /** `import()` of the bundle until its handler is in hand (Lambda's init), ms. */
  readonly initMs: number;
  /** The first callback's handler time, ms. */
  readonly firstMs: number;
  /** The handler time of the callbacks after it, ms (median per process, then over processes). */
  readonly warmMs: number;
  /** Median over processes of first / warm. */
  readonly firstToWarm: number;
  /** TLS handshakes with the queue's endpoint during init, and by the end of the first answer (medians). */
  readonly handshakesAtInit: number;
  readonly handshakesAfterFirst: number;
  readonly processes: number;
}

/**
 * Cold starts as Lambda runs them, against TLS: the local SQS and S3 (the same servers as the tests)
 * behind TLS relays with a certificate made for this run, trusted by the processes through
 * NODE_EXTRA_CA_CERTS, so a fresh process pays a real handshake. Each round starts, per function, a
 * fresh process of the floor bundle and one of the function's bundle (order alternating), under
 * Lambda's heap flags for the functions' memory size; each imports its bundle (its init), answers
 * the function's first route sample, then `warm` more. The floor gets the same callbacks.
 */
export async function measureColdStarts(
  floor: BuiltBundle,
  functions: readonly BuiltBundle[],
  options: { rounds: number; warm: number; log?: (line: string) => void },
): Promise<ColdStart[]> {
  const certificate = await makeThrowawayCertificate(join(BENCH_BUILD_DIR, 'tls'));
  const stores = await startDurableStores();
  const sqsRelay = await startTlsRelay(stores.sqs.endpoint, certificate);
  const s3Relay = await startTlsRelay(stores.s3.endpoint, certificate);
  const memoryMb = functionMemoryMb();
  const env = { ...stores.lambdaEnvironment({ sqs: sqsRelay.endpoint, s3: s3Relay.endpoint }), NODE_EXTRA_CA_CERTS: certificate.certFile };
  const config = loadServiceConfig().functions;
  const floorFile = await writeBundle(floor);
  const results: ColdStart[] = [];
  try {
    for (const bundle of functions) {
      const fn = config.find((candidate) => candidate.name === bundle.name);
      const route = ROUTE_CALLBACKS.find((candidate) => candidate.function === bundle.name);
      if (!fn || !route) continue;
      const file = await writeBundle(bundle);
      const request = (n: number): ContainerRequest => ({
        path: route.path,
        query: `bench=cold-${n}`,
        contentType: route.sample.contentType,
        body: route.sample.body,
        base64: !handsOverAsText(route.sample.body, route.sample.contentType),
      });
      const samples: Record<
        'subject' | 'floor',
        Array<{ init: number; first: number; warm: number; atInit: number; afterFirst: number }>
      > = {
        subject: [],
        floor: [],
      };
      let n = 0;
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? (['floor', 'subject'] as const) : (['subject', 'floor'] as const);
        for (const side of order) {
          const before = sqsRelay.handshakes();
          const container = await startContainer(side === 'subject' ? file : floorFile, env, { memoryMb });
          try {
            const atInit = sqsRelay.handshakes() - before;
            const first = await container.invoke(request(n++));
            if (first.statusCode !== 200)
              throw new Error(`${side} ${bundle.name}: first callback answered ${first.statusCode} ${first.body}`);
            const afterFirst = sqsRelay.handshakes() - before;
            const warm: number[] = [];
            for (let k = 0; k < options.warm; k++) warm.push((await container.invoke(request(n++))).ms);
            samples[side].push({ init: container.init.initMs, first: first.ms, warm: median(warm), atInit, afterFirst });
          } finally {
            await container.close();
          }
        }
      }
      await stores.sqs.drain(stores.eventsUrl);
      const summary = (side: 'subject' | 'floor'): ColdSide => {
        const runs = samples[side];
        return {
          initMs: median(runs.map((r) => r.init)),
          firstMs: median(runs.map((r) => r.first)),
          warmMs: median(runs.map((r) => r.warm)),
          firstToWarm: median(runs.map((r) => r.first / r.warm)),
          handshakesAtInit: median(runs.map((r) => r.atInit)),
          handshakesAfterFirst: median(runs.map((r) => r.afterFirst)),
          processes: runs.length,
        };
      };
      const result = { function: bundle.name, subject: summary('subject'), floor: summary('floor') };
      for (const side of ['floor', 'subject'] as const) {
        const r = result[side];
        options.log?.(
          `  ${bundle.name} ${side.padEnd(7)} init ${r.initMs.toFixed(1)} ms, first answer ${r.firstMs.toFixed(1)} ms, warm ${r.warmMs.toFixed(2)} ms (${r.firstToWarm.toFixed(2)}x), TLS handshakes: ${r.handshakesAtInit} at init, ${r.handshakesAfterFirst} after the first answer`,
        );
      }
      results.push(result);
    }
  } finally {
    await sqsRelay.close();
    await s3Relay.close();
    await stores.close();
  }
  return results;
}
