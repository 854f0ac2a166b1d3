/**
 * The errors a callback can end in. Each carries the HTTP status the contract gives it
 * (contract §2) and, when `expose` is true, a message that is safe to send back to the caller.
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

/** 400: the body cannot be decoded at all (empty, truncated JSON, malformed XML, bad encoding). */
export class MalformedBodyError extends CallbackError {
  override name = 'MalformedBodyError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, message, options);
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
 * 422: decoded, but not the shape this route takes. `issues` are `path: problem` lines, at most
 * {@link ISSUE_LIMITS}.maxIssues of them, each clipped; `issueCount` is how many problems there
 * were in all, or undefined when validation stopped at the first (a large body, see `defineRoute`).
 */
export class InvalidPayloadError extends CallbackError {
  override name = 'InvalidPayloadError';
  readonly issues: readonly string[];
  readonly issueCount: number | undefined;
  constructor(message: string, issues: readonly string[], issueCount: number | 'not counted' = issues.length) {
    super(422, clip(message));
    this.issues = issues.slice(0, ISSUE_LIMITS.maxIssues).map(clip);
    this.issueCount = issueCount === 'not counted' ? undefined : issueCount;
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
