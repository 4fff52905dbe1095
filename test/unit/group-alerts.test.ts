import { describe, expect, it } from 'vitest';
import { DEFAULT_GROUPING_RULE, groupKeyOf, incidentTitle } from '../../src/incidents/group-alerts.js';

describe('incidentTitle', () => {
  const labels = { alertname: 'DiskFull', instance: 'db-1' };
  const { values } = groupKeyOf(labels, DEFAULT_GROUPING_RULE);

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
