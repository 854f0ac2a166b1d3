import { readFileSync } from 'node:fs';
import { sampleEvents } from '../infra/testing/sample-events.ts';
import { rawBodyOf } from '../lib/decode/charset.ts';
import { normalizeCallback } from '../lib/sources/source.ts';
import { callbacks } from '../lib/sources/tencent-ci/callback.ts';

// How large a Tencent CI event is next to the callback it carries (issue 12: each subtree once; an
// event holds the raw body plus its normalized form, so about 2x is the least it can be).
//
//   node_modules/.bin/node --import tsx bench/ci-event-size.ts            every sample in events/tencent-ci
//   node_modules/.bin/node --import tsx bench/ci-event-size.ts some.http  one .http file, through decoding
//                                                                        and normalizing alone (no size limit)
//
// Columns: raw = body bytes; event = the SQS message body; ratio = event / raw; normalized = event bytes
// besides the raw body and the envelope, per raw byte.

process.env.LOG_LEVEL = 'silent';

interface Row {
  readonly name: string;
  readonly raw: number;
  readonly event: number;
  readonly normalized: number;
}

const bytes = (text: string) => Buffer.byteLength(text);

/** The event's size as the handler builds it (decoding, normalizing, the envelope), without the queue's size limit. */
function normalizeAlone(name: string, file: string): Row {
  const content = readFileSync(file);
  const split = content.indexOf('\n\n');
  const head = content.subarray(0, split).toString('utf8');
  const bytes = content.subarray(split + 2);
  const contentType = /^content-type:\s*(.*)$/im.exec(head)?.[1] ?? '';
  const raw = rawBodyOf(bytes, contentType);
  const route = callbacks.route('/');
  if (!route) throw new Error('tencent-ci serves every path');
  const event = normalizeCallback(callbacks, route, bytes, contentType, { labels: {}, receivedAt: new Date(), raw });
  return row(name, raw.body, JSON.stringify(event), JSON.stringify(raw));
}

function row(name: string, body: string, event: string, rawJson: string): Row {
  const envelope = 260;
  return { name, raw: bytes(body), event: bytes(event), normalized: (bytes(event) - bytes(rawJson) - envelope) / bytes(body) };
}

const [file] = process.argv.slice(2);
const rows = file
  ? [normalizeAlone(file, file)]
  : (await sampleEvents())
      .filter((e) => e.source === 'tencent-ci')
      .map((e) => row(e.sample, e.event.data.raw.body, e.body, JSON.stringify(e.event.data.raw)))
      .sort((a, b) => b.raw - a.raw);
process.stdout.write('sample                                          raw B   event B  event/raw  normalized/raw\n');
for (const r of rows) {
  process.stdout.write(
    `${r.name.padEnd(46)} ${String(r.raw).padStart(7)} ${String(r.event).padStart(9)} ${(r.event / r.raw).toFixed(2).padStart(10)} ${r.normalized.toFixed(2).padStart(15)}\n`,
  );
}
