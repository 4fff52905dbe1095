#!/usr/bin/env node
// Entry point of the `vigil` command: runs the compiled CLI (npm run build makes dist/).
import('../dist/cli.js')
  .then((cli) => cli.runCli(process.argv.slice(2)))
  .catch((error) => {
    // A failed start (port in use, ClickHouse unreachable, invalid catalog): one line, exit 1.
    console.error(`vigil: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
