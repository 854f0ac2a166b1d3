import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './infra/testing/summary-reporter.ts';

export default defineConfig({
  test: {
    include: ['{lib,infra,functions,events}/**/*.test.ts'],
    env: { LOG_LEVEL: 'silent' },
    reporters: ['default', new SummaryReporter()],
    // Most test files wait on sockets, child processes and timers rather than on the CPU: one worker
    // more than there are cores keeps it busy (vitest's default, one fewer, leaves a 2-core machine
    // running one file at a time).
    maxWorkers: availableParallelism() + 1,
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
