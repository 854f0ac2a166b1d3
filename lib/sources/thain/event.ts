import * as v from 'valibot';
import { StatusSchema } from '../../events/status.ts';
import { commonData } from '../sender.ts';

const decimalId = v.pipe(v.string(), v.regex(/^-?\d{1,20}$/));

/**
 * The `data` of a Thain event: which URL it came to (`kind`), the flow, and for flow and job
 * callbacks the flow execution. `sourceStatus` is Thain's code, whose meaning depends on `kind`.
 */
export const ThainEventDataSchema = v.looseObject({
  ...commonData,
  status: StatusSchema,
  sourceStatus: v.pipe(v.number(), v.integer()),
  kind: v.picklist(['flow', 'job', 'modify']),
  flowId: decimalId,
  flowExecutionId: v.optional(decimalId),
  /** Modify callbacks: what happened to the flow's schedule, as Thain names the state. */
  scheduling: v.optional(v.picklist(['paused', 'scheduling'])),
});

/** The `data` of a Thain event, as the normalizer builds it and consumers read it. */
export type ThainEventData = v.InferOutput<v.ObjectSchema<typeof ThainEventDataSchema.entries, undefined>>;
