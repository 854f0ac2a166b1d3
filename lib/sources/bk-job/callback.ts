import * as v from 'valibot';
import { mapStatus, type Status } from '../../events/status.ts';
import type { SenderDraft } from '../sender.ts';
import { defineCallbacks, defineRoute } from '../source.ts';
import { bkJob } from './index.ts';

/**
 * bk-job `RunStatusEnum` (docs/senders/bk-job.md, Status), the same for jobs and steps. Choices the contract
 * leaves to us: 6 IGNORE_ERROR is a step that failed but whose error was ignored, so the job went
 * on: `succeeded`. 12 is not in the enum (only a doc's "force-terminate failed"): `unknown`.
 * 14 ABANDONED is a terminal state the job never finished in: `cancelled`.
 */
export const BK_JOB_STATUS: Readonly<Record<number, Status>> = {
  1: 'pending',
  2: 'running',
  3: 'succeeded',
  4: 'failed',
  5: 'skipped',
  6: 'succeeded',
  7: 'waiting',
  8: 'cancelled',
  9: 'failed',
  10: 'cancelling',
  11: 'cancelled',
  13: 'cancelled',
  14: 'cancelled',
  15: 'waiting',
};

/**
 * An id as bk-job sends it (a Java `long`): a JSON integer, or its exact digits when it is past 2^53
 * (the JSON decoder keeps those as text). Always read as the decimal string, never rounded.
 */
const IdSchema = v.union(
  [
    v.pipe(v.number(), v.safeInteger(), v.transform(String)),
    v.pipe(v.string(), v.regex(/^-?\d{1,20}$/, 'expected an integer id of 1 to 20 decimal digits')),
  ],
  'expected an integer id of 1 to 20 decimal digits',
);

/** A status code: an integer (a form body carries it as digits). Unknown values are kept. */
const StatusCodeSchema = v.union(
  [v.pipe(v.number(), v.safeInteger()), v.pipe(v.string(), v.regex(/^-?\d{1,9}$/, 'expected an integer status code'), v.transform(Number))],
  'expected an integer status code',
);

const StepInstanceSchema = v.object({
  step_instance_id: IdSchema,
  status: StatusCodeSchema,
});

/**
 * The bk-job job-finished callback (`JobCallbackDTO`), as bk-job really sends it.
 *
 * @see docs/senders/bk-job.md (the real key is `step_instances`; the docs' `step_instance_list` is
 *   accepted too)
 * @example {"job_instance_id":12345,"status":3,"step_instances":[{"step_instance_id":16271,"status":3}]}
 */
export const BkJobCallbackSchema = v.looseObject({
  job_instance_id: IdSchema,
  status: StatusCodeSchema,
  step_instances: v.optional(v.array(StepInstanceSchema)),
  step_instance_list: v.optional(v.array(StepInstanceSchema)),
});
/** A valid bk-job callback. */
export type BkJobCallback = v.InferOutput<typeof BkJobCallbackSchema>;

/**
 * The event of one bk-job callback: the job, its status and its steps in order. Pure: the same
 * callback always gives the same draft (the pipeline adds the receive time, labels and raw body).
 */
export function normalize(callback: BkJobCallback): SenderDraft<typeof bkJob> {
  const steps = callback.step_instances ?? callback.step_instance_list ?? [];
  return {
    type: 'bkjob.job.finished',
    subject: callback.job_instance_id,
    data: {
      status: mapStatus(BK_JOB_STATUS, callback.status),
      sourceStatus: callback.status,
      steps: steps.map((step) => ({
        id: step.step_instance_id,
        status: mapStatus(BK_JOB_STATUS, step.status),
        sourceStatus: step.status,
      })),
    },
  };
}

/** bk-job's parsers: its one route, on any path. */
export const callbacks = defineCallbacks(bkJob, {
  routes: { job: defineRoute({ what: 'bk-job callback', schema: BkJobCallbackSchema, normalize }) },
});
