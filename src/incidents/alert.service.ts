import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { ALERT_EVENT_LAYOUT, ALERT_STATE_LAYOUT, listAlerts, loadRecentAlerts, writeAlertEvent, writeAlertState } from '../storage/alerts.queries.js';
import type { RowBatcher } from '../storage/row-batcher.js';
import { RowBinaryWriter } from '../storage/row-binary.js';
import type { Store } from '../storage/store.js';
import type { AlertEvent } from './alert.js';
import { applyAlertEvent, expireAlert, leaseExpiresAtMs, needsStateRow, sameStringMap, type AlertState, type ResolveTimeouts } from './alert-state.js';

export interface AlertServiceOptions {
  store: Store;
  batcher: RowBatcher;
  clock: Clock;
  logger: Logger;
  /** A firing alert without `endsAt` resolves this long after it was last seen (Alertmanager's resolve_timeout, 5 m); not for notifying senders (ResolveTimeouts). */
  resolveTimeoutMs: number;
  /** See ResolveTimeouts; 0 (the default) keeps a notified alert firing until it is resolved. */
  notificationResolveTimeoutMs?: number;
  /** Resolved alerts stay in memory this long, so late repeats of a resolve are recognised. */
  keepResolvedMs: number;
  /** The correlation core: told of every stored change, before the sender gets its answer. */
  onAlertsChanged?: (states: readonly AlertState[]) => Promise<void>;
}

export interface AlertService {
  /**
   * Dedups and stores received alert events; resolves once durable and told to the core.
   * Throws a retryable AppError from storage; a failed store changes nothing in memory, so the
   * sender's retry is counted once. An event whose labels or annotations equal its alert's is
   * given the alert's map objects (same contents).
   */
  receive(events: readonly AlertEvent[]): Promise<{ alerts: number; new: number }>;
  /**
   * Resolves firing alerts whose lease ran out by now, forgets old resolved ones, and tells the
   * core again of stored changes it failed to take. Throws when storing fails; nothing is lost:
   * the next call (the sweep, every second) retries. Returns the number of alerts resolved.
   */
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
 * stored before the sender gets its 2xx. A re-send that only renews the lease is stored as
 * its event alone: the state read back adds the events up (needsStateRow).
 */
export function createAlertService(options: AlertServiceOptions): AlertService {
  const { store, batcher, clock, logger } = options;
  const timeouts: ResolveTimeouts = { resolveTimeoutMs: options.resolveTimeoutMs, notificationResolveTimeoutMs: options.notificationResolveTimeoutMs ?? 0 };
  /** What is stored: a change enters only once its store succeeded, so a failed one leaves no trace. */
  const alerts = new Map<string, AlertState>();
  /** Per fingerprint, the change in progress: the next change of that alert waits for it (see `exclusive`). */
  const busy = new Map<string, Promise<void>>();
  /** Stored changes the core was not told of (its store failed): told again by the next sweep. */
  const untold = new Map<string, AlertState>();
  let lastVersion = 0;
  let sweeper: NodeJS.Timeout | null = null;
  const nextVersion = () => (lastVersion = Math.max(lastVersion + 1, clock.nowMs() * 1000));
  /** Rows are encoded here, one persist() at a time (synchronously), and handed over whole. */
  const rows = new RowBinaryWriter();

  /**
   * Stores events and state rows as one write. `after` holds the state each event's alert has
   * after the change: an event row carries its alert's first-seen time.
   */
  async function persist(events: readonly AlertEvent[], after: ReadonlyMap<string, AlertState>, states: readonly AlertState[]): Promise<void> {
    for (const event of events) writeAlertEvent(rows, event, after.get(event.fingerprint)!.firstSeenAtMs);
    const eventBytes = rows.take();
    for (const state of states) writeAlertState(rows, state, nextVersion());
    const stateBytes = rows.take();
    // One call: both tables or neither (a full journal must not take the events and refuse the state).
    await batcher.insertAll([
      { table: 'alert_events_v1', binary: eventBytes, rowCount: events.length, layout: ALERT_EVENT_LAYOUT },
      { table: 'alerts_v1', binary: stateBytes, rowCount: states.length, layout: ALERT_STATE_LAYOUT },
    ]);
  }

  /**
   * Runs `change` once the changes in progress on any of these alerts are done, holding them
   * meanwhile: a change is computed from stored state only, so when its store fails it can be
   * dropped without undoing anything built on it. Changes of other alerts run concurrently
   * (and share a batch); the same alert sent twice at once (Prometheus HA pairs) is serialised.
   * Waiting order is arrival order, so there is no deadlock.
   */
  async function exclusive<T>(fingerprints: Iterable<string>, change: () => Promise<T>): Promise<T> {
    const keys = new Set(fingerprints);
    const before = new Set<Promise<void>>();
    for (const key of keys) {
      const current = busy.get(key);
      if (current) before.add(current);
    }
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    for (const key of keys) busy.set(key, mine);
    try {
      // Not awaited when free: the caller's rows must join this event-loop turn's batch.
      if (before.size > 0) await Promise.all(before);
      return await change();
    } finally {
      release();
      for (const key of keys) if (busy.get(key) === mine) busy.delete(key);
    }
  }

  /**
   * A re-send mostly repeats the labels and annotations the alert has: it then takes the
   * alert's own map objects, so the alert keeps one set of maps instead of one per event,
   * and equal maps are the same object (needsStateRow compares by identity first).
   */
  function shareMaps(event: AlertEvent, state: AlertState): void {
    if (event.labels !== state.labels && sameStringMap(event.labels, state.labels)) event.labels = state.labels;
    if (event.annotations !== state.annotations && sameStringMap(event.annotations, state.annotations)) event.annotations = state.annotations;
  }

  /** Tells the core of stored changes; on failure keeps them to tell again at the next sweep, and rethrows. */
  async function tell(states: readonly AlertState[]): Promise<void> {
    if (!options.onAlertsChanged || states.length === 0) return;
    try {
      await options.onAlertsChanged(states);
      for (const state of states) if (untold.get(state.fingerprint) === state) untold.delete(state.fingerprint);
    } catch (error) {
      for (const state of states) untold.set(state.fingerprint, state);
      throw error;
    }
  }

  const service: AlertService = {
    receive(events) {
      return exclusive(
        events.map((e) => e.fingerprint),
        async () => {
          const changed = new Map<string, AlertState>();
          let created = 0;
          for (const event of events) {
            const before = changed.get(event.fingerprint) ?? alerts.get(event.fingerprint);
            if (!before) created++;
            else shareMaps(event, before);
            changed.set(event.fingerprint, applyAlertEvent(before, event));
          }
          const states = [...changed.values()];
          // Throws (retryable) with memory untouched: the sender's retry counts the event once.
          await persist(
            events,
            changed,
            states.filter((state) => needsStateRow(alerts.get(state.fingerprint), state)),
          );
          for (const state of states) {
            alerts.set(state.fingerprint, state);
            untold.delete(state.fingerprint);
          }
          // Stored: a failure from here on is retried by the sweep (and by the sender, whose
          // retry is stored as the second event it is: eventCount equals the stored events).
          await tell(states);
          return { alerts: changed.size, new: created };
        },
      );
    },

    async expireLeases() {
      const nowMs = clock.nowMs();
      const due: string[] = [];
      for (const [fingerprint, state] of alerts) {
        const expiresAt = leaseExpiresAtMs(state, timeouts);
        if (expiresAt !== null && expiresAt <= nowMs) due.push(fingerprint);
        else if (state.status === 'resolved' && (state.resolvedAtMs ?? 0) + options.keepResolvedMs < nowMs && !busy.has(fingerprint) && !untold.has(fingerprint)) {
          alerts.delete(fingerprint);
        }
      }
      if (due.length === 0 && untold.size === 0) return 0;
      return exclusive([...due, ...untold.keys()], async () => {
        // Checked again under the lock: a re-send may have renewed the lease meanwhile.
        const expired: AlertState[] = [];
        for (const fingerprint of due) {
          const state = alerts.get(fingerprint);
          const expiresAt = state ? leaseExpiresAtMs(state, timeouts) : null;
          if (state && expiresAt !== null && expiresAt <= nowMs) expired.push(expireAlert(state, expiresAt));
        }
        // Throws with memory untouched: the leases are still due at the next sweep, which retries.
        if (expired.length > 0) await persist([], new Map(), expired);
        for (const state of expired) alerts.set(state.fingerprint, state);
        if (expired.length > 0) logger.info({ count: expired.length }, 'alerts resolved by lease expiry');
        // Only the latest stored state of each alert is worth telling.
        const stale = [...untold.values()].filter((s) => alerts.get(s.fingerprint) !== s);
        for (const state of stale) untold.delete(state.fingerprint);
        await tell([...untold.values(), ...expired]);
        return expired.length;
      });
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
