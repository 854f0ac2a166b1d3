import * as v from 'valibot';
import { type Status, mapStatus } from '../events/status.ts';
import { type Route, type Source, defineRoute } from './source.ts';

/** The three Thain callback kinds, each registered on its own URL (contract §1). */
export const THAIN_KINDS = ['flow', 'job', 'modify'] as const;
/** A Thain callback kind: flow status, job status, or a flow's scheduling change. */
export type ThainKind = (typeof THAIN_KINDS)[number];

/**
 * Flow `callback_url` codes, Thain's `FlowLastRunStatus` (protocols.md §2.2a). 1 NEVER and 6 PAUSE
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
 * Job `callback_url` codes, Thain's `JobExecutionStatus` (protocols.md §2.2b). They overlap the flow
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
 * the reverse of `FlowSchedulingStatus` (protocols.md §2.2c), so that enum must not be used here.
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
 * @see ../../../shared/protocols.md §2.2 (a) and (b); seed 004 (`open-thain/thain-doc` http-callback.md)
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
 * @see ../../../shared/protocols.md §2.2 (c)
 * @example flowId=101&status=1
 */
export const ThainModifyCallbackSchema = v.looseObject({
  flowId: ThainIdSchema,
  status: ThainCodeSchema,
});
/** A valid Thain flow modify callback. */
export type ThainModifyCallback = v.InferOutput<typeof ThainModifyCallbackSchema>;

/** A route for the flow or job status URL; they differ only in event type and code table. */
function statusRoute(
  kind: 'flow' | 'job',
  table: Readonly<Record<number, Status>>,
): Route {
  return defineRoute({
    what: `thain ${kind} callback`,
    schema: ThainStatusCallbackSchema,
    normalize: (callback) => ({
      type: `thain.${kind}.status`,
      // Both carry only the flow execution: a job callback has no job id (label the URL instead).
      subject: callback.flowExecutionId,
      status: mapStatus(table, callback.code),
      sourceStatus: callback.code,
      // Thain sends `message=` on every non-error code; the contract's message is failure text
      // "when it has one", so an empty one is left out rather than sent as "". Otherwise it is
      // kept whole: no trimming, the trailing newline of a shell job's stderr included.
      message: callback.message === '' ? undefined : callback.message,
      extra: { kind, flowId: callback.flowId, flowExecutionId: callback.flowExecutionId },
    }),
  });
}

const ROUTES: Readonly<Record<ThainKind, Route>> = {
  flow: statusRoute('flow', THAIN_FLOW_STATUS),
  job: statusRoute('job', THAIN_JOB_STATUS),
  modify: defineRoute({
    what: 'thain modify callback',
    schema: ThainModifyCallbackSchema,
    normalize: (callback) => {
      const scheduling = Object.hasOwn(SCHEDULING, callback.status)
        ? SCHEDULING[callback.status]
        : undefined;
      return {
        type: 'thain.flow.modified',
        subject: callback.flowId,
        status: mapStatus(THAIN_MODIFY_STATUS, callback.status),
        sourceStatus: callback.status,
        extra: { kind: 'modify', flowId: callback.flowId, ...(scheduling && { scheduling }) },
      };
    },
  }),
};

/**
 * The kind a request path asks for: its last non-empty segment (a trailing slash is fine), because a
 * function URL passes any path and the HTTP API routes `/callbacks/thain/{flow,job,modify}`.
 */
export function thainKindOf(path: string): ThainKind | undefined {
  const last = path.split('/').findLast((segment) => segment !== '');
  return THAIN_KINDS.find((kind) => kind === last);
}

/** Xiaomi Thain: flow status, job status and flow modify callbacks, as forms (protocols.md §2). */
export const thain = {
  name: 'thain',
  // Thain only sends forms; JSON is taken as a lenient extra for hand-made or proxied callbacks.
  decoders: { formats: ['form', 'json'] },
  // Thain never resends: two equal bodies are two events (a flow paused twice).
  deliversOnce: true,
  route(path) {
    const kind = thainKindOf(path);
    return kind === undefined ? undefined : ROUTES[kind];
  },
} as const satisfies Source;
