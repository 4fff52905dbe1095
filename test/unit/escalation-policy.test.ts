import { describe, expect, it } from 'vitest';
import { dueEscalations, dueRepeat, repeatedLevelOf, validateEscalationLevels, type EscalationLevel } from '../../src/incidents/escalation.js';
import type { Incident } from '../../src/incidents/incident.js';

const t0 = Date.parse('2026-11-23T09:00:00Z');
const MIN = 60_000;
type Subject = Pick<Incident, 'status' | 'createdAtMs' | 'acknowledgedAtMs' | 'reopenedAtMs' | 'breachedAtReopen' | 'slaBreached' | 'escalationLevel'>;
const incident = (over: Partial<Subject> = {}): Subject => ({
  status: 'new', createdAtMs: t0, acknowledgedAtMs: null, reopenedAtMs: null, breachedAtReopen: false, slaBreached: false, escalationLevel: 0, ...over,
});
/** Acknowledged at 5 min, resolved, reopened at 2 h. */
const reopened = (over: Partial<Subject> = {}) => incident({ status: 'reopened', acknowledgedAtMs: t0 + 5 * MIN, reopenedAtMs: t0 + 120 * MIN, ...over });

// 10 min and 30 min without acknowledgement, then management on a breach.
const policy: EscalationLevel[] = [
  { afterMs: 10 * MIN, routes: ['lead'] },
  { afterMs: 30 * MIN, routes: ['manager'] },
  { onBreach: true, routes: ['director'] },
];
const levelsOf = (subject: Subject, nowMs: number, levels = policy) => dueEscalations(subject, levels, nowMs).map((s) => `${s.level}:${s.reason}`);

describe('dueEscalations', () => {
  it.each([
    ['before the first delay', incident(), t0 + 10 * MIN - 1, []],
    ['exactly at the first delay', incident(), t0 + 10 * MIN, ['1:not_acknowledged']],
    ['level 1 already reached', incident({ escalationLevel: 1 }), t0 + 29 * MIN, []],
    ['both delays passed at once (e.g. after a restart)', incident(), t0 + 31 * MIN, ['1:not_acknowledged', '2:not_acknowledged']],
    ['acknowledged: delays stop counting', incident({ status: 'acknowledged', acknowledgedAtMs: t0 + MIN }), t0 + 60 * MIN, []],
    ['in progress (start acknowledges)', incident({ status: 'in_progress', acknowledgedAtMs: t0 + MIN }), t0 + 60 * MIN, []],
    ['acknowledged at level 1, then a breach: straight to level 3', incident({ status: 'acknowledged', acknowledgedAtMs: t0 + 20 * MIN, slaBreached: true, escalationLevel: 1 }), t0 + 25 * 3_600_000, ['3:sla_breached']],
    ['breach without acknowledgement at 5 min: level 3 only, lower ones skipped', incident({ slaBreached: true }), t0 + 5 * MIN, ['3:sla_breached']],
    ['resolved: nothing escalates', incident({ status: 'resolved', slaBreached: true }), t0 + 60 * MIN, []],
    ['closed: nothing escalates', incident({ status: 'closed' }), t0 + 60 * MIN, []],
    ['reopened, stored before reopenings were, never acknowledged: delays count from creation', incident({ status: 'reopened' }), t0 + 11 * MIN, ['1:not_acknowledged']],
    ['reopened, stored before reopenings were, acknowledged once: no delays (as then)', incident({ status: 'reopened', acknowledgedAtMs: t0 + 5 * MIN }), t0 + 3 * 86_400_000, []],
    ['reopened at 2 h: delays count from the reopening', reopened(), t0 + 129 * MIN, []],
    ['reopened at 2 h, 10 min later: level 1 again', reopened(), t0 + 130 * MIN, ['1:not_acknowledged']],
    ['reopened, then acknowledged: delays stop counting', reopened({ status: 'acknowledged' }), t0 + 200 * MIN, []],
    ['reopened in breach: the breach told before is not told again', reopened({ slaBreached: true, breachedAtReopen: true }), t0 + 120 * MIN, []],
    ['reopened in breach, nobody takes it: the delays still page', reopened({ slaBreached: true, breachedAtReopen: true }), t0 + 150 * MIN, ['1:not_acknowledged', '2:not_acknowledged']],
    ['reopened, then breached: the breach level', reopened({ slaBreached: true }), t0 + 125 * MIN, ['3:sla_breached']],
    ['at the top level already', incident({ escalationLevel: 3, slaBreached: true }), t0 + 60 * MIN, []],
  ] as const)('%s', (_name, subject, nowMs, expected) => {
    expect(levelsOf(subject, nowMs)).toEqual(expected);
  });

  it('names the level, why, the delay and the routes', () => {
    expect(dueEscalations(incident(), policy, t0 + 10 * MIN)).toEqual([{ level: 1, reason: 'not_acknowledged', afterMs: 10 * MIN, routes: ['lead'] }]);
  });

  it('a level with both conditions is reached by whichever holds first', () => {
    const both: EscalationLevel[] = [{ afterMs: 60 * MIN, onBreach: true, routes: [] }];
    expect(levelsOf(incident({ slaBreached: true }), t0 + MIN, both)).toEqual(['1:sla_breached']);
    expect(levelsOf(incident(), t0 + 60 * MIN, both)).toEqual(['1:not_acknowledged']);
  });

  it('the default policy (one level on breach) escalates only on a breach', () => {
    const defaults: EscalationLevel[] = [{ onBreach: true, routes: [] }];
    expect(levelsOf(incident(), t0 + 100 * 3_600_000, defaults)).toEqual([]);
    expect(levelsOf(incident({ status: 'acknowledged', acknowledgedAtMs: t0, slaBreached: true }), t0 + 100 * 3_600_000, defaults)).toEqual(['1:sla_breached']);
  });

  it('no levels: never escalates', () => {
    expect(levelsOf(incident({ slaBreached: true }), t0 + 100 * 3_600_000, [])).toEqual([]);
  });
});

describe('validateEscalationLevels', () => {
  it('accepts a sound policy', () => {
    expect(validateEscalationLevels(policy, ['lead', 'manager', 'director'])).toEqual([]);
  });

  it('names the level and the key of each problem', () => {
    expect(
      validateEscalationLevels(
        [
          { afterMs: 30 * MIN, routes: ['lead'] },
          { afterMs: 10 * MIN, routes: ['nobody'] },
          { routes: [] },
        ],
        ['lead'],
      ),
    ).toEqual([
      'levels.1.afterMs: must be greater than the previous level\'s afterMs (1800000), got 600000',
      'levels.1.routes: unknown route "nobody"; configured routes (notifications.routes): lead',
      'levels.2: needs afterMs or onBreach: true (what reaches level 3)',
    ]);
    expect(validateEscalationLevels([{ onBreach: true, routes: ['x'] }], [])).toEqual(['levels.0.routes: unknown route "x"; configured routes (notifications.routes): none']);
  });
});

describe('dueRepeat', () => {
  // The manager (level 2, 30 min) again every 15 min while nobody takes it, twice at most.
  const repeat = { intervalMs: 15 * MIN, times: 2 };
  type RepeatSubject = Subject & { escalationRepeats: number; escalationToldAtMs: number | null };
  /** Level 2 told at 30 min, on time. */
  const told = (over: Partial<RepeatSubject> = {}): RepeatSubject => ({ ...incident({ escalationLevel: 2 }), escalationRepeats: 0, escalationToldAtMs: t0 + 30 * MIN, ...over });

  it.each([
    ['not configured', told(), t0 + 60 * MIN, undefined, null],
    ['the level never told (a breach reached level 3 first)', told({ escalationLevel: 3, slaBreached: true, escalationToldAtMs: null }), t0 + 600 * MIN, repeat, null],
    ['before an interval from when it was told', told(), t0 + 45 * MIN - 1, repeat, null],
    ['an interval after it was told', told(), t0 + 45 * MIN, repeat, 1],
    ['the first told, before the next interval', told({ escalationRepeats: 1, escalationToldAtMs: t0 + 45 * MIN }), t0 + 60 * MIN - 1, repeat, null],
    ['the second, an interval after the first', told({ escalationRepeats: 1, escalationToldAtMs: t0 + 45 * MIN }), t0 + 60 * MIN, repeat, 2],
    ['after downtime: the next one, not the backlog', told(), t0 + 600 * MIN, repeat, 1],
    ['told late (reached after downtime): counted from then', told({ escalationToldAtMs: t0 + 58 * MIN }), t0 + 60 * MIN, repeat, null],
    ['past the limit', told({ escalationRepeats: 2, escalationToldAtMs: t0 + 60 * MIN }), t0 + 600 * MIN, repeat, null],
    ['acknowledged', told({ status: 'acknowledged', acknowledgedAtMs: t0 + 40 * MIN }), t0 + 60 * MIN, repeat, null],
    ['resolved', told({ status: 'resolved' }), t0 + 60 * MIN, repeat, null],
    ['at the breach level above it, still untaken', told({ escalationLevel: 3, slaBreached: true }), t0 + 45 * MIN, repeat, 1],
    ['told, but the policy grew a higher afterMs level since, not reached yet', told({ escalationLevel: 1 }), t0 + 600 * MIN, repeat, null],
    ['reopened and untaken, told since the reopening', { ...reopened({ escalationLevel: 2 }), escalationRepeats: 0, escalationToldAtMs: t0 + 150 * MIN }, t0 + 165 * MIN, repeat, 1],
  ] as const)('%s', (_name, subject, nowMs, config, expected) => {
    expect(dueRepeat(subject as RepeatSubject, policy, config, nowMs)?.repeat ?? null).toBe(expected);
  });

  it("tells the top afterMs level's routes, and nothing without such a level", () => {
    expect(dueRepeat(told(), policy, repeat, t0 + 45 * MIN)).toEqual({ level: 2, reason: 'not_acknowledged', afterMs: 30 * MIN, routes: ['manager'], repeat: 1 });
    expect(dueRepeat(told({ escalationLevel: 1 }), [{ onBreach: true, routes: ['director'] }], repeat, t0 + 600 * MIN)).toBeNull();
    expect(repeatedLevelOf(policy)).toBe(2);
    expect(repeatedLevelOf([{ onBreach: true, routes: [] }])).toBe(0);
  });
});
