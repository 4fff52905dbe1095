import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, startTestVigil, type TestVigil } from '../helpers/vigil.js';

const dataDir = makeDataDir('vigil-catalog-');
const catalogFile = join(dataDir, 'catalog.yaml');
const catalogYaml = (criticality: string) => `
configurationItems:
  - { id: sw-core-1, type: network_device }
  - { id: db-1, type: host, dependsOn: [sw-core-1] }
  - { id: web-1, type: host, dependsOn: [sw-core-1] }
services:
  - { id: checkout, name: Checkout, criticality: ${criticality}, ownerTeam: payments, dependsOn: [web-1, db-1] }
`;

let vigil: TestVigil;
beforeAll(async () => {
  writeFileSync(catalogFile, catalogYaml('critical'));
  vigil = await startTestVigil({ dataDir, overrides: (c) => (c.catalog.file = catalogFile) });
});
afterAll(async () => {
  await vigil?.stop();
});

const json = (method: string, path: string, body: unknown) =>
  fetch(`${vigil.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('service catalog', () => {
  it('serves the catalog from the YAML file and one service with its dependencies', async () => {
    const catalog = (await (await fetch(`${vigil.url}/api/v1/services`)).json()) as { services: { id: string }[] };
    expect(catalog.services.map((s) => s.id)).toEqual(['checkout']);
    const checkout = (await (await fetch(`${vigil.url}/api/v1/services/checkout`)).json()) as { dependencies: string[] };
    expect(checkout.dependencies).toEqual(['db-1', 'sw-core-1', 'web-1']);
    expect((await fetch(`${vigil.url}/api/v1/services/nope`)).status).toBe(404);
  });

  it('maps alerts to CIs and services, and the service criticality raises the priority', async () => {
    const response = await json('POST', '/api/v1/alerts', [
      { labels: { alertname: 'HostDown', instance: 'db-1:9100', severity: 'critical' }, status: 'firing', startsAt: new Date().toISOString() },
    ]);
    expect(response.status).toBe(200);
    const { incidents } = (await (await fetch(`${vigil.url}/api/v1/incidents?service=checkout`)).json()) as { incidents: { services: string[]; cis: string[]; priority: string }[] };
    // critical service (high impact) × critical alert (high urgency) = P1
    expect(incidents).toEqual([expect.objectContaining({ services: ['checkout'], cis: ['db-1'], priority: 'P1' })]);
  });

  it('refuses an invalid catalog with every problem named and keeps the previous one', async () => {
    const response = await json('PUT', '/api/v1/services', {
      configurationItems: [{ id: 'a', type: 'host', dependsOn: ['b'] }, { id: 'b', type: 'host', dependsOn: ['a'] }],
      services: [{ id: 's', name: 'S', criticality: 'high', ownerTeam: 't', dependsOn: ['missing'] }],
    });
    expect(response.status).toBe(400);
    const detail = ((await response.json()) as { detail: string }).detail;
    expect(detail).toMatch(/cycle/);
    expect(detail).toMatch(/missing/);
    const still = (await (await fetch(`${vigil.url}/api/v1/services`)).json()) as { services: { id: string }[] };
    expect(still.services.map((s) => s.id)).toEqual(['checkout']);
  });

  it('takes a catalog through PUT as YAML too, as in its file; another media type is a 415', async () => {
    const put = (type: string, body: string) => fetch(`${vigil.url}/api/v1/services`, { method: 'PUT', headers: { 'content-type': type }, body });
    const yaml = await put('application/yaml', catalogYaml('high'));
    expect(yaml.status).toBe(200);
    expect(((await yaml.json()) as { services: { id: string; criticality: string }[] }).services).toMatchObject([{ id: 'checkout', criticality: 'high' }]);
    const broken = await put('application/yaml', 'services: [\n');
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { detail: string }).detail).toMatch(/^invalid catalog:\nYAML: /);
    const plain = await put('text/plain', JSON.stringify({ configurationItems: [], services: [] }));
    expect([plain.status, ((await plain.json()) as { detail: string }).detail]).toEqual([415, 'Content-Type text/plain is not a catalog; send application/json or application/yaml']);
    // curl --data's default: no parser takes it, and the answer still says what and where.
    const form = await put('application/x-www-form-urlencoded', 'services=');
    expect([form.status, await form.json()]).toEqual([
      415,
      { error: 'REQUEST_UNSUPPORTED_MEDIA_TYPE', detail: 'Content-Type application/x-www-form-urlencoded is not accepted by PUT /api/v1/services' },
    ]);
  });

  it('takes a valid catalog through PUT, and reloads the file when it changes', async () => {
    const put = await json('PUT', '/api/v1/services', { configurationItems: [{ id: 'h1', type: 'host' }], services: [{ id: 'api', name: 'API', criticality: 'low', ownerTeam: 'core', dependsOn: ['h1'] }] });
    expect(put.status).toBe(200);
    expect(((await (await fetch(`${vigil.url}/api/v1/services`)).json()) as { services: { id: string }[] }).services.map((s) => s.id)).toEqual(['api']);
    writeFileSync(catalogFile, catalogYaml('medium'));
    const deadline = Date.now() + 10_000;
    let criticality = '';
    while (Date.now() < deadline && criticality !== 'medium') {
      await new Promise((r) => setTimeout(r, 250));
      const body = (await (await fetch(`${vigil.url}/api/v1/services`)).json()) as { services: { id: string; criticality: string }[] };
      criticality = body.services.find((s) => s.id === 'checkout')?.criticality ?? '';
    }
    expect(criticality).toBe('medium');
  });
});
