import type { IncidentStatus } from './incident-lifecycle.js';
import type { Severity } from './alert.js';
import type { Priority } from './priority.js';

/** An incident as the core holds it; the public JSON shape is api.md's `Incident`. */
export interface Incident {
  id: string;
  title: string;
  status: IncidentStatus;
  priority: Priority;
  /** The worst severity among the member alerts (as each was last reported firing): the urgency behind `priority`. */
  severity: Severity;
  /** Escalation policy level reached, 1-based; 0 = not escalated. Never goes down. */
  escalationLevel: number;
  /** The grouping rule's name and the label values that formed the group. */
  groupKey: string;
  services: string[];
  cis: string[];
  /** Fingerprints of member alerts, in joining order (loaded for incidents in memory and single reads, not for lists). */
  alertFingerprints: string[];
  /** Number of member alerts (always set, also where the fingerprints are not loaded). */
  alertCount: number;
  createdAtMs: number;
  acknowledgedAtMs: number | null;
  resolvedAtMs: number | null;
  closedAtMs: number | null;
  /** When it was last reopened (null: never): escalation starts over from there. */
  reopenedAtMs: number | null;
  /** Whether it was in breach when last reopened: the breach levels were told then, not again. */
  breachedAtReopen: boolean;
  /** Repeats of the highest `afterMs` escalation level told since the incident opened or was last reopened (escalation.ts). */
  escalationRepeats: number;
  /** When that level was last told (reached, or reminded); null: not since the incident opened or was last reopened. */
  escalationToldAtMs: number | null;
  assignee: string | null;
  responseDueAtMs: number;
  resolutionDueAtMs: number;
  /** A response or resolution target was breached (either of the two below). */
  slaBreached: boolean;
  /** Acknowledged after the response due time, or still not acknowledged past it. Never goes back. */
  responseBreached: boolean;
  /** Resolved after the resolution due time, or still open past it. Never goes back. */
  resolutionBreached: boolean;
  /** The earlier incident of the same group, when this one opened after it resolved. */
  relatedIncidentId: string | null;
  /** When every member alert had resolved; the incident auto-resolves a hold time later. Null while any fires. */
  allAlertsResolvedAtMs: number | null;
  /** Waiting on a third party: these intervals stop the SLA clocks. The last may still run (endMs null). */
  pauses: { startMs: number; endMs: number | null }[];
}

/** One entry of an incident's timeline: who did what, when. */
export interface IncidentEvent {
  incidentId: string;
  atMs: number;
  actor: string;
  kind:
    | 'created'
    | 'alert_joined'
    | 'services_joined'
    | 'transition'
    | 'priority_changed'
    | 'severity_changed'
    | 'assigned'
    | 'comment'
    | 'sla_breached'
    | 'escalated'
    | 'paused'
    | 'resumed';
  detail: Record<string, unknown>;
}

const isoOrAbsent = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

/** api.md's `Incident` shape: what the API answers and notifications carry. */
export function toIncidentJson(incident: Incident) {
  return {
    id: incident.id,
    title: incident.title,
    status: incident.status,
    priority: incident.priority,
    severity: incident.severity,
    services: incident.services,
    cis: incident.cis,
    alertCount: incident.alertCount,
    createdAt: isoOrAbsent(incident.createdAtMs),
    acknowledgedAt: isoOrAbsent(incident.acknowledgedAtMs),
    resolvedAt: isoOrAbsent(incident.resolvedAtMs),
    closedAt: isoOrAbsent(incident.closedAtMs),
    reopenedAt: isoOrAbsent(incident.reopenedAtMs),
    responseDueAt: isoOrAbsent(incident.responseDueAtMs),
    resolutionDueAt: isoOrAbsent(incident.resolutionDueAtMs),
    slaBreached: incident.slaBreached,
    responseBreached: incident.responseBreached,
    resolutionBreached: incident.resolutionBreached,
    escalationLevel: incident.escalationLevel,
    paused: incident.pauses.at(-1)?.endMs === null,
    ...(incident.assignee ? { assignee: incident.assignee } : {}),
    ...(incident.relatedIncidentId ? { relatedIncidentId: incident.relatedIncidentId } : {}),
  };
}
