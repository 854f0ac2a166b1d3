import type { Context } from 'aws-lambda';
import { CALLBACK_METRICS, DIMENSIONS, SPOOL_METRICS } from '../metrics/catalogue.ts';
import { emfMetadata, type MetricsTarget, metricsTargetFrom } from '../metrics/emf.ts';
import { quarantineFromEnvironment } from '../queue/quarantine.ts';
import { queueFromEnvironment } from '../queue/send-event.ts';
import { bucketFromEnvironment } from './payload-bucket.ts';
import { type RedriveSummary, redriveSpool } from './spool.ts';

/** Time kept back from the function's timeout: no new send starts in it. */
const STOP_MARGIN_MS = 10_000;

/**
 * The log lines of one run, which CloudWatch Logs also reads as metrics (embedded metric format) in
 * `target`'s namespace: one line for the run, with `SpoolOldestAgeSeconds` (the spool-age alarm
 * watches it) and `SpoolLeft` (the spool's depth) under the dimension Service, and its count of
 * objects moved (`SpoolRedriven`, a log field) and why it stopped early; then, per sender whose
 * events or records it moved, a line with `Redriven` under Service and source. No metrics service is
 * called: the lines are the metrics.
 */
export function redriveMetricLines(summary: RedriveSummary, target: MetricsTarget, at: number): string[] {
  const { oldestAge, left } = SPOOL_METRICS;
  const { service, source } = DIMENSIONS;
  const { redriven } = CALLBACK_METRICS;
  const run = JSON.stringify({
    level: summary.stoppedBy ? 'warn' : 'info',
    message: 'spool redrive',
    [service]: target.service,
    [oldestAge.Name]: summary.oldestAgeSeconds,
    [left.Name]: summary.left,
    SpoolRedriven: summary.sent,
    ...(summary.stoppedBy && { stoppedBy: summary.stoppedBy }),
    ...emfMetadata(target.namespace, at, [{ Dimensions: [[service]], Metrics: [oldestAge, left] }]),
  });
  const bySource = Object.entries(summary.sentBySource).map(([name, count]) =>
    JSON.stringify({
      level: 'info',
      message: 'spool redrive',
      [service]: target.service,
      [source]: name,
      [redriven.Name]: count,
      ...emfMetadata(target.namespace, at, [{ Dimensions: [[service, source]], Metrics: [redriven] }]),
    }),
  );
  return [run, ...bySource];
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
    for (const line of redriveMetricLines(summary, metricsTargetFrom(process.env), Date.now())) write(line);
    return summary;
  };
}
