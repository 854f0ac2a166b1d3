import type { RedriveSummary } from '../../lib/store/spool.ts';
import { eventTextOf, jsonObjectOf, recordTextOf, type SentMessage, type ServedRequest, shownQuery } from './journal.ts';
import type { ReloadOutcome } from './local-run.ts';

// What `npm start` prints: one line per request, redrive and reload, each starting with the local
// time (HH:MM:SS.mmm), and with --verbose the event (or the quarantine record) under its line.

/** `HH:MM:SS.mmm`, local time. */
export function clock(at: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
}

/**
 * The line of one answered request: time, request number, status, method and path (query shown with
 * its token replaced), then what became of it: the event's type, subject and id (and `duplicate of
 * #n` when an earlier request had its id), or `quarantined: <why>`, `refused, not kept: <why>`, `no
 * route` with the routes there are; then the time taken. With `verbose`, the event or the quarantine
 * record follows, indented.
 * @param routes the routes served, for a request no route serves
 */
export function requestLine(served: ServedRequest, routes: readonly string[], verbose = false): string {
  const query = served.query ? `?${shownQuery(served.query)}` : '';
  const head = `${clock(served.receivedAt)} #${served.seq} ${served.status} ${served.method} ${served.path}${query}`;
  const answer = jsonObjectOf(served.answer);
  const why = text(answer?.error);
  const event = jsonObjectOf(eventTextOf(served));
  let what: string;
  switch (served.outcome) {
    case 'event':
    case 'spooled':
      what = [
        text(event?.type),
        `subject ${text(event?.subject)}`,
        `id ${served.eventId ?? ''}`,
        ...(served.duplicateOf !== undefined ? [`duplicate of #${served.duplicateOf}`] : []),
        ...(served.outcome === 'spooled' ? [`spooled (SQS did not take it: ${served.failures.join('; ')}); the redrive sends it`] : []),
      ].join('  ');
      break;
    case 'quarantined':
      what = `quarantined: ${why}`;
      break;
    case 'refused':
      what = `refused, not kept: ${why}`;
      break;
    case 'unrouted':
      what = `no route serves this path; the routes: ${routes.join(', ')}`;
      break;
    default:
      what = `failed: ${why}${served.failures.length > 0 ? ` (${served.failures.join('; ')})` : ''}`;
  }
  const lines = [`${head}  ${what}  ${served.ms} ms`];
  if (verbose) {
    const attributes = served.messages.find((message) => message.queue === 'events')?.attributes;
    if (attributes)
      lines.push(
        `  attributes: ${Object.entries(attributes)
          .map(([name, value]) => `${name}=${value}`)
          .join(' ')}`,
      );
    const shown = served.outcome === 'quarantined' ? jsonObjectOf(recordTextOf(served)) : event;
    if (shown) lines.push(indent(JSON.stringify(shown, null, 2)));
  }
  return `${lines.join('\n')}\n`;
}

/** The line of a redrive run that found something: what it sent (event ids), what is left. */
export function redriveLine(at: Date, summary: RedriveSummary, sent: readonly SentMessage[]): string {
  const ids = sent.map((message) => (message.queue === 'events' ? text(jsonObjectOf(message.body)?.id) : `a ${message.queue} record`));
  return `${clock(at)} spool redrive: ${summary.sent} sent${ids.length > 0 ? ` (${ids.join(', ')})` : ''}, ${summary.left} left, oldest ${
    summary.oldestAgeSeconds
  } s${summary.stoppedBy ? ` (stopped: ${summary.stoppedBy})` : ''}\n`;
}

/** The line of a reload (`--watch`). */
export function reloadLine(at: Date, outcome: ReloadOutcome): string {
  const changed = outcome.changed.join(', ');
  return outcome.ok
    ? `${clock(at)} reloaded the handlers in ${outcome.ms} ms (${changed} changed)\n`
    : `${clock(at)} reload failed, still serving the code before (${changed} changed): ${outcome.error}\n`;
}

function indent(block: string): string {
  return block
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
