import { emfMetadata, type MetricDefinition, type MetricsTarget } from './emf.ts';

/**
 * The project's CloudWatch metrics, said once: the callback functions' request log lines and the
 * spool redrive's lines carry them (embedded metric format, `emf.ts`), and the dashboard, the
 * per-sender format-change alarms (`infra/build/observability.mjs`) and `npm start`'s counters
 * (`infra/local/metric-counters.ts`) read them by these names.
 */

/** The dimensions, by the names of the log line's members that hold their values. */
export const DIMENSIONS = {
  /** `jobhooks-<stage>` (`METRICS_SERVICE`), on every metric. */
  service: 'Service',
  /** The sender (`bk-job`): the registry's names. */
  source: 'source',
  /** The event type of an accepted callback (`bkjob.job.finished`): the senders' declared types. */
  type: 'type',
  /** How the callback was answered: one of {@link OUTCOMES}. */
  outcome: 'outcome',
} as const;

/**
 * Per callback, each under the dimensions Service and source. `Callbacks` is also published per
 * outcome (Service, source, outcome) and, for an accepted callback, per event type (Service, source,
 * type). A count is written only when it is 1, so a sum over a period counts the callbacks.
 */
export const CALLBACK_METRICS = {
  /** 1 for every request a callback function answered, whatever the answer. */
  callbacks: { Name: 'Callbacks', Unit: 'Count' },
  /** From the request reaching the handler to its answer, in ms: what the sender waits for. */
  answerTime: { Name: 'AnswerTime', Unit: 'Milliseconds' },
  /** The request body's bytes, as received (base64 decoded). */
  bodyBytes: { Name: 'BodyBytes', Unit: 'Bytes' },
  /** 1 when the callback was kept in the quarantine (a 400, 413 or 422 after the token check, or a 500). */
  quarantined: { Name: 'Quarantined', Unit: 'Count' },
  /** 1 when the event was too large for one SQS message and travelled by reference (`dataref`), the whole event in the bucket. */
  claimChecked: { Name: 'ClaimChecked', Unit: 'Count' },
  /** 1 when SQS did not take the event (or quarantine record) in time and the spool did. */
  spooled: { Name: 'Spooled', Unit: 'Count' },
  /** Written by the spool redrive: spooled events and records it moved to their queue (per run and source). */
  redriven: { Name: 'Redriven', Unit: 'Count' },
} as const satisfies Record<string, MetricDefinition>;

/** Written by the spool redrive once a minute, under the dimension Service alone. */
export const SPOOL_METRICS = {
  /** Age of the oldest spooled object when the run started, in seconds (0: the spool was empty); the spool-age alarm watches it. */
  oldestAge: { Name: 'SpoolOldestAgeSeconds', Unit: 'Seconds' },
  /** Objects still spooled when the run ended: the spool's depth. */
  left: { Name: 'SpoolLeft', Unit: 'Count' },
} as const satisfies Record<string, MetricDefinition>;

/** Every status a callback function answers with (`lib/errors.ts` and the 200). */
export const ANSWER_STATUSES = [200, 400, 401, 403, 404, 405, 413, 422, 500, 503] as const;

/** An answer, in the words the `outcome` dimension uses. */
export type Outcome = 'accepted' | `refused-${string}` | `failed-${string}`;

/**
 * The `outcome` of an answer: `accepted` (200, the event is durable), `refused-<status>` (a 4xx: the
 * sender's request was wrong) or `failed-<status>` (a 5xx: ours). A status outside
 * {@link ANSWER_STATUSES} is `refused-other` or `failed-other`, so the dimension keeps its short list.
 */
export function outcomeOf(status: number): Outcome {
  if (status === 200) return 'accepted';
  const code = ANSWER_STATUSES.some((known) => known === status) ? String(status) : 'other';
  return status < 500 ? `refused-${code}` : `failed-${code}`;
}

/** Every outcome, in the order of {@link ANSWER_STATUSES}. */
export const OUTCOMES: readonly Outcome[] = ANSWER_STATUSES.map(outcomeOf);

/**
 * What the format-change alarm weighs: of the callbacks whose body was read (accepted, or refused as
 * unreadable or invalid), the share refused as unreadable (400) or invalid (422). Requests refused
 * before their body is read (a wrong token, an address outside the allowlist) count for neither.
 */
export const FORMAT_CHANGE = {
  refused: ['refused-400', 'refused-422'],
  read: ['accepted', 'refused-400', 'refused-422'],
} as const satisfies Record<string, readonly Outcome[]>;

/** What one request did, as its metrics count it. */
export interface CallbackFacts {
  readonly status: number;
  /** The event type, when an event was accepted. */
  readonly type?: string | undefined;
  readonly ms: number;
  readonly bodyBytes: number;
  readonly quarantined?: boolean | undefined;
  readonly claimChecked?: boolean | undefined;
  readonly spooled?: boolean | undefined;
}

/**
 * The members a request log line adds to become its metrics (embedded metric format): the outcome
 * and Service dimensions, one member per metric value, and `_aws`. The line's own `source` (and
 * `type`) are the other dimensions.
 */
export function callbackMetricMembers(facts: CallbackFacts, target: MetricsTarget, at: number) {
  const { callbacks, answerTime, bodyBytes, quarantined, claimChecked, spooled } = CALLBACK_METRICS;
  const counted = [
    ...(facts.quarantined ? [quarantined] : []),
    ...(facts.claimChecked ? [claimChecked] : []),
    ...(facts.spooled ? [spooled] : []),
  ];
  const { service, source, type, outcome } = DIMENSIONS;
  return {
    [outcome]: outcomeOf(facts.status),
    [service]: target.service,
    [callbacks.Name]: 1,
    [answerTime.Name]: facts.ms,
    [bodyBytes.Name]: facts.bodyBytes,
    ...Object.fromEntries(counted.map((metric) => [metric.Name, 1])),
    ...emfMetadata(target.namespace, at, [
      { Dimensions: [[service, source]], Metrics: [callbacks, answerTime, bodyBytes, ...counted] },
      {
        Dimensions: [[service, source, outcome], ...(facts.type === undefined ? [] : [[service, source, type]])],
        Metrics: [callbacks],
      },
    ]),
  };
}
