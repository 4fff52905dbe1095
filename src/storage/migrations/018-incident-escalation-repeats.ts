import { addColumnStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * How many times the highest `afterMs` escalation level was told again since the incident
 * opened or was last reopened, and when it was last told (escalation.ts, `repeat`): a restart
 * continues instead of repeating. Rows written before this read 0 and NULL: not told as far
 * as repeats know, so an incident that reached that level before the upgrade is not reminded.
 */
export const incidentEscalationRepeatsMigration: Migration = {
  version: 18,
  name: 'incident-escalation-repeats',
  statements: (ctx) => [
    ...addColumnStatements(ctx, 'incidents_v1', 'escalation_repeats UInt16 DEFAULT 0'),
    ...addColumnStatements(ctx, 'incidents_v1', "escalation_told_at Nullable(DateTime64(3, 'UTC'))"),
  ],
};
