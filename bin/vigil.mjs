#!/usr/bin/env -S node --no-memory-reducer --initial-old-space-size=256
// Entry point of the `vigil` command: runs the compiled CLI (npm run build makes dist/).
// The flags on the first line are src/shared/node-flags.ts's list (why: see there).
import { existsSync, readdirSync, statSync } from 'node:fs';

warnIfBuildIsStale();

import('../dist/cli.js')
  .then((cli) => cli.runCli(process.argv.slice(2)))
  .catch((error) => {
    // A failed start (port in use, ClickHouse unreachable, invalid catalog): one line, exit 1.
    console.error(`vigil: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });

/**
 * In a checkout, a source newer than the build (after a `git pull`) means this would run the
 * old code, migrations included: say so. `npm start` and `npm run migrate` build first.
 */
function warnIfBuildIsStale() {
  const src = new URL('../src/', import.meta.url);
  const cli = new URL('../dist/cli.js', import.meta.url);
  if (!existsSync(src) || !existsSync(cli)) return;
  try {
    const builtMs = statSync(cli).mtimeMs;
    const stale = readdirSync(src, { recursive: true }).some((name) => statSync(new URL(name, src)).mtimeMs > builtMs);
    if (stale) console.error('vigil: src/ has changed since dist/ was built; this runs the last build (npm run build to update)');
  } catch {
    // Only a hint: never in the way of starting.
  }
}
