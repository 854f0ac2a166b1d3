import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import autocannon from 'autocannon';
import { SERVICE_DIR } from '../infra/local/service-config.ts';
import { median } from './lib/stats.ts';
import type { AcceptedFixture, BenchTarget } from './lib/targets.ts';

/** One side (subject or floor) of one route, over its measured segments. */
export interface E2eSide {
  /** Completed requests per second over all measured segments. */
  readonly rps: number;
  /** Median over the segments of each segment's p50 / p99 answer time. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time of the server's process group per completed request (Linux /proc; NaN elsewhere). */
  readonly serverCpuUsPerRequest: number;
  readonly answered200: number;
  readonly non200: number;
  readonly errors: number;
  readonly timeouts: number;
  /** 200 answers of all runs of the route, warm-up included (what the queue is checked against). */
  readonly answered200All: number;
  /** Events found in the queue after the route's runs (warm-up included). */
  readonly inQueue: number;
  /** Answered 200 but not in the queue (warm-up included). */
  readonly lost: number;
  /** Event ids found more than once in the queue (warm-up included). */
  readonly duplicates: number;
  /** In the queue but never answered: requests in flight when the load generator stopped a segment. */
  readonly unanswered: number;
  readonly durationS: number;
  readonly segmentRps: readonly number[];
}

export interface E2eRoute {
  readonly function: string;
  readonly route: string;
  /** The fixtures sent, in rotation. */
  readonly fixtures: readonly string[];
  readonly subject: E2eSide;
  readonly floor: E2eSide;
  /** Median of the subject/floor throughput ratios of adjacent segment pairs. */
  readonly rpsRatio: number;
}

interface Server {
  readonly name: string;
  readonly url: string;
  readonly queueUrl: string;
  readonly sqs: SQSClient;
  readonly child: ChildProcess;
  readonly log: string;
}

const LOG_DIR = join(SERVICE_DIR, '.build', 'bench');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The environment of a server under test: no queue, token or allowlist of the caller's shell. */
function serverEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(QUEUE_URL|QUARANTINE_QUEUE_URL|TOKENS_|ALLOW_CIDRS_|AWS_ENDPOINT_URL|LOG_LEVEL$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Starts a server in its own process group (so `npm start`'s node child is stopped with it), its
 * output to a log file, and waits for its banner: `listening on <url>` and `EventsQueue: <url>`.
 */
async function startServer(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Server> {
  await mkdir(LOG_DIR, { recursive: true });
  const log = join(LOG_DIR, `${name}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(command, args, { cwd: SERVICE_DIR, env, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    const text = readFileSync(log, 'utf8');
    const url = /listening on (http:\/\/\S+)/.exec(text)?.[1];
    const queueUrl = /EventsQueue: (http:\/\/\S+)/.exec(text)?.[1];
    if (url && queueUrl) {
      const endpoint = new URL(queueUrl).origin;
      const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      return { name, url, queueUrl, sqs, child, log };
    }
    if (exited || Date.now() > deadline) {
      stopServer({ child } as Server);
      throw new Error(`${name} did not start:\n${text.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function stopServer(server: Pick<Server, 'child'>): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      clearTimeout(force);
      resolve();
    }
  });
}

/** Receives and deletes every message of a queue, with a few receivers at once; returns the bodies. */
async function drain(server: Server): Promise<string[]> {
  const bodies: string[] = [];
  const receiver = async () => {
    let empty = 0;
    while (empty < 2) {
      const { Messages = [] } = await server.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: server.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 900, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) {
        empty++;
        continue;
      }
      empty = 0;
      for (const message of Messages) bodies.push(message.Body ?? '');
      await server.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: server.queueUrl,
          Entries: Messages.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle ?? '' })),
        }),
      );
    }
  };
  await Promise.all([receiver(), receiver(), receiver(), receiver()]);
  return bodies;
}

interface RunResult {
  readonly result: autocannon.Result;
  readonly answeredIds: string[];
}

let sequence = 0;

/** Loads one server for `seconds` at `connections`, each request one of `fixtures` with a unique label. */
async function load(server: Server, fixtures: readonly AcceptedFixture[], seconds: number, connections: number): Promise<RunResult> {
  const answeredIds: string[] = [];
  const tag = `${server.name}-${Date.now().toString(36)}`;
  const result = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const n = sequence++;
          const { fixture, path } = fixtures[n % fixtures.length] as AcceptedFixture;
          // A unique label per request: bk-job's event id is a hash of body and labels, so equal
          // requests would share an id and a duplicate could not be told from a repeat.
          return {
            ...request,
            method: 'POST',
            path: `${path}?bench=${tag}-${n}`,
            headers: { 'content-type': fixture.contentType },
            body: fixture.body,
          };
        },
        onResponse: (status, body) => {
          if (status !== 200) return;
          try {
            const id = (JSON.parse(body) as { id?: unknown }).id;
            if (typeof id === 'string') answeredIds.push(id);
          } catch {
            // the floor answers without an id
          }
        },
      },
    ],
  });
  return { result, answeredIds };
}

interface Tally {
  answered: number;
  lost: number;
  duplicates: number;
  unanswered: number;
  inQueue: number;
}

/** After a route: waits for work in flight, empties the queue and checks it against the 200 answers. */
async function settle(server: Server, runs: readonly RunResult[], subject: boolean, tally: Tally): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const drainStarted = performance.now();
  try {
    await check(server, runs, subject, tally);
  } finally {
    drainMs += performance.now() - drainStarted;
  }
}

/** Time spent emptying queues, for the log. */
let drainMs = 0;

async function check(server: Server, runs: readonly RunResult[], subject: boolean, tally: Tally): Promise<void> {
  const answered = runs.reduce((sum, run) => sum + (run.result.statusCodeStats['200']?.count ?? 0), 0);
  tally.answered += answered;
  const bodies = await drain(server);
  tally.inQueue += bodies.length;
  if (!subject) {
    // The floor's events are all alike: count them.
    tally.lost += Math.max(0, answered - bodies.length);
    tally.unanswered += Math.max(0, bodies.length - answered);
    return;
  }
  const ids = bodies.map((body) => {
    try {
      return String((JSON.parse(body) as { id?: unknown }).id);
    } catch {
      return `unparsable:${body.slice(0, 40)}`;
    }
  });
  const inQueue = new Set(ids);
  tally.duplicates += ids.length - inQueue.size;
  const answeredIds = runs.flatMap((run) => run.answeredIds);
  const answeredSet = new Set(answeredIds);
  // A 200 whose body had no id, or whose id is not in the queue, is a lost event.
  tally.lost += Math.max(0, answered - answeredIds.length);
  for (const id of answeredSet) if (!inQueue.has(id)) tally.lost++;
  for (const id of inQueue) if (!answeredSet.has(id)) tally.unanswered++;
}

/** CPU seconds used so far by every process of a process group (Linux), or NaN. */
function groupCpuSeconds(pgid: number | undefined): number {
  if (pgid === undefined || !existsSync('/proc/self/stat')) return Number.NaN;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name: state ppid pgrp ... utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

interface Segment {
  readonly run: RunResult;
  readonly cpuSeconds: number;
}

async function segment(server: Server, fixtures: readonly AcceptedFixture[], seconds: number, connections: number): Promise<Segment> {
  const before = groupCpuSeconds(server.child.pid);
  const run = await load(server, fixtures, seconds, connections);
  return { run, cpuSeconds: groupCpuSeconds(server.child.pid) - before };
}

function completedOf(result: autocannon.Result): number {
  return Object.values(result.statusCodeStats).reduce((sum, s) => sum + s.count, 0);
}

function side(segments: readonly Segment[], tally: Tally): E2eSide {
  const results = segments.map((s) => s.run.result);
  const completed = results.reduce((sum, r) => sum + completedOf(r), 0);
  const duration = results.reduce((sum, r) => sum + r.duration, 0);
  const answered200 = results.reduce((sum, r) => sum + (r.statusCodeStats['200']?.count ?? 0), 0);
  return {
    rps: completed / duration,
    p50Ms: median(results.map((r) => r.latency.p50)),
    p99Ms: median(results.map((r) => r.latency.p99)),
    serverCpuUsPerRequest: (segments.reduce((sum, s) => sum + s.cpuSeconds, 0) * 1e6) / completed,
    answered200,
    answered200All: tally.answered,
    non200: completed - answered200,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    timeouts: results.reduce((sum, r) => sum + r.timeouts, 0),
    inQueue: tally.inQueue,
    lost: tally.lost,
    duplicates: tally.duplicates,
    unanswered: tally.unanswered,
    durationS: duration,
    segmentRps: results.map((r) => completedOf(r) / r.duration),
  };
}

/**
 * For every HTTP API route of every callback function: `npm start` (subject) and the floor server
 * (`npm start`'s own server serving the floor handler, bench/floor/server.ts), each in its own
 * process, loaded by autocannon from this process. Per route: a warm-up of each,
 * then `segments` pairs of short runs, floor and subject alternating (ABBA...), so drift and the
 * neighbours' load hit both alike; then each queue is emptied and checked against the 200 answers.
 */
export async function measureEndToEnd(
  targets: readonly BenchTarget[],
  options: { seconds: number; segments: number; warmupSeconds: number; connections: number; log?: (line: string) => void },
): Promise<E2eRoute[]> {
  const log = options.log ?? (() => undefined);
  const ports = [];
  for (let i = 0; i < 6; i++) ports.push(String(await freePort()));
  const [subjectPort = '0', subjectSqsPort = '0', subjectS3Port = '0', floorPort = '0', floorSqsPort = '0', floorS3Port = '0'] = ports;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const servers: Server[] = [];
  const segmentSeconds = options.seconds / options.segments;
  try {
    const subject = await startServer(
      'subject',
      npm,
      ['start'],
      serverEnvironment({ PORT: subjectPort, SQS_PORT: subjectSqsPort, S3_PORT: subjectS3Port }),
    );
    servers.push(subject);
    const floor = await startServer(
      'floor',
      process.execPath,
      ['--import', 'tsx', join('bench', 'floor', 'server.ts')],
      serverEnvironment({ PORT: floorPort, SQS_PORT: floorSqsPort, S3_PORT: floorS3Port }),
    );
    servers.push(floor);
    await drain(subject);

    const routes: E2eRoute[] = [];
    for (const target of targets) {
      const templates = [...new Set(target.accepted.map((a) => a.route))];
      for (const route of templates) {
        // The documented samples in turn; the field's large ones (hundreds of KB) are measured by the
        // cpu, memory and events sections, and would be one request in twelve here.
        const fixtures = target.accepted.filter((a) => a.route === route && !a.fixture.name.startsWith('field/'));
        log(
          `e2e ${target.fn.name} ${route}: ${fixtures.length} fixtures; ${options.warmupSeconds} s warm-up, then ${options.segments} x ${segmentSeconds} s per side, alternating`,
        );
        const runs = { subject: [] as RunResult[], floor: [] as RunResult[] };
        const segments = { subject: [] as Segment[], floor: [] as Segment[] };
        runs.floor.push(await load(floor, fixtures, options.warmupSeconds, options.connections));
        runs.subject.push(await load(subject, fixtures, options.warmupSeconds, options.connections));
        for (let k = 0; k < options.segments; k++) {
          const order = k % 2 === 0 ? (['floor', 'subject'] as const) : (['subject', 'floor'] as const);
          for (const key of order) {
            const measured = await segment(key === 'subject' ? subject : floor, fixtures, segmentSeconds, options.connections);
            segments[key].push(measured);
            runs[key].push(measured.run);
          }
        }
        const tallies = {
          subject: { answered: 0, lost: 0, duplicates: 0, unanswered: 0, inQueue: 0 },
          floor: { answered: 0, lost: 0, duplicates: 0, unanswered: 0, inQueue: 0 },
        };
        await settle(floor, runs.floor, false, tallies.floor);
        await settle(subject, runs.subject, true, tallies.subject);
        const result: E2eRoute = {
          function: target.fn.name,
          route,
          fixtures: fixtures.map((a) => a.fixture.name),
          subject: side(segments.subject, tallies.subject),
          floor: side(segments.floor, tallies.floor),
          rpsRatio: median(
            segments.subject.map(
              (s, k) =>
                completedOf(s.run.result) /
                s.run.result.duration /
                (completedOf((segments.floor[k] as Segment).run.result) / (segments.floor[k] as Segment).run.result.duration),
            ),
          ),
        };
        for (const key of ['floor', 'subject'] as const) {
          const r = result[key];
          log(
            `  ${key.padEnd(7)} ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.serverCpuUsPerRequest.toFixed(0)} µs server CPU/req; ${r.answered200All} answered 200 (warm-up included), ${r.inQueue} in queue, lost ${r.lost}, duplicates ${r.duplicates}`,
          );
        }
        routes.push(result);
      }
    }
    log(`e2e: ${(drainMs / 1000).toFixed(1)} s spent emptying the queues`);
    return routes;
  } finally {
    await Promise.all(servers.map((server) => stopServer(server)));
    for (const server of servers) server.sqs.destroy();
  }
}
