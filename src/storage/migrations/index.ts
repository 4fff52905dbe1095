import { metricsMigration } from './001-metrics.js';
import { alertsMigration } from './002-alerts.js';
import { incidentsMigration } from './003-incidents.js';
import { notificationsMigration } from './004-notifications.js';
import { catalogMigration } from './005-catalog.js';
import { escalationDeliveriesMigration } from './006-escalation-deliveries.js';
import { journalDedupMigration } from './007-journal-dedup.js';
import { rollupLastMigration } from './008-rollup-last.js';
import { dropOldRollupsMigration } from './009-drop-old-rollups.js';
import { ttlRecalculateMigration } from './010-ttl-recalculate.js';
import { slaBreachTargetsMigration } from './011-sla-breach-targets.js';
import { alertActivityMigration } from './012-alert-activity.js';
import { viewDedupMigration } from './013-view-dedup.js';
import { alertEventTtlMigration } from './014-alert-event-ttl.js';
import { alertMapColumnsMigration } from './015-alert-map-columns.js';
import { alertEventRepeatsMigration } from './016-alert-event-repeats.js';
import { incidentReopenedAtMigration } from './017-incident-reopened-at.js';
import { incidentEscalationRepeatsMigration } from './018-incident-escalation-repeats.js';
import type { Migration } from './migration.js';

/** Every migration, in version order. Append only. */
export const migrations: readonly Migration[] = [metricsMigration, alertsMigration, incidentsMigration, notificationsMigration, catalogMigration, escalationDeliveriesMigration, journalDedupMigration, rollupLastMigration, dropOldRollupsMigration, ttlRecalculateMigration, slaBreachTargetsMigration, alertActivityMigration, viewDedupMigration, alertEventTtlMigration, alertMapColumnsMigration, alertEventRepeatsMigration, incidentReopenedAtMigration, incidentEscalationRepeatsMigration];

export type { Migration } from './migration.js';
export { retentionTtl } from './retention.js';
export { rollupLastValueSql } from './008-rollup-last.js';
