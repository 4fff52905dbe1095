import { describe, expect, it } from 'vitest';
import { DEFAULT_GROUPING_RULE, groupKeyOf, incidentTitle } from '../../src/incidents/group-alerts.js';

describe('groupKeyOf', () => {
  const rule = { name: 'by-dc', groupBy: ['alertname', 'dc'], windowMs: 300_000, minFiringAlerts: 3 };

  it('groups by the values of the rule\'s labels, a missing one counting as empty', () => {
    const a = groupKeyOf({ alertname: 'HostDown', dc: 'fra1', instance: 'a' }, rule, 'fp-a');
    const b = groupKeyOf({ alertname: 'HostDown', dc: 'fra1', instance: 'b' }, rule, 'fp-b');
    expect(a).toEqual({ key: b.key, values: { alertname: 'HostDown', dc: 'fra1' }, alone: false });
    const noDc = groupKeyOf({ alertname: 'HostDown', instance: 'c' }, rule, 'fp-c');
    expect(noDc).toMatchObject({ values: { alertname: 'HostDown', dc: '' }, alone: false });
    expect(groupKeyOf({ alertname: 'HostDown', instance: 'd' }, rule, 'fp-d').key).toBe(noDc.key);
  });

  it('puts an alert with none of the labels (a PagerDuty event) in a group of its own', () => {
    const disk = groupKeyOf({ source: 'nas-1', severity: 'critical' }, DEFAULT_GROUPING_RULE, 'pd-disk');
    const queue = groupKeyOf({ source: 'mq-1', severity: 'critical' }, DEFAULT_GROUPING_RULE, 'pd-queue');
    expect(disk.alone).toBe(true);
    expect(disk.key).not.toBe(queue.key);
    expect(groupKeyOf({ source: 'nas-1' }, DEFAULT_GROUPING_RULE, 'pd-disk').key).toBe(disk.key);
    // No grouping labels at all: one group, as configured.
    const none = { ...DEFAULT_GROUPING_RULE, groupBy: [] };
    expect(groupKeyOf({ a: '1' }, none, 'x').key).toBe(groupKeyOf({ b: '2' }, none, 'y').key);
  });
});

describe('incidentTitle', () => {
  const labels = { alertname: 'DiskFull', instance: 'db-1' };
  const { values } = groupKeyOf(labels, DEFAULT_GROUPING_RULE, 'fp-1');

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
