import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_NAMES } from '../../lib/sources/registry.ts';
import { SERVICE_DIR } from '../local/service-config.ts';
import { type SampleEvent, sampleEvents } from '../testing/sample-events.ts';
import { EVENT_SCHEMA_FILE, eventSchemaText } from './generate.ts';

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8'));

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
const validateEvent = ajv.compile(readJson(EVENT_SCHEMA_FILE));
/** The detailed data schema a sender ships beside its samples (`events/<name>.schema.json`), if any. */
const validateData = new Map(
  SOURCE_NAMES.flatMap((source) => {
    const file = join(SERVICE_DIR, 'events', `${source}.schema.json`);
    return existsSync(file) ? [[source, ajv.compile(readJson(file))] as const] : [];
  }),
);

let events: SampleEvent[];
beforeAll(async () => {
  events = await sampleEvents({ query: 'job=etl-load&team=infra' });
});

describe('events/event.schema.json', () => {
  it('is what npm run schema generates now (run it after changing lib/consumer/event-schemas.ts)', () => {
    expect(readFileSync(EVENT_SCHEMA_FILE, 'utf8')).toBe(eventSchemaText());
  });

  it('has samples of every sender to check against', () => {
    expect(new Set(events.map((e) => e.source))).toEqual(new Set(SOURCE_NAMES));
  });

  it('accepts the event of every valid fixture, as the handler sends it', () => {
    const rejected = events.flatMap((e) =>
      validateEvent(JSON.parse(e.body)) ? [] : [`${e.sample}: ${ajv.errorsText(validateEvent.errors)}`],
    );
    expect(rejected).toEqual([]);
  });

  it('agrees with the detailed data schemas senders ship (events/<name>.schema.json)', () => {
    const rejected = events.flatMap((e) => {
      const validate = validateData.get(e.source);
      if (!validate) return [];
      return validate(e.event.data) ? [] : [`${e.sample}: ${ajv.errorsText(validate.errors)}`];
    });
    expect(rejected).toEqual([]);
  });

  it.each([
    ['an unknown source', (e: Record<string, unknown>) => ({ ...e, source: 'jenkins' })],
    ['a status outside the vocabulary', (e: Record<string, unknown>) => ({ ...e, data: { ...(e.data as object), status: 'done' } })],
    ['a time that is not RFC 3339', (e: Record<string, unknown>) => ({ ...e, time: 'yesterday' })],
    ['no data.raw', (e: Record<string, unknown>) => ({ ...e, data: { ...(e.data as object), raw: undefined } })],
    ['a bk-job type on a thain event', (e: Record<string, unknown>) => ({ ...e, type: 'bkjob.job.finished' })],
  ])('rejects %s', (_what, spoil) => {
    const thain = events.find((e) => e.source === 'thain');
    const spoiled = JSON.parse(JSON.stringify(spoil(JSON.parse(thain?.body ?? '{}'))));
    expect(validateEvent(spoiled)).toBe(false);
  });
});
