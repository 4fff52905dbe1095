import { describe, it, expect } from 'vitest';
import {
  INCIDENT_ACTIONS,
  INCIDENT_STATUSES,
  allowedActions,
  applyTransition,
  isOpen,
  type IncidentAction,
  type IncidentStatus,
} from '../../src/incidents/incident-lifecycle.js';

/** The whole transition table: `undefined` = illegal. */
const TABLE: Record<IncidentStatus, Partial<Record<IncidentAction, IncidentStatus>>> = {
  new: { acknowledge: 'acknowledged', start: 'in_progress', resolve: 'resolved' },
  acknowledged: { start: 'in_progress', resolve: 'resolved' },
  in_progress: { resolve: 'resolved' },
  resolved: { close: 'closed', reopen: 'reopened' },
  closed: {},
  reopened: { acknowledge: 'acknowledged', start: 'in_progress', resolve: 'resolved' },
};

const cells = INCIDENT_STATUSES.flatMap((status) => INCIDENT_ACTIONS.map((action) => [status, action] as const));

describe('applyTransition: every state × action', () => {
  const legal = cells.filter(([status, action]) => TABLE[status][action] !== undefined);
  const illegal = cells.filter(([status, action]) => TABLE[status][action] === undefined);

  it('covers all 30 cells', () => {
    expect(legal.length + illegal.length).toBe(30);
    expect(legal.length).toBe(11);
  });

  it.each(legal)('%s + %s is legal', (status, action) => {
    expect(applyTransition(status, action)).toEqual({ ok: true, next: TABLE[status][action] });
  });

  it.each(illegal)('%s + %s is illegal and names the allowed actions', (status, action) => {
    const result = applyTransition(status, action);
    const allowed = INCIDENT_ACTIONS.filter((a) => TABLE[status][a] !== undefined);
    expect(result).toEqual({
      ok: false,
      allowed,
      detail: `cannot ${action} an incident that is ${status}; allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none'}`,
    });
  });
});

describe('details', () => {
  it('reads like the API error', () => {
    const result = applyTransition('in_progress', 'close');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.detail).toBe('cannot close an incident that is in_progress; allowed: resolve');
  });

  it('says none for the terminal state', () => {
    const result = applyTransition('closed', 'reopen');
    if (result.ok) throw new Error('closed must be terminal');
    expect(result.detail).toBe('cannot reopen an incident that is closed; allowed: none');
    expect(result.allowed).toEqual([]);
  });
});

describe('isOpen and allowedActions', () => {
  it.each<[IncidentStatus, boolean]>([
    ['new', true],
    ['acknowledged', true],
    ['in_progress', true],
    ['reopened', true],
    ['resolved', false],
    ['closed', false],
  ])('isOpen(%s) = %s', (status, open) => {
    expect(isOpen(status)).toBe(open);
  });

  it.each(INCIDENT_STATUSES)('allowedActions(%s) matches the table', (status) => {
    expect(allowedActions(status)).toEqual(INCIDENT_ACTIONS.filter((a) => TABLE[status][a] !== undefined));
  });

  it('every open state can be resolved; no closed-loop state is a dead end except closed', () => {
    for (const status of INCIDENT_STATUSES) {
      if (isOpen(status)) expect(allowedActions(status)).toContain('resolve');
      if (status !== 'closed') expect(allowedActions(status).length).toBeGreaterThan(0);
    }
  });
});
