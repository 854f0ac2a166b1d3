import * as v from 'valibot';
import type { Decoders } from '../decode/decode-body.ts';
import { ISSUE_LIMITS, InvalidPayloadError } from '../errors.ts';
import type { RawBody, SourceName, Step } from '../events/cloud-event.ts';
import type { Status } from '../events/status.ts';

/** What a route knows about the request besides its body. */
export interface CallbackContext {
  /** Query parameters of the registered URL, except `token` (contract §1). */
  readonly labels: Readonly<Record<string, string>>;
  /** When the request arrived. */
  readonly receivedAt: Date;
  /** The body exactly as received, with its Content-Type. */
  readonly raw: RawBody;
}

/** What a route makes of one valid callback; the pipeline adds id, labels, raw and the envelope. */
export interface EventDraft {
  readonly type: string;
  readonly subject: string;
  /** When the reported state was reached, if the payload says so (RFC 3339, UTC). */
  readonly time?: string | undefined;
  readonly status: Status;
  readonly sourceStatus: number | string;
  readonly message?: string | undefined;
  readonly steps?: readonly Step[] | undefined;
  /** What a consumer of this sender needs besides the common fields (`data.*`). */
  readonly extra?: Readonly<Record<string, unknown>>;
  /**
   * What tells this event apart when the fields above do not (an event of a kind the source does
   * not know): it joins the event id.
   */
  readonly identity?: unknown;
}

/** One kind of callback: its payload schema and the pure function that normalizes it. */
export interface Route {
  /** Validates a decoded body and normalizes it; throws {@link InvalidPayloadError} when invalid. */
  toDraft(decoded: unknown, context: CallbackContext): EventDraft;
}

/** A sender: its name, the body formats it sends, and the route for a request path. */
export interface Source {
  readonly name: SourceName;
  readonly decoders: Decoders;
  /**
   * True for a sender that never sends the same callback twice (Thain): two equal bodies are then
   * two real events (a flow paused twice), so the receive time joins the event id. False for senders
   * that resend (bk-job after a non-200): a resend must keep its id so that consumers drop it.
   */
  readonly deliversOnce?: boolean;
  /** The route serving this path, or undefined for a path this function does not serve (404). */
  route(path: string): Route | undefined;
}

/**
 * Bodies up to this many characters are validated to the end when they fail, so the 422 lists
 * every problem (up to {@link ISSUE_LIMITS}.maxIssues) and counts them; a larger body stops at its
 * first problem. A body can make one issue per value it holds (a bk-job body of 87,000 empty steps
 * is 262 KB and 174,000 issues): validating it to the end would cost seconds of CPU to answer
 * what the first issue already says.
 */
export const FULL_VALIDATION_MAX_CHARS = 32 * 1024;

/** Builds a route from a valibot schema and a pure normalize function. */
export function defineRoute<const S extends v.GenericSchema>(spec: {
  /** Names the payload in error messages, e.g. "bk-job callback". */
  readonly what: string;
  readonly schema: S;
  readonly normalize: (payload: v.InferOutput<S>, context: CallbackContext) => EventDraft;
}): Route {
  return {
    toDraft(decoded, context) {
      if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
        const received = Array.isArray(decoded) ? 'an array' : decoded === null ? 'null' : typeof decoded;
        const line = `(body): expected an object, received ${received}`;
        throw new InvalidPayloadError(`${spec.what} is not valid: ${line}`, [line]);
      }
      const result = v.safeParse(spec.schema, decoded, { abortEarly: true });
      if (result.success) return spec.normalize(result.output, context);
      if (context.raw.body.length > FULL_VALIDATION_MAX_CHARS) throw invalidPayload(spec.what, result.issues, false);
      const full = v.safeParse(spec.schema, decoded);
      throw invalidPayload(spec.what, full.success ? result.issues : full.issues);
    },
  };
}

/**
 * Turns valibot issues into the contract's 422 error: one `path: problem` line per issue, for the
 * first {@link ISSUE_LIMITS}.maxIssues only. `complete: false` says the issues are the first of
 * possibly more (validation stopped early), so none is counted.
 */
export function invalidPayload(
  what: string,
  issues: readonly v.BaseIssue<unknown>[],
  complete = true,
): InvalidPayloadError {
  const lines = issues.slice(0, ISSUE_LIMITS.maxIssues).map((issue) => {
    const path = v.getDotPath(issue) || '(body)';
    const problem = issue.received === 'undefined' ? 'is missing' : issue.message;
    return `${path}: ${problem}`;
  });
  const more = issues.length > 3 || !complete ? '; …' : '';
  return new InvalidPayloadError(
    `${what} is not valid: ${lines.slice(0, 3).join('; ')}${more}`,
    lines,
    { fields: issues.map(fieldOf), issueCount: complete ? issues.length : 'not counted' },
  );
}

/**
 * An issue's path with nothing the sender chose: object keys (which an object schema declares,
 * whether missing or wrong) and array indexes stay; a key a strict object refuses, and the keys of
 * records, maps and sets (the sender's own) become `*`. The sources' schemas are `object` and
 * `looseObject`, whose issues only ever name declared keys.
 */
function fieldOf(issue: v.BaseIssue<unknown>): string {
  if (!issue.path || issue.path.length === 0) return '(body)';
  const last = issue.path.length - 1;
  return issue.path
    .map((item, index) => {
      if (item.type === 'array') return String(item.key);
      const refusedKey = index === last && issue.type === 'strict_object' && item.origin === 'key';
      return item.type === 'object' && !refusedKey ? String(item.key) : '*';
    })
    .join('.');
}

/** A route for a source with one kind of callback, served on any path (function URLs pass any). */
export function singleRoute(route: Route): (path: string) => Route {
  return () => route;
}
