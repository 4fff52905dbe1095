import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The Grafana dashboards under dashboards/, read as plain JSON: the fields the dashboard tests
 * check (@grafana/schema types them more strictly; unknown stays unknown here so a wrong type
 * is a test failure, not a crash).
 */

export const dashboardDir = join(import.meta.dirname, '../../dashboards');

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface Target {
  refId?: unknown;
  expr?: unknown;
  datasource?: unknown;
}
export interface Panel {
  id?: unknown;
  type?: unknown;
  title?: unknown;
  datasource?: unknown;
  gridPos?: GridPos;
  targets?: Target[];
  panels?: Panel[];
}
export interface Variable {
  name?: unknown;
  type?: unknown;
  query?: unknown;
  datasource?: unknown;
}
export interface Dashboard {
  uid?: unknown;
  title?: unknown;
  schemaVersion?: unknown;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

/** Every dashboards/*.json, by file name. */
export function readDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(dashboardDir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dashboardDir, file), 'utf8')) as Dashboard }));
}

/** Every panel, those inside (collapsed) rows included. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

export interface DashboardQuery {
  /** `panel <id> "<title>" <refId>`, for messages. */
  where: string;
  title: string;
  refId: string;
  expr: string;
}

/** Every query of the dashboard's panels, named for messages. */
export function queriesOf(dashboard: Dashboard): DashboardQuery[] {
  return panelsOf(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      where: `panel ${String(panel.id)} "${String(panel.title)}" ${String(target.refId)}`,
      title: String(panel.title),
      refId: String(target.refId),
      expr: String(target.expr),
    })),
  );
}

/** A query variable's query: a string in old dashboards, `{ query }` since Grafana 10. */
export function variableQueryOf(variable: Variable): string {
  return typeof variable.query === 'string' ? variable.query : String((variable.query as { query?: unknown } | undefined)?.query);
}
