import { addColumnStatements, modifyTtlStatement } from '../ddl.js';
import type { Migration } from './migration.js';

/**
 * Alert event rows stop repeating the maps of the event before them. Prometheus re-sends
 * every firing alert each evaluation with the same labels (they are its identity) and mostly
 * the same annotations; writing both maps into every event row was half of the engine's
 * insert work under an alert storm (bench:alerts, 1k alerts re-sent 500 times, 2 cores: the
 * insert threads took 2.0 CPU-s with the maps and 0.9 without, merges half).
 *
 * - `seq`: the event's number among its alert's events (the alert being its fingerprint and
 *   first-seen time, as alert_activity_v1 counts them), from 1. Rows stored before are 0.
 * - `repeats`: bit 0, the labels are those of the nearest earlier event (by `seq`) of the same
 *   alert that carries its labels, and the row's own map is empty; bit 1, the same for the
 *   annotations. Readers restore them (listAlertEvents, alerts.queries.ts). A row marks a
 *   repeat only of an event the same process stored on the same UTC day, so the event it
 *   refers to is there whatever happened before (restarts, rows stored before this
 *   migration) and for as long:
 * - the retention now expires whole UTC days (`toStartOfDay(received_at)`, as retention.ts
 *   has it from now on; spelled out here, so this migration stays as released), so no event
 *   outlives the one it refers to. Rows already expired may be read, until merges remove
 *   them, without the maps of an earlier row removed first.
 */
export const alertEventRepeatsMigration: Migration = {
  version: 16,
  name: 'alert-event-repeats',
  statements: (ctx) => [
    ...addColumnStatements(ctx, 'alert_events_v1', 'seq UInt64 DEFAULT 0'),
    ...addColumnStatements(ctx, 'alert_events_v1', 'repeats UInt8 DEFAULT 0'),
    modifyTtlStatement(ctx, 'alert_events_v1', `toStartOfDay(received_at) + INTERVAL ${ctx.alertEventRetentionDays} DAY`),
  ],
};
