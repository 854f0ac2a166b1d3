import { join } from 'node:path';
import { functionMemoryMb } from '../infra/build/bundle-budget.ts';
import { handsOverAsText } from '../infra/local/http-event.ts';
import { loadServiceConfig } from '../infra/local/service-config.ts';
import { startDurableStores } from '../infra/testing/durable-stores.ts';
import { type ContainerRequest, startContainer } from '../infra/testing/lambda-container.ts';
import { ROUTE_CALLBACKS } from '../infra/testing/route-callbacks.ts';
import { BENCH_BUILD_DIR, type BuiltBundle, writeBundle } from './lib/bundles.ts';
import { median } from './lib/stats.ts';
import { makeThrowawayCertificate, startTlsRelay } from './lib/tls.ts';

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
  /** Init and the first answer together (medians of the sums), ms. */
  readonly initAndFirstMs: number;
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
          initAndFirstMs: median(runs.map((r) => r.init + r.first)),
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
