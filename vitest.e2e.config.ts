import { defineConfig } from 'vitest/config';

/**
 * The E2E suite (`npm run test:e2e`): the real UI in Chromium against `reckon serve`. Kept apart from
 * unit and integration tests because it builds the app first (globalSetup) and is slower. One file at a
 * time, in one process: each file starts its own server and browser.
 */
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.test.ts'],
    globalSetup: ['tests/e2e/globalSetup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
