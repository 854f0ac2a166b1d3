import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SOURCE_NAMES } from '../../lib/sources/registry.ts';
import { callbackRoutes, SERVICE_DIR } from '../local/service-config.ts';
import { loadFixtures } from '../testing/fixtures.ts';
import { sampleEvents } from '../testing/sample-events.ts';

// The example events in docs/consumers.md are what the handler really sends for the fixture and
// query named above each (`<!-- example: <source>/<fixture>?<query> -->`), received at a fixed time.
const RECEIVED_AT = new Date('2026-03-12T10:33:20.000Z');
const doc = readFileSync(join(SERVICE_DIR, 'docs', 'consumers.md'), 'utf8');
const examples = [...doc.matchAll(/<!-- example: ([\w-]+)\/([\w-]+)\?(\S*) -->\n```json\n([\s\S]*?)\n```/g)].map(
  ([, source = '', fixture = '', query = '', json = '']) => ({ source, fixture, query, json }),
);

describe('docs/consumers.md', () => {
  it('shows example events, of registered senders only, one per sender', () => {
    const shown = examples.map((example) => example.source);
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown).size).toBe(shown.length);
    for (const source of shown) expect(SOURCE_NAMES).toContain(source);
  });

  it.each(examples.map((example) => [`${example.source}/${example.fixture}`, example] as const))(
    '%s is the event the handler sends',
    async (_name, example) => {
      const events = await sampleEvents({ query: example.query, now: RECEIVED_AT });
      const produced = events.find((event) => event.source === example.source && event.sample === example.fixture);
      expect(JSON.parse(example.json)).toEqual(produced?.event);
    },
  );
});

describe('docs/senders/', () => {
  it.each(SOURCE_NAMES.map((source) => [source]))('has the page of %s: registering its URL, and what the code relies on', (source) => {
    const page = readFileSync(join(SERVICE_DIR, 'docs', 'senders', `${source}.md`), 'utf8');
    expect(page).toMatch(/^## Registering the URL$/m);
    expect(page).toMatch(/^## What the code relies on$/m);
  });
});

describe('events/<sender>/', () => {
  it.each(SOURCE_NAMES.map((source) => [source]))('%s: every sample names, in its request line, a route of its sender', (source) => {
    const paths = new Set(callbackRoutes().flatMap((route) => (route.source === source ? [route.path] : [])));
    const field = join(source, 'field');
    const samples = [...loadFixtures(source), ...(existsSync(join(SERVICE_DIR, 'events', field)) ? loadFixtures(field) : [])];
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) expect(paths, `${source}/${sample.name}: POST ${sample.path}`).toContain(sample.path);
  });
});
