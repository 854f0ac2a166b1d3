import { createHttpEvent, handsOverAsText } from '../infra/local/http-event.ts';
import { type HostileTarget, hostileBodies } from '../infra/testing/hostile-bodies.ts';
import { accessPolicy } from '../lib/http/authorize.ts';
import { createCallbackHandler } from '../lib/http/callback-handler.ts';
import { loadCallbacks } from '../lib/sources/load-callbacks.ts';
import { median } from './lib/stats.ts';

/** One hostile body through its function's handler: what it answered and what it cost. */
export interface HostileCase {
  readonly name: string;
  readonly target: HostileTarget;
  readonly source: string;
  readonly bytes: number;
  readonly status: number;
  /** CPU of one handler call (median of the rounds), µs. */
  readonly cpuUs: number;
  /** CPU per body byte, ns. */
  readonly nsPerByte: number;
  /** The event's bytes (a 200), before any claim-check. */
  readonly eventBytes?: number;
}

let sink: unknown;

/**
 * Every hostile body (infra/testing/hostile-bodies.ts) at `size` bytes through the real handler of
 * its sender, with an instant queue and quarantine (so only the function's own work is timed: the
 * answer, 200 or 4xx, comes after decoding, validating, normalizing or refusing), tokens configured
 * for the redaction cases. Each case runs once on a 64 KiB copy to warm up, then `rounds` times.
 */
export async function measureHostile(options: { size: number; rounds: number; log?: (line: string) => void }): Promise<HostileCase[]> {
  const cases: HostileCase[] = [];
  const small = new Map(hostileBodies(64 * 1024).map((hostile) => [hostile.name, hostile]));
  for (const hostile of hostileBodies(options.size)) {
    let eventBytes: number | undefined;
    const handler = createCallbackHandler(await loadCallbacks(hostile.source), {
      queue: {
        send: async (_event, body) => {
          eventBytes = Buffer.byteLength(body);
        },
      },
      quarantine: { keep: async () => undefined },
      spool: false,
      access: accessPolicy(hostile.tokens),
    });
    const eventOf = (body: Buffer) =>
      createHttpEvent({
        body,
        isBase64Encoded: !handsOverAsText(body, hostile.contentType),
        contentType: hostile.contentType,
        path: hostile.path,
        query: hostile.query,
      });
    sink = await handler(eventOf(small.get(hostile.name)?.body() ?? Buffer.from('{}')));
    const body = hostile.body();
    const event = eventOf(body);
    const cpu: number[] = [];
    let status = 0;
    for (let round = 0; round < options.rounds; round++) {
      const before = process.cpuUsage();
      const answer = await handler(event);
      const used = process.cpuUsage(before);
      cpu.push(used.user + used.system);
      status = answer.statusCode ?? 0;
    }
    const cpuUs = median(cpu);
    cases.push({
      name: hostile.name,
      target: hostile.target,
      source: hostile.source,
      bytes: body.length,
      status,
      cpuUs,
      nsPerByte: (cpuUs * 1000) / body.length,
      ...(status === 200 && eventBytes !== undefined && { eventBytes }),
    });
    options.log?.(`  ${hostile.name}: ${status}, ${Math.round(cpuUs / 1000)} ms CPU, ${((cpuUs * 1000) / body.length).toFixed(1)} ns/B`);
  }
  if (sink === Symbol.for('never')) process.stdout.write('');
  return cases;
}
