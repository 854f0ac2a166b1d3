import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createHttpEvent, handsOverAsText } from '../../infra/local/http-event.ts';
import { loadServiceConfig, type ServiceFunction } from '../../infra/local/service-config.ts';
import { type HttpFixture, loadAllFixtures } from '../../infra/testing/fixtures.ts';
import { type CallbackHandler, createCallbackHandler } from '../../lib/http/callback-handler.ts';
import { loadCallbacks } from '../../lib/sources/load-callbacks.ts';
import type { Callbacks } from '../../lib/sources/source.ts';

/** A sample that a function accepts (200), on the path its request line names. */
export interface AcceptedFixture {
  readonly fixture: HttpFixture;
  /** e.g. `/callbacks/thain/flow` */
  readonly path: string;
  /** The route template of `serverless.yml` it belongs to, e.g. `/callbacks/thain/{kind}`. */
  readonly route: string;
}

/** A callback function of `serverless.yml` with what the bench needs to drive it. */
export interface BenchTarget {
  readonly fn: ServiceFunction;
  /** The parsers of the sender it takes (its `sender:`). */
  readonly callbacks: Callbacks;
  /** The samples it answers 200, each with its path. */
  readonly accepted: readonly AcceptedFixture[];
  /** Samples it refuses (the `*-invalid-*` ones), with the status. */
  readonly refused: ReadonlyArray<{ readonly name: string; readonly status: number }>;
}

/** A queue whose `send` resolves at once: the handler then does only decode .. serialize. */
export const instantQueue = { send: () => Promise.resolve() };

/** The Lambda event for a sample posted to its route (HTTP API payload 2.0), with its headers and query. */
export function fixtureEvent(fixture: HttpFixture, query = fixture.query): APIGatewayProxyEventV2 {
  return createHttpEvent({
    body: fixture.body,
    isBase64Encoded: fixture.body.length > 0 && !handsOverAsText(fixture.body, fixture.contentType),
    path: fixture.path,
    query,
    headers: Object.fromEntries(fixture.headers),
    requestId: 'bench-request',
  });
}

/**
 * Every callback function `serverless.yml` declares (a function with `sender:`), with its sender's
 * samples (`events/<sender>/` and its `field/` folder), each on the route its request line names,
 * tried once with an instant queue.
 */
export async function loadTargets(): Promise<BenchTarget[]> {
  const config = loadServiceConfig();
  const targets: BenchTarget[] = [];
  for (const fn of config.functions) {
    if (fn.sender === undefined) continue;
    const callbacks = await loadCallbacks(fn.sender);
    const handler = createCallbackHandler(callbacks, { queue: instantQueue });
    // The serverless.yml route a path is served by (`/callbacks/thain/{kind}` for `/callbacks/thain/flow`).
    const template = (path: string) =>
      fn.routes.find((route) => new RegExp(`^${route.path.replace(/\{[^}/]+\}/g, '[^/]+')}$`).test(path))?.path ?? path;
    const accepted: AcceptedFixture[] = [];
    const refused: Array<{ name: string; status: number }> = [];
    for (const fixture of loadAllFixtures(fn.sender)) {
      const answer = await handler(fixtureEvent(fixture));
      if (answer.statusCode === 200) accepted.push({ fixture, path: fixture.path, route: template(fixture.path) });
      else refused.push({ name: fixture.name, status: answer.statusCode ?? 0 });
    }
    targets.push({ fn, callbacks, accepted, refused });
  }
  return targets;
}

/** The handler of a target with an instant queue (for the CPU bench). */
export function instantHandler(target: BenchTarget): CallbackHandler {
  return createCallbackHandler(target.callbacks, { queue: instantQueue });
}
