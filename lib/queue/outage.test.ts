/**
 * The queue down for a while under steady load from every route: every 200 reaches the queue once
 * it is back (through the spool and its redrive), none is lost, repeats carry equal ids, and no
 * answer is 503 while the bucket works. The outage lasts `OUTAGE_MS` (3 s here, over twice the
 * tests' SQS budget, so that callbacks run into it while it hangs; `OUTAGE_MS=30000` for a 30 s
 * outage). Counts and times are printed (`OUTAGE` lines), never asserted.
 */
import { describe, expect, it } from 'vitest';
import { createHttpEvent } from '../../infra/local/http-event.ts';
import { startDurableStores } from '../../infra/testing/durable-stores.ts';
import { FaultySqs } from '../../infra/testing/faulty-sqs.ts';
import { ROUTE_CALLBACKS } from '../../infra/testing/route-callbacks.ts';
import { PREFIXES } from '../store/payload-bucket.ts';

const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 3_000);
/** Requests each route's client keeps in flight. */
const CONCURRENCY = 2;

const ROUTES = ROUTE_CALLBACKS;

describe('the queue down under load from every route', () => {
  it(`down for ${OUTAGE_MS / 1000} s: every 200 reaches the queue after, 0 lost, no 503 while the bucket works`, async () => {
    const stores = await startDurableStores();
    const faulty = new FaultySqs(stores.sqs.endpoint, 'forward');
    const endpoint = await faulty.listen();
    const handlers = ROUTES.map((route) => ({ ...route, handler: stores.handler(route.source, endpoint) }));
    const answers: Array<{ status: number; id?: string; ms: number; during: boolean }> = [];
    let down = false;
    let stop = false;
    let n = 0;
    try {
      const load = handlers.flatMap(({ path, sample, handler }) =>
        Array.from({ length: CONCURRENCY }, async () => {
          const body = sample.body;
          while (!stop) {
            const during = down;
            const started = performance.now();
            // A label per request: each is its own callback (and its own event id).
            const response = await handler(createHttpEvent({ path, body, query: `n=${++n}` }));
            const answer = JSON.parse(response.body ?? '{}') as { id?: string };
            answers.push({
              status: response.statusCode ?? 0,
              ...(answer.id && { id: answer.id }),
              ms: performance.now() - started,
              during,
            });
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }),
      );
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      await pause(1_000);
      // Down: half of the outage refusing connections, half hanging (every attempt runs into its timeout).
      down = true;
      faulty.mode = 'reset';
      await pause(OUTAGE_MS / 2);
      faulty.mode = 'hang';
      await pause(OUTAGE_MS / 2);
      faulty.mode = 'forward';
      down = false;
      const backAt = performance.now();
      await pause(1_000);
      stop = true;
      await Promise.all(load);

      // The redrive (every minute when deployed, every 2 s under npm start) empties the spool.
      const spooled = (await stores.s3.keys('payloads', PREFIXES.spool)).length;
      let redriven = 0;
      for (let run = 0; run < 10 && (await stores.s3.keys('payloads', PREFIXES.spool)).length > 0; run++) {
        redriven += (await stores.redrive()).sent;
      }
      const delay = performance.now() - backAt;
      const queued = (await stores.takeEvents()).map((q) => q.event.id);

      const ok = answers.filter((a) => a.status === 200);
      const queuedSet = new Set(queued);
      const lost = ok.filter((a) => a.id === undefined || !queuedSet.has(a.id));
      const repeats = queued.length - queuedSet.size;
      const statuses = Object.fromEntries(
        [...new Set(answers.map((a) => a.status))].map((status) => [status, answers.filter((a) => a.status === status).length]),
      );
      const duringMs = answers.filter((a) => a.during).map((a) => a.ms);
      console.log(
        `OUTAGE ${OUTAGE_MS} ms: ${answers.length} requests (${answers.filter((a) => a.during).length} while down), statuses ${JSON.stringify(statuses)}; ` +
          `spooled ${spooled}, redriven ${redriven}; queued ${queued.length} (${queuedSet.size} distinct, ${repeats} repeats); lost ${lost.length}; ` +
          `answers while down ${Math.round(Math.min(...duringMs))}..${Math.round(Math.max(...duringMs))} ms; spool empty ${Math.round(delay)} ms after the queue came back`,
      );
      expect(answers.filter((a) => a.during).length).toBeGreaterThan(0);
      expect(spooled).toBeGreaterThan(0);
      expect(statuses).toEqual({ 200: answers.length });
      expect(lost).toEqual([]);
      // Every queued event is one that was answered 200 (a slow send may also have reached SQS after
      // its deadline, and its spooled copy then repeats it: same id).
      expect([...queuedSet].every((id) => ok.some((a) => a.id === id))).toBe(true);
      expect(await stores.s3.keys('payloads', PREFIXES.spool)).toEqual([]);
    } finally {
      stop = true;
      await faulty.close();
      await stores.close();
    }
  }, 120_000);
});
