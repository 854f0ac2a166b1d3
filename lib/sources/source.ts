import * as v from 'valibot';
import { decodeBodyText } from '../decode/charset.ts';
import { type Decoders, decodeBody, type XmlDecoder } from '../decode/decode-body.ts';
import { bodyIssue, InvalidPayloadError, ISSUE_LIMITS, type PayloadIssue } from '../errors.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import { type CallbackContext, type EventDraft, toCloudEvent } from '../events/envelope.ts';
import { routeNameOf, type Sender, type SenderDraft } from './sender.ts';

/** One kind of callback: validates a decoded body and normalizes it (pure: no I/O, no clock). */
export interface Route<Draft extends EventDraft = EventDraft> {
  /** Throws {@link InvalidPayloadError} (422) when the body is not this route's shape. */
  toDraft(decoded: unknown, context: CallbackContext): Draft;
}

/** A sender's parsers: its descriptor, the decoders of the formats it takes, and its routes. */
export interface Callbacks {
  readonly sender: Sender;
  readonly decoders: Decoders;
  /** The route serving this path, or undefined for a path this function does not serve (404). */
  route(path: string): Route | undefined;
}

/**
 * A sender's parsers (`callbacks` in its `callback.ts`): one route per route of its descriptor, each
 * making that sender's drafts (its event data, one of its event types), checked by the compiler.
 * `xml` is passed by a sender that takes XML (Tencent CI), so that the XML parser is bundled into
 * that function alone.
 */
export function defineCallbacks<const S extends Sender>(
  sender: S,
  spec: { readonly routes: { readonly [K in keyof S['routes']]: Route<SenderDraft<S>> }; readonly xml?: XmlDecoder },
): Callbacks {
  const routes = new Map<string, Route>(Object.entries<Route<SenderDraft<S>>>(spec.routes));
  return {
    sender,
    decoders: { formats: sender.formats, ...(spec.xml && { xml: spec.xml }) },
    route(path) {
      const name = routeNameOf(sender, path);
      return name === undefined ? undefined : routes.get(name);
    },
  };
}

/**
 * The event one callback body makes on a route, with nothing sent anywhere: the body decoded by its
 * declared charset and sniffed format, validated and normalized by the route, and put in its
 * envelope. Throws the {@link CallbackError} a bad body gets (400, 422). The pipeline runs this; so
 * do tests of a sender's status tables and samples.
 */
export function normalizeCallback(
  callbacks: Callbacks,
  route: Route,
  bytes: Uint8Array,
  contentType: string,
  context: CallbackContext,
): CloudEvent {
  const text = decodeBodyText(bytes, contentType, context.raw);
  const decoded = decodeBody(text, callbacks.decoders);
  return toCloudEvent(callbacks.sender, route.toDraft(decoded.value, context), context);
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
export function defineRoute<const S extends v.GenericSchema, Draft extends EventDraft>(spec: {
  /** Names the payload in error messages, e.g. "bk-job callback". */
  readonly what: string;
  readonly schema: S;
  readonly normalize: (payload: v.InferOutput<S>, context: CallbackContext) => Draft;
}): Route<Draft> {
  return {
    toDraft(decoded, context) {
      if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
        const received = Array.isArray(decoded) ? 'an array' : decoded === null ? 'null' : typeof decoded;
        throw new InvalidPayloadError(spec.what, [bodyIssue(`expected an object, received ${received}`)]);
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
 * Turns valibot issues into the 422 error (docs/contract.md, Responses): each issue's path and
 * problem (`is missing` for an absent field). `complete: false` says the issues are the first of
 * possibly more (validation stopped early), so none is counted.
 */
export function invalidPayload(what: string, issues: readonly v.BaseIssue<unknown>[], complete = true): InvalidPayloadError {
  const payloadIssues = issues.slice(0, ISSUE_LIMITS.maxIssues).map(
    (issue): PayloadIssue => ({
      path: v.getDotPath(issue) || '(body)',
      message: issue.received === 'undefined' ? 'is missing' : issue.message,
      field: fieldOf(issue),
    }),
  );
  return new InvalidPayloadError(what, payloadIssues, { total: issues.length, complete });
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
