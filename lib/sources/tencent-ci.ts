import * as v from 'valibot';
import { decodeXml } from '../decode/xml.ts';
import { InvalidPayloadError } from '../errors.ts';
import type { Step } from '../events/cloud-event.ts';
import { type Status, mapStatus } from '../events/status.ts';
import { toUtcRfc3339 } from '../events/time.ts';
import { type EventDraft, type Route, type Source, invalidPayload, singleRoute } from './source.ts';

/** CI `State` (contract §3); any other value is `unknown`. */
export const TENCENT_CI_STATUS: Readonly<Record<string, Status>> = {
  Submitted: 'pending',
  Running: 'running',
  Success: 'succeeded',
  Failed: 'failed',
  Pause: 'paused',
  Cancel: 'cancelled',
};

/** A CI callback after normalization: every leaf is text, every repeatable node a list. */
export type CiValue = string | CiNode | CiValue[];
/** An element of a CI callback. Null-prototype: every key is plain own data. */
export interface CiNode {
  [name: string]: CiValue;
}

/**
 * Nodes that can repeat, by the parents they repeat under (`*`: any), from the Go SDK's slice
 * fields (`ci_media.go`) and protocols.md §3.4-§3.7. A single one (an XML node that came once, a
 * JSON object where an array was expected) is read as a one-item list, so consumers see one shape.
 * `ObjectName` is a list only in an output file (in `Md5Info` it is one name); `Audio`, `Video` and
 * `Subtitle` are lists only in a media info `Stream`/`Subtitles`.
 */
const LIST_NODES: Readonly<Record<string, readonly string[] | '*'>> = {
  JobsDetail: [''],
  Tasks: ['WorkflowExecution'],
  CosHeaders: '*',
  Md5Info: '*',
  ObjectName: ['OutputFile', 'SpriteOutputFile'],
  StreamExtract: '*',
  PageInfo: '*',
  Audio: ['Stream'],
  Video: ['Stream'],
  Subtitle: ['Subtitles'],
  ObjectInfo: '*',
  SpriteObjectInfo: '*',
  ImageOcrResult: '*',
  Watermark: ['Operation'],
  WatermarkTemplateId: '*',
  WordsGeneralizeLable: '*',
  WordsGeneralizeToken: '*',
  TimeInfo: '*',
  ConcatFragment: '*',
  AudioMixArray: '*',
  Tags: '*',
  PersonTags: '*',
  PlaceTags: '*',
  ActionTags: '*',
  ObjectTags: '*',
  DetailPerSecond: '*',
  BBox: '*',
  Objects: ['ObjectTags'],
  ClipFrameResult: '*',
  DetailedResult: '*',
  Items: ['DetailedResult'],
  AreaCoordSet: '*',
};

function isListNode(parent: string, name: string): boolean {
  const parents = Object.hasOwn(LIST_NODES, name) ? LIST_NODES[name] : undefined;
  return parents === '*' || (parents?.includes(parent) ?? false);
}

function newNode(): CiNode {
  return Object.create(null);
}

/**
 * Brings a decoded body, XML or JSON, to one shape: a JSON number or boolean becomes its text (XML
 * leaves already are text; no text is ever turned into a number), `null` is `""` like XML's `<X/>`,
 * and a repeatable child is a list. Recursion is bounded: both decoders refuse nesting deeper than
 * `DECODE_LIMITS.maxDepth`.
 */
function normalize(value: unknown, name: string): CiValue {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (Array.isArray(value)) return value.map((item) => normalize(item, name));
  if (typeof value !== 'object' || value === null) return '';
  const node = newNode();
  for (const [key, item] of Object.entries(value)) node[key] = listed(name, key, normalize(item, key));
  return node;
}

/** A repeatable child as a list: one that came once is a one-item list, an empty one (`<X/>`) none. */
function listed(parent: string, name: string, value: CiValue): CiValue {
  if (!isListNode(parent, name) || Array.isArray(value)) return value;
  return value === '' ? [] : [value];
}

/** The own value of `key` on a decoded object, or undefined. */
function own(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key)
    ? Object.getOwnPropertyDescriptor(value, key)?.value
    : undefined;
}

const ENVELOPE_KEYS = ['EventName', 'JobsDetail', 'WorkflowExecution'] as const;

/**
 * The callback's content as one {@link CiNode}: XML's `<Response>` root and the JSON wrapper
 * `{"Response": {...}}` (one doc sample) are unwrapped, so both read like the bare JSON form.
 */
export function toCiTree(decoded: unknown): CiNode {
  const response = own(decoded, 'Response');
  const wrapped =
    typeof response === 'object' &&
    response !== null &&
    !Array.isArray(response) &&
    ENVELOPE_KEYS.every((key) => own(decoded, key) === undefined);
  const tree = normalize(wrapped ? response : decoded, '');
  if (typeof tree === 'string' || Array.isArray(tree)) {
    const line = `(body): expected an object, received ${Array.isArray(tree) ? 'an array' : 'text'}`;
    throw new InvalidPayloadError(`tencent-ci callback is not valid: ${line}`, [line]);
  }
  return tree;
}

const Text = v.optional(v.string());
const Id = v.pipe(v.string(), v.nonEmpty('expected a non-empty id'));

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
 * A Tencent CI job callback (`TaskFinish`, or the legacy form without `EventName`), after
 * {@link toCiTree}.
 *
 * @see https://cloud.tencent.com/document/product/436/85073 and protocols.md §3.3-§3.4
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
 * {@link toCiTree}.
 *
 * @see https://cloud.tencent.com/document/api/460/80039 and protocols.md §3.5
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
    CreateTime: Text,
    Tasks: v.optional(v.array(TaskSchema), []),
  }),
});
/** A valid CI workflow callback. */
export type CiWorkflowFinish = v.InferOutput<typeof CiWorkflowFinishSchema>;

const EnvelopeSchema = v.object({ EventName: Text });

const WHAT = 'tencent-ci callback';

function parse<const S extends v.GenericSchema>(schema: S, tree: CiNode): v.InferOutput<S> {
  const result = v.safeParse(schema, tree);
  if (!result.success) throw invalidPayload(WHAT, result.issues);
  return result.output;
}

function asNode(value: CiValue | undefined): CiNode | undefined {
  return typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

function asList(value: CiValue | undefined): CiValue[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function asText(value: CiValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A copy of a node without the children that the event lifts out into their own fields. */
function without(node: CiNode | undefined, ...names: string[]): CiNode | undefined {
  if (!node) return undefined;
  const copy = newNode();
  for (const [key, value] of Object.entries(node)) if (!names.includes(key)) copy[key] = value;
  return copy;
}

/** `CosHeaders` as `{key, value}` pairs, in order; an empty node is skipped. */
function cosHeadersOf(value: CiValue | undefined): { key: string; value: string }[] {
  return asList(value).flatMap((item) => {
    const header = asNode(item);
    return header ? [{ key: asText(header.Key) ?? '', value: asText(header.Value) ?? '' }] : [];
  });
}

/** A CI time in UTC (RFC 3339), or the text as received when it is not a time. */
function utc(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : (toUtcRfc3339(text) ?? text);
}

function ciStatus(state: string | undefined): Status {
  return state === undefined ? 'unknown' : mapStatus(TENCENT_CI_STATUS, state);
}

/** What a consumer needs of one job: ids, tag, code, times in UTC, input, output, operation. */
function jobData(job: CiTaskFinish['JobsDetail'][number], node: CiNode | undefined) {
  const input = asNode(node?.Input);
  const operation = asNode(node?.Operation);
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
    input: without(input, 'CosHeaders'),
    output: asNode(operation?.Output),
    operation,
    // The docs show one Workflow node; the Go SDK models a list: the first is the one.
    workflow: asNode(asList(node?.Workflow)[0]),
    cosHeaders: cosHeadersOf(input?.CosHeaders),
  };
}

/**
 * `TaskFinish`: one job finished. The contract is one event per callback; every sample carries one
 * job, but the Go SDK also models a list. With several, the event describes the first job
 * (subject, status, fields) and `data.jobs` holds every job, each with its own status.
 */
function jobDraft(tree: CiNode, eventName: string, legacyFormat: boolean): EventDraft {
  const callback = parse(CiTaskFinishSchema, tree);
  const nodes = asList(tree.JobsDetail).map(asNode);
  const jobs = callback.JobsDetail.map((job, index) => ({
    ...jobData(job, nodes[index]),
    state: job.State,
    status: ciStatus(job.State),
    message: job.Message,
  }));
  const [first] = callback.JobsDetail;
  if (!first) throw new Error('unreachable: the schema requires one job');
  return {
    type: 'tencentci.job.finished',
    subject: first.JobId,
    time: toUtcRfc3339(first.EndTime),
    status: ciStatus(first.State),
    sourceStatus: first.State,
    message: first.Message || undefined,
    extra: {
      eventName,
      legacyFormat,
      ...jobData(first, nodes[0]),
      ...(jobs.length > 1 && { jobs }),
    },
  };
}

/** `WorkflowFinish`: one workflow instance (RunId) finished; its tasks become `data.steps`. */
function workflowDraft(tree: CiNode, eventName: string, legacyFormat: boolean): EventDraft {
  const { WorkflowExecution: execution } = parse(CiWorkflowFinishSchema, tree);
  const node = asNode(tree.WorkflowExecution);
  const taskNodes = asList(node?.Tasks).map(asNode);
  const steps: Step[] = execution.Tasks.map((task, index) => ({
    id: task.JobId ?? '',
    status: ciStatus(task.State),
    sourceStatus: task.State ?? '',
    type: task.Type,
    name: task.Name,
    createTime: utc(task.CreateTime),
    startTime: utc(task.StartTime),
    endTime: utc(task.EndTime),
    task: taskNodes[index],
  }));
  // The workflow ended when its last task did; CreateTime only when no task says when.
  const ends = execution.Tasks.flatMap((task) => toUtcRfc3339(task.EndTime) ?? []).sort();
  return {
    type: 'tencentci.workflow.finished',
    subject: execution.RunId,
    time: ends.at(-1) ?? toUtcRfc3339(execution.CreateTime),
    status: ciStatus(execution.State),
    sourceStatus: execution.State,
    steps,
    extra: {
      eventName,
      legacyFormat,
      runId: execution.RunId,
      workflowId: execution.WorkflowId,
      workflowName: execution.WorkflowName,
      bucketId: execution.BucketId,
      object: execution.Object,
      createTime: utc(execution.CreateTime),
      cosHeaders: cosHeadersOf(node?.CosHeaders),
      workflowExecution: without(node, 'Tasks', 'CosHeaders'),
    },
  };
}

/**
 * An `EventName` this project does not know (none is documented besides the two): accepted, never
 * rejected, as `tencentci.event.unknown` with the real name in `data.eventName` and the whole
 * callback in `data.body`. Its subject is the first JobId or RunId it carries, else the name.
 */
function unknownDraft(tree: CiNode, eventName: string): EventDraft {
  const job = asNode(asList(tree.JobsDetail)[0]);
  const execution = asNode(tree.WorkflowExecution);
  const jobId = asText(job?.JobId) || undefined;
  const runId = asText(execution?.RunId) || undefined;
  const state = asText(job?.State) ?? asText(execution?.State);
  return {
    type: 'tencentci.event.unknown',
    subject: jobId ?? runId ?? eventName,
    time: toUtcRfc3339(asText(job?.EndTime)) ?? toUtcRfc3339(asText(execution?.CreateTime)),
    status: ciStatus(state),
    sourceStatus: state ?? '',
    extra: { eventName, legacyFormat: false, jobId, runId, body: tree },
    // Nothing else is known of it: two such callbacks are told apart by all they carry.
    identity: tree,
  };
}

const tencentCiRoute: Route = {
  toDraft(decoded) {
    const tree = toCiTree(decoded);
    // An empty <EventName/> says nothing: read it like the legacy form without one.
    const named = parse(EnvelopeSchema, tree).EventName || undefined;
    const eventName =
      named ??
      (tree.JobsDetail !== undefined
        ? 'TaskFinish'
        : tree.WorkflowExecution !== undefined
          ? 'WorkflowFinish'
          : undefined);
    if (eventName === undefined) {
      const line = '(body): expected EventName, JobsDetail or WorkflowExecution';
      throw new InvalidPayloadError(`${WHAT} is not valid: ${line}`, [line]);
    }
    if (eventName === 'TaskFinish') return jobDraft(tree, eventName, named === undefined);
    if (eventName === 'WorkflowFinish') return workflowDraft(tree, eventName, named === undefined);
    return unknownDraft(tree, eventName);
  },
};

/**
 * Tencent Cloud Infinite (数据万象): job (`TaskFinish`) and workflow (`WorkflowFinish`) callbacks,
 * in XML or JSON (protocols.md §3). The XML decoder is passed here so that fast-xml-parser is
 * bundled into this function alone.
 */
export const tencentCi = {
  name: 'tencent-ci',
  decoders: { formats: ['json', 'xml'], xml: decodeXml },
  route: singleRoute(tencentCiRoute),
} as const satisfies Source;
