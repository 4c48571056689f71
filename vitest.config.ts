import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real QEMU guests on a 2-core machine: integration files run one at a time.
    fileParallelism: false,
    projects: [
      { test: { name: 'unit', include: ['src/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          globalSetup: ['test/setup/global.ts'],
        },
      },
    ],
  },
});
