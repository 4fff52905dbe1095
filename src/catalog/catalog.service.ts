import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { toClickHouseDateTime } from '../storage/clickhouse-time.js';
import type { Store } from '../storage/store.js';
import type { Catalog } from './catalog.schema.js';
import { buildCatalogIndex, type CatalogIndex } from './catalog-index.js';
import { parseCatalogYaml, validateCatalog } from './validate-catalog.js';

const EMPTY_CATALOG: Catalog = { configurationItems: [], services: [] };

export interface CatalogService {
  /** The catalog in force (an empty one until one is loaded). */
  index(): CatalogIndex;
  /** Replaces the catalog (PUT /api/v1/services). Throws AppError 400 listing every problem; the previous one stays. */
  replace(candidate: unknown, author: string): Promise<CatalogIndex>;
  start(): Promise<void>;
  close(): void;
}

/** How often the catalog file is checked for changes. */
const WATCH_INTERVAL_MS = 2_000;

/**
 * The service catalog in force: from the YAML file when one is configured (reloaded when it
 * changes), otherwise the last version stored through the API. An invalid catalog is refused
 * with every problem named, and the previous one stays in force.
 */
export function createCatalogService(options: { file: string | undefined; store: Store; clock: Clock; logger: Logger }): CatalogService {
  const { file, store, clock, logger } = options;
  let current = buildCatalogIndex(validated(EMPTY_CATALOG));

  function validated(candidate: unknown): Catalog {
    const result = validateCatalog(candidate);
    if (!result.ok) throw new AppError('CATALOG_INVALID', `invalid catalog:\n${result.problems.join('\n')}`, { httpStatus: 400 });
    return result.catalog;
  }

  async function loadFile(path: string): Promise<void> {
    const result = parseCatalogYaml(await readFile(path, 'utf8'));
    if (!result.ok) {
      logger.error({ file: path, problems: result.problems }, 'catalog file refused; the previous catalog stays in force');
      return;
    }
    current = buildCatalogIndex(result.catalog);
    logger.info({ file: path, services: result.catalog.services.length }, 'catalog loaded');
  }

  return {
    index: () => current,
    async replace(candidate, author) {
      const catalog = validated(candidate);
      await store.insertRows('catalog_versions_v1', [{ at: toClickHouseDateTime(clock.nowMs()), author, catalog: JSON.stringify(catalog) }]);
      current = buildCatalogIndex(catalog);
      return current;
    },
    async start() {
      if (file) {
        await loadFile(file);
        watchFile(file, { interval: WATCH_INTERVAL_MS }, () => {
          loadFile(file).catch((error: unknown) => logger.error({ err: error, file }, 'catalog file unreadable; the previous catalog stays in force'));
        });
        return;
      }
      const [latest] = await store.query<{ catalog: string }>('latest catalog', 'SELECT catalog FROM catalog_versions_v1 ORDER BY at DESC LIMIT 1');
      if (latest) current = buildCatalogIndex(validated(JSON.parse(latest.catalog)));
    },
    close() {
      if (file) unwatchFile(file);
    },
  };
}
