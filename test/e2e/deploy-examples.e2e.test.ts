import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { findPeers } from '../helpers/peers.js';
import { metricUses, seriesNamesOf } from '../helpers/metric-names.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

// The examples in deploy/ that users copy: Prometheus' configuration and Vigil's health rules
// (with their promtool unit tests), and Alertmanager's configuration, checked by the tools of
// the Debian packages the other end-to-end tests run; and every metric the rules read is one
// a running Vigil exposes.
const deploy = resolve(import.meta.dirname, '../../deploy');
const peers = findPeers('deploy-examples', {
  promtool: { names: ['promtool'], debianPackage: 'prometheus' },
  amtool: { names: ['amtool'], debianPackage: 'prometheus-alertmanager' },
});

function run(bin: string, args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe.skipIf(peers.skipReason !== undefined)('deploy/ examples, checked by promtool and amtool', () => {
  it('prometheus.yml is a valid configuration, rule file included', () => {
    const { promtool } = peers.require();
    const result = run(promtool, ['check', 'config', 'prometheus.yml'], join(deploy, 'prometheus'));
    expect(result.output).toContain('SUCCESS');
    expect(result.status, result.output).toBe(0);
  });

  it("Vigil's health rules pass their promtool unit tests", () => {
    const { promtool } = peers.require();
    const result = run(promtool, ['test', 'rules', 'vigil.rules.test.yml'], join(deploy, 'prometheus'));
    expect(result.status, result.output).toBe(0);
  });

  it('alertmanager.yml is a valid configuration', () => {
    const { amtool } = peers.require();
    const result = run(amtool, ['check-config', 'alertmanager.yml'], join(deploy, 'alertmanager'));
    expect(result.status, result.output).toBe(0);
  });
});

describe("Vigil's health rules read metrics Vigil exposes", () => {
  let vigil: TestVigil;
  beforeAll(async () => {
    vigil = await startTestVigil();
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('every metric name in vigil.rules.yml is on /metrics', async () => {
    const rules = parseYaml(readFileSync(join(deploy, 'prometheus/vigil.rules.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const exposed = seriesNamesOf(await (await fetch(`${vigil.url}/metrics`)).text());
    // `up` is Prometheus' own, of the scrape.
    const used = rules.groups.flatMap((g) => g.rules.map((r) => ({ alert: r.alert, names: metricUses(r.expr).map((u) => u.name).filter((n) => n !== 'up') })));
    expect(used.flatMap((u) => u.names).length).toBeGreaterThan(8);
    const unknown = used.flatMap((u) => u.names.filter((n) => !exposed.has(n)).map((n) => `${u.alert}: ${n}`));
    expect(unknown).toEqual([]);
  });
});
