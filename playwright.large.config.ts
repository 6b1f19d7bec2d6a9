/**
 * `npm run test:large`'s page half: the real-size models in Debian's Chromium (test/large/*.large.spec.ts),
 * generated into a temporary folder by the spec. The e2e setup (the built app served on QS_PORT).
 */
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './test/large',
  testMatch: /\.large\.spec\.ts$/,
  outputDir: 'test-results/large',
  timeout: 1_800_000,
  projects: base.projects!.filter((p) => p.name === 'chromium-wasm').map((p) => ({ ...p, testIgnore: undefined })),
});
