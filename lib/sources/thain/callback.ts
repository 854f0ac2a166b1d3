import * as v from 'valibot';
import { mapStatus, type Status } from '../../events/status.ts';
import type { SenderDraft } from '../sender.ts';
import { defineCallbacks, defineRoute, type Route } from '../source.ts';
import { thain } from './index.ts';

/** A Thain callback kind, each registered on its own URL: flow status, job status, or a flow's scheduling change. */
export type ThainKind = keyof typeof thain.routes;

/** What a Thain normalizer returns. */
type ThainDraft = SenderDraft<typeof thain>;

/**
 * Flow `callback_url` codes, Thain's `FlowLastRunStatus` (docs/senders/thain.md, Flow status). 1 NEVER and 6 PAUSE
 * exist in the enum but are never sent; they map to `unknown` like any code not listed.
 * 7 AUTO_KILLED is a flow that Thain killed because it overran its SLA timeout: nobody asked for it
 * to stop and its work did not get done, so it is `failed` (what a consumer alerts on), unlike
 * 5 KILLED, a person's deliberate stop, which is `cancelled`. `sourceStatus` 7 keeps the difference.
 */
export const THAIN_FLOW_STATUS: Readonly<Record<number, Status>> = {
  2: 'succeeded',
  3: 'failed',
  4: 'running',
  5: 'cancelled',
  7: 'failed',
};

/**
 * Job `callback_url` codes, Thain's `JobExecutionStatus` (docs/senders/thain.md, Job status). They overlap the flow
 * codes with other meanings (2 is "flow succeeded" but "job started"), which is why the URL and not
 * the body picks the table.
 */
export const THAIN_JOB_STATUS: Readonly<Record<number, Status>> = {
  2: 'running',
  3: 'succeeded',
  4: 'failed',
};

/**
 * `modify_callback_url` codes: `SendModifyUtils`' private PAUSE and SCHEDULING constants, which are
 * the reverse of `FlowSchedulingStatus` (docs/senders/thain.md, Flow modify), so that enum must not be
 * used here.
 */
export const THAIN_MODIFY_STATUS: Readonly<Record<number, Status>> = {
  1: 'paused',
  2: 'resumed',
};

/** What a modify callback did to the flow's schedule, named as Thain names the state (`data.scheduling`). */
const SCHEDULING: Readonly<Record<number, 'paused' | 'scheduling'>> = { 1: 'paused', 2: 'scheduling' };

/**
 * An issue message for a field whose form key came more than once: Thain never repeats a key, so a
 * repeated one means the body was tampered with or built by hand, and picking one value would be a guess.
 */
function expected(what: string): (issue: v.BaseIssue<unknown>) => string {
  return (issue) => (issue.received === 'Array' ? 'sent more than once' : `expected ${what}`);
}

/**
 * A Thain id (a Java `long`): digits in a form body, kept as the exact text and never rounded; an
 * integer when the lenient JSON path is used (the JSON decoder already turns integers past 2^53 into
 * their digits).
 */
const ThainIdSchema = v.union(
  [
    v.pipe(v.string(), v.regex(/^-?\d{1,20}$/, 'expected an integer id of 1 to 20 decimal digits')),
    v.pipe(v.number(), v.safeInteger(), v.transform(String)),
  ],
  expected('an integer id of 1 to 20 decimal digits'),
);

/** A status code: decimal digits in a form body (a number in JSON). Any integer is taken; unknown ones map to `unknown`. */
const ThainCodeSchema = v.union(
  [
    v.pipe(v.string(), v.regex(/^-?\d{1,9}$/, 'expected an integer status code (decimal digits)'), v.transform(Number)),
    v.pipe(v.number(), v.safeInteger()),
  ],
  expected('an integer status code'),
);

/**
 * `message`: Thain always sends it (empty on non-error codes), but a body without it is still a
 * valid status callback, so a missing (or JSON `null`) message reads as empty.
 */
const ThainMessageSchema = v.pipe(
  v.nullish(v.string(expected('a string')), ''),
  v.transform((message) => message ?? ''),
);

/**
 * A Thain flow or job status callback: the two bodies have the same fields (`FlowHttpNotice`,
 * `JobHttpNotice`); only the URL tells them apart. Extra keys are tolerated.
 *
 * @see docs/senders/thain.md (`FlowHttpNotice`, `JobHttpNotice`; `open-thain/thain-doc` http-callback.md)
 * @example flowId=101&flowExecutionId=5002&code=3&message=Job%5Bload%5D+exception%3A+IOException%3A+disk+full%0A
 */
export const ThainStatusCallbackSchema = v.looseObject({
  flowId: ThainIdSchema,
  flowExecutionId: ThainIdSchema,
  code: ThainCodeSchema,
  message: ThainMessageSchema,
});
/** A valid Thain flow or job status callback. */
export type ThainStatusCallback = v.InferOutput<typeof ThainStatusCallbackSchema>;

/**
 * A Thain flow modify callback (`SendModifyUtils`): sent on pause, resume and cron update.
 *
 * @see docs/senders/thain.md, Flow modify
 * @example flowId=101&status=1
 */
export const ThainModifyCallbackSchema = v.looseObject({
  flowId: ThainIdSchema,
  status: ThainCodeSchema,
});
/** A valid Thain flow modify callback. */
export type ThainModifyCallback = v.InferOutput<typeof ThainModifyCallbackSchema>;

/** The normalizer of the flow or job status URL; they differ only in event type and code table. */
function normalizeStatus(kind: 'flow' | 'job', table: Readonly<Record<number, Status>>) {
  return (callback: ThainStatusCallback): ThainDraft => ({
    type: `thain.${kind}.status`,
    // Both carry only the flow execution: a job callback has no job id (label the URL instead).
    subject: callback.flowExecutionId,
    data: {
      status: mapStatus(table, callback.code),
      sourceStatus: callback.code,
      // Thain sends `message=` on every non-error code; the event's message is failure text "when
      // it has one", so an empty one is left out rather than sent as "". Otherwise it is kept
      // whole: no trimming, the trailing newline of a shell job's stderr included.
      message: callback.message === '' ? undefined : callback.message,
      kind,
      flowId: callback.flowId,
      flowExecutionId: callback.flowExecutionId,
    },
  });
}

/** The normalizer of the modify URL: the flow's schedule paused or resumed. */
export function normalizeModify(callback: ThainModifyCallback): ThainDraft {
  const scheduling = Object.hasOwn(SCHEDULING, callback.status) ? SCHEDULING[callback.status] : undefined;
  return {
    type: 'thain.flow.modified',
    subject: callback.flowId,
    data: {
      status: mapStatus(THAIN_MODIFY_STATUS, callback.status),
      sourceStatus: callback.status,
      kind: 'modify',
      flowId: callback.flowId,
      ...(scheduling && { scheduling }),
    },
  };
}

/** The flow status normalizer (`/flow`). */
export const normalizeFlow = normalizeStatus('flow', THAIN_FLOW_STATUS);
/** The job status normalizer (`/job`). */
export const normalizeJob = normalizeStatus('job', THAIN_JOB_STATUS);

const ROUTES: Readonly<Record<ThainKind, Route<ThainDraft>>> = {
  flow: defineRoute({ what: 'thain flow callback', schema: ThainStatusCallbackSchema, normalize: normalizeFlow }),
  job: defineRoute({ what: 'thain job callback', schema: ThainStatusCallbackSchema, normalize: normalizeJob }),
  modify: defineRoute({ what: 'thain modify callback', schema: ThainModifyCallbackSchema, normalize: normalizeModify }),
};

/** Thain's parsers: one route per kind, picked by the last path segment. */
export const callbacks = defineCallbacks(thain, { routes: ROUTES });
