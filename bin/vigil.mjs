#!/usr/bin/env -S node --no-memory-reducer
// Entry point of the `vigil` command: runs the compiled CLI (npm run build makes dist/).
// The flags on the first line are src/shared/node-flags.ts's list (why: see there).
import('../dist/cli.js')
  .then((cli) => cli.runCli(process.argv.slice(2)))
  .catch((error) => {
    // A failed start (port in use, ClickHouse unreachable, invalid catalog): one line, exit 1.
    console.error(`vigil: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
