import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './infra/testing/summary-reporter.ts';

export default defineConfig({
  test: {
    include: ['{lib,infra,functions,events}/**/*.test.ts'],
    env: { LOG_LEVEL: 'silent' },
    reporters: ['default', new SummaryReporter()],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
