import { ConfigError, loadConfig } from './config/index.js';
import { createLogger } from './observability/index.js';
import { ddlContextOf, startVigil } from './main.js';
import { migrate } from './storage/migrate.js';
import { createStore } from './storage/store.js';
import { missingNodeFlags } from './shared/node-flags.js';

const usage = `usage: vigil <command>

commands:
  serve     start the HTTP service (ingest, API) on the configured store
  migrate   create or upgrade the ClickHouse schema, then exit

configuration: VIGIL_CONFIG=path/to/vigil.yaml, overridden by VIGIL_LISTEN, VIGIL_DATA_DIR,
CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE, VIGIL_LOG_LEVEL`;

/** Longest wait at shutdown for acknowledged rows to reach ClickHouse (they are on disk either way). */
const SHUTDOWN_DRAIN_MS = 10_000;

/** The `vigil` command. Reads configuration once, then hands it down. */
export async function runCli(argv: string[]): Promise<void> {
  const command = argv[0];
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(usage);
    return;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.log.level);
  switch (command) {
    case 'serve': {
      const vigil = await startVigil(config, { logger });
      const missing = missingNodeFlags();
      if (missing.length > 0) {
        logger.info({ missing }, 'node started without the recommended flags (bin/vigil.mjs adds them): ingest may spend more CPU in garbage collection');
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          // A second signal: stop now. Everything acknowledged is in the write-ahead log and
          // the journal already, and the next start inserts it.
          logger.warn({ signal }, 'second signal: exiting without waiting for the inserts');
          process.exit(signal === 'SIGINT' ? 130 : 143);
        }
        stopping = true;
        logger.info({ signal }, 'shutting down');
        // While ClickHouse refuses inserts, close() would retry them forever: past this, exit
        // (the acknowledged rows are on disk and replayed at the next start).
        const deadline = setTimeout(() => {
          logger.warn({ afterMs: SHUTDOWN_DRAIN_MS }, 'inserts still pending at shutdown; exiting, the next start replays them');
          process.exit(0);
        }, SHUTDOWN_DRAIN_MS);
        deadline.unref();
        vigil.close().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      return;
    }
    case 'migrate': {
      // Migrations only. The write-ahead log and the journal are left alone: they may be a
      // running instance's live files ("migrate, then deploy"). `serve` replays what a
      // previous run left behind before it migrates (openStorage in main.ts).
      const store = createStore(config.storage);
      const applied = await migrate(store, ddlContextOf(config), logger);
      await store.close();
      console.log(applied.length > 0 ? `applied migrations ${applied.join(', ')}` : 'schema is up to date');
      return;
    }
    default:
      console.error(`unknown command ${JSON.stringify(command)}\n\n${usage}`);
      process.exit(2);
  }
}
