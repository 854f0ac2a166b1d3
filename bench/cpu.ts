import { XMLParser } from 'fast-xml-parser';
import { decodeBodyText } from '../lib/decode/charset.ts';
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
  /** Median over rounds of subject / floor µs in the same round. */
  readonly pairedRatio: number;
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
 * The floor of a body: the least any function that keeps the raw body does with it. It decodes the
 * body with the same family of decoder (JSON.parse; URLSearchParams for a form; one bare
 * fast-xml-parser parse, default options, for XML) and writes, with JSON.stringify, an envelope
 * holding the raw body and the decoded value. Everything the functions do on top (the charset, the
 * bounds, validation, normalizing, the event id, the answer) is what the ratio measures.
 */
function floorOf(text: string, format: 'json' | 'form' | 'xml'): { describe: string; run: () => unknown } {
  const envelope = (value: unknown) => JSON.stringify({ raw: text, value });
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
      return {
        describe: json === text ? 'JSON.parse, stringify {raw, value}' : 'JSON.parse (trailing comma removed), stringify {raw, value}',
        run: () => envelope(JSON.parse(json)),
      };
    }
    case 'form':
      return { describe: 'URLSearchParams, stringify {raw, value}', run: () => envelope(Object.fromEntries(new URLSearchParams(text))) };
    case 'xml': {
      const parser = new XMLParser();
      return { describe: 'fast-xml-parser parse, stringify {raw, value}', run: () => envelope(parser.parse(text)) };
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
      const text = decodeBodyText(fixture.body, fixture.contentType);
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
        pairedRatio: median(subjectUs.map((us, round) => us / (floorUs[round] as number))),
      });
    }
  }
  if (sink === Symbol.for('never')) process.stdout.write('');
  return cases;
}
