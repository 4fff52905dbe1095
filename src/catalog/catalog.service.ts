import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { toClickHouseDateTime } from '../storage/clickhouse-time.js';
import type { Store } from '../storage/store.js';
import type { Catalog } from './catalog.schema.js';
import { buildCatalogIndex, type CatalogIndex } from './catalog-index.js';
import { parseCatalogYaml, routeProblems, validateCatalog } from './validate-catalog.js';

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
/** A changed file is read again this much later, until two reads agree. */
const SETTLE_DELAY_MS = 200;
const SETTLE_ATTEMPTS = 10;

/**
 * The service catalog in force: from the YAML file when one is configured (reloaded when it
 * changes), otherwise the last version stored through the API. An invalid catalog is refused
 * with every problem named, and the previous one stays in force.
 */
export function createCatalogService(options: { file: string | undefined; store: Store; clock: Clock; logger: Logger; routeNames: readonly string[] }): CatalogService {
  const { file, store, clock, logger, routeNames } = options;
  let current = buildCatalogIndex(validated(EMPTY_CATALOG));

  function validated(candidate: unknown): Catalog {
    const result = validateCatalog(candidate, { routeNames });
    if (!result.ok) throw new AppError('CATALOG_INVALID', `invalid catalog:\n${result.problems.join('\n')}`, { httpStatus: 400 });
    return result.catalog;
  }

  /**
   * Reads the file until two reads a moment apart agree: an editor or a deploy writing it in
   * place can be caught half-way, and a prefix cut at a line end is often a valid catalog
   * that silently drops services (replacing the file by a rename avoids that altogether).
   */
  async function readSettled(path: string): Promise<string> {
    let text = await readFile(path, 'utf8');
    for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_DELAY_MS));
      const again = await readFile(path, 'utf8');
      if (again === text) return text;
      text = again;
    }
    throw new Error(`still changing after ${SETTLE_ATTEMPTS} reads ${SETTLE_DELAY_MS} ms apart`);
  }

  /** Applies the file's catalog; `atStart`, a refused one is an error (there is no previous one to keep). */
  async function loadFile(path: string, atStart: boolean): Promise<void> {
    const result = parseCatalogYaml(await readSettled(path), { routeNames });
    if (!result.ok) {
      if (atStart) throw new AppError('CATALOG_INVALID', `catalog file ${path} is invalid:\n${result.problems.join('\n')}`);
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
        await loadFile(file, true);
        watchFile(file, { interval: WATCH_INTERVAL_MS }, () => {
          loadFile(file, false).catch((error: unknown) => logger.error({ err: error, file }, 'catalog file unreadable; the previous catalog stays in force'));
        });
        return;
      }
      const [latest] = await store.query<{ catalog: string }>('latest catalog', 'SELECT catalog FROM catalog_versions_v1 ORDER BY at DESC LIMIT 1');
      if (!latest) return;
      // Stored through the API when its routes existed: a route removed from the
      // configuration since is reported, not a reason to start without the catalog.
      const stored: unknown = JSON.parse(latest.catalog);
      const result = validateCatalog(stored);
      if (!result.ok) throw new AppError('CATALOG_INVALID', `stored catalog is invalid:\n${result.problems.join('\n')}`);
      const unknownRoutes = routeProblems(stored, routeNames);
      if (unknownRoutes.length > 0) logger.warn({ problems: unknownRoutes }, 'the stored catalog names notification routes that are no longer configured');
      current = buildCatalogIndex(result.catalog);
    },
    close() {
      if (file) unwatchFile(file);
    },
  };
}
