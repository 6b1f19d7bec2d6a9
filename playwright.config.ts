/**
 * e2e against the built app as `npm start` serves it, in Debian's Chromium (never a downloaded
 * browser). CHROMIUM_PATH overrides the executable.
 */
import { defineConfig } from '@playwright/test';

const baseArgs = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: './e2e',
  timeout: 240_000,
  expect: { timeout: 30_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: 'http://localhost:4173',
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
      use: { browserName: 'chromium', launchOptions: { executablePath, args: [...baseArgs, '--enable-unsafe-webgpu'] } },
    },
  ],
  webServer: {
    command: 'npm start',
    url: 'http://localhost:4173',
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'ignore',
  },
});
