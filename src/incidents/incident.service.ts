import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { loadAlertsByFingerprint } from '../storage/alerts.queries.js';
import {
  alertsJoinedSince,
  findIncident,
  INCIDENT_ALERT_LAYOUT,
  INCIDENT_EVENT_LAYOUT,
  incidentRow,
  listIncidents,
  loadIncidentsForPeriod,
  loadMemberSeverities,
  loadTimeline,
  loadLatestIncidentPerGroup,
  loadUnclosedIncidents,
  writeIncidentAlert,
  writeIncidentEvent,
  type IncidentFilter,
} from '../storage/incidents.queries.js';
import { deliveryRow } from '../storage/notifications.queries.js';
import { READ_TABLES } from '../storage/read-tables.js';
import type { RowBatcher, TableRows } from '../storage/row-batcher.js';
import { RowBinaryWriter } from '../storage/row-binary.js';
import type { Store } from '../storage/store.js';
import { mapAlertToCatalog, type CatalogIndex } from '../catalog/catalog-index.js';
import { SEVERITIES, type Severity } from './alert.js';
import type { AlertState } from './alert-state.js';
import { dueEscalations, dueRepeat, repeatedLevelOf, type EscalationLevel, type EscalationReason, type EscalationRepeat, type EscalationStep } from './escalation.js';
import { groupKeyOf, incidentTitle, type GroupingRule } from './group-alerts.js';
import type { Incident, IncidentEvent } from './incident.js';
import { applyTransition, isOpen, statusAfter, type IncidentAction } from './incident-lifecycle.js';
import { computeResponseStatistics, type ResponseStatistics } from './incident-statistics.js';
import { computePriority, type Priority } from './priority.js';
import type { Delivery, Notice, NotificationKind, Notifier } from './notification.service.js';
import { computeSlaState, DEFAULT_SLA_TARGETS, type BusinessCalendar } from './sla-timers.js';

export interface IncidentServiceOptions {
  store: Store;
  batcher: RowBatcher;
  clock: Clock;
  logger: Logger;
  rule: GroupingRule;
  /** An incident whose alerts have all resolved auto-resolves after this hold (a flap within it keeps it open). */
  autoResolveHoldMs: number;
  /**
   * A group firing again within this long after its last incident resolved reopens that
   * incident instead of opening a new one linked to it; 0 (the default): always a new one.
   */
  reopenWindowMs?: number;
  /** A resolved incident is closed by Vigil this long after it resolved; 0 (the default here): never. */
  autoCloseAfterMs?: number;
  /** Current state of an alert by fingerprint (the alert service's memory). */
  alertState(fingerprint: string): AlertState | undefined;
  /** The service catalog in force: maps alerts to CIs and services, services give impact. */
  catalog?: () => CatalogIndex;
  /** Plans the deliveries a change calls for (stored with the change) and starts them once stored. */
  notifier?: Notifier;
  /** Escalation policy levels, in order (escalation.ts); none: never escalates. */
  escalationLevels?: readonly EscalationLevel[];
  /** Tells the highest `afterMs` level again while nobody takes the incident (escalation.ts); none: never. */
  escalationRepeat?: EscalationRepeat;
  metrics?: IncidentMetrics;
}

/** What the core counts once a change is stored (src/observability/metrics.ts). */
export interface IncidentMetrics {
  created(priority: Priority): void;
  escalated(reason: EscalationReason): void;
  /** One sweep (SLA breaches, escalation, auto-resolve, stores retried), how long it took. */
  swept(seconds: number): void;
}

export interface IncidentDetail {
  incident: Incident;
  alerts: AlertState[];
  timeline: IncidentEvent[];
}

export interface IncidentService {
  /** Correlates changed alerts into incidents; resolves once the changes are stored. */
  onAlertsChanged(states: readonly AlertState[]): Promise<void>;
  /**
   * At start, after start(): correlates again the firing alerts a crash may have left out of
   * the core (stored, but what they did to their incident not), and the members of open
   * incidents (their severity may have changed meanwhile). A firing alert that joined an
   * incident at or after its startsAt (a person resolved or closed that incident while it
   * fired) is left as it is: a restart is no new notice, and Alertmanager's webhook and
   * PagerDuty senders notify once, so such an alert opens a new incident only when its sender
   * says it fires again, as without the restart. startsAt is the sender's clock and joins are
   * Vigil's: a sender whose clock runs ahead is correlated again, as before this rule.
   */
  recorrelate(firing: readonly AlertState[]): Promise<void>;
  /** Stores writes that failed earlier, auto-resolves incidents past their hold, flags SLA breaches and escalates. */
  sweep(): Promise<void>;
  /** Applies a lifecycle action. Throws AppError 404 (unknown id) or 409 (illegal, naming the allowed actions). */
  act(id: string, action: IncidentAction, actor: string, note?: string): Promise<Incident>;
  /**
   * A sender's acknowledgement of these alerts (PagerDuty's `acknowledge` event): the incident
   * each of them, still firing, is in now (its latest, should a person have reopened an older
   * one), when `new` or `reopened`, is acknowledged by `actor`, as PagerDuty's incident is.
   * Others (already taken, resolved, no incident yet: below the grouping threshold) are left
   * as they are.
   */
  acknowledgeAlerts(fingerprints: readonly string[], actor: string): Promise<void>;
  /** Assigns the incident to `assignee`, or takes it off its assignee (null). 404, or 409 when closed. */
  assign(id: string, assignee: string | null, actor: string): Promise<Incident>;
  /** Stops (pause) or restarts (resume) the SLA clocks while waiting on a third party. 409 when already so. */
  pause(id: string, actor: string, reason: string | undefined, resume: boolean): Promise<Incident>;
  comment(id: string, text: string, author: string): Promise<Incident>;
  get(id: string): Promise<IncidentDetail>;
  /**
   * Open and resolved incidents come from memory, which holds every incident not yet closed
   * and is what the core acts on: no wait for ClickHouse. `closed` and `all` read the store,
   * once every acknowledged incident row is inserted.
   */
  list(filter: IncidentFilter): Promise<{ incidents: Incident[]; total: number }>;
  /** MTTA and MTTR per service and priority over [fromMs, toMs); incidents without a service count under "(none)". */
  statistics(fromMs: number, toMs: number): Promise<ResponseStatistics[]>;
  /** The incidents in memory (every one not yet closed, and closed ones until the next sweep): live objects, not to be changed. */
  held(): Iterable<Incident>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A new incident links to its group's previous one (relatedIncidentId) when that was opened
 * at most this long before: a recurrence worth looking at together. Bounds what is held per
 * group once its incidents are closed, and what a restart loads.
 */
const RECURRENCE_LINK_MS = 30 * 86_400_000;

/**
 * The incident half of the correlation core: firing alerts join the open incident of their
 * group (or open one, once enough fire within the window), incidents follow the ITIL
 * lifecycle, priority is computed from the alerts and recomputed as they join, and SLA due
 * times follow the priority. Open incidents live in memory, rebuilt from ClickHouse at
 * start; every change is stored (state + timeline) before the caller's promise resolves.
 */
export function createIncidentService(options: IncidentServiceOptions): IncidentService {
  const { batcher, clock, logger, rule } = options;
  const escalationLevels = options.escalationLevels ?? [];
  const repeatedLevel = repeatedLevelOf(escalationLevels);
  const incidents = new Map<string, Incident>();
  /** Open incident per group key. */
  const openByGroup = new Map<string, string>();
  /** Latest incident per group key, for linking a recurrence. */
  const lastByGroup = new Map<string, { id: string; createdAtMs: number }>();
  /** When lastByGroup was last pruned of links past RECURRENCE_LINK_MS (ms). */
  let lastLinkPruneMs = 0;
  const incidentOfAlert = new Map<string, string>();
  /** Members still firing, per incident: when it empties, every alert has resolved (O(1), not a pass over members). */
  const firingMembers = new Map<string, Set<string>>();
  const firingOf = (incidentId: string) => {
    let set = firingMembers.get(incidentId);
    if (!set) firingMembers.set(incidentId, (set = new Set()));
    return set;
  };
  /** Firing alerts of groups below the N-alert threshold: fingerprint → when it fired. */
  const pending = new Map<string, Map<string, number>>();
  let lastVersion = 0;
  let eventSeq = 0;
  /** Membership and timeline rows are encoded here, one persist() at a time (synchronously). */
  const binaryRows = new RowBinaryWriter();
  let sweeper: NodeJS.Timeout | null = null;

  const nextVersion = () => (lastVersion = Math.max(lastVersion + 1, clock.nowMs() * 1000));

  /** One change's rows per table, and the deliveries stored with them (started once stored). */
  interface Write {
    parts: TableRows[];
    deliveries: Delivery[];
    /** The incidents whose rows or timeline it holds. */
    incidentIds: ReadonlySet<string>;
    /** Counts what it did in the metrics; once, when stored. */
    count: () => void;
  }
  /**
   * Writes that failed, oldest first: memory already holds their change, so the next sweep
   * stores them again (same rows, same versions) rather than leave storage behind memory.
   */
  const unsaved: Write[] = [];

  async function store(write: Write): Promise<void> {
    // One call: every table of the change or none.
    await batcher.insertAll(write.parts);
    write.count();
    options.notifier?.enqueue(write.deliveries);
  }

  /**
   * Stores changed incidents and timeline events, with the notification deliveries they call
   * for. Throws (retryable) if storage fails; the sweep then retries the write, unless
   * `retriedBy` is 'caller': a change that is only its write (a comment) is not in memory,
   * and the caller's retry stores it (twice, were the sweep to store it too).
   */
  async function persist(changed: Iterable<Incident>, events: readonly IncidentEvent[], retriedBy: 'sweep' | 'caller' = 'sweep'): Promise<void> {
    const changedIncidents = [...new Set(changed)];
    const rows = changedIncidents.map((i) => incidentRow(i, nextVersion()));
    let members = 0;
    for (const event of events) {
      if (event.kind !== 'alert_joined') continue;
      writeIncidentAlert(binaryRows, event.incidentId, String(event.detail.fingerprint), event.atMs);
      members++;
    }
    const memberBytes = binaryRows.take();
    for (const event of events) writeIncidentEvent(binaryRows, event, ++eventSeq);
    const eventBytes = binaryRows.take();
    const notifier = options.notifier;
    const deliveries = notifier ? noticesOf(events).flatMap((n) => notifier.plan(n)) : [];
    const write: Write = {
      parts: [
        { table: 'incidents_v1', rows },
        // An alert storm adds a membership and a timeline row per joining alert: RowBinary.
        { table: 'incident_alerts_v1', binary: memberBytes, rowCount: members, layout: INCIDENT_ALERT_LAYOUT },
        { table: 'incident_events_v1', binary: eventBytes, rowCount: events.length, layout: INCIDENT_EVENT_LAYOUT },
        { table: 'notification_deliveries_v1', rows: deliveries.map(deliveryRow) },
      ],
      deliveries,
      incidentIds: new Set([...changedIncidents.map((i) => i.id), ...events.map((e) => e.incidentId)]),
      count: countingOf(events),
    };
    try {
      await store(write);
    } catch (error) {
      if (retriedBy === 'sweep') unsaved.push(write);
      throw error;
    }
  }

  /**
   * A person's change repeated while a write of the incident waits in `unsaved` (the first
   * attempt failed to store, and the client retries as the 503 told it): stores the waiting
   * writes instead of making the change twice. False when none of the incident waits.
   */
  async function storeWaitingChange(id: string): Promise<boolean> {
    if (!unsaved.some((w) => w.incidentIds.has(id))) return false;
    // In line with the sweeps, which store the same queue: never two stores of one write.
    await inLineWithSweeps(storeUnsaved);
    return true;
  }

  /** The listing of `listIncidents` (same filters, order and paging) over the incidents in memory. */
  function listHeld(filter: IncidentFilter): { incidents: Incident[]; total: number } {
    const matching: Incident[] = [];
    for (const incident of incidents.values()) {
      if (filter.status === 'open' ? !isOpen(incident.status) : incident.status !== 'resolved') continue;
      if (filter.service && !incident.services.includes(filter.service)) continue;
      if (filter.priority && incident.priority !== filter.priority) continue;
      matching.push(incident);
    }
    matching.sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const page = matching.slice(filter.offset, filter.offset + filter.limit);
    // Copies: the held incidents keep changing. Listings carry no members, as from the store.
    return {
      incidents: page.map((i) => ({ ...i, services: [...i.services], cis: [...i.cis], pauses: i.pauses.map((p) => ({ ...p })), alertFingerprints: [] })),
      total: matching.length,
    };
  }

  async function storeUnsaved(): Promise<void> {
    while (unsaved.length > 0) {
      const write = unsaved[0]!;
      await store(write);
      // The stored write itself: another caller may have stored and removed it meanwhile.
      const at = unsaved.indexOf(write);
      if (at >= 0) unsaved.splice(at, 1);
    }
  }

  /** What `events` count in the metrics, read now (a new incident's priority as this write leaves it). */
  function countingOf(events: readonly IncidentEvent[]): () => void {
    const metrics = options.metrics;
    if (!metrics) return () => {};
    const created: Priority[] = [];
    const escalated: EscalationReason[] = [];
    for (const event of events) {
      if (event.kind === 'created') created.push(incidents.get(event.incidentId)?.priority ?? 'P4');
      // Levels reached; a reminder of one (repeat) reaches nothing new.
      else if (event.kind === 'escalated' && event.detail['repeat'] === undefined) escalated.push((event.detail as { reason: EscalationReason }).reason);
    }
    let counted = false;
    // Once: a write waiting in `unsaved` may be stored by the sweep and by a caller's retry.
    return () => {
      if (counted) return;
      counted = true;
      for (const priority of created) metrics.created(priority);
      for (const reason of escalated) metrics.escalated(reason);
    };
  }

  /**
   * The notices stored events call for: one per incident and kind (a new incident's first
   * priority is no "change"), with the first such event's actor, note and previous priority,
   * and one per escalation level reached. A person taking an incident (acknowledge, or start
   * on a new or reopened one) is `acknowledged`.
   */
  function noticesOf(events: readonly IncidentEvent[]): Notice[] {
    const byIncident = new Map<string, Map<NotificationKind, Notice>>();
    const joinedServices = new Map<string, { services: string[]; atMs: number }>();
    const notices: Notice[] = [];
    for (const event of events) {
      const incident = incidents.get(event.incidentId);
      if (!incident) continue;
      let kinds = byIncident.get(event.incidentId);
      if (!kinds) byIncident.set(event.incidentId, (kinds = new Map()));
      const detail = event.detail as { action?: string; from?: string; to?: string; note?: string };
      const add = (kind: NotificationKind, extra: Partial<Notice> = {}) => {
        if (!kinds.has(kind)) kinds.set(kind, { kind, incident, atMs: event.atMs, actor: event.actor, ...(detail.note !== undefined ? { note: detail.note } : {}), ...extra });
      };
      if (event.kind === 'created') add('created');
      else if (event.kind === 'priority_changed') add('priority_changed', { previousPriority: detail.from as Priority });
      else if (event.kind === 'services_joined') {
        // Told as `created` to the routes of the services that joined (below), unless the
        // incident is new in this write: its own `created` tells them.
        const joined = joinedServices.get(event.incidentId) ?? { services: [], atMs: event.atMs };
        joined.services.push(...(event.detail['services'] as string[]));
        joinedServices.set(event.incidentId, joined);
      } else if (event.kind === 'transition') {
        if (detail.to === 'resolved') add('resolved');
        else if (detail.action === 'reopen') add('reopened');
        else if (detail.to === 'acknowledged' || (detail.action === 'start' && (detail.from === 'new' || detail.from === 'reopened'))) add('acknowledged');
      } else if (event.kind === 'escalated') {
        const { level, reason, routes, repeat } = event.detail as { level: number; reason: 'not_acknowledged' | 'sla_breached'; routes: string[]; repeat?: number };
        notices.push({ kind: 'escalated', incident, atMs: event.atMs, actor: event.actor, escalation: { level, reason, routes, ...(repeat !== undefined ? { repeat } : {}) } });
      }
    }
    for (const [id, kinds] of byIncident) {
      const joined = joinedServices.get(id);
      if (kinds.has('created')) kinds.delete('priority_changed');
      else if (joined) {
        notices.push({ kind: 'created', incident: incidents.get(id)!, atMs: joined.atMs, actor: 'vigil', newServices: joined.services });
        // Their routes hear of the incident through that `created`, not of this write's other changes too.
        for (const notice of kinds.values()) notice.ignoredServices = joined.services;
      }
      notices.push(...kinds.values());
    }
    return notices;
  }

  /** Incidents opened while building a write, by the write's event list (join() asks). */
  const openedIn = new WeakMap<IncidentEvent[], Set<string>>();

  /** Adds the CIs and services the alert maps to (catalog rules); true when something was added. */
  function mapToCatalog(incident: Incident, alert: AlertState): boolean {
    const index = options.catalog?.();
    if (!index) return false;
    const match = mapAlertToCatalog(alert.labels, index);
    const before = incident.cis.length + incident.services.length;
    for (const ci of match.ciIds) if (!incident.cis.includes(ci)) incident.cis.push(ci);
    for (const service of match.serviceIds) if (!incident.services.includes(service)) incident.services.push(service);
    return incident.cis.length + incident.services.length > before;
  }

  function serviceCriticalities(incident: Incident) {
    const index = options.catalog?.();
    if (!index) return [];
    return incident.services.map((id) => index.serviceById.get(id)?.criticality).filter((c): c is NonNullable<typeof c> => c !== undefined);
  }

  /**
   * Support hours of the most critical affected service; null = 24×7. A service without
   * support hours is served 24×7, so when it is the most critical (or as critical as one with
   * hours), the clocks run around the clock: a less critical office-hours service must not
   * put a 24×7 service's P1 on office hours.
   */
  function supportCalendar(incident: Incident): BusinessCalendar | null {
    const index = options.catalog?.();
    if (!index) return null;
    const order = ['critical', 'high', 'medium', 'low'];
    const services = incident.services
      .map((id) => index.serviceById.get(id))
      .filter((s): s is NonNullable<typeof s> => s !== undefined)
      .sort((a, b) => order.indexOf(a.criticality) - order.indexOf(b.criticality) || (a.supportHours ? 1 : 0) - (b.supportHours ? 1 : 0));
    const hours = services[0]?.supportHours;
    if (!hours) return null;
    const days: BusinessCalendar['days'] = {};
    for (const [day, ranges] of Object.entries(hours.days)) {
      days[day as keyof BusinessCalendar['days']] = (ranges ?? []).map((r) => r.split('-') as [string, string]);
    }
    return { timeZone: hours.timeZone, days, ...(hours.holidays ? { holidays: hours.holidays } : {}) };
  }

  /**
   * Members per severity, per incident (index: SEVERITIES order), so the worst is the first
   * non-zero count: a join or a member's change of severity costs O(1), not a pass over
   * thousands of members (bench:alerts showed that pass dominating).
   */
  const severityCounts = new Map<string, number[]>();
  /** The severity each member alert is counted with, to move it when the alert reports another. */
  const memberSeverity = new Map<string, Severity>();

  /** Counts a member with `severity` (moving it from `previous` when it was counted before) and updates the incident's worst. */
  function countMember(incident: Incident, fingerprint: string, severity: Severity, previous?: Severity): void {
    let counts = severityCounts.get(incident.id);
    if (!counts) severityCounts.set(incident.id, (counts = SEVERITIES.map(() => 0)));
    if (previous !== undefined) counts[SEVERITIES.indexOf(previous)]!--;
    counts[SEVERITIES.indexOf(severity)]!++;
    memberSeverity.set(fingerprint, severity);
    incident.severity = SEVERITIES[counts.findIndex((n) => n > 0)] ?? severity;
  }

  /**
   * A firing member of an open incident reported another severity (PagerDuty events keyed by
   * dedup_key, Vigil JSON with an explicit severity or fingerprint: severity is not identity
   * there). Moves its count, records the change, and re-prioritises when the worst changed.
   */
  function changeMemberSeverity(incident: Incident, alert: AlertState, nowMs: number, events: IncidentEvent[]): boolean {
    const before = memberSeverity.get(alert.fingerprint);
    if (before === undefined || before === alert.severity) return false;
    const worstBefore = incident.severity;
    countMember(incident, alert.fingerprint, alert.severity, before);
    events.push({
      incidentId: incident.id,
      atMs: nowMs,
      actor: 'vigil',
      kind: 'severity_changed',
      detail: { fingerprint: alert.fingerprint, from: before, to: alert.severity, incidentSeverity: { from: worstBefore, to: incident.severity } },
    });
    if (incident.severity !== worstBefore) reprioritise(incident, nowMs, events);
    return true;
  }

  /** Recomputes priority and SLA due times; records a priority change on the timeline. */
  function reprioritise(incident: Incident, nowMs: number, events: IncidentEvent[]): void {
    const result = computePriority({ serviceCriticalities: serviceCriticalities(incident), severities: [incident.severity] });
    if (result.priority !== incident.priority) {
      events.push({ incidentId: incident.id, atMs: nowMs, actor: 'vigil', kind: 'priority_changed', detail: { from: incident.priority, to: result.priority, reason: result.reason } });
      incident.priority = result.priority;
    }
    refreshSla(incident, nowMs, events);
  }

  /** Recomputes the due times, flags breaches and escalates; true when a breach was flagged or a level reached. */
  function refreshSla(incident: Incident, nowMs: number, events: IncidentEvent[]): boolean {
    const sla = computeSlaState(
      {
        createdAtMs: incident.createdAtMs,
        priority: incident.priority,
        ...(incident.acknowledgedAtMs !== null ? { acknowledgedAtMs: incident.acknowledgedAtMs } : {}),
        ...(incident.resolvedAtMs !== null ? { resolvedAtMs: incident.resolvedAtMs } : {}),
        pauses: incident.pauses,
        calendar: supportCalendar(incident),
        targets: DEFAULT_SLA_TARGETS,
      },
      nowMs,
    );
    incident.responseDueAtMs = sla.responseDueAtMs;
    incident.resolutionDueAtMs = sla.resolutionDueAtMs;
    // Each target's breach is latched and put on the timeline once, when it happens.
    const newlyResponse = sla.responseBreached && !incident.responseBreached;
    const newlyResolution = sla.resolutionBreached && !incident.resolutionBreached;
    if (newlyResponse || newlyResolution) {
      incident.responseBreached ||= newlyResponse;
      incident.resolutionBreached ||= newlyResolution;
      incident.slaBreached = true;
      const target = newlyResponse && newlyResolution ? 'both' : newlyResponse ? 'response' : 'resolution';
      events.push({ incidentId: incident.id, atMs: nowMs, actor: 'vigil', kind: 'sla_breached', detail: { target, response: incident.responseBreached, resolution: incident.resolutionBreached } });
    }
    return escalate(incident, nowMs, events) || newlyResponse || newlyResolution;
  }

  /**
   * Moves the incident up the escalation levels now due, then tells the highest `afterMs`
   * level again if a repeat is due: one timeline event (and notice) each; true when any.
   */
  function escalate(incident: Incident, nowMs: number, events: IncidentEvent[]): boolean {
    const steps: (EscalationStep & { repeat?: number })[] = dueEscalations(incident, escalationLevels, nowMs);
    for (const step of steps) {
      incident.escalationLevel = step.level;
      // The level repeats remind of, told now (by its delay or a breach): the first reminder is an interval from here.
      if (step.level === repeatedLevel) incident.escalationToldAtMs = nowMs;
    }
    const repeat = dueRepeat(incident, escalationLevels, options.escalationRepeat, nowMs);
    if (repeat) {
      incident.escalationRepeats = repeat.repeat;
      incident.escalationToldAtMs = nowMs;
      steps.push(repeat);
    }
    for (const step of steps) {
      events.push({
        incidentId: incident.id,
        atMs: nowMs,
        actor: 'vigil',
        kind: 'escalated',
        detail: {
          level: step.level,
          reason: step.reason,
          ...(step.afterMs !== undefined ? { afterMs: step.afterMs } : {}),
          routes: [...step.routes],
          ...(step.repeat !== undefined ? { repeat: step.repeat } : {}),
        },
      });
    }
    return steps.length > 0;
  }

  /** True when the stored due time of a target not yet breached lies behind `nowMs` (response only counts until acknowledged). */
  function slaDuePassed(incident: Incident, nowMs: number): boolean {
    return (
      (!incident.responseBreached && incident.acknowledgedAtMs === null && nowMs > incident.responseDueAtMs) ||
      (!incident.resolutionBreached && nowMs > incident.resolutionDueAtMs)
    );
  }

  function join(incident: Incident, alert: AlertState, values: Record<string, string>, nowMs: number, events: IncidentEvent[]): void {
    incident.alertFingerprints.push(alert.fingerprint);
    incident.alertCount = incident.alertFingerprints.length;
    incidentOfAlert.set(alert.fingerprint, incident.id);
    countMember(incident, alert.fingerprint, alert.severity);
    if (alert.status === 'firing') firingOf(incident.id).add(alert.fingerprint);
    const servicesBefore = incident.services.length;
    mapToCatalog(incident, alert);
    incident.allAlertsResolvedAtMs = null;
    events.push({ incidentId: incident.id, atMs: nowMs, actor: 'vigil', kind: 'alert_joined', detail: { fingerprint: alert.fingerprint, rule: rule.name, groupBy: values } });
    // Services the incident now affects too: their teams' routes have not heard of it (noticesOf).
    // Not for an incident opened in this same write: its `created` is planned after every join.
    if (incident.services.length > servicesBefore && !openedIn.get(events)?.has(incident.id)) {
      events.push({ incidentId: incident.id, atMs: nowMs, actor: 'vigil', kind: 'services_joined', detail: { fingerprint: alert.fingerprint, services: incident.services.slice(servicesBefore) } });
    }
  }

  /** join(), or for an alert already a member (of a reopened incident) marks it firing again. */
  function addMember(incident: Incident, alert: AlertState, values: Record<string, string>, nowMs: number, events: IncidentEvent[]): void {
    if (!incident.alertFingerprints.includes(alert.fingerprint)) {
      join(incident, alert, values, nowMs, events);
      return;
    }
    incidentOfAlert.set(alert.fingerprint, incident.id);
    if (alert.status === 'firing') firingOf(incident.id).add(alert.fingerprint);
    changeMemberSeverity(incident, alert, nowMs, events);
    incident.allAlertsResolvedAtMs = null;
  }

  /** The group's last incident when the reopen policy takes it back (see reopenWindowMs). */
  function recurrenceOf(key: string, nowMs: number): Incident | undefined {
    const windowMs = options.reopenWindowMs ?? 0;
    if (windowMs <= 0) return undefined;
    const lastId = lastByGroup.get(key)?.id;
    const last = lastId === undefined ? undefined : incidents.get(lastId);
    if (!last || last.status !== 'resolved' || last.resolvedAtMs === null || nowMs - last.resolvedAtMs > windowMs) return undefined;
    return last;
  }

  function open(key: string, first: AlertState, values: Record<string, string>, nowMs: number, events: IncidentEvent[]): Incident {
    const previous = lastByGroup.get(key);
    const linked = previous !== undefined && nowMs - previous.createdAtMs <= RECURRENCE_LINK_MS ? previous.id : null;
    const incident: Incident = {
      id: randomUUID(),
      title: incidentTitle(first.labels, first.annotations, values),
      status: 'new',
      priority: 'P4',
      severity: first.severity,
      escalationLevel: 0,
      groupKey: key,
      services: [],
      cis: [],
      alertFingerprints: [],
      alertCount: 0,
      createdAtMs: nowMs,
      acknowledgedAtMs: null,
      resolvedAtMs: null,
      closedAtMs: null,
      reopenedAtMs: null,
      breachedAtReopen: false,
      escalationRepeats: 0,
      escalationToldAtMs: null,
      assignee: null,
      responseDueAtMs: nowMs,
      resolutionDueAtMs: nowMs,
      slaBreached: false,
      responseBreached: false,
      resolutionBreached: false,
      relatedIncidentId: linked,
      allAlertsResolvedAtMs: null,
      pauses: [],
    };
    incidents.set(incident.id, incident);
    openByGroup.set(key, incident.id);
    lastByGroup.set(key, { id: incident.id, createdAtMs: nowMs });
    events.push({ incidentId: incident.id, atMs: nowMs, actor: 'vigil', kind: 'created', detail: { rule: rule.name, groupBy: values, relatedIncidentId: incident.relatedIncidentId } });
    let opened = openedIn.get(events);
    if (!opened) openedIn.set(events, (opened = new Set()));
    opened.add(incident.id);
    return incident;
  }

  /**
   * The held incident a person acts on. Memory holds every incident that is not closed:
   * one found only in storage is closed (terminal), so the action is illegal (409), not
   * unknown (404).
   */
  async function requireIncident(id: string, action: string): Promise<Incident> {
    const held = incidents.get(id);
    if (held) return held;
    await batcher.whenInserted(READ_TABLES.incidentList);
    const stored = await findIncident(options.store, id);
    if (!stored) throw new AppError('INCIDENT_NOT_FOUND', `no incident ${id}`, { httpStatus: 404 });
    throw closedIncidentError(action, stored.status);
  }

  /**
   * For a change that is not a transition (comment, assignment): refused on a closed
   * incident also while memory still holds it, as it is once the sweep has let go of it.
   */
  async function requireUnclosedIncident(id: string, action: string): Promise<Incident> {
    const incident = await requireIncident(id, action);
    if (incident.status === 'closed') throw closedIncidentError(action, incident.status);
    return incident;
  }

  function closedIncidentError(action: string, status: string): AppError {
    return new AppError('INCIDENT_TRANSITION_ILLEGAL', `cannot ${action} an incident that is ${status}; allowed: none`, { httpStatus: 409 });
  }

  function transition(incident: Incident, action: IncidentAction, actor: string, nowMs: number, events: IncidentEvent[], note?: string): void {
    const result = applyTransition(incident.status, action);
    if (!result.ok) throw new AppError('INCIDENT_TRANSITION_ILLEGAL', result.detail, { httpStatus: 409 });
    events.push({ incidentId: incident.id, atMs: nowMs, actor, kind: 'transition', detail: { action, from: incident.status, to: result.next, ...(note ? { note } : {}) } });
    // A pause ends when the incident stops being open: left running, every later refresh of
    // the clocks (at close, at reopen) would stretch it and move the stored due times.
    const running = incident.pauses.at(-1);
    if (!isOpen(result.next) && running && running.endMs === null) {
      running.endMs = nowMs;
      events.push({ incidentId: incident.id, atMs: nowMs, actor, kind: 'resumed', detail: { reason: `incident ${result.next}` } });
    }
    // The time it spent resolved does not count on the reopened incident's clocks: its
    // resolution clock had stopped (a target met before the resolve stays met).
    if (action === 'reopen' && incident.resolvedAtMs !== null) incident.pauses.push({ startMs: incident.resolvedAtMs, endMs: nowMs });
    incident.status = result.next;
    if (action === 'acknowledge' && incident.acknowledgedAtMs === null) incident.acknowledgedAtMs = nowMs;
    if (action === 'start' && incident.acknowledgedAtMs === null) incident.acknowledgedAtMs = nowMs;
    if (action === 'resolve') incident.resolvedAtMs = nowMs;
    if (action === 'close') incident.closedAtMs = nowMs;
    if (action === 'reopen') {
      incident.resolvedAtMs = null;
      // It needs someone to take it again: the escalation policy starts over (escalation.ts).
      incident.reopenedAtMs = nowMs;
      incident.breachedAtReopen = incident.slaBreached;
      incident.escalationLevel = 0;
      incident.escalationRepeats = 0;
      incident.escalationToldAtMs = null;
      // Members that fire now, from the alerts themselves: resolves of members arriving
      // while the incident was resolved were not counted.
      const firing = firingOf(incident.id);
      firing.clear();
      for (const fp of incident.alertFingerprints) if (options.alertState(fp)?.status === 'firing') firing.add(fp);
      // Reopened by a person: auto-resolve waits for members to fire and resolve again,
      // instead of resolving it once more the moment the hold of the old resolve has passed.
      incident.allAlertsResolvedAtMs = null;
      // New alerts of the group join it, unless a newer incident of the group is open.
      const openId = openByGroup.get(incident.groupKey);
      const openOther = openId !== undefined && openId !== incident.id && isOpen(incidents.get(openId)?.status ?? 'closed');
      if (!openOther) openByGroup.set(incident.groupKey, incident.id);
    }
    if (!isOpen(incident.status) && openByGroup.get(incident.groupKey) === incident.id) openByGroup.delete(incident.groupKey);
    refreshSla(incident, nowMs, events);
  }

  /** Lets go of a closed incident and what pointed at it (storage keeps it all). */
  function forget(incident: Incident): void {
    incidents.delete(incident.id);
    severityCounts.delete(incident.id);
    firingMembers.delete(incident.id);
    for (const fp of incident.alertFingerprints) {
      if (incidentOfAlert.get(fp) !== incident.id) continue;
      incidentOfAlert.delete(fp);
      memberSeverity.delete(fp);
    }
  }

  /** Groups below the N-alert threshold whose alerts all left the window (else kept forever). */
  function prunePending(nowMs: number): void {
    for (const [key, waiting] of pending) {
      for (const [fp, at] of waiting) if (at < nowMs - rule.windowMs) waiting.delete(fp);
      if (waiting.size === 0) pending.delete(key);
    }
  }

  /** Once an hour: forgets the last incident of groups quiet for longer than a recurrence is linked (else kept forever). */
  function pruneLinks(nowMs: number): void {
    if (nowMs - lastLinkPruneMs < 3_600_000) return;
    lastLinkPruneMs = nowMs;
    for (const [key, last] of lastByGroup) if (nowMs - last.createdAtMs > RECURRENCE_LINK_MS && !incidents.has(last.id)) lastByGroup.delete(key);
  }

  /** One pass over the held incidents: auto-resolve, auto-close, SLA breaches, escalation. */
  async function sweepOnce(): Promise<void> {
    await storeUnsaved();
    const nowMs = clock.nowMs();
    const events: IncidentEvent[] = [];
    const changed = new Set<Incident>();
    for (const incident of incidents.values()) {
      // One incident that cannot be swept must not stop the others (and their stores).
      try {
        sweepOne(incident);
      } catch (error) {
        logger.error({ err: error, incident: incident.id }, 'incident sweep step failed');
      }
    }
    prunePending(nowMs);
    pruneLinks(nowMs);
    if (changed.size > 0) await persist(changed, events);

    function sweepOne(incident: Incident): void {
      if (isOpen(incident.status) && incident.allAlertsResolvedAtMs !== null && nowMs >= incident.allAlertsResolvedAtMs + options.autoResolveHoldMs) {
        // Marked first: were the transition to throw part-way, memory would still be stored.
        changed.add(incident);
        transition(incident, 'resolve', 'vigil', nowMs, events, 'all alerts resolved');
      } else if (
        incident.status === 'resolved' &&
        (options.autoCloseAfterMs ?? 0) > 0 &&
        incident.resolvedAtMs !== null &&
        nowMs >= incident.resolvedAtMs + options.autoCloseAfterMs!
      ) {
        changed.add(incident);
        transition(incident, 'close', 'vigil', nowMs, events, 'resolved long enough');
      } else if (isOpen(incident.status) && slaDuePassed(incident, nowMs)) {
        // Recompute only once a stored due time has passed: a running pause may have moved it.
        if (refreshSla(incident, nowMs, events)) changed.add(incident);
      }
      // Levels reached by time without acknowledgement (breach levels come with the breach above).
      if ((incident.escalationLevel < escalationLevels.length || options.escalationRepeat) && escalate(incident, nowMs, events)) changed.add(incident);
      if (incident.status === 'closed') forget(incident);
    }
  }

  /** Sweeps run one after another (see sweep()): the last one queued, and how many wait or run. */
  let lastSweep: Promise<void> = Promise.resolve();
  let sweepsQueued = 0;

  /** Runs `task` after the sweeps queued before it, and before those queued after. */
  function inLineWithSweeps(task: () => Promise<void>): Promise<void> {
    const run = lastSweep.then(task);
    lastSweep = run.catch(() => undefined);
    return run;
  }

  const service: IncidentService = {
    async onAlertsChanged(states) {
      const nowMs = clock.nowMs();
      const events: IncidentEvent[] = [];
      const changed = new Set<Incident>();
      /**
       * Incidents that alerts joined: re-prioritised once each after the batch, not per
       * joining alert (with support hours each pass walks the calendar: a 5,000-alert body
       * into one incident took 7.2 s, measured in review).
       */
      const grown = new Set<Incident>();
      for (const alert of states) {
        const memberOf = incidentOfAlert.get(alert.fingerprint);
        const member = memberOf ? incidents.get(memberOf) : undefined;
        if (alert.status === 'firing' && member && isOpen(member.status)) {
          // The common case (every re-send of a firing member): no group key needed.
          firingOf(member.id).add(alert.fingerprint);
          if (member.allAlertsResolvedAtMs !== null) {
            member.allAlertsResolvedAtMs = null;
            changed.add(member);
          }
          if (changeMemberSeverity(member, alert, nowMs, events)) changed.add(member);
          continue;
        }
        const { key, values, alone } = groupKeyOf(alert, rule);
        if (alert.status === 'firing') {
          const openId = openByGroup.get(key);
          const target = openId ? incidents.get(openId) : undefined;
          if (target) {
            // An alert once in another incident may be in this one already (a person reopened
            // it): the membership test walks the members, so only for such alerts.
            if (memberOf === undefined) join(target, alert, values, nowMs, events);
            else addMember(target, alert, values, nowMs, events);
            grown.add(target);
            changed.add(target);
            continue;
          }
          const waiting = pending.get(key) ?? new Map<string, number>();
          // When it was last seen firing: now, for a change just received; at a restart's
          // re-correlation, before the restart, so alerts that fired further apart than the
          // window do not count as firing together.
          waiting.set(alert.fingerprint, Math.min(alert.lastSeenAtMs, nowMs));
          for (const [fp, at] of waiting) if (at < nowMs - rule.windowMs || options.alertState(fp)?.status !== 'firing') waiting.delete(fp);
          pending.set(key, waiting);
          // An alert alone in its group (none of the grouping labels) cannot wait for others.
          if (waiting.size < (alone ? 1 : rule.minFiringAlerts)) continue;
          const recurring = recurrenceOf(key, nowMs);
          if (recurring) transition(recurring, 'reopen', 'vigil', nowMs, events, 'its alerts fire again');
          const incident = recurring ?? open(key, alert, values, nowMs, events);
          for (const fp of waiting.keys()) {
            const state = options.alertState(fp) ?? (fp === alert.fingerprint ? alert : undefined);
            if (state) addMember(incident, state, groupKeyOf(state, rule).values, nowMs, events);
          }
          pending.delete(key);
          grown.add(incident);
          changed.add(incident);
        } else {
          pending.get(key)?.delete(alert.fingerprint);
          if (!member || !isOpen(member.status)) continue;
          const firing = firingOf(member.id);
          // Only the resolve of an alert that was firing counts: a repeated resolved notice
          // must not auto-resolve an incident a person reopened after its alerts resolved.
          if (!firing.delete(alert.fingerprint)) continue;
          if (firing.size === 0 && member.allAlertsResolvedAtMs === null) {
            member.allAlertsResolvedAtMs = nowMs;
            changed.add(member);
          }
        }
      }
      for (const incident of grown) reprioritise(incident, nowMs, events);
      if (changed.size > 0 || events.length > 0) await persist(changed, events);
      // A zero hold resolves at once: "a resolve is visible immediately".
      if (options.autoResolveHoldMs === 0 && [...changed].some((i) => i.allAlertsResolvedAtMs !== null)) await service.sweep();
    },

    async recorrelate(firing) {
      const outside = firing.filter((alert) => {
        const memberOf = incidentOfAlert.get(alert.fingerprint);
        const incident = memberOf === undefined ? undefined : incidents.get(memberOf);
        return !(incident && isOpen(incident.status));
      });
      // The journal a previous process left is inserted before start; this waits for rows this
      // one stored since, and only when there is something to ask.
      if (outside.length > 0) await batcher.whenInserted(['incident_alerts_v1']);
      const joined = await alertsJoinedSince(
        options.store,
        outside.map((alert) => ({ fingerprint: alert.fingerprint, sinceMs: alert.startsAtMs })),
      );
      if (joined.size > 0) logger.info({ alerts: joined.size }, 'firing alerts whose incident a person resolved or closed left as they are');
      await service.onAlertsChanged(firing.filter((alert) => !joined.has(alert.fingerprint)));
    },

    sweep() {
      // One sweep at a time, whoever asks (the timer, or a zero hold after alerts changed):
      // two over one slow store would both take unsaved writes off the same queue.
      sweepsQueued++;
      const timed = async () => {
        const started = performance.now();
        try {
          await sweepOnce();
        } finally {
          options.metrics?.swept((performance.now() - started) / 1000);
        }
      };
      return inLineWithSweeps(timed).finally(() => sweepsQueued--);
    },
    async act(id, action, actor, note) {
      const incident = await requireIncident(id, action);
      // A retry of an action whose first attempt failed to store: already in memory.
      if (incident.status === statusAfter(action) && (await storeWaitingChange(id))) return incident;
      const events: IncidentEvent[] = [];
      transition(incident, action, actor, clock.nowMs(), events, note);
      await persist([incident], events);
      return incident;
    },

    async acknowledgeAlerts(fingerprints, actor) {
      const nowMs = clock.nowMs();
      const acknowledged = new Set<Incident>();
      const events: IncidentEvent[] = [];
      const already = new Set<string>();
      for (const fp of fingerprints) {
        // PagerDuty ignores an acknowledge of a resolved alert: its incident may be someone else's concern by now.
        if (options.alertState(fp)?.status !== 'firing') continue;
        const id = incidentOfAlert.get(fp);
        const incident = id === undefined ? undefined : incidents.get(id);
        if (!incident || acknowledged.has(incident)) continue;
        if (!applyTransition(incident.status, 'acknowledge').ok) {
          if (incident.status === 'acknowledged') already.add(incident.id);
          continue;
        }
        transition(incident, 'acknowledge', actor, nowMs, events, 'acknowledged by its sender');
        acknowledged.add(incident);
      }
      // A sender's retry of an acknowledge whose store failed: the change waits in memory, store it now.
      for (const id of already) await storeWaitingChange(id);
      if (acknowledged.size > 0) await persist(acknowledged, events);
    },

    async assign(id, assignee, actor) {
      const incident = await requireUnclosedIncident(id, 'assign');
      // Assigning the assignee again changes nothing: a retry stores its first attempt, if that waits.
      if (incident.assignee === assignee) {
        await storeWaitingChange(id);
        return incident;
      }
      const nowMs = clock.nowMs();
      const events: IncidentEvent[] = [{ incidentId: id, atMs: nowMs, actor, kind: 'assigned', detail: { from: incident.assignee, to: assignee } }];
      incident.assignee = assignee;
      await persist([incident], events);
      return incident;
    },

    async pause(id, actor, reason, resume) {
      const incident = await requireIncident(id, resume ? 'resume' : 'pause');
      const nowMs = clock.nowMs();
      const running = incident.pauses.at(-1)?.endMs === null ? incident.pauses.at(-1) : undefined;
      if (!isOpen(incident.status)) throw new AppError('INCIDENT_TRANSITION_ILLEGAL', `cannot ${resume ? 'resume' : 'pause'} a ${incident.status} incident`, { httpStatus: 409 });
      if (resume && !running) throw new AppError('INCIDENT_TRANSITION_ILLEGAL', 'the incident is not paused; allowed: pause', { httpStatus: 409 });
      if (!resume && running) throw new AppError('INCIDENT_TRANSITION_ILLEGAL', 'the incident is already paused; allowed: resume', { httpStatus: 409 });
      if (running) running.endMs = nowMs;
      else incident.pauses.push({ startMs: nowMs, endMs: null });
      const events: IncidentEvent[] = [{ incidentId: id, atMs: nowMs, actor, kind: resume ? 'resumed' : 'paused', detail: reason ? { reason } : {} }];
      refreshSla(incident, nowMs, events);
      await persist([incident], events);
      return incident;
    },

    async comment(id, text, author) {
      const incident = await requireUnclosedIncident(id, 'comment on');
      await persist([], [{ incidentId: id, atMs: clock.nowMs(), actor: author, kind: 'comment', detail: { text } }], 'caller');
      return incident;
    },

    async get(id) {
      const incident = incidents.get(id) ?? (await findIncident(options.store, id));
      if (!incident) throw new AppError('INCIDENT_NOT_FOUND', `no incident ${id}`, { httpStatus: 404 });
      // Memory holds firing and recently resolved alerts; the others are read from storage.
      const held = new Map<string, AlertState>();
      const notHeld: string[] = [];
      for (const fp of incident.alertFingerprints) {
        const state = options.alertState(fp);
        if (state) held.set(fp, state);
        else notHeld.push(fp);
      }
      if (notHeld.length > 0) {
        await batcher.whenInserted(READ_TABLES.alertList);
        for (const state of await loadAlertsByFingerprint(options.store, notHeld)) held.set(state.fingerprint, state);
      }
      const alerts = incident.alertFingerprints.map((fp) => held.get(fp)).filter((a): a is AlertState => a !== undefined);
      return { incident, alerts, timeline: await loadTimeline(options.store, id) };
    },

    async list(filter) {
      if (filter.status === 'open' || filter.status === 'resolved') return listHeld(filter);
      await batcher.whenInserted(READ_TABLES.incidentList);
      return listIncidents(options.store, filter);
    },

    held: () => incidents.values(),

    async statistics(fromMs, toMs) {
      const stored = await loadIncidentsForPeriod(options.store, fromMs, toMs);
      const times = stored.map((i) => ({
        serviceIds: i.services.length > 0 ? i.services : ['(none)'],
        priority: i.priority,
        createdAtMs: i.createdAtMs,
        ...(i.acknowledgedAtMs !== null ? { acknowledgedAtMs: i.acknowledgedAtMs } : {}),
        ...(i.resolvedAtMs !== null ? { resolvedAtMs: i.resolvedAtMs } : {}),
        responseBreached: i.responseBreached,
        resolutionBreached: i.resolutionBreached,
      }));
      return computeResponseStatistics(times, { fromMs, toMs });
    },

    async start() {
      // Closed incidents too: a recurrence links to its predecessor also across a restart.
      for (const { groupKey, id, createdAtMs } of await loadLatestIncidentPerGroup(options.store, clock.nowMs() - RECURRENCE_LINK_MS)) {
        lastByGroup.set(groupKey, { id, createdAtMs });
      }
      const unclosed = await loadUnclosedIncidents(options.store);
      // Members the alert service forgot (resolved long ago) still count with their last stored severity.
      const forgotten = unclosed.filter((i) => i.alertFingerprints.some((fp) => options.alertState(fp) === undefined));
      const storedSeverity = await loadMemberSeverities(options.store, forgotten.map((i) => i.id));
      // Oldest first: an alert in two unclosed incidents (its group fired again after the first
      // resolved) belongs to the newer one, as it did before the restart; so does its group.
      unclosed.sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (const incident of unclosed) {
        incidents.set(incident.id, incident);
        const latest = lastByGroup.get(incident.groupKey);
        if (!latest || latest.createdAtMs < incident.createdAtMs) lastByGroup.set(incident.groupKey, { id: incident.id, createdAtMs: incident.createdAtMs });
        if (isOpen(incident.status)) openByGroup.set(incident.groupKey, incident.id);
        for (const fp of incident.alertFingerprints) {
          incidentOfAlert.set(fp, incident.id);
          const state = options.alertState(fp);
          if (state?.status === 'firing') firingOf(incident.id).add(fp);
          countMember(incident, fp, state?.severity ?? storedSeverity.get(fp) ?? 'warning');
        }
      }
      if (incidents.size > 0) logger.info({ incidents: incidents.size }, 'incidents rebuilt from storage');
      // Members are the truth: a crash between storing a member row and its incident's row
      // (two journal files, one commit) leaves a stale count. Repair and store it.
      const stale = unclosed.filter((i) => i.alertCount !== i.alertFingerprints.length);
      for (const incident of stale) incident.alertCount = incident.alertFingerprints.length;
      if (stale.length > 0) {
        await persist(stale, []);
        logger.warn({ incidents: stale.length }, 'incident alert counts repaired from their members');
      }
      // A crash between storing an alert's resolve and storing what it did to its incident
      // leaves an open incident whose alerts have all resolved, with nothing left to tell it
      // so: mark it, from the latest resolve known, and the sweep auto-resolves it after the
      // hold. Only for resolves after its last pause ended: a reopen is stored as a pause
      // from the resolve to the reopen, and a person who reopened an incident after its
      // alerts resolved keeps it open until they fire and resolve again.
      const unmarked = unclosed.filter((incident) => {
        if (!isOpen(incident.status) || incident.allAlertsResolvedAtMs !== null || incident.alertFingerprints.length === 0 || firingOf(incident.id).size > 0) return false;
        const latestResolve = incident.alertFingerprints.reduce((latest, fp) => Math.max(latest, options.alertState(fp)?.resolvedAtMs ?? 0), 0);
        const lastPauseEnd = incident.pauses.reduce((latest, p) => Math.max(latest, p.endMs ?? Number.POSITIVE_INFINITY), Number.NEGATIVE_INFINITY);
        if (latestResolve <= lastPauseEnd) return false;
        incident.allAlertsResolvedAtMs = latestResolve || clock.nowMs();
        return true;
      });
      if (unmarked.length > 0) {
        await persist(unmarked, []);
        logger.warn({ incidents: unmarked.length }, 'open incidents whose alerts had all resolved marked for auto-resolve');
      }
      sweeper = setInterval(() => {
        // A slow store (an fsync stall) must not pile up sweeps behind it.
        if (sweepsQueued > 0) return;
        service.sweep().catch((error: unknown) => logger.error({ err: error }, 'incident sweep failed; will retry'));
      }, 1_000);
      sweeper.unref();
    },

    async close() {
      if (sweeper) clearInterval(sweeper);
      await storeUnsaved().catch((error: unknown) => logger.error({ err: error, writes: unsaved.length }, 'incident changes not stored at stop'));
    },
  };
  return service;
}
