import { describe, it, expect } from 'vitest';
import { buildCatalogIndex, mapAlertToCatalog, MAX_UPSTREAM_PATHS, type CatalogIndex } from '../../src/catalog/catalog-index.js';
import type { Catalog } from '../../src/catalog/catalog.schema.js';
import { validateCatalog } from '../../src/catalog/validate-catalog.js';

// Two switches; hosts behind them; a 1-of-2 database pair; apps; two services.
const CATALOG = {
  configurationItems: [
    { id: 'sw-1', type: 'network_device', name: 'Core-Switch-1' },
    { id: 'sw-2', type: 'network_device' },
    { id: 'db-1.example.net', type: 'host', labels: { site: 'fra1', zabbix_host: 'DB1' }, dependsOn: ['sw-1'] },
    { id: 'db-2.example.net', type: 'host', labels: { site: 'fra1' }, dependsOn: ['sw-2'] },
    { id: 'web-1', type: 'host', name: 'web-1.example.net', labels: { site: 'ams1' }, dependsOn: ['sw-1', 'sw-2'] },
    { id: 'shop-app', type: 'application', dependsOn: ['web-1', 'db-pair'] },
    { id: 'reports-app', type: 'application', dependsOn: ['db-pair'] },
    { id: 'lonely', type: 'other' },
  ],
  redundancyGroups: [{ id: 'db-pair', members: ['db-1.example.net', 'db-2.example.net'], minimumUp: 1 }],
  services: [
    { id: 'checkout', name: 'Online checkout', criticality: 'critical', ownerTeam: 'payments', dependsOn: ['shop-app'] },
    { id: 'reporting', name: 'Sales reporting', criticality: 'medium', ownerTeam: 'data', dependsOn: ['reports-app'] },
    { id: 'status-page', name: 'Status page', criticality: 'low', ownerTeam: 'web', dependsOn: ['sw-2'] },
  ],
  alertMapping: [
    { label: 'instance', transform: 'strip_port', match: 'ci.id' },
    { label: 'instance', transform: 'strip_port', match: 'ci.name' },
    { label: 'device', transform: 'lowercase', match: 'ci.name' },
    { label: 'host', match: 'ci.label:zabbix_host' },
    { label: 'site', match: 'ci.label:site' },
    { label: 'service', match: 'service.id' },
  ],
};

function indexOf(candidate: unknown): CatalogIndex {
  const result = validateCatalog(candidate);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return buildCatalogIndex(result.catalog);
}

const index = indexOf(CATALOG);

describe('buildCatalogIndex', () => {
  it('looks CIs, groups and services up by id', () => {
    expect(index.ciById.get('web-1')?.name).toBe('web-1.example.net');
    expect(index.groupById.get('db-pair')?.minimumUp).toBe(1);
    expect(index.serviceById.get('checkout')?.criticality).toBe('critical');
    expect(index.ciById.get('checkout')).toBeUndefined();
  });

  it.each([
    ['sw-1', ['checkout', 'reporting']],
    ['sw-2', ['checkout', 'reporting', 'status-page']],
    ['db-1.example.net', ['checkout', 'reporting']],
    ['db-pair', ['checkout', 'reporting']],
    ['web-1', ['checkout']],
    ['reports-app', ['reporting']],
    ['lonely', []],
    ['checkout', []],
    ['no-such-ci', []],
  ])('servicesDependingOn(%s) is transitive through CIs and groups', (id, expected) => {
    expect(index.servicesDependingOn(id)).toEqual(expected);
  });

  it('returns copies, so callers cannot corrupt its cache', () => {
    index.servicesDependingOn('sw-1').push('bogus');
    expect(index.servicesDependingOn('sw-1')).toEqual(['checkout', 'reporting']);
  });

  it('lists every transitive dependency', () => {
    expect(index.dependenciesOf('shop-app')).toEqual(['db-1.example.net', 'db-2.example.net', 'db-pair', 'sw-1', 'sw-2', 'web-1']);
    expect(index.dependenciesOf('sw-1')).toEqual([]);
    expect(index.dependenciesOf('nope')).toEqual([]);
  });

  it('gives every upstream chain in declaration order', () => {
    expect(index.upstreamPath('shop-app')).toEqual([
      ['shop-app', 'web-1', 'sw-1'],
      ['shop-app', 'web-1', 'sw-2'],
      ['shop-app', 'db-pair', 'db-1.example.net', 'sw-1'],
      ['shop-app', 'db-pair', 'db-2.example.net', 'sw-2'],
    ]);
    expect(index.upstreamPath('db-1.example.net')).toEqual([['db-1.example.net', 'sw-1']]);
    expect(index.upstreamPath('sw-1')).toEqual([['sw-1']]);
    expect(index.upstreamPath('checkout')).toEqual([]);
    expect(index.upstreamPath('nope')).toEqual([]);
  });

  it('caps upstream chains of a wide mesh', () => {
    // 12 layers of 2 interchangeable switches: 2^12 = 4096 chains from the top.
    const cis: Record<string, unknown>[] = [];
    for (let layer = 0; layer < 12; layer++) {
      for (const side of ['a', 'b']) {
        cis.push({ id: `l${layer}${side}`, type: 'network_device', dependsOn: layer === 0 ? [] : [`l${layer - 1}a`, `l${layer - 1}b`] });
      }
    }
    const mesh = indexOf({ configurationItems: cis, services: [] });
    const paths = mesh.upstreamPath('l11a');
    expect(paths).toHaveLength(MAX_UPSTREAM_PATHS);
    expect(paths[0]).toHaveLength(12);
  });

  it('uses the default alert mapping when the catalog has none', () => {
    const withoutMapping: Catalog = { ...(validateCatalog(CATALOG) as { catalog: Catalog }).catalog, alertMapping: undefined };
    const defaults = buildCatalogIndex(withoutMapping);
    expect(mapAlertToCatalog({ instance: 'db-2.example.net:9100' }, defaults)).toEqual({
      ciIds: ['db-2.example.net'],
      serviceIds: ['checkout', 'reporting'],
      rule: 'alertMapping[0]: instance strip_port → ci.id',
    });
    expect(mapAlertToCatalog({ host: 'Core-Switch-1' }, defaults).ciIds).toEqual(['sw-1']);
    expect(mapAlertToCatalog({ service: 'reporting' }, defaults)).toMatchObject({ ciIds: [], serviceIds: ['reporting'] });
  });
});

describe('mapAlertToCatalog', () => {
  it.each<[string, Record<string, string>, { ciIds: string[]; serviceIds: string[]; rule?: string }]>([
    [
      'instance with its port → CI id',
      { alertname: 'NodeDown', instance: 'db-1.example.net:9100' },
      { ciIds: ['db-1.example.net'], serviceIds: ['checkout', 'reporting'], rule: 'alertMapping[0]: instance strip_port → ci.id' },
    ],
    [
      'instance without a port → CI id',
      { instance: 'sw-2' },
      { ciIds: ['sw-2'], serviceIds: ['checkout', 'reporting', 'status-page'], rule: 'alertMapping[0]: instance strip_port → ci.id' },
    ],
    [
      'instance → CI name when no id matches',
      { instance: 'web-1.example.net:443' },
      { ciIds: ['web-1'], serviceIds: ['checkout'], rule: 'alertMapping[1]: instance strip_port → ci.name' },
    ],
    [
      'a blackbox URL instance → its host',
      { instance: 'https://web-1.example.net/health' },
      { ciIds: ['web-1'], serviceIds: ['checkout'], rule: 'alertMapping[1]: instance strip_port → ci.name' },
    ],
    [
      'a bracketed IPv6 instance keeps its address',
      { instance: '[2001:db8::1]:9100' },
      { ciIds: [], serviceIds: [] },
    ],
    [
      'device → CI name, ignoring case',
      { device: 'core-switch-1' },
      { ciIds: ['sw-1'], serviceIds: ['checkout', 'reporting'], rule: 'alertMapping[2]: device lowercase → ci.name' },
    ],
    [
      'host → CI by one of its labels',
      { host: 'DB1' },
      { ciIds: ['db-1.example.net'], serviceIds: ['checkout', 'reporting'], rule: 'alertMapping[3]: host → ci.label:zabbix_host' },
    ],
    [
      'a label shared by several CIs → all of them',
      { site: 'fra1' },
      { ciIds: ['db-1.example.net', 'db-2.example.net'], serviceIds: ['checkout', 'reporting'], rule: 'alertMapping[4]: site → ci.label:site' },
    ],
    [
      'service label → that service directly',
      { alertname: 'HighErrorRate', service: 'checkout' },
      { ciIds: [], serviceIds: ['checkout'], rule: 'alertMapping[5]: service → service.id' },
    ],
    [
      'first matching rule wins: instance before service',
      { instance: 'sw-2:161', service: 'checkout' },
      { ciIds: ['sw-2'], serviceIds: ['checkout', 'reporting', 'status-page'], rule: 'alertMapping[0]: instance strip_port → ci.id' },
    ],
    [
      'a rule whose value matches nothing falls through to the next',
      { instance: 'unknown-host:9100', service: 'reporting' },
      { ciIds: [], serviceIds: ['reporting'], rule: 'alertMapping[5]: service → service.id' },
    ],
    ['no label a rule knows → nothing', { alertname: 'Watchdog', job: 'node' }, { ciIds: [], serviceIds: [] }],
    ['an empty value → nothing', { instance: '', service: '' }, { ciIds: [], serviceIds: [] }],
    ['an unknown service → nothing', { service: 'billing' }, { ciIds: [], serviceIds: [] }],
    ['case matters without lowercase', { instance: 'SW-2:161' }, { ciIds: [], serviceIds: [] }],
  ])('%s', (_name, labels, expected) => {
    expect(mapAlertToCatalog(labels, index)).toEqual(expected);
  });

  it('applies rules in the catalog’s order', () => {
    const nameFirst = indexOf({
      ...CATALOG,
      configurationItems: [...CATALOG.configurationItems, { id: 'decoy', type: 'host', name: 'web-1' }],
      alertMapping: [
        { label: 'instance', transform: 'strip_port', match: 'ci.name' },
        { label: 'instance', transform: 'strip_port', match: 'ci.id' },
      ],
    });
    // By id, web-1:80 would be the web-1 CI; the name rule comes first and finds the decoy.
    expect(mapAlertToCatalog({ instance: 'web-1:80' }, nameFirst)).toEqual({
      ciIds: ['decoy'],
      serviceIds: [],
      rule: 'alertMapping[0]: instance strip_port → ci.name',
    });
  });

  it('without rules of its own, maps exporters’ instance, host, device and PagerDuty’s source, then a service label', () => {
    const { alertMapping: _ownRules, ...withoutRules } = CATALOG;
    const defaults = indexOf(withoutRules);
    expect(mapAlertToCatalog({ instance: 'sw-2:9116' }, defaults)).toMatchObject({ ciIds: ['sw-2'], rule: 'alertMapping[0]: instance strip_port → ci.id' });
    // PagerDuty's payload.source, stored as the label `source`: by id, then by name.
    expect(mapAlertToCatalog({ source: 'db-1.example.net', severity: 'critical' }, defaults)).toMatchObject({ ciIds: ['db-1.example.net'], rule: 'alertMapping[6]: source strip_port → ci.id' });
    expect(mapAlertToCatalog({ source: 'Core-Switch-1' }, defaults)).toMatchObject({ ciIds: ['sw-1'], rule: 'alertMapping[7]: source strip_port → ci.name' });
    // A host label comes before it.
    expect(mapAlertToCatalog({ host: 'sw-2', source: 'db-1.example.net' }, defaults)).toMatchObject({ ciIds: ['sw-2'] });
    expect(mapAlertToCatalog({ service: 'checkout' }, defaults)).toMatchObject({ serviceIds: ['checkout'], rule: 'alertMapping[8]: service → service.id' });
  });

  it('maps nothing with an empty rule list', () => {
    const noRules = indexOf({ ...CATALOG, alertMapping: [] });
    expect(mapAlertToCatalog({ instance: 'sw-1:161', service: 'checkout' }, noRules)).toEqual({ ciIds: [], serviceIds: [] });
  });
});
