import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { alertEventRow, alertStateRow, listAlerts, loadRecentAlerts } from '../storage/alerts.queries.js';
import type { RowBatcher } from '../storage/row-batcher.js';
import type { Store } from '../storage/store.js';
import type { AlertEvent } from './alert.js';
import { applyAlertEvent, expireAlert, leaseExpiresAtMs, type AlertState } from './alert-state.js';

export interface AlertServiceOptions {
  store: Store;
  batcher: RowBatcher;
  clock: Clock;
  logger: Logger;
  /** A firing alert without `endsAt` resolves this long after it was last seen (Alertmanager's resolve_timeout, 5 m). */
  resolveTimeoutMs: number;
  /** Resolved alerts stay in memory this long, so late repeats of a resolve are recognised. */
  keepResolvedMs: number;
  /** The correlation core: told of every stored change, before the sender gets its answer. */
  onAlertsChanged?: (states: readonly AlertState[]) => Promise<void>;
}

export interface AlertService {
  /** Dedups and stores received alert events; resolves once durable. Throws a retryable AppError from storage. */
  receive(events: readonly AlertEvent[]): Promise<{ alerts: number; new: number }>;
  /** Resolves firing alerts whose lease ran out by now, and forgets old resolved ones. */
  expireLeases(): Promise<number>;
  list(filter: { status: 'firing' | 'resolved' | 'all'; limit: number; offset: number }): Promise<{ alerts: AlertState[]; total: number }>;
  /** Alerts held in memory (firing, or recently resolved). */
  active(): AlertState[];
  get(fingerprint: string): AlertState | undefined;
  /** Rebuilds the in-memory alerts from storage; call once at start. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Alert intake behind every sender: normalised events in, one alert per fingerprint, the
 * state kept in memory (rebuilt from ClickHouse at start) and every event and state change
 * stored before the sender gets its 2xx.
 */
export function createAlertService(options: AlertServiceOptions): AlertService {
  const { store, batcher, clock, logger } = options;
  const alerts = new Map<string, AlertState>();
  let lastVersion = 0;
  let sweeper: NodeJS.Timeout | null = null;
  const nextVersion = () => (lastVersion = Math.max(lastVersion + 1, clock.nowMs() * 1000));

  async function persist(events: readonly AlertEvent[], states: readonly AlertState[]): Promise<void> {
    await Promise.all([
      batcher.insert('alert_events_v1', events.map(alertEventRow)),
      batcher.insert('alerts_v1', states.map((s) => alertStateRow(s, nextVersion()))),
    ]);
  }

  const service: AlertService = {
    async receive(events) {
      // Applied at once, so concurrent requests build on each other; a failed store makes
      // the sender retry, and the next stored snapshot of the alert carries the state.
      const changed = new Map<string, AlertState>();
      let created = 0;
      for (const event of events) {
        const before = alerts.get(event.fingerprint);
        if (!before) created++;
        const after = applyAlertEvent(before, event);
        alerts.set(event.fingerprint, after);
        changed.set(event.fingerprint, after);
      }
      await persist(events, [...changed.values()]);
      await options.onAlertsChanged?.([...changed.values()]);
      return { alerts: changed.size, new: created };
    },

    async expireLeases() {
      const nowMs = clock.nowMs();
      const expired: AlertState[] = [];
      for (const [fingerprint, state] of alerts) {
        const expiresAt = leaseExpiresAtMs(state, options.resolveTimeoutMs);
        if (expiresAt !== null && expiresAt <= nowMs) {
          const resolved = expireAlert(state, expiresAt);
          alerts.set(fingerprint, resolved);
          expired.push(resolved);
        } else if (state.status === 'resolved' && (state.resolvedAtMs ?? 0) + options.keepResolvedMs < nowMs) {
          alerts.delete(fingerprint);
        }
      }
      if (expired.length > 0) {
        await persist([], expired);
        await options.onAlertsChanged?.(expired);
        logger.info({ count: expired.length }, 'alerts resolved by lease expiry');
      }
      return expired.length;
    },

    list: (filter) => listAlerts(store, filter),
    active: () => [...alerts.values()],
    get: (fingerprint) => alerts.get(fingerprint),

    async start() {
      const recent = await loadRecentAlerts(store, clock.nowMs() - options.keepResolvedMs);
      for (const state of recent) alerts.set(state.fingerprint, state);
      if (recent.length > 0) logger.info({ alerts: recent.length }, 'alerts rebuilt from storage');
      sweeper = setInterval(() => {
        service.expireLeases().catch((error: unknown) => logger.error({ err: error }, 'lease expiry failed; will retry'));
      }, 1_000);
      sweeper.unref();
    },

    async close() {
      if (sweeper) clearInterval(sweeper);
      await batcher.close();
    },
  };
  return service;
}
