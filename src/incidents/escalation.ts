/**
 * Escalation policy, pure: which levels an incident has newly reached by `nowMs`.
 *
 * A policy is an ordered list of levels (PagerDuty's escalation policy, reduced). A level is
 * reached when its condition holds; the incident's level is the highest reached and does not
 * go down while it stays open, so a lower level whose condition comes true later is not told
 * any more (with `[10 min, 30 min, breach]`, an incident acknowledged at 20 min and breaching
 * its resolution target later goes from level 1 to level 3). A level's condition is either or both of:
 * - `afterMs`: nobody has taken the incident (it is `new`, or `reopened` and not acknowledged
 *   since) `afterMs` after it opened: its creation, or its last reopening (wall clock;
 *   support hours and pauses do not apply: they are the SLA's business, not paging's);
 * - `onBreach`: a response or resolution target is breached (the incident's `slaBreached`),
 *   and it was not already in breach when last reopened (that breach was told).
 * Nothing escalates once the incident is resolved or closed; acknowledgement (or `start`)
 * stops the `afterMs` conditions, while a later resolution breach still reaches an
 * `onBreach` level (ITIL's hierarchical escalation: management hears of breaches).
 * A reopen starts the policy over (the core sets the level to 0): the incident needs someone
 * to take it again, so its `afterMs` levels are reached again from the reopening; a breach
 * told before the reopen is not told again (`breachedAtReopen`). A `reopened` incident
 * stored before reopenings were (no `reopenedAtMs`) escalates as it did then: from its
 * creation, and only if never acknowledged.
 *
 * Repeat (optional, PagerDuty's "repeat if no one acknowledges"): while nobody has taken the
 * incident, the highest `afterMs` level is told again `intervalMs` after it was last told
 * (`escalationToldAtMs`: when it was reached, then each reminder), at most `times` times per
 * opening (a reopen starts over). A level never told (a breach reached a higher level first,
 * and levels are never gone back to) has no reminders. After downtime one reminder, then the
 * interval again: a reminder, not a backlog.
 */
import type { Incident } from './incident.js';
import { isOpen } from './incident-lifecycle.js';

export interface EscalationLevel {
  /** Reached once the incident is this long past its creation (or last reopening) with nobody having taken it, ms. */
  afterMs?: number;
  /** Reached once a response or resolution target is breached while the incident is open. */
  onBreach?: boolean;
  /** Notification routes (by name) told, with kind `escalated`, when the level is reached. */
  routes: readonly string[];
}

/** Telling the highest `afterMs` level again while nobody takes the incident. */
export interface EscalationRepeat {
  intervalMs: number;
  /** Repeats per opening of the incident, at most. */
  times: number;
}

export const ESCALATION_REASONS = ['not_acknowledged', 'sla_breached'] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

export interface EscalationStep {
  /** 1-based: `levels[0]` is level 1; 0 on an incident means not escalated. */
  level: number;
  reason: EscalationReason;
  /** The level's `afterMs`, when that is what reached it. */
  afterMs?: number;
  routes: readonly string[];
}

/**
 * The levels above `incident.escalationLevel` whose condition holds at `nowMs`, in order
 * (levels between them whose condition does not hold are skipped); empty when none.
 * Idempotent: once the caller records the last step's level, the same call returns nothing.
 */
export function dueEscalations(
  incident: Pick<Incident, 'status' | 'createdAtMs' | 'acknowledgedAtMs' | 'reopenedAtMs' | 'breachedAtReopen' | 'slaBreached' | 'escalationLevel'>,
  levels: readonly EscalationLevel[],
  nowMs: number,
): EscalationStep[] {
  const steps: EscalationStep[] = [];
  if (!isOpen(incident.status)) return steps;
  const untaken = isUntaken(incident);
  const openedAtMs = openedAtMsOf(incident);
  const newBreach = incident.slaBreached && !incident.breachedAtReopen;
  for (let index = incident.escalationLevel; index < levels.length; index++) {
    const level = levels[index]!;
    const unacknowledged = level.afterMs !== undefined && untaken && nowMs >= openedAtMs + level.afterMs;
    if (unacknowledged) steps.push({ level: index + 1, reason: 'not_acknowledged', afterMs: level.afterMs!, routes: level.routes });
    else if (level.onBreach === true && newBreach) steps.push({ level: index + 1, reason: 'sla_breached', routes: level.routes });
  }
  return steps;
}

type Taking = Pick<Incident, 'status' | 'createdAtMs' | 'acknowledgedAtMs' | 'reopenedAtMs'>;

/** Nobody has taken the incident since it opened: acknowledge (and start) move it out of `new` and `reopened`. */
function isUntaken(incident: Taking): boolean {
  return incident.status === 'new' || (incident.status === 'reopened' && (incident.reopenedAtMs !== null || incident.acknowledgedAtMs === null));
}

/** Where `afterMs` counts from: the creation, or the last reopening. */
function openedAtMsOf(incident: Taking): number {
  return incident.reopenedAtMs ?? incident.createdAtMs;
}

/** The 1-based level of the highest `afterMs` level, the one repeats tell; 0 when no level has `afterMs`. */
export function repeatedLevelOf(levels: readonly EscalationLevel[]): number {
  return levels.findLastIndex((level) => level.afterMs !== undefined) + 1;
}

/**
 * The reminder of the highest `afterMs` level due at `nowMs` (`repeat`: its 1-based count), or
 * null. Idempotent once the caller records the count and the time it was told.
 */
export function dueRepeat(
  incident: Taking & Pick<Incident, 'escalationLevel' | 'escalationRepeats' | 'escalationToldAtMs'>,
  levels: readonly EscalationLevel[],
  repeat: EscalationRepeat | undefined,
  nowMs: number,
): (EscalationStep & { repeat: number }) | null {
  if (!repeat || !isOpen(incident.status) || !isUntaken(incident)) return null;
  if (incident.escalationToldAtMs === null || incident.escalationRepeats >= repeat.times || nowMs < incident.escalationToldAtMs + repeat.intervalMs) return null;
  const repeated = repeatedLevelOf(levels);
  const level = levels[repeated - 1];
  // Not reached (the policy grew since it was told): its people are paged when it is, not before.
  if (!level || incident.escalationLevel < repeated) return null;
  return { level: repeated, reason: 'not_acknowledged', afterMs: level.afterMs!, routes: level.routes, repeat: incident.escalationRepeats + 1 };
}

/**
 * Problems of a policy, as `levels.<i>…: reason` (0-based, as config paths are), given the
 * configured route names; empty when valid.
 */
export function validateEscalationLevels(levels: readonly EscalationLevel[], routeNames: readonly string[]): string[] {
  const problems: string[] = [];
  let previousAfterMs: number | undefined;
  levels.forEach((level, index) => {
    if (level.afterMs === undefined && level.onBreach !== true) problems.push(`levels.${index}: needs afterMs or onBreach: true (what reaches level ${index + 1})`);
    if (level.afterMs !== undefined) {
      if (previousAfterMs !== undefined && level.afterMs <= previousAfterMs) {
        problems.push(`levels.${index}.afterMs: must be greater than the previous level's afterMs (${previousAfterMs}), got ${level.afterMs}`);
      }
      previousAfterMs = level.afterMs;
    }
    for (const route of level.routes) {
      if (!routeNames.includes(route)) {
        problems.push(`levels.${index}.routes: unknown route ${JSON.stringify(route)}; configured routes (notifications.routes): ${routeNames.length > 0 ? routeNames.join(', ') : 'none'}`);
      }
    }
  });
  return problems;
}
