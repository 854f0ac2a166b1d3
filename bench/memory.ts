import { functionMemoryMb } from '../infra/build/bundle-budget.ts';
import { handsOverAsText } from '../infra/local/http-event.ts';
import { startDurableStores } from '../infra/testing/durable-stores.ts';
import { hostileBodies, SCALED_GENUINE } from '../infra/testing/hostile-bodies.ts';
import { type ContainerRequest, startContainer } from '../infra/testing/lambda-container.ts';
import { isSourceName } from '../lib/sources/registry.ts';
import { type BuiltBundle, writeBundle } from './lib/bundles.ts';
import type { BenchTarget } from './lib/targets.ts';

/** Peak memory of one function's process and of the floor's, over the same callbacks. */
export interface MemoryCase {
  readonly function: string;
  /** The largest body sent last: a real shape of the sender scaled to the largest body handed over. */
  readonly largest: string;
  readonly largestBytes: number;
  /** What the largest body was answered (both sides). */
  readonly status: { readonly subject: number; readonly floor: number };
  /** Peak resident set size, MB: after the mixed callbacks, and after the largest body. */
  readonly subjectMixedMb: number;
  readonly subjectPeakMb: number;
  readonly floorMixedMb: number;
  readonly floorPeakMb: number;
  /** The functions' memory size, MB. */
  readonly memoryMb: number;
}

/**
 * Per callback function: a fresh process of its bundle and one of the floor bundle (Lambda's heap
 * flags for the functions' memory size, the local SQS and S3 behind them), each given `callbacks`
 * of the function's samples in turn, then the sender's real shape scaled to the largest body
 * ({@link SCALED_GENUINE}); the peak resident memory of each (VmHWM).
 */
export async function measureMemory(
  floor: BuiltBundle,
  functions: readonly BuiltBundle[],
  targets: readonly BenchTarget[],
  options: { callbacks: number; log?: (line: string) => void },
): Promise<MemoryCase[]> {
  const stores = await startDurableStores();
  const memoryMb = functionMemoryMb();
  const floorFile = await writeBundle(floor);
  const cases: MemoryCase[] = [];
  const mb = (bytes: number) => bytes / 2 ** 20;
  try {
    for (const target of targets) {
      const bundle = functions.find((candidate) => candidate.name === target.fn.name);
      const sender = target.fn.sender;
      const largestName = sender !== undefined && isSourceName(sender) ? SCALED_GENUINE[sender] : undefined;
      if (!bundle || largestName === undefined) continue;
      const largest = hostileBodies().find((hostile) => hostile.name === largestName);
      if (!largest) throw new Error(`no hostile case ${largestName}`);
      const largestBody = largest.body();
      const requests = (): ContainerRequest[] =>
        Array.from({ length: options.callbacks }, (_, n) => {
          const { fixture, path } = target.accepted[n % target.accepted.length] ?? { fixture: undefined, path: '' };
          if (!fixture) throw new Error(`${target.fn.name} has no samples`);
          return {
            path,
            query: `bench=memory-${n}`,
            contentType: fixture.contentType,
            body: fixture.body,
            base64: !handsOverAsText(fixture.body, fixture.contentType),
          };
        });
      const run = async (file: string) => {
        const container = await startContainer(file, stores.lambdaEnvironment(), { memoryMb });
        try {
          let mixed = 0;
          for (const request of requests()) mixed = (await container.invoke(request)).rss;
          const answer = await container.invoke({
            path: largest.path,
            contentType: largest.contentType,
            body: largestBody,
            base64: !handsOverAsText(largestBody, largest.contentType),
          });
          return { mixed, peak: answer.rss, status: answer.statusCode };
        } finally {
          await container.close();
          await stores.sqs.drain(stores.eventsUrl);
          await stores.sqs.drain(stores.quarantineUrl);
        }
      };
      const floorRun = await run(floorFile);
      const subjectRun = await run(await writeBundle(bundle));
      const result: MemoryCase = {
        function: target.fn.name,
        largest: largestName,
        largestBytes: largestBody.length,
        status: { subject: subjectRun.status, floor: floorRun.status },
        subjectMixedMb: mb(subjectRun.mixed),
        subjectPeakMb: mb(subjectRun.peak),
        floorMixedMb: mb(floorRun.mixed),
        floorPeakMb: mb(floorRun.peak),
        memoryMb,
      };
      options.log?.(
        `  ${target.fn.name}: ${options.callbacks} callbacks then ${largestName} (${largestBody.length} B, ${subjectRun.status}): peak ${result.subjectPeakMb.toFixed(0)} MB (${result.subjectMixedMb.toFixed(0)} MB before it); floor ${result.floorPeakMb.toFixed(0)} MB (${result.floorMixedMb.toFixed(0)} MB)`,
      );
      cases.push(result);
    }
  } finally {
    await stores.close();
  }
  return cases;
}
