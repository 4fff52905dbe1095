import { dropTableStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/** The rollup tables 008 replaced, once their rows are copied. */
export const dropOldRollupsMigration: Migration = {
  version: 9,
  name: 'drop-old-rollups',
  statements: (ctx) => [...dropTableStatements(ctx, 'metric_samples_1h_v1'), ...dropTableStatements(ctx, 'metric_samples_1m_v1')],
};
