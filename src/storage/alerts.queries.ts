import type { AlertEvent } from '../incidents/alert.js';
import type { AlertState } from '../incidents/alert-state.js';
import type { Store } from './store.js';
import { toClickHouseDateTime } from './clickhouse-time.js';
import { queryPage } from './paged-query.js';

const dateTime = toClickHouseDateTime;

export function alertEventRow(event: AlertEvent): Record<string, unknown> {
  return {
    received_at: dateTime(event.receivedAtMs),
    fingerprint: event.fingerprint,
    source: event.source,
    status: event.status,
    severity: event.severity,
    labels: event.labels,
    annotations: event.annotations,
    starts_at: dateTime(event.startsAtMs),
    ends_at: event.endsAtMs === null ? null : dateTime(event.endsAtMs),
    generator_url: event.generatorUrl ?? '',
    group_key: event.groupKey ?? '',
  };
}

export function alertStateRow(state: AlertState, version: number): Record<string, unknown> {
  return {
    fingerprint: state.fingerprint,
    source: state.source,
    status: state.status,
    severity: state.severity,
    labels: state.labels,
    annotations: state.annotations,
    starts_at: dateTime(state.startsAtMs),
    ends_at: state.endsAtMs === null ? null : dateTime(state.endsAtMs),
    generator_url: state.generatorUrl,
    first_seen_at: dateTime(state.firstSeenAtMs),
    last_seen_at: dateTime(state.lastSeenAtMs),
    resolved_at: state.resolvedAtMs === null ? null : dateTime(state.resolvedAtMs),
    event_count: state.eventCount,
    version,
  };
}

interface StateRow {
  fingerprint: string;
  source: AlertState['source'];
  status: AlertState['status'];
  severity: AlertState['severity'];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at_ms: number;
  ends_at_ms: number | null;
  generator_url: string;
  first_seen_at_ms: number;
  last_seen_at_ms: number;
  resolved_at_ms: number | null;
  event_count: string | number;
}

const STATE_COLUMNS = `fingerprint, source, status, severity, labels, annotations,
  toUnixTimestamp64Milli(starts_at) AS starts_at_ms, toUnixTimestamp64Milli(ends_at) AS ends_at_ms, generator_url,
  toUnixTimestamp64Milli(first_seen_at) AS first_seen_at_ms, toUnixTimestamp64Milli(last_seen_at) AS last_seen_at_ms,
  toUnixTimestamp64Milli(resolved_at) AS resolved_at_ms, event_count`;

function toState(row: StateRow): AlertState {
  return {
    fingerprint: row.fingerprint,
    source: row.source,
    status: row.status,
    severity: row.severity,
    labels: row.labels,
    annotations: row.annotations,
    startsAtMs: Number(row.starts_at_ms),
    endsAtMs: row.ends_at_ms === null ? null : Number(row.ends_at_ms),
    generatorUrl: row.generator_url,
    firstSeenAtMs: Number(row.first_seen_at_ms),
    lastSeenAtMs: Number(row.last_seen_at_ms),
    resolvedAtMs: row.resolved_at_ms === null ? null : Number(row.resolved_at_ms),
    eventCount: Number(row.event_count),
  };
}

/** Alerts firing now or resolved since `sinceMs`: what the core keeps in memory after a restart. */
export async function loadRecentAlerts(store: Store, sinceMs: number): Promise<AlertState[]> {
  const rows = await store.query<StateRow>(
    'recent alerts',
    `SELECT ${STATE_COLUMNS} FROM alerts_v1 FINAL
     WHERE status = 'firing' OR resolved_at >= fromUnixTimestamp64Milli({sinceMs:Int64}, 'UTC')`,
    { sinceMs },
  );
  return rows.map(toState);
}

/** A page of alerts, newest first, with the number of all matches. */
export async function listAlerts(
  store: Store,
  filter: { status: 'firing' | 'resolved' | 'all'; limit: number; offset: number },
): Promise<{ alerts: AlertState[]; total: number }> {
  const page = await queryPage<StateRow>(store, {
    name: 'alerts',
    from: 'alerts_v1 FINAL',
    columns: STATE_COLUMNS,
    conditions: filter.status === 'all' ? [] : ['status = {status:String}'],
    orderBy: 'last_seen_at DESC, fingerprint',
    params: { status: filter.status, limit: filter.limit, offset: filter.offset },
  });
  return { alerts: page.rows.map(toState), total: page.total };
}
