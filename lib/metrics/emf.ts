/**
 * CloudWatch embedded metric format (EMF): a JSON log line whose `_aws` member tells CloudWatch Logs
 * which of the line's other members are metric values, in which namespace, and which members are
 * their dimensions. CloudWatch Logs extracts the metrics from the function's log group as the line
 * arrives: no metrics API is called (nothing to wait for, no IAM permission), and the line stays an
 * ordinary log line that Logs Insights can query. Source: the CloudWatch User Guide, "Specification:
 * Embedded metric format".
 *
 * Every custom metric (a name with one set of dimension values) is billed per hour in which it gets a
 * value, so each dimension here takes its values from a short fixed list: never an id, a label, a
 * subject or anything else a sender wrote.
 */

/** The CloudWatch units this project's metrics use. */
export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes' | 'Seconds';

/** A metric as a directive names it; its value is the line's member of the same name. */
export interface MetricDefinition {
  readonly Name: string;
  readonly Unit: MetricUnit;
}

/**
 * One directive: each of `Metrics` is published once under each dimension set of `Dimensions` (each
 * set a list of names of the line's members, whose values must be text).
 */
export interface MetricDirective {
  readonly Namespace: string;
  readonly Dimensions: readonly (readonly string[])[];
  readonly Metrics: readonly MetricDefinition[];
}

/** The `_aws` member of an EMF line. */
export interface EmfMetadata {
  /** When the values were measured, in milliseconds since the epoch. */
  readonly Timestamp: number;
  readonly CloudWatchMetrics: readonly MetricDirective[];
}

/**
 * Where a function's metrics go: the CloudWatch namespace (`jobhooks/prod`, one per stack) and the
 * value of every metric's `Service` dimension (`jobhooks-prod`).
 */
export interface MetricsTarget {
  readonly namespace: string;
  readonly service: string;
}

/** Where metrics go when no variable names it (the local run, tests): `jobhooks`. */
export const DEFAULT_METRICS_TARGET: MetricsTarget = { namespace: 'jobhooks', service: 'jobhooks' };

/** The target named by `METRICS_NAMESPACE` and `METRICS_SERVICE` (set for every function by serverless.yml). */
export function metricsTargetFrom(env: Readonly<Record<string, string | undefined>>): MetricsTarget {
  return {
    namespace: env.METRICS_NAMESPACE || DEFAULT_METRICS_TARGET.namespace,
    service: env.METRICS_SERVICE || DEFAULT_METRICS_TARGET.service,
  };
}

/** The `_aws` member for some directives of one namespace, measured at `at` (ms since the epoch). */
export function emfMetadata(
  namespace: string,
  at: number,
  directives: ReadonlyArray<Omit<MetricDirective, 'Namespace'>>,
): { readonly _aws: EmfMetadata } {
  return { _aws: { Timestamp: at, CloudWatchMetrics: directives.map((directive) => ({ Namespace: namespace, ...directive })) } };
}
