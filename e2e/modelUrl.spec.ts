/**
 * `?model=` and the Model URL field against a local server the test starts on another origin, laid out
 * as a transformers.js repository (`onnx/model.onnx`, `onnx/model_quantized.onnx`), with a route that
 * does not allow the page's origin (CORS) and one that stalls mid-transfer (to cancel).
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { QuantscopePage } from './app';

const ROOT = join(import.meta.dirname, '..');
const TINY = readFileSync(join(ROOT, 'test/fixtures/models/tiny-conv.onnx'));
const BLOCK = readFileSync(join(ROOT, 'test/fixtures/models/block-conv.onnx'));

/** GET requests per path: what the page really fetched. */
const gets = new Map<string, number>();
let server: Server;
let origin = '';
const stalled: ServerResponse[] = [];

function send(res: ServerResponse, body: Buffer, head: boolean, cors: boolean): void {
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': body.length,
    ...(cors ? { 'access-control-allow-origin': '*' } : {}),
  });
  res.end(head ? undefined : body);
}

test.beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    const head = req.method === 'HEAD';
    if (!head) gets.set(path, (gets.get(path) ?? 0) + 1);
    if (path === '/repo/onnx/model.onnx') return send(res, TINY, head, true);
    if (path === '/repo/onnx/model_quantized.onnx') return send(res, BLOCK, head, true);
    if (path === '/private/model.onnx') return send(res, TINY, head, false);
    if (path === '/slow/model.onnx') {
      res.writeHead(200, { 'content-length': TINY.length, 'access-control-allow-origin': '*' });
      res.write(TINY.subarray(0, 100)); // …and the rest never comes, until the test ends
      stalled.push(res);
      return;
    }
    res.writeHead(404, { 'access-control-allow-origin': '*' });
    res.end();
  });
  // 127.0.0.1, while the page is on localhost: another origin, as a model host is
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  for (const r of stalled) r.destroy();
  await new Promise((r) => server.close(r));
});

test('?model= with a repository base URL offers its variants; the one chosen is fetched once and a reload opens it from storage', async ({
  page,
}) => {
  await page.goto(`/?model=${encodeURIComponent(`${origin}/repo`)}`);
  const variants = page.getByTestId('model-variant');
  await expect(variants).toHaveText(['model.onnx', 'model_quantized.onnx']);
  await expect(page.getByTestId('model-variants')).toContainText('int8 (q8)');
  await variants.filter({ hasText: 'model_quantized.onnx' }).click();
  await expect(page.getByTestId('model-summary')).toContainText('model_quantized.onnx');
  await expect(page.getByTestId('model-url-status')).toHaveAttribute('data-from-cache', 'false');
  expect(gets.get('/repo/onnx/model_quantized.onnx')).toBe(1);
  expect(gets.get('/repo/onnx/model.onnx')).toBeUndefined(); // only probed (HEAD), never fetched

  // the address now names the file: a reload opens it from the browser's storage, fetching nothing
  expect(new URL(page.url()).searchParams.get('model')).toBe(`${origin}/repo/onnx/model_quantized.onnx`);
  await page.reload();
  await expect(page.getByTestId('model-summary')).toContainText('model_quantized.onnx');
  await expect(page.getByTestId('model-url-status')).toHaveAttribute('data-from-cache', 'true');
  expect(gets.get('/repo/onnx/model_quantized.onnx')).toBe(1);
});

test('a server that does not allow the page origin is named as such (CORS); a stalled fetch cancels and the page stays usable', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  const field = page.getByLabel('Model URL');
  await field.fill(`${origin}/private/model.onnx`);
  await page.getByRole('button', { name: 'Open URL' }).click();
  const error = page.getByTestId('model-url-error');
  await expect(error).toHaveAttribute('data-code', 'URL_CORS');
  await expect(error).toContainText(`${origin} does not allow this page`);
  await expect(error).toContainText('Access-Control-Allow-Origin');

  await field.fill(`${origin}/slow/model.onnx`);
  await page.getByRole('button', { name: 'Open URL' }).click();
  await expect(page.getByTestId('model-fetch')).toContainText('model.onnx: 100 B');
  await page.getByRole('button', { name: 'Cancel fetch' }).click();
  await expect(page.getByTestId('model-url-status')).toHaveText('The fetch was cancelled.');

  // the page still loads a model, by URL
  await field.fill(`${origin}/repo/onnx/model.onnx`);
  await page.getByRole('button', { name: 'Open URL' }).click();
  await expect(page.getByTestId('model-summary')).toContainText('model.onnx');
});
