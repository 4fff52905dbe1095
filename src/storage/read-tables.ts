/**
 * The journaled tables each API read touches (the queries of the *.queries.ts files named
 * below), for the row journal's read-your-writes barrier: a read waits only until the rows
 * acknowledged for these tables are inserted, and the journal inserts them first. A query
 * that starts reading another journaled table must add it here, or it may miss rows.
 */
export const READ_TABLES = {
  /** listAlerts (alerts.queries.ts): the events' figures come through a view on their table. */
  alertList: ['alerts_v1', 'alert_events_v1'],
  /** listAlertEvents (alerts.queries.ts). */
  alertEvents: ['alert_events_v1'],
  /** listIncidents, loadIncidentsForPeriod (incidents.queries.ts). */
  incidentList: ['incidents_v1'],
  /** findIncident with its members, loadTimeline (incidents.queries.ts). */
  incidentDetail: ['incidents_v1', 'incident_alerts_v1', 'incident_events_v1'],
  /** listAttempts (notifications.queries.ts). */
  notificationAttempts: ['notification_attempts_v1'],
  /** listDeliveries (notifications.queries.ts). */
  notificationDeliveries: ['notification_deliveries_v1'],
} as const satisfies Record<string, readonly string[]>;
