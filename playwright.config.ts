/**
 * e2e against the built app as `npm start` serves it, in Debian's Chromium (never a downloaded
 * browser). CHROMIUM_PATH overrides the executable.
 */
import { defineConfig } from '@playwright/test';

const baseArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** QS_PORT lets two checkouts run their e2e at once (each serves its own build). */
const port = Number(process.env.QS_PORT ?? 4173);

export default defineConfig({
  testDir: './e2e',
  timeout: 240_000,
  expect: { timeout: 30_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://localhost:${port}`,
    headless: true,
    acceptDownloads: true,
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'chromium-wasm',
      testIgnore: /webgpu/,
      use: { browserName: 'chromium', launchOptions: { executablePath, args: baseArgs } },
    },
    {
      // SwiftShader's software WebGPU adapter: correct but 60-100x slower than WASM, so only tiny checks.
      name: 'chromium-webgpu',
      testMatch: /webgpu/,
      use: {
        browserName: 'chromium',
        launchOptions: { executablePath, args: [...baseArgs, '--enable-unsafe-webgpu'] },
      },
    },
  ],
  webServer: {
    // the CLI is built too: e2e/recipe.spec.ts runs bin/quantscope.mjs (dist-cli/, built ahead)
    command: `node scripts/build-cli.mjs && npx vite build && npx vite preview --port ${port} --strictPort`,
    url: `http://localhost:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'ignore',
  },
});
