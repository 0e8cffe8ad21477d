import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['__tests__/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['__tests__/e2e/**/*.test.ts'],
          // One engine and one registry: e2e files run one at a time.
          fileParallelism: false,
          // Removes the images the run's tests left in the engine, after the last file.
          globalSetup: ['__tests__/e2e/global-teardown.ts'],
          testTimeout: 15 * 60_000,
          hookTimeout: 15 * 60_000,
        },
      },
    ],
  },
});
