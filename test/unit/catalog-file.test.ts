import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createCatalogService } from '../../src/catalog/catalog.service.js';
import { systemClock } from '../../src/shared/clock.js';
import type { Store } from '../../src/storage/store.js';

// With a catalog file the service never reads or writes the store: any use of it fails the test.
const untouchedStore = new Proxy({} as Store, {
  get: (_target, name) => {
    throw new Error(`the store was used (${String(name)})`);
  },
});
const dir = mkdtempSync(join(tmpdir(), 'vigil-catalog-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logger = pino({ level: 'silent' });

describe('catalog file', () => {
  it('refuses to start on an invalid file, naming the entry, instead of running on an empty catalog', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'configurationItems:\n  - { id: db-1, type: hots }\nservices: []\n');
    const service = createCatalogService({ file, store: untouchedStore, clock: systemClock, logger, routeNames: [] });
    await expect(service.start()).rejects.toThrow(/configurationItems\[0\]\.type/);
    service.close();
  });

  it('refuses a file whose service names a notification route that is not configured', async () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, 'configurationItems:\n  - { id: db-1, type: host }\nservices:\n  - { id: pay, name: Pay, criticality: high, ownerTeam: pay, dependsOn: [db-1], notificationRoutes: [payments-oncal] }\n');
    const service = createCatalogService({ file, store: untouchedStore, clock: systemClock, logger, routeNames: ['payments-oncall', 'ops'] });
    await expect(service.start()).rejects.toThrow('services[0].notificationRoutes[0]: no notification route "payments-oncal" (configured: payments-oncall, ops)');
    service.close();
  });

  it('applies a file only once two reads agree, not a half-written one', async () => {
    const file = join(dir, 'growing.yaml');
    const full = 'configurationItems:\n  - { id: db-1, type: host }\n  - { id: web-1, type: host }\nservices:\n  - { id: shop, name: Shop, criticality: low, ownerTeam: web, dependsOn: [web-1] }\n  - { id: pay, name: Pay, criticality: critical, ownerTeam: pay, dependsOn: [db-1] }\n';
    // Half of it is a valid catalog too (one service): written first, the rest 100 ms later.
    const half = full.slice(0, full.indexOf('  - { id: pay'));
    writeFileSync(file, half);
    setTimeout(() => writeFileSync(file, full), 100);
    const service = createCatalogService({ file, store: untouchedStore, clock: systemClock, logger, routeNames: [] });
    await service.start();
    expect([...service.index().serviceById.keys()].sort()).toEqual(['pay', 'shop']);
    service.close();
  });
});
