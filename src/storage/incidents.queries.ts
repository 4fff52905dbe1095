import type { Severity } from '../incidents/alert.js';
import type { Incident, IncidentEvent } from '../incidents/incident.js';
import type { Store } from './store.js';
import { chunksForUrl } from './alerts.queries.js';
import { toClickHouseDateTime } from './clickhouse-time.js';
import { queryPage } from './paged-query.js';
import { column, rowBinaryLayout, type RowBinaryWriter } from './row-binary.js';

const dateTime = toClickHouseDateTime;
const nullableDateTime = (ms: number | null) => (ms === null ? null : dateTime(ms));

export function incidentRow(incident: Incident, version: number): Record<string, unknown> {
  return {
    id: incident.id,
    title: incident.title,
    status: incident.status,
    priority: incident.priority,
    severity: incident.severity,
    escalation_level: incident.escalationLevel,
    group_key: incident.groupKey,
    services: incident.services,
    cis: incident.cis,
    alert_count: incident.alertCount,
    created_at: dateTime(incident.createdAtMs),
    acknowledged_at: nullableDateTime(incident.acknowledgedAtMs),
    resolved_at: nullableDateTime(incident.resolvedAtMs),
    closed_at: nullableDateTime(incident.closedAtMs),
    reopened_at: nullableDateTime(incident.reopenedAtMs),
    breached_at_reopen: incident.breachedAtReopen,
    escalation_repeats: incident.escalationRepeats,
    escalation_told_at: nullableDateTime(incident.escalationToldAtMs),
    assignee: incident.assignee,
    response_due_at: dateTime(incident.responseDueAtMs),
    resolution_due_at: dateTime(incident.resolutionDueAtMs),
    sla_breached: incident.slaBreached,
    response_breached: incident.responseBreached,
    resolution_breached: incident.resolutionBreached,
    related_incident_id: incident.relatedIncidentId,
    all_alerts_resolved_at: nullableDateTime(incident.allAlertsResolvedAtMs),
    pauses: JSON.stringify(incident.pauses),
    version,
  };
}

/**
 * A timeline row as RowBinary (INCIDENT_EVENT_LAYOUT), as the journal stores them: an alert
 * storm adds one per joining alert. `seq` orders events of the same millisecond.
 */
export function writeIncidentEvent(out: RowBinaryWriter, event: IncidentEvent, seq: number): void {
  out.string(event.incidentId);
  out.int64(event.atMs);
  out.uint64(seq);
  out.string(event.actor);
  out.string(event.kind);
  out.string(JSON.stringify(event.detail));
}

/** The columns of `incident_events_v1` (003); a changed row needs a new layout name (see ALERT_EVENT_LAYOUT). */
export const INCIDENT_EVENT_LAYOUT = rowBinaryLayout('incident-event-1', [
  column.string('incident_id'),
  column.time('at'),
  column.uint64('seq'),
  column.string('actor'),
  column.lowCardinalityString('kind'),
  column.string('detail'),
]);

/** A membership row as RowBinary (INCIDENT_ALERT_LAYOUT): one per alert joining an incident. */
export function writeIncidentAlert(out: RowBinaryWriter, incidentId: string, fingerprint: string, joinedAtMs: number): void {
  out.string(incidentId);
  out.string(fingerprint);
  out.int64(joinedAtMs);
}

/** The columns of `incident_alerts_v1` (003). */
export const INCIDENT_ALERT_LAYOUT = rowBinaryLayout('incident-alert-1', [column.string('incident_id'), column.string('fingerprint'), column.time('joined_at')]);

const COLUMNS = `id, title, status, priority, severity, escalation_level, group_key, services, cis, alert_count,
  toUnixTimestamp64Milli(created_at) AS created_ms, toUnixTimestamp64Milli(acknowledged_at) AS acknowledged_ms,
  toUnixTimestamp64Milli(resolved_at) AS resolved_ms, toUnixTimestamp64Milli(closed_at) AS closed_ms, toUnixTimestamp64Milli(reopened_at) AS reopened_ms, breached_at_reopen, escalation_repeats, toUnixTimestamp64Milli(escalation_told_at) AS escalation_told_ms, assignee,
  toUnixTimestamp64Milli(response_due_at) AS response_due_ms, toUnixTimestamp64Milli(resolution_due_at) AS resolution_due_ms,
  sla_breached, response_breached, resolution_breached, related_incident_id, toUnixTimestamp64Milli(all_alerts_resolved_at) AS all_resolved_ms, pauses`;

interface Row {
  id: string;
  title: string;
  status: Incident['status'];
  priority: Incident['priority'];
  /** '' on rows from before migration 006. */
  severity: Incident['severity'] | '';
  escalation_level: number | string;
  group_key: string;
  services: string[];
  cis: string[];
  alert_count: number | string;
  created_ms: number;
  acknowledged_ms: number | null;
  resolved_ms: number | null;
  closed_ms: number | null;
  /** Null (and false) on rows from before migration 017. */
  reopened_ms: number | null;
  breached_at_reopen: boolean;
  /** 0 on rows from before migration 018. */
  escalation_repeats: number | string;
  escalation_told_ms: number | null;
  assignee: string | null;
  response_due_ms: number;
  resolution_due_ms: number;
  sla_breached: boolean;
  /** False on rows from before migration 011 (see breachedTargets). */
  response_breached: boolean;
  resolution_breached: boolean;
  related_incident_id: string | null;
  all_resolved_ms: number | null;
  pauses: string;
}

const num = (v: number | null) => (v === null ? null : Number(v));

function toIncident(row: Row): Incident {
  return {
    id: row.id,
    title: row.title,
    status: row.status,
    priority: row.priority,
    // Rows from before migration 006 carry no severity; the core recomputes it from the members at start.
    severity: row.severity === '' ? 'warning' : row.severity,
    escalationLevel: Number(row.escalation_level),
    groupKey: row.group_key,
    services: row.services,
    cis: row.cis,
    alertFingerprints: [],
    alertCount: Number(row.alert_count),
    createdAtMs: Number(row.created_ms),
    acknowledgedAtMs: num(row.acknowledged_ms),
    resolvedAtMs: num(row.resolved_ms),
    closedAtMs: num(row.closed_ms),
    reopenedAtMs: num(row.reopened_ms),
    breachedAtReopen: Boolean(row.breached_at_reopen),
    escalationRepeats: Number(row.escalation_repeats),
    escalationToldAtMs: num(row.escalation_told_ms),
    assignee: row.assignee,
    responseDueAtMs: Number(row.response_due_ms),
    resolutionDueAtMs: Number(row.resolution_due_ms),
    slaBreached: Boolean(row.sla_breached),
    ...breachedTargets(row),
    relatedIncidentId: row.related_incident_id,
    allAlertsResolvedAtMs: num(row.all_resolved_ms),
    pauses: JSON.parse(row.pauses) as Incident['pauses'],
  };
}

/**
 * The breached targets of a row. Rows from before migration 011 only say that one was: the
 * response, if acknowledged late or never (its target comes first), otherwise the resolution.
 * A target breached later is flagged then, as for any incident.
 */
function breachedTargets(row: Row): Pick<Incident, 'responseBreached' | 'resolutionBreached'> {
  if (!row.sla_breached || row.response_breached || row.resolution_breached) {
    return { responseBreached: Boolean(row.response_breached), resolutionBreached: Boolean(row.resolution_breached) };
  }
  const acknowledgedMs = num(row.acknowledged_ms);
  const resolvedMs = num(row.resolved_ms);
  const response = acknowledgedMs === null || acknowledgedMs > Number(row.response_due_ms);
  const resolution = !response || (resolvedMs !== null && resolvedMs > Number(row.resolution_due_ms));
  return { responseBreached: response, resolutionBreached: resolution };
}

/** Fills in member alerts, in joining order. */
async function withMembers(store: Store, incidents: Incident[]): Promise<Incident[]> {
  if (incidents.length === 0) return incidents;
  const rows = await store.query<{ incident_id: string; fingerprints: string[] }>(
    'incident members',
    `SELECT incident_id, arrayMap(p -> p.2, arraySort(groupArray((joined_at, fingerprint)))) AS fingerprints
     FROM incident_alerts_v1 FINAL WHERE incident_id IN {ids:Array(String)} GROUP BY incident_id`,
    { ids: incidents.map((i) => i.id) },
  );
  const byId = new Map(rows.map((r) => [r.incident_id, r.fingerprints]));
  for (const incident of incidents) incident.alertFingerprints = byId.get(incident.id) ?? [];
  return incidents;
}

/** Incidents not closed, with their members: what the core holds in memory after a restart. */
export async function loadUnclosedIncidents(store: Store): Promise<Incident[]> {
  const rows = await store.query<Row>('unclosed incidents', `SELECT ${COLUMNS} FROM incidents_v1 FINAL WHERE status != 'closed'`);
  return withMembers(store, rows.map(toIncident));
}

/**
 * Of these alerts, those that joined some incident (closed ones included) at or after their
 * own `sinceMs`, in chunks that fit a URL (chunksForUrl). incident_alerts_v1 is sharded by
 * incident, so the alerts' list is joined as a subquery of literals, not looked up by key.
 */
export async function alertsJoinedSince(store: Store, alerts: readonly { fingerprint: string; sinceMs: number }[]): Promise<Set<string>> {
  const joined = new Set<string>();
  for (const chunk of chunksForUrl(alerts, (a) => a.fingerprint)) {
    const rows = await store.query<{ fingerprint: string }>(
      'alerts joined since',
      `SELECT DISTINCT m.fingerprint AS fingerprint
       FROM incident_alerts_v1 AS m
       GLOBAL INNER JOIN (SELECT arrayJoin(arrayZip({fingerprints:Array(String)}, {sinceMs:Array(Int64)})) AS alert) AS a
         ON m.fingerprint = tupleElement(a.alert, 1)
       WHERE toUnixTimestamp64Milli(m.joined_at) >= tupleElement(a.alert, 2)`,
      { fingerprints: chunk.map((a) => a.fingerprint), sinceMs: chunk.map((a) => a.sinceMs) },
    );
    for (const row of rows) joined.add(row.fingerprint);
  }
  return joined;
}

/** Per group key, its newest incident created since `sinceMs` (closed ones too): what a recurrence links to. */
export async function loadLatestIncidentPerGroup(store: Store, sinceMs: number): Promise<{ groupKey: string; id: string; createdAtMs: number }[]> {
  // No FINAL: a row's versions share its id, group and creation time.
  const rows = await store.query<{ group_key: string; id: string; created_at_ms: number | string }>(
    'latest incident per group',
    `SELECT group_key, argMax(id, created_at) AS id, toUnixTimestamp64Milli(max(created_at)) AS created_at_ms
     FROM incidents_v1 WHERE created_at >= fromUnixTimestamp64Milli({sinceMs:Int64}, 'UTC') GROUP BY group_key`,
    { sinceMs },
  );
  return rows.map((r) => ({ groupKey: r.group_key, id: r.id, createdAtMs: Number(r.created_at_ms) }));
}

export async function findIncident(store: Store, id: string): Promise<Incident | null> {
  const rows = await store.query<Row>('incident by id', `SELECT ${COLUMNS} FROM incidents_v1 FINAL WHERE id = {id:String}`, { id });
  return rows[0] ? ((await withMembers(store, [toIncident(rows[0])]))[0] ?? null) : null;
}

export interface IncidentFilter {
  status: 'open' | 'resolved' | 'closed' | 'all';
  service?: string;
  priority?: string;
  limit: number;
  offset: number;
}

/** A page of incidents, newest first, with the number of all matches. */
export async function listIncidents(store: Store, filter: IncidentFilter): Promise<{ incidents: Incident[]; total: number }> {
  const conditions: string[] = [];
  if (filter.status === 'open') conditions.push("status NOT IN ('resolved', 'closed')");
  else if (filter.status !== 'all') conditions.push('status = {status:String}');
  if (filter.service) conditions.push('has(services, {service:String})');
  if (filter.priority) conditions.push('priority = {priority:String}');
  const page = await queryPage<Row>(store, { name: 'incidents', from: 'incidents_v1 FINAL', columns: COLUMNS, conditions, orderBy: 'created_at DESC, id', params: { ...filter } });
  return { incidents: page.rows.map(toIncident), total: page.total };
}

/**
 * An incident's timeline, oldest first. DISTINCT: a write retried after a partly failed
 * batch (incident.service.ts) inserts the same rows (same `at`, `seq`) again.
 */
export async function loadTimeline(store: Store, incidentId: string): Promise<IncidentEvent[]> {
  const rows = await store.query<{ at_ms: number; actor: string; kind: IncidentEvent['kind']; detail: string }>(
    'incident timeline',
    `SELECT DISTINCT at, seq, toUnixTimestamp64Milli(at) AS at_ms, actor, kind, detail FROM incident_events_v1 WHERE incident_id = {id:String} ORDER BY at, seq`,
    { id: incidentId },
  );
  return rows.map((r) => ({ incidentId, atMs: Number(r.at_ms), actor: r.actor, kind: r.kind, detail: JSON.parse(r.detail) as Record<string, unknown> }));
}

/**
 * Last stored severity of the member alerts of the given incidents, by fingerprint: for
 * members the alert service no longer holds in memory (resolved long ago) at start.
 * GLOBAL IN: on a cluster both tables are Distributed, and a plain IN over one inside a query
 * on the other is refused (distributed_product_mode = deny).
 */
export async function loadMemberSeverities(store: Store, incidentIds: readonly string[]): Promise<Map<string, Severity>> {
  if (incidentIds.length === 0) return new Map();
  const rows = await store.query<{ fingerprint: string; severity: Severity }>(
    'incident member severities',
    `SELECT fingerprint, severity FROM alerts_v1 FINAL
     WHERE fingerprint GLOBAL IN (SELECT fingerprint FROM incident_alerts_v1 WHERE incident_id IN {ids:Array(String)})`,
    { ids: incidentIds },
  );
  return new Map(rows.map((r) => [r.fingerprint, r.severity]));
}

/** Incidents that can count in a period's statistics: created before its end, and acknowledged, resolved or created within it. */
export async function loadIncidentsForPeriod(store: Store, fromMs: number, toMs: number): Promise<Incident[]> {
  const rows = await store.query<Row>(
    'incidents for period',
    `SELECT ${COLUMNS} FROM incidents_v1 FINAL
     WHERE created_at < fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
       AND (created_at >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC')
            OR acknowledged_at >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC')
            OR resolved_at >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC'))`,
    { fromMs, toMs },
  );
  return rows.map(toIncident);
}
