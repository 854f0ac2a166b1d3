import { XMLParser } from 'fast-xml-parser';
import { sniffFormat } from '../lib/decode/decode-body.ts';
import { median, quartiles } from './lib/stats.ts';
import { type BenchTarget, fixtureEvent, instantHandler } from './lib/targets.ts';

/** CPU per callback of one fixture, against its floor, in µs per callback. */
export interface CpuCase {
  readonly function: string;
  readonly fixture: string;
  readonly path: string;
  readonly format: 'json' | 'form' | 'xml';
  readonly bytes: number;
  /** What the floor does for this fixture. */
  readonly floor: string;
  readonly subjectUs: number;
  readonly subjectIqr: [number, number];
  readonly floorUs: number;
  readonly floorIqr: [number, number];
}

let sink: unknown;

/** CPU µs per call of `fn` over a batch of `n` calls (user + system, all threads of the process). */
async function batch(fn: () => unknown, n: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const result = fn();
    if (result instanceof Promise) sink = await result;
    else sink = result;
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

/** How many calls fill about `ms` of wall time. */
async function calibrate(fn: () => unknown, ms: number): Promise<number> {
  let n = 1;
  for (;;) {
    const started = performance.now();
    await batch(fn, n);
    const elapsed = performance.now() - started;
    if (elapsed >= ms / 4 || n >= 1 << 22) return Math.max(1, Math.round((n * ms) / Math.max(elapsed, 0.001)));
    n *= 2;
  }
}

/**
 * The floor of a body: the least work any decoder of it must do. JSON: `JSON.parse` +
 * `JSON.stringify` of the body. Form: the same on the form's fields as JSON (the same data, parsed
 * and written by the engine's native code). XML: one bare fast-xml-parser parse (default options).
 */
function floorOf(text: string, format: 'json' | 'form' | 'xml'): { describe: string; run: () => unknown } {
  switch (format) {
    case 'json': {
      // A body the engine's parser refuses (Tencent CI's trailing comma): the floor parses the
      // same data without it.
      let json = text;
      try {
        JSON.parse(json);
      } catch {
        json = text.replace(/,(\s*[}\]])/g, '$1');
      }
      const describe = json === text ? 'JSON.parse+JSON.stringify' : 'JSON.parse+JSON.stringify (trailing comma removed)';
      return { describe, run: () => JSON.stringify(JSON.parse(json)) };
    }
    case 'form': {
      const asJson = JSON.stringify(Object.fromEntries(new URLSearchParams(text)));
      return { describe: 'JSON.parse+JSON.stringify of the fields', run: () => JSON.stringify(JSON.parse(asJson)) };
    }
    case 'xml': {
      const parser = new XMLParser();
      return { describe: 'fast-xml-parser parse', run: () => parser.parse(text) };
    }
  }
}

/**
 * For every accepted fixture of every function: the real handler with an instant queue (decode,
 * validate, normalize, event id, serialize, answer; the log line off) against its floor, in
 * alternating batches of about `batchMs`, `rounds` times each; medians of µs per callback.
 */
export async function measureCpu(targets: readonly BenchTarget[], options: { rounds: number; batchMs: number }): Promise<CpuCase[]> {
  const cases: CpuCase[] = [];
  for (const target of targets) {
    const handler = instantHandler(target);
    for (const { fixture, path } of target.accepted) {
      const event = fixtureEvent(fixture);
      const text = fixture.body.toString('utf8');
      const format = sniffFormat(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) ?? 'form';
      const floor = floorOf(text, format);
      const answer = await handler(event);
      if (answer.statusCode !== 200) throw new Error(`${target.fn.name}/${fixture.name}: ${answer.statusCode} ${answer.body}`);
      const subject = () => handler(event);
      const nSubject = await calibrate(subject, options.batchMs);
      const nFloor = await calibrate(floor.run, options.batchMs);
      await batch(floor.run, nFloor);
      await batch(subject, nSubject);
      const subjectUs: number[] = [];
      const floorUs: number[] = [];
      for (let round = 0; round < options.rounds; round++) {
        // ABBA order over pairs of rounds: neither side always runs right after the other.
        if (round % 2 === 0) {
          floorUs.push(await batch(floor.run, nFloor));
          subjectUs.push(await batch(subject, nSubject));
        } else {
          subjectUs.push(await batch(subject, nSubject));
          floorUs.push(await batch(floor.run, nFloor));
        }
      }
      cases.push({
        function: target.fn.name,
        fixture: fixture.name,
        path,
        format,
        bytes: fixture.body.length,
        floor: floor.describe,
        subjectUs: median(subjectUs),
        subjectIqr: quartiles(subjectUs),
        floorUs: median(floorUs),
        floorIqr: quartiles(floorUs),
      });
    }
  }
  if (sink === Symbol.for('never')) process.stdout.write('');
  return cases;
}
