import type { CallBudget } from '../../lib/aws/deadline.ts';

/**
 * The SQS time budget tests give the functions' clients and queues: `QUEUE_TIMEOUTS` scaled down
 * (connect, attempt and total), so that a queue that hangs costs a test about a second instead of
 * four. The code under test is the same: each attempt is cut at `requestMs`, retries stop at the
 * deadline, then the spool or a 503; the production values are checked against the function
 * timeout in the template test.
 */
export const TEST_QUEUE_TIMEOUTS: CallBudget = {
  connectMs: 250,
  requestMs: 500,
  totalMs: 1_200,
  maxAttempts: 4,
};
