import * as v from 'valibot';
import { toUtcRfc3339 } from '../../events/time.ts';
import type { CiNode, ModerationCategory } from './event.ts';
import { type CiDraft, jobsOf } from './jobs.ts';
import { ciStatus, utc } from './status.ts';
import { asNode, asText, cosHeadersOf, Id, newNode, parse, split, Text, withChild } from './tree.ts';

/** A moderation verdict in words; `unknown` for a value CI does not document. */
export type Verdict = 'normal' | 'sensitive' | 'suspicious' | 'unknown';

/** What CI's verdict (`Result`, or `Suggestion` for documents and web pages) says, in words. */
export const VERDICTS: Readonly<Record<string, Verdict>> = { '0': 'normal', '1': 'sensitive', '2': 'suspicious' };

function verdictOf(result: string | undefined): Verdict {
  return (result !== undefined && Object.hasOwn(VERDICTS, result) && VERDICTS[result]) || 'unknown';
}

/**
 * A number CI sends as a number in moderation JSON and as text in XML (a verdict, a score 0–100, a
 * hit flag, a count): a number in the event, so that consumers compare `result === 1` whichever form
 * came. Text that is not a decimal number is left out here (the body in `data.raw` keeps it).
 */
function numberOf(text: string | undefined): number | undefined {
  return text !== undefined && /^-?\d{1,15}(\.\d{1,15})?$/.test(text) ? Number(text) : undefined;
}

/** How one form of the callback names a category's fields. */
interface CategoryNames {
  readonly suffix: string;
  readonly fields: {
    readonly hitFlag: string;
    readonly score: string;
    readonly label: string;
    readonly subLabel: string;
    readonly count: string;
  };
}

const DETAIL_NAMES: CategoryNames = {
  suffix: 'Info',
  fields: { hitFlag: 'HitFlag', score: 'Score', label: 'Label', subLabel: 'SubLabel', count: 'Count' },
};
const SIMPLE_NAMES: CategoryNames = {
  suffix: '_info',
  fields: { hitFlag: 'hit_flag', score: 'score', label: 'label', subLabel: 'sub_label', count: 'count' },
};

/**
 * The categories among a node's children: each `<name>Info` (`<name>_info` in the simple form) node
 * that has a hit flag. Other `…Info` nodes (`UserInfo`, `ListInfo`, `MaskInfo`) are not categories.
 * Returns them and the node without them.
 */
function categoriesOf(node: CiNode | undefined, names: CategoryNames) {
  const categories: ModerationCategory[] = [];
  const rest = newNode();
  let kept = false;
  for (const [key, value] of Object.entries(node ?? {})) {
    const info = asNode(value);
    if (key.endsWith(names.suffix) && key.length > names.suffix.length && info && Object.hasOwn(info, names.fields.hitFlag)) {
      const f = names.fields;
      const { picked, rest: detail } = split(info, [f.hitFlag, f.score, f.label, f.subLabel, f.count]);
      categories.push({
        name: key.slice(0, -names.suffix.length).toLowerCase(),
        hitFlag: numberOf(asText(picked[f.hitFlag])),
        score: numberOf(asText(picked[f.score])),
        label: asText(picked[f.label]),
        subLabel: asText(picked[f.subLabel]),
        count: numberOf(asText(picked[f.count])),
        detail,
      });
    } else {
      rest[key] = value;
      kept = true;
    }
  }
  return { categories, rest: kept ? rest : undefined };
}

const ModerationJobSchema = v.object({
  JobId: Id,
  State: v.string(),
  Code: Text,
  Message: Text,
  CreationTime: Text,
  Object: Text,
  Url: Text,
  DataId: Text,
  BucketId: Text,
  Region: Text,
  Label: Text,
  SubLabel: Text,
  Category: Text,
  Result: Text,
  Suggestion: Text,
  Score: Text,
  ForbidState: Text,
});

/**
 * A content-moderation callback in its detailed form (`X-Ci-Content-Version: Detail`): `EventName`
 * `ReviewImage`, `ReviewVideo` (also live streams), `ReviewAudio`, `ReviewText`, `ReviewDocument`
 * or `ReviewHtml`, and one `JobsDetail` as the job query API returns it, in JSON with real numbers.
 *
 * @see https://cloud.tencent.com/document/product/460/46926 and the "callback content" page of each kind
 * @example {"EventName":"ReviewVideo","JobsDetail":{"JobId":"av…","State":"Success","CreationTime":"2024-03-18T10:21:07+0800","Object":"a.mp4","Label":"Porn","Result":1,"PornInfo":{"HitFlag":1,"Score":98,…},"Snapshot":[…]}}
 */
export const CiModerationDetailSchema = v.object({
  EventName: v.pipe(v.string(), v.startsWith('Review')),
  JobsDetail: v.pipe(v.array(ModerationJobSchema), v.minLength(1, 'expected a job')),
});

/** The `JobsDetail` children a moderation event lifts into its own fields. */
const DETAIL_FIELDS = [
  'JobId',
  'State',
  'Code',
  'Message',
  'CreationTime',
  'Object',
  'Url',
  'DataId',
  'BucketId',
  'Region',
  'CosHeaders',
  'Label',
  'SubLabel',
  'Category',
  'Result',
  'Suggestion',
  'Score',
  'ForbidState',
] as const;

/** One moderation job of a detailed callback: its own fields, its verdict, and the rest as received. */
function detailFields(job: v.InferOutput<typeof ModerationJobSchema>, node: CiNode | undefined) {
  const { picked, rest } = split(node, DETAIL_FIELDS);
  // Document and web page moderation put their categories under Labels.
  const top = categoriesOf(rest, DETAIL_NAMES);
  const labelsNode = asNode(top.rest?.Labels);
  const labels = categoriesOf(labelsNode, DETAIL_NAMES);
  const detail = labelsNode ? withChild(top.rest, 'Labels', labels.rest) : top.rest;
  // A job that failed was never judged: whatever Result it carries is no verdict.
  const result = ciStatus(job.State) === 'failed' ? undefined : (job.Result ?? job.Suggestion);
  return {
    jobId: job.JobId,
    code: job.Code,
    creationTime: utc(job.CreationTime),
    object: job.Object,
    url: job.Url,
    dataId: job.DataId,
    bucketId: job.BucketId,
    region: job.Region,
    cosHeaders: cosHeadersOf(picked.CosHeaders),
    moderation: {
      result: numberOf(result),
      verdict: verdictOf(result),
      label: job.Label,
      subLabel: job.SubLabel,
      category: job.Category,
      score: numberOf(job.Score),
      forbidState: numberOf(job.ForbidState),
      categories: [...top.categories, ...labels.categories],
    },
    detail,
  };
}

/**
 * A content-moderation result in the detailed form. Subject: `JobId`; status from `State`
 * (`Auditing`: a live stream still moderated, running); time: `CreationTime` (`+0800` or `+08:00`).
 * A live stream sends interim results with one JobId, State and time: the whole callback joins the
 * event id, so each is its own event and a resend keeps its id.
 */
export function moderationDetailDraft(tree: CiNode, eventName: string): CiDraft {
  const { first, fields, otherJobs } = jobsOf(tree, parse(CiModerationDetailSchema, tree).JobsDetail, detailFields);
  return {
    type: 'tencentci.moderation.result',
    subject: first.JobId,
    time: toUtcRfc3339(first.CreationTime),
    data: {
      status: ciStatus(first.State),
      sourceStatus: first.State,
      message: first.Message || undefined,
      eventName,
      legacyFormat: false,
      form: 'detail',
      ...fields,
      otherJobs,
    },
    identity: tree,
  };
}

/**
 * A content-moderation callback in its simple form (`X-Ci-Content-Version: Simple`), lower-case
 * keys; also what CI posts to test a callback URL when a user sets it (`trace_id` `test_trace_id`,
 * `message` "Test request when setting callback url").
 *
 * @see https://cloud.tencent.com/document/product/460/46926 and the "callback content" page of each kind
 * @example {"code":0,"data":{"event":"ReviewVideo","trace_id":"av…","result":1,"forbidden_status":0,"porn_info":{"hit_flag":1,"label":"…","count":3},"url":"…","cos_headers":{"x-cos-meta-id":"…"}},"message":""}
 */
export const CiModerationSimpleSchema = v.object({
  code: v.string(),
  message: Text,
  data: v.object({
    event: v.string(),
    trace_id: Id,
    result: Text,
    forbidden_status: Text,
    url: Text,
    data_id: Text,
  }),
});

/** Whether a shaped tree is the simple form: lower-case `code` and a `data` node naming its `event`. */
export function isSimpleModeration(tree: CiNode): boolean {
  return tree.code !== undefined && typeof asNode(tree.data)?.event === 'string';
}

const SIMPLE_FIELDS = ['event', 'trace_id', 'result', 'forbidden_status', 'url', 'data_id', 'cos_headers'] as const;

/**
 * A content-moderation result in the simple form. Subject: `trace_id` (the JobId of a job created
 * through the API); status: `code` 0 succeeded, any other failed; time: when it was received (the
 * simple form carries none).
 */
export function moderationSimpleDraft(tree: CiNode): CiDraft {
  const callback = parse(CiModerationSimpleSchema, tree);
  const { data } = callback;
  const { picked, rest } = split(asNode(tree.data), SIMPLE_FIELDS);
  const { categories, rest: detail } = categoriesOf(rest, SIMPLE_NAMES);
  const others = split(tree, ['code', 'data', 'message']).rest;
  return {
    type: 'tencentci.moderation.result',
    subject: data.trace_id,
    data: {
      status: callback.code === '0' ? 'succeeded' : 'failed',
      sourceStatus: callback.code,
      message: callback.message || undefined,
      eventName: data.event,
      legacyFormat: false,
      form: 'simple',
      jobId: data.trace_id,
      url: data.url,
      dataId: data.data_id,
      cosHeaders: cosHeadersOf(picked.cos_headers),
      moderation: {
        // A non-zero code is a moderation that failed (CI could not read the image, say): no verdict,
        // whatever `result` it carries, so that nothing is approved that was never checked.
        ...(callback.code === '0' ? { result: numberOf(data.result), verdict: verdictOf(data.result) } : { verdict: 'unknown' }),
        forbidState: numberOf(data.forbidden_status),
        categories,
      },
      detail: others ? Object.assign(newNode(), detail, others) : detail,
    },
    identity: tree,
  };
}
