import { describe, expect, it } from 'vitest';
import { DEFAULT_GROUPING_RULE, groupKeyOf, incidentTitle } from '../../src/incidents/group-alerts.js';

describe('groupKeyOf', () => {
  const rule = { name: 'by-dc', groupBy: ['alertname', 'dc'], windowMs: 300_000, minFiringAlerts: 3 };

  it('groups by the values of the rule\'s labels, a missing one counting as empty', () => {
    const am = (labels: Record<string, string>, fingerprint: string) => ({ labels, fingerprint, source: 'alertmanager' as const });
    const a = groupKeyOf(am({ alertname: 'HostDown', dc: 'fra1', instance: 'a' }, 'fp-a'), rule);
    const b = groupKeyOf(am({ alertname: 'HostDown', dc: 'fra1', instance: 'b' }, 'fp-b'), rule);
    expect(a).toEqual({ key: b.key, values: { alertname: 'HostDown', dc: 'fra1' }, alone: false });
    const noDc = groupKeyOf(am({ alertname: 'HostDown', instance: 'c' }, 'fp-c'), rule);
    expect(noDc).toMatchObject({ values: { alertname: 'HostDown', dc: '' }, alone: false });
    expect(groupKeyOf(am({ alertname: 'HostDown', instance: 'd' }, 'fp-d'), rule).key).toBe(noDc.key);
    // Alerts of other senders lacking every label still share a group (a storm stays one incident).
    expect(groupKeyOf(am({ instance: 'e' }, 'fp-e'), rule)).toEqual({ key: groupKeyOf(am({ instance: 'f' }, 'fp-f'), rule).key, values: { alertname: '', dc: '' }, alone: false });
  });

  it('puts a PagerDuty event with none of the labels in a group of its own', () => {
    const pd = (labels: Record<string, string>, fingerprint: string) => ({ labels, fingerprint, source: 'pagerduty' as const });
    const disk = groupKeyOf(pd({ source: 'nas-1', severity: 'critical' }, 'pd-disk'), DEFAULT_GROUPING_RULE);
    const queue = groupKeyOf(pd({ source: 'mq-1', severity: 'critical' }, 'pd-queue'), DEFAULT_GROUPING_RULE);
    expect(disk.alone).toBe(true);
    expect(disk.key).not.toBe(queue.key);
    expect(groupKeyOf(pd({ source: 'nas-1' }, 'pd-disk'), DEFAULT_GROUPING_RULE).key).toBe(disk.key);
    // With one of the labels, it groups as any alert does.
    expect(groupKeyOf(pd({ alertname: 'Disk', source: 'nas-1' }, 'pd-x'), DEFAULT_GROUPING_RULE).alone).toBe(false);
    // No grouping labels at all: one group, as configured.
    const none = { ...DEFAULT_GROUPING_RULE, groupBy: [] };
    expect(groupKeyOf(pd({ a: '1' }, 'x'), none).key).toBe(groupKeyOf(pd({ b: '2' }, 'y'), none).key);
  });
});

describe('incidentTitle', () => {
  const labels = { alertname: 'DiskFull', instance: 'db-1' };
  const { values } = groupKeyOf({ labels, fingerprint: 'fp-1', source: 'alertmanager' }, DEFAULT_GROUPING_RULE);

  it("is the alert's summary, else its description, else its alertname and group values", () => {
    expect(incidentTitle(labels, { summary: '/var above 95%', description: 'long' }, values)).toBe('/var above 95%');
    expect(incidentTitle(labels, { description: 'disk /var on db-1 is 96% full' }, values)).toBe('disk /var on db-1 is 96% full');
    expect(incidentTitle(labels, {}, values)).toBe('DiskFull (alertname=DiskFull)');
  });

  it('is cut to 500 characters, never inside a surrogate pair (a description may run to megabytes)', () => {
    const title = incidentTitle(labels, { description: 'x'.repeat(15_000_000) }, values);
    expect(title).toHaveLength(500);
    expect(title.endsWith('x…')).toBe(true);
    // An emoji (two UTF-16 units) across the cut is left out whole.
    const emoji = incidentTitle(labels, { summary: `${'a'.repeat(498)}😀tail` }, values);
    expect(emoji).toBe(`${'a'.repeat(498)}…`);
  });
});
