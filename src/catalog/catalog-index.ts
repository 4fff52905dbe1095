import {
  DEFAULT_ALERT_MAPPING,
  type AlertMappingRule,
  type Catalog,
  type ConfigurationItem,
  type RedundancyGroup,
  type Service,
} from './catalog.schema.js';

/** Read-only lookups over a validated catalog; built once per catalog version. */
export interface CatalogIndex {
  readonly catalog: Catalog;
  readonly ciById: ReadonlyMap<string, ConfigurationItem>;
  readonly groupById: ReadonlyMap<string, RedundancyGroup>;
  readonly serviceById: ReadonlyMap<string, Service>;
  /** Notification routes some service names in its `notificationRoutes`. */
  readonly routesNamedByServices: ReadonlySet<string>;
  /** The catalog's rules, or DEFAULT_ALERT_MAPPING when it has none. */
  readonly alertMapping: readonly AlertMappingRule[];
  /** Ids of services that need this CI or group, directly or through CIs and groups; sorted; [] when unknown. */
  servicesDependingOn(id: string): string[];
  /** Every CI and group this CI or group needs, transitively (its upstream); sorted, without itself. */
  dependenciesOf(id: string): string[];
  /**
   * Every dependency chain from this CI or group up to a CI that depends on nothing, each
   * starting with `id` (a group is followed through its members): `[app-1, db-pair, db-1, sw-1]`.
   * `[[id]]` when it depends on nothing, [] when unknown; at most MAX_UPSTREAM_PATHS chains.
   */
  upstreamPath(id: string): string[][];
  /**
   * Ids whose `match` field (`ci.id`, `ci.name` (the id when unnamed), `ci.label:<key>`,
   * `service.id`, `service.name`) equals `value`, optionally ignoring case; [] when none.
   */
  lookup(match: string, value: string, ignoreCase?: boolean): string[];
}

export interface AlertCatalogMatch {
  /** CIs the alert is about; sorted. */
  ciIds: string[];
  /** Services the alert may affect: those depending on the CIs, or the one it names; sorted. */
  serviceIds: string[];
  /** The rule that matched, e.g. `alertMapping[0]: instance strip_port → ci.id`; absent when none did. */
  rule?: string;
}

/** A wide mesh (every host on two switches, ...) multiplies chains; past this, paths are cut. */
export const MAX_UPSTREAM_PATHS = 1000;

/**
 * Builds the lookups for a catalog that passed validateCatalog (ids unique, references known,
 * no cycles). Pure; the maps are built eagerly, transitive answers computed on demand and cached.
 */
export function buildCatalogIndex(catalog: Catalog): CatalogIndex {
  const ciById = new Map(catalog.configurationItems.map((ci) => [ci.id, ci]));
  const groups = catalog.redundancyGroups ?? [];
  const groupById = new Map(groups.map((g) => [g.id, g]));
  const serviceById = new Map(catalog.services.map((s) => [s.id, s]));
  const routesNamedByServices = new Set(catalog.services.flatMap((s) => s.notificationRoutes ?? []));

  // upstream: what a CI or group needs; downstream: the CIs and groups that need it.
  const upstream = new Map<string, string[]>();
  const downstream = new Map<string, string[]>();
  const directServices = new Map<string, string[]>();
  const link = (from: string, to: string) => {
    push(upstream, from, to);
    push(downstream, to, from);
  };
  for (const ci of catalog.configurationItems) for (const dep of ci.dependsOn ?? []) link(ci.id, dep);
  for (const group of groups) for (const member of group.members) link(group.id, member);
  for (const service of catalog.services) for (const dep of service.dependsOn) push(directServices, dep, service.id);

  const lookups = buildLookups(catalog);
  const servicesCache = new Map<string, string[]>();
  const dependenciesCache = new Map<string, string[]>();
  const isNode = (id: string) => ciById.has(id) || groupById.has(id);

  return {
    catalog,
    ciById,
    groupById,
    serviceById,
    routesNamedByServices,
    alertMapping: catalog.alertMapping ?? DEFAULT_ALERT_MAPPING,
    servicesDependingOn(id) {
      if (!isNode(id)) return [];
      let cached = servicesCache.get(id);
      if (!cached) {
        const services = new Set<string>();
        for (const node of reachable(id, downstream)) for (const s of directServices.get(node) ?? []) services.add(s);
        cached = [...services].sort();
        servicesCache.set(id, cached);
      }
      return [...cached];
    },
    dependenciesOf(id) {
      if (!isNode(id)) return [];
      let cached = dependenciesCache.get(id);
      if (!cached) {
        cached = [...reachable(id, upstream)].filter((n) => n !== id).sort();
        dependenciesCache.set(id, cached);
      }
      return [...cached];
    },
    upstreamPath(id) {
      return isNode(id) ? chains(id, upstream) : [];
    },
    lookup(match, value, ignoreCase = false) {
      return lookups.find(match, value, ignoreCase);
    },
  };
}

/**
 * Maps an alert's labels onto the catalog: the index's alertMapping rules are tried in order
 * and the first whose label is present and whose value finds a CI or service wins. A CI match
 * brings the services depending on it (transitively, whatever the redundancy: availability
 * decides whether they are actually down). No match gives empty lists and no `rule`.
 */
export function mapAlertToCatalog(labels: Readonly<Record<string, string>>, index: CatalogIndex): AlertCatalogMatch {
  for (const [i, rule] of index.alertMapping.entries()) {
    if (!Object.hasOwn(labels, rule.label)) continue;
    const raw = labels[rule.label];
    if (typeof raw !== 'string' || raw === '') continue;
    const caseless = rule.transform === 'lowercase';
    const value = transformValue(raw, rule.transform);
    if (value === '') continue;
    const ids = index.lookup(rule.match, value, caseless);
    if (ids.length === 0) continue;
    const description = `alertMapping[${i}]: ${rule.label}${rule.transform && rule.transform !== 'none' ? ` ${rule.transform}` : ''} → ${rule.match}`;
    if (rule.match.startsWith('service.')) return { ciIds: [], serviceIds: [...ids].sort(), rule: description };
    const services = new Set<string>();
    for (const ciId of ids) for (const s of index.servicesDependingOn(ciId)) services.add(s);
    return { ciIds: [...ids].sort(), serviceIds: [...services].sort(), rule: description };
  }
  return { ciIds: [], serviceIds: [] };
}

/**
 * `strip_port` keeps the host of `host:port`, `[v6]:port` or a URL (blackbox exporter's
 * `instance` is often `https://host/path`); a bare IPv6 address is left whole.
 */
function transformValue(value: string, transform: AlertMappingRule['transform']): string {
  if (transform !== 'strip_port') return value;
  if (value.includes('://')) {
    try {
      const host = new URL(value).hostname;
      return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    } catch {
      return value;
    }
  }
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(value);
  if (bracketed) return bracketed[1]!;
  const colon = value.indexOf(':');
  if (colon === -1 || value.indexOf(':', colon + 1) !== -1) return value;
  return value.slice(0, colon);
}

interface Lookups {
  find(match: string, value: string, ignoreCase: boolean): string[];
}

/** Value → ids tables per match kind, exact and lower-cased. */
function buildLookups(catalog: Catalog): Lookups {
  const exact = new Map<string, string[]>();
  const caseless = new Map<string, string[]>();
  const add = (match: string, value: string, id: string) => {
    push(exact, `${match}\u0000${value}`, id);
    push(caseless, `${match}\u0000${value.toLowerCase()}`, id);
  };
  for (const ci of catalog.configurationItems) {
    add('ci.id', ci.id, ci.id);
    add('ci.name', ci.name ?? ci.id, ci.id);
    for (const [key, value] of Object.entries(ci.labels ?? {})) add(`ci.label:${key}`, value, ci.id);
  }
  for (const service of catalog.services) {
    add('service.id', service.id, service.id);
    add('service.name', service.name, service.id);
  }
  return {
    find: (match, value, ignoreCase) => {
      const key = `${match}\u0000${ignoreCase ? value.toLowerCase() : value}`;
      return [...new Set((ignoreCase ? caseless : exact).get(key) ?? [])];
    },
  };
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** All nodes reachable from `start` along `edges`, `start` included; safe on cycles. */
function reachable(start: string, edges: ReadonlyMap<string, string[]>): Set<string> {
  const seen = new Set([start]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const next of edges.get(queue[i]!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

/** Root-to-leaf chains from `start`, depth first in declaration order, capped at MAX_UPSTREAM_PATHS. */
function chains(start: string, edges: ReadonlyMap<string, string[]>): string[][] {
  const out: string[][] = [];
  const path: string[] = [];
  const onPath = new Set<string>();
  const walk = (node: string) => {
    if (out.length >= MAX_UPSTREAM_PATHS) return;
    path.push(node);
    onPath.add(node);
    const next = (edges.get(node) ?? []).filter((n) => !onPath.has(n));
    if (next.length === 0) out.push([...path]);
    else for (const n of next) walk(n);
    path.pop();
    onPath.delete(node);
  };
  walk(start);
  return out;
}
