/**
 * The ITIL / ISO/IEC 20000-1 §8.6.1 incident lifecycle as a pure state machine:
 * `new → acknowledged → in_progress → resolved → closed`, plus `reopened`.
 *
 * Legal transitions (everything else is illegal and answered 409 by the API):
 *
 * | action      | from                                   | to           |
 * | ----------- | -------------------------------------- | ------------ |
 * | acknowledge | new, reopened                          | acknowledged |
 * | start       | new, acknowledged, reopened            | in_progress  |
 * | resolve     | new, acknowledged, in_progress, reopened | resolved   |
 * | close       | resolved                               | closed       |
 * | reopen      | resolved                               | reopened     |
 *
 * - `reopened` is an open state like `new`: it needs acknowledging again, and may be worked
 *   on or resolved directly.
 * - `resolve` is legal from every open state because auto-resolve (all alerts resolved after
 *   the hold time) happens without anyone having acknowledged.
 * - `closed` is terminal. Recurrence after closure is a new incident linked to its
 *   predecessor (Keep, PagerDuty, ServiceNow past `active_interval`); reopening a resolved
 *   incident when its group fires again is a policy of the correlation core
 *   (`incidents.reopenWindowMs`), which also closes resolved incidents after
 *   `incidents.autoCloseAfterMs`.
 * - Repeating the current state (acknowledge an acknowledged incident) is illegal here; a
 *   service that wants idempotent retries compares the status before calling.
 */

export const INCIDENT_STATUSES = ['new', 'acknowledged', 'in_progress', 'resolved', 'closed', 'reopened'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const INCIDENT_ACTIONS = ['acknowledge', 'start', 'resolve', 'close', 'reopen'] as const;
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number];

export type TransitionResult =
  | { ok: true; next: IncidentStatus }
  | { ok: false; allowed: IncidentAction[]; detail: string };

/** Per action: the states it is legal from, and the state it leads to. */
const TRANSITIONS: Readonly<Record<IncidentAction, { from: readonly IncidentStatus[]; to: IncidentStatus }>> = {
  acknowledge: { from: ['new', 'reopened'], to: 'acknowledged' },
  start: { from: ['new', 'acknowledged', 'reopened'], to: 'in_progress' },
  resolve: { from: ['new', 'acknowledged', 'in_progress', 'reopened'], to: 'resolved' },
  close: { from: ['resolved'], to: 'closed' },
  reopen: { from: ['resolved'], to: 'reopened' },
};

const OPEN_STATUSES: ReadonlySet<IncidentStatus> = new Set(['new', 'acknowledged', 'in_progress', 'reopened']);

/** True while the incident still needs work (not resolved, not closed); SLA timers run only then. */
export function isOpen(status: IncidentStatus): boolean {
  return OPEN_STATUSES.has(status);
}

/** The state `action` leads to. */
export function statusAfter(action: IncidentAction): IncidentStatus {
  return TRANSITIONS[action].to;
}

/** The actions legal from `status`, in `INCIDENT_ACTIONS` order; empty for `closed`. */
export function allowedActions(status: IncidentStatus): IncidentAction[] {
  return INCIDENT_ACTIONS.filter((action) => TRANSITIONS[action].from.includes(status));
}

/**
 * Applies `action` to an incident in `current`. Never throws: an illegal transition is a value
 * whose `detail` names the state and the legal actions, e.g.
 * `cannot close an incident that is in_progress; allowed: resolve` (the service turns it into
 * `INCIDENT_TRANSITION_ILLEGAL`, 409).
 */
export function applyTransition(current: IncidentStatus, action: IncidentAction): TransitionResult {
  const transition = TRANSITIONS[action];
  if (transition.from.includes(current)) return { ok: true, next: transition.to };
  const allowed = allowedActions(current);
  return {
    ok: false,
    allowed,
    detail: `cannot ${action} an incident that is ${current}; allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none'}`,
  };
}
