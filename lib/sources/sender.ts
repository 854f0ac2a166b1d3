import * as v from 'valibot';
import type { BodyFormat } from '../decode/decode-body.ts';
import { CloudEventSchema, EventDataSchema } from '../events/cloud-event.ts';
import type { DraftData, DraftOf, EventDraft } from '../events/envelope.ts';

/**
 * A sender's descriptor: everything the rest of the project derives from it (its name, routes,
 * event types, the event data consumers get, the sentence the example consumer writes), and none of
 * its parsing. The registry lists these (`registry.ts`); the parsers live in each sender's
 * `callback.ts`, so that a Lambda bundle carries only its own sender's parser.
 */

/** One kind of callback a sender posts, each on its own URL when the sender has several. */
export interface RouteSpec {
  /** The event types this route's callbacks become. */
  readonly types: readonly [string, ...string[]];
  /**
   * The setting of the sender that the URL is registered in, as its users call it (`Thain flow
   * callback_url`): it describes the deploy outputs that hold the URL.
   */
  readonly registers: string;
  /** What else to know when registering it (`add ?job=<name> to tell jobs apart`). */
  readonly hint?: string;
}

/** A sender's routes by name. With one route it is served on any path; with several, the last path segment names it. */
export type RouteSpecs = Readonly<Record<string, RouteSpec>>;

/** The event types of a sender's routes. */
export type TypesOf<Routes extends RouteSpecs> = Routes[keyof Routes]['types'][number];

/** The schema of a sender's `data`: the common fields (`EventDataSchema`) and its own, open to additions. */
export type DataSchema = v.LooseObjectSchema<v.ObjectEntries, undefined>;

type Envelope = Omit<typeof CloudEventSchema.entries, 'source' | 'type' | 'data'>;

/** The schema of a sender's whole event: the CloudEvents envelope with its `source`, its types and its data. */
export type EventSchemaOf<Name extends string, Type extends string, Data extends DataSchema> = v.LooseObjectSchema<
  Envelope & {
    readonly source: v.LiteralSchema<Name, undefined>;
    readonly type: v.PicklistSchema<readonly Type[], undefined>;
    readonly data: Data;
  },
  undefined
>;

/** What a sender's descriptor says (see {@link defineSender}). */
export interface SenderSpec<Name extends string, Routes extends RouteSpecs, Data extends DataSchema> {
  /** The event's `source`, the folder under `lib/sources/` and `events/`, and the `sender:` of its function in serverless.yml. */
  readonly name: Name;
  /** The job system, as its users call it (`BlueKing JOB`). */
  readonly title: string;
  /** The body formats it sends; a body in another is refused with a 400. */
  readonly formats: readonly BodyFormat[];
  /**
   * True for a sender that never sends the same callback twice (Thain): two equal bodies are then
   * two events, and the receive time joins the event id. False for one that resends (bk-job).
   */
  readonly deliversOnce: boolean;
  readonly routes: Routes;
  /** The `data` of its events (what consumers get), built on `EventDataSchema.entries`. */
  readonly data: Data;
  /**
   * Recursive schemas its data uses, by the name the JSON Schema gives their definition
   * (`events/event.schema.json`, `$defs/<name>`).
   */
  readonly definitions?: Readonly<Record<string, v.GenericSchema>>;
  /** One sentence about an event, for the example consumer's log (say what a person acts on). */
  describe(event: v.InferOutput<EventSchemaOf<Name, TypesOf<Routes>, Data>>): string;
}

/** A sender's descriptor, with what is derived from it. */
export interface Sender<Name extends string = string, Routes extends RouteSpecs = RouteSpecs, Data extends DataSchema = DataSchema>
  extends SenderSpec<Name, Routes, Data> {
  /** Every event type it sends, in route order. */
  readonly types: readonly TypesOf<Routes>[];
  /** The suffix of its settings' variables: `bk-job` reads `TOKENS_BK_JOB`, `ALLOW_CIDRS_BK_JOB`. */
  readonly environmentSuffix: string;
  /** The schema of its whole event, as consumers validate it. */
  readonly event: EventSchemaOf<Name, TypesOf<Routes>, Data>;
}

/** A sender's event `data`, as its normalizers build it and consumers read it (no index signature: every field declared). */
export type SenderData<S extends Sender> = v.InferOutput<v.ObjectSchema<S['data']['entries'], undefined>>;

/** What a sender's normalizer returns: one of its event types, and its event data but what the pipeline adds. */
export type SenderDraft<S extends Sender> = EventDraft<DraftOf<SenderData<S>> & DraftData, TypesOf<S['routes']>>;

/** `bk-job` → `BK_JOB`: the suffix of a sender's variables. */
export function environmentSuffix(name: string): string {
  return name.toUpperCase().replaceAll('-', '_');
}

/** Declares a sender (its `lib/sources/<name>/index.ts`). */
export function defineSender<const Name extends string, const Routes extends RouteSpecs, const Data extends DataSchema>(
  spec: SenderSpec<Name, Routes, Data>,
): Sender<Name, Routes, Data> {
  const types = Object.values(spec.routes).flatMap((route): TypesOf<Routes>[] => [...route.types]);
  if (Object.keys(spec.routes).length === 0) throw new Error(`sender ${spec.name}: no routes`);
  const { specversion, id, subject, time, datacontenttype } = CloudEventSchema.entries;
  return {
    ...spec,
    types,
    environmentSuffix: environmentSuffix(spec.name),
    event: v.looseObject({
      specversion,
      id,
      source: v.literal(spec.name),
      type: v.picklist(types),
      subject,
      time,
      datacontenttype,
      data: spec.data,
    }),
  };
}

/**
 * The route a request path asks for: the one route of a sender that has one (a function URL passes
 * any path), else the route named by the path's last non-empty segment in any letter case (a
 * trailing slash is fine; `/callbacks/thain/Flow` is the flow route), or undefined (404).
 */
export function routeNameOf(sender: Pick<Sender, 'routes'>, path: string): string | undefined {
  const names = Object.keys(sender.routes);
  if (names.length === 1) return names[0];
  const last = path
    .split('/')
    .findLast((segment) => segment !== '')
    ?.toLowerCase();
  return names.find((name) => name.toLowerCase() === last);
}

/** The common `data` entries every sender's data schema starts from. */
export const commonData = EventDataSchema.entries;
