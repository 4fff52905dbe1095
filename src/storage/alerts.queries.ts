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

/**
 * The UTC day of an event (days since 1970) by its arrival: a row repeats only an event of
 * its own day, so that events, which expire by whole days, never outlive what they repeat.
 * The writer (alert.service.ts) and restoreRepeatedMaps hold to the same day.
 */
export function eventDayOf(receivedAtMs: number): number {
  return Math.floor(receivedAtMs / DAY_MS);
}

const DAY_MS = 86_400_000;

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

/**
 * Splits `items` into lists that each fit one query's URL: @clickhouse/client sends query
 * parameters in the URL, which a ClickHouse server limits to 1 MiB (http_max_uri_size). A
 * sender key is at most 255 characters, but escaped and percent-encoded one takes up to 9
 * bytes a character (a quote, 6), so lists are cut by encoded size (half the limit), not by count.
 */
export function chunksForUrl<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    // Plus room for a number beside it (sinceMs).
    const cost = urlBytesOf(keyOf(item)) + 32;
    if (chunk.length > 0 && bytes + cost > URL_PARAMETER_BYTES) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += cost;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

const URL_PARAMETER_BYTES = 512 * 1024;

const ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', "'": "\\'", '\\': '\\\\' };

/** Bytes a string takes in an Array(String) parameter's URL: escaped and quoted as @clickhouse/client writes it, then form-encoded. */
function urlBytesOf(key: string): number {
  const escaped = key.replace(/[\t\n\r'\\]/g, (c) => ESCAPES[c]!);
  return new URLSearchParams([['', `'${escaped}',`]]).toString().length - 1;
}

/** The current state of these alerts (those stored), in no particular order. */
export async function loadAlertsByFingerprint(store: Store, fingerprints: readonly string[]): Promise<AlertState[]> {
  const states: AlertState[] = [];
  for (const chunk of chunksForUrl(fingerprints, (fp) => fp)) {
    const rows = await store.query<StateRow>(
      'alerts by fingerprint',
      `SELECT ${STATE_COLUMNS} FROM ${currentAlerts('fingerprint IN {fingerprints:Array(String)}')}`,
      { fingerprints: chunk },
    );
    for (const row of rows) states.push(toState(row));
  }
  return states;
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
  repeats: number;
  group_key: string;
}

/**
 * The events stored for one fingerprint, newest first, with the number of all of them, each
 * with the maps its row left to an earlier event restored (restoreRepeatedMaps).
 */
export async function listAlertEvents(store: Store, fingerprint: string, page: { limit: number; offset: number }): Promise<{ events: StoredAlertEvent[]; total: number }> {
  const result = await queryPage<EventRow>(store, {
    name: 'alert events',
    from: 'alert_events_v1',
    columns: `${ALERT_COLUMNS_SELECT}, toUnixTimestamp64Milli(received_at) AS received_at_ms, seq, repeats, group_key`,
    conditions: ['fingerprint = {fingerprint:String}'],
    orderBy: 'received_at DESC, first_seen_at DESC, seq DESC',
    params: { fingerprint, limit: page.limit, offset: page.offset },
  });
  const events = result.rows.map((row) => ({ ...alertColumnsOf(row), receivedAtMs: Number(row.received_at_ms), seq: Number(row.seq), groupKey: row.group_key }));
  await restoreRepeatedMaps(store, fingerprint, events, result.rows.map((row) => Number(row.repeats)));
  return { total: result.total, events };
}

/** The maps a row may repeat; `bitIndex` as SQL's bitTest counts (from 0). */
const REPEATED_MAPS = [
  { bit: REPEATS_LABELS, bitIndex: 0, map: 'labels' },
  { bit: REPEATS_ANNOTATIONS, bitIndex: 1, map: 'annotations' },
] as const;

/**
 * Fills in the maps that rows of one fingerprint's events leave to an earlier event
 * (migration 016, `repeats`), in place. A map so marked equals that of the alert's previous
 * event (same first-seen time, `seq` one less): taken from the page when that event is on
 * it, else from the nearest earlier event of the alert that carries it, found by one ASOF
 * join for all such rows. The alert service writes a repeat only when the previous event was
 * received on the same UTC day, so the join reads the days of those rows only, never the
 * fingerprint's whole history.
 */
async function restoreRepeatedMaps(store: Store, fingerprint: string, events: StoredAlertEvent[], repeats: readonly number[]): Promise<void> {
  // Oldest first, so that a row's previous event is restored before the row.
  const ascending = events.map((_, i) => i).sort((a, b) => events[a]!.firstSeenAtMs - events[b]!.firstSeenAtMs || events[a]!.seq - events[b]!.seq);
  const previousOnPage = previousEvents(events, ascending);
  const lookedUp = ascending.filter((i) => REPEATED_MAPS.some(({ bit }) => repeats[i]! & bit) && previousOnPage[i] === undefined);
  if (lookedUp.length > 0) {
    const days = lookedUp.map((i) => eventDayOf(events[i]!.receivedAtMs));
    const carrying = ({ map, bitIndex }: (typeof REPEATED_MAPS)[number]) => `(SELECT toUnixTimestamp64Milli(first_seen_at) AS first_seen_at_ms, seq, ${map}
    FROM alert_events_v1
    WHERE fingerprint = {fingerprint:String} AND NOT bitTest(repeats, ${bitIndex})
      AND received_at >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC') AND received_at < fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')) AS ${map}_source
  ON wanted.first_seen_at_ms = ${map}_source.first_seen_at_ms AND wanted.seq > ${map}_source.seq`;
    const rows = await store.query<{ first_seen_at_ms: number | string; seq: number | string; labels: Record<string, string>; annotations: Record<string, string> }>(
      'alert events carried maps',
      `SELECT wanted.first_seen_at_ms AS first_seen_at_ms, wanted.seq AS seq, labels_source.labels AS labels, annotations_source.annotations AS annotations
FROM (SELECT pair.1 AS first_seen_at_ms, pair.2 AS seq FROM (SELECT arrayJoin(arrayZip({firstSeen:Array(Int64)}, {seqs:Array(UInt64)})) AS pair)) AS wanted
ASOF LEFT JOIN ${carrying(REPEATED_MAPS[0])}
ASOF LEFT JOIN ${carrying(REPEATED_MAPS[1])}`,
      {
        fingerprint,
        firstSeen: lookedUp.map((i) => events[i]!.firstSeenAtMs),
        seqs: lookedUp.map((i) => events[i]!.seq),
        fromMs: days.reduce((a, b) => Math.min(a, b)) * DAY_MS,
        toMs: (days.reduce((a, b) => Math.max(a, b)) + 1) * DAY_MS,
      },
    );
    const carried = new Map(rows.map((row) => [`${row.first_seen_at_ms}:${row.seq}`, row]));
    for (const i of lookedUp) {
      const row = carried.get(`${events[i]!.firstSeenAtMs}:${events[i]!.seq}`);
      for (const { bit, map } of REPEATED_MAPS) if (repeats[i]! & bit) events[i]![map] = row?.[map] ?? {};
    }
  }
  for (const i of ascending) {
    const previous = previousOnPage[i];
    if (previous === undefined) continue;
    for (const { bit, map } of REPEATED_MAPS) if (repeats[i]! & bit) events[i]![map] = events[previous]![map];
  }
}

/**
 * Per event, the index of its alert's previous event (same first-seen time, `seq` one less)
 * among `events`, if there. `ascending` orders the events by first-seen time, then `seq`.
 */
function previousEvents(events: readonly StoredAlertEvent[], ascending: readonly number[]): (number | undefined)[] {
  const previous: (number | undefined)[] = new Array(events.length);
  for (let k = 1; k < ascending.length; k++) {
    const event = events[ascending[k]!]!;
    // Past rows of the same seq (a duplicate is possible, if not expected) to the one before.
    let j = k - 1;
    while (j >= 0 && events[ascending[j]!]!.seq === event.seq && events[ascending[j]!]!.firstSeenAtMs === event.firstSeenAtMs) j--;
    const candidate = j >= 0 ? events[ascending[j]!]! : undefined;
    if (candidate && candidate.firstSeenAtMs === event.firstSeenAtMs && candidate.seq === event.seq - 1) previous[ascending[k]!] = ascending[j]!;
  }
  return previous;
}
