import * as v from 'valibot';
import { StepSchema } from '../../events/cloud-event.ts';
import { commonData } from '../sender.ts';

/**
 * The `data` of a bk-job event (`bkjob.job.finished`): the job's status code (`sourceStatus`, bk-job's
 * `RunStatusEnum` value) and every step of the job, in order, each with its id and status.
 */
export const BkJobEventDataSchema = v.looseObject({
  ...commonData,
  sourceStatus: v.pipe(v.number(), v.integer()),
  steps: v.array(StepSchema),
});

/** The `data` of a bk-job event, as the normalizer builds it and consumers read it. */
export type BkJobEventData = v.InferOutput<v.ObjectSchema<typeof BkJobEventDataSchema.entries, undefined>>;
