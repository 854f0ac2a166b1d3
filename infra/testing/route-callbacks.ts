import type { SourceName } from '../../lib/sources/registry.ts';
import { SENDERS } from '../../lib/sources/registry.ts';
import { routeNameOf } from '../../lib/sources/sender.ts';
import { type CallbackRoute, callbackRoutes } from '../local/service-config.ts';
import { type HttpFixture, loadFixtures } from './fixtures.ts';

/** A route with one real callback for it (a 200 with a healthy queue). */
export interface RouteCallback extends CallbackRoute {
  readonly source: SourceName;
  /** The first valid sample (by name) whose request line names this route. */
  readonly sample: HttpFixture;
}

/**
 * One real callback for each route of each registered sender (from the registry, serverless.yml and
 * the samples' own request lines), for tests that exercise every route alike.
 */
export const ROUTE_CALLBACKS: readonly RouteCallback[] = callbackRoutes().map((route) => {
  const sender = SENDERS.find((candidate) => candidate.name === route.source);
  const sample = validSamples(route.source).find((candidate) => sender && routeNameOf(sender, candidate.path) === route.route);
  if (!sample) throw new Error(`events/${route.source}/ has no valid sample posted to ${route.path}`);
  return { ...route, sample };
});

/** A sender's samples that it accepts: all but `*-invalid-*` ones, by name. */
export function validSamples(source: string): HttpFixture[] {
  return loadFixtures(source).filter((fixture) => !fixture.name.includes('-invalid-'));
}
