import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Real kernel builds and boots: minutes, not milliseconds, and one at a time on 2 cores.
          testTimeout: 60 * 60 * 1000,
          hookTimeout: 60 * 60 * 1000,
          fileParallelism: false,
          sequence: { concurrent: false },
        },
      },
    ],
  },
});
