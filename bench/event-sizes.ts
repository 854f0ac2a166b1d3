/**
 * Event bytes against raw body bytes, for every sample in `events/` and its `field/` folder: what
 * the handler would send for each (the whole event, before any claim-check), and how it travels.
 *
 *   node --import tsx bench/event-sizes.ts
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_DIR } from '../infra/local/service-config.ts';
import { loadFixture } from '../infra/testing/fixtures.ts';
import { handle, sampleRequest } from '../infra/testing/sample-events.ts';
import { MAX_MESSAGE_BYTES, MESSAGE_MARGIN_BYTES, messageSize } from '../lib/queue/send-event.ts';
import { loadCallbacks } from '../lib/sources/load-callbacks.ts';
import { SOURCE_NAMES } from '../lib/sources/registry.ts';

process.env.LOG_LEVEL ??= 'silent';
for (const source of SOURCE_NAMES) {
  const callbacks = await loadCallbacks(source);
  const dir = join(SERVICE_DIR, 'events', source);
  const names = [
    ...readdirSync(dir).filter((f) => f.endsWith('.http') && !f.includes('invalid')),
    ...(existsSync(join(dir, 'field'))
      ? readdirSync(join(dir, 'field'))
          .filter((f) => f.endsWith('.http'))
          .map((f) => `field/${f}`)
      : []),
  ].sort();
  for (const name of names) {
    const fixture = loadFixture(source, name);
    const handled = await handle(callbacks, sampleRequest(fixture));
    const sent = handled.body ?? '';
    const size = Buffer.byteLength(sent);
    const travels =
      messageSize({ body: sent, attributes: { source: 'x', type: 'x', status: 'x' } }) > MAX_MESSAGE_BYTES - MESSAGE_MARGIN_BYTES
        ? 'dataref'
        : 'inline';
    console.log(
      `${source}/${fixture.name}: ${handled.status}; raw ${fixture.body.length} B, event ${size} B, ` +
        `${(size / fixture.body.length).toFixed(2)}x, ${travels}`,
    );
  }
}
