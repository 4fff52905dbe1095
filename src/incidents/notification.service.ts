import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import type { CatalogIndex } from '../catalog/catalog-index.js';
import { REMOVED_ROUTE, type NOTIFICATION_KINDS } from '../config/config.schema.js';
import type { Clock } from '../shared/clock.js';
import {
  attemptRow,
  deliveryRow,
  listAttempts,
  listDeliveries,
  loadPendingDeliveries,
  type DeliveryRecord,
  type DeliveryState,
  type NotificationAttempt,
} from '../storage/notifications.queries.js';
import type { RowBatcher } from '../storage/row-batcher.js';
import type { Store } from '../storage/store.js';
import type { EscalationReason } from './escalation.js';
import { toIncidentJson, type Incident } from './incident.js';
import type { Priority } from './priority.js';

export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface NotificationRoute {
  name: string;
  url: string;
  /** `json`: Vigil's payload; `slack`: an incoming-webhook message (`{"text": ...}`). */
  format: 'json' | 'slack';
  kinds: NotificationKind[];
}

/** An incident change worth telling someone about. */
export interface Notice {
  kind: NotificationKind;
  /** The incident as the change left it (rendered at once: later changes do not alter the message). */
  incident: Incident;
  /** For `escalated`: the level reached, why, and the level's own routes (told besides the routes subscribing to `escalated`). */
  escalation?: { level: number; reason: EscalationReason; routes: readonly string[]; repeat?: number };
  /** When the change happened (the delivery may be sent much later, after retries). */
  atMs?: number;
  /** Who made the change (a person's name from the API, `vigil` for the core's own). */
  actor?: string;
  /** For `priority_changed`: the priority before the change. */
  previousPriority?: Priority;
  /** The note given with a transition (`{"note": ...}` on an action). */
  note?: string;
  /**
   * For a `created` sent because these services joined an open incident: only the routes
   * they name that no other service of the incident names are told (the rest heard of it).
   */
  newServices?: readonly string[];
  /** Services whose routes this notice leaves out: they joined in the same write and are told by its `created`. */
  ignoredServices?: readonly string[];
}

export type Delivery = DeliveryRecord;

/** What the incident core needs: plan deliveries to store with a change, start them once stored. */
export interface Notifier {
  /** The deliveries a notice calls for (pending, ids and bodies fixed now); no I/O. */
  plan(notice: Notice): Delivery[];
  /** Starts delivering deliveries that are stored. Never waits on an endpoint; ids already queued are ignored. */
  enqueue(deliveries: readonly Delivery[]): void;
}

export interface NotificationServiceOptions {
  routes: readonly NotificationRoute[];
  store: Store;
  batcher: RowBatcher;
  clock: Clock;
  logger: Logger;
  /** Where people open an incident, `{id}` standing for its id; given, notifications link to it. */
  incidentUrl?: string;
  /** Attempts per delivery before it is logged as failed (counted across restarts). */
  maxAttempts: number;
  /** First retry delay; doubles each attempt (capped at 5 minutes). */
  retryBaseDelayMs: number;
  /** A request slower than this counts as failed (and is retried). */
  timeoutMs: number;
  /**
   * The service catalog in force, for `services[].notificationRoutes`: a route named by some
   * service gets an incident's notices only when the incident affects one of those services;
   * a route no service names gets every incident's.
   */
  catalog?: () => CatalogIndex;
  metrics?: NotificationMetrics;
}

/** How one delivery attempt ended: delivered, failed and tried again later, or failed for good. */
export const ATTEMPT_OUTCOMES = ['delivered', 'retrying', 'failed'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** What delivery counts (src/observability/metrics.ts). */
export interface NotificationMetrics {
  /** The configured routes, once at start: their series exist (at 0) before any attempt. */
  routesConfigured(routes: readonly string[]): void;
  /**
   * One attempt: `delivered`, `retrying` (failed, tried again later) or `failed` (given up);
   * `seconds` null when no request was made (the route is no longer configured).
   */
  attempted(route: string, outcome: AttemptOutcome, seconds: number | null): void;
}

export interface NotificationService extends Notifier {
  /** Resumes the deliveries left pending by an earlier run; call once at start. */
  start(): Promise<void>;
  list(filter: { incidentId?: string; limit: number; offset: number }): Promise<{ attempts: NotificationAttempt[]; total: number }>;
  listDeliveries(filter: { state?: DeliveryState; incidentId?: string; limit: number; offset: number }): Promise<{ deliveries: Delivery[]; total: number }>;
  /** Deliveries queued or in flight. */
  readonly pending: number;
  /** Stops delivering; deliveries not yet delivered stay pending in storage and resume at the next start. */
  close(): Promise<void>;
}

const MAX_RETRY_DELAY_MS = 5 * 60_000;
/** A delivery still pending after this long is stale news: a start does not resume it (it stays visible as pending). */
const RESUME_WINDOW_MS = 7 * 86_400_000;
/** Header (and JSON field `deliveryId`) receivers dedup on: at-least-once delivery sends a delivery again after a crash. */
export const DELIVERY_ID_HEADER = 'x-vigil-delivery';

function render(route: NotificationRoute, notice: Notice, deliveryId: string, incidentUrl: string | undefined): string {
  const { incident, kind, escalation, atMs, actor, previousPriority, note, newServices } = notice;
  const url = incidentUrl?.replaceAll('{id}', encodeURIComponent(incident.id));
  if (route.format === 'slack') {
    const by = actor && actor !== 'vigil' ? ` by ${slackEscape(actor)}` : '';
    const verb = {
      created: newServices ? `Now affects ${slackEscape(newServices.join(', '))}` : 'New',
      acknowledged: `Acknowledged${by}`,
      escalated: !escalation
        ? 'Escalated'
        : escalation.repeat !== undefined
          ? `Still not acknowledged: level ${escalation.level} again (reminder ${escalation.repeat})`
          : `Escalated to level ${escalation.level} (${escalation.reason === 'sla_breached' ? 'SLA breached' : 'not acknowledged'})`,
      priority_changed: previousPriority ? `Priority changed from ${previousPriority}` : 'Priority changed',
      reopened: `Reopened${by}`,
      resolved: `Resolved${by}`,
    }[kind];
    const services = incident.services.length > 0 ? ` — services: ${slackEscape(incident.services.join(', '))}` : '';
    // Slack reads &, < and > as markup (<!channel> notifies everyone): escape the sender's text.
    const id = url ? `<${url}|${incident.id}>` : incident.id;
    return JSON.stringify({ text: `[${incident.priority}] ${verb}: ${slackEscape(incident.title)} (${id})${services}` });
  }
  return JSON.stringify({
    deliveryId,
    kind,
    ...(atMs !== undefined ? { at: new Date(atMs).toISOString() } : {}),
    ...(actor !== undefined ? { actor } : {}),
    ...(note !== undefined ? { note } : {}),
    ...(previousPriority !== undefined ? { previousPriority } : {}),
    ...(newServices !== undefined ? { newServices } : {}),
    ...(escalation ? { escalation: { level: escalation.level, reason: escalation.reason, ...(escalation.repeat !== undefined ? { repeat: escalation.repeat } : {}) } } : {}),
    ...(url !== undefined ? { url } : {}),
    incident: toIncidentJson(incident),
  });
}

/**
 * Milliseconds a Retry-After header asks to wait (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date), or null when absent or unreadable. Slack and most webhook receivers send it
 * when they rate-limit; the wait is still capped by the longest retry delay.
 */
export function retryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Math.min(Number(value) * 1000, MAX_RETRY_DELAY_MS);
  const atMs = Date.parse(value);
  if (!/[A-Za-z]/.test(value) || Number.isNaN(atMs)) return null;
  return Math.min(Math.max(0, atMs - nowMs), MAX_RETRY_DELAY_MS);
}

function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Client errors a retry can change, by name: a timeout, and a receiver limiting its rate
 * (Slack does, with Retry-After). Every other redirect or 4xx fails the delivery at once.
 */
const RETRYABLE_CLIENT_ERRORS = new Set(['Request Timeout', 'Too Many Requests']);

/**
 * Outbound webhooks per route, delivered in the background with exponential backoff. The
 * queue is durable: a delivery is stored as pending with the incident change that called for
 * it (the core writes `plan()`'s rows in the same batch), every attempt is logged and moves the
 * stored state, and `start()` resumes what an earlier run left pending. Delivery is at least
 * once: a crash between a successful request and its log entry sends it again, with the same
 * `X-Vigil-Delivery` id. A slow or failing endpoint only delays its own deliveries.
 */
export function createNotificationService(options: NotificationServiceOptions): NotificationService {
  const { store, batcher, clock, logger } = options;
  const routesByName = new Map(options.routes.map((r) => [r.name, r]));
  options.metrics?.routesConfigured(options.routes.map((r) => r.name));
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  /** Ids queued or in flight, so a delivery is never run twice at once (resume vs. a fresh enqueue). */
  const active = new Set<string>();
  const stopping = new AbortController();
  let closed = false;

  function schedule(delivery: Delivery, delayMs: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      const run = attempt(delivery).finally(() => inFlight.delete(run));
      inFlight.add(run);
    }, delayMs);
    timers.add(timer);
  }

  async function attempt(delivery: Delivery): Promise<void> {
    const route = routesByName.get(delivery.route);
    const number = delivery.attempts + 1;
    let httpStatus = 0;
    let error = '';
    /** An answer no retry changes (a redirect, or a 4xx but timeout and rate limit), as Alertmanager's notifiers judge it. */
    let permanent = false;
    /** The receiver's Retry-After on a failed answer, in ms: the next attempt waits at least that long. */
    let askedDelayMs: number | null = null;
    const startedAt = performance.now();
    if (!route) {
      error = `route ${delivery.route} is no longer configured`;
    } else {
      try {
        const response = await fetch(route.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'vigil', [DELIVERY_ID_HEADER]: delivery.id },
          body: delivery.body,
          // Not followed: fetch would resend the POST as a bodiless GET and report success.
          redirect: 'manual',
          signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), stopping.signal]),
        });
        httpStatus = response.status;
        await response.body?.cancel();
        permanent = response.status >= 300 && response.status < 500 && !RETRYABLE_CLIENT_ERRORS.has(STATUS_CODES[response.status] ?? '');
        if (response.status >= 300 && response.status < 400) error = `HTTP ${response.status} redirect to ${response.headers.get('location') ?? '?'}, not followed (give the final URL)`;
        else if (!response.ok) {
          error = `HTTP ${response.status}`;
          askedDelayMs = retryAfterMs(response.headers.get('retry-after'), clock.nowMs());
          if (askedDelayMs !== null) error += ` (Retry-After ${Math.ceil(askedDelayMs / 1000)} s)`;
        }
      } catch (e) {
        error = (e as Error).message;
      }
    }
    if (error !== '' && stopping.signal.aborted) {
      // Cut short by a stop: not an attempt. It stays pending as stored, and the next start resumes it.
      active.delete(delivery.id);
      return;
    }
    const delivered = error === '';
    const givenUp = !delivered && (!route || permanent || number >= options.maxAttempts);
    const state: DeliveryState = delivered ? 'delivered' : givenUp ? 'failed' : 'pending';
    const nowMs = clock.nowMs();
    const outcome = delivered ? 'delivered' : givenUp ? 'failed' : 'retrying';
    // A route no longer configured is counted under one name, existing at 0 from the start
    // (REMOVED_ROUTE): its resumed deliveries fail at once, in the first scrape.
    options.metrics?.attempted(route ? delivery.route : REMOVED_ROUTE, outcome, route ? (performance.now() - startedAt) / 1000 : null);
    Object.assign(delivery, { attempts: number, state, updatedAtMs: nowMs });
    try {
      // One call: the attempt and the delivery's state together or neither.
      await batcher.insertAll([
        {
          table: 'notification_attempts_v1',
          rows: [
            attemptRow({ atMs: nowMs, deliveryId: delivery.id, route: delivery.route, incidentId: delivery.incidentId, kind: delivery.kind, attempt: number, outcome, httpStatus, error }),
          ],
        },
        { table: 'notification_deliveries_v1', rows: [deliveryRow(delivery)] },
      ]);
    } catch (e) {
      // Not fatal: the stored state lags (a delivered one may be sent again after a restart: at least once).
      logger.error({ err: e, delivery: delivery.id }, 'could not log a notification attempt');
    }
    if (state === 'pending' && !closed) {
      const backoffMs = options.retryBaseDelayMs * 2 ** (number - 1);
      schedule(delivery, Math.min(Math.max(backoffMs, askedDelayMs ?? 0), MAX_RETRY_DELAY_MS));
      return;
    }
    active.delete(delivery.id);
    if (state === 'failed') logger.warn({ route: delivery.route, incident: delivery.incidentId, error }, 'notification failed for good');
  }

  const service: NotificationService = {
    plan(notice) {
      const names = new Set<string>();
      const index = options.catalog?.();
      const routesOf = (services: readonly string[]) => new Set(services.flatMap((id) => index?.serviceById.get(id)?.notificationRoutes ?? []));
      // Services that joined in this write: their routes hear only of that (newServices), and
      // are left out of the write's other notices (ignoredServices).
      const joined = notice.newServices ?? notice.ignoredServices ?? [];
      const ofIncident = routesOf(notice.incident.services.filter((s) => !joined.includes(s)));
      const ofNewServices = notice.newServices ? routesOf(notice.newServices) : null;
      // A reminder (escalation repeat) is for the level's own routes: the subscribers heard of the level.
      const reminder = notice.escalation?.repeat !== undefined;
      for (const route of options.routes) {
        if (reminder || !route.kinds.includes(notice.kind)) continue;
        if (ofNewServices) {
          if (ofNewServices.has(route.name) && !ofIncident.has(route.name)) names.add(route.name);
        } else if (!index?.routesNamedByServices.has(route.name) || ofIncident.has(route.name)) names.add(route.name);
      }
      for (const name of notice.escalation?.routes ?? []) if (routesByName.has(name)) names.add(name);
      const nowMs = clock.nowMs();
      return [...names].map((name) => {
        const id = randomUUID();
        return {
          id,
          createdAtMs: nowMs,
          updatedAtMs: nowMs,
          route: name,
          incidentId: notice.incident.id,
          kind: notice.kind,
          body: render(routesByName.get(name)!, notice, id, options.incidentUrl),
          state: 'pending',
          attempts: 0,
        };
      });
    },

    enqueue(deliveries) {
      if (closed) return; // stored as pending: the next start resumes them
      for (const delivery of deliveries) {
        if (delivery.state !== 'pending' || active.has(delivery.id)) continue;
        active.add(delivery.id);
        schedule({ ...delivery }, 0);
      }
    },

    async start() {
      const resumed = await loadPendingDeliveries(store, clock.nowMs() - RESUME_WINDOW_MS);
      service.enqueue(resumed);
      if (resumed.length > 0) logger.info({ deliveries: resumed.length }, 'pending notifications resumed');
    },

    list: (filter) => listAttempts(store, filter),
    listDeliveries: (filter) => listDeliveries(store, filter),
    get pending() {
      return active.size;
    },

    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // In-flight requests end now, not after their timeout; they stay pending, no attempt spent.
      stopping.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
  return service;
}
