/**
 * Renders the built-in calibration images for the PP-OCRv4 detection sample: 16 document-like
 * pages (letters, invoices, tables, receipts, forms, signs, multi-column articles) at 640x480, so
 * calibration sees what an OCR model sees in use; and 24 text lines with their ground truth for the
 * PP-OCRv4 recognition sample. Run once with `npm run samples:render`; the PNGs
 * are committed (under 1 MB in all), so neither `npm start` nor the tests need a browser for them.
 */
import { chromium } from '@playwright/test';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../src/core/random';

const OUT = join(import.meta.dirname, '..', 'public', 'samples', 'det');
const OUT_REC = join(import.meta.dirname, '..', 'public', 'samples', 'rec');
const REC_LINES = 24;
const WIDTH = 640;
const HEIGHT = 480;

/** A seeded generator, so the pages are the same on every run. */
const rng = mulberry32;

const WORDS = `quantization model accuracy invoice payment delivery account number total amount customer service order
shipping address report quarterly revenue growth market analysis summary project schedule meeting agenda contract
signature date reference balance statement period tax subtotal discount item quantity price description unit
warehouse product catalogue network latency throughput memory calibration dataset sample scale zero point integer
float precision weight activation tensor layer channel convolution kernel deployment device mobile edge runtime`.split(
  /\s+/,
);

const FONTS = [
  'DejaVu Sans',
  'DejaVu Serif',
  'Liberation Sans',
  'Liberation Serif',
  'Liberation Mono',
  'DejaVu Sans Mono',
  'Liberation Sans Narrow',
];

function sentence(r: () => number, n: number): string {
  const w = Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]!);
  w[0] = w[0]!.charAt(0).toUpperCase() + w[0]!.slice(1);
  return `${w.join(' ')}${r() < 0.2 ? ',' : '.'}`;
}

function money(r: () => number): string {
  return `${(r() * 900 + 10).toFixed(2)}`;
}

type Page = (r: () => number, font: string) => string;

const letter: Page = (
  r,
  font,
) => `<div style="font-family:'${font}';padding:28px 36px;font-size:${13 + Math.floor(r() * 4)}px;line-height:1.45">
  <div style="text-align:right">Ref. ${Math.floor(r() * 90000 + 10000)}<br>${1 + Math.floor(r() * 28)} March 2026</div>
  <p>Dear ${['Ms. Rivera', 'Mr. Okafor', 'Dr. Lindqvist', 'Team'][Math.floor(r() * 4)]},</p>
  ${Array.from({ length: 3 }, () => `<p>${Array.from({ length: 3 }, () => sentence(r, 8 + Math.floor(r() * 6))).join(' ')}</p>`).join('')}
  <p>Sincerely,<br><i>${['A. Chen', 'M. Duarte', 'K. Novak'][Math.floor(r() * 3)]}</i></p></div>`;

const invoice: Page = (r, font) => {
  const rows = Array.from(
    { length: 7 },
    (_, i) =>
      `<tr><td>${i + 1}</td><td>${sentence(r, 3).slice(0, -1)}</td><td>${1 + Math.floor(r() * 9)}</td><td style="text-align:right">${money(r)}</td></tr>`,
  ).join('');
  return `<div style="font-family:'${font}';padding:24px 32px;font-size:13px">
  <h2 style="margin:0 0 6px">INVOICE No. ${Math.floor(r() * 9000 + 1000)}</h2><div>Bill to: ${sentence(r, 4)}</div>
  <table style="width:100%;border-collapse:collapse;margin-top:14px" border="1" cellpadding="4"><tr style="background:#ddd"><th>#</th><th>Description</th><th>Qty</th><th>Amount</th></tr>${rows}</table>
  <div style="text-align:right;margin-top:10px;font-weight:bold">TOTAL ${money(r)} EUR</div></div>`;
};

const receipt: Page = (
  r,
  font,
) => `<div style="font-family:'${font}';width:300px;margin:10px auto;padding:16px;background:#fdfcf7;font-size:14px;box-shadow:0 0 6px #999">
  <div style="text-align:center;font-weight:bold;font-size:18px">CORNER MARKET</div><div style="text-align:center">Till ${Math.floor(r() * 9)} · 14:${10 + Math.floor(r() * 49)}</div><hr>
  ${Array.from({ length: 9 }, () => `<div style="display:flex;justify-content:space-between"><span>${WORDS[Math.floor(r() * WORDS.length)]!.toUpperCase()}</span><span>${money(r)}</span></div>`).join('')}
  <hr><div style="display:flex;justify-content:space-between;font-weight:bold"><span>TOTAL</span><span>${money(r)}</span></div></div>`;

const table: Page = (
  r,
  font,
) => `<div style="font-family:'${font}';padding:20px;font-size:12px"><h3 style="margin:0 0 8px">Quarterly figures, region ${Math.floor(r() * 9) + 1}</h3>
  <table style="width:100%;border-collapse:collapse" border="1" cellpadding="3"><tr style="background:#e8eef8"><th>Metric</th><th>Q1</th><th>Q2</th><th>Q3</th><th>Q4</th></tr>
  ${Array.from({ length: 12 }, () => `<tr><td>${sentence(r, 2).slice(0, -1)}</td>${Array.from({ length: 4 }, () => `<td style="text-align:right">${Math.floor(r() * 99999)}</td>`).join('')}</tr>`).join('')}</table></div>`;

const article: Page = (
  r,
  font,
) => `<div style="font-family:'${font}';padding:18px 24px;font-size:12px;line-height:1.35">
  <h1 style="font-size:24px;margin:0 0 10px">${sentence(r, 5).slice(0, -1)}</h1>
  <div style="column-count:2;column-gap:22px;text-align:justify">${Array.from({ length: 5 }, () => `<p style="margin:0 0 8px">${Array.from({ length: 3 }, () => sentence(r, 9)).join(' ')}</p>`).join('')}</div></div>`;

const form: Page = (r, font) => `<div style="font-family:'${font}';padding:26px 34px;font-size:15px">
  <h2 style="margin:0 0 14px;border-bottom:2px solid #333">Application form</h2>
  ${['Full name', 'Date of birth', 'Address', 'Phone number', 'Account number', 'Signature'].map((f) => `<div style="margin:12px 0">${f}: <span style="display:inline-block;min-width:300px;border-bottom:1px solid #555;font-family:'DejaVu Sans Mono'">${sentence(r, 2).slice(0, -1)}</span></div>`).join('')}</div>`;

const sign: Page = (r, font) => {
  const bg = ['#1d5fa8', '#b3261e', '#1f7a3a', '#f2c200', '#333'][Math.floor(r() * 5)]!;
  const fg = bg === '#f2c200' ? '#111' : '#fff';
  return `<div style="height:100%;display:flex;flex-direction:column;align-items:center;justify-content:center;background:#c9c4bb">
  <div style="font-family:'${font}';background:${bg};color:${fg};padding:24px 40px;border-radius:12px;text-align:center;transform:rotate(${(r() * 10 - 5).toFixed(1)}deg)">
  <div style="font-size:44px;font-weight:bold">${WORDS[Math.floor(r() * WORDS.length)]!.toUpperCase()}</div><div style="font-size:22px">${sentence(r, 4)}</div><div style="font-size:16px">Exit ${Math.floor(r() * 40)} · ${Math.floor(r() * 900)} m</div></div></div>`;
};

const slide: Page = (
  r,
  font,
) => `<div style="font-family:'${font}';height:100%;box-sizing:border-box;padding:30px 40px;background:linear-gradient(#f4f6fb,#dfe6f3)">
  <h1 style="font-size:30px;color:#1d3557;margin:0 0 18px">${sentence(r, 4).slice(0, -1)}</h1>
  <ul style="font-size:20px;line-height:1.6">${Array.from({ length: 5 }, () => `<li>${sentence(r, 5)}</li>`).join('')}</ul></div>`;

const PAGES: Page[] = [letter, invoice, receipt, table, article, form, sign, slide];

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT } });
  let total = 0;
  for (let i = 0; i < 16; i++) {
    const r = rng(1000 + i);
    const font = FONTS[i % FONTS.length]!;
    const paper = ['#ffffff', '#fbf8f0', '#f3f3f3', '#fffef5'][i % 4];
    const body = PAGES[i % PAGES.length]!(r, font);
    await page.setContent(
      `<html><body style="margin:0;width:${WIDTH}px;height:${HEIGHT}px;overflow:hidden;background:${paper};color:#111">${body}</body></html>`,
    );
    const file = join(OUT, `doc-${String(i + 1).padStart(2, '0')}.png`);
    await page.screenshot({ path: file });
    total += statSync(file).size;
  }
  console.log(`rendered 16 pages into ${OUT}: ${(total / 1024).toFixed(0)} KiB`);

  // Text lines for PP-OCRv4 recognition, with their ground truth (ASCII letters, digits and
  // punctuation, all in ppocr_keys_v1.txt).
  mkdirSync(OUT_REC, { recursive: true });
  const labels: Record<string, string> = {};
  let recTotal = 0;
  for (let i = 0; i < REC_LINES; i++) {
    const r = rng(5000 + i);
    const words = Array.from({ length: 2 + Math.floor(r() * 4) }, () => WORDS[Math.floor(r() * WORDS.length)]!);
    if (r() < 0.5) words.push(String(Math.floor(r() * 9000) + 100));
    if (r() < 0.3) words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1);
    const text = words.join(' ');
    const font = FONTS[i % FONTS.length]!;
    const size = 26 + Math.floor(r() * 14);
    const bg = ['#ffffff', '#f6f1e4', '#e9eef6', '#fffbe8'][i % 4];
    await page.setContent(
      `<html><body style="margin:0;background:${bg}"><span id="t" style="display:inline-block;padding:6px 10px;font-family:'${font}';font-size:${size}px;color:#141414;white-space:nowrap">${text}</span></body></html>`,
    );
    const name = `line-${String(i + 1).padStart(2, '0')}.png`;
    await page.locator('#t').screenshot({ path: join(OUT_REC, name) });
    labels[name] = text;
    recTotal += statSync(join(OUT_REC, name)).size;
  }
  writeFileSync(join(OUT_REC, 'labels.json'), `${JSON.stringify(labels, null, 1)}\n`);
  await browser.close();
  console.log(`rendered ${REC_LINES} text lines into ${OUT_REC}: ${(recTotal / 1024).toFixed(0)} KiB`);
}

await main();
