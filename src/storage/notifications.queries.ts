import type { Store } from './store.js';
import { toClickHouseDateTime } from './clickhouse-time.js';

export interface NotificationAttempt {
  atMs: number;
  deliveryId: string;
  route: string;
  incidentId: string;
  kind: string;
  attempt: number;
  outcome: 'delivered' | 'retrying' | 'failed';
  httpStatus: number;
  error: string;
}

export function attemptRow(a: NotificationAttempt): Record<string, unknown> {
  return {
    at: toClickHouseDateTime(a.atMs),
    delivery_id: a.deliveryId,
    route: a.route,
    incident_id: a.incidentId,
    kind: a.kind,
    attempt: a.attempt,
    outcome: a.outcome,
    http_status: a.httpStatus,
    error: a.error,
  };
}

/** The delivery log, newest first. */
export async function listAttempts(store: Store, filter: { incidentId?: string; limit: number; offset: number }): Promise<{ attempts: NotificationAttempt[]; total: number }> {
  const where = filter.incidentId ? 'incident_id = {incidentId:String}' : '1';
  const params = { ...filter };
  const [count] = await store.query<{ total: number | string }>('count notification attempts', `SELECT count() AS total FROM notification_attempts_v1 WHERE ${where}`, params);
  const rows = await store.query<{ at_ms: number; delivery_id: string; route: string; incident_id: string; kind: string; attempt: number; outcome: NotificationAttempt['outcome']; http_status: number; error: string }>(
    'list notification attempts',
    `SELECT toUnixTimestamp64Milli(at) AS at_ms, delivery_id, route, incident_id, kind, attempt, outcome, http_status, error
     FROM notification_attempts_v1 WHERE ${where} ORDER BY at DESC, attempt DESC LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
    params,
  );
  return {
    attempts: rows.map((r) => ({ atMs: Number(r.at_ms), deliveryId: r.delivery_id, route: r.route, incidentId: r.incident_id, kind: r.kind, attempt: Number(r.attempt), outcome: r.outcome, httpStatus: Number(r.http_status), error: r.error })),
    total: Number(count?.total ?? 0),
  };
}
