/**
 * The errors a callback can end in. Each carries the HTTP status the contract gives it
 * (docs/contract.md, Responses) and, when `expose` is true, a message that is safe to send back to the caller.
 * Map them to responses in one place only: `http/callback-handler.ts`.
 */
export class CallbackError extends Error {
  override name = 'CallbackError';
  readonly statusCode: number;
  /** Whether `message` may be shown to the caller (all 4xx) or only logged (5xx). */
  readonly expose: boolean;

  constructor(statusCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.statusCode = statusCode;
    this.expose = statusCode < 500;
  }
}

/**
 * What is wrong with an undecodable body, in a fixed vocabulary: the log says this instead of the
 * parser's own words, which may quote the body.
 */
export type BodyProblem =
  | 'empty'
  | 'format-not-taken'
  | 'encoding'
  | 'compressed'
  | 'json-syntax'
  | 'form-syntax'
  | 'form-escape'
  | 'xml-syntax'
  | 'xml-declaration'
  | 'xml-entity'
  | 'xml-roots'
  | 'too-deep'
  | 'too-many-fields'
  | 'too-many-nodes';

/** A place in the body: 1-based line and column (a column counts UTF-16 code units). */
export interface BodyPosition {
  readonly line: number;
  readonly column: number;
}

/** 400: the body cannot be decoded at all (empty, truncated JSON, malformed XML, bad encoding). */
export class MalformedBodyError extends CallbackError {
  override name = 'MalformedBodyError';
  /** What is wrong, for the log; `encoding` when the thrower did not say. */
  readonly problem: BodyProblem;
  /** Where the decoder stopped, when it knows. */
  readonly at: BodyPosition | undefined;
  constructor(message: string, options: { cause?: unknown; problem?: BodyProblem; at?: BodyPosition } = {}) {
    super(400, message, 'cause' in options ? { cause: options.cause } : undefined);
    this.problem = options.problem ?? 'encoding';
    this.at = options.at;
  }
}

/**
 * Bounds on what an error repeats of a body, in the answer and in the quarantine record alike: a
 * message or an issue may quote the body (an XML tag, a value), and a hostile body can have any
 * number of problems.
 */
export const ISSUE_LIMITS = {
  /** Longest error message or issue line kept, in UTF-16 units. */
  maxChars: 300,
  /** Most issue lines kept. */
  maxIssues: 20,
} as const;

/** A text cut to {@link ISSUE_LIMITS}.maxChars, with an ellipsis when cut. */
export function clip(text: string): string {
  return text.length > ISSUE_LIMITS.maxChars ? `${text.slice(0, ISSUE_LIMITS.maxChars - 1)}…` : text;
}

/**
 * One thing wrong with a decoded payload: where (`path`, dot-separated keys and indexes as the
 * sender wrote them, `(body)` for the whole body) and what (`message`). `field` is the same place
 * with only schema-declared keys and indexes (any other key `*`), for the log, which must not carry
 * what the sender wrote. Issues stay structured until an answer, a record or a log line needs text.
 */
export interface PayloadIssue {
  readonly path: string;
  readonly message: string;
  readonly field: string;
}

/** An issue of the whole body (`(body)`), e.g. a body that is not an object. */
export function bodyIssue(message: string): PayloadIssue {
  return { path: '(body)', message, field: '(body)' };
}

/** An issue as a person reads it, in the 422 answer and the quarantine record: `path: problem`, clipped. */
export function issueLine(issue: PayloadIssue): string {
  return clip(`${issue.path}: ${issue.message}`);
}

/**
 * 422: decoded, but not the shape this route takes. Holds the first {@link ISSUE_LIMITS}.maxIssues
 * issues; `issueCount` is how many there were in all, or undefined when validation stopped at the
 * first (a large body, see `defineRoute`). The message names the payload and its first three issues.
 */
export class InvalidPayloadError extends CallbackError {
  override name = 'InvalidPayloadError';
  readonly issues: readonly PayloadIssue[];
  readonly issueCount: number | undefined;
  /**
   * @param what names the payload (`bk-job callback`)
   * @param issues the issues, or the first of them
   * @param options `total`: how many there were when `issues` holds only the first; `complete:
   *   false` when validation stopped at the first issues (then none is counted)
   */
  constructor(what: string, issues: readonly PayloadIssue[], options: { readonly total?: number; readonly complete?: boolean } = {}) {
    const total = options.total ?? issues.length;
    const complete = options.complete ?? true;
    const shown = issues.slice(0, 3).map((issue) => `${issue.path}: ${issue.message}`);
    const more = total > 3 || !complete ? '; …' : '';
    super(422, clip(`${what} is not valid: ${shown.join('; ')}${more}`));
    this.issues = issues.slice(0, ISSUE_LIMITS.maxIssues);
    this.issueCount = complete ? total : undefined;
  }
}

/** 401: a token is configured for the source and the request carries none or a wrong one. */
export class UnauthorizedError extends CallbackError {
  override name = 'UnauthorizedError';
  constructor(message: string) {
    super(401, message);
  }
}

/** 403: the caller's address is outside the source's allowlist. */
export class ForbiddenError extends CallbackError {
  override name = 'ForbiddenError';
  constructor(message: string) {
    super(403, message);
  }
}

/** 404: a path this function does not serve (an unknown Thain kind). */
export class NotFoundError extends CallbackError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(404, message);
  }
}

/** 405: any method but POST. */
export class MethodNotAllowedError extends CallbackError {
  override name = 'MethodNotAllowedError';
  constructor(method: string) {
    super(405, `method ${method} is not allowed: callbacks are POST requests`);
  }
}

/** 413: the body is larger than a front door can hand to Lambda (or, without a payload bucket, its event is larger than one queue message). */
export class PayloadTooLargeError extends CallbackError {
  override name = 'PayloadTooLargeError';
  constructor(message: string) {
    super(413, message);
  }
}

/** 503: neither the queue nor the spool took the event (or the rejected callback); the sender should try again. */
export class QueueUnavailableError extends CallbackError {
  override name = 'QueueUnavailableError';
  constructor(options?: { cause?: unknown }) {
    super(503, 'the event queue is unavailable; retry the callback later', options);
  }
}

/** Narrows a caught value to an Error (anything thrown that is not one is wrapped). */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
