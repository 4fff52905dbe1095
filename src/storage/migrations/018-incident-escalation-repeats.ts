import { addColumnStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * How many times the highest `afterMs` escalation level was told again since the incident
 * opened or was last reopened (escalation.ts, `repeat`): a restart continues the count
 * instead of repeating. Rows written before this read 0.
 */
export const incidentEscalationRepeatsMigration: Migration = {
  version: 18,
  name: 'incident-escalation-repeats',
  statements: (ctx) => addColumnStatements(ctx, 'incidents_v1', 'escalation_repeats UInt16 DEFAULT 0'),
};
