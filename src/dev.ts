// `npm run dev`: the CLI straight from TypeScript (tsx), restarted on change.
import { runCli } from './cli.js';

await runCli(process.argv.slice(2));
