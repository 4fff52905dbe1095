import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ALERT_SOURCES, ALERT_STATUSES } from '../incidents/alert.js';
import { ESCALATION_REASONS } from '../incidents/escalation.js';
import { AUTH_REFUSAL_REASONS, AUTH_SCOPES, type AuthRefusals } from '../api/auth.js';
import type { IncidentMetrics } from '../incidents/incident.service.js';
import { REMOVED_ROUTE } from '../config/config.schema.js';
import { ATTEMPT_OUTCOMES, type NotificationMetrics } from '../incidents/notification.service.js';
import type { RowBatcherMetrics } from '../storage/row-batcher.js';
import type { WriterMetrics } from '../storage/sample-writer.js';
import { INCIDENT_STATUSES } from '../incidents/incident-lifecycle.js';
import { PRIORITIES } from '../incidents/priority.js';
import { INGEST_OUTCOMES, INGEST_PROTOCOLS, type IngestOutcome } from '../ingest/ingest.service.js';

export const ALERT_REQUEST_OUTCOMES = ['stored', 'invalid', 'unauthorized', 'too_large', 'unsupported', 'unavailable', 'failed'] as const;
export type AlertRequestOutcome = (typeof ALERT_REQUEST_OUTCOMES)[number];

/** What the alert, incident and notification gauges read at each scrape (from memory, no I/O). */
export interface CoreStateReaders {
  /** Alerts held in memory by status (firing, and resolved ones kept for late repeats). */
  alertsByStatus(): Readonly<Record<string, number>>;
  /** Incidents held in memory (every one not yet closed); `openInBreach`: not resolved either, and a target is breached. */
  incidents(): Iterable<{ status: string; priority: string; openInBreach: boolean }>;
  /** Notification deliveries queued or in flight. */
  pendingNotifications(): number;
}

/**
 * Vigil's own metrics, on a registry of its own (no global state, so tests can build
 * several apps). Metric names are public API: dashboards depend on them.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly writer: WriterMetrics;
  /** The row journal of alerts, incidents and notifications (src/storage/row-batcher.ts). */
  readonly journal: RowBatcherMetrics;
  /** Counts an ingest request by protocol and outcome (`stored`, `invalid`, `too_large`, `unsupported`, `overloaded`, `failed`). */
  ingestRequest(protocol: string, outcome: IngestOutcome): void;
  ingestSamples(protocol: string, count: number): void;
  /** Data points not stored on purpose (string fields, native histograms), by reason. */
  ingestSkipped(protocol: string, reason: string, count: number): void;
  ingestNewSeries(protocol: string, count: number): void;
  /**
   * Counts an alert intake request by sender (`alertmanager`, `prometheus`, `vigil`,
   * `pagerduty`) and outcome (`stored`, `invalid`, `too_large`, `unsupported`, `unavailable`,
   * `failed`).
   */
  alertRequest(source: string, outcome: AlertRequestOutcome): void;
  /** Alert events stored, by sender and status (`firing`, `resolved`). */
  alertEvents(source: string, status: string, count: number): void;
  /** Alerts Alertmanager left out of a webhook (its `truncatedAlerts`, past `max_alerts`). */
  alertsTruncated(count: number): void;
  readonly incidents: IncidentMetrics;
  readonly notifications: NotificationMetrics;
  /** Counts a request refused by authentication (server.auth), by the scope its route needs and why. */
  authRefused: AuthRefusals;
  /** Sets what the alert, incident and notification gauges read; until then they read nothing. */
  readCoreState(readers: CoreStateReaders): void;
}

export function createMetrics(options: { collectProcessMetrics: boolean } = { collectProcessMetrics: true }): Metrics {
  const registry = new Registry();
  if (options.collectProcessMetrics) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'vigil_ingest_requests_total',
    help: 'Ingest requests by protocol and outcome.',
    labelNames: ['protocol', 'outcome'],
    registers: [registry],
  });
  const samples = new Counter({
    name: 'vigil_ingest_samples_total',
    help: 'Samples durably stored, by protocol.',
    labelNames: ['protocol'],
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'vigil_ingest_skipped_total',
    help: 'Data points received but not stored as samples, by protocol and reason.',
    labelNames: ['protocol', 'reason'],
    registers: [registry],
  });
  const newSeries = new Counter({
    name: 'vigil_ingest_new_series_total',
    help: 'Series rows written (first sample of a series on a day), by protocol.',
    labelNames: ['protocol'],
    registers: [registry],
  });
  const queueRows = new Gauge({
    name: 'vigil_writer_queue_rows',
    help: 'Sample rows accepted or waiting but not yet inserted into ClickHouse.',
    registers: [registry],
  });
  const rowBuckets = [100, 1_000, 5_000, 10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];
  const secondBuckets = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  const commitRows = new Histogram({
    name: 'vigil_writer_commit_rows',
    help: 'Rows per write-ahead segment (one group commit: the rows acknowledged together).',
    buckets: rowBuckets,
    registers: [registry],
  });
  const commitSeconds = new Histogram({
    name: 'vigil_writer_commit_duration_seconds',
    help: 'Time to write and fsync one write-ahead segment.',
    buckets: secondBuckets,
    registers: [registry],
  });
  const insertRows = new Histogram({
    name: 'vigil_writer_insert_rows',
    help: 'Rows per ClickHouse insert of committed segments.',
    buckets: rowBuckets,
    registers: [registry],
  });
  const insertSeconds = new Histogram({
    name: 'vigil_writer_insert_duration_seconds',
    help: 'Time of one ClickHouse insert of committed segments, by outcome (errors are retried).',
    labelNames: ['outcome'],
    buckets: secondBuckets,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'vigil_writer_rejected_total',
    help: 'Writes refused before queueing (answered 503 with Retry-After), by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  const journalQueueRows = new Gauge({
    name: 'vigil_journal_queue_rows',
    help: 'Alert, incident and notification rows acknowledged or waiting but not yet inserted into ClickHouse.',
    registers: [registry],
  });
  const journalQueueBytes = new Gauge({
    name: 'vigil_journal_queue_bytes',
    help: 'Journal bytes acknowledged or waiting but not yet inserted into ClickHouse.',
    registers: [registry],
  });
  const journalCommitRows = new Histogram({
    name: 'vigil_journal_commit_rows',
    help: 'Rows per journal group commit (the rows acknowledged together).',
    buckets: rowBuckets,
    registers: [registry],
  });
  const journalCommitSeconds = new Histogram({
    name: 'vigil_journal_commit_duration_seconds',
    help: 'Time to append and fdatasync one journal group commit.',
    buckets: secondBuckets,
    registers: [registry],
  });
  const journalInsertRows = new Histogram({
    name: 'vigil_journal_insert_rows',
    help: 'Rows per journal segment inserted into ClickHouse (all its tables).',
    buckets: rowBuckets,
    registers: [registry],
  });
  const journalInsertBytes = new Histogram({
    name: 'vigil_journal_insert_bytes',
    help: 'Journal bytes per segment inserted into ClickHouse.',
    buckets: [1e4, 1e5, 1e6, 4e6, 16e6, 64e6],
    registers: [registry],
  });
  const journalInsertSeconds = new Histogram({
    name: 'vigil_journal_insert_duration_seconds',
    help: 'Time to insert one journal segment into ClickHouse, by outcome (errors are retried).',
    labelNames: ['outcome'],
    buckets: secondBuckets,
    registers: [registry],
  });
  const journalRejected = new Counter({
    name: 'vigil_journal_rejected_total',
    help: 'Row writes (one per table per request) refused before journaling (answered 503 with Retry-After), by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  const alertRequests = new Counter({
    name: 'vigil_alert_requests_total',
    help: 'Alert intake requests by sender and outcome.',
    labelNames: ['source', 'outcome'],
    registers: [registry],
  });
  const alertEvents = new Counter({
    name: 'vigil_alert_events_total',
    help: 'Alert events accepted, by sender and status: every re-send counts (an acknowledge or bare status of an alert Vigil does not know is accepted, then dropped).',
    labelNames: ['source', 'status'],
    registers: [registry],
  });
  const alertsTruncated = new Counter({
    name: 'vigil_alerts_truncated_total',
    help: "Alerts Alertmanager left out of its webhook bodies (truncatedAlerts, past the receiver's max_alerts): never seen by Vigil.",
    registers: [registry],
  });
  const incidentsCreated = new Counter({
    name: 'vigil_incidents_created_total',
    help: 'Incidents opened, by priority at opening.',
    labelNames: ['priority'],
    registers: [registry],
  });
  const escalations = new Counter({
    name: 'vigil_incident_escalations_total',
    help: 'Escalation levels reached, by reason (not_acknowledged, sla_breached).',
    labelNames: ['reason'],
    registers: [registry],
  });
  const sweepSeconds = new Histogram({
    name: 'vigil_incident_sweep_duration_seconds',
    help: 'Time of one incident sweep (every second: SLA breaches, escalation, auto-resolve, writes retried).',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const notificationAttempts = new Counter({
    name: 'vigil_notification_attempts_total',
    help: 'Webhook delivery attempts by route and outcome (delivered; retrying: failed, tried again later; failed: given up).',
    labelNames: ['route', 'outcome'],
    registers: [registry],
  });
  const notificationSeconds = new Histogram({
    name: 'vigil_notification_attempt_duration_seconds',
    help: 'Time of one webhook delivery attempt (request and answer), by route.',
    labelNames: ['route'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const authRefused = new Counter({
    name: 'vigil_auth_refused_total',
    help: 'Requests refused by authentication, by the scope the route needs and reason (missing, invalid: 401; forbidden: 403).',
    labelNames: ['scope', 'reason'],
    registers: [registry],
  });
  let readers: CoreStateReaders | null = null;
  new Gauge({
    name: 'vigil_alerts_active',
    help: 'Alerts held in memory by status: firing, and resolved ones kept to recognise late repeats.',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      if (!readers) return;
      for (const [status, count] of Object.entries(readers.alertsByStatus())) this.set({ status }, count);
    },
  });
  new Gauge({
    name: 'vigil_incidents',
    help: 'Incidents not yet closed, by status and priority.',
    labelNames: ['status', 'priority'],
    registers: [registry],
    collect() {
      const counts = new Map<string, number>();
      for (const { status, priority } of readers?.incidents() ?? []) counts.set(`${status} ${priority}`, (counts.get(`${status} ${priority}`) ?? 0) + 1);
      // Every status (but closed) and priority, 0 included: a line that drops to 0 must not end.
      for (const status of INCIDENT_STATUSES) {
        if (status !== 'closed') for (const priority of PRIORITIES) this.set({ status, priority }, counts.get(`${status} ${priority}`) ?? 0);
      }
    },
  });
  new Gauge({
    name: 'vigil_incidents_sla_breached',
    help: 'Incidents still open (not resolved or closed) whose response or resolution target is breached.',
    registers: [registry],
    collect() {
      let breached = 0;
      for (const incident of readers?.incidents() ?? []) if (incident.openInBreach) breached++;
      this.set(breached);
    },
  });
  new Gauge({
    name: 'vigil_notifications_pending',
    help: 'Notification deliveries queued or in flight (retries included).',
    registers: [registry],
    collect() {
      this.set(readers ? readers.pendingNotifications() : 0);
    },
  });
  // Every series a rule or dashboard may ask for starts at 0: increase() and rate() see a
  // counter's first event only if the series existed before it (Prometheus' advice:
  // initialise your metrics). Notification routes are known later (notifications.routes).
  for (const protocol of INGEST_PROTOCOLS) for (const outcome of INGEST_OUTCOMES) requests.inc({ protocol, outcome }, 0);
  for (const source of ALERT_SOURCES) {
    for (const outcome of ALERT_REQUEST_OUTCOMES) alertRequests.inc({ source, outcome }, 0);
    for (const status of ALERT_STATUSES) alertEvents.inc({ source, status }, 0);
  }
  for (const priority of PRIORITIES) incidentsCreated.inc({ priority }, 0);
  for (const scope of AUTH_SCOPES) for (const reason of AUTH_REFUSAL_REASONS) authRefused.inc({ scope, reason }, 0);
  for (const reason of ESCALATION_REASONS) escalations.inc({ reason }, 0);
  rejected.inc({ reason: 'overload' }, 0);
  journalRejected.inc({ reason: 'overload' }, 0);
  for (const outcome of ['ok', 'error']) {
    insertSeconds.zero({ outcome });
    journalInsertSeconds.zero({ outcome });
  }
  return {
    registry,
    journal: {
      queued: (rows, bytes) => {
        journalQueueRows.set(rows);
        journalQueueBytes.set(bytes);
      },
      committed: (rows, seconds) => {
        journalCommitRows.observe(rows);
        journalCommitSeconds.observe(seconds);
      },
      inserted: (rows, bytes, seconds, outcome) => {
        if (outcome === 'ok') {
          journalInsertRows.observe(rows);
          journalInsertBytes.observe(bytes);
        }
        journalInsertSeconds.observe({ outcome }, seconds);
      },
      rejected: (reason) => journalRejected.inc({ reason }),
    },
    writer: {
      queueRows: (rows) => queueRows.set(rows),
      committed: (rows, seconds) => {
        commitRows.observe(rows);
        commitSeconds.observe(seconds);
      },
      inserted: (rows, seconds, outcome) => {
        if (outcome === 'ok') insertRows.observe(rows);
        insertSeconds.observe({ outcome }, seconds);
      },
      rejected: (reason) => rejected.inc({ reason }),
    },
    ingestRequest: (protocol, outcome) => requests.inc({ protocol, outcome }),
    ingestSamples: (protocol, count) => samples.inc({ protocol }, count),
    ingestSkipped: (protocol, reason, count) => skipped.inc({ protocol, reason }, count),
    ingestNewSeries: (protocol, count) => newSeries.inc({ protocol }, count),
    alertRequest: (source, outcome) => alertRequests.inc({ source, outcome }),
    authRefused: (scope, reason) => authRefused.inc({ scope, reason }),
    alertEvents: (source, status, count) => alertEvents.inc({ source, status }, count),
    alertsTruncated: (count) => alertsTruncated.inc(count),
    incidents: {
      created: (priority) => incidentsCreated.inc({ priority }),
      escalated: (reason) => escalations.inc({ reason }),
      swept: (seconds) => sweepSeconds.observe(seconds),
    },
    notifications: {
      routesConfigured: (routes) => {
        for (const route of [...routes, REMOVED_ROUTE]) for (const outcome of ATTEMPT_OUTCOMES) notificationAttempts.inc({ route, outcome }, 0);
        for (const route of routes) notificationSeconds.zero({ route });
      },
      attempted: (route, outcome, seconds) => {
        notificationAttempts.inc({ route, outcome });
        if (seconds !== null) notificationSeconds.observe({ route }, seconds);
      },
    },
    readCoreState: (r) => {
      readers = r;
    },
  };
}
