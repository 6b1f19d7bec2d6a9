/**
 * The lab, lesson by lesson: move the controls and check that the figure's numbers change as the math
 * says; links keep every control; embedded lessons hide their controls; extreme settings show a
 * message, never NaN.
 */
import { expect, test, type Page } from '@playwright/test';
import { QuantscopePage } from './app';

const value = async (page: Page, id: string) => (await page.getByTestId(id).textContent())!;
const number = async (page: Page, id: string) => parseFloat(await value(page, id));

/** The share of a canvas's pixels that are painted, and its image (to compare two drawings). */
async function canvasInk(page: Page, id: string): Promise<{ share: number; url: string }> {
  return page.getByTestId(id).evaluate((el) => {
    const canvas = el as HTMLCanvasElement;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
    return { share: painted / (canvas.width * canvas.height), url: canvas.toDataURL() };
  });
}

async function noNaN(page: Page) {
  expect(await page.locator('main').innerText()).not.toMatch(/NaN|Infinity|undefined/);
}

test('lesson 1: an asymmetric range on ReLU output wastes no negative codes; the link keeps the settings', async ({
  page,
}) => {
  await page.goto('/lab/mapping?dist=relu&sym=0&bits=8');
  await expect(page.getByTestId('fig-negative-wasted')).toHaveText('0');
  await page.getByLabel('Symmetric').check();
  expect(await number(page, 'fig-negative-wasted')).toBeGreaterThanOrEqual(126);
  expect(page.url()).toContain('sym=1');
  // fewer bits: coarser grid, more rounding error
  const fine = await number(page, 'fig-rounding');
  await page.getByLabel('Bits').fill('3');
  await expect(page.getByTestId('fig-codes')).toContainText('(7)');
  expect(await number(page, 'fig-rounding')).toBeGreaterThan(fine * 10);
  // the same address restores the lesson as it was set
  await page.reload();
  await expect(page.getByTestId('fig-codes')).toContainText('(7)');
  await expect(page.getByLabel('Symmetric')).toBeChecked();
  await new QuantscopePage(page).screenshot('40-lab-mapping');
  // extremes: a scale of 0, an empty distribution, one bit
  await page.goto('/lab/mapping?fit=0&logscale=-4');
  await expect(page.getByTestId('lesson-message')).toContainText('scale must be positive');
  await noNaN(page);
  await page.goto('/lab/mapping?n=0');
  await expect(page.getByTestId('lesson-message')).toContainText('empty');
  await noNaN(page);
  await page.goto('/lab/mapping?bits=1&dist=outlier');
  await expect(page.getByTestId('fig-codes')).toContainText('(2)');
  await noNaN(page);
  // embedded: the figure alone
  await page.goto('/lab/mapping?embed=1&dist=skewed');
  await expect(page.getByTestId('mapping-figure')).toBeVisible();
  await expect(page.getByLabel('Distribution')).toHaveCount(0);
  await expect(page.getByRole('navigation', { name: 'Lessons' })).toHaveCount(0);
});

test('lesson 2: the error against the threshold, and where each method lands', async ({ page }) => {
  await page.goto('/lab/range?dist=outlier&t=0.5');
  const mid = await number(page, 'fig-mse-at-t');
  await page.getByLabel('Threshold T').fill('0.1');
  const clipped = await number(page, 'fig-mse-at-t');
  expect(clipped).toBeGreaterThan(mid); // clipping the bulk costs more than rounding
  // ±1.2 clips both tails of N(0, 1) with an outlier, not every value (the values near 0 stay)
  await expect(page.getByText('every value is clipped')).toHaveCount(0);
  // min-max keeps the outlier (T = max|x|); entropy clips it
  const minmaxT = parseFloat((await value(page, 'fig-method-minmax')).split(',')[0]!);
  const entropyT = parseFloat((await value(page, 'fig-method-entropy')).split(',')[0]!);
  expect(entropyT).toBeLessThan(minmaxT / 2);
  // the outlier sits on one side: the MSE search keeps an asymmetric range (its own MSE, the figure's
  // last number) that beats the curve's best symmetric ±T, which its own T does not
  const [bestT, bestMse] = (await value(page, 'fig-best-t')).split(',').map(parseFloat) as [number, number];
  const mse = await value(page, 'fig-method-mse');
  const [mseT, mseAtT] = mse.split(',').map(parseFloat) as [number, number];
  const own = parseFloat(mse.split(',').at(-1)!);
  expect(mseT).toBeGreaterThan(bestT);
  expect(mseAtT).toBeGreaterThan(bestMse);
  expect(own).toBeLessThan(bestMse);
  await new QuantscopePage(page).screenshot('41-lab-range');
  await page.goto('/lab/range?dist=normal&t=0');
  await expect(page.getByTestId('fig-mse-at-t')).toHaveText('T must be above 0');
  await noNaN(page);
});

test('lesson 3: per-channel and per-block scales rescue the small channels', async ({ page }) => {
  await page.goto('/lab/granularity?bits=8');
  const worst = async (id: string) => parseFloat((await value(page, id)).split('/')[1]!);
  const tensor = await worst('fig-sqnr-tensor');
  const channel = await worst('fig-sqnr-channel');
  expect(channel - tensor).toBeGreaterThan(20);
  await page.getByLabel('Bits').selectOption('4');
  const block16 = async () => parseFloat((await value(page, 'fig-sqnr-block')).split('/')[0]!);
  await page.getByLabel('Block size').selectOption('128');
  const coarse = await block16();
  await page.getByLabel('Block size').selectOption('16');
  expect(await block16()).toBeGreaterThan(coarse);
  await new QuantscopePage(page).screenshot('42-lab-granularity');
});

test('lesson 4: bit layouts of known values, saturation and overflow', async ({ page }) => {
  await page.goto('/lab/formats?format=float16&x=1');
  await expect(page.getByTestId('fig-bits')).toHaveText('0011110000000000');
  await page.getByLabel('Format').selectOption('bfloat16');
  await expect(page.getByTestId('fig-bits')).toHaveText('0011111110000000');
  await page.getByLabel('Format').selectOption('float8e4m3fn');
  await page.getByLabel('Value').fill('1000');
  await expect(page.getByTestId('fig-stored')).toHaveText('448');
  await expect(page.getByTestId('lesson-message')).toContainText('saturates');
  await page.getByLabel('Format').selectOption('float16');
  await page.getByLabel('Value').fill('70000');
  await expect(page.getByTestId('lesson-message')).toContainText('Infinity');
  await page.getByLabel('Format').selectOption('int4');
  await page.getByLabel('Value').fill('9');
  await expect(page.getByTestId('fig-stored')).toHaveText('7');
  await page.getByLabel('Format').selectOption('float8e5m2');
  await page.getByLabel('Value').fill('3.3');
  const coarse = await number(page, 'fig-precision');
  await page.getByLabel('Format').selectOption('float8e4m3fn');
  expect(await number(page, 'fig-precision')).toBeLessThan(coarse); // one more mantissa bit, finer steps
  await new QuantscopePage(page).screenshot('43-lab-formats');
});

test('lesson 5: on the spiral, QAT at 2 bits beats PTQ at 2 bits (median of 5 seeds)', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/lab/ptq-qat?data=spiral&bits=2');
  const spiralPoints = await canvasInk(page, 'boundary-float');
  expect(spiralPoints.share).toBeGreaterThan(0.01); // the points are drawn before any training
  await page.getByRole('button', { name: 'Run 5 seeds' }).click();
  await expect(page.getByTestId('training-progress')).toBeVisible();
  await expect(page.getByTestId('fig-median-qat')).toBeVisible({ timeout: 200_000 });
  const ptq = await number(page, 'fig-median-ptq');
  const qat = await number(page, 'fig-median-qat');
  test.info().annotations.push({ type: 'spiral, 2 bits, median of 5 seeds', description: `PTQ ${ptq}% · QAT ${qat}%` });
  expect(qat - ptq).toBeGreaterThan(10);
  expect(await number(page, 'fig-float-acc')).toBeGreaterThan(90);
  await new QuantscopePage(page).screenshot('44-lab-ptq-qat');
  // another dataset: its points at once, without the boundary trained on the spiral
  expect((await canvasInk(page, 'boundary-float')).share).toBeGreaterThan(0.9); // the trained boundary fills it
  await page.getByLabel('Dataset').selectOption('circles');
  await expect(page.getByTestId('fig-float-acc')).toHaveCount(0);
  await expect(page.getByTestId('boundary-ptq').locator('..')).toContainText('PTQ 2 bits: —');
  const circlesPoints = await canvasInk(page, 'boundary-float');
  expect(circlesPoints.share).toBeGreaterThan(0.01);
  expect(circlesPoints.share).toBeLessThan(0.3); // points only, no boundary shading
  expect(circlesPoints.url).not.toBe(spiralPoints.url);
});

test('lesson 6: static scales are fixed by calibration, dynamic ones follow the input', async ({ page }) => {
  await page.goto('/lab/static-dynamic?mag=1');
  const staticAt1 = await number(page, 'fig-sqnr-static');
  const dynamicAt1 = await number(page, 'fig-sqnr-dynamic');
  const scale = await value(page, 'fig-scale-static');
  await page.getByLabel('Input magnitude (calibrated at 1)').fill('10');
  expect(await number(page, 'fig-sqnr-static')).toBeLessThan(staticAt1 - 10); // clipped: far outside the calibrated range
  expect(Math.abs((await number(page, 'fig-sqnr-dynamic')) - dynamicAt1)).toBeLessThan(3);
  await expect(page.getByTestId('fig-scale-static')).toHaveText(scale);
  await page.getByLabel('Form').selectOption('dynamic');
  await expect(page.getByTestId('forms-figure')).toContainText('DynamicQuantizeLinear');
  // every node's label fits inside its box, in each form
  for (const form of ['static', 'dynamic', 'weight-only']) {
    await page.getByLabel('Form').selectOption(form);
    const overflow = await page.getByTestId('forms-figure').evaluate((svg) =>
      [...svg.querySelectorAll('g')].flatMap((g) => {
        const box = g.querySelector('rect')!.getBoundingClientRect();
        const label = g.querySelector('.node-label')!.getBoundingClientRect();
        const fits = label.bottom <= box.bottom + 0.5 && label.right <= box.right + 0.5;
        return fits ? [] : [g.textContent];
      }),
    );
    expect(overflow, form).toEqual([]);
  }
  await page.getByLabel('Form').selectOption('static');
  await new QuantscopePage(page).screenshot('45-lab-forms');
});
