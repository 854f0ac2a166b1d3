import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{lib,infra,functions,events}/**/*.test.ts'],
    env: { LOG_LEVEL: 'silent' },
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
