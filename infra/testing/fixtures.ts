import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HttpSample, parseHttpSample } from '../local/http-sample.ts';

/** A callback request as a real client sends it, read from an `events/<source>/*.http` file. */
export type HttpFixture = HttpSample;

/** The repository's samples: `events/<source>/*.http`. */
export const EVENTS_DIR = join(import.meta.dirname, '..', '..', 'events');

/**
 * Reads a `.http` fixture (see `parseHttpSample`). `name` may name a subfolder
 * (`field/ci-asr-30min-word-detail-xml`).
 */
export function loadFixture(source: string, name: string): HttpFixture {
  const file = readFileSync(join(EVENTS_DIR, source, name.endsWith('.http') ? name : `${name}.http`));
  return parseHttpSample(file, `${name.replace(/\.http$/, '')}`);
}

/** Every `.http` fixture of a source and of its `field/` folder (real shapes from the field), by name. */
export function loadAllFixtures(source: string): HttpFixture[] {
  const field = join(EVENTS_DIR, source, 'field');
  const fieldNames = existsSync(field) ? readdirSync(field).filter((file) => file.endsWith('.http')) : [];
  return [...loadFixtures(source), ...fieldNames.sort().map((file) => loadFixture(source, `field/${file}`))];
}

/** Every `.http` fixture of a source (not those in its subfolders, such as `field/`), sorted by name. */
export function loadFixtures(source: string): HttpFixture[] {
  return readdirSync(join(EVENTS_DIR, source))
    .filter((file) => file.endsWith('.http'))
    .sort()
    .map((file) => loadFixture(source, file));
}

/** Whether a sample has its expectation in `<name>.expected.json` beside it (every such sample is checked by `infra/local/samples.test.ts`). */
export function hasExpectedFile(source: string, name: string): boolean {
  return existsSync(join(EVENTS_DIR, source, `${name}.expected.json`));
}

/**
 * A source's samples whose expectations its own test lists in its tables: all but those saved with
 * a `.expected.json` (the inspector's "save as a sample"), which are checked against that file.
 */
export function listedSamples(source: string): HttpFixture[] {
  return loadFixtures(source).filter((fixture) => !hasExpectedFile(source, fixture.name));
}
