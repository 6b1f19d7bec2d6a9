import { defineConfig } from 'vitest/config';

/**
 * npm run test:large: the real-size models (a 2.5 GB decoder with external data, a 344 MB ViT-B/16),
 * generated into a temporary folder by test/helpers/bigModels.ts and deleted after. One file at a
 * time: never two multi-gigabyte models in memory at once.
 */
export default defineConfig({
  test: {
    include: ['test/large/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/globalSetup.ts'],
    environment: 'node',
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: 'forks',
    isolate: true,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
