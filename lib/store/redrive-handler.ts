import type { Context } from 'aws-lambda';
import { quarantineFromEnvironment } from '../queue/quarantine.ts';
import { queueFromEnvironment } from '../queue/send-event.ts';
import { bucketFromEnvironment } from './payload-bucket.ts';
import { type RedriveSummary, redriveSpool } from './spool.ts';

/**
 * What the redrive's log line reports. Only `oldestAge` is a CloudWatch metric (embedded metric
 * format; the spool-age alarm watches it): each custom metric costs a monthly fee, the other two
 * are log fields, found with Logs Insights when needed.
 */
export const SPOOL_METRICS = {
  /** Age of the oldest spooled object when the run started, in seconds. */
  oldestAge: 'SpoolOldestAgeSeconds',
  /** Objects moved to their queue by the run. */
  redriven: 'SpoolRedriven',
  /** Objects still spooled after the run. */
  left: 'SpoolLeft',
} as const;

/** Time kept back from the function's timeout: no new send starts in it. */
const STOP_MARGIN_MS = 10_000;

/**
 * The log line of one run: JSON that CloudWatch Logs turns into metrics (embedded metric format),
 * in the namespace `METRICS_NAMESPACE` with the dimension `Service` = `METRICS_SERVICE`. No
 * metrics service is called: the line is the metric.
 */
export function metricLine(summary: RedriveSummary, namespace: string, service: string, at: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [['Service']],
          Metrics: [{ Name: SPOOL_METRICS.oldestAge, Unit: 'Seconds' }],
        },
      ],
    },
    Service: service,
    level: summary.stoppedBy ? 'warn' : 'info',
    message: 'spool redrive',
    [SPOOL_METRICS.oldestAge]: summary.oldestAgeSeconds,
    [SPOOL_METRICS.redriven]: summary.sent,
    [SPOOL_METRICS.left]: summary.left,
    ...(summary.stoppedBy && { stoppedBy: summary.stoppedBy }),
  });
}

/**
 * The scheduled spool redrive (`functions/spool-redrive.ts`, every minute): one {@link redriveSpool}
 * run on the bucket, queues and quarantine named by the environment, stopping new sends
 * {@link STOP_MARGIN_MS} before the function's timeout, and one metric log line.
 */
export function createRedriveHandler(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {
  const bucket = bucketFromEnvironment();
  const events = queueFromEnvironment(bucket);
  const quarantine = quarantineFromEnvironment(bucket);
  return async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<RedriveSummary> => {
    if (!bucket) throw new Error('PAYLOAD_BUCKET is not set: there is no spool to redrive');
    const remaining = context?.getRemainingTimeInMillis() ?? 60_000;
    const summary = await redriveSpool({
      bucket,
      events,
      quarantine,
      stopAt: Date.now() + Math.max(0, remaining - STOP_MARGIN_MS),
      onUnreadable: (item, error) =>
        write(JSON.stringify({ level: 'error', message: 'spooled object cannot be sent; it stays', key: item.key, error: error.message })),
    });
    write(metricLine(summary, process.env.METRICS_NAMESPACE ?? 'jobhooks', process.env.METRICS_SERVICE ?? 'jobhooks', Date.now()));
    return summary;
  };
}
