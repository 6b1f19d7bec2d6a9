/** The browser benchmarks (bench/browser/*.bench.ts): the e2e setup (Debian's Chromium, the built app served on QS_PORT). */
import { defineConfig } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import base from '../playwright.config';

export default defineConfig({
  ...base,
  testDir: './browser',
  testMatch: /\.bench\.ts$/,
  outputDir: '../test-results/bench',
  // the server builds and serves from the repository root, not from this file's folder
  webServer: {
    ...(base.webServer as object),
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  } as typeof base.webServer,
  projects: [
    ...base.projects!.filter((p) => p.name === 'chromium-wasm').map((p) => ({ ...p, testIgnore: /gpuFold/ })),
    // bench/browser/gpuFold.bench.ts: WebGPU on, plus whatever flags this machine's GPU needs (QS_WEBGPU_ARGS)
    ...base
      .projects!.filter((p) => p.name === 'chromium-webgpu')
      .map((p) => ({
        ...p,
        testMatch: /gpuFold\.bench\.ts$/,
        use: {
          ...p.use,
          launchOptions: {
            ...p.use!.launchOptions,
            args: [
              ...(p.use!.launchOptions!.args ?? []),
              ...(process.env.QS_WEBGPU_ARGS ?? '').split(' ').filter(Boolean),
            ],
          },
        },
      })),
  ],
});
