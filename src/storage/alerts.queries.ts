import type { AlertEvent } from '../incidents/alert.js';
import type { AlertState } from '../incidents/alert-state.js';
import type { Store } from './store.js';
import { queryPage } from './paged-query.js';
import { column, rowBinaryLayout, type RowBinaryWriter } from './row-binary.js';


/**
 * The columns alert events and alert states share, in this order (writeAlertColumns).
 * generator_url is '' when the sender gave none.
 */
const ALERT_COLUMNS = [
  column.string('fingerprint'),
  column.lowCardinalityString('source'),
  column.lowCardinalityString('status'),
  column.lowCardinalityString('severity'),
  column.stringMap('labels'),
  column.stringMap('annotations'),
  column.time('starts_at'),
  column.nullableTime('ends_at'),
  column.string('generator_url'),
];

function writeAlertColumns(
  out: RowBinaryWriter,
  alert: AlertEvent | AlertState,
  labels: Readonly<Record<string, string>> = alert.labels,
  annotations: Readonly<Record<string, string>> = alert.annotations,
): void {
  out.string(alert.fingerprint);
  out.string(alert.source);
  out.string(alert.status);
  out.string(alert.severity);
  out.stringMap(labels);
  out.stringMap(annotations);
  out.int64(alert.startsAtMs);
  out.nullableInt64(alert.endsAtMs);
  out.string(alert.generatorUrl ?? '');
}

/** `repeats` bits of an event row (migration 016): which map it leaves to an earlier event of its alert. */
export const REPEATS_LABELS = 1;
export const REPEATS_ANNOTATIONS = 2;

/**
 * An event row as RowBinary (ALERT_EVENT_LAYOUT), the journal's form of alert events: one per
 * received event, so the hot path of every sender. `firstSeenAtMs` is when the alert it
 * belongs to was first seen (its state's): the events of one alert held in memory, from its
 * creation until it is forgotten, share it, and alert_activity_v1 counts them per alert by it
 * (migration 012). `seq` numbers the alert's events from 1; a map named in `repeats` is
 * written empty: it is the map of the alert's nearest earlier event that carries one
 * (migration 016; listAlertEvents restores it).
 */
export function writeAlertEvent(out: RowBinaryWriter, event: AlertEvent, firstSeenAtMs: number, seq: number, repeats: number): void {
  out.int64(event.receivedAtMs);
  writeAlertColumns(out, event, repeats & REPEATS_LABELS ? NO_ENTRIES : event.labels, repeats & REPEATS_ANNOTATIONS ? NO_ENTRIES : event.annotations);
  out.string(event.groupKey ?? '');
  out.int64(firstSeenAtMs);
  out.uint64(seq);
  out.uint8(repeats);
}

const NO_ENTRIES: Readonly<Record<string, string>> = Object.freeze({});

const ALERT_EVENT_COLUMNS = [column.time('received_at'), ...ALERT_COLUMNS, column.string('group_key'), column.time('first_seen_at')];

/**
 * The columns of `alert_events_v1` (002, 012, 015, 016) in writeAlertEvent's order. Journal
 * files of alert events name this layout; a change of the row needs a new layout name, so
 * that files left by a crash are still read as they were written.
 */
export const ALERT_EVENT_LAYOUT = rowBinaryLayout('alert-event-2', [...ALERT_EVENT_COLUMNS, column.uint64('seq'), column.uint8('repeats')]);

/** The event rows written before migration 016, every map in full: still read from journal files a crash left. */
export const ALERT_EVENT_LAYOUT_1 = rowBinaryLayout('alert-event-1', ALERT_EVENT_COLUMNS);

/** A state row as RowBinary (ALERT_STATE_LAYOUT); `version` orders the rows of one alert (ReplacingMergeTree). */
export function writeAlertState(out: RowBinaryWriter, state: AlertState, version: number): void {
  writeAlertColumns(out, state);
  out.int64(state.firstSeenAtMs);
  out.int64(state.lastSeenAtMs);
  out.nullableInt64(state.resolvedAtMs);
  out.uint64(state.eventCount);
  out.uint64(version);
}

/** The columns of `alerts_v1` (002, 015) in writeAlertState's order; see ALERT_EVENT_LAYOUT on changes. */
export const ALERT_STATE_LAYOUT = rowBinaryLayout('alert-state-1', [
  ...ALERT_COLUMNS,
  column.time('first_seen_at'),
  column.time('last_seen_at'),
  column.nullableTime('resolved_at'),
  column.uint64('event_count'),
  column.uint64('version'),
]);

/** What alert states and alert events read back alike: the columns of ALERT_COLUMNS, and the alert's first-seen time. */
export type AlertColumns = Pick<AlertState, 'fingerprint' | 'source' | 'status' | 'severity' | 'labels' | 'annotations' | 'startsAtMs' | 'endsAtMs' | 'generatorUrl' | 'firstSeenAtMs'>;

/** AlertColumns as selected by ALERT_COLUMNS_SELECT. */
interface AlertColumnsRow {
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
}

const ALERT_COLUMNS_SELECT = `fingerprint, source, status, severity, labels, annotations,
  toUnixTimestamp64Milli(starts_at) AS starts_at_ms, toUnixTimestamp64Milli(ends_at) AS ends_at_ms, generator_url,
  toUnixTimestamp64Milli(first_seen_at) AS first_seen_at_ms`;

function alertColumnsOf(row: AlertColumnsRow): AlertColumns {
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
  };
}

interface StateRow extends AlertColumnsRow {
  last_seen_at_ms: number;
  resolved_at_ms: number | null;
  event_count: string | number;
}

const STATE_COLUMNS = `${ALERT_COLUMNS_SELECT}, toUnixTimestamp64Milli(last_seen_at) AS last_seen_at_ms,
  toUnixTimestamp64Milli(resolved_at) AS resolved_at_ms, event_count`;

/**
 * The current state of the alerts whose latest `alerts_v1` row matches `where` (SQL over that
 * table's columns): the row, with what the alert's events add up to (`alert_activity_v1`,
 * migration 012, per fingerprint and first-seen time: the events since the alert was last
 * created in memory, as its eventCount counts them) taken over where they are newer. A
 * re-send that only renews the lease stores its event and no state row (alert.service.ts),
 * so the row's `last_seen_at`, `event_count` and `ends_at` can be behind; the events never
 * are. Status, resolution and everything else
 * are always in the row, so `where` can filter on them before the join, which then reads the
 * activity of the matching alerts only (measured with 1M alerts, 100k firing: the firing page
 * took 1.2 s joining all of them). When the row and the latest event have the same time, the
 * later lease of the two stands: which came last is not known. Columns as `alerts_v1`'s; for
 * `FROM`.
 */
export function currentAlerts(where: string): string {
  return `(SELECT s.fingerprint AS fingerprint, s.source AS source, s.status AS status, s.severity AS severity,
  s.labels AS labels, s.annotations AS annotations, s.starts_at AS starts_at,
  multiIf(a.last_seen_at > s.last_seen_at, a.ends_at, a.last_seen_at < s.last_seen_at, s.ends_at,
    greatest(ifNull(a.ends_at, s.ends_at), ifNull(s.ends_at, a.ends_at))) AS ends_at,
  s.generator_url AS generator_url, s.first_seen_at AS first_seen_at, greatest(s.last_seen_at, a.last_seen_at) AS last_seen_at,
  s.resolved_at AS resolved_at, greatest(s.event_count, a.events) AS event_count
FROM (SELECT * FROM alerts_v1 FINAL WHERE ${where}) AS s
GLOBAL LEFT JOIN (
  SELECT fingerprint, first_seen_at, events, latest.1 AS last_seen_at, latest.2 AS ends_at
  FROM alert_activity_v1 FINAL
  WHERE (fingerprint, first_seen_at) GLOBAL IN (SELECT fingerprint, first_seen_at FROM alerts_v1 FINAL WHERE ${where})
) AS a ON a.fingerprint = s.fingerprint AND a.first_seen_at = s.first_seen_at)`;
}

/** Every alert's current state (currentAlerts), for ad-hoc reads. */
export const CURRENT_ALERTS = currentAlerts('1');

function toState(row: StateRow): AlertState {
  return {
    ...alertColumnsOf(row),
    lastSeenAtMs: Number(row.last_seen_at_ms),
    resolvedAtMs: row.resolved_at_ms === null ? null : Number(row.resolved_at_ms),
    eventCount: Number(row.event_count),
  };
}

/** Alerts firing now or resolved since `sinceMs`: what the core keeps in memory after a restart. */
export async function loadRecentAlerts(store: Store, sinceMs: number): Promise<AlertState[]> {
  const rows = await store.query<StateRow>(
    'recent alerts',
    `SELECT ${STATE_COLUMNS} FROM ${currentAlerts("status = 'firing' OR resolved_at >= fromUnixTimestamp64Milli({sinceMs:Int64}, 'UTC')")}`,
    { sinceMs },
  );
  return rows.map(toState);
}

/** A page of alerts, newest first, with the number of all matches. */
export async function listAlerts(
  store: Store,
  filter: { status: 'firing' | 'resolved' | 'all'; limit: number; offset: number },
): Promise<{ alerts: AlertState[]; total: number }> {
  const where = filter.status === 'all' ? '1' : 'status = {status:String}';
  const page = await queryPage<StateRow>(store, {
    name: 'alerts',
    from: currentAlerts(where),
    // The status is always in the state row: the count needs no join.
    countFrom: 'alerts_v1 FINAL',
    columns: STATE_COLUMNS,
    conditions: [where],
    orderBy: 'last_seen_at DESC, fingerprint',
    params: { status: filter.status, limit: filter.limit, offset: filter.offset },
  });
  return { alerts: page.rows.map(toState), total: page.total };
}

/**
 * A stored alert event, with the maps its row left to an earlier event restored. Its
 * `firstSeenAtMs` is that of the alert it belongs to (1970 for events stored before
 * migration 012).
 */
export interface StoredAlertEvent extends AlertColumns {
  receivedAtMs: number;
  /** Its number among its alert's events, from 1; 0 for events stored before migration 016. */
  seq: number;
  groupKey: string;
}

interface EventRow extends AlertColumnsRow {
  received_at_ms: number;
  seq: number | string;
  group_key: string;
}

/**
 * The events stored for one fingerprint, newest first, with the number of all of them. A map
 * a row repeats (migration 016) is taken from the nearest earlier event of the same alert
 * (fingerprint and first-seen time) that carries it: a window over all the fingerprint's
 * events, computed before the page is cut.
 */
export async function listAlertEvents(store: Store, fingerprint: string, page: { limit: number; offset: number }): Promise<{ events: StoredAlertEvent[]; total: number }> {
  // bitTest counts from 0: bit 0 is REPEATS_LABELS, bit 1 REPEATS_ANNOTATIONS.
  const carried = (map: string, bit: number) =>
    `if(bitTest(repeats, ${bit}), argMaxIf(${map}, seq, NOT bitTest(repeats, ${bit})) OVER earlier, ${map}) AS ${map}`;
  const result = await queryPage<EventRow>(store, {
    name: 'alert events',
    from: `(SELECT received_at, seq, fingerprint, source, status, severity, ${carried('labels', 0)},
    ${carried('annotations', 1)}, starts_at, ends_at, generator_url, group_key, first_seen_at
  FROM alert_events_v1 WHERE fingerprint = {fingerprint:String}
  WINDOW earlier AS (PARTITION BY first_seen_at ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))`,
    countFrom: 'alert_events_v1',
    columns: `${ALERT_COLUMNS_SELECT}, toUnixTimestamp64Milli(received_at) AS received_at_ms, seq, group_key`,
    conditions: ['fingerprint = {fingerprint:String}'],
    orderBy: 'received_at DESC, first_seen_at DESC, seq DESC',
    params: { fingerprint, limit: page.limit, offset: page.offset },
  });
  return {
    total: result.total,
    events: result.rows.map((row) => ({ ...alertColumnsOf(row), receivedAtMs: Number(row.received_at_ms), seq: Number(row.seq), groupKey: row.group_key })),
  };
}
