import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import {
  ALERT_EVENT_LAYOUT,
  ALERT_STATE_LAYOUT,
  eventDayOf,
  listAlertEvents,
  listAlerts,
  loadRecentAlerts,
  REPEATS_ANNOTATIONS,
  REPEATS_LABELS,
  writeAlertEvent,
  writeAlertState,
  type StoredAlertEvent,
} from '../storage/alerts.queries.js';
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
  /** The stored events of one fingerprint, newest first (all of them, as received). */
  events(fingerprint: string, page: { limit: number; offset: number }): Promise<{ events: StoredAlertEvent[]; total: number }>;
  /**
   * Alerts held in memory (firing, or recently resolved). These and get()'s are the live
   * objects, updated in place as their alerts change: copy what must stay as it was.
   */
  active(): AlertState[];
  get(fingerprint: string): AlertState | undefined;
  /** Rebuilds the in-memory alerts from storage; call once at start. */
  start(): Promise<void>;
  /**
   * Starts the sweep that resolves alerts whose lease ran out, every second. Only once the
   * core that onAlertsChanged tells is ready: a lease that ran out while Vigil was down is
   * told at the first sweep, and a core not yet rebuilt would drop it.
   */
  startLeaseExpiry(): void;
  close(): Promise<void>;
}

/** An event that cannot make an alert of its own: an acknowledge, or one carrying only a status. */
function isIgnorableWhenUnknown(event: AlertEvent): boolean {
  return event.bare === true || event.acknowledged === true;
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
  /**
   * One entry per alert, kept for its life in memory: the state stored, the change in
   * progress and what it computes. One lookup per event reaches all three (with 100k alerts,
   * lookups in maps this large were a tenth of the CPU of an alert storm).
   */
  interface AlertEntry {
    /** What is stored: a change enters only once its store succeeded, so a failed one leaves no trace. Undefined while a new alert's first change runs. */
    state: AlertState | undefined;
    /** The change in progress: the next change of this alert waits for it (see `exclusive`). */
    busy: Promise<void> | null;
    /** The state the change in progress computed, not yet stored. */
    next: AlertState | undefined;
    /**
     * The latest event of this alert stored by this process (undefined: none yet), and that
     * of the change in progress: its labels and its UTC day. An event row repeats the maps of
     * the event before it (writeAlertEvent's `repeats`) only when that one was stored here,
     * so it is there whatever happened before, and on the same day, so it is kept as long
     * (events expire by whole days: retention.ts). Its annotations are the state's: every
     * event sets them.
     */
    eventLabels: AlertState['labels'] | undefined;
    eventDay: number;
    nextEventLabels: AlertState['labels'] | undefined;
    nextEventDay: number;
  }
  const alerts = new Map<string, AlertEntry>();
  /** Stored changes the core was not told of (its store failed): told again by the next sweep. */
  const untold = new Map<string, AlertState>();
  let lastVersion = 0;
  let sweeper: NodeJS.Timeout | null = null;
  const nextVersion = () => (lastVersion = Math.max(lastVersion + 1, clock.nowMs() * 1000));
  /** Rows are encoded here, one persist() at a time (synchronously), and handed over whole. */
  const rows = new RowBinaryWriter();

  /**
   * Stores the `eventCount` event rows written into `rows` since the last persist, and these
   * state rows, as one write.
   */
  async function persist(eventCount: number, states: readonly AlertState[]): Promise<void> {
    const eventBytes = rows.take();
    for (const state of states) writeAlertState(rows, state, nextVersion());
    const stateBytes = rows.take();
    // One call: both tables or neither (a full journal must not take the events and refuse the state).
    await batcher.insertAll([
      { table: 'alert_events_v1', binary: eventBytes, rowCount: eventCount, layout: ALERT_EVENT_LAYOUT },
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
  async function exclusive<T>(fingerprints: readonly string[], change: (entries: AlertEntry[]) => Promise<T>): Promise<T> {
    const entries: AlertEntry[] = [];
    let before: Promise<void>[] | null = null;
    for (const key of fingerprints) {
      let entry = alerts.get(key);
      if (!entry) alerts.set(key, (entry = newEntry(undefined)));
      if (entry.busy) (before ??= []).push(entry.busy);
      entries.push(entry);
    }
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    for (const entry of entries) entry.busy = mine;
    try {
      // Not awaited when free: the caller's rows must join this event-loop turn's batch.
      if (before) await Promise.all(before);
      return await change(entries);
    } finally {
      release();
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!;
        if (entry.busy !== mine) continue;
        entry.busy = null;
        // A new alert whose first change was not stored leaves nothing behind.
        if (entry.state === undefined && alerts.get(fingerprints[i]!) === entry) alerts.delete(fingerprints[i]!);
      }
    }
  }

  function newEntry(state: AlertState | undefined): AlertEntry {
    return { state, busy: null, next: undefined, eventLabels: undefined, eventDay: -1, nextEventLabels: undefined, nextEventDay: -1 };
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

  /**
   * Folds each event into its alert's change in progress (`entries[i]` is `events[i]`'s
   * entry: its `next`) and writes the event's row into `rows`, for the persist() that follows
   * in the same synchronous run; should anything throw, the rows written are dropped.
   * Appends each entry changed to `changed`, once, in the order first seen (an alert may come
   * twice in one body). Returns how many alerts are new and how many event rows were written:
   * an acknowledge or a bare event of an alert that does not exist (its first store failed
   * while the event waited, see receive) is dropped here.
   */
  function foldEvents(events: readonly AlertEvent[], entries: readonly AlertEntry[], changed: AlertEntry[]): { created: number; written: number } {
    let created = 0;
    let written = 0;
    try {
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        const entry = entries[i]!;
        const before = entry.next ?? entry.state;
        if (!before && isIgnorableWhenUnknown(event)) continue;
        written++;
        if (!before) created++;
        else shareMaps(event, before);
        // The event before this one, when stored here (or in this same write) on the same
        // day: its maps are what this row may repeat. shareMaps made maps equal to the
        // alert's the same objects, and every event sets the alert's annotations.
        const inProgress = entry.next !== undefined;
        const previousLabels = inProgress ? entry.nextEventLabels : entry.eventLabels;
        const day = eventDayOf(event.receivedAtMs);
        let repeats = 0;
        if (previousLabels !== undefined && before && day === (inProgress ? entry.nextEventDay : entry.eventDay)) {
          if (event.labels === previousLabels) repeats |= REPEATS_LABELS;
          if (event.annotations === before.annotations) repeats |= REPEATS_ANNOTATIONS;
        }
        if (!inProgress) changed.push(entry);
        const next = (entry.next = applyAlertEvent(before, event));
        entry.nextEventLabels = event.labels;
        entry.nextEventDay = day;
        writeAlertEvent(rows, event, next.firstSeenAtMs, next.eventCount, repeats);
      }
    } catch (error) {
      rows.take();
      throw error;
    }
    return { created, written };
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
      // A bare event (a PagerDuty acknowledge or resolve without payload) of an alert Vigil
      // does not know names nothing to make one from, and an acknowledge of one is dropped, as
      // PagerDuty drops it: foldEvents leaves them out, under the alert's lock, since the alert
      // may be a new one whose first store is still in flight, and fails.
      return exclusive(
        events.map((e) => e.fingerprint),
        async (entries) => {
          const changed: AlertEntry[] = [];
          const states: AlertState[] = [];
          let created = 0;
          let stored = false;
          try {
            const folded = foldEvents(events, entries, changed);
            created = folded.created;
            const stateRows: AlertState[] = [];
            for (const entry of changed) {
              states.push(entry.next!);
              if (needsStateRow(entry.state, entry.next!)) stateRows.push(entry.next!);
            }
            // Throws (retryable) with memory untouched: the sender's retry counts the event once.
            await persist(folded.written, stateRows);
            stored = true;
          } finally {
            // Stored or not, what this change computed is no longer in progress.
            for (const entry of changed) {
              if (stored) {
                entry.eventLabels = entry.nextEventLabels;
                entry.eventDay = entry.nextEventDay;
              }
              entry.next = undefined;
              entry.nextEventLabels = undefined;
            }
          }
          for (let i = 0; i < changed.length; i++) {
            const entry = changed[i]!;
            // The stored state object takes the new values in place, and the new object dies
            // young. Replacing it would promote each alert's new state into the old generation
            // (it lives a whole round of re-sends) only for it to die there at the next one.
            if (entry.state) states[i] = Object.assign(entry.state, states[i]);
            else entry.state = states[i];
          }
          if (untold.size > 0) for (const state of states) untold.delete(state.fingerprint);
          // Stored: a failure from here on is retried by the sweep (and by the sender, whose
          // retry is stored as the second event it is: eventCount equals the stored events).
          await tell(states);
          return { alerts: changed.length, new: created };
        },
      );
    },

    async expireLeases() {
      const nowMs = clock.nowMs();
      const due: string[] = [];
      for (const [fingerprint, { state, busy }] of alerts) {
        if (!state) continue;
        const expiresAt = leaseExpiresAtMs(state, timeouts);
        if (expiresAt !== null && expiresAt <= nowMs) due.push(fingerprint);
        else if (state.status === 'resolved' && (state.resolvedAtMs ?? 0) + options.keepResolvedMs < nowMs && !busy && !untold.has(fingerprint)) {
          alerts.delete(fingerprint);
        }
      }
      if (due.length === 0 && untold.size === 0) return 0;
      return exclusive([...due, ...untold.keys()], async (entries) => {
        // Checked again under the lock: a re-send may have renewed the lease meanwhile.
        const expired: AlertState[] = [];
        const expiredEntries: AlertEntry[] = [];
        for (let i = 0; i < due.length; i++) {
          const entry = entries[i]!;
          const expiresAt = entry.state ? leaseExpiresAtMs(entry.state, timeouts) : null;
          if (entry.state && expiresAt !== null && expiresAt <= nowMs) {
            expired.push(expireAlert(entry.state, expiresAt));
            expiredEntries.push(entry);
          }
        }
        // Throws with memory untouched: the leases are still due at the next sweep, which retries.
        if (expired.length > 0) await persist(0, expired);
        for (let i = 0; i < expired.length; i++) expiredEntries[i]!.state = expired[i];
        if (expired.length > 0) logger.info({ count: expired.length }, 'alerts resolved by lease expiry');
        // Only the latest stored state of each alert is worth telling.
        const stale = [...untold.values()].filter((s) => alerts.get(s.fingerprint)?.state !== s);
        for (const state of stale) untold.delete(state.fingerprint);
        await tell([...untold.values(), ...expired]);
        return expired.length;
      });
    },

    list: (filter) => listAlerts(store, filter),
    events: (fingerprint, page) => listAlertEvents(store, fingerprint, page),
    active: () => {
      const states: AlertState[] = [];
      for (const { state } of alerts.values()) if (state) states.push(state);
      return states;
    },
    get: (fingerprint) => alerts.get(fingerprint)?.state,

    async start() {
      const recent = await loadRecentAlerts(store, clock.nowMs() - options.keepResolvedMs);
      for (const state of recent) alerts.set(state.fingerprint, newEntry(state));
      if (recent.length > 0) logger.info({ alerts: recent.length }, 'alerts rebuilt from storage');
    },

    startLeaseExpiry() {
      if (sweeper) return;
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
