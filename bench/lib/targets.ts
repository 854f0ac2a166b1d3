import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type HttpFixture, loadFixtures } from '../../infra/testing/fixtures.ts';
import { type ServiceFunction, SERVICE_DIR, loadServiceConfig } from '../../infra/local/service-config.ts';
import { type CallbackHandler, createCallbackHandler } from '../../lib/http/callback-handler.ts';
import type { Source } from '../../lib/sources/source.ts';

/** A fixture that a function accepts (200), with the request path it was accepted on. */
export interface AcceptedFixture {
  readonly fixture: HttpFixture;
  /** e.g. `/callbacks/thain/flow` */
  readonly path: string;
  /** The route template of `serverless.yml` it belongs to, e.g. `/callbacks/thain/{kind}`. */
  readonly route: string;
}

/** A function of `serverless.yml` with what the bench needs to drive it. */
export interface BenchTarget {
  readonly fn: ServiceFunction;
  /** The handler module's `.ts` file (the bundle entry). */
  readonly entry: string;
  /** The `Source` the function hands to `createCallbackHandler`. */
  readonly source: Source;
  /** The fixtures it answers 200, each with its path. */
  readonly accepted: readonly AcceptedFixture[];
  /** Fixtures it refuses on every path (the `*-invalid-*` ones), with the status. */
  readonly refused: ReadonlyArray<{ readonly name: string; readonly status: number }>;
}

/** A queue whose `send` resolves at once: the handler then does only decode .. serialize. */
export const instantQueue = { send: () => Promise.resolve() };

/** Content types a function URL / HTTP API hands over as text (as infra/local/local-run.ts). */
const TEXT_TYPES = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+(json|xml))/i;

/** The Lambda event for a fixture posted to `path` (HTTP API payload 2.0), with a query string. */
export function fixtureEvent(fixture: HttpFixture, path: string, query = ''): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { host: 'api123.execute-api.us-east-1.amazonaws.com' };
  for (const [key, value] of fixture.headers) headers[key.toLowerCase()] = value;
  const base64 = fixture.body.length > 0 && !TEXT_TYPES.test(fixture.contentType);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: query,
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api123',
      domainName: headers.host ?? '',
      domainPrefix: 'api123',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'bench' },
      requestId: 'bench-request',
      routeKey: `POST ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: base64,
  };
  if (fixture.body.length > 0) event.body = base64 ? fixture.body.toString('base64') : fixture.body.toString('utf8');
  if (query) event.queryStringParameters = Object.fromEntries(new URLSearchParams(query));
  return event;
}

function isSource(value: unknown): value is Source {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Source>;
  return typeof candidate.name === 'string' && typeof candidate.route === 'function' && typeof candidate.decoders === 'object';
}

/**
 * The `Source` a function module hands to `createCallbackHandler`: the module is read for its
 * `lib/sources/*` import, and that module's Source-shaped export is taken.
 */
async function sourceOf(entry: string): Promise<Source> {
  const text = readFileSync(entry, 'utf8');
  const specifiers = [...text.matchAll(/from\s+['"]([^'"]*\/sources\/[^'"]+)['"]/g)].map((m) => m[1] ?? '');
  const candidates = [...specifiers.map((s) => resolve(dirname(entry), s)), join(SERVICE_DIR, 'lib', 'sources', `${basename(entry)}`)];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const module: Record<string, unknown> = await import(file);
    const found = Object.values(module).filter(isSource);
    if (found.length === 1 && found[0]) return found[0];
  }
  throw new Error(`${entry}: cannot find the Source it serves (looked in ${candidates.join(', ')})`);
}

/** Concrete paths for a route template: each `{param}` is tried with each word of the fixture name. */
function candidatePaths(template: string, fixtureName: string): string[] {
  if (!template.includes('{')) return [template];
  const words = [...new Set(fixtureName.split(/[-_.]/).filter(Boolean))];
  return words.map((word) => template.replace(/\{[^}]+\}/g, word));
}

/**
 * Every callback function `serverless.yml` declares, with its fixtures (`events/<handler file name>/`), each
 * matched to a path it is accepted on by running the real handler once with an instant queue.
 */
export async function loadTargets(): Promise<BenchTarget[]> {
  const targets: BenchTarget[] = [];
  // Callback functions only: those with an HTTP front door (a queue consumer has none).
  for (const fn of loadServiceConfig().functions.filter((f) => f.routes.length > 0 || f.url)) {
    const entry = join(SERVICE_DIR, `${fn.module}.ts`);
    const source = await sourceOf(entry);
    const handler = createCallbackHandler(source, { queue: instantQueue });
    const fixtureDir = existsSync(join(SERVICE_DIR, 'events', basename(fn.module))) ? basename(fn.module) : source.name;
    const templates = fn.routes.length > 0 ? fn.routes.map((r) => r.path) : ['/'];
    const accepted: AcceptedFixture[] = [];
    const refused: Array<{ name: string; status: number }> = [];
    for (const fixture of loadFixtures(fixtureDir)) {
      let found: AcceptedFixture | undefined;
      let status = 0;
      for (const route of templates) {
        for (const path of candidatePaths(route, fixture.name)) {
          const answer = await handler(fixtureEvent(fixture, path));
          // Keep the most telling refusal: a 4xx of a served path over a 404 of a guessed one.
          if (status === 0 || status === 404) status = answer.statusCode ?? 0;
          if (answer.statusCode === 200) {
            found = { fixture, path, route };
            break;
          }
        }
        if (found) break;
      }
      if (found) accepted.push(found);
      else refused.push({ name: fixture.name, status });
    }
    targets.push({ fn, entry, source, accepted, refused });
  }
  return targets;
}

/** The handler of a target with an instant queue (for the CPU bench). */
export function instantHandler(target: BenchTarget): CallbackHandler {
  return createCallbackHandler(target.source, { queue: instantQueue });
}
