import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  CRITICALITIES,
  DEFAULT_PRIORITY_MATRIX,
  PRIORITIES,
  computePriority,
  validatePriorityMatrix,
  type Criticality,
  type Impact,
  type Priority,
  type PriorityMatrix,
  type Urgency,
} from '../../src/incidents/priority.js';
import { SEVERITIES, type Severity } from '../../src/incidents/alert.js';

describe('computePriority: the default matrix, every criticality × severity (one service)', () => {
  const expectedImpact: Record<Criticality, Impact> = { critical: 'high', high: 'medium', medium: 'low', low: 'low' };
  const expectedUrgency: Record<Severity, Urgency> = {
    critical: 'high',
    major: 'medium',
    minor: 'medium',
    warning: 'low',
    info: 'low',
  };
  // Rows: criticality critical, high, medium, low; columns: severity critical, major, minor, warning, info.
  const expected: Record<Criticality, Priority[]> = {
    critical: ['P1', 'P2', 'P2', 'P3', 'P3'],
    high: ['P2', 'P3', 'P3', 'P4', 'P4'],
    medium: ['P3', 'P4', 'P4', 'P4', 'P4'],
    low: ['P3', 'P4', 'P4', 'P4', 'P4'],
  };
  const cases = CRITICALITIES.flatMap((criticality) =>
    SEVERITIES.map((severity, column) => [criticality, severity, expected[criticality][column]] as const),
  );

  it.each(cases)('%s service, %s alert → %s', (criticality, severity, priority) => {
    const result = computePriority({ serviceCriticalities: [criticality], severities: [severity] });
    expect(result.priority).toBe(priority);
    expect(result.impact).toBe(expectedImpact[criticality]);
    expect(result.urgency).toBe(expectedUrgency[severity]);
  });

  it('is the ServiceNow 3×3 lookup', () => {
    expect(DEFAULT_PRIORITY_MATRIX.priorities).toEqual({
      high: { high: 'P1', medium: 'P2', low: 'P3' },
      medium: { high: 'P2', medium: 'P3', low: 'P4' },
      low: { high: 'P3', medium: 'P4', low: 'P4' },
    });
  });

  it('is frozen all the way down', () => {
    expect(Object.isFrozen(DEFAULT_PRIORITY_MATRIX.priorities.high)).toBe(true);
  });
});

describe('computePriority: worst value wins, count escalation', () => {
  it('takes the highest criticality and the worst severity', () => {
    const result = computePriority({ serviceCriticalities: ['low', 'critical'], severities: ['info', 'critical', 'warning'] });
    expect(result).toMatchObject({ priority: 'P1', impact: 'high', urgency: 'high' });
  });

  it.each<[Criticality[], Impact, Priority]>([
    [['high', 'high'], 'medium', 'P3'],
    [['high', 'high', 'low'], 'high', 'P2'],
    [['medium', 'low'], 'low', 'P4'],
    [['medium', 'low', 'low'], 'medium', 'P3'],
    [['low', 'low', 'low', 'low', 'low'], 'medium', 'P3'],
    [['critical', 'low', 'low'], 'high', 'P2'],
  ])('%j with a major alert: impact %s, %s', (criticalities, impact, priority) => {
    const result = computePriority({ serviceCriticalities: criticalities, severities: ['major'] });
    expect(result.impact).toBe(impact);
    expect(result.priority).toBe(priority);
  });

  it('explains itself', () => {
    expect(computePriority({ serviceCriticalities: ['high', 'high', 'low'], severities: ['major', 'info'] }).reason).toBe(
      'P2: impact high (highest service criticality high, 3 services affected, raised from medium at 3 or more services), urgency medium (worst alert severity major)',
    );
    expect(computePriority({ serviceCriticalities: [], severities: [] }).reason).toBe(
      'P4: impact low (no affected service), urgency low (no alert severity)',
    );
    expect(computePriority({ serviceCriticalities: ['critical'], severities: ['critical'] }).reason).toBe(
      'P1: impact high (highest service criticality critical, 1 service affected), urgency high (worst alert severity critical)',
    );
  });

  it('uses a custom matrix, and null disables escalation', () => {
    const matrix: PriorityMatrix = {
      ...DEFAULT_PRIORITY_MATRIX,
      impactByCriticality: { critical: 'high', high: 'high', medium: 'medium', low: 'low' },
      escalateImpactAtServiceCount: null,
    };
    const many: Criticality[] = ['medium', 'medium', 'medium', 'medium'];
    expect(computePriority({ serviceCriticalities: many, severities: ['critical'] }, matrix)).toMatchObject({ impact: 'medium', priority: 'P2' });
    expect(computePriority({ serviceCriticalities: ['high'], severities: ['critical'] }, matrix).priority).toBe('P1');
  });

  it('property: adding a service or an alert never lowers priority', () => {
    const criticality = fc.constantFrom(...CRITICALITIES);
    const severity = fc.constantFrom(...SEVERITIES);
    fc.assert(
      fc.property(fc.array(criticality), fc.array(severity), criticality, severity, (services, severities, extraService, extraSeverity) => {
        const base = PRIORITIES.indexOf(computePriority({ serviceCriticalities: services, severities }).priority);
        const more = PRIORITIES.indexOf(
          computePriority({ serviceCriticalities: [...services, extraService], severities: [...severities, extraSeverity] }).priority,
        );
        expect(more).toBeLessThanOrEqual(base);
      }),
    );
  });
});

describe('validatePriorityMatrix', () => {
  const clone = (): Record<string, unknown> => JSON.parse(JSON.stringify(DEFAULT_PRIORITY_MATRIX)) as Record<string, unknown>;

  it('accepts the default', () => {
    expect(validatePriorityMatrix(clone())).toEqual({ ok: true, matrix: DEFAULT_PRIORITY_MATRIX });
  });

  it.each<[string, (m: Record<string, Record<string, unknown>>) => void, string[]]>([
    [
      'a bad priority cell',
      (m) => {
        (m.priorities as Record<string, Record<string, unknown>>).medium!.high = 'P5';
      },
      ['priorities.medium.high: must be one of "P1", "P2", "P3", "P4", got "P5"'],
    ],
    [
      'a missing row',
      (m) => {
        delete m.priorities!.low;
      },
      ['priorities.low: missing'],
    ],
    [
      'an unknown severity and a bad level',
      (m) => {
        m.urgencyBySeverity!.fatal = 'high';
        m.urgencyBySeverity!.info = 'none';
      },
      [
        'urgencyBySeverity.fatal: unknown key; valid keys are "critical", "major", "minor", "warning", "info"',
        'urgencyBySeverity.info: must be one of "high", "medium", "low", got "none"',
      ],
    ],
    [
      'a bad escalation count and a missing criticality',
      (m) => {
        (m as Record<string, unknown>).escalateImpactAtServiceCount = 1;
        delete m.impactByCriticality!.low;
      },
      ['impactByCriticality.low: missing', 'escalateImpactAtServiceCount: must be an integer ≥ 2 or null, got 1'],
    ],
    [
      'an unknown top-level key',
      (m) => {
        (m as Record<string, unknown>).extra = true;
      },
      ['extra: unknown key; valid keys are "impactByCriticality", "urgencyBySeverity", "escalateImpactAtServiceCount", "priorities"'],
    ],
  ])('names %s', (_name, mutate, problems) => {
    const matrix = clone() as Record<string, Record<string, unknown>>;
    mutate(matrix);
    expect(validatePriorityMatrix(matrix)).toEqual({ ok: false, problems });
  });

  it('rejects non-objects and accepts a null escalation', () => {
    expect(validatePriorityMatrix('P1').ok).toBe(false);
    expect(validatePriorityMatrix({ ...clone(), escalateImpactAtServiceCount: null }).ok).toBe(true);
  });
});
