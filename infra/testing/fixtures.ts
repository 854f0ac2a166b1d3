import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A callback request as a real client sends it, read from an `events/<source>/*.http` file. */
export interface HttpFixture {
  readonly name: string;
  readonly method: string;
  /** The request line's path (`/callbacks/thain/flow`; `/` when the sample names none). */
  readonly path: string;
  /** The request line's query, without `?` (`flow=nightly-export`), or empty. */
  readonly query: string;
  /** Header lines in the order the client writes them. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly contentType: string;
  /** The exact body bytes. */
  readonly body: Buffer;
}

const EVENTS_DIR = join(import.meta.dirname, '..', '..', 'events');

/**
 * Reads a `.http` fixture: line 1 the request line (`POST /callbacks/thain/flow?flow=x`), then
 * `Name: value` header lines in the client's order, a blank line, then the exact body bytes.
 * `name` may name a subfolder (`field/ci-asr-30min-word-detail-xml`).
 */
export function loadFixture(source: string, name: string): HttpFixture {
  const file = readFileSync(join(EVENTS_DIR, source, name.endsWith('.http') ? name : `${name}.http`));
  const split = file.indexOf('\n\n');
  if (split < 0) throw new Error(`${source}/${name}: no blank line between head and body`);
  const [requestLine = '', ...headerLines] = file.subarray(0, split).toString('utf8').split('\n');
  const headers = headerLines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const contentType = headers.find(([key]) => key.toLowerCase() === 'content-type')?.[1] ?? '';
  const target = new URL(requestLine.split(' ')[1] ?? '/', 'http://fixture');
  return {
    name: name.replace(/\.http$/, ''),
    method: requestLine.split(' ')[0] ?? 'POST',
    path: target.pathname,
    query: target.search.slice(1),
    headers,
    contentType,
    body: file.subarray(split + 2),
  };
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
