import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { panelsOf, queriesOf, readDashboards, variableQueryOf, type Dashboard, type GridPos } from '../helpers/dashboards.js';
import { metricUses, seriesNamesOf, STRING, type SeriesKind } from '../helpers/metric-names.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

// The Grafana dashboards under dashboards/ against a running Vigil: every metric a query names
// must be on GET /metrics, so renaming a metric without the dashboards fails here. Also the
// shape Grafana needs (panel ids, grid, the datasource variable) and PromQL habits: counters
// through rate()/increase() over $__rate_interval or $__range, every selector filtered by a
// dashboard variable (the process metrics exist on every Node target Prometheus scrapes).

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const PANEL_TYPES = new Set(['row', 'timeseries', 'stat', 'gauge', 'bargauge', 'table', 'text', 'heatmap']);

const dashboards = readDashboards();

/** Names of the template variables other than the datasource one. */
function filterVariables(dashboard: Dashboard): string[] {
  return (dashboard.templating?.list ?? []).filter((v) => v.type !== 'datasource').map((v) => String(v.name));
}

/** `where: name` for each metric a query names that the exposition does not provide. */
function unknownMetrics(dashboard: Dashboard, series: ReadonlyMap<string, SeriesKind>): string[] {
  return queriesOf(dashboard).flatMap(({ where, expr }) =>
    metricUses(expr)
      .filter((use) => !series.has(use.name))
      .map((use) => `${where}: ${use.name}`),
  );
}

describe.each(dashboards)('dashboards/$file', ({ file, dashboard }) => {
  it('is a dashboard with a Prometheus datasource variable that every other variable reads', () => {
    expect(typeof dashboard.uid, file).toBe('string');
    expect(typeof dashboard.title).toBe('string');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const variables = dashboard.templating?.list ?? [];
    expect(variables.filter((v) => v.name === 'datasource')).toMatchObject([{ type: 'datasource', query: 'prometheus' }]);
    for (const variable of variables.filter((v) => v.type === 'query')) expect(variable.datasource, String(variable.name)).toEqual(DATASOURCE);
  });

  it('has unique panel ids, known panel types, and panels inside the 24-column grid that do not overlap', () => {
    const panels = panelsOf(dashboard);
    expect(panels.length).toBeGreaterThan(0);
    const ids = panels.map((panel) => panel.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      const where = `panel ${String(panel.id)} "${String(panel.title)}"`;
      expect(PANEL_TYPES.has(String(panel.type)), `${where} type ${String(panel.type)}`).toBe(true);
      const g = panel.gridPos;
      expect(g, where).toBeDefined();
      expect(g!.x >= 0 && g!.y >= 0 && g!.w >= 1 && g!.h >= 1 && g!.x + g!.w <= 24, `${where} gridPos ${JSON.stringify(g)}`).toBe(true);
    }
    const overlaps = (a: GridPos, b: GridPos) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
    // Panels of a collapsed row are laid out when it opens: compare the top level only.
    const top = dashboard.panels ?? [];
    for (const [i, a] of top.entries()) {
      for (const b of top.slice(i + 1)) expect(overlaps(a.gridPos!, b.gridPos!), `panels ${String(a.id)} and ${String(b.id)} overlap`).toBe(false);
    }
  });

  it('reads the datasource variable in every query panel, and every target has a refId and an expr', () => {
    for (const panel of panelsOf(dashboard).filter((p) => p.type !== 'row' && p.type !== 'text')) {
      const where = `panel ${String(panel.id)} "${String(panel.title)}"`;
      expect(panel.datasource, where).toEqual(DATASOURCE);
      const targets = panel.targets ?? [];
      expect(targets.length, where).toBeGreaterThan(0);
      for (const target of targets) {
        expect(typeof target.refId === 'string' && target.refId !== '', `${where} refId`).toBe(true);
        expect(typeof target.expr === 'string' && target.expr.trim() !== '', `${where} ${String(target.refId)} expr`).toBe(true);
        if (target.datasource !== undefined) expect(target.datasource, `${where} ${String(target.refId)}`).toEqual(DATASOURCE);
      }
      const refIds = targets.map((target) => target.refId);
      expect(new Set(refIds).size, `${where} refIds`).toBe(refIds.length);
    }
  });

  it("uses Grafana's ranges and filters every selector by a dashboard variable", () => {
    const variables = filterVariables(dashboard);
    expect(variables.length).toBeGreaterThan(0);
    for (const { where, expr } of queriesOf(dashboard)) {
      for (const [, range] of expr.replace(STRING, '""').matchAll(/\[([^\]]*)\]/g)) expect(range, `${where}: ${expr}`).toMatch(/^\$__(rate_interval|range)$/);
      const uses = metricUses(expr);
      expect(uses.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const use of uses) {
        const filtered = variables.some((name) => new RegExp(`"\\$(?:${name}|\\{${name}(?::\\w+)?\\})"`).test(use.matchers));
        expect(filtered, `${where}: ${use.name} without a variable filter`).toBe(true);
      }
    }
  });
});

describe('dashboards against the metrics of a running Vigil', () => {
  let vigil: TestVigil;
  let exposition: string;
  let series: Map<string, SeriesKind>;

  beforeAll(async () => {
    vigil = await startTestVigil();
    const response = await fetch(`${vigil.url}/metrics`);
    expect(response.status).toBe(200);
    exposition = await response.text();
    series = seriesNamesOf(exposition);
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('scrapes the families the dashboards are about', () => {
    expect(series.get('vigil_ingest_requests_total')).toBe('counter');
    expect(series.get('vigil_notification_attempt_duration_seconds_bucket')).toBe('counter');
    expect(series.get('vigil_incidents')).toBe('gauge');
    expect(series.get('process_resident_memory_bytes')).toBe('gauge');
  });

  it.each(dashboards)('dashboards/$file names only metrics Vigil exposes', ({ dashboard }) => {
    const used = new Set(queriesOf(dashboard).flatMap(({ expr }) => metricUses(expr).map((use) => use.name)));
    expect(used.size).toBeGreaterThan(0);
    expect(unknownMetrics(dashboard, series)).toEqual([]);
  });

  it.each(dashboards)('dashboards/$file reads counters through rate() or increase(), and gauges as they are', ({ dashboard }) => {
    const misread = queriesOf(dashboard).flatMap(({ where, expr }) =>
      metricUses(expr)
        .filter((use) => {
          const kind = series.get(use.name);
          return (kind === 'counter' && !use.throughCounterFunction) || (kind === 'gauge' && use.throughCounterFunction);
        })
        .map((use) => `${where}: ${use.name} (${series.get(use.name)})`),
    );
    expect(misread).toEqual([]);
  });

  it.each(dashboards)("dashboards/$file variables list values of a series /metrics carries from the start", ({ dashboard }) => {
    for (const variable of (dashboard.templating?.list ?? []).filter((v) => v.type === 'query')) {
      const query = variableQueryOf(variable);
      const metric = /label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(query)?.[1];
      expect(metric, `variable ${String(variable.name)}: ${query}`).toBeDefined();
      // A labelled counter shows no sample before it counts something: the variable would list nothing.
      expect(new RegExp(`^${metric}[ {]`, 'm').test(exposition), `variable ${String(variable.name)}: ${metric} has no sample`).toBe(true);
    }
  });

  it('would catch a misspelt metric name', () => {
    const { dashboard } = dashboards[0]!;
    const broken = structuredClone(dashboard);
    const target = panelsOf(broken).flatMap((panel) => panel.targets ?? []).find((t) => String(t.expr).includes('vigil_'))!;
    target.expr = String(target.expr).replace('vigil_', 'vigil_misspelt_');
    expect(unknownMetrics(broken, series)).toContainEqual(expect.stringContaining('vigil_misspelt_'));
  });
});
