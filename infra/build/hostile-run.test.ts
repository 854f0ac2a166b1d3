import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawBytes } from '../../lib/events/cloud-event.ts';
import { environmentSuffix } from '../../lib/sources/sender.ts';
import { handsOverAsText } from '../local/http-event.ts';
import { loadServiceConfig, SERVICE_DIR } from '../local/service-config.ts';
import { type DurableStores, startDurableStores } from '../testing/durable-stores.ts';
import { type HostileBody, hostileBodies } from '../testing/hostile-bodies.ts';
import { type LambdaContainer, startContainer } from '../testing/lambda-container.ts';
import { bundleOptions } from './bundle.mjs';
import { functionMemoryMb } from './bundle-budget.ts';

// The deployed bundles under Lambda's memory limits, given the worst bodies each decoder can be sent
// at the largest size a function is handed (infra/testing/hostile-bodies.ts): each must answer (200,
// or a 4xx) and keep the callback (the event in the queue, or the body in the quarantine, byte for
// byte), never run out of heap, and the process must stay within the memory the functions are
// given (Lambda stops one that outgrows it, and the callback is lost). One container per function
// and token setting takes all its bodies one after the other, as a warm Lambda container does; real
// local SQS and S3 behind it.

/**
 * The V8 heap is capped as Lambda caps a 256 MB function's (231 MB old space): half of what the
 * functions are given, so the heap a body needs has that much to spare.
 */
const HEAP_OF_MB = 256;
/** What the functions are given (serverless.yml): no process may grow past it. */
const MEMORY_MB = functionMemoryMb();

const functions = loadServiceConfig().functions.filter((fn) => fn.sender !== undefined);
const CASES = hostileBodies();

let stores: DurableStores;
let folder: string;
const containers = new Map<string, LambdaContainer>();

beforeAll(async () => {
  stores = await startDurableStores();
  folder = await mkdtemp(join(tmpdir(), 'jobhooks-hostile-'));
}, 60_000);
afterAll(async () => {
  await Promise.all([...containers.values()].map((container) => container.close()));
  await stores?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** The container of the function serving a case's sender, with its tokens configured (one per setting). */
async function containerFor(hostile: HostileBody): Promise<LambdaContainer> {
  const fn = functions.find((candidate) => candidate.sender === hostile.source);
  if (!fn) throw new Error(`no function takes ${hostile.source}`);
  const key = `${fn.name}:${hostile.tokens.join(',')}`;
  const running = containers.get(key);
  if (running) return running;
  const outfile = join(folder, `${fn.name}.mjs`);
  const result = await build({ ...bundleOptions(join(SERVICE_DIR, `${fn.module}.ts`), outfile), write: false });
  await writeFile(outfile, result.outputFiles?.[0]?.contents ?? '');
  const container = await startContainer(
    outfile,
    {
      ...stores.lambdaEnvironment(),
      ...(hostile.tokens.length > 0 && { [`TOKENS_${environmentSuffix(hostile.source)}`]: hostile.tokens.join(',') }),
    },
    { memoryMb: HEAP_OF_MB },
  );
  containers.set(key, container);
  return container;
}

describe(`the bundled functions under a ${HEAP_OF_MB} MB Lambda's heap, given the worst bodies at the largest size`, () => {
  it.each(CASES.map((hostile) => [hostile.name, hostile] as const))(
    '%s: answered, and the callback kept',
    async (_name, hostile) => {
      // Prepare
      const container = await containerFor(hostile);
      const body = hostile.body();
      const base64 = !handsOverAsText(body, hostile.contentType);

      // Act
      const answer = await container.invoke({ path: hostile.path, query: hostile.query, contentType: hostile.contentType, body, base64 });

      // Assess: an answer a sender can act on, and the callback in the queue or the quarantine.
      expect([200, 400, 413, 422], answer.body).toContain(answer.statusCode);
      expect(answer.rss, `peak resident memory, of ${MEMORY_MB} MB`).toBeLessThanOrEqual(MEMORY_MB * 2 ** 20);
      if (answer.statusCode === 200) {
        const [queued, ...more] = await stores.takeEvents();
        expect(more).toEqual([]);
        expect(queued?.event.id).toBe(JSON.parse(answer.body).id);
        // The body's exact bytes, but for a token the redaction replaced.
        const token = hostile.tokens.find((candidate) => body.includes(candidate));
        expect(queued?.event.data.raw.redacted).toBe(token === undefined ? undefined : true);
        const expected = token === undefined ? body : Buffer.from(body.toString('latin1').replaceAll(token, 'REDACTED'), 'latin1');
        expect(queued && rawBytes(queued.event.data.raw).equals(expected), 'the event holds the body').toBe(true);
      } else {
        const [kept, ...more] = await stores.takeQuarantined();
        expect(more).toEqual([]);
        expect(kept?.record.status).toBe(answer.statusCode);
        expect(kept?.body.equals(body), 'the quarantined bytes are the body').toBe(true);
      }
    },
    120_000,
  );
});
