import { describe, expect, it } from 'vitest';
import { metricDatapoints } from '../../infra/local/metric-counters.ts';
import {
  bodyIssue,
  ForbiddenError,
  InvalidPayloadError,
  MalformedBodyError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  QueueUnavailableError,
  UnauthorizedError,
} from '../errors.ts';
import { ANSWER_STATUSES, CALLBACK_METRICS, callbackMetricMembers, FORMAT_CHANGE, OUTCOMES, outcomeOf } from './catalogue.ts';

const TARGET = { namespace: 'jobhooks/test', service: 'jobhooks-test' };

describe('outcomes', () => {
  it('give every answer a handler makes its own outcome, from a fixed list', () => {
    // Prepare: every error a callback can end in (lib/errors.ts), the 200 and an internal error's 500.
    const statuses = [
      200,
      new MalformedBodyError('x').statusCode,
      new InvalidPayloadError('x', [bodyIssue('x')]).statusCode,
      new UnauthorizedError('x').statusCode,
      new ForbiddenError('x').statusCode,
      new NotFoundError('x').statusCode,
      new MethodNotAllowedError('GET').statusCode,
      new PayloadTooLargeError('x').statusCode,
      new QueueUnavailableError().statusCode,
      500,
    ];
    // Act
    const outcomes = statuses.map(outcomeOf);
    // Assess
    expect([...statuses].sort()).toEqual([...ANSWER_STATUSES].sort());
    expect(new Set(outcomes).size).toBe(statuses.length);
    for (const outcome of outcomes) expect(OUTCOMES).toContain(outcome);
    expect(outcomeOf(200)).toBe('accepted');
    expect(outcomeOf(422)).toBe('refused-422');
    expect(outcomeOf(503)).toBe('failed-503');
  });

  it('keep the list short whatever status comes: an unknown one is refused-other or failed-other', () => {
    expect(outcomeOf(418)).toBe('refused-other');
    expect(outcomeOf(502)).toBe('failed-other');
  });

  it('weigh format changes over outcomes that exist', () => {
    for (const outcome of [...FORMAT_CHANGE.read, ...FORMAT_CHANGE.refused]) expect(OUTCOMES).toContain(outcome);
    for (const outcome of FORMAT_CHANGE.refused) expect(FORMAT_CHANGE.read).toContain(outcome);
  });
});

describe('callbackMetricMembers', () => {
  const line = (facts: Parameters<typeof callbackMetricMembers>[0]) =>
    JSON.stringify({
      source: 'thain',
      ...(facts.type && { type: facts.type }),
      ...callbackMetricMembers(facts, TARGET, 1_800_000_000_000),
    });

  it('an accepted callback: per source, per outcome and per type, with its answer time and body size', () => {
    const points = metricDatapoints(line({ status: 200, type: 'thain.job.status', ms: 3.5, bodyBytes: 120 }));
    const as = (name: string) => points.filter((p) => p.name === name).map((p) => ({ ...p.dimensions, values: p.values }));
    expect(as(CALLBACK_METRICS.callbacks.Name)).toEqual([
      { Service: 'jobhooks-test', source: 'thain', values: [1] },
      { Service: 'jobhooks-test', source: 'thain', outcome: 'accepted', values: [1] },
      { Service: 'jobhooks-test', source: 'thain', type: 'thain.job.status', values: [1] },
    ]);
    expect(as(CALLBACK_METRICS.answerTime.Name)).toEqual([{ Service: 'jobhooks-test', source: 'thain', values: [3.5] }]);
    expect(as(CALLBACK_METRICS.bodyBytes.Name)).toEqual([{ Service: 'jobhooks-test', source: 'thain', values: [120] }]);
    expect(points.every((p) => p.namespace === 'jobhooks/test' && p.timestamp === 1_800_000_000_000)).toBe(true);
    // Nothing is counted that did not happen.
    expect(points.map((p) => p.name)).not.toContain(CALLBACK_METRICS.quarantined.Name);
  });

  it('a refused callback: no type; quarantined, spooled and claim-checked only when they happened', () => {
    const points = metricDatapoints(line({ status: 422, ms: 1, bodyBytes: 2, quarantined: true, spooled: true }));
    expect(points.filter((p) => 'type' in p.dimensions)).toEqual([]);
    expect(points.find((p) => p.dimensions.outcome)?.dimensions.outcome).toBe('refused-422');
    expect(points.map((p) => p.name).sort()).toEqual(['AnswerTime', 'BodyBytes', 'Callbacks', 'Callbacks', 'Quarantined', 'Spooled']);
  });
});
