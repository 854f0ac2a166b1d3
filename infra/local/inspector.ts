import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import * as v from 'valibot';
import { labelsOf } from '../../lib/http/labels.ts';
import { redactSecrets } from '../../lib/http/redact.ts';
import { eventTextOf, type Journal, jsonObjectOf, recordTextOf, type ServedRequest, secretsOf, shownQuery } from './journal.ts';
import type { SavedSample } from './samples.ts';

/** What the inspector's buttons do, and where it reads the requests from. */
export interface InspectorOptions {
  readonly journal: Journal;
  /** `http://127.0.0.1:<port>`: the only origin whose pages may use the inspector. */
  readonly origin: () => string;
  /** Sends a kept request again, as it came; resolves with the new request's number. */
  resend(seq: number): Promise<number>;
  /** Writes a kept request as a sample with its expected event. */
  save(seq: number, name: string): Promise<SavedSample>;
  /** Runs a quarantined request's record through the current code. */
  replay(seq: number): Promise<{ readonly status: number; readonly error: string; readonly eventId?: string }>;
}

/** The page's files, served as they are (no build step); nothing else under the folder is served. */
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/_inspector/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/_inspector/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
const FOLDER = join(import.meta.dirname, 'inspector');

/**
 * Every answer of the inspector forbids what a hostile callback body could try if it ever reached
 * the page as markup: no inline script or style, nothing from elsewhere, no framing, no sniffing.
 * (The page only ever writes bodies as text.)
 */
const SAFE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const SaveSchema = v.object({ name: v.pipe(v.string(), v.maxLength(200)) });

/**
 * The local inspector: the page at `/`, its files under `/_inspector/`, and its API: the requests
 * (`GET /_inspector/requests`, `…/requests/<n>`), a live stream of them (`GET /_inspector/stream`,
 * Server-Sent Events), and the buttons (`POST …/requests/<n>/resend|save|replay`). It answers only
 * requests addressed to the local server itself (`Host: 127.0.0.1:<port>` or `localhost:<port>`, so a
 * web page cannot reach it by DNS rebinding), and its buttons only calls from its own page or from no
 * page at all (a `POST` whose `Origin` is another site's is refused; the JSON body it must carry makes
 * a browser ask first, and the inspector never says yes).
 */
export function createInspector(options: InspectorOptions): {
  /** Serves the request if it is the inspector's; false when it is not (a callback, or an unknown path). */
  serve(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean>;
  close(): void;
} {
  const streams = new Set<ServerResponse>();
  const { journal } = options;

  const send = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { ...SAFE_HEADERS, 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify(body));
  };

  return {
    async serve(request, response, url) {
      const page = FILES[url.pathname];
      const isPage = page !== undefined && (request.method === 'GET' || request.method === 'HEAD');
      if (!isPage && !url.pathname.startsWith('/_inspector/')) return false;
      const origin = new URL(options.origin());
      const host = request.headers.host ?? '';
      if (host !== origin.host && host !== `localhost:${origin.port}`) {
        send(response, 421, { error: `the inspector answers at ${origin.origin}/ only` });
        return true;
      }
      if (page && isPage) {
        const text = await readFile(join(FOLDER, page.file));
        response.writeHead(200, { ...SAFE_HEADERS, 'content-type': page.type });
        response.end(request.method === 'HEAD' ? undefined : text);
        return true;
      }
      const route = /^\/_inspector\/(requests|stream)(?:\/(\d+)(?:\/(resend|save|replay))?)?$/.exec(url.pathname);
      const [, collection, number, action] = route ?? [];
      const seq = number === undefined ? undefined : Number(number);
      if (request.method === 'GET' && collection === 'stream' && seq === undefined) {
        response.writeHead(200, { ...SAFE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
        response.write('retry: 1000\n\n');
        const unsubscribe = journal.subscribe((served) => {
          response.write(`event: request\ndata: ${JSON.stringify(summaryOf(served))}\n\n`);
        });
        streams.add(response);
        response.on('close', () => {
          unsubscribe();
          streams.delete(response);
        });
        return true;
      }
      if (request.method === 'GET' && collection === 'requests' && action === undefined) {
        if (seq === undefined) {
          send(response, 200, [...journal.list()].reverse().map(summaryOf));
          return true;
        }
        const served = journal.get(seq);
        if (served) send(response, 200, detailOf(served));
        else send(response, 404, { error: `no request #${seq} is kept (the inspector keeps the last 500)` });
        return true;
      }
      if (request.method === 'POST' && collection === 'requests' && seq !== undefined && action !== undefined) {
        const caller = request.headers.origin;
        if (caller !== undefined && caller !== origin.origin) {
          send(response, 403, { error: `only the inspector's own page (${origin.origin}) may use its buttons` });
          return true;
        }
        if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) {
          send(response, 415, { error: 'send a JSON body (Content-Type: application/json)' });
          return true;
        }
        const body = await readJson(request);
        try {
          if (action === 'resend') send(response, 200, { seq: await options.resend(seq) });
          else if (action === 'replay') send(response, 200, await options.replay(seq));
          else {
            const parsed = v.safeParse(SaveSchema, body);
            if (!parsed.success) send(response, 400, { error: 'send {"name": "<sample name>"}' });
            else send(response, 200, await options.save(seq, parsed.output.name));
          }
        } catch (error) {
          send(response, 409, { error: error instanceof Error ? error.message : String(error) });
        }
        return true;
      }
      send(response, 404, { error: 'the inspector has no such page' });
      return true;
    },
    close() {
      for (const stream of streams) stream.end();
      streams.clear();
    },
  };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > 64 * 1024) return undefined;
    chunks.push(bytes);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    return undefined;
  }
}

function textField(value: Readonly<Record<string, unknown>> | undefined, name: string): string | undefined {
  const found = value?.[name];
  return typeof found === 'string' ? found : undefined;
}

/** One row of the page's list. */
function summaryOf(served: ServedRequest) {
  const event = jsonObjectOf(eventTextOf(served));
  const answer = jsonObjectOf(served.answer);
  const secrets = secretsOf(served);
  return {
    seq: served.seq,
    receivedAt: served.receivedAt.toISOString(),
    method: served.method,
    // On a function URL the path is whatever was registered: a token put there is not shown either.
    path: secrets.length > 0 ? redactSecrets(Buffer.from(served.path), secrets).bytes.toString() : served.path,
    query: shownQuery(served.query),
    routeKey: served.route?.routeKey ?? null,
    function: served.route?.function ?? null,
    source: served.route?.source ?? null,
    functionUrl: served.route?.functionUrl ?? false,
    labels: labelsOf(new URLSearchParams(served.query), secrets),
    done: served.done,
    status: served.status,
    outcome: served.outcome,
    ms: served.ms,
    eventId: served.eventId ?? null,
    type: textField(event, 'type') ?? null,
    subject: textField(event, 'subject') ?? null,
    error: textField(answer, 'error') ?? null,
    duplicateOf: served.duplicateOf ?? null,
    resentFrom: served.resentFrom ?? null,
    replays: served.replays.map(({ at, status, error, eventId }) => ({ at: at.toISOString(), status, error, eventId: eventId ?? null })),
  };
}

/** Everything the page shows of one request: the raw request beside what it became. */
function detailOf(served: ServedRequest) {
  const secrets = secretsOf(served);
  const body = secrets.length > 0 ? redactSecrets(served.body, secrets).bytes : served.body;
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    text = undefined;
  }
  return {
    ...summaryOf(served),
    headers: served.headers,
    body: text === undefined ? { base64: body.toString('base64'), size: body.length } : { text, size: body.length },
    answer: served.answer,
    event: eventTextOf(served) ?? null,
    attributes: served.messages.find((message) => message.queue === 'events')?.attributes ?? null,
    quarantine: recordTextOf(served) ?? null,
    objects: served.objects.map(({ key, size }) => ({ key, size })),
    failures: served.failures,
    replays: served.replays.map((replay) => ({ ...replay, at: replay.at.toISOString() })),
  };
}
