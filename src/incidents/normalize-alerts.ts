/**
 * Source-specific mapping of alert bodies to `AlertEvent` (the "normalise" step of the
 * correlation core). Pure: the caller passes the arrival time; nothing here reads a clock
 * or throws. Every rejection names the JSON path of the first problem found.
 */
import { fingerprintLabels } from './alert-fingerprint.js';
import { scanAlertList } from './alert-list-scan.js';
import { SEVERITIES, type AlertEvent, type AlertSource, type AlertStatus, type Severity } from './alert.js';
import { isRecord } from '../shared/objects.js';

/** Outcome of one body: every alert, or none and why (nothing of a rejected body is kept). */
export type NormalizeResult = { ok: true; alerts: AlertEvent[] } | { ok: false; detail: string };

/** Go's zero `time.Time`, which Alertmanager sends as `endsAt` for "no end". */
const GO_ZERO_TIME_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z
/** Events API v2 limits (PagerDuty developer docs, 02-Trigger-Events.md). */
const PD_MAX_DEDUP_KEY_CHARS = 255;
/** A sender's own alert key, Alertmanager's 16 hex digits or a script's: at most PagerDuty's limit. */
const MAX_FINGERPRINT_CHARS = PD_MAX_DEDUP_KEY_CHARS;
const PD_MAX_SUMMARY_CHARS = 1024;
const PD_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
const PD_ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;
/** The fields of Vigil's own alert JSON (api.md "Vigil's own alert"); anything else is rejected. */
const VIGIL_FIELDS = ['labels', 'annotations', 'status', 'severity', 'startsAt', 'endsAt', 'source', 'fingerprint'];

/** Internal early exit carrying the path-qualified reason; never escapes this module. */
class Invalid extends Error {}

/**
 * Where a value sits in the body: a root name (`''` for none) or a step below a parent. Paths
 * are spelled out only for a message: building `alerts[i].labels` strings for every alert
 * was a third of the cost of normalising one.
 */
type JsonPath = string | { parent: JsonPath; key: string | number };

function fail(path: JsonPath, message: string): never {
  const text = pathText(path);
  throw new Invalid(text === '' ? message : `${text}: ${message}`);
}

function run(produce: () => AlertEvent[]): NormalizeResult {
  try {
    return { ok: true, alerts: produce() };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, detail: err.message };
    // A bug or a hostile object (cyclic custom_details); still a value, never a throw.
    return { ok: false, detail: `body could not be read: ${err instanceof Error ? err.message : String(err)}` };
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function child(parent: JsonPath, key: string | number): JsonPath {
  return { parent, key };
}

/** `alerts[2].labels.instance`, `alerts[0].labels["my-label"]`. */
function pathText(path: JsonPath): string {
  if (typeof path === 'string') return path;
  const parent = pathText(path.parent);
  const { key } = path;
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (!IDENTIFIER.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}


function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function expectObject(value: unknown, path: JsonPath): Record<string, unknown> {
  if (value === undefined) fail(path, 'is required');
  if (!isRecord(value)) fail(path, `must be an object, got ${typeName(value)}`);
  return value;
}

function expectArray(value: unknown, path: JsonPath): unknown[] {
  if (value === undefined) fail(path, 'is required');
  if (!Array.isArray(value)) fail(path, `must be an array, got ${typeName(value)}`);
  return value;
}

/** A field's string; null counts as absent, as Alertmanager reads it (scripts write their None so). */
function optionalString(obj: Record<string, unknown>, key: string, path: JsonPath): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(child(path, key), `must be a string, got ${typeName(value)}`);
  return value;
}

function requiredString(obj: Record<string, unknown>, key: string, path: JsonPath): string {
  const value = optionalString(obj, key, path);
  if (value === undefined) fail(child(path, key), 'is required');
  return value;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], path: JsonPath): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) fail(path, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return found;
}

/**
 * A string→string map, checked in place and kept as it came (no copy) unless entries go: a
 * parsed body's `__proto__` key is an own property, so it stays an ordinary label. A null
 * value is an absent entry. `labels`: an empty value is an absent label too, and one label
 * at least must remain, as Alertmanager's API has it (removeEmptyLabels, then "at least one
 * label pair required"), so that its fingerprint and Vigil's agree.
 */
function stringMap(value: unknown, path: JsonPath, opts: { labels: boolean }): Record<string, string> {
  const obj = expectObject(value, path);
  const names = Object.keys(obj);
  const isAbsent = (v: unknown) => v === null || (opts.labels && v === '');
  let absent = 0;
  for (const name of names) {
    if (name === '') fail(path, 'names must not be empty');
    const v = obj[name];
    if (isAbsent(v)) absent++;
    else if (typeof v !== 'string') fail(child(path, name), `must be a string, got ${typeName(v)}`);
  }
  if (opts.labels && names.length - absent === 0) fail(path, 'must hold at least one label with a value');
  if (absent === 0) return obj as Record<string, string>;
  const kept: Record<string, string> = {};
  for (const name of names) {
    const v = obj[name];
    if (isAbsent(v)) continue;
    Object.defineProperty(kept, name, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return kept;
}

/** An alert's annotations: absent or null is none. */
function annotationsOf(a: Record<string, unknown>, path: JsonPath): Record<string, string> {
  const value = a['annotations'];
  return value === undefined || value === null ? {} : stringMap(value, child(path, 'annotations'), { labels: false });
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** RFC 3339 date-time; also `+hhmm` offsets, which PagerDuty's own examples use. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Milliseconds since 1970 of an RFC 3339 timestamp (sub-millisecond digits truncated), or
 * null when malformed. Built field by field: `Date.parse` is lenient and maps years < 100
 * to the 1900s, which would move Go's zero time.
 */
export function parseTimestampMs(text: string): number | null {
  // The alerts of one request mostly share their timestamps (Prometheus sets one endsAt per
  // evaluation): the last two answers are kept, and a repeat costs a string comparison.
  if (text === lastText) return lastMs;
  if (text === previousText) return previousMs;
  const ms = parseTimestampUncached(text);
  if (ms !== null) {
    previousText = lastText;
    previousMs = lastMs;
    lastText = text;
    lastMs = ms;
  }
  return ms;
}

// null until filled: no text matches it (an empty string must still be refused).
let lastText: string | null = null;
let lastMs = 0;
let previousText: string | null = null;
let previousMs = 0;

function parseTimestampUncached(text: string): number | null {
  const m = TIMESTAMP.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return null;
  const maxDay = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 31);
  if (day < 1 || day > maxDay) return null;
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const offH = Number(m[10]);
    const offM = Number(m[11]);
    if (offH > 23 || offM > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offH * 60 + offM);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // A leap second (:60) counts as the last millisecond-aligned moment of that minute's end.
  date.setUTCHours(hour, minute, Math.min(second, 59), second === 60 ? 999 : millis);
  return date.getTime() - offsetMinutes * 60_000;
}

/**
 * What ClickHouse's DateTime64 holds: a time outside it would be acknowledged, then never
 * stored. Such times are moved to the nearest end, not refused: a refusal loses the whole body,
 * an Alertmanager group with it, at every retry ("never" as 9999-12-31, a clock at 1800).
 */
const EARLIEST_MS = Date.UTC(1900, 0, 1);
const LATEST_MS = Date.UTC(2300, 0, 1) - 1;

function timestampAt(value: string, path: JsonPath): number {
  return storable(parsedTimestamp(value, path));
}

function parsedTimestamp(value: string, path: JsonPath): number {
  const ms = parseTimestampMs(value);
  if (ms === null) fail(path, `must be an RFC 3339 timestamp, got ${JSON.stringify(value)}`);
  return ms;
}

function storable(ms: number): number {
  return Math.min(Math.max(ms, EARLIEST_MS), LATEST_MS);
}

/** endsAt: absent, empty or Go's zero time all mean "no end" (null). */
function endsAtMs(obj: Record<string, unknown>, path: JsonPath): number | null {
  return endsAtOfText(optionalString(obj, 'endsAt', path), path);
}

function endsAtOfText(text: string | undefined, path: JsonPath): number | null {
  if (text === undefined || text === '') return null;
  const ms = parsedTimestamp(text, child(path, 'endsAt'));
  return ms <= GO_ZERO_TIME_MS ? null : storable(ms);
}

const SEVERITY_WORDS = new Map<string, Severity>(Object.entries({
  critical: 'critical', crit: 'critical', page: 'critical', p1: 'critical', fatal: 'critical', emergency: 'critical',
  error: 'major', major: 'major', high: 'major', p2: 'major',
  minor: 'minor', medium: 'minor', p3: 'minor',
  warning: 'warning', warn: 'warning',
  info: 'info', informational: 'info', low: 'info', none: 'info', p4: 'info', p5: 'info',
} satisfies Record<string, Severity>));

/**
 * Vigil severity of a sender's severity word (case and surrounding space ignored);
 * `warning` when absent or unknown, the middle ground that neither pages nor hides.
 */
export function mapSeverity(word: string | undefined): Severity {
  if (word === undefined) return 'warning';
  return SEVERITY_WORDS.get(word.trim().toLowerCase()) ?? 'warning';
}

interface AlertParts {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: AlertStatus;
  severity: Severity;
  startsAtMs: number;
  endsAtMs: number | null;
  fingerprint?: string | undefined;
  generatorUrl?: string | undefined;
  groupKey?: string | undefined;
  origin?: string | undefined;
  acknowledged?: boolean;
  bare?: boolean;
}

function buildAlert(source: AlertSource, parts: AlertParts, nowMs: number, path?: JsonPath): AlertEvent {
  // As Alertmanager's API refuses it; a resolved alert ends at or after its start.
  if (path !== undefined && parts.endsAtMs !== null && parts.endsAtMs < parts.startsAtMs) fail(child(path, 'endsAt'), 'must not be before startsAt');
  // An id in paths (GET /api/v1/alerts/:fingerprint/events), as long as PagerDuty's dedup_key may be.
  if (path !== undefined && parts.fingerprint !== undefined && parts.fingerprint.length > MAX_FINGERPRINT_CHARS) {
    fail(child(path, 'fingerprint'), `must be at most ${MAX_FINGERPRINT_CHARS} characters`);
  }
  const fingerprint = parts.fingerprint !== undefined && parts.fingerprint !== '' ? parts.fingerprint : fingerprintLabels(parts.labels);
  const alert: AlertEvent = {
    source,
    fingerprint,
    labels: parts.labels,
    annotations: parts.annotations,
    status: parts.status,
    severity: parts.severity,
    startsAtMs: parts.startsAtMs,
    endsAtMs: parts.endsAtMs,
    receivedAtMs: nowMs,
  };
  if (parts.generatorUrl !== undefined && parts.generatorUrl !== '') alert.generatorUrl = parts.generatorUrl;
  if (parts.groupKey !== undefined && parts.groupKey !== '') alert.groupKey = parts.groupKey;
  if (parts.origin !== undefined && parts.origin !== '') alert.origin = parts.origin;
  if (parts.acknowledged === true) alert.acknowledged = true;
  if (parts.bare === true) alert.bare = true;
  return alert;
}

/**
 * Alertmanager webhook body (`"version": "4"`, `webhook_configs`). Keeps each alert's own
 * `fingerprint` and the message's `groupKey`; tolerates fields newer releases add
 * (`notification_reason`, `routeLabels`).
 */
export function normalizeAlertmanagerWebhook(body: unknown, nowMs: number): NormalizeResult {
  return run(() => {
    const root = expectObject(body, 'body');
    const version = requiredString(root, 'version', '');
    if (version !== '4') fail('version', `unsupported webhook version ${JSON.stringify(version)}, expected "4"`);
    const groupKey = optionalString(root, 'groupKey', '');
    return expectArray(root['alerts'], 'alerts').map((item, i) => {
      const path = child('alerts', i);
      const a = expectObject(item, path);
      const labels = stringMap(a['labels'], child(path, 'labels'), { labels: true });
      const annotations = annotationsOf(a, path);
      return buildAlert('alertmanager', {
        labels,
        annotations,
        status: oneOf(requiredString(a, 'status', path), ['firing', 'resolved'], child(path, 'status')),
        severity: mapSeverity(labels['severity']),
        startsAtMs: timestampAt(requiredString(a, 'startsAt', path), child(path, 'startsAt')),
        endsAtMs: endsAtMs(a, path),
        fingerprint: optionalString(a, 'fingerprint', path),
        generatorUrl: optionalString(a, 'generatorURL', path),
        groupKey,
      }, nowMs, path);
    });
  });
}

/**
 * Alertmanager API v2 `postableAlerts` (what Prometheus POSTs to /api/v2/alerts). Status is
 * derived as Alertmanager does: resolved when `endsAt` ≤ now. A missing `startsAt` becomes
 * `endsAt` if set, else now (Alertmanager's `postAlertsHandler`); a missing `endsAt` stays
 * null (no lease; the caller applies its resolve timeout).
 */
export function normalizeAlertmanagerV2Alerts(body: unknown, nowMs: number): NormalizeResult {
  return run(() =>
    expectArray(body, 'body').map((item, i) => {
      const path = child('alerts', i);
      const a = expectObject(item, path);
      const labels = stringMap(a['labels'], child(path, 'labels'), { labels: true });
      const annotations = annotationsOf(a, path);
      const ends = endsAtMs(a, path);
      return prometheusAlert(labels, annotations, ends, optionalString(a, 'startsAt', path), optionalString(a, 'generatorURL', path), nowMs, path);
    }),
  );
}

/**
 * The same alert list read from its bytes when it is in the plain form Prometheus writes
 * (alert-list-scan.ts), or null: then read it with normalizeAlertmanagerV2Alerts, which also
 * words any error. Whatever this reads, that reads alike (a test holds them to it). A label
 * set seen before is not built, checked and fingerprinted again: `known` has it by its text.
 */
export function normalizePlainAlertList(bytes: Buffer, nowMs: number, known: KnownLabelSets): NormalizeResult | null {
  const scanned = scanAlertList(bytes);
  if (scanned === null) return null;
  return run(() =>
    scanned.map((a, i) => {
      const path = child('alerts', i);
      const labelsText = bytes.toString('utf8', a.labelsStart, a.labelsEnd);
      let set = known.get(labelsText);
      if (set === undefined) {
        const labels = stringMap(JSON.parse(labelsText), child(path, 'labels'), { labels: true });
        set = { labels, fingerprint: fingerprintLabels(labels), severity: mapSeverity(labels['severity']), annotationsText: null, annotations: {} };
        known.set(labelsText, set);
      }
      const annotationsText = a.annotationsStart < 0 ? '' : bytes.toString('utf8', a.annotationsStart, a.annotationsEnd);
      if (annotationsText !== set.annotationsText) {
        set.annotations = annotationsText === '' ? {} : stringMap(JSON.parse(annotationsText), child(path, 'annotations'), { labels: false });
        set.annotationsText = annotationsText;
      }
      const ends = endsAtOfText(a.endsAt, path);
      return prometheusAlert(set.labels, set.annotations, ends, a.startsAt, a.generatorUrl, nowMs, path, set);
    }),
  );
}

/** A label set as read from its JSON text, and the annotations last read beside it. */
interface KnownLabelSet {
  labels: Record<string, string>;
  fingerprint: string;
  severity: Severity;
  /** The JSON text of those annotations ('' for none given); null before any. */
  annotationsText: string | null;
  annotations: Record<string, string>;
}

/**
 * Label sets read by normalizePlainAlertList, by their JSON text. Prometheus re-sends every
 * firing alert each evaluation with the same labels, mostly with the same annotations; only
 * `endsAt` moves. Bounded: once `capacity` sets were added, those not seen since are dropped
 * at the next `capacity`, so at most twice that many are held (a sender churning label sets
 * costs memory, never unbounded).
 */
export class KnownLabelSets {
  private recent = new Map<string, KnownLabelSet>();
  private older = new Map<string, KnownLabelSet>();

  constructor(private readonly capacity = 100_000) {}

  get(text: string): KnownLabelSet | undefined {
    const set = this.recent.get(text);
    if (set !== undefined) return set;
    const old = this.older.get(text);
    if (old !== undefined) {
      this.older.delete(text);
      this.set(text, old);
    }
    return old;
  }

  set(text: string, set: KnownLabelSet): void {
    if (this.recent.size >= this.capacity) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(text, set);
  }

  get size(): number {
    return this.recent.size + this.older.size;
  }
}

/**
 * An alert of an API v2 list from its parts, `endsAt` already read (its errors come first).
 * `known`: the label set's fingerprint and severity, when already computed.
 */
function prometheusAlert(
  labels: Record<string, string>,
  annotations: Record<string, string>,
  ends: number | null,
  startsText: string | undefined,
  generatorUrl: string | undefined,
  nowMs: number,
  path: JsonPath,
  known?: { fingerprint: string; severity: Severity },
): AlertEvent {
  // Unset: absent, empty, or Go's zero time (what Go clients send), as Alertmanager reads it.
  const startsParsed = startsText === undefined || startsText === '' ? null : parsedTimestamp(startsText, child(path, 'startsAt'));
  const starts = startsParsed === null || startsParsed === GO_ZERO_TIME_MS ? (ends ?? nowMs) : storable(startsParsed);
  return buildAlert('prometheus', {
    labels,
    annotations,
    status: ends !== null && ends <= nowMs ? 'resolved' : 'firing',
    severity: known?.severity ?? mapSeverity(labels['severity']),
    startsAtMs: starts,
    endsAtMs: ends,
    // The fingerprint buildAlert would compute from these labels, computed before.
    fingerprint: known?.fingerprint,
    generatorUrl,
  }, nowMs, path);
}

function normalizeVigilAlert(item: unknown, path: JsonPath, nowMs: number): AlertEvent {
  const a = expectObject(item, path === '' ? 'body' : path);
  for (const key of Object.keys(a)) {
    if (!VIGIL_FIELDS.includes(key)) fail(child(path, key), `unknown field; allowed fields: ${VIGIL_FIELDS.join(', ')}`);
  }
  const labels = stringMap(a['labels'], child(path, 'labels'), { labels: true });
  const annotations = annotationsOf(a, path);
  const severityText = optionalString(a, 'severity', path);
  return buildAlert('vigil', {
    labels,
    annotations,
    status: oneOf(requiredString(a, 'status', path), ['firing', 'resolved'], child(path, 'status')),
    // The explicit field wins; the label is the Prometheus convention scripts often follow.
    severity: severityText === undefined ? mapSeverity(labels['severity']) : oneOf(severityText, SEVERITIES, child(path, 'severity')),
    startsAtMs: timestampAt(requiredString(a, 'startsAt', path), child(path, 'startsAt')),
    endsAtMs: endsAtMs(a, path),
    fingerprint: optionalString(a, 'fingerprint', path),
    origin: optionalString(a, 'source', path),
  }, nowMs, path);
}

/**
 * Vigil's own alert JSON (api.md), a list or one object. Strict: unknown fields are
 * rejected naming the allowed ones; `status` and `startsAt` are required; `severity`, when
 * absent, comes from the `severity` label.
 */
export function normalizeVigilAlerts(body: unknown, nowMs: number): NormalizeResult {
  return run(() =>
    Array.isArray(body) ? body.map((item, i) => normalizeVigilAlert(item, child('alerts', i), nowMs)) : [normalizeVigilAlert(body, '', nowMs)],
  );
}

/** Alertmanager's default PagerDuty `custom_details` value for one alert list (`__text_alert_list`). */
export interface TextAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorUrl: string;
}

/**
 * Parses Alertmanager's `__text_alert_list` rendering ("Labels:\n - k = v\n…Annotations:\n
 * - k = v\n…Source: url\n" per alert). Null when the text is not in that shape (a user
 * template): the caller then keeps the group as one alert. Lines that do not start a new
 * pair continue the previous value (multi-line descriptions).
 */
export function parseAlertmanagerTextAlerts(text: string): TextAlert[] | null {
  const alerts: TextAlert[] = [];
  let current: { labels: [string, string][]; annotations: [string, string][] } | null = null;
  let section: 'labels' | 'annotations' | null = null;
  for (const line of text.split('\n')) {
    if (line === 'Labels:') {
      if (current !== null) return null; // previous alert had no Source: line
      current = { labels: [], annotations: [] };
      section = 'labels';
    } else if (current === null) {
      if (line.trim() !== '') return null;
    } else if (line === 'Annotations:' && section === 'labels') {
      section = 'annotations';
    } else if (line.startsWith('Source: ') || line === 'Source:') {
      if (section !== 'annotations' || current.labels.length === 0) return null;
      alerts.push({
        labels: Object.fromEntries(current.labels),
        annotations: Object.fromEntries(current.annotations),
        generatorUrl: line.slice('Source:'.length).trim(),
      });
      current = null;
      section = null;
    } else {
      const pairs = section === 'labels' ? current.labels : current.annotations;
      const eq = line.startsWith(' - ') ? line.indexOf(' = ', 3) : -1;
      if (eq > 3) {
        pairs.push([line.slice(3, eq), line.slice(eq + 3)]);
      } else {
        const last = pairs[pairs.length - 1];
        if (last === undefined) return null;
        last[1] += `\n${line}`;
      }
    }
  }
  return current === null ? alerts : null;
}

function detailText(details: Record<string, unknown>, key: string): string | undefined {
  const value = details[key];
  return typeof value === 'string' ? value : undefined;
}

/** Counts Alertmanager announces beside the lists; a mismatch means a custom template. */
function countMatches(details: Record<string, unknown>, key: string, parsed: number): boolean {
  const value = details[key];
  if (value === undefined) return true;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  return n === parsed;
}

/**
 * The individual alerts inside an event Alertmanager sent (default details: `firing`,
 * `resolved`, `num_firing`, `num_resolved`), or null when the details are not that shape.
 */
function unpackAlertmanagerDetails(details: Record<string, unknown>): { firing: TextAlert[]; resolved: TextAlert[] } | null {
  const firingText = detailText(details, 'firing');
  const resolvedText = detailText(details, 'resolved');
  if (firingText === undefined && resolvedText === undefined) return null;
  const firing = firingText === undefined ? [] : parseAlertmanagerTextAlerts(firingText);
  const resolved = resolvedText === undefined ? [] : parseAlertmanagerTextAlerts(resolvedText);
  if (firing === null || resolved === null || firing.length + resolved.length === 0) return null;
  if (!countMatches(details, 'num_firing', firing.length) || !countMatches(details, 'num_resolved', resolved.length)) return null;
  return { firing, resolved };
}

/** custom_details values become annotation strings; structured values as compact JSON. */
function detailsToAnnotations(details: unknown): Record<string, string> {
  if (details === undefined || details === null) return {};
  if (!isRecord(details)) return { details: typeof details === 'string' ? details : JSON.stringify(details) };
  return Object.fromEntries(Object.entries(details).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)]));
}

/**
 * PagerDuty Events API v2 event (POST /v2/enqueue). Identity is `dedup_key`. When the event
 * came from Alertmanager (one event per group, `dedup_key` = sha256(groupKey), alert lists as
 * text in `custom_details`), each alert is unpacked with its label fingerprint (the same as
 * via the webhook) and the dedup_key as `groupKey`; otherwise the event is one alert.
 * A trigger without `dedup_key` is keyed by the fingerprint of its payload labels (no random
 * keys in a pure function). The `routing_key` is checked but not kept: it is a credential.
 */
export function normalizePagerDutyEvent(body: unknown, nowMs: number): NormalizeResult {
  return run(() => {
    const root = expectObject(body, 'body');
    const routingKey = requiredString(root, 'routing_key', '');
    if (routingKey === '') fail('routing_key', 'must not be empty');
    const action = oneOf(requiredString(root, 'event_action', ''), PD_ACTIONS, 'event_action');
    const dedupKey = optionalString(root, 'dedup_key', '');
    if (dedupKey !== undefined && dedupKey.length > PD_MAX_DEDUP_KEY_CHARS) fail('dedup_key', `must be at most ${PD_MAX_DEDUP_KEY_CHARS} characters`);
    if (action !== 'trigger' && (dedupKey === undefined || dedupKey === '')) fail('dedup_key', `is required for ${action}`);
    const client = optionalString(root, 'client', '');
    const clientUrl = optionalString(root, 'client_url', '');

    const payload = root['payload'] === undefined && action !== 'trigger' ? undefined : expectObject(root['payload'], 'payload');
    const summary = payload === undefined ? undefined : action === 'trigger' ? requiredString(payload, 'summary', 'payload') : optionalString(payload, 'summary', 'payload');
    if (summary !== undefined && summary.length > PD_MAX_SUMMARY_CHARS) fail('payload.summary', `must be at most ${PD_MAX_SUMMARY_CHARS} characters`);
    const pdSource = payload === undefined ? undefined : action === 'trigger' ? requiredString(payload, 'source', 'payload') : optionalString(payload, 'source', 'payload');
    const severityText = payload === undefined ? undefined : action === 'trigger' ? requiredString(payload, 'severity', 'payload') : optionalString(payload, 'severity', 'payload');
    const pdSeverity = severityText === undefined ? undefined : oneOf(severityText, PD_SEVERITIES, 'payload.severity');
    const timestampText = payload === undefined ? undefined : optionalString(payload, 'timestamp', 'payload');
    const eventMs = timestampText === undefined ? nowMs : timestampAt(timestampText, 'payload.timestamp');
    const optionalLabels: [string, string | undefined][] = payload === undefined ? [] : ['component', 'group', 'class'].map((k) => [k, optionalString(payload, k, 'payload')]);
    const details = payload?.['custom_details'];
    const status: AlertStatus = action === 'resolve' ? 'resolved' : 'firing';
    const acknowledged = action === 'acknowledge';

    const unpacked = isRecord(details) && dedupKey !== undefined && dedupKey !== '' ? unpackAlertmanagerDetails(details) : null;
    if (unpacked !== null) {
      const toAlert = (a: TextAlert, alertStatus: AlertStatus): AlertEvent =>
        buildAlert('pagerduty', {
          labels: a.labels,
          annotations: a.annotations,
          status: alertStatus,
          severity: mapSeverity(a.labels['severity'] ?? severityText),
          // The text carries no times: the event's time (arrival when absent) stands for both.
          startsAtMs: eventMs,
          endsAtMs: alertStatus === 'resolved' ? eventMs : null,
          generatorUrl: a.generatorUrl,
          groupKey: dedupKey,
          origin: client,
          acknowledged,
        }, nowMs);
      // Alertmanager never sends acknowledge; a resolve event resolves the whole group.
      return [
        ...unpacked.firing.map((a) => toAlert(a, status === 'resolved' ? 'resolved' : 'firing')),
        ...unpacked.resolved.map((a) => toAlert(a, 'resolved')),
      ];
    }

    const labels: [string, string][] = [];
    if (pdSource !== undefined) labels.push(['source', pdSource]);
    if (severityText !== undefined) labels.push(['severity', severityText]);
    for (const [k, v] of optionalLabels) if (v !== undefined) labels.push([k, v]);
    const annotations = detailsToAnnotations(details);
    if (summary !== undefined) annotations['summary'] = summary;
    if (clientUrl !== undefined && clientUrl !== '') annotations['client_url'] = clientUrl;
    return [
      buildAlert('pagerduty', {
        labels: Object.fromEntries(labels),
        annotations,
        status,
        severity: mapSeverity(pdSeverity),
        startsAtMs: eventMs,
        endsAtMs: status === 'resolved' ? eventMs : null,
        fingerprint: dedupKey,
        origin: client,
        acknowledged,
        bare: payload === undefined,
      }, nowMs),
    ];
  });
}
