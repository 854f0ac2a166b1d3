import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentSuffix } from '../../lib/sources/sender.ts';
import { handsOverAsText } from '../local/http-event.ts';
import { loadServiceConfig, SERVICE_DIR } from '../local/service-config.ts';
import { type DurableStores, startDurableStores } from '../testing/durable-stores.ts';
import { type HostileBody, hostileBodies } from '../testing/hostile-bodies.ts';
import { type LambdaContainer, startContainer } from '../testing/lambda-container.ts';
import { bundleOptions } from './bundle.mjs';

// The deployed bundles under Lambda's memory cap, given the worst bodies each decoder can be sent at
// the largest size a function is handed (infra/testing/hostile-bodies.ts): each must answer (200, or
// a 4xx) and keep the callback (the event in the queue, or the body in the quarantine, byte for
// byte), never run out of heap. One container per function and token setting takes all its bodies
// one after the other, as a warm Lambda container does; real local SQS and S3 behind it.

/** The heap Lambda gives a 256 MB function (what the attack that found the crashes imitated). */
const MEMORY_MB = 256;

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
      PATH: process.env.PATH,
      QUEUE_URL: stores.eventsUrl,
      QUARANTINE_QUEUE_URL: stores.quarantineUrl,
      PAYLOAD_BUCKET: stores.bucket.name,
      AWS_ENDPOINT_URL_SQS: stores.sqs.endpoint,
      AWS_ENDPOINT_URL_S3: stores.s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      LOG_LEVEL: 'silent',
      ...(hostile.tokens.length > 0 && { [`TOKENS_${environmentSuffix(hostile.source)}`]: hostile.tokens.join(',') }),
    },
    { memoryMb: MEMORY_MB },
  );
  containers.set(key, container);
  return container;
}

describe(`the bundled functions under a ${MEMORY_MB} MB Lambda's heap, given the worst bodies at the largest size`, () => {
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
      if (answer.statusCode === 200) {
        const [queued, ...more] = await stores.takeEvents();
        expect(more).toEqual([]);
        expect(queued?.event.id).toBe(JSON.parse(answer.body).id);
        expect(queued?.event.data.raw.redacted, 'a token in the body').toBe(
          hostile.tokens.length > 0 && body.includes(hostile.tokens[0] ?? '') ? true : undefined,
        );
        if (!queued?.event.data.raw.redacted)
          expect(
            Buffer.from(queued?.event.data.raw.body ?? '', queued?.event.data.raw.encoding === 'base64' ? 'base64' : 'utf8').equals(body),
          ).toBe(true);
      } else {
        const [kept, ...more] = await stores.takeQuarantined();
        expect(more).toEqual([]);
        expect(kept?.record.status).toBe(answer.statusCode);
        expect(kept?.body.equals(body), 'the quarantined bytes are the body').toBe(true);
      }
      process.stderr.write(
        `HOSTILE ${hostile.name}: ${answer.statusCode} in ${Math.round(answer.ms)} ms, ${Math.round(answer.cpuUs / 1000)} ms CPU, peak RSS ${Math.round(answer.rss / 2 ** 20)} MB\n`,
      );
    },
    120_000,
  );
});
