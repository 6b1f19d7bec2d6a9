#!/usr/bin/env node
// The quantscope command. Node 20 cannot run TypeScript, so the sources run through tsx's loader
// (a dependency of this package); `npx quantscope` works right after `npm install` in a clone.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
