import * as v from 'valibot';
import { CALLBACK_METRICS, DIMENSIONS, SPOOL_METRICS } from '../../lib/metrics/catalogue.ts';

/**
 * The metrics that embedded-metric-format lines carry, read and counted as CloudWatch Logs would
 * extract them, so that `npm start` (and its inspector, through {@link CountersSnapshot}) shows the
 * same counters a deployed stack's dashboard and alarms read, and tests can check what the packaged
 * functions print. Each value counts once per dimension set of its directive, and a metric is the
 * name with its exact set of dimension values.
 */

const NameSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(255));
/** The `_aws` member, as the specification defines it (at most 30 dimensions in a set, 100 metrics in a directive). */
const EmfMetadataSchema = v.object({
  Timestamp: v.pipe(v.number(), v.integer(), v.minValue(0)),
  CloudWatchMetrics: v.pipe(
    v.array(
      v.object({
        Namespace: NameSchema,
        Dimensions: v.array(v.pipe(v.array(NameSchema), v.maxLength(30))),
        Metrics: v.pipe(v.array(v.object({ Name: NameSchema, Unit: v.optional(v.string()) })), v.minLength(1), v.maxLength(100)),
      }),
    ),
    v.minLength(1),
  ),
});
const ValuesSchema = v.union([v.number(), v.pipe(v.array(v.number()), v.minLength(1), v.maxLength(100))]);
/** A dimension's value: text CloudWatch takes (ASCII, not blank, at most 1024 characters). */
const DimensionValueSchema = v.pipe(v.string(), v.regex(/^[\x20-\x7e]*\S[\x20-\x7e]*$/), v.maxLength(1024));

/** One metric value set as CloudWatch extracts it from a line. */
export interface Datapoint {
  readonly namespace: string;
  readonly name: string;
  readonly unit: string | undefined;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly values: readonly number[];
  /** When, in ms since the epoch. */
  readonly timestamp: number;
}

/** A line that claims to carry metrics (`_aws`) and does not follow the format: CloudWatch would drop them. */
export class EmfFormatError extends Error {
  override name = 'EmfFormatError';
}

/**
 * The metrics one log line carries: none for a line that is not JSON or has no `_aws` member.
 * @throws EmfFormatError when `_aws` is malformed, or a dimension or metric it names is missing or of the wrong type
 */
export function metricDatapoints(line: string): Datapoint[] {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return [];
  }
  if (typeof json !== 'object' || json === null || !('_aws' in json)) return [];
  const members: Readonly<Record<string, unknown>> = { ...json };
  const metadata = v.safeParse(EmfMetadataSchema, members._aws);
  if (!metadata.success) {
    throw new EmfFormatError(`_aws: ${v.getDotPath(metadata.issues[0]) ?? ''} ${metadata.issues[0].message}`);
  }
  const points: Datapoint[] = [];
  for (const directive of metadata.output.CloudWatchMetrics) {
    for (const metric of directive.Metrics) {
      const values = v.safeParse(ValuesSchema, members[metric.Name]);
      if (!values.success) throw new EmfFormatError(`metric ${metric.Name}: the member is not a number or a list of 1 to 100 numbers`);
      for (const set of directive.Dimensions) {
        const dimensions: Record<string, string> = {};
        for (const name of set) {
          const value = v.safeParse(DimensionValueSchema, members[name]);
          if (!value.success) throw new EmfFormatError(`dimension ${name} of ${metric.Name}: the member is not ASCII text`);
          dimensions[name] = value.output;
        }
        points.push({
          namespace: directive.Namespace,
          name: metric.Name,
          unit: metric.Unit,
          dimensions,
          values: typeof values.output === 'number' ? [values.output] : values.output,
          timestamp: metadata.output.Timestamp,
        });
      }
    }
  }
  return points;
}

/** Percentiles of a sample, in its unit. */
export interface Distribution {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** One sender's counters. */
export interface SourceCounters {
  /** Requests answered. */
  readonly callbacks: number;
  /** Requests by outcome (`accepted`, `refused-422`, ...). */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Accepted callbacks by event type. */
  readonly types: Readonly<Record<string, number>>;
  readonly quarantined: number;
  readonly claimChecked: number;
  readonly spooled: number;
  readonly redriven: number;
  /** Answer time, in ms, over the last {@link MAX_SAMPLES} requests. */
  readonly answerMs?: Distribution;
  /** Body size, in bytes, over the last {@link MAX_SAMPLES} requests. */
  readonly bodyBytes?: Distribution;
}

/** What the counters hold now: for `npm start`'s counters line and its inspector. */
export interface CountersSnapshot {
  /** When counting started (ISO 8601). */
  readonly since: string;
  /** Per sender, in the order they were first seen. */
  readonly sources: Readonly<Record<string, SourceCounters>>;
  /** The spool after the last redrive run that reported. */
  readonly spool?: { readonly left: number; readonly oldestAgeSeconds: number };
}

/** Counters over the lines given to {@link MetricCounters.observe}. */
export interface MetricCounters {
  /** Counts what one log line carries (nothing for a line without metrics). @throws EmfFormatError */
  observe(line: string): void;
  /** The sum of a metric's values with exactly these dimensions, in every namespace. */
  sum(name: string, dimensions: Readonly<Record<string, string>>): number;
  /** Every metric seen, with the sum of its values. */
  metrics(): Array<{ readonly name: string; readonly dimensions: Readonly<Record<string, string>>; readonly sum: number }>;
  snapshot(): CountersSnapshot;
}

/** Values kept per metric for its percentiles. */
export const MAX_SAMPLES = 10_000;

interface Series {
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  sum: number;
  /** The last values, at most {@link MAX_SAMPLES}; `next` is where the next one goes once it is full. */
  readonly samples: number[];
  next: number;
  last: number;
}

const keyOf = (name: string, dimensions: Readonly<Record<string, string>>) =>
  JSON.stringify([name, ...Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : 1))]);

/** Counters that start empty now. */
export function createMetricCounters(now: () => Date = () => new Date()): MetricCounters {
  const since = now().toISOString();
  const series = new Map<string, Series>();
  const add = (point: Datapoint) => {
    const key = keyOf(point.name, point.dimensions);
    let entry = series.get(key);
    if (!entry) {
      entry = { name: point.name, dimensions: point.dimensions, sum: 0, samples: [], next: 0, last: 0 };
      series.set(key, entry);
    }
    for (const value of point.values) {
      entry.sum += value;
      entry.last = value;
      if (entry.samples.length < MAX_SAMPLES) entry.samples.push(value);
      else {
        entry.samples[entry.next] = value;
        entry.next = (entry.next + 1) % MAX_SAMPLES;
      }
    }
  };
  return {
    observe(line) {
      for (const point of metricDatapoints(line)) add(point);
    },
    sum: (name, dimensions) => series.get(keyOf(name, dimensions))?.sum ?? 0,
    metrics: () => [...series.values()].map(({ name, dimensions, sum }) => ({ name, dimensions, sum })),
    snapshot: () => snapshotOf(since, [...series.values()]),
  };
}

/** The nearest-rank percentile `q` (0 to 1) of sorted values. */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

function distribution(samples: readonly number[]): Distribution | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
}

/** Reads the catalogue's metrics (`lib/metrics/catalogue.ts`) out of the series, by sender. */
function snapshotOf(since: string, all: readonly Series[]): CountersSnapshot {
  const { service, source, outcome, type } = DIMENSIONS;
  const sources: Record<string, { -readonly [K in keyof SourceCounters]: SourceCounters[K] }> = {};
  let spool: { left: number; oldestAgeSeconds: number } | undefined;
  const counted: Record<string, 'quarantined' | 'claimChecked' | 'spooled' | 'redriven'> = {
    [CALLBACK_METRICS.quarantined.Name]: 'quarantined',
    [CALLBACK_METRICS.claimChecked.Name]: 'claimChecked',
    [CALLBACK_METRICS.spooled.Name]: 'spooled',
    [CALLBACK_METRICS.redriven.Name]: 'redriven',
  };
  for (const entry of all) {
    const names = Object.keys(entry.dimensions).sort();
    const name = entry.dimensions[source];
    if (names.length === 1 && names[0] === service) {
      spool ??= { left: 0, oldestAgeSeconds: 0 };
      if (entry.name === SPOOL_METRICS.left.Name) spool.left = entry.last;
      if (entry.name === SPOOL_METRICS.oldestAge.Name) spool.oldestAgeSeconds = entry.last;
      continue;
    }
    if (name === undefined || !names.includes(service)) continue;
    sources[name] ??= { callbacks: 0, outcomes: {}, types: {}, quarantined: 0, claimChecked: 0, spooled: 0, redriven: 0 };
    const counters = sources[name];
    const by = names.find((dimension) => dimension !== service && dimension !== source);
    if (entry.name === CALLBACK_METRICS.callbacks.Name && names.length === 3 && by === outcome) {
      counters.outcomes = { ...counters.outcomes, [entry.dimensions[outcome] ?? '']: entry.sum };
    } else if (entry.name === CALLBACK_METRICS.callbacks.Name && names.length === 3 && by === type) {
      counters.types = { ...counters.types, [entry.dimensions[type] ?? '']: entry.sum };
    } else if (names.length === 2) {
      const field = counted[entry.name];
      if (field) counters[field] = entry.sum;
      if (entry.name === CALLBACK_METRICS.callbacks.Name) counters.callbacks = entry.sum;
      const spread = distribution(entry.samples);
      if (entry.name === CALLBACK_METRICS.answerTime.Name && spread) counters.answerMs = spread;
      if (entry.name === CALLBACK_METRICS.bodyBytes.Name && spread) counters.bodyBytes = spread;
    }
  }
  return { since, sources, ...(spool && { spool }) };
}

/**
 * The counters as `npm start` prints them: one line per sender that was called (and the spool's
 * after a redrive), e.g. `bk-job: 12 callbacks (accepted 10, refused-422 2); quarantined 2; answer
 * p50 3.1 ms, p99 9.8 ms`.
 */
export function formatCounters(snapshot: CountersSnapshot): string {
  const lines = Object.entries(snapshot.sources).map(([name, counters]) => {
    const outcomes = Object.entries(counters.outcomes)
      .map(([outcome, count]) => `${outcome} ${count}`)
      .join(', ');
    const kept = (['quarantined', 'spooled', 'redriven', 'claimChecked'] as const)
      .filter((field) => counters[field] > 0)
      .map((field) => `${field === 'claimChecked' ? 'claim-checked' : field} ${counters[field]}`);
    const answer = counters.answerMs && `answer p50 ${counters.answerMs.p50} ms, p99 ${counters.answerMs.p99} ms`;
    const body = counters.bodyBytes && `body p50 ${counters.bodyBytes.p50} B, max ${counters.bodyBytes.max} B`;
    return `  ${name}: ${counters.callbacks} callback${counters.callbacks === 1 ? '' : 's'}${outcomes ? ` (${outcomes})` : ''}${[
      ...kept,
      answer,
      body,
    ]
      .filter(Boolean)
      .map((part) => `; ${part}`)
      .join('')}`;
  });
  if (snapshot.spool) lines.push(`  spool: ${snapshot.spool.left} left, oldest ${snapshot.spool.oldestAgeSeconds} s`);
  return `metrics since ${snapshot.since}:\n${lines.length > 0 ? lines.join('\n') : '  no callbacks yet'}\n`;
}
