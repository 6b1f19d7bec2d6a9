#!/usr/bin/env node
// The quantscope command: the CLI as JavaScript built ahead by esbuild (scripts/build-cli.mjs, run by
// npm's `prepare` on install), so a start costs loading JavaScript, not compiling TypeScript.
import { existsSync } from 'node:fs';

const built = new URL('../dist-cli/quantscope.mjs', import.meta.url);
if (!existsSync(built)) {
  console.error('quantscope: error CLI_NOT_BUILT: dist-cli/quantscope.mjs is missing; run `npm run build:cli`');
  process.exit(1);
}
const { main } = await import(built.href);
process.exitCode = await main(process.argv.slice(2));
