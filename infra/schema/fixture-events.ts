import type { CloudEvent, SourceName } from '../../lib/events/cloud-event.ts';
import { SOURCE_NAMES } from '../../lib/events/cloud-event.ts';
import { createCallbackHandler } from '../../lib/http/callback-handler.ts';
import { SOURCES } from '../../lib/sources/registry.ts';
import { createHttpEvent } from '../local/http-event.ts';
import { loadFixtures } from '../testing/fixtures.ts';

/** The event the real handler builds from one valid fixture, and the exact SQS message body. */
export interface FixtureEvent {
  readonly source: SourceName;
  readonly fixture: string;
  readonly path: string;
  readonly event: CloudEvent;
  readonly body: string;
}

/** The route a fixture is posted to: a Thain fixture names its kind (`thain-job-…`). */
export function fixturePath(source: SourceName, name: string): string {
  if (source !== 'thain') return `/callbacks/${source}`;
  const kind = name.split('-').find((part) => ['flow', 'job', 'modify'].includes(part));
  return `/callbacks/thain/${kind}`;
}

/**
 * Runs every valid fixture (`events/<source>/*.http` without `invalid` in its name) through the
 * real callback handler and keeps what it sends to the queue. `query` is the registered URL's query.
 */
export async function fixtureEvents(options: { query?: string; now?: Date } = {}): Promise<FixtureEvent[]> {
  const results: FixtureEvent[] = [];
  for (const source of SOURCE_NAMES) {
    const sent: Array<{ event: CloudEvent; body: string }> = [];
    const handler = createCallbackHandler(SOURCES[source], {
      queue: { send: async (event, body) => void sent.push({ event, body }) },
      quarantine: false,
      access: false,
      ...(options.now && { now: () => options.now as Date }),
    });
    for (const fixture of loadFixtures(source).filter((f) => !f.name.includes('invalid'))) {
      const path = fixturePath(source, fixture.name);
      sent.length = 0;
      const response = await handler(
        createHttpEvent({ body: fixture.body, contentType: fixture.contentType, path, query: options.query ?? '' }),
      );
      const [message] = sent;
      if (response.statusCode !== 200 || !message || sent.length !== 1) {
        throw new Error(`${source}/${fixture.name}: answered ${response.statusCode} ${response.body ?? ''}`);
      }
      results.push({ source, fixture: fixture.name, path, ...message });
    }
  }
  return results;
}
