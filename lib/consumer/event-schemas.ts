import * as v from 'valibot';
import { CloudEventSchema, EventDataSchema, EventReferenceSchema, StepSchema } from '../events/cloud-event.ts';
import { StatusSchema } from '../events/status.ts';

/*
 * The event a consumer receives, per source: the common CloudEvent of contract §3, narrowed by
 * `source`, with the `data` fields each source adds. `events/event.schema.json` is generated from
 * these (npm run schema). Objects stay open (`looseObject`): the project may add fields (contract:
 * it may add, never break), and the Tencent CI nodes (input, output, operation, ...) are described in
 * `events/tencent-ci.schema.json`.
 */

const envelope = CloudEventSchema.entries;
const common = EventDataSchema.entries;
const decimalId = v.pipe(v.string(), v.regex(/^-?\d{1,20}$/));

/** Data of a bk-job event: the job's status code and its steps, in order. */
export const BkJobEventDataSchema = v.looseObject({
  ...common,
  sourceStatus: v.pipe(v.number(), v.integer()),
  steps: v.array(StepSchema),
});

/** A BlueKing JOB event (`bkjob.job.finished`); `subject` is the `job_instance_id`. */
export const BkJobEventSchema = v.looseObject({
  ...envelope,
  source: v.literal('bk-job'),
  type: v.literal('bkjob.job.finished'),
  data: BkJobEventDataSchema,
});
/** A BlueKing JOB event. */
export type BkJobEvent = v.InferOutput<typeof BkJobEventSchema>;

const cosHeaders = v.array(v.object({ key: v.string(), value: v.string() }));

/** Data of a Tencent CI event; the nodes it carries as received are in `tencent-ci.schema.json`. */
export const TencentCiEventDataSchema = v.looseObject({
  ...common,
  sourceStatus: v.string(),
  eventName: v.string(),
  legacyFormat: v.boolean(),
  jobId: v.optional(v.string()),
  runId: v.optional(v.string()),
  tag: v.optional(v.string()),
  code: v.optional(v.string()),
  workflowId: v.optional(v.string()),
  workflowName: v.optional(v.string()),
  object: v.optional(v.string()),
  bucketId: v.optional(v.string()),
  region: v.optional(v.string()),
  cosHeaders: v.optional(cosHeaders),
  form: v.optional(v.picklist(['detail', 'simple'])),
  moderation: v.optional(
    v.looseObject({
      /** 0 normal, 1 sensitive, 2 suspicious (CI's `Result`, or `Suggestion` for documents and web pages). */
      result: v.optional(v.number()),
      verdict: v.picklist(['normal', 'sensitive', 'suspicious', 'unknown']),
      label: v.optional(v.string()),
      /** 0–100: how sure CI is. */
      score: v.optional(v.number()),
      forbidState: v.optional(v.number()),
      categories: v.array(
        v.looseObject({
          name: v.string(),
          hitFlag: v.optional(v.number()),
          score: v.optional(v.number()),
          count: v.optional(v.number()),
          label: v.optional(v.string()),
        }),
      ),
    }),
  ),
});

/**
 * A Tencent Cloud Infinite event: `tencentci.job.finished` (`subject` = JobId),
 * `tencentci.workflow.finished` (`subject` = RunId; also a run under way, `data.status` running),
 * `tencentci.moderation.result` (`subject` = JobId or trace_id; the verdict in `data.moderation`),
 * or `tencentci.event.unknown` (an EventName this project does not know; the body is in
 * `data.raw`).
 */
export const TencentCiEventSchema = v.looseObject({
  ...envelope,
  source: v.literal('tencent-ci'),
  type: v.picklist([
    'tencentci.job.finished',
    'tencentci.workflow.finished',
    'tencentci.moderation.result',
    'tencentci.event.unknown',
  ]),
  data: TencentCiEventDataSchema,
});
/** A Tencent Cloud Infinite event. */
export type TencentCiEvent = v.InferOutput<typeof TencentCiEventSchema>;

/** Data of a Thain event: which URL it came to, the flow, and (flow and job) the execution. */
export const ThainEventDataSchema = v.looseObject({
  ...common,
  status: StatusSchema,
  sourceStatus: v.pipe(v.number(), v.integer()),
  kind: v.picklist(['flow', 'job', 'modify']),
  flowId: decimalId,
  flowExecutionId: v.optional(decimalId),
  scheduling: v.optional(v.picklist(['paused', 'scheduling'])),
});

/**
 * A Xiaomi Thain event: `thain.flow.status` and `thain.job.status` (`subject` = flowExecutionId),
 * `thain.flow.modified` (`subject` = flowId). A job event names its job only through the labels of
 * the registered URL (`?job=etl-load` gives `data.labels.job`).
 */
export const ThainEventSchema = v.looseObject({
  ...envelope,
  source: v.literal('thain'),
  type: v.picklist(['thain.flow.status', 'thain.job.status', 'thain.flow.modified']),
  data: ThainEventDataSchema,
});
/** A Xiaomi Thain event. */
export type ThainEvent = v.InferOutput<typeof ThainEventSchema>;

/** Any event on the queue, told apart by `source`. */
export const JobEventSchema = v.variant('source', [BkJobEventSchema, TencentCiEventSchema, ThainEventSchema]);
/** Any event on the queue: narrow it with `switch (event.source)`. */
export type JobEvent = v.InferOutput<typeof JobEventSchema>;

/**
 * What an SQS message body of the events queue is: an event, or, for an event too large for one
 * message, its reference event (`dataref` names the object that holds the whole event; the consumer
 * helper resolves it, so handlers only ever see a {@link JobEvent}).
 */
export const QueueMessageSchema = v.union([JobEventSchema, EventReferenceSchema]);
