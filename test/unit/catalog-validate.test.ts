import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseCatalogYaml, validateCatalog } from '../../src/catalog/validate-catalog.js';

/** A small shop: one core switch, hosts behind it, a 1-of-2 database pair, apps, two services. */
const SHOP_CATALOG_YAML = `
version: 1
configurationItems:
  - id: sw-core-1
    type: network_device
    name: core-switch-1
    labels: { site: fra1 }
  - id: db-1.example.net
    type: host
    labels: { site: fra1, role: db }
    dependsOn: [sw-core-1]
  - id: db-2.example.net
    type: host
    labels: { site: fra1, role: db }
    dependsOn: [sw-core-1]
  - id: web-1.example.net
    type: host
    name: WEB-1
    dependsOn: [sw-core-1]
  - id: shop-app
    type: application
    dependsOn: [web-1.example.net, db-pair]
  - id: reports-app
    type: application
    dependsOn: [db-pair]
redundancyGroups:
  - id: db-pair
    name: PostgreSQL primary and replica
    members: [db-1.example.net, db-2.example.net]
    minimumUp: 1
services:
  - id: checkout
    name: Online checkout
    criticality: critical
    ownerTeam: payments
    dependsOn: [shop-app]
    notificationRoutes: [payments-oncall]
    sla:
      targetPercent: 99.9
      period: month
      timeZone: Europe/Berlin
  - id: reporting
    name: Sales reporting
    criticality: medium
    ownerTeam: data
    dependsOn: [reports-app]
    sla:
      targetPercent: 99.5
      period: quarter
      timeZone: Europe/Berlin
      schedule:
        days:
          mon: ["08:00-18:00"]
          tue: ["08:00-18:00"]
          wed: ["08:00-18:00"]
          thu: ["08:00-18:00"]
          fri: ["08:00-12:00", "13:00-24:00"]
alertMapping:
  - { label: instance, transform: strip_port, match: ci.id }
  - { label: device, transform: lowercase, match: ci.name }
  - { label: site, match: "ci.label:site" }
  - { label: service, match: service.id }
`;

type Plain = Record<string, unknown>;

/** A valid catalog as a plain object, to break one thing at a time. */
function baseCatalog(): { configurationItems: Plain[]; redundancyGroups: Plain[]; services: Plain[]; alertMapping?: Plain[] } {
  return {
    configurationItems: [
      { id: 'sw-1', type: 'network_device' },
      { id: 'db-1', type: 'database', dependsOn: ['sw-1'] },
      { id: 'db-2', type: 'database', dependsOn: ['sw-1'] },
      { id: 'app-1', type: 'application', dependsOn: ['db-group'] },
    ],
    redundancyGroups: [{ id: 'db-group', members: ['db-1', 'db-2'], minimumUp: 1 }],
    services: [{ id: 'shop', name: 'Shop', criticality: 'high', ownerTeam: 'web', dependsOn: ['app-1'] }],
  };
}

function problemsOf(candidate: unknown): string[] {
  const result = validateCatalog(candidate);
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.problems;
}

describe('parseCatalogYaml', () => {
  it('accepts a realistic catalog and returns it frozen', () => {
    const result = parseCatalogYaml(SHOP_CATALOG_YAML);
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.catalog.configurationItems).toHaveLength(6);
    expect(result.catalog.redundancyGroups?.[0]?.minimumUp).toBe(1);
    expect(result.catalog.services.map((s) => s.id)).toEqual(['checkout', 'reporting']);
    expect(Object.isFrozen(result.catalog.services[0])).toBe(true);
  });

  it('reports YAML syntax errors as problems', () => {
    const result = parseCatalogYaml('services: [unclosed\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatch(/^YAML: /);
  });

  it('refuses duplicate YAML keys', () => {
    const result = parseCatalogYaml('services: []\nservices: []\nconfigurationItems: []\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join('\n')).toMatch(/unique/i);
  });

  it('refuses an empty document', () => {
    expect(parseCatalogYaml('')).toEqual({ ok: false, problems: ['catalog: the document is empty'] });
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseCatalogYaml(text);
        return typeof result.ok === 'boolean';
      }),
    );
  });
});

describe('validateCatalog', () => {
  it('accepts the base catalog, and does not freeze the caller’s object', () => {
    const candidate = baseCatalog();
    expect(validateCatalog(candidate).ok).toBe(true);
    expect(Object.isFrozen(candidate)).toBe(false);
  });

  it('refuses a body nested past any catalog by naming where, not by overflowing the checks', () => {
    let nested: unknown = [];
    for (let i = 0; i < 100_000; i++) nested = [nested];
    expect(validateCatalog({ configurationItems: nested, services: [] })).toEqual({
      ok: false,
      problems: [`configurationItems${'[0]'.repeat(31)}: nested deeper than 32 levels, which no catalog needs`],
    });
  });

  it('refuses a service naming a notification route that is not configured, when the routes are given', () => {
    const candidate = baseCatalog();
    candidate.services[0] = { ...candidate.services[0]!, notificationRoutes: ['web-oncall', 'web-oncal', 'ops'] };
    expect(validateCatalog(candidate, { routeNames: ['ops', 'web-oncal', 'web-oncall'] })).toMatchObject({ ok: true });
    expect(validateCatalog(candidate, { routeNames: ['web-oncall'] })).toEqual({
      ok: false,
      problems: [
        'services[0].notificationRoutes[1]: no notification route "web-oncal" (configured: web-oncall)',
        'services[0].notificationRoutes[2]: no notification route "ops" (configured: web-oncall)',
      ],
    });
    const none = validateCatalog(candidate, { routeNames: [] });
    expect(none.ok ? [] : none.problems.map((p) => p.endsWith('(none is configured)'))).toEqual([true, true, true]);
    // Without the configuration (a catalog checked on its own) names are not checked.
    expect(validateCatalog(candidate).ok).toBe(true);
  });

  it('accepts a catalog without groups or alert mapping', () => {
    expect(validateCatalog({ configurationItems: [], services: [] }).ok).toBe(true);
  });

  const cases: { name: string; mutate: (c: ReturnType<typeof baseCatalog>) => unknown; expected: string[] }[] = [
    {
      name: 'not an object',
      mutate: () => 'catalog',
      expected: ['catalog: Expected object (got "catalog")'],
    },
    {
      name: 'an unknown top-level field',
      mutate: (c) => ({ ...c, servces: [] }),
      expected: ['servces: unknown field; valid fields are version, configurationItems, redundancyGroups, services, alertMapping'],
    },
    {
      name: 'support hours in an unknown time zone',
      mutate: (c) => {
        c.services[0]!.supportHours = { timeZone: 'Mars/Olympus', days: { mon: ['09:00-17:00'] } };
        return c;
      },
      expected: ['services[0].supportHours.timeZone: unknown time zone "Mars/Olympus"'],
    },
    {
      name: 'support hours with no window at all',
      mutate: (c) => {
        c.services[0]!.supportHours = { timeZone: 'Europe/Berlin', days: {} };
        return c;
      },
      expected: ['services[0].supportHours.days: no support hours at all (omit supportHours for 24x7)'],
    },
    {
      name: 'a support window that ends before it starts',
      mutate: (c) => {
        c.services[0]!.supportHours = { timeZone: 'Europe/Berlin', days: { mon: ['17:00-09:00'] } };
        return c;
      },
      expected: ['services[0].supportHours.days.mon[0]: start must be before end'],
    },
    {
      name: 'an unknown field on a service, naming the valid ones',
      mutate: (c) => {
        c.services[0]!.owner = 'web';
        return c;
      },
      expected: ['services[0].owner: unknown field; valid fields are id, name, criticality, ownerTeam, dependsOn, notificationRoutes, sla, supportHours'],
    },
    {
      name: 'a missing required field',
      mutate: (c) => {
        delete c.services[0]!.ownerTeam;
        return c;
      },
      expected: ['services[0].ownerTeam: required field is missing'],
    },
    {
      name: 'a CI type that does not exist',
      mutate: (c) => {
        c.configurationItems[0]!.type = 'switch';
        return c;
      },
      expected: [
        'configurationItems[0].type: expected host, virtual_machine, container, network_device, link, load_balancer, storage, database, queue, application, service_endpoint, other (got "switch")',
      ],
    },
    {
      name: 'an id with a slash or a colon',
      mutate: (c) => {
        c.configurationItems[0]!.id = 'sw/1';
        c.configurationItems[1]!.dependsOn = ['sw/1'];
        return c;
      },
      expected: [
        'configurationItems[0].id: expected letters, digits, ".", "_" and "-", starting with a letter or digit (got "sw/1")',
        'configurationItems[1].dependsOn[0]: expected letters, digits, ".", "_" and "-", starting with a letter or digit (got "sw/1")',
        'configurationItems[2].dependsOn[0]: unknown CI or redundancy group "sw-1"',
      ],
    },
    {
      name: 'a CI label name that is not a Prometheus label name',
      mutate: (c) => {
        c.configurationItems[0]!.labels = { 'rack-id': '12' };
        return c;
      },
      expected: ['configurationItems[0].labels.rack-id: not a valid label name (letters, digits and "_", not starting with a digit)'],
    },
    {
      name: 'duplicate ids across kinds',
      mutate: (c) => {
        c.redundancyGroups[0]!.id = 'db-1';
        c.configurationItems[3]!.dependsOn = ['db-1'];
        return c;
      },
      expected: ['duplicate id "db-1": configurationItems[1] and redundancyGroups[0]'],
    },
    {
      name: 'duplicate ids among services',
      mutate: (c) => {
        c.services.push({ ...c.services[0]!, name: 'Shop again' });
        return c;
      },
      expected: ['duplicate id "shop": services[0] and services[1]'],
    },
    {
      name: 'a service depending on an unknown CI',
      mutate: (c) => {
        c.services[0]!.dependsOn = ['app-1', 'db-9'];
        return c;
      },
      expected: ['services[0].dependsOn[1]: unknown CI or redundancy group "db-9"'],
    },
    {
      name: 'a CI depending on an unknown CI',
      mutate: (c) => {
        c.configurationItems[1]!.dependsOn = ['sw-9'];
        return c;
      },
      expected: ['configurationItems[1].dependsOn[0]: unknown CI or redundancy group "sw-9"'],
    },
    {
      name: 'a CI depending on a service',
      mutate: (c) => {
        c.configurationItems[0]!.dependsOn = ['shop'];
        return c;
      },
      expected: ['configurationItems[0].dependsOn[0]: "shop" is a service; CIs depend on CIs and redundancy groups'],
    },
    {
      name: 'a service depending on a service',
      mutate: (c) => {
        c.services.push({ id: 'blog', name: 'Blog', criticality: 'low', ownerTeam: 'web', dependsOn: ['shop'] });
        return c;
      },
      expected: ['services[1].dependsOn[0]: "shop" is a service; services depend on CIs and redundancy groups'],
    },
    {
      name: 'a dependency listed twice',
      mutate: (c) => {
        c.services[0]!.dependsOn = ['app-1', 'app-1'];
        return c;
      },
      expected: ['services[0].dependsOn[1]: "app-1" is listed twice'],
    },
    {
      name: 'a group with an unknown member and a group as member',
      mutate: (c) => {
        c.redundancyGroups.push({ id: 'outer', members: ['db-group', 'db-7'], minimumUp: 1 });
        return c;
      },
      expected: [
        'redundancyGroups[1].members[0]: "db-group" is a redundancy group; members must be CIs',
        'redundancyGroups[1].members[1]: unknown CI "db-7"',
      ],
    },
    {
      name: 'minimumUp above the member count',
      mutate: (c) => {
        c.redundancyGroups[0]!.minimumUp = 3;
        return c;
      },
      expected: ['redundancyGroups[0].minimumUp: 3 but the group has 2 members (must be 1..2)'],
    },
    {
      name: 'minimumUp of zero',
      mutate: (c) => {
        c.redundancyGroups[0]!.minimumUp = 0;
        return c;
      },
      expected: ['redundancyGroups[0].minimumUp: Expected integer to be greater or equal to 1 (got 0)'],
    },
    {
      name: 'a group without members',
      mutate: (c) => {
        c.redundancyGroups[0]!.members = [];
        return c;
      },
      expected: ['redundancyGroups[0].members: Expected array length to be greater or equal to 1 (got [])'],
    },
    {
      name: 'a two-node cycle',
      mutate: (c) => {
        c.configurationItems[0]!.dependsOn = ['app-1'];
        c.configurationItems[3]!.dependsOn = ['sw-1'];
        return c;
      },
      expected: ['dependency cycle: app-1 → sw-1 → app-1'],
    },
    {
      name: 'a cycle through a redundancy group',
      mutate: (c) => {
        c.configurationItems[0]!.dependsOn = ['app-1'];
        return c;
      },
      // One cycle per back edge of the walk: fixing it shows the next one, if any.
      expected: ['dependency cycle: app-1 → db-group → db-1 → sw-1 → app-1'],
    },
    {
      name: 'two separate cycles',
      mutate: (c) => {
        c.configurationItems[1]!.dependsOn = ['db-2'];
        c.configurationItems[2]!.dependsOn = ['db-1'];
        c.configurationItems.push({ id: 'link-a', type: 'link', dependsOn: ['link-b'] }, { id: 'link-b', type: 'link', dependsOn: ['link-a'] });
        return c;
      },
      expected: ['dependency cycle: db-1 → db-2 → db-1', 'dependency cycle: link-a → link-b → link-a'],
    },
    {
      name: 'a CI depending on itself',
      mutate: (c) => {
        c.configurationItems[0]!.dependsOn = ['sw-1'];
        return c;
      },
      expected: ['dependency cycle: sw-1 → sw-1'],
    },
    {
      name: 'an SLA target out of range and too precise',
      mutate: (c) => {
        c.services.push({ ...c.services[0]!, id: 'shop-2', sla: { targetPercent: 99.99999, period: 'month' } });
        c.services[0]!.sla = { targetPercent: 100.5, period: 'week' };
        return c;
      },
      expected: [
        'services[0].sla.targetPercent: Expected number to be less or equal to 100 (got 100.5)',
        'services[0].sla.period: expected month, quarter or year (got "week")',
        'services[1].sla.targetPercent: at most 4 decimals (got 99.99999)',
      ],
    },
    {
      name: 'an unknown time zone',
      mutate: (c) => {
        c.services[0]!.sla = { targetPercent: 99.9, period: 'month', timeZone: 'Europe/Atlantis' };
        return c;
      },
      expected: ['services[0].sla.timeZone: unknown IANA time zone "Europe/Atlantis" (e.g. Europe/Berlin, UTC)'],
    },
    {
      name: 'a bad schedule',
      mutate: (c) => {
        c.services[0]!.sla = { targetPercent: 99.9, period: 'month', schedule: '24x5' };
        c.services.push({ ...c.services[0]!, id: 'shop-2', sla: { targetPercent: 99, period: 'year', schedule: { days: { mon: ['18:00-08:00'], funday: [] } } } });
        c.services.push({ ...c.services[0]!, id: 'shop-3', sla: { targetPercent: 99, period: 'year', schedule: { days: { tue: ['8:00-18:00'] } } } });
        return c;
      },
      expected: [
        'services[0].sla.schedule: expected "24x7" or { days: { mon: ["08:00-18:00"], ... } } (got "24x5")',
        'services[1].sla.schedule.days.funday: unknown field; valid fields are mon, tue, wed, thu, fri, sat, sun',
        'services[2].sla.schedule.days.tue[0]: expected HH:MM-HH:MM, e.g. 08:00-18:00 (got "8:00-18:00")',
        'services[1].sla.schedule.days.mon[0]: 18:00-08:00 ends before it starts',
        'services[1].sla.schedule: schedules no time at all (use "24x7" or list hours under days)',
      ],
    },
    {
      name: 'a bad alert mapping rule',
      mutate: (c) => ({
        ...c,
        alertMapping: [
          { label: 'instance', transform: 'strip_host', match: 'ci.id' },
          { label: 'host', match: 'ci.address' },
          { label: 'host', matchCiBy: 'name', match: 'ci.name' },
        ],
      }),
      expected: [
        'alertMapping[0].transform: expected strip_port, lowercase, none (got "strip_host")',
        'alertMapping[1].match: expected ci.id, ci.name, ci.label:<key>, service.id or service.name (got "ci.address")',
        'alertMapping[2].matchCiBy: unknown field; valid fields are label, transform, match',
      ],
    },
  ];

  it.each(cases)('reports $name', ({ mutate, expected }) => {
    expect(problemsOf(mutate(baseCatalog()))).toEqual(expected);
  });

  it('reports several problems of different kinds together', () => {
    const c = baseCatalog();
    c.services[0]!.dependsOn = ['db-9'];
    c.services[0]!.colour = 'blue';
    c.redundancyGroups[0]!.minimumUp = 5;
    c.configurationItems[0]!.dependsOn = ['app-1'];
    c.configurationItems.push({ id: 'sw-1', type: 'link' });
    expect(problemsOf(c)).toEqual([
      'services[0].colour: unknown field; valid fields are id, name, criticality, ownerTeam, dependsOn, notificationRoutes, sla, supportHours',
      'duplicate id "sw-1": configurationItems[0] and configurationItems[4]',
      'services[0].dependsOn[0]: unknown CI or redundancy group "db-9"',
      'redundancyGroups[0].minimumUp: 5 but the group has 2 members (must be 1..2)',
      'dependency cycle: app-1 → db-group → db-1 → sw-1 → app-1',
    ]);
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = validateCatalog(value);
        return result.ok ? value !== null && typeof value === 'object' : result.problems.length > 0;
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on catalog-shaped arbitrary input', () => {
    const id = fc.constantFrom('a', 'b', 'c', 'd', 'x/y', '');
    const entry = fc.record(
      {
        id,
        type: fc.constantFrom('host', 'link', 'nope'),
        dependsOn: fc.oneof(fc.array(id), fc.jsonValue()),
        members: fc.oneof(fc.array(id), fc.jsonValue()),
        minimumUp: fc.oneof(fc.integer({ min: -1, max: 4 }), fc.jsonValue()),
        sla: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const catalog = fc.record(
      { configurationItems: fc.array(entry), redundancyGroups: fc.array(entry), services: fc.array(entry), alertMapping: fc.jsonValue() },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(catalog, (value) => {
        const result = validateCatalog(value);
        return result.ok || result.problems.length > 0;
      }),
      { numRuns: 500 },
    );
  });
});
