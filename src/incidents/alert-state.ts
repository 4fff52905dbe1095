import type { AlertEvent, AlertSource, AlertStatus, Severity } from './alert.js';

/** What Vigil knows of one alert (one fingerprint) now. */
export interface AlertState {
  fingerprint: string;
  source: AlertSource;
  status: AlertStatus;
  severity: Severity;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  startsAtMs: number;
  /** The sender's lease: a firing alert not re-sent by then resolves. Null: the resolve timeout applies. */
  endsAtMs: number | null;
  generatorUrl: string;
  firstSeenAtMs: number;
  lastSeenAtMs: number;
  resolvedAtMs: number | null;
  /** Events received for this fingerprint, re-sends included. */
  eventCount: number;
}

/**
 * Folds one received event into an alert's state (dedup): same fingerprint, same alert.
 * Annotations and the lease follow the latest event, severity the latest firing one (a
 * resolve notice often carries none, which normalises to `warning`: PagerDuty resolve events
 * have no payload); a resolved alert that fires again starts a new firing period; repeated
 * resolved notices change only the counters.
 */
export function applyAlertEvent(state: AlertState | undefined, event: AlertEvent): AlertState {
  // Never later than it arrived: an endsAt far ahead would keep the alert in memory for good.
  const resolvedAt = event.status === 'resolved' ? Math.min(event.endsAtMs ?? event.receivedAtMs, event.receivedAtMs) : null;
  if (!state) {
    return {
      fingerprint: event.fingerprint,
      source: event.source,
      status: event.status,
      severity: event.severity,
      labels: event.labels,
      annotations: event.annotations,
      startsAtMs: event.startsAtMs,
      endsAtMs: event.endsAtMs,
      generatorUrl: event.generatorUrl ?? '',
      firstSeenAtMs: event.receivedAtMs,
      lastSeenAtMs: event.receivedAtMs,
      resolvedAtMs: resolvedAt,
      eventCount: 1,
    };
  }
  // A literal, not a spread of `state`: one per event, and spread-built objects are slower to read.
  const next: AlertState = {
    fingerprint: state.fingerprint,
    source: state.source,
    status: state.status,
    // A bare event (only a status) says nothing of these: the alert keeps its own.
    severity: event.status === 'firing' && event.bare !== true ? event.severity : state.severity,
    labels: state.labels,
    annotations: event.bare === true ? state.annotations : event.annotations,
    startsAtMs: state.startsAtMs,
    endsAtMs: event.endsAtMs,
    generatorUrl: event.generatorUrl ?? state.generatorUrl,
    firstSeenAtMs: state.firstSeenAtMs,
    lastSeenAtMs: Math.max(state.lastSeenAtMs, event.receivedAtMs),
    resolvedAtMs: state.resolvedAtMs,
    eventCount: state.eventCount + 1,
  };
  // An acknowledgement says someone saw the alert, not that it fires again (PagerDuty ignores
  // one for a resolved alert).
  if (event.status === 'firing' && state.status === 'resolved' && event.acknowledged !== true) {
    next.status = 'firing';
    next.startsAtMs = event.startsAtMs;
    next.resolvedAtMs = null;
  } else if (event.status === 'resolved' && state.status === 'firing') {
    next.status = 'resolved';
    next.resolvedAtMs = resolvedAt;
  } else if (event.status === 'resolved') {
    // A repeated resolved notice: keep when it first resolved.
    next.resolvedAtMs = state.resolvedAtMs ?? resolvedAt;
  }
  return next;
}

/**
 * Whether the change from `before` to `next` (applyAlertEvent) needs a new state row. What a
 * re-send alone moves (when last seen, how many events, the lease) the stored events already
 * say (alert_activity_v1, read by alerts.queries.ts), so a re-send that changes nothing else
 * stores just its event. Maps are compared by identity first (a re-send with equal maps
 * carries the alert's own objects: alert.service.ts), then by contents. `source` and
 * `firstSeenAtMs` cannot change through applyAlertEvent today; they are checked so that a
 * change there cannot go unstored.
 */
export function needsStateRow(before: AlertState | undefined, next: AlertState): boolean {
  return (
    before === undefined ||
    before.status !== next.status ||
    before.severity !== next.severity ||
    before.startsAtMs !== next.startsAtMs ||
    before.resolvedAtMs !== next.resolvedAtMs ||
    before.generatorUrl !== next.generatorUrl ||
    before.source !== next.source ||
    before.firstSeenAtMs !== next.firstSeenAtMs ||
    (before.labels !== next.labels && !sameStringMap(before.labels, next.labels)) ||
    (before.annotations !== next.annotations && !sameStringMap(before.annotations, next.annotations))
  );
}

/**
 * Senders that notify of a change rather than re-send what fires: Alertmanager's webhook
 * (a firing alert carries Go's zero endsAt and comes again only after `repeat_interval`,
 * 4 h by default; its resolution comes as a resolved notice) and PagerDuty Events (a
 * trigger stands until its resolve event). For their alerts without endsAt,
 * `notificationResolveTimeoutMs` applies instead of the resolve timeout.
 */
const NOTIFYING_SOURCES: ReadonlySet<AlertSource> = new Set(['alertmanager', 'pagerduty']);

export interface ResolveTimeouts {
  /** Alerts sent without endsAt by senders that re-send while firing (Alertmanager's `resolve_timeout`). */
  resolveTimeoutMs: number;
  /** Alerts without endsAt from notifying senders (NOTIFYING_SOURCES); 0 = until resolved. */
  notificationResolveTimeoutMs: number;
}

/**
 * When a firing alert resolves on its own: at the end of its lease (`endsAt`, as Prometheus
 * sends it), or when it has none, the resolve timeout after it was last seen; null for
 * resolved alerts and for notified alerts that wait for their resolved notice.
 */
export function leaseExpiresAtMs(state: AlertState, timeouts: ResolveTimeouts): number | null {
  if (state.status !== 'firing') return null;
  if (state.endsAtMs !== null) return state.endsAtMs;
  const timeoutMs = NOTIFYING_SOURCES.has(state.source) ? timeouts.notificationResolveTimeoutMs : timeouts.resolveTimeoutMs;
  return timeoutMs > 0 ? state.lastSeenAtMs + timeoutMs : null;
}

/** The state after the lease ran out at `atMs`. */
export function expireAlert(state: AlertState, atMs: number): AlertState {
  return { ...state, status: 'resolved', resolvedAtMs: atMs };
}

/** Same own keys with the same values, in any order (inherited keys do not count). */
export function sameStringMap(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  let count = 0;
  for (const key in a) {
    if (!Object.hasOwn(a, key)) continue;
    if (!Object.hasOwn(b, key) || a[key] !== b[key]) return false;
    count++;
  }
  for (const key in b) if (Object.hasOwn(b, key)) count--;
  return count === 0;
}
