import { addColumnStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * When an incident was last reopened, and whether it was in breach then: its escalation
 * policy starts over from the reopening (a reopened incident needs someone to take it again),
 * except the breach levels already told. Rows written before this read NULL and false:
 * never reopened as far as escalation knows, which is how they escalated before.
 */
export const incidentReopenedAtMigration: Migration = {
  version: 17,
  name: 'incident-reopened-at',
  statements: (ctx) => [
    ...addColumnStatements(ctx, 'incidents_v1', "reopened_at Nullable(DateTime64(3, 'UTC'))"),
    ...addColumnStatements(ctx, 'incidents_v1', 'breached_at_reopen Bool DEFAULT false'),
  ],
};
