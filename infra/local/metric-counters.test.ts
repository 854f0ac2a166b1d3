import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../lib/http/log.ts';
import { redriveMetricLines } from '../../lib/store/redrive-handler.ts';
import { createMetricCounters, EmfFormatError, formatCounters, MAX_SAMPLES, metricDatapoints } from './metric-counters.ts';

const TARGET = { namespace: 'jobhooks/local', service: 'jobhooks-local' };
const request = (source: string, status: number, extra: { type?: string; quarantined?: boolean; ms?: number } = {}) =>
  formatLogLine(
    { route: '$default', source, status, ms: extra.ms ?? 2, requestId: 'r', bodyBytes: 10, ...extra },
    TARGET,
    1_800_000_000_000,
  );

describe('metricDatapoints', () => {
  it('reads nothing from a line that carries no metrics', () => {
    expect(metricDatapoints('spool redrive: 1 sent')).toEqual([]);
    expect(metricDatapoints('{"level":"info"}')).toEqual([]);
  });

  it.each([
    [
      'no Timestamp',
      { _aws: { CloudWatchMetrics: [{ Namespace: 'n', Dimensions: [], Metrics: [{ Name: 'A' }] }] }, A: 1 },
      /_aws: Timestamp/,
    ],
    [
      'a metric without its member',
      { _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'n', Dimensions: [], Metrics: [{ Name: 'A' }] }] } },
      /metric A/,
    ],
    [
      'a dimension that is not text',
      {
        _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'n', Dimensions: [['status']], Metrics: [{ Name: 'A' }] }] },
        A: 1,
        status: 200,
      },
      /dimension status of A/,
    ],
    [
      'more than 30 dimensions in a set',
      {
        _aws: {
          Timestamp: 1,
          CloudWatchMetrics: [{ Namespace: 'n', Dimensions: [Array.from({ length: 31 }, (_, i) => `d${i}`)], Metrics: [{ Name: 'A' }] }],
        },
        A: 1,
      },
      /_aws: CloudWatchMetrics\.0\.Dimensions\.0/,
    ],
  ])('refuses %s, as CloudWatch would drop it', (_what, line, problem) => {
    expect(() => metricDatapoints(JSON.stringify(line))).toThrow(EmfFormatError);
    expect(() => metricDatapoints(JSON.stringify(line))).toThrow(problem);
  });

  it('publishes each metric once per dimension set, and takes a list of values', () => {
    const line = {
      _aws: {
        Timestamp: 5,
        CloudWatchMetrics: [{ Namespace: 'n', Dimensions: [['a'], ['a', 'b']], Metrics: [{ Name: 'M', Unit: 'Count' }] }],
      },
      a: 'x',
      b: 'y',
      M: [1, 2],
    };
    expect(metricDatapoints(JSON.stringify(line))).toEqual([
      { namespace: 'n', name: 'M', unit: 'Count', dimensions: { a: 'x' }, values: [1, 2], timestamp: 5 },
      { namespace: 'n', name: 'M', unit: 'Count', dimensions: { a: 'x', b: 'y' }, values: [1, 2], timestamp: 5 },
    ]);
  });
});

describe('createMetricCounters', () => {
  it('counts per sender what the request lines and the redrive lines carry', () => {
    // Prepare
    const counters = createMetricCounters(() => new Date('2026-01-01T00:00:00Z'));
    // Act
    for (const ms of [1, 2, 3]) counters.observe(request('bk-job', 200, { type: 'bkjob.job.finished', ms }));
    counters.observe(request('bk-job', 422, { quarantined: true, ms: 100 }));
    counters.observe(request('thain', 401));
    for (const line of redriveMetricLines({ sent: 2, sentBySource: { 'bk-job': 2 }, left: 3, oldestAgeSeconds: 40 }, TARGET, 0)) {
      counters.observe(line);
    }
    // Assess
    expect(counters.sum('Callbacks', { Service: 'jobhooks-local', source: 'bk-job', outcome: 'accepted' })).toBe(3);
    const snapshot = counters.snapshot();
    expect(snapshot).toEqual({
      since: '2026-01-01T00:00:00.000Z',
      sources: {
        'bk-job': {
          callbacks: 4,
          outcomes: { accepted: 3, 'refused-422': 1 },
          types: { 'bkjob.job.finished': 3 },
          quarantined: 1,
          claimChecked: 0,
          spooled: 0,
          redriven: 2,
          answerMs: { count: 4, p50: 2, p99: 100, max: 100 },
          bodyBytes: { count: 4, p50: 10, p99: 10, max: 10 },
        },
        thain: {
          callbacks: 1,
          outcomes: { 'refused-401': 1 },
          types: {},
          quarantined: 0,
          claimChecked: 0,
          spooled: 0,
          redriven: 0,
          answerMs: { count: 1, p50: 2, p99: 2, max: 2 },
          bodyBytes: { count: 1, p50: 10, p99: 10, max: 10 },
        },
      },
      spool: { left: 3, oldestAgeSeconds: 40 },
    });
    expect(formatCounters(snapshot)).toBe(
      [
        'metrics since 2026-01-01T00:00:00.000Z:',
        '  bk-job: 4 callbacks (accepted 3, refused-422 1); quarantined 1; redriven 2; answer p50 2 ms, p99 100 ms; body p50 10 B, max 10 B',
        '  thain: 1 callback (refused-401 1); answer p50 2 ms, p99 2 ms; body p50 10 B, max 10 B',
        '  spool: 3 left, oldest 40 s',
        '',
      ].join('\n'),
    );
  });

  it('keeps the last MAX_SAMPLES values of a metric for its percentiles, and its sum whole', () => {
    const counters = createMetricCounters();
    for (let i = 0; i < MAX_SAMPLES + 10; i++) counters.observe(request('thain', 200, { ms: i < 10 ? 1_000 : 1 }));
    const thain = counters.snapshot().sources.thain;
    expect(thain?.answerMs).toEqual({ count: MAX_SAMPLES, p50: 1, p99: 1, max: 1 });
    expect(thain?.callbacks).toBe(MAX_SAMPLES + 10);
  });

  it('says so when nothing was counted yet', () => {
    expect(formatCounters(createMetricCounters(() => new Date(0)).snapshot())).toBe(
      'metrics since 1970-01-01T00:00:00.000Z:\n  no callbacks yet\n',
    );
  });
});
