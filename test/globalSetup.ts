/**
 * Before any test: rebuild the command line (dist-cli/quantscope.mjs, what bin/quantscope.mjs runs),
 * so that tests which run the command run the sources as they are now, never a stale build.
 */
// @ts-expect-error: a plain .mjs script, typed here by its use
import { buildCli } from '../scripts/build-cli.mjs';

export default async function setup(): Promise<void> {
  await (buildCli as () => Promise<string>)();
}
