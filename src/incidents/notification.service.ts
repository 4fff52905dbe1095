import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { attemptRow, listAttempts, type NotificationAttempt } from '../storage/notifications.queries.js';
import type { RowBatcher } from '../storage/row-batcher.js';
import type { Store } from '../storage/store.js';
import type { Incident } from './incident.js';

export const NOTIFICATION_KINDS = ['created', 'escalated', 'priority_changed', 'resolved'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface NotificationRoute {
  name: string;
  url: string;
  /** `json`: Vigil's payload; `slack`: an incoming-webhook message (`{"text": ...}`). */
  format: 'json' | 'slack';
  kinds: NotificationKind[];
}

export interface NotificationServiceOptions {
  routes: readonly NotificationRoute[];
  store: Store;
  batcher: RowBatcher;
  clock: Clock;
  logger: Logger;
  /** Attempts per delivery before it is logged as failed. */
  maxAttempts: number;
  /** First retry delay; doubles each attempt (capped at 5 minutes). */
  retryBaseDelayMs: number;
  /** A request slower than this counts as failed (and is retried). */
  timeoutMs: number;
}

export interface NotificationService {
  /** Queues the deliveries for an incident change. Never waits on an endpoint: intake is never slowed. */
  notify(kind: NotificationKind, incident: Incident): void;
  list(filter: { incidentId?: string; limit: number; offset: number }): Promise<{ attempts: NotificationAttempt[]; total: number }>;
  /** Deliveries queued or in flight. */
  readonly pending: number;
  close(): Promise<void>;
}

interface Delivery {
  id: string;
  route: NotificationRoute;
  kind: NotificationKind;
  incident: Incident;
  attempt: number;
}

const MAX_RETRY_DELAY_MS = 5 * 60_000;

function payload(route: NotificationRoute, kind: NotificationKind, incident: Incident): string {
  const summary = {
    id: incident.id,
    title: incident.title,
    status: incident.status,
    priority: incident.priority,
    alertCount: incident.alertCount,
    createdAt: new Date(incident.createdAtMs).toISOString(),
    slaBreached: incident.slaBreached,
    ...(incident.assignee ? { assignee: incident.assignee } : {}),
  };
  if (route.format === 'slack') {
    const verb = { created: 'New', escalated: 'SLA breached', priority_changed: 'Priority changed', resolved: 'Resolved' }[kind];
    return JSON.stringify({ text: `[${incident.priority}] ${verb}: ${incident.title} (${incident.id})` });
  }
  return JSON.stringify({ kind, incident: summary });
}

/**
 * Outbound webhooks per route, delivered in the background with exponential backoff, each
 * attempt written to the delivery log. A slow or failing endpoint only delays its own
 * deliveries. Deliveries live in memory: those still queued when the process stops are lost
 * (logged as pending attempts only).
 */
export function createNotificationService(options: NotificationServiceOptions): NotificationService {
  const { store, batcher, clock, logger } = options;
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let pending = 0;
  let closed = false;

  function schedule(delivery: Delivery, delayMs: number): void {
    pending++;
    const timer = setTimeout(() => {
      timers.delete(timer);
      const run = attempt(delivery).finally(() => {
        pending--;
        inFlight.delete(run);
      });
      inFlight.add(run);
    }, delayMs);
    timers.add(timer);
  }

  async function attempt(delivery: Delivery): Promise<void> {
    delivery.attempt++;
    let httpStatus = 0;
    let error = '';
    try {
      const response = await fetch(delivery.route.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'vigil' },
        body: payload(delivery.route, delivery.kind, delivery.incident),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      httpStatus = response.status;
      await response.body?.cancel();
      if (!response.ok) error = `HTTP ${response.status}`;
    } catch (e) {
      error = (e as Error).message;
    }
    const delivered = error === '';
    const final = delivered || delivery.attempt >= options.maxAttempts || closed;
    const outcome = delivered ? 'delivered' : final ? 'failed' : 'retrying';
    batcher
      .insert('notification_attempts_v1', [
        attemptRow({ atMs: clock.nowMs(), deliveryId: delivery.id, route: delivery.route.name, incidentId: delivery.incident.id, kind: delivery.kind, attempt: delivery.attempt, outcome, httpStatus, error }),
      ])
      .catch((e: unknown) => logger.error({ err: e }, 'could not log a notification attempt'));
    if (!final) schedule(delivery, Math.min(options.retryBaseDelayMs * 2 ** (delivery.attempt - 1), MAX_RETRY_DELAY_MS));
    else if (!delivered) logger.warn({ route: delivery.route.name, incident: delivery.incident.id, error }, 'notification failed for good');
  }

  return {
    notify(kind, incident) {
      if (closed) return;
      for (const route of options.routes) {
        if (!route.kinds.includes(kind)) continue;
        // A snapshot: later changes to the incident must not alter what this delivery says.
        schedule({ id: randomUUID(), route, kind, incident: structuredClone(incident), attempt: 0 }, 0);
      }
    },
    list: (filter) => listAttempts(store, filter),
    get pending() {
      return pending;
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}
