import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * A callback request as a real client sends it, as an `events/<source>/*.http` file holds it: line 1
 * the request line (`POST /callbacks/thain/flow?flow=x`), then `Name: value` header lines in the
 * client's order, a blank line, then the exact body bytes (no newline is added after them).
 */
export interface HttpSample {
  /** The file's name without `.http` (`thain-flow-error`, or `field/ci-asr-30min-word-detail-xml`). */
  readonly name: string;
  readonly method: string;
  /** The request line's path (`/callbacks/thain/flow`; `/` when the sample names none). */
  readonly path: string;
  /** The request line's query, without `?` (`flow=nightly-export`), or empty. */
  readonly query: string;
  /** Header lines in the order the client writes them, names as it writes them. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly contentType: string;
  /** The exact body bytes. */
  readonly body: Buffer;
}

/**
 * Reads the bytes of a `.http` file.
 * @throws Error naming the file when there is no blank line between the head and the body, or a
 * header line has no colon
 */
export function parseHttpSample(file: Buffer, name: string): HttpSample {
  const split = file.indexOf('\n\n');
  if (split < 0) throw new Error(`${name}: no blank line between the head and the body`);
  const [requestLine = '', ...headerLines] = file.subarray(0, split).toString('utf8').split('\n');
  const headers = headerLines.map((line, index): [string, string] => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`${name}: header line ${index + 2} ("${line.slice(0, 40)}") is not "Name: value"`);
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const [method = 'POST', target = '/'] = requestLine.split(' ');
  if (!target.startsWith('/')) throw new Error(`${name}: the request line "${requestLine.slice(0, 60)}" names no path (POST /callbacks/…)`);
  const url = new URL(target, 'http://sample');
  return {
    name,
    method,
    path: url.pathname,
    query: url.search.slice(1),
    headers,
    contentType: headers.find(([key]) => key.toLowerCase() === 'content-type')?.[1] ?? '',
    body: file.subarray(split + 2),
  };
}

/** Reads a `.http` file from disk (see {@link parseHttpSample}). */
export function readHttpSample(path: string): HttpSample {
  return parseHttpSample(readFileSync(path), basename(path).replace(/\.http$/, ''));
}

/** The bytes of a `.http` file: the request line, the headers as given, a blank line, the body. */
export function formatHttpSample(sample: Omit<HttpSample, 'name' | 'contentType'>): Buffer {
  const target = `${sample.path}${sample.query ? `?${sample.query}` : ''}`;
  const head = [`${sample.method} ${target}`, ...sample.headers.map(([name, value]) => `${name}: ${value}`)].join('\n');
  return Buffer.concat([Buffer.from(`${head}\n\n`), sample.body]);
}
