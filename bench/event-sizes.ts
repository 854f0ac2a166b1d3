/**
 * Event bytes against raw body bytes, for every sample in `events/` and its `field/` folder: what
 * the handler would send for each (the whole event, before any claim-check), and how it travels.
 *
 *   node --import tsx bench/event-sizes.ts
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SOURCE_NAMES } from '../lib/events/cloud-event.ts';
import { createCallbackHandler } from '../lib/http/callback-handler.ts';
import { MAX_MESSAGE_BYTES, MESSAGE_MARGIN_BYTES, messageSize } from '../lib/queue/send-event.ts';
import { SOURCES } from '../lib/sources/registry.ts';
import { fixturePath } from '../infra/schema/fixture-events.ts';
import { createHttpEvent } from '../infra/local/http-event.ts';
import { SERVICE_DIR } from '../infra/local/service-config.ts';
import { loadFixture } from '../infra/testing/fixtures.ts';

process.env.LOG_LEVEL ??= 'silent';
for (const source of SOURCE_NAMES) {
  const dir = join(SERVICE_DIR, 'events', source);
  const names = [
    ...readdirSync(dir).filter((f) => f.endsWith('.http') && !f.includes('invalid')),
    ...(existsSync(join(dir, 'field')) ? readdirSync(join(dir, 'field')).filter((f) => f.endsWith('.http')).map((f) => `field/${f}`) : []),
  ].sort();
  for (const name of names) {
    const fixture = loadFixture(source, name);
    let sent = '';
    const handler = createCallbackHandler(SOURCES[source], {
      queue: { send: async (_event, body) => void (sent = body) },
      quarantine: false,
      spool: false,
      access: false,
    });
    const path = fixture.path === '/' ? fixturePath(source, fixture.name) : fixture.path;
    const response = await handler(createHttpEvent({ path, query: fixture.query, body: fixture.body, contentType: fixture.contentType }));
    const size = Buffer.byteLength(sent);
    const travels =
      messageSize({ body: sent, attributes: { source: 'x', type: 'x', status: 'x' } }) > MAX_MESSAGE_BYTES - MESSAGE_MARGIN_BYTES ? 'dataref' : 'inline';
    console.log(
      `${source}/${fixture.name}: ${response.statusCode}; raw ${fixture.body.length} B, event ${size} B, ` +
        `${(size / fixture.body.length).toFixed(2)}x, ${travels}`,
    );
  }
}
