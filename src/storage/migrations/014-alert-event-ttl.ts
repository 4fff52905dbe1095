import { modifySettingsStatement } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * alert_events_v1 gained a retention (alertEventRetentionDays): the check after migrations
 * adds its TTL and materialises it. As for the metric tables (010), the engine should then only
 * recompute each part's TTL, not rewrite every part of what may be the largest alert table;
 * expired rows go at later merges.
 */
export const alertEventTtlMigration: Migration = {
  version: 14,
  name: 'alert-event-ttl',
  statements: (ctx) => [modifySettingsStatement(ctx, 'alert_events_v1', { materialize_ttl_recalculate_only: 1 })],
};
