import { type BodyProblem, CallbackError, InvalidPayloadError, MalformedBodyError, QueueUnavailableError } from '../errors.ts';
import { callbackMetricMembers } from '../metrics/catalogue.ts';
import { DEFAULT_METRICS_TARGET, type MetricsTarget } from '../metrics/emf.ts';

/** Longest log line written, in bytes (newline included); CloudWatch takes up to 256 KiB per event. */
export const MAX_LOG_LINE_BYTES = 8 * 1024;

/**
 * Why a request failed, as the log says it: by kind and location, never in words a parser or a
 * sender wrote. No field can hold body content, a query value, a path or a token.
 */
export interface ErrorLog {
  /** The error's class (`MalformedBodyError`, `InvalidPayloadError`, `UnauthorizedError`, ...). */
  readonly name: string;
  /** For a 400: what is wrong with the body, from a fixed list. */
  readonly problem?: BodyProblem;
  /** For a 400: where the decoder stopped (1-based). */
  readonly line?: number;
  readonly column?: number;
  /** For a 422: the failing fields, with only schema-declared keys and indexes (others are `*`). */
  readonly fields?: readonly string[];
  /** For a 5xx: the class (and system code) of what failed underneath, e.g. `TimeoutError`. */
  readonly cause?: string;
  /** For a 500: the code location that threw (the first stack frame). */
  readonly at?: string;
}

/**
 * One structured line per request: what happened, never a body, a query value, a path or a secret.
 * The line is also the request's metrics (embedded metric format, `lib/metrics/catalogue.ts`).
 */
export interface RequestLog {
  /**
   * The route that matched, never the raw path: the HTTP API route key (`ANY /callbacks/thain/{kind}`)
   * or `$default` (a function URL, whose path is whatever the sender registered).
   */
  readonly route: string;
  readonly source: string;
  readonly status: number;
  /** From the request reaching the handler to its answer, in ms (the `AnswerTime` metric). */
  readonly ms: number;
  readonly requestId: string;
  /** The body's bytes as received (the `BodyBytes` metric). */
  readonly bodyBytes: number;
  /** The event's type (a fixed list); the subject is not logged, as the sender wrote it. */
  readonly type?: string;
  /** The event id: a digest, which the event (and so its subject) is found by. */
  readonly eventId?: string;
  /**
   * True when SQS did not take the event (answered 200; `error` says why) or the quarantine record in
   * time and the spool did (the `Spooled` metric).
   */
  readonly spooled?: boolean;
  /** True when the callback was kept in the quarantine (the `Quarantined` metric). */
  readonly quarantined?: boolean;
  /** True when the event travelled by reference, whole in the payload bucket (the `ClaimChecked` metric). */
  readonly claimChecked?: boolean;
  readonly error?: ErrorLog;
}

const MAX_FIELDS = 20;
const MAX_TEXT = 200;

/** Where log lines go: stdout (CloudWatch keeps each line as is), unless the local run batches them. */
let writeLine: (line: string) => void = (line) => {
  process.stdout.write(line);
};

/** Sends log lines elsewhere (the local run batches its output under load). */
export function setLogWriter(writer: (line: string) => void): void {
  writeLine = writer;
}

/** Who else reads each line written (the local run counts the metrics in them). */
const readers = new Set<(line: string) => void>();

/** Has `reader` told every log line written from now on, wherever lines go; returns what stops it. */
export function readLogLines(reader: (line: string) => void): () => void {
  readers.add(reader);
  return () => {
    readers.delete(reader);
  };
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

/**
 * Writes one JSON line of at most {@link MAX_LOG_LINE_BYTES} bytes, which is also the request's
 * metrics in `target`; `LOG_LEVEL=silent` turns it off, and so the metrics too. Every text field is
 * bounded; a line that would still be longer loses its error details first, never its metrics.
 */
export function logRequest(entry: RequestLog, target: MetricsTarget = DEFAULT_METRICS_TARGET): void {
  if (process.env.LOG_LEVEL === 'silent') return;
  const line = formatLogLine(entry, target);
  for (const reader of readers) reader(line);
  writeLine(line);
}

/** The line {@link logRequest} writes, newline included, with its metrics measured at `at` (ms since the epoch). */
export function formatLogLine(entry: RequestLog, target: MetricsTarget = DEFAULT_METRICS_TARGET, at = Date.now()): string {
  const { error, spooled, quarantined, claimChecked, bodyBytes, ...rest } = entry;
  const metrics = callbackMetricMembers(entry, target, at);
  const bounded = {
    level: entry.status >= 500 ? 'error' : 'info',
    ...rest,
    route: clip(entry.route),
    requestId: clip(entry.requestId),
    ...(error && {
      error: {
        ...error,
        name: clip(error.name),
        ...(error.fields && { fields: error.fields.slice(0, MAX_FIELDS).map(clip) }),
        ...(error.cause !== undefined && { cause: clip(error.cause) }),
        ...(error.at !== undefined && { at: clip(error.at) }),
      },
    }),
  };
  const line = `${JSON.stringify({ ...bounded, ...metrics })}\n`;
  if (Buffer.byteLength(line) <= MAX_LOG_LINE_BYTES) return line;
  const { error: _details, ...withoutError } = bounded;
  return `${JSON.stringify({ ...withoutError, ...(error && { error: { name: clip(error.name) } }), truncated: true, ...metrics })}\n`;
}

/**
 * What the log says about an error: its class, and for a 400 the problem and position, for a 422 the
 * field paths, for a 5xx the class of the cause and the code location that threw. Never a message:
 * a message may quote the body (V8's JSON errors do, XML errors name tags), the path, or the method.
 */
export function describeError(error: Error): ErrorLog {
  if (error instanceof MalformedBodyError) {
    return { name: error.name, problem: error.problem, ...(error.at && { line: error.at.line, column: error.at.column }) };
  }
  if (error instanceof InvalidPayloadError) return { name: error.name, fields: error.issues.map((issue) => issue.field) };
  if (error instanceof CallbackError && !(error instanceof QueueUnavailableError)) return { name: error.name };
  const cause = error.cause instanceof Error ? error.cause : undefined;
  return {
    name: error instanceof CallbackError ? error.name : 'InternalError',
    ...(cause && { cause: causeName(cause) }),
    ...(cause && !(error instanceof CallbackError) && { at: firstFrame(cause) }),
  };
}

/** `TimeoutError`, `Error ECONNREFUSED`: the class and, for a system error, its code. */
function causeName(cause: Error): string {
  const code = 'code' in cause && typeof cause.code === 'string' && /^[A-Z0-9_]{1,40}$/.test(cause.code) ? ` ${cause.code}` : '';
  return `${cause.name}${code}`;
}

/**
 * The first frame of a stack: a function and a code location, never data. The lines of the
 * message are skipped first, so that a message quoting the body cannot pass for a frame.
 */
function firstFrame(error: Error): string {
  const header = error.message === '' ? error.name : `${error.name}: ${error.message}`;
  const frames = (error.stack ?? '').split('\n').slice(header.split('\n').length);
  const frame = frames.find((line) => line.trimStart().startsWith('at '));
  return frame?.trim().slice(3) ?? 'unknown';
}
