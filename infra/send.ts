import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import * as v from 'valibot';
import { ConfigError, readPort } from '../lib/config/settings.ts';
import { commandLine, fail, listOf, stringOf } from './cli/args.ts';
import { SEND_COMMAND } from './cli/commands.ts';
import { DEFAULT_PORT } from './local/defaults.ts';
import { type HttpSample, readHttpSample } from './local/http-sample.ts';
import { ExpectedSampleSchema } from './local/samples.ts';

/** The answer to one post. */
export interface SendAnswer {
  readonly status: number;
  readonly body: string;
  /** Time from the first byte sent to the whole answer, in ms. */
  readonly ms: number;
}

/** What to add to a sample's query when it is posted. */
export interface SendOptions {
  /** Labels added to (or replacing those of) the sample's query: `{ team: 'ops' }`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The `token` to pass in the query, replacing one the sample has. */
  readonly token?: string;
  /** Give up on an answer after this long, in ms. */
  readonly timeoutMs?: number;
}

/**
 * Posts a sample as its sender would: to `<base><its path>?<its query>` (plus `labels` and `token`),
 * with its header lines in their order and spelling (`Host` says the target's host, `Content-Length`
 * the body's length, as any client would), and its exact body bytes.
 * @param base `http://127.0.0.1:3000`, or a deployed API's or function URL's base
 */
export function postSample(base: string, sample: HttpSample, options: SendOptions = {}): Promise<SendAnswer> {
  const target = new URL(base);
  const query = new URLSearchParams(sample.query);
  for (const [name, value] of Object.entries(options.labels ?? {})) query.set(name, value);
  if (options.token !== undefined) query.set('token', options.token);
  const path = `${target.pathname.replace(/\/$/, '')}${sample.path}${query.size > 0 ? `?${query}` : ''}`;
  const headers: string[] = [];
  let hasLength = false;
  for (const [name, value] of sample.headers) {
    const lower = name.toLowerCase();
    if (lower === 'transfer-encoding') continue;
    if (lower === 'content-length') hasLength = true;
    headers.push(name, lower === 'host' ? target.host : lower === 'content-length' ? String(sample.body.length) : value);
  }
  if (!sample.headers.some(([name]) => name.toLowerCase() === 'host')) headers.unshift('Host', target.host);
  if (!hasLength) headers.push('Content-Length', String(sample.body.length));
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const outgoing = request(
      { protocol: target.protocol, hostname: target.hostname, port: target.port, method: sample.method, path, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: Math.round((performance.now() - started) * 10) / 10,
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.setTimeout(options.timeoutMs ?? 30_000, () => outgoing.destroy(new Error(`no answer from ${target.host} within 30 s`)));
    outgoing.on('error', reject);
    outgoing.end(sample.body);
  });
}

/**
 * The answer a sample file should get: the status of its `.expected.json`, if it has one; else a
 * 4xx for an `-invalid-` sample (the samples' naming rule) and a 200 for any other.
 */
export function expectedStatus(file: string): (status: number) => boolean {
  const expectedFile = file.replace(/\.http$/, '.expected.json');
  if (existsSync(expectedFile)) {
    const expected = v.parse(ExpectedSampleSchema, JSON.parse(readFileSync(expectedFile, 'utf8')));
    return (status) => status === expected.status;
  }
  return file.includes('-invalid-') ? (status) => status >= 400 && status < 500 : (status) => status === 200;
}

/** Exits with one line on stderr. */
function stop(reason: string): never {
  return fail(SEND_COMMAND, reason);
}

/** `npm run send -- <file.http>...`. */
async function main(): Promise<void> {
  const args = commandLine(SEND_COMMAND);
  if (args.positionals.length === 0) stop('name the samples to post: npm run send -- events/thain/thain-flow-success.http');
  const labels: Record<string, string> = {};
  for (const label of listOf(args.values.label)) {
    const [name = '', ...rest] = label.split('=');
    if (name === '' || rest.length === 0) stop(`--label ${label}: write it as name=value (--label team=ops)`);
    if (name === 'token') stop('--label token=…: pass a token with --token, it is not a label');
    labels[name] = rest.join('=');
  }
  const timesText = stringOf(args.values.times) ?? '1';
  if (!/^[1-9][0-9]{0,3}$/.test(timesText)) stop(`--times ${timesText}: give a whole number from 1 to 9999`);
  const times = Number(timesText);
  let base: string;
  try {
    base = stringOf(args.values.url) ?? `http://127.0.0.1:${readPort(process.env, 'PORT', DEFAULT_PORT)}`;
  } catch (error) {
    stop(error instanceof ConfigError ? error.message : String(error));
  }
  if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol) || new URL(base).search !== '') {
    stop(`--url ${base}: give an http(s) base URL without a query (https://<api-id>.execute-api.<region>.amazonaws.com)`);
  }
  const samples = args.positionals.map((file): [string, HttpSample] => {
    try {
      return [file, readHttpSample(file)];
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? error.code : undefined;
      return stop(code === 'ENOENT' ? `${file}: no such file` : error instanceof Error ? error.message : String(error));
    }
  });
  const token = stringOf(args.values.token);
  let unexpected = 0;
  let posted = 0;
  for (const [file, sample] of samples) {
    const expected = expectedStatus(file);
    for (let attempt = 1; attempt <= times; attempt++) {
      let answer: SendAnswer;
      try {
        answer = await postSample(base, sample, { labels, ...(token !== undefined && { token }) });
      } catch (error) {
        const code = error instanceof Error && 'code' in error ? String(error.code) : '';
        stop(
          code === 'ECONNREFUSED'
            ? `nothing answers at ${new URL(base).host} (ECONNREFUSED): start npm start (PORT=${new URL(base).port || 80}), or pass --url`
            : `${file}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      posted++;
      const ok = expected(answer.status);
      if (!ok) unexpected++;
      const what = answerText(answer.body);
      process.stdout.write(
        `${file}${times > 1 ? ` [${attempt}/${times}]` : ''} -> ${answer.status} ${what} (${answer.ms} ms)${ok ? '' : '  NOT WHAT THE SAMPLE EXPECTS'}\n`,
      );
    }
  }
  process.stdout.write(
    `${posted} posted to ${base}: ${posted - unexpected} answered as expected${unexpected ? `, ${unexpected} not` : ''}\n`,
  );
  if (unexpected > 0) process.exitCode = 1;
}

/** `id <event id>` for a 200, else the answer's error. */
function answerText(body: string): string {
  try {
    const answer: unknown = JSON.parse(body);
    if (typeof answer === 'object' && answer !== null) {
      if ('id' in answer && typeof answer.id === 'string') return `id ${answer.id}`;
      if ('error' in answer && typeof answer.error === 'string') return answer.error;
    }
  } catch {
    // not JSON: shown as it is
  }
  return body.slice(0, 200);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
