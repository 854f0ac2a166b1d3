import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { type CallbackHandler, type CallbackHandlerOptions, createCallbackHandler } from '../../lib/http/callback-handler.ts';
import { redactSecrets } from '../../lib/http/redact.ts';
import { loadCallbacks } from '../../lib/sources/load-callbacks.ts';
import { senderNamed } from '../../lib/sources/registry.ts';
import { routeNameOf } from '../../lib/sources/sender.ts';
import type { Callbacks } from '../../lib/sources/source.ts';
import { createHttpEvent } from './http-event.ts';
import { formatHttpSample, type HttpSample } from './http-sample.ts';
import { eventTextOf, jsonObjectOf, type ServedRequest, secretsOf } from './journal.ts';
import { callbackRoutes, SERVICE_DIR } from './service-config.ts';

/**
 * What a sample must become, kept beside it as `<name>.expected.json`: the answer the current code
 * gives it when it arrives at `receivedAt` (the receive time is part of some events, and of Thain's
 * ids), and on a 200 the whole event, as the message body holds it. The sample tests run every
 * sample that has one and compare, field for field.
 */
export const ExpectedSampleSchema = v.strictObject({
  /** When the sample is taken to arrive (ISO 8601, UTC). */
  receivedAt: v.pipe(v.string(), v.isoTimestamp()),
  /** The HTTP status of the answer. */
  status: v.pipe(v.number(), v.integer()),
  /** The answer's JSON body: `{ok, id}`, or `{error, issues}`. */
  answer: v.record(v.string(), v.unknown()),
  /** The event, on a 200: the message body, whole (its sender's `data` fields included). */
  event: v.optional(v.record(v.string(), v.unknown())),
});
/** The contents of a `.expected.json` file. */
export type ExpectedSample = v.InferOutput<typeof ExpectedSampleSchema>;

/** How to run a sample: the parsers and the pipeline of the code as it is now. */
export interface SampleCode {
  readonly callbacksOf?: (source: string) => Promise<Callbacks>;
  readonly createHandler?: (callbacks: Callbacks, options: CallbackHandlerOptions) => CallbackHandler;
}

/**
 * What the code makes of a sample of `source` arriving at `receivedAt`: its answer and, on a 200,
 * its event (nothing is sent anywhere: no queue, quarantine, spool or token check).
 */
export async function expectationOf(source: string, sample: HttpSample, receivedAt: Date, code: SampleCode = {}): Promise<ExpectedSample> {
  const callbacks = await (code.callbacksOf ?? loadCallbacks)(source);
  let sent: unknown;
  const handler = (code.createHandler ?? createCallbackHandler)(callbacks, {
    queue: {
      send: async (_event, body) => {
        sent = JSON.parse(body);
      },
    },
    quarantine: false,
    spool: false,
    access: false,
    now: () => receivedAt,
  });
  const response = await handler(
    createHttpEvent({ body: sample.body, contentType: sample.contentType, path: sample.path, query: sample.query, method: sample.method }),
  );
  const status = response.statusCode ?? 500;
  return v.parse(ExpectedSampleSchema, {
    receivedAt: receivedAt.toISOString(),
    status,
    answer: JSON.parse(response.body ?? '{}'),
    ...(status === 200 && sent !== undefined && { event: sent }),
  });
}

/** Where `saveSample` wrote, relative to the samples folder's parent (`events/thain/x.http`). */
export interface SavedSample {
  readonly http: string;
  readonly expected: string;
  /** The answer the sample gets from the code now (its expectation's status). */
  readonly status: number;
}

/** A sample's name: lower-case letters, digits and `-`, as the repository's samples are named. */
const SAMPLE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** Header lines that carry credentials: never written to a sample. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-amz-security-token']);

/**
 * Writes a served request as a sample of its sender, `<samplesDir>/<source>/<name>.http`, and what
 * the code makes of it now as `<name>.expected.json` (see {@link ExpectedSampleSchema}). The sample is
 * the request as the sender sent it, on its sender's HTTP API route (a function URL request is
 * written on the route its path names), without a secret: no `token` in the query, no credential
 * header, and the tokens replaced with `REDACTED` in the body (as the pipeline does before it keeps
 * anything). A refused request is a sample with `-invalid-` in its name, an accepted one without: the
 * sample tests tell them apart so. An existing sample is never overwritten.
 * @throws Error with one line that says what is wrong (name, route, a file that exists)
 */
export async function saveSample(
  request: ServedRequest,
  name: string,
  options: SampleCode & { readonly samplesDir?: string } = {},
): Promise<SavedSample> {
  const samplesDir = options.samplesDir ?? join(SERVICE_DIR, 'events');
  if (!SAMPLE_NAME.test(name) || name.length > 100) {
    throw new Error(`"${name.slice(0, 100)}" is not a sample name: use lower-case letters, digits and "-" (like thain-flow-timeout)`);
  }
  const source = request.route?.source;
  const sender = source === undefined ? undefined : senderNamed(source);
  if (!request.route || !sender) throw new Error(`request #${request.seq} did not reach a sender's route: it cannot be a sample`);
  const routeName = routeNameOf(sender, request.route.path);
  const route = callbackRoutes().find((candidate) => candidate.source === sender.name && candidate.route === routeName);
  if (!route) throw new Error(`request #${request.seq} was posted to no route of ${sender.name}: a sample must name one`);

  const query = new URLSearchParams(request.query);
  const tokens = secretsOf(request);
  query.delete('token');
  const body = tokens.length > 0 ? redactSecrets(request.body, tokens).bytes : request.body;
  const headers = request.headers
    .filter(([header]) => !SECRET_HEADERS.has(header.toLowerCase()) && header.toLowerCase() !== 'transfer-encoding')
    .map(([header, value]): [string, string] => [header, header.toLowerCase() === 'content-length' ? String(body.length) : value]);
  if (!headers.some(([header]) => header.toLowerCase() === 'content-length')) headers.push(['Content-Length', String(body.length)]);
  const sample: HttpSample = {
    name,
    method: request.method,
    path: route.path,
    query: query.toString(),
    headers,
    contentType: headers.find(([header]) => header.toLowerCase() === 'content-type')?.[1] ?? '',
    body,
  };
  const expected = await expectationAsServed(sender.name, sample, request, options);
  if ((expected.status !== 200) !== name.includes('-invalid-')) {
    throw new Error(
      expected.status === 200
        ? `the code takes this request (200): its name must not contain "-invalid-"`
        : `the code refuses this request (${expected.status}): its name must contain "-invalid-" (like ${sender.name}-invalid-${name})`,
    );
  }
  const folder = join(samplesDir, sender.name);
  await mkdir(folder, { recursive: true });
  const httpFile = join(folder, `${name}.http`);
  const expectedFile = join(folder, `${name}.expected.json`);
  // `wx`: a sample of that name is never replaced; the second file only once the first is written.
  await writeFile(httpFile, formatHttpSample(sample), { flag: 'wx' }).catch((error: unknown) => {
    throw error instanceof Error && 'code' in error && error.code === 'EEXIST'
      ? new Error(`${sender.name}/${name}.http exists: pick another name`)
      : error;
  });
  try {
    await writeFile(expectedFile, `${JSON.stringify(expected, null, 2)}\n`, { flag: 'wx' });
  } catch (error) {
    await rm(httpFile, { force: true });
    throw error instanceof Error && 'code' in error && error.code === 'EEXIST'
      ? new Error(`${sender.name}/${name}.expected.json exists: pick another name`)
      : error;
  }
  return { http: httpFile, expected: expectedFile, status: expected.status };
}

/**
 * The expectation of a sample saved from a served request, at the receive time its handler used:
 * that is the event's `time` when the sender sends none (the event then reads the same as on the
 * inspector, id included), else the time the local server took the request.
 */
async function expectationAsServed(source: string, sample: HttpSample, request: ServedRequest, code: SampleCode): Promise<ExpectedSample> {
  const live = jsonObjectOf(eventTextOf(request));
  const times = [live?.time, request.receivedAt.toISOString()].filter(
    (time): time is string => typeof time === 'string' && !Number.isNaN(Date.parse(time)),
  );
  for (const time of times) {
    const expected = await expectationOf(source, sample, new Date(time), code);
    if (live === undefined || (expected.event?.id === live.id && expected.event?.time === live.time)) return expected;
  }
  return expectationOf(source, sample, request.receivedAt, code);
}
