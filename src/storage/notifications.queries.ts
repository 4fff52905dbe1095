import type { Store } from './store.js';
import { toClickHouseDateTime } from './clickhouse-time.js';
import { queryPage } from './paged-query.js';

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
  const page = await queryPage<{ at_ms: number; delivery_id: string; route: string; incident_id: string; kind: string; attempt: number; outcome: NotificationAttempt['outcome']; http_status: number; error: string }>(store, {
    name: 'notification attempts',
    from: 'notification_attempts_v1',
    columns: 'toUnixTimestamp64Milli(at) AS at_ms, delivery_id, route, incident_id, kind, attempt, outcome, http_status, error',
    conditions: filter.incidentId ? ['incident_id = {incidentId:String}'] : [],
    orderBy: 'at DESC, attempt DESC',
    params: filter,
  });
  return {
    attempts: page.rows.map((r) => ({ atMs: Number(r.at_ms), deliveryId: r.delivery_id, route: r.route, incidentId: r.incident_id, kind: r.kind, attempt: Number(r.attempt), outcome: r.outcome, httpStatus: Number(r.http_status), error: r.error })),
    total: page.total,
  };
}

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** One outbound notification to one route: the durable queue's unit (notification_deliveries_v1). */
export interface DeliveryRecord {
  /** Stable across retries and restarts: receivers dedup on it (`X-Vigil-Delivery`). */
  id: string;
  createdAtMs: number;
  updatedAtMs: number;
  route: string;
  incidentId: string;
  kind: string;
  /** The request body, rendered once. */
  body: string;
  state: DeliveryState;
  /** Attempts made so far. */
  attempts: number;
}

/** The row of a delivery's current state; the version grows with progress, not with the clock. */
export function deliveryRow(d: DeliveryRecord): Record<string, unknown> {
  return {
    delivery_id: d.id,
    created_at: toClickHouseDateTime(d.createdAtMs),
    updated_at: toClickHouseDateTime(d.updatedAtMs),
    route: d.route,
    incident_id: d.incidentId,
    kind: d.kind,
    body: d.body,
    state: d.state,
    attempts: d.attempts,
    version: d.attempts * 2 + (d.state === 'pending' ? 0 : 1),
  };
}

interface DeliveryRow {
  delivery_id: string;
  created_ms: number;
  updated_ms: number;
  route: string;
  incident_id: string;
  kind: string;
  body: string;
  state: DeliveryState;
  attempts: number | string;
}

const DELIVERY_COLUMNS = `delivery_id, toUnixTimestamp64Milli(created_at) AS created_ms, toUnixTimestamp64Milli(updated_at) AS updated_ms,
  route, incident_id, kind, body, state, attempts`;

function toDelivery(r: DeliveryRow): DeliveryRecord {
  return {
    id: r.delivery_id,
    createdAtMs: Number(r.created_ms),
    updatedAtMs: Number(r.updated_ms),
    route: r.route,
    incidentId: r.incident_id,
    kind: r.kind,
    body: r.body,
    state: r.state,
    attempts: Number(r.attempts),
  };
}

/** Deliveries still pending that were created since `sinceMs`, oldest first: what a start resumes. */
export async function loadPendingDeliveries(store: Store, sinceMs: number): Promise<DeliveryRecord[]> {
  const rows = await store.query<DeliveryRow>(
    'pending notification deliveries',
    `SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries_v1 FINAL
     WHERE created_at >= fromUnixTimestamp64Milli({sinceMs:Int64}, 'UTC') AND state = 'pending'
     ORDER BY created_at, delivery_id`,
    { sinceMs },
  );
  return rows.map(toDelivery);
}

/** A page of deliveries in their current state, newest first, with the number of all matches. */
export async function listDeliveries(
  store: Store,
  filter: { state?: DeliveryState; incidentId?: string; limit: number; offset: number },
): Promise<{ deliveries: DeliveryRecord[]; total: number }> {
  const conditions: string[] = [];
  if (filter.state) conditions.push('state = {state:String}');
  if (filter.incidentId) conditions.push('incident_id = {incidentId:String}');
  const page = await queryPage<DeliveryRow>(store, {
    name: 'notification deliveries',
    from: 'notification_deliveries_v1 FINAL',
    columns: DELIVERY_COLUMNS,
    conditions,
    orderBy: 'created_at DESC, delivery_id',
    params: filter,
  });
  return { deliveries: page.rows.map(toDelivery), total: page.total };
}
