import * as v from 'valibot';
import { StepSchema } from '../../events/cloud-event.ts';
import { StatusSchema } from '../../events/status.ts';
import { commonData } from '../sender.ts';

/** A CI value as the event carries it: text (every leaf, as sent), a node, or a list (a repeatable node). */
export type CiValue = string | CiNode | CiValue[];
/** A CI node as received: its children by name. In the normalizer it inherits nothing (`decode/plain-data.ts`): every key is plain own data. */
export interface CiNode {
  [name: string]: CiValue;
}

/** A CI value (see {@link CiValue}); `events/tencent-ci.schema.json` says which nodes are lists. */
export const CiValueSchema: v.GenericSchema<CiValue> = v.union([
  v.string(),
  // Before the node: a record would also take an array (and make its items keys "0", "1", ...).
  v.array(v.lazy(() => CiValueSchema)),
  v.lazy(() => CiNodeSchema),
]);
/** A CI node as received (see {@link CiNode}). */
export const CiNodeSchema: v.GenericSchema<CiNode> = v.record(
  v.string(),
  v.lazy(() => CiValueSchema),
);

const text = v.optional(v.string());
const node = v.optional(CiNodeSchema);

/** One upload header of the input object, in order, whatever shape CI sent it in. */
const CosHeaderSchema = v.object({ key: v.string(), value: v.string() });

/** One moderation category (porn, terrorism, politics, ads, ...): whether it hit, and how strongly. */
const ModerationCategorySchema = v.looseObject({
  /** The category: CI's `PornInfo` / `porn_info` is `porn`. */
  name: v.string(),
  /** `HitFlag`: 0 not hit, 1 hit (sensitive), 2 suspicious (text). */
  hitFlag: v.optional(v.number()),
  /** `Score`, 0–100: how sure CI is. */
  score: v.optional(v.number()),
  label: text,
  subLabel: text,
  /** `Count`: how many snapshots or sections hit (video, audio, text). */
  count: v.optional(v.number()),
  /** The category's other nodes as received (`OcrResults`, `LibResults`, `Keywords`, ...). */
  detail: node,
});

/** One moderation category of an event. */
export type ModerationCategory = v.InferOutput<typeof ModerationCategorySchema>;

/** A moderation verdict: CI's numbers as numbers, in whichever form the callback came. */
const ModerationSchema = v.looseObject({
  /** 0 normal, 1 sensitive, 2 suspicious (CI's `Result`, or `Suggestion` for documents and web pages). */
  result: v.optional(v.number()),
  verdict: v.picklist(['normal', 'sensitive', 'suspicious', 'unknown']),
  label: text,
  subLabel: text,
  category: text,
  /** 0–100: how sure CI is. */
  score: v.optional(v.number()),
  forbidState: v.optional(v.number()),
  categories: v.array(ModerationCategorySchema),
});

/** What a job event says of one job (and `otherJobs` of each other job), each value once. */
const jobEntries = {
  jobId: text,
  tag: text,
  subTag: text,
  code: text,
  queueId: text,
  progress: text,
  /** Times in UTC (RFC 3339), or CI's text when it is not a time. */
  creationTime: text,
  startTime: text,
  endTime: text,
  /** The input object, bucket, region and upload headers, from wherever the job type puts them. */
  object: text,
  bucketId: text,
  region: text,
  cosHeaders: v.optional(v.array(CosHeaderSchema)),
  /** What else `Input` holds, as received. */
  input: node,
  /** `Operation.Output`, as received. */
  output: node,
  /** The rest of `Operation`, as received. */
  operation: node,
  /** The job's `Workflow` node (for a job a workflow started), without what was lifted. */
  workflow: node,
  /** Any other `JobsDetail` child, as received. */
  detail: node,
  /** Moderation: the URL or data id moderated, and the verdict. */
  url: text,
  dataId: text,
  moderation: v.optional(ModerationSchema),
};

/** Another job of the same callback: its fields, its own state, status and message. */
const OtherJobSchema = v.looseObject({ ...jobEntries, state: v.string(), status: StatusSchema, message: text });

/** A workflow task as a step: its job, status and CI's fields; `task` holds what else it carries. */
const CiStepSchema = v.looseObject({
  ...StepSchema.entries,
  type: text,
  name: text,
  createTime: text,
  startTime: text,
  endTime: text,
  task: node,
});

/**
 * The `data` of a Tencent CI event: `tencentci.job.finished` (a job's fields), `tencentci.workflow.finished`
 * (the run, its tasks as `steps`), `tencentci.moderation.result` (the verdict in `moderation`), or
 * `tencentci.event.unknown` (the body only in `raw`). `sourceStatus` is CI's `State` (or the simple
 * moderation form's `code`); every value CI sent is text, in one place.
 */
export const TencentCiEventDataSchema = v.looseObject({
  ...commonData,
  sourceStatus: v.string(),
  steps: v.optional(v.array(CiStepSchema)),
  /** `TaskFinish`, `WorkflowFinish`, `ReviewImage`, ... as CI named the callback (or the name inferred for the legacy form). */
  eventName: v.string(),
  /** True for the legacy form without `EventName`. */
  legacyFormat: v.boolean(),
  /** Moderation: `detail` or `simple`, the form CI sent (`X-Ci-Content-Version`). */
  form: v.optional(v.picklist(['detail', 'simple'])),
  ...jobEntries,
  otherJobs: v.optional(v.array(OtherJobSchema)),
  runId: text,
  workflowId: text,
  workflowName: text,
  createTime: text,
  /** The rest of `WorkflowExecution`, as received. */
  workflowExecution: node,
});

/** The `data` of a Tencent CI event, as the normalizers build it and consumers read it. */
export type TencentCiEventData = v.InferOutput<v.ObjectSchema<typeof TencentCiEventDataSchema.entries, undefined>>;
