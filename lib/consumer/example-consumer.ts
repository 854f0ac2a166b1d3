import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { JobEvent } from './event-schemas.ts';
import { type DatarefReader, processEvents } from './parse-record.ts';

/**
 * What the example consumer makes of an event: one sentence. Shows how to branch on `source`
 * (which narrows `data`), `type` and `data.status`; a real consumer would act here instead.
 */
export function describeEvent(event: JobEvent): string {
  const { status, terminal, labels } = event.data;
  const outcome = terminal ? `ended ${status}` : `is ${status}`;
  switch (event.source) {
    case 'bk-job': {
      const failedStep = event.data.steps.find((step) => step.status === 'failed');
      return `bk-job job ${event.subject} ${outcome}${failedStep ? ` (step ${failedStep.id} failed)` : ''}`;
    }
    case 'tencent-ci':
      if (event.type === 'tencentci.workflow.finished') {
        return `CI workflow ${event.data.workflowName ?? event.data.workflowId ?? ''} run ${event.subject} ${outcome}`;
      }
      if (event.type === 'tencentci.moderation.result' && event.data.moderation) {
        // The verdict is what a moderation consumer acts on: 1 sensitive, 2 suspicious (hold for review).
        const { verdict, label } = event.data.moderation;
        return `CI moderation ${event.data.eventName} job ${event.subject} ${outcome}: ${verdict}${label ? ` (${label})` : ''}`;
      }
      return `CI ${event.data.tag ?? event.data.eventName} job ${event.subject} ${outcome}${event.data.message ? `: ${event.data.message}` : ''}`;
    case 'thain':
      if (event.type === 'thain.flow.modified') return `Thain flow ${event.subject} ${status}`;
      // A Thain job callback names no job: the label of the registered URL does (`?job=...`).
      return `Thain ${event.data.kind} ${labels.job ?? ''} of flow ${event.data.flowId} execution ${event.subject} ${outcome}`
        .replace(/\s+/g, ' ');
  }
}

/** Options of {@link createExampleConsumer}. */
export interface ExampleConsumerOptions {
  /** Where each event's line goes; defaults to stdout (CloudWatch Logs on Lambda). */
  readonly log?: (line: string) => void;
  /** Reads the object of an event too large for SQS (`dataref`); defaults to S3 `GetObject`. */
  readonly read?: DatarefReader;
}

/**
 * The example consumer: one JSON log line per event, whether the message carries the event or a
 * reference to it in the payload bucket; a record that is not an event fails alone.
 */
export function createExampleConsumer(
  options: ExampleConsumerOptions = {},
): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const handle = async (event: JobEvent): Promise<void> => {
    log(
      JSON.stringify({
        id: event.id,
        source: event.source,
        type: event.type,
        subject: event.subject,
        status: event.data.status,
        said: describeEvent(event),
      }),
    );
  };
  return (batch) => processEvents(batch, handle, options.read ? { read: options.read } : {});
}
