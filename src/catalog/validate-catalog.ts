import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { TSchema, TUnion } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseDocument } from 'yaml';
import { CatalogSchema, WEEKDAYS, type Catalog } from './catalog.schema.js';
import { validateBusinessCalendar } from '../incidents/sla-timers.js';
import { deepFreeze, isRecord } from '../shared/objects.js';

export type CatalogValidation = { ok: true; catalog: Catalog } | { ok: false; problems: string[] };

/** What a catalog is checked against besides itself. */
export interface CatalogContext {
  /**
   * Names of the configured notification routes: a service naming another one is refused (a
   * typo would leave its team unpaged), as Alertmanager refuses a route to an undefined
   * receiver. Left out, route names are not checked.
   */
  routeNames?: readonly string[];
}

/** Longest rendering of an offending value in a problem; arbitrary input can be huge. */
const MAX_VALUE_CHARS = 80;
/** YAML anchors expand; this bounds a "billion laughs" document. */
const MAX_YAML_ALIASES = 1000;

/**
 * Parses a catalog YAML document and validates it (see validateCatalog). Never throws:
 * YAML syntax errors come back as problems too.
 */
export function parseCatalogYaml(text: string, context: CatalogContext = {}): CatalogValidation {
  const parsed = catalogCandidateOfYaml(text);
  return parsed.ok ? validateCatalog(parsed.candidate, context) : parsed;
}

/** A YAML document as a value to validate; syntax errors, an empty document and alias bombs as problems. Never throws. */
export function catalogCandidateOfYaml(text: string): { ok: true; candidate: unknown } | { ok: false; problems: string[] } {
  try {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) return { ok: false, problems: doc.errors.map((e) => `YAML: ${e.message}`) };
    const candidate: unknown = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    if (candidate === null || candidate === undefined) return { ok: false, problems: ['catalog: the document is empty'] };
    return { ok: true, candidate };
  } catch (error) {
    return { ok: false, problems: [`YAML: ${error instanceof Error ? error.message : String(error)}`] };
  }
}

/**
 * Validates a candidate catalog: its shape (unknown fields refused, naming the valid ones),
 * ids unique across CIs, groups and services, every reference known and of the right kind,
 * no dependency cycles, k-of-n groups with 1 <= minimumUp <= members, SLA details. Lists
 * every problem with its path, not only the first. Never throws. On success the catalog is
 * a deep-frozen copy of the input.
 */
export function validateCatalog(candidate: unknown, context: CatalogContext = {}): CatalogValidation {
  const tooDeep = pathDeeperThan(candidate, MAX_DEPTH);
  if (tooDeep !== null) return { ok: false, problems: [`${tooDeep || 'catalog'}: nested deeper than ${MAX_DEPTH} levels, which no catalog needs`] };
  try {
    const problems = [...schemaProblems(candidate), ...semanticProblems(candidate), ...routeProblems(candidate, context.routeNames)];
    if (problems.length > 0) return { ok: false, problems };
    return { ok: true, catalog: deepFreeze(structuredClone(candidate as Catalog)) };
  } catch (error) {
    // Not expected (the property test feeds arbitrary JSON); a value beats a throw for callers.
    return { ok: false, problems: [`catalog: could not be validated: ${error instanceof Error ? error.message : String(error)}`] };
  }
}

/** Far more than a catalog's deepest path (a service's SLA support hours, ~6); the checks recurse. */
const MAX_DEPTH = 32;

/**
 * The path of a value nested deeper than `limit` (arrays and objects), or null: walked with a
 * stack of its own, so that a body of 100k nested arrays is refused by name rather than by
 * the checks overflowing the call stack.
 */
function pathDeeperThan(value: unknown, limit: number): string | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return path;
    for (const [key, child] of Object.entries(current)) stack.push({ value: child, path: Array.isArray(current) ? `${path}[${key}]` : path ? `${path}.${key}` : key, depth: depth + 1 });
  }
  return null;
}

function schemaProblems(candidate: unknown): string[] {
  const byPath = new Map<string, string>();
  collectSchemaErrors(CatalogSchema, candidate, '', byPath);
  return [...byPath.values()];
}

function collectSchemaErrors(schema: TSchema, value: unknown, prefix: string, byPath: Map<string, string>): void {
  for (const error of Value.Errors(schema, value)) {
    const path = prefix + error.path;
    // A missing field also fails its type check at the same path: the first says it best.
    if (byPath.has(path)) continue;
    // `"24x7" | { days }` given an object: the object's own problems say more than "not either".
    const objectVariant = error.type === ValueErrorType.Union && isRecord(error.value) ? (error.schema as TUnion).anyOf.find((v) => v.type === 'object') : undefined;
    if (objectVariant) collectSchemaErrors(objectVariant, error.value, path, byPath);
    else byPath.set(path, describeSchemaError({ ...error, path }));
  }
}

function describeSchemaError(error: ValueError): string {
  const where = formatPointer(error.path);
  const schema = error.schema as { description?: string; properties?: Record<string, unknown>; patternProperties?: Record<string, unknown> };
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      if (schema.properties) return `${where}: unknown field; valid fields are ${Object.keys(schema.properties).join(', ')}`;
      return `${where}: not a valid label name (letters, digits and "_", not starting with a digit)`;
    }
    case ValueErrorType.ObjectRequiredProperty:
      return `${where}: required field is missing`;
    case ValueErrorType.Union:
    case ValueErrorType.StringPattern:
      if (schema.description) return `${where}: expected ${schema.description} (got ${render(error.value)})`;
      break;
    default:
      break;
  }
  return `${where}: ${error.message} (got ${render(error.value)})`;
}

/** `/services/2/dependsOn/0` → `services[2].dependsOn[0]`, the way people read config. */
function formatPointer(pointer: string): string {
  if (pointer === '') return 'catalog';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^(0|[1-9][0-9]*)$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

function render(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

type Kind = 'ci' | 'group' | 'service';
const KIND_WORD: Record<Kind, string> = { ci: 'a CI', group: 'a redundancy group', service: 'a service' };

/** Checks that need the whole catalog. Reads defensively: the shape may be invalid too. */
function semanticProblems(candidate: unknown): string[] {
  if (!isRecord(candidate)) return [];
  const problems: string[] = [];
  const cis = entries(candidate.configurationItems, 'configurationItems');
  const groups = entries(candidate.redundancyGroups, 'redundancyGroups');
  const services = entries(candidate.services, 'services');

  const kinds = new Map<string, { kind: Kind; path: string }>();
  const duplicates = new Set<Record<string, unknown>>();
  const register = (list: Entry[], kind: Kind) => {
    for (const { path, value } of list) {
      const id = value.id;
      if (typeof id !== 'string') continue;
      const first = kinds.get(id);
      if (first) problems.push(`duplicate id ${JSON.stringify(id)}: ${first.path} and ${path}`);
      else kinds.set(id, { kind, path });
      // Only the first holder of an id gets graph edges: merging two entries' edges would invent cycles.
      if (first) duplicates.add(value);
    }
  };
  register(cis, 'ci');
  register(groups, 'group');
  register(services, 'service');

  const edges = new Map<string, string[]>();
  const addEdge = (from: unknown, to: string) => {
    if (typeof from !== 'string') return;
    const list = edges.get(from) ?? [];
    list.push(to);
    edges.set(from, list);
  };

  const dependents = [...cis.map((e) => ({ ...e, isService: false })), ...services.map((e) => ({ ...e, isService: true }))];
  for (const { path, value, isService } of dependents) {
    const what = isService ? 'services' : 'CIs';
    forEachId(value.dependsOn, `${path}.dependsOn`, problems, (ref, refPath) => {
      const target = kinds.get(ref);
      if (!target) problems.push(`${refPath}: unknown CI or redundancy group ${JSON.stringify(ref)}`);
      else if (target.kind === 'service') problems.push(`${refPath}: ${JSON.stringify(ref)} is a service; ${what} depend on CIs and redundancy groups`);
      else if (!isService && !duplicates.has(value)) addEdge(value.id, ref);
    });
  }

  for (const { path, value } of groups) {
    forEachId(value.members, `${path}.members`, problems, (ref, refPath) => {
      const target = kinds.get(ref);
      if (!target) problems.push(`${refPath}: unknown CI ${JSON.stringify(ref)}`);
      else if (target.kind !== 'ci') problems.push(`${refPath}: ${JSON.stringify(ref)} is ${KIND_WORD[target.kind]}; members must be CIs`);
      else if (!duplicates.has(value)) addEdge(value.id, ref);
    });
    const { members, minimumUp } = value;
    if (Array.isArray(members) && members.length > 0 && typeof minimumUp === 'number' && minimumUp > members.length) {
      problems.push(`${path}.minimumUp: ${minimumUp} but the group has ${members.length} member${members.length === 1 ? '' : 's'} (must be 1..${members.length})`);
    }
  }

  for (const { path, value } of services) {
    if (isRecord(value.sla)) problems.push(...slaProblems(value.sla, `${path}.sla`));
    if (isRecord(value.supportHours)) problems.push(...supportHoursProblems(value.supportHours, `${path}.supportHours`));
  }

  problems.push(...findCycles(edges).map((cycle) => `dependency cycle: ${cycle.join(' → ')}`));
  return problems;
}

/** Services naming a notification route that is not configured (none when `routeNames` is not given). */
export function routeProblems(candidate: unknown, routeNames: readonly string[] | undefined): string[] {
  if (!routeNames || !isRecord(candidate)) return [];
  const known = new Set(routeNames);
  const configured = routeNames.length === 0 ? 'none is configured' : `configured: ${routeNames.join(', ')}`;
  const problems: string[] = [];
  for (const { path, value } of entries(candidate.services, 'services')) {
    if (!Array.isArray(value.notificationRoutes)) continue;
    value.notificationRoutes.forEach((name, i) => {
      if (typeof name === 'string' && name !== '' && !known.has(name)) {
        problems.push(`${path}.notificationRoutes[${i}]: no notification route ${render(name)} (${configured})`);
      }
    });
  }
  return problems;
}

type Entry = { path: string; value: Record<string, unknown> };

function entries(list: unknown, name: string): Entry[] {
  if (!Array.isArray(list)) return [];
  const out: Entry[] = [];
  list.forEach((value, i) => {
    if (isRecord(value)) out.push({ path: `${name}[${i}]`, value });
  });
  return out;
}

/** Calls `visit` for each string id in `list` once; a repeat is itself a problem. */
function forEachId(list: unknown, path: string, problems: string[], visit: (id: string, path: string) => void): void {
  if (!Array.isArray(list)) return;
  const seen = new Set<string>();
  list.forEach((ref, i) => {
    if (typeof ref !== 'string') return;
    if (seen.has(ref)) {
      problems.push(`${path}[${i}]: ${JSON.stringify(ref)} is listed twice`);
      return;
    }
    seen.add(ref);
    visit(ref, `${path}[${i}]`);
  });
}

/** Zabbix stores SLOs with 4 decimals; finer targets are a typo, not a promise. */
const MAX_TARGET_DECIMALS = 4;

function slaProblems(sla: Record<string, unknown>, path: string): string[] {
  const problems: string[] = [];
  const { targetPercent, timeZone, schedule } = sla;
  if (typeof targetPercent === 'number' && Number.isFinite(targetPercent)) {
    if (Number(targetPercent.toFixed(MAX_TARGET_DECIMALS)) !== targetPercent) {
      problems.push(`${path}.targetPercent: at most ${MAX_TARGET_DECIMALS} decimals (got ${targetPercent})`);
    }
  }
  if (typeof timeZone === 'string' && !isTimeZone(timeZone)) {
    problems.push(`${path}.timeZone: unknown IANA time zone ${JSON.stringify(timeZone)} (e.g. Europe/Berlin, UTC)`);
  }
  if (isRecord(schedule) && isRecord(schedule.days)) {
    let scheduledRanges = 0;
    for (const day of WEEKDAYS) {
      const ranges = schedule.days[day];
      if (!Array.isArray(ranges)) continue;
      ranges.forEach((range, i) => {
        if (typeof range !== 'string') return;
        const minutes = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(range);
        if (!minutes) {
          scheduledRanges += 1; // the schema reports the pattern; "no time at all" would mislead
          return;
        }
        const [, h1, m1, h2, m2] = minutes.map(Number) as [number, number, number, number, number];
        if (h1 * 60 + m1 >= h2 * 60 + m2) problems.push(`${path}.schedule.days.${day}[${i}]: ${range} ends before it starts`);
        else scheduledRanges += 1;
      });
    }
    if (scheduledRanges === 0) problems.push(`${path}.schedule: schedules no time at all (use "24x7" or list hours under days)`);
  }
  return problems;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Every elementary cycle met as a back edge by a depth-first walk (iterative: a catalog may
 * hold long chains), each rotated to start at its smallest id and reported once.
 */
function findCycles(edges: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const cycles = new Map<string, string[]>();
  for (const root of [...edges.keys()].sort()) {
    if (state.has(root)) continue;
    const path: string[] = [root];
    const frames: { node: string; next: number }[] = [{ node: root, next: 0 }];
    state.set(root, 'open');
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const targets = edges.get(frame.node) ?? [];
      if (frame.next >= targets.length) {
        state.set(frame.node, 'done');
        frames.pop();
        path.pop();
        continue;
      }
      const target = targets[frame.next++]!;
      const seen = state.get(target);
      if (seen === 'open') {
        const cycle = path.slice(path.indexOf(target));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(rotated.join('\u0000'), [...rotated, rotated[0]!]);
      } else if (seen === undefined) {
        state.set(target, 'open');
        path.push(target);
        frames.push({ node: target, next: 0 });
      }
    }
  }
  return [...cycles.values()];
}

/**
 * Support hours the SLA timers can count in: a known time zone, windows that start before
 * they end, real holiday dates, and at least one window (timers would never advance).
 * The shape was checked by the schema already.
 */
function supportHoursProblems(hours: Record<string, unknown>, path: string): string[] {
  const days: Record<string, Array<[string, string]>> = {};
  let windows = 0;
  for (const [day, ranges] of Object.entries(isRecord(hours.days) ? hours.days : {})) {
    days[day] = (Array.isArray(ranges) ? ranges : []).map((range) => String(range).split('-') as [string, string]);
    windows += days[day].length;
  }
  const checked = validateBusinessCalendar({ timeZone: hours.timeZone, days, ...(hours.holidays === undefined ? {} : { holidays: hours.holidays }) });
  const problems = checked.ok ? [] : checked.problems.map((problem) => `${path}.${problem}`);
  if (windows === 0) problems.push(`${path}.days: no support hours at all (omit supportHours for 24x7)`);
  return problems;
}
