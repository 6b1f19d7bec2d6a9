/** A page object for the app: the steps a user takes, by the names a user sees. */
import { expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';

export class QuantscopePage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.goto('/');
    await expect(this.page.getByRole('heading', { name: 'Quantscope' })).toBeVisible();
  }

  async screenshot(name: string): Promise<void> {
    mkdirSync('test-results/screens', { recursive: true });
    await this.page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
  }

  async useSample(): Promise<void> {
    await this.page.getByRole('button', { name: /Use the sample: PP-OCRv4 text detection/ }).click();
    await expect(this.page.getByTestId('model-summary')).toBeVisible({ timeout: 60_000 });
  }

  async loadModelFile(name: string, buffer: Buffer): Promise<void> {
    await this.page.getByLabel('Load model').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
  }

  async dropModelFile(name: string, buffer: Buffer): Promise<void> {
    await this.dropModelFiles([{ name, buffer }]);
  }

  /** Drop several files together (a model with its external data files). */
  async dropModelFiles(files: readonly { name: string; buffer: Buffer }[]): Promise<void> {
    const encoded = files.map((f) => ({ name: f.name, data: f.buffer.toString('base64') }));
    const transfer = await this.page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const { name, data } of list)
        dt.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name));
      return dt;
    }, encoded);
    await this.page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: transfer });
  }

  calibrateButton() {
    return this.page.getByRole('button', { name: 'Calibrate' });
  }

  /** Press Calibrate and wait until at least one sample is done; returns the progress bar. */
  async startCalibrationAndWaitForProgress() {
    await this.calibrateButton().click();
    const bar = this.page.getByRole('progressbar');
    await expect
      .poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 120_000 })
      .toBeGreaterThan(0);
    return bar;
  }

  /**
   * Press Calibrate and wait for that run to end (not an earlier run's "done", still on screen until the
   * press renders): the status's run count must move first. Fails with the page's message on an error.
   */
  async calibrate(timeout = 180_000): Promise<void> {
    const status = this.page.getByTestId('calibration-status');
    const before = Number((await status.getAttribute('data-runs')) ?? 0);
    await this.calibrateButton().click();
    // a press refused before it starts (bad data) leaves the count as it was, with status 'error'
    await expect
      .poll(
        async () =>
          Number(await status.getAttribute('data-runs')) > before ||
          (await status.getAttribute('data-status')) === 'error',
        { timeout },
      )
      .toBe(true);
    await this.waitCalibrated(timeout);
  }

  /** Wait for the run to end, and fail at once (with the page's message) if it ended in an error. */
  async waitCalibrated(timeout = 180_000): Promise<void> {
    const status = this.page.getByTestId('calibration-status');
    await expect(status).toHaveAttribute('data-status', /^(done|error)$/, { timeout });
    if ((await status.getAttribute('data-status')) === 'error') {
      throw new Error(`calibration failed: ${await this.page.getByTestId('calibration-error').textContent()}`);
    }
  }

  /** A user's model starts with no data: choose the built-in documents, offered by name, and wait until they are in. */
  async useBuiltInDocuments(): Promise<void> {
    await expect(this.page.getByTestId('data-label')).toContainText('No calibration data chosen');
    await this.page.getByRole('button', { name: 'Built-in documents (for OCR models)' }).click();
    await expect(this.page.getByTestId('data-label')).toContainText('rendered document images');
  }
}
