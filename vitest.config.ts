import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.{ts,tsx}'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/globalSetup.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // onnxruntime-node and onnxruntime-web must not share a process (both register backends in
    // onnxruntime-common): every test file runs in its own forked process.
    pool: 'forks',
    isolate: true,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
