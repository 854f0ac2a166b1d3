import { describe, expect, it } from 'vitest';
import { DEFAULT_METRICS_TARGET, emfMetadata, metricsTargetFrom } from './emf.ts';

describe('metricsTargetFrom', () => {
  it('reads METRICS_NAMESPACE and METRICS_SERVICE, as serverless.yml sets them', () => {
    expect(metricsTargetFrom({ METRICS_NAMESPACE: 'jobhooks/prod', METRICS_SERVICE: 'jobhooks-prod' })).toEqual({
      namespace: 'jobhooks/prod',
      service: 'jobhooks-prod',
    });
  });

  it('falls back to jobhooks when they are unset or empty (npm start, tests)', () => {
    expect(metricsTargetFrom({})).toEqual(DEFAULT_METRICS_TARGET);
    expect(metricsTargetFrom({ METRICS_NAMESPACE: '', METRICS_SERVICE: '' })).toEqual(DEFAULT_METRICS_TARGET);
  });
});

describe('emfMetadata', () => {
  it('puts each directive in the namespace, with the time in ms', () => {
    expect(emfMetadata('ns', 7, [{ Dimensions: [['Service']], Metrics: [{ Name: 'A', Unit: 'Count' }] }])).toEqual({
      _aws: { Timestamp: 7, CloudWatchMetrics: [{ Namespace: 'ns', Dimensions: [['Service']], Metrics: [{ Name: 'A', Unit: 'Count' }] }] },
    });
  });
});
