import { createTableStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/** Service catalog versions set through the API (a YAML file, when configured, wins at start). */
export const catalogMigration: Migration = {
  version: 5,
  name: 'catalog',
  statements: (ctx) =>
    createTableStatements(ctx, {
      name: 'catalog_versions_v1',
      columns: ["at DateTime64(3, 'UTC')", 'author String', 'catalog String'],
      engine: 'MergeTree',
      orderBy: 'at',
    }),
};
