import { addColumnStatements } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * Which SLA target an incident breached: response (acknowledgement) and resolution apart.
 * One flag hid the second breach: once the response target was missed, a later resolution
 * breach reached neither the timeline nor the reports. `sla_breached` stays (either one).
 * Rows written before this carry false in both; reading infers them from the stored times
 * (incidents.queries.ts).
 */
export const slaBreachTargetsMigration: Migration = {
  version: 11,
  name: 'sla-breach-targets',
  statements: (ctx) => [
    ...addColumnStatements(ctx, 'incidents_v1', 'response_breached Bool DEFAULT false'),
    ...addColumnStatements(ctx, 'incidents_v1', 'resolution_breached Bool DEFAULT false'),
  ],
};
