import type { FastifyInstance } from 'fastify';
import { toIncidentJson } from '../../incidents/incident.js';
import type { IncidentService } from '../../incidents/incident.service.js';
import type { NotificationService } from '../../incidents/notification.service.js';
import { INCIDENT_ACTIONS, type IncidentAction } from '../../incidents/incident-lifecycle.js';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { DELIVERY_STATES, type DeliveryState } from '../../storage/notifications.queries.js';
import { READ_TABLES } from '../../storage/read-tables.js';
import { parsePaging } from '../paging.js';
import { parseTimeParam } from '../time-params.js';
import { toAlertJson } from './alerts.routes.js';

/** Optional body of an action: who acts and why. Unknown fields are refused. */
/** The fields of an action's JSON body, each a string (or null, for a field in `nullable`); 400 naming the valid fields otherwise. */
function actionBody(body: unknown, allowed: string[]): Record<string, string>;
function actionBody(body: unknown, allowed: string[], nullable: string[]): Record<string, string | null>;
function actionBody(body: unknown, allowed: string[], nullable: string[] = []): Record<string, string | null> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new AppError('REQUEST_INVALID', 'body must be a JSON object', { httpStatus: 400 });
  const out: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!allowed.includes(key)) throw new AppError('REQUEST_INVALID', `unknown field ${key}; valid fields: ${allowed.join(', ')}`, { httpStatus: 400 });
    if (value === null && nullable.includes(key)) out[key] = null;
    else if (typeof value !== 'string' || value.length > 10_000) {
      throw new AppError('REQUEST_INVALID', `${key} must be a string of at most 10000 characters${nullable.includes(key) ? ', or null' : ''}`, { httpStatus: 400 });
    }
    else out[key] = value;
  }
  return out;
}

export interface IncidentRouteDeps {
  incidents: IncidentService;
  notifications: NotificationService;
  clock: Clock;
  /**
   * Resolves once every acknowledged row of these tables is queryable: every read below goes
   * to ClickHouse, and writes are journaled before they are inserted.
   */
  whenRowsVisible: (tables: readonly string[]) => Promise<void>;
}

export async function incidentRoutes(app: FastifyInstance, deps: IncidentRouteDeps): Promise<void> {
  app.get('/api/v1/notifications', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const { limit, offset } = parsePaging(q);
    await deps.whenRowsVisible(READ_TABLES.notificationAttempts);
    const page = await deps.notifications.list({ limit, offset, ...(q.incident ? { incidentId: q.incident } : {}) });
    return {
      attempts: page.attempts.map((a) => ({ ...a, at: new Date(a.atMs).toISOString(), atMs: undefined })),
      total: page.total,
    };
  });

  // The durable queue: each delivery's current state (pending, delivered, failed), newest first.
  app.get('/api/v1/notifications/deliveries', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    if (q.state !== undefined && !(DELIVERY_STATES as readonly string[]).includes(q.state)) {
      throw new AppError('REQUEST_INVALID', `state must be ${DELIVERY_STATES.join(', ')}, got ${JSON.stringify(q.state)}`, { httpStatus: 400 });
    }
    const { limit, offset } = parsePaging(q);
    await deps.whenRowsVisible(READ_TABLES.notificationDeliveries);
    const page = await deps.notifications.listDeliveries({
      limit,
      offset,
      ...(q.state ? { state: q.state as DeliveryState } : {}),
      ...(q.incident ? { incidentId: q.incident } : {}),
    });
    return {
      deliveries: page.deliveries.map((d) => ({
        id: d.id,
        route: d.route,
        incidentId: d.incidentId,
        kind: d.kind,
        state: d.state,
        attempts: d.attempts,
        createdAt: new Date(d.createdAtMs).toISOString(),
        updatedAt: new Date(d.updatedAtMs).toISOString(),
      })),
      total: page.total,
    };
  });

  app.get('/api/v1/incidents', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const status = q.status ?? 'open';
    if (!['open', 'resolved', 'closed', 'all'].includes(status)) {
      throw new AppError('REQUEST_INVALID', `status must be open, resolved, closed or all, got ${JSON.stringify(status)}`, { httpStatus: 400 });
    }
    if (q.priority !== undefined && !/^P[1-4]$/.test(q.priority)) throw new AppError('REQUEST_INVALID', 'priority must be P1, P2, P3 or P4', { httpStatus: 400 });
    const { limit, offset } = parsePaging(q);
    const page = await deps.incidents.list({
      status: status as 'open' | 'resolved' | 'closed' | 'all',
      limit,
      offset,
      ...(q.service ? { service: q.service } : {}),
      ...(q.priority ? { priority: q.priority } : {}),
    });
    return { incidents: page.incidents.map(toIncidentJson), total: page.total };
  });

  // MTTA/MTTR per service and priority (definitions in src/incidents/incident-statistics.ts and the README).
  app.get('/api/v1/reports/incidents', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const toMs = parseTimeParam('to', q.to, deps.clock.nowMs());
    const fromMs = parseTimeParam('from', q.from, toMs - 30 * 86_400_000);
    if (fromMs >= toMs) throw new AppError('REQUEST_INVALID', 'from must be before to', { httpStatus: 400 });
    await deps.whenRowsVisible(READ_TABLES.incidentList);
    const rows = await deps.incidents.statistics(fromMs, toMs);
    return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), statistics: rows };
  });

  app.get('/api/v1/incidents/:id', async (request) => {
    const { id } = request.params as { id: string };
    await deps.whenRowsVisible(READ_TABLES.incidentDetail);
    const detail = await deps.incidents.get(id);
    return {
      ...toIncidentJson(detail.incident),
      alerts: detail.alerts.map(toAlertJson),
      timeline: detail.timeline.map((e) => ({ at: new Date(e.atMs).toISOString(), actor: e.actor, kind: e.kind, ...e.detail })),
    };
  });

  app.post('/api/v1/incidents/:id/:action', async (request) => {
    const { id, action } = request.params as { id: string; action: string };
    if (action === 'assign') {
      // {"assignee": null} takes the incident off whoever has it.
      const body = actionBody(request.body, ['assignee', 'actor'], ['assignee']);
      if (body.assignee === undefined || body.assignee === '') throw new AppError('REQUEST_INVALID', 'assign needs {"assignee": "..."}, or {"assignee": null} to unassign', { httpStatus: 400 });
      return toIncidentJson(await deps.incidents.assign(id, body.assignee, body.actor ?? 'api'));
    }
    if (action === 'pause' || action === 'resume') {
      const body = actionBody(request.body, ['actor', 'reason']);
      return toIncidentJson(await deps.incidents.pause(id, body.actor ?? 'api', body.reason, action === 'resume'));
    }
    if (action === 'comments') {
      // `actor`, as every other action names who acts; `author` as comments always took.
      const body = actionBody(request.body, ['text', 'author', 'actor']);
      if (!body.text) throw new AppError('REQUEST_INVALID', 'comments needs {"text": "..."}', { httpStatus: 400 });
      if (body.author !== undefined && body.actor !== undefined && body.author !== body.actor) {
        throw new AppError('REQUEST_INVALID', 'comments takes author or actor (the same thing), not two different names', { httpStatus: 400 });
      }
      return toIncidentJson(await deps.incidents.comment(id, body.text, body.author ?? body.actor ?? 'api'));
    }
    if (!(INCIDENT_ACTIONS as readonly string[]).includes(action)) {
      throw new AppError('NOT_FOUND', `no action ${action}; actions: ${[...INCIDENT_ACTIONS, 'assign', 'comments', 'pause', 'resume'].join(', ')}`, { httpStatus: 404 });
    }
    const body = actionBody(request.body, ['actor', 'note']);
    return toIncidentJson(await deps.incidents.act(id, action as IncidentAction, body.actor ?? 'api', body.note));
  });
}
