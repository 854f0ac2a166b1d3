import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';

/**
 * How long one call to an AWS service may take, retries included, and how each attempt is cut.
 * `totalMs` bounds the whole call; `maxAttempts` only caps how hard a fast-failing service is hit.
 */
export interface CallBudget {
  /** Time to open a TCP (and TLS) connection, per attempt, in ms. */
  readonly connectMs: number;
  /** Time from sending a request to its whole answer, per attempt, in ms. */
  readonly requestMs: number;
  /** Time for the whole call, every attempt and every backoff included, in ms. */
  readonly totalMs: number;
  /** Most attempts of one call, the first included. */
  readonly maxAttempts: number;
}

/** Backoff before the first retry, in ms; it doubles for each later one (full jitter). */
const BASE_DELAY_MS = 50;
/** Backoff base after a throttling error, in ms: the service asked us to slow down. */
const THROTTLING_DELAY_MS = 250;
/** Longest backoff between two attempts, in ms. */
const MAX_DELAY_MS = 1_000;

/** A retry token that knows when its call started. */
class DeadlineToken implements RetryToken {
  readonly startedAt: number;
  private readonly count: number;
  private readonly delay: number;

  constructor(startedAt: number, count: number, delay: number) {
    this.startedAt = startedAt;
    this.count = count;
    this.delay = delay;
  }

  getRetryCount(): number {
    return this.count;
  }

  getRetryDelay(): number {
    return this.delay;
  }
}

/**
 * A retry strategy (the SDK's `RetryStrategyV2`) whose retries are bounded per call, by the call's
 * own deadline, and never by a budget shared between calls.
 *
 * The SDK's standard strategy draws every retry from one retry quota per client (500 tokens, 5 to
 * 14 per retry, refilled only by successes). During an outage that quota runs dry after a few dozen
 * failed calls, and from then on each call gets one attempt only, for as long as the outage lasts:
 * the first call after the service is back is then not retried either. Here each call may retry
 * transient, throttling and server errors while the next attempt can still start inside
 * `budget.totalMs` (and at most `budget.maxAttempts` times); errors that a retry cannot fix (4xx
 * other than throttling) are not retried.
 */
export class DeadlineRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';
  private readonly budget: CallBudget;
  private readonly now: () => number;

  constructor(budget: CallBudget, now: () => number = Date.now) {
    this.budget = budget;
    this.now = now;
  }

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return new DeadlineToken(this.now(), 0, 0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    if (!(token instanceof DeadlineToken)) throw new Error('not a token of this retry strategy');
    if (errorInfo.errorType === 'CLIENT_ERROR') throw new Error('the error is not retryable');
    const count = token.getRetryCount() + 1;
    if (count >= this.budget.maxAttempts) throw new Error(`${this.budget.maxAttempts} attempts made`);
    const base = errorInfo.errorType === 'THROTTLING' ? THROTTLING_DELAY_MS : BASE_DELAY_MS;
    const delay = Math.floor(Math.random() * Math.min(base * 2 ** (count - 1), MAX_DELAY_MS));
    // Retry only while the attempt can still start before the deadline; the caller's race cuts it there.
    if (this.now() - token.startedAt + delay >= this.budget.totalMs) {
      throw new Error(`no time left for another attempt within ${this.budget.totalMs} ms`);
    }
    return new DeadlineToken(token.startedAt, count, delay);
  }

  recordSuccess(): void {
    // Nothing is shared between calls, so a success has nothing to refill.
  }
}

/**
 * The client settings every AWS client of the project uses: keep-alive connections, each attempt
 * cut at `requestMs`, retries bounded by the call's deadline ({@link DeadlineRetryStrategy}), and the
 * middleware stack resolved once per command type instead of on every call.
 */
export function boundedClientConfig(budget: CallBudget) {
  return {
    cacheMiddleware: true,
    maxAttempts: budget.maxAttempts,
    retryStrategy: new DeadlineRetryStrategy(budget),
    requestHandler: {
      connectionTimeout: budget.connectMs,
      requestTimeout: budget.requestMs,
      // Without it the handler only logs a warning when an attempt runs over, and one stuck
      // connection would use the whole budget instead of being retried.
      throwOnRequestTimeout: true,
    },
  } as const;
}

/**
 * Settles with `work`, or rejects once `ms` have passed. Each attempt is already cut at `requestMs`
 * and the retries stop at the deadline, so this only guards the sum (backoff included). It is not
 * an AbortSignal: an options argument to `client.send` would disable the client's middleware cache,
 * which saves a stack resolution on every call.
 */
export function withinDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  // A late outcome after the deadline has nobody to tell; it must not become an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
