#!/usr/bin/env node
// Entry point of the `vigil` command: runs the compiled CLI (npm run build makes dist/).
import('../dist/cli.js').then((cli) => cli.runCli(process.argv.slice(2)));
