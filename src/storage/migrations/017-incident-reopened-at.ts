import { addColumnStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * When an incident was last reopened: its escalation policy starts over from there (a
 * reopened incident needs someone to take it again). Rows written before this read NULL:
 * never reopened as far as escalation knows, which is how they escalated before.
 */
export const incidentReopenedAtMigration: Migration = {
  version: 17,
  name: 'incident-reopened-at',
  statements: (ctx) => addColumnStatements(ctx, 'incidents_v1', "reopened_at Nullable(DateTime64(3, 'UTC'))"),
};
