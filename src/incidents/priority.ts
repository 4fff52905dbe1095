/**
 * ITIL priority: P1..P4 = lookup(impact, urgency) in a 3×3 matrix (ServiceNow's default
 * priority lookup, ../../../shared/research/alerts.md §7), computed, never typed by hand.
 *
 * - Impact (effect on the business) comes from the affected services: the highest
 *   criticality among them maps to a level (`impactByCriticality`), then one step up (capped
 *   at `high`) when at least `escalateImpactAtServiceCount` services are affected, because an
 *   outage that spreads across services touches more of the business than any one of them.
 *   No affected service (an alert on a CI outside the catalog) is `low` impact.
 * - Urgency (how long resolution can wait) comes from the worst alert severity
 *   (`urgencyBySeverity`); no severity at all is `low` urgency.
 *
 * Pure: no I/O. The matrix is configurable; `validatePriorityMatrix` checks a config value.
 */
import { SEVERITIES, type Severity } from './alert.js';
import { deepFreeze, isRecord } from '../shared/objects.js';

export const CRITICALITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Criticality = (typeof CRITICALITIES)[number];


/** ITIL's three levels, used for both impact and urgency. */
export const LEVELS = ['high', 'medium', 'low'] as const;
export type Level = (typeof LEVELS)[number];
export type Impact = Level;
export type Urgency = Level;

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface PriorityMatrix {
  impactByCriticality: Record<Criticality, Impact>;
  urgencyBySeverity: Record<Severity, Urgency>;
  /** Number of affected services (≥ 2) from which impact rises one level; null disables. */
  escalateImpactAtServiceCount: number | null;
  /** Rows are impact, columns urgency. */
  priorities: Record<Impact, Record<Urgency, Priority>>;
}

export interface PriorityInput {
  /** One entry per distinct affected service: the caller deduplicates services. */
  serviceCriticalities: Criticality[];
  /** Severities of the incident's alerts (duplicates are fine). */
  severities: Severity[];
}

export interface PriorityResult {
  priority: Priority;
  impact: Impact;
  urgency: Urgency;
  /** One human-readable sentence for the timeline, e.g. why an incident is P1. */
  reason: string;
}

/** Frozen all the way down: it is shared by every caller that omits a matrix. */
export const DEFAULT_PRIORITY_MATRIX: PriorityMatrix = deepFreeze({
  impactByCriticality: {
    // A business-critical service down is enterprise-wide impact (ITIL 1-High).
    critical: 'high',
    // An important service affects a department or a customer group (2-Medium).
    high: 'medium',
    // Internal and supporting services affect few users (3-Low) unless the count rule lifts them.
    medium: 'low',
    low: 'low',
  },
  urgencyBySeverity: {
    // X.733 critical: service-affecting, immediate action.
    critical: 'high',
    // X.733 major / minor: action needed soon, before the fault grows.
    major: 'medium',
    minor: 'medium',
    // Potential fault or information: the fix can wait for normal work.
    warning: 'low',
    info: 'low',
  },
  // Three services at once is a spreading outage, not a local fault.
  escalateImpactAtServiceCount: 3,
  priorities: {
    // ServiceNow's default lookup: the diagonal steps down one priority per level, and
    // anything low on both or medium/low is P4 (a 3×3 into four codes).
    high: { high: 'P1', medium: 'P2', low: 'P3' },
    medium: { high: 'P2', medium: 'P3', low: 'P4' },
    low: { high: 'P3', medium: 'P4', low: 'P4' },
  },
});


const CRITICALITY_RANK: Readonly<Record<Criticality, number>> = { critical: 0, high: 1, medium: 2, low: 3 };
const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 };

/** The most severe of `values` by `rank` (lower rank = more severe); undefined when empty. */
function worst<T extends string>(values: readonly T[], rank: Readonly<Record<T, number>>): T | undefined {
  let best: T | undefined;
  for (const value of values) if (best === undefined || rank[value] < rank[best]) best = value;
  return best;
}

function raise(level: Level): Level {
  return level === 'low' ? 'medium' : 'high';
}

/**
 * Computes priority, impact and urgency from the affected services and alert severities with
 * `matrix` (default `DEFAULT_PRIORITY_MATRIX`). Deterministic and total: empty inputs give
 * low impact / low urgency.
 */
export function computePriority(input: PriorityInput, matrix: PriorityMatrix = DEFAULT_PRIORITY_MATRIX): PriorityResult {
  const serviceCount = input.serviceCriticalities.length;
  const topCriticality = worst(input.serviceCriticalities, CRITICALITY_RANK);
  const baseImpact: Impact = topCriticality === undefined ? 'low' : matrix.impactByCriticality[topCriticality];
  const threshold = matrix.escalateImpactAtServiceCount;
  const escalated = threshold !== null && serviceCount >= threshold && baseImpact !== 'high';
  const impact = escalated ? raise(baseImpact) : baseImpact;

  const topSeverity = worst(input.severities, SEVERITY_RANK);
  const urgency: Urgency = topSeverity === undefined ? 'low' : matrix.urgencyBySeverity[topSeverity];
  const priority = matrix.priorities[impact][urgency];

  const impactWhy =
    topCriticality === undefined
      ? 'no affected service'
      : `highest service criticality ${topCriticality}, ${serviceCount} service${serviceCount === 1 ? '' : 's'} affected` +
        (escalated ? `, raised from ${baseImpact} at ${threshold} or more services` : '');
  const urgencyWhy = topSeverity === undefined ? 'no alert severity' : `worst alert severity ${topSeverity}`;
  return { priority, impact, urgency, reason: `${priority}: impact ${impact} (${impactWhy}), urgency ${urgency} (${urgencyWhy})` };
}

export type PriorityMatrixValidation = { ok: true; matrix: PriorityMatrix } | { ok: false; problems: string[] };


function oneOf(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/**
 * Checks that every key of `record` (at `path`) is in `keys`, is present, and holds one of
 * `allowed`; pushes one problem per bad cell, naming it (`priorities.high.low`).
 */
function checkEnumRecord(
  record: unknown,
  path: string,
  keys: readonly string[],
  check: (value: unknown, cellPath: string) => void,
  problems: string[],
): void {
  if (!isRecord(record)) {
    problems.push(`${path}: must be an object with keys ${oneOf(keys)}`);
    return;
  }
  for (const key of Object.keys(record)) {
    if (!keys.includes(key)) problems.push(`${path}.${key}: unknown key; valid keys are ${oneOf(keys)}`);
  }
  for (const key of keys) {
    if (!(key in record)) problems.push(`${path}.${key}: missing`);
    else check(record[key], `${path}.${key}`);
  }
}

function checkValue(allowed: readonly string[], problems: string[]) {
  return (value: unknown, cellPath: string): void => {
    if (typeof value !== 'string' || !allowed.includes(value)) {
      problems.push(`${cellPath}: must be one of ${oneOf(allowed)}, got ${JSON.stringify(value) ?? String(value)}`);
    }
  };
}

const MATRIX_KEYS = ['impactByCriticality', 'urgencyBySeverity', 'escalateImpactAtServiceCount', 'priorities'] as const;

/**
 * Validates a priority matrix read from configuration. Rejects unknown keys and lists every
 * problem, each naming its cell (`priorities.medium.high: must be one of "P1", ...`).
 */
export function validatePriorityMatrix(value: unknown): PriorityMatrixValidation {
  const problems: string[] = [];
  if (!isRecord(value)) return { ok: false, problems: [`matrix: must be an object with keys ${oneOf(MATRIX_KEYS)}`] };
  for (const key of Object.keys(value)) {
    if (!(MATRIX_KEYS as readonly string[]).includes(key)) {
      problems.push(`${key}: unknown key; valid keys are ${oneOf(MATRIX_KEYS)}`);
    }
  }
  checkEnumRecord(value.impactByCriticality, 'impactByCriticality', CRITICALITIES, checkValue(LEVELS, problems), problems);
  checkEnumRecord(value.urgencyBySeverity, 'urgencyBySeverity', SEVERITIES, checkValue(LEVELS, problems), problems);
  const threshold = value.escalateImpactAtServiceCount;
  if (threshold !== null && !(typeof threshold === 'number' && Number.isInteger(threshold) && threshold >= 2)) {
    problems.push(
      `escalateImpactAtServiceCount: must be an integer ≥ 2 or null, got ${JSON.stringify(threshold) ?? String(threshold)}`,
    );
  }
  checkEnumRecord(
    value.priorities,
    'priorities',
    LEVELS,
    (row, rowPath) => checkEnumRecord(row, rowPath, LEVELS, checkValue(PRIORITIES, problems), problems),
    problems,
  );
  if (problems.length > 0) return { ok: false, problems };
  // Every key and cell was checked above.
  return { ok: true, matrix: value as unknown as PriorityMatrix };
}
