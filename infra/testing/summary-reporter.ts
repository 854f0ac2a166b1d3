import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/** What a run ended with, as the summary line counts it. */
export interface RunCounts {
  readonly passed: number;
  /** Failed tests, plus every failure outside a test (see {@link countRun}). */
  readonly failed: number;
  readonly skipped: number;
  /** Test files and suites that failed on their own: a file that did not load, a hook that threw. */
  readonly failedSuites: number;
  /** Errors vitest caught outside any test or suite (an unhandled rejection, say). */
  readonly unhandled: number;
}

/**
 * Counts a run's results. A test file that fails to load, or a `beforeAll`/`afterAll` that throws,
 * fails its file or suite without failing a test (the tests it holds are skipped, or passed before
 * an `afterAll` threw): each such file or suite counts as one failure, as does each error outside
 * any test, so `failed` is 0 only when the run passed.
 */
export function countRun(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): RunCounts {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let failedSuites = 0;
  for (const module of testModules) {
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') passed++;
      else if (state === 'failed') failed++;
      else skipped++;
    }
    for (const suite of [module, ...module.children.allSuites()]) {
      if (suite.errors().length > 0) failedSuites++;
    }
  }
  return { passed, failed: failed + failedSuites + unhandledErrors.length, skipped, failedSuites, unhandled: unhandledErrors.length };
}

/** The summary line: `N passed, N failed` (then skipped, and what failed outside tests). */
export function summaryLine(counts: RunCounts): string {
  const outside = [
    counts.failedSuites > 0 &&
      `${counts.failedSuites} ${counts.failedSuites === 1 ? 'file or suite' : 'files or suites'} failed outside a test`,
    counts.unhandled > 0 && `${counts.unhandled} unhandled ${counts.unhandled === 1 ? 'error' : 'errors'}`,
  ].filter((part) => part !== false);
  return `${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}${
    outside.length > 0 ? ` (${outside.join(', ')})` : ''
  }`;
}

/**
 * Ends the run with the plain `N passed, N failed` line that CI reads; vitest's own summary says the
 * same in its own words. Skipped tests are counted apart; a file or suite that failed outside its
 * tests counts as failed.
 */
export class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    process.stdout.write(`\n${summaryLine(countRun(testModules, unhandledErrors))}\n`);
  }
}
