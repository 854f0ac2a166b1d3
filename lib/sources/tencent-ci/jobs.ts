import * as v from 'valibot';
import { toUtcRfc3339 } from '../../events/time.ts';
import type { SenderDraft } from '../sender.ts';
import type { CiNode, CiValue } from './event.ts';
import type { tencentCi } from './index.ts';
import { ciStatus, utc } from './status.ts';
import { asList, asNode, asText, cosHeadersOf, Id, isNode, isText, parse, split, Text, withChild } from './tree.ts';

/** What a CI normalizer returns: one of CI's event types, and the CI event data consumers get. */
export type CiDraft = SenderDraft<typeof tencentCi>;

/** The fields of a `JobsDetail` that the event relies on; the rest is carried as received. */
const JobDetailSchema = v.object({
  JobId: Id,
  State: v.string(),
  Tag: Text,
  SubTag: Text,
  Code: Text,
  Message: Text,
  Progress: Text,
  CreationTime: Text,
  StartTime: Text,
  EndTime: Text,
  QueueId: Text,
});

/**
 * A Tencent CI job callback (`TaskFinish`, or the legacy form without `EventName`), after the tree
 * is shaped (`JobsDetail` is a list).
 *
 * @see https://cloud.tencent.com/document/product/436/85073 (one page per job type)
 * @example <Response><EventName>TaskFinish</EventName><JobsDetail><Code>Success</Code><JobId>j07f…</JobId><State>Success</State><Tag>Concat</Tag>…</JobsDetail></Response>
 */
export const CiTaskFinishSchema = v.object({
  EventName: Text,
  JobsDetail: v.pipe(v.array(JobDetailSchema), v.minLength(1, 'expected at least one job')),
});
/** A valid CI job callback. */
export type CiTaskFinish = v.InferOutput<typeof CiTaskFinishSchema>;

const TaskSchema = v.object({
  JobId: Text,
  State: Text,
  Type: Text,
  Name: Text,
  CreateTime: Text,
  StartTime: Text,
  EndTime: Text,
});

/**
 * A Tencent CI workflow callback (`WorkflowFinish`, or the legacy form without `EventName`), after
 * the tree is shaped. CI also sends it while a run is under way (`State` `Running`).
 *
 * @see https://cloud.tencent.com/document/api/460/80039
 * @example {"EventName":"WorkflowFinish","WorkflowExecution":{"RunId":"i166e…","State":"Success","CreateTime":"2024-03-16 14:54:17+0800","Tasks":[{"Type":"Snapshot","JobId":"j23c…","State":"Success",…}]}}
 */
export const CiWorkflowFinishSchema = v.object({
  EventName: Text,
  WorkflowExecution: v.object({
    RunId: Id,
    State: v.string(),
    WorkflowId: Text,
    WorkflowName: Text,
    BucketId: Text,
    Object: Text,
    Region: Text,
    CreateTime: Text,
    Tasks: v.optional(v.array(TaskSchema), []),
  }),
});
/** A valid CI workflow callback. */
export type CiWorkflowFinish = v.InferOutput<typeof CiWorkflowFinishSchema>;

/** The `JobsDetail` children a job event lifts into its own fields. */
const JOB_FIELDS = [
  'Code',
  'Message',
  'JobId',
  'Tag',
  'SubTag',
  'Progress',
  'State',
  'CreationTime',
  'StartTime',
  'EndTime',
  'QueueId',
  'Input',
  'Operation',
  'Workflow',
] as const;

/**
 * The input object (key, bucket, region) and its upload headers, from wherever the job type puts
 * them: `JobsDetail.Input` (media, document and file jobs), else `JobsDetail.Operation.Input` (Tts
 * and other audio jobs), else the job's `Workflow`. Each is taken from the first of these nodes that
 * has it and removed there, so it is in the event once; what is left of each node is returned in the
 * same order. The bucket is `BucketId`, or `Bucket` where the input names it so (file jobs).
 */
function inputOf(nodes: readonly (CiNode | undefined)[]) {
  const found: Partial<Record<'Object' | 'Region' | 'CosHeaders' | 'Bucket', CiValue>> = {};
  const rests = nodes.map((node) => {
    const bucketName = node?.BucketId !== undefined ? 'BucketId' : 'Bucket';
    const texts = (['Object', 'Region'] as const).filter((name) => found[name] === undefined);
    const headers = split(node, found.CosHeaders === undefined ? ['CosHeaders'] : []);
    const { picked, rest } = split(headers.rest, found.Bucket === undefined ? [...texts, bucketName] : texts, isText);
    const { BucketId, Bucket, ...others } = { ...headers.picked, ...picked };
    Object.assign(found, others);
    const bucket = BucketId ?? Bucket;
    if (bucket !== undefined) found.Bucket ??= bucket;
    return rest;
  });
  return {
    located: {
      object: asText(found.Object),
      bucketId: asText(found.Bucket),
      region: asText(found.Region),
      cosHeaders: cosHeadersOf(found.CosHeaders),
    },
    rests,
  };
}

/**
 * What a consumer needs of one job, each value once: ids, tag, code, times in UTC, the input object
 * with its headers (see {@link inputOf}), `input` (what else `Input` holds), `output`
 * (`Operation.Output`), `operation` (the rest of `Operation`), `workflow` and `detail` (any other
 * `JobsDetail` child, as received).
 */
function jobFields(job: CiTaskFinish['JobsDetail'][number], node: CiNode | undefined) {
  const { picked, rest: detail } = split(node, JOB_FIELDS);
  const operation = split(asNode(picked.Operation), ['Output'], isNode);
  // The docs show one Workflow node; the Go SDK models a list: the first is the job's.
  const [workflow, ...otherWorkflows] = asList(picked.Workflow);
  const { located, rests } = inputOf([asNode(picked.Input), asNode(operation.rest?.Input), asNode(workflow)]);
  const [input, operationInput, workflowRest] = rests;
  return {
    jobId: job.JobId,
    tag: job.Tag,
    subTag: job.SubTag,
    code: job.Code,
    queueId: job.QueueId,
    progress: job.Progress,
    creationTime: utc(job.CreationTime),
    startTime: utc(job.StartTime),
    endTime: utc(job.EndTime),
    ...located,
    input,
    output: asNode(operation.picked.Output),
    operation: withChild(operation.rest, 'Input', operationInput),
    workflow: workflowRest,
    detail: otherWorkflows.length > 0 ? withChild(detail, 'Workflow', otherWorkflows) : detail,
  };
}

/**
 * The jobs of a callback's `JobsDetail`: the first, which the event describes (`fields` of it are
 * the event's own), and the others, each as `fields` plus its own state, status and message. The
 * contract is one event per callback; every sample carries one job, but the Go SDK also models a list.
 */
export function jobsOf<J extends { readonly State: string; readonly Message?: string | undefined }, F extends object>(
  tree: CiNode,
  jobs: readonly J[],
  fields: (job: J, node: CiNode | undefined) => F,
) {
  const nodes = asList(tree.JobsDetail).map(asNode);
  const [first, ...others] = jobs.map((job, index) => ({ job, node: nodes[index] }));
  if (!first) throw new Error('unreachable: the schema requires one job');
  const otherJobs = others.map(({ job, node }) => ({
    ...fields(job, node),
    state: job.State,
    status: ciStatus(job.State),
    message: job.Message || undefined,
  }));
  return {
    first: first.job,
    fields: fields(first.job, first.node),
    ...(otherJobs.length > 0 && { otherJobs }),
  };
}

/**
 * `TaskFinish`: one job finished. With several jobs in one callback, the event describes the first
 * (subject, status, fields) and `data.otherJobs` holds the others.
 */
export function jobDraft(tree: CiNode, eventName: string, legacyFormat: boolean): CiDraft {
  const { first, fields, otherJobs } = jobsOf(tree, parse(CiTaskFinishSchema, tree).JobsDetail, jobFields);
  return {
    type: 'tencentci.job.finished',
    subject: first.JobId,
    time: toUtcRfc3339(first.EndTime),
    data: {
      status: ciStatus(first.State),
      sourceStatus: first.State,
      message: first.Message || undefined,
      eventName,
      legacyFormat,
      ...fields,
      otherJobs,
    },
  };
}

/** The `WorkflowExecution` children a workflow event lifts into its own fields. */
const WORKFLOW_FIELDS = [
  'RunId',
  'WorkflowId',
  'WorkflowName',
  'BucketId',
  'Object',
  'Region',
  'CreateTime',
  'State',
  'CosHeaders',
  'Tasks',
] as const;

/** The task children a step lifts into its own fields. */
const TASK_FIELDS = ['JobId', 'State', 'Type', 'Name', 'CreateTime', 'StartTime', 'EndTime'] as const;

/**
 * `WorkflowFinish`: a workflow run (RunId) ended, or, with a non-terminal `State` (`Running`), is
 * under way; its tasks become `data.steps`. The type stays `tencentci.workflow.finished` whatever
 * the state: `data.status` and `data.terminal` say where the run is.
 */
export function workflowDraft(tree: CiNode, eventName: string, legacyFormat: boolean): CiDraft {
  const { WorkflowExecution: execution } = parse(CiWorkflowFinishSchema, tree);
  const { picked, rest } = split(asNode(tree.WorkflowExecution), WORKFLOW_FIELDS);
  const taskNodes = asList(picked.Tasks).map(asNode);
  const steps = execution.Tasks.map((task, index) => ({
    id: task.JobId ?? '',
    status: ciStatus(task.State),
    sourceStatus: task.State ?? '',
    type: task.Type,
    name: task.Name,
    createTime: utc(task.CreateTime),
    startTime: utc(task.StartTime),
    endTime: utc(task.EndTime),
    task: split(taskNodes[index], TASK_FIELDS).rest,
  }));
  // The run ended when its last task did; CreateTime only when no task says when.
  const ends = execution.Tasks.flatMap((task) => toUtcRfc3339(task.EndTime) ?? []).sort();
  return {
    type: 'tencentci.workflow.finished',
    subject: execution.RunId,
    time: ends.at(-1) ?? toUtcRfc3339(execution.CreateTime),
    data: {
      status: ciStatus(execution.State),
      sourceStatus: execution.State,
      steps,
      eventName,
      legacyFormat,
      runId: execution.RunId,
      workflowId: execution.WorkflowId,
      workflowName: execution.WorkflowName,
      object: execution.Object,
      bucketId: execution.BucketId,
      region: execution.Region,
      createTime: utc(execution.CreateTime),
      cosHeaders: cosHeadersOf(picked.CosHeaders),
      workflowExecution: rest,
    },
  };
}
