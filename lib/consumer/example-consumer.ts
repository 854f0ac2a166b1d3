import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describeEvent, type JobEvent } from './event-schemas.ts';
import { type DatarefReader, processEvents } from './parse-record.ts';

/** Options of {@link createExampleConsumer}. */
export interface ExampleConsumerOptions {
  /** Where each event's line goes; defaults to stdout (CloudWatch Logs on Lambda). */
  readonly log?: (line: string) => void;
  /** Reads the object of an event too large for SQS (`dataref`); defaults to S3 `GetObject`. */
  readonly read?: DatarefReader;
}

/**
 * The example consumer: one JSON log line per event (with the sentence its sender's descriptor writes), whether the message carries the event or a
 * reference to it in the payload bucket; a record that is not an event fails alone.
 */
export function createExampleConsumer(options: ExampleConsumerOptions = {}): (event: SQSEvent) => Promise<SQSBatchResponse> {
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
