import type { DecodedSeries, Label } from '../decoded-series.js';
import { compareUtf8, formatAnyValue, formatFloatPlain } from './format-otlp-values.js';
import {
  OtlpPayloadError,
  type HistogramPoint,
  type KeyValue,
  type NumberPoint,
  type OtlpMetric,
  type OtlpRequest,
  type SummaryPoint,
} from './otlp-model.js';
import { buildLabelName, buildMetricName, type NamingKind } from './translate-otlp-names.js';

/*
 * OtlpRequest → Prometheus-style series, as Prometheus' OTLP receiver does it
 * (prometheus/prometheus storage/remote/otlptranslator/prometheusremotewrite: metrics_to_prw.go,
 * helper.go `createAttributes`, `addHistogramDataPoints`, `addSummaryDataPoints`) with every
 * resource attribute promoted to a label (Prometheus' `promote_all_resource_attributes`).
 *
 * Delta temporality: Prometheus rejects delta sums and histograms unless `AllowDeltaTemporality`
 * is set. Vigil stores them as they come, so such a series holds per-interval values rather than
 * running totals and must not be fed to rate().
 */

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the series has gone away; written as the stale marker. */
const FLAG_NO_RECORDED_VALUE = 1;

/**
 * Prometheus' stale marker, NaN with bit pattern 0x7ff0000000000002 (model/value/value.go).
 * V8 sets the quiet bit (0x7ff8000000000002) when this NaN is stored into a plain number[] of
 * doubles, so writers should recognise it by its payload (low bits = 2), not by exact bits.
 */
export const STALE_NAN = ((): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, 0x7ff00000);
  view.setUint32(4, 0x00000002);
  return view.getFloat64(0);
})();

const NS_PER_MS = 1_000_000n;

interface ResourceLabels {
  /** Resource attributes as labels; data-point attributes win over them. */
  promoted: Map<string, string>;
  /** `job` and `instance` from service.*; these override attributes, as in Prometheus. */
  identity: Map<string, string>;
}

/**
 * Checked as labels are built, before the per-sample work that grows with them (each sample
 * copies its label set): a request past them is refused at once. Defaults: no limit.
 */
export interface OtlpLimits {
  maxLabelsPerSeries: number;
  /** A label name or value, in bytes. */
  maxLabelValueBytes?: number;
  /** A series' label names and values together, in bytes. */
  maxLabelBytesPerSeries?: number;
}

/**
 * Explicit buckets one histogram point may have: each becomes a series. OpenTelemetry's
 * default has 16 and Prometheus clients rarely pass a hundred; 4 M bounds (64 MiB raw) took
 * 31 s and 3.2 GB of heap before this (measured in review).
 */
export const MAX_HISTOGRAM_BUCKETS = 1_000;

/** Translates a decoded request into series; throws OtlpPayloadError naming the first bad metric or point. */
export function translateOtlpRequest(request: OtlpRequest, limits?: OtlpLimits): { series: DecodedSeries[]; skipped: Record<string, number> } {
  const maxLabels = limits?.maxLabelsPerSeries ?? Number.POSITIVE_INFINITY;
  const labelLimits: LabelBytesLimits = {
    maxValueBytes: limits?.maxLabelValueBytes ?? Number.POSITIVE_INFINITY,
    maxSeriesBytes: limits?.maxLabelBytesPerSeries ?? Number.POSITIVE_INFINITY,
  };
  const sink = new SeriesSink();
  const skipped: Record<string, number> = {};
  const countSkipped = (reason: string, count: number): void => {
    if (count > 0) skipped[reason] = (skipped[reason] ?? 0) + count;
  };
  request.resources.forEach((resource, i) => {
    const path = `resourceMetrics[${i}].resource`;
    const resourceLabels = buildResourceLabels(resource.attributes, path);
    checkLabelBytes(new Map([...resourceLabels.promoted, ...resourceLabels.identity]), labelLimits, path);
    // Every series of the resource carries these (and __name__): past the limit, all fail.
    const count = new Set([...resourceLabels.promoted.keys(), ...resourceLabels.identity.keys()]).size + 1;
    if (count > maxLabels) fail(path, `its attributes make ${count} labels per series, the limit is ${maxLabels}`);
    for (const metric of resource.metrics) translateMetric(metric, resourceLabels, sink, countSkipped, maxLabels, labelLimits);
  });
  return { series: sink.series(), skipped };
}

function translateMetric(
  metric: OtlpMetric,
  resource: ResourceLabels,
  sink: SeriesSink,
  countSkipped: (reason: string, count: number) => void,
  maxLabels: number,
  labelLimits: LabelBytesLimits,
): void {
  const { data, path } = metric;
  if (metric.name === '') fail(path, 'metric has no name');
  if (data.type === 'none') return countSkipped('otlp_metric_without_data', 1);
  if (data.type === 'exponentialHistogram') return countSkipped('otlp_exponential_histogram', data.pointCount);

  const kind: NamingKind = data.type === 'gauge' ? 'gauge' : data.type === 'sum' && data.monotonic ? 'monotonicSum' : 'other';
  const name = buildMetricName(metric.name, metric.unit, kind) ?? fail(path, `metric name ${JSON.stringify(metric.name)} has no character valid in a Prometheus name`);
  const context = (attributes: KeyValue[], index: number): PointContext => {
    const pointPath = `${path}.${data.type}.dataPoints[${index}]`;
    const labels = pointLabels(attributes, resource, pointPath);
    if (labels.size + 1 > maxLabels) fail(pointPath, `${labels.size + 1} labels, the limit is ${maxLabels}`);
    // Before the point's samples copy them: a histogram makes a series per bucket.
    checkLabelBytes(labels, labelLimits, pointPath, '__name__'.length + Buffer.byteLength(name) + ADDED_LABEL_BYTES[data.type]);
    return { path: pointPath, name, labels, sink };
  };
  if (data.type === 'gauge' || data.type === 'sum') data.points.forEach((p, i) => writeNumberPoint(p, context(p.attributes, i)));
  else if (data.type === 'histogram') data.points.forEach((p, i) => writeHistogramPoint(p, context(p.attributes, i)));
  else data.points.forEach((p, i) => writeSummaryPoint(p, context(p.attributes, i)));
}

interface LabelBytesLimits {
  maxValueBytes: number;
  maxSeriesBytes: number;
}

/**
 * What a point's series add to its labels besides `__name__` and the metric name, at most: a
 * suffix (`_bucket`, `_count`), and `le` or `quantile` with a number (up to 24 characters).
 */
const ADDED_LABEL_BYTES = { gauge: 0, sum: 0, histogram: '_bucket'.length + 'le'.length + 24, summary: 'quantile'.length + 24 } as const;

/**
 * Refuses labels past the byte limits (validateSeries checks the stored series again, exactly),
 * counting `reserved` bytes more for what each of its series adds.
 */
function checkLabelBytes(labels: ReadonlyMap<string, string>, limits: LabelBytesLimits, path: string, reserved = 0): void {
  let total = reserved;
  for (const [name, value] of labels) {
    const nameBytes = Buffer.byteLength(name);
    const valueBytes = Buffer.byteLength(value);
    if (nameBytes > limits.maxValueBytes || valueBytes > limits.maxValueBytes) {
      fail(path, `label ${nameBytes > limits.maxValueBytes ? 'name' : name} is longer than ${limits.maxValueBytes} bytes`);
    }
    total += nameBytes + valueBytes;
  }
  if (total > limits.maxSeriesBytes) fail(path, `its labels are longer than ${limits.maxSeriesBytes} bytes in all`);
}

/** What a point writer needs besides the point: where it is, its metric name and its base labels. */
interface PointContext {
  path: string;
  name: string;
  labels: Map<string, string>;
  sink: SeriesSink;
}

function writeNumberPoint(point: NumberPoint, at: PointContext): void {
  const timestampMs = toMilliseconds(point.timeUnixNano, at.path);
  if (isStale(point)) return at.sink.add(at.labels, at.name, timestampMs, STALE_NAN);
  if (point.value === undefined) fail(at.path, 'number data point has neither asDouble nor asInt');
  at.sink.add(at.labels, at.name, timestampMs, point.value);
}

/** Classic histogram: cumulative `_bucket{le}` series ending with `+Inf`, then `_sum` and `_count`. */
function writeHistogramPoint(point: HistogramPoint, at: PointContext): void {
  const timestampMs = toMilliseconds(point.timeUnixNano, at.path);
  const { bucketCounts, explicitBounds } = point;
  if (explicitBounds.length > MAX_HISTOGRAM_BUCKETS) fail(at.path, `histogram has ${explicitBounds.length} explicitBounds, at most ${MAX_HISTOGRAM_BUCKETS} are accepted`);
  const bucketsValid = bucketCounts.length === explicitBounds.length + 1 || (bucketCounts.length === 0 && explicitBounds.length === 0);
  if (!bucketsValid) {
    fail(at.path, `histogram bucketCounts has ${bucketCounts.length} entries, ${explicitBounds.length} explicitBounds need ${explicitBounds.length + 1}`);
  }
  explicitBounds.forEach((bound, i) => {
    const previous = explicitBounds[i - 1];
    if (!Number.isFinite(bound) || (previous !== undefined && !(bound > previous))) {
      fail(at.path, `histogram explicitBounds must be finite and strictly increasing, explicitBounds[${i}] is ${bound}`);
    }
  });
  const stale = isStale(point);
  const value = (v: number): number => (stale ? STALE_NAN : v);
  let cumulative = 0n;
  explicitBounds.forEach((bound, i) => {
    cumulative += bucketCounts[i] ?? 0n;
    at.sink.add(at.labels, `${at.name}_bucket`, timestampMs, value(Number(cumulative)), 'le', formatFloatPlain(bound));
  });
  // Prometheus takes the +Inf bucket from `count`, not from the bucket total.
  at.sink.add(at.labels, `${at.name}_bucket`, timestampMs, value(Number(point.count)), 'le', '+Inf');
  if (point.sum !== undefined) at.sink.add(at.labels, `${at.name}_sum`, timestampMs, value(point.sum));
  at.sink.add(at.labels, `${at.name}_count`, timestampMs, value(Number(point.count)));
}

function writeSummaryPoint(point: SummaryPoint, at: PointContext): void {
  const timestampMs = toMilliseconds(point.timeUnixNano, at.path);
  const stale = isStale(point);
  const value = (v: number): number => (stale ? STALE_NAN : v);
  for (const { quantile, value: quantileValue } of point.quantiles) {
    at.sink.add(at.labels, at.name, timestampMs, value(quantileValue), 'quantile', formatFloatPlain(quantile));
  }
  at.sink.add(at.labels, `${at.name}_sum`, timestampMs, value(point.sum));
  at.sink.add(at.labels, `${at.name}_count`, timestampMs, value(Number(point.count)));
}

/** Resource attributes become labels (first of colliding names wins, keys in order); service.* become job/instance. */
function buildResourceLabels(attributes: KeyValue[], path: string): ResourceLabels {
  const promoted = new Map<string, string>();
  for (const { name, value } of namedAttributes(attributes, path)) {
    if (!promoted.has(name)) promoted.set(name, value);
  }
  const identity = new Map<string, string>();
  const find = (key: string): KeyValue | undefined => attributes.find((kv) => kv.key === key);
  const serviceName = find('service.name');
  const serviceNamespace = find('service.namespace');
  const instanceId = find('service.instance.id');
  if (serviceName !== undefined) {
    const job = formatAnyValue(serviceName.value);
    identity.set('job', serviceNamespace === undefined ? job : `${formatAnyValue(serviceNamespace.value)}/${job}`);
  }
  if (instanceId !== undefined) identity.set('instance', formatAnyValue(instanceId.value));
  return { promoted, identity };
}

/** Data-point attributes (colliding names joined with `;`, as Prometheus does), then resource labels. */
function pointLabels(attributes: KeyValue[], resource: ResourceLabels, path: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const { name, value } of namedAttributes(attributes, path)) {
    const existing = labels.get(name);
    labels.set(name, existing === undefined ? value : `${existing};${value}`);
  }
  for (const [name, value] of resource.promoted) if (!labels.has(name)) labels.set(name, value);
  for (const [name, value] of resource.identity) labels.set(name, value);
  return labels;
}

/** Attributes sorted by key (so collisions merge in a stable order) with their label names and values. */
function namedAttributes(attributes: KeyValue[], path: string): { name: string; value: string }[] {
  const named = attributes.map((kv, i) => ({
    key: kv.key,
    name: buildLabelName(kv.key) ?? fail(`${path}.attributes[${i}]`, 'attribute key is empty'),
    value: formatAnyValue(kv.value),
  }));
  return named.sort((a, b) => compareUtf8(a.key, b.key));
}

/** ns → ms, exact (floor, via bigint); a zero time means the sender never set it. */
function toMilliseconds(timeUnixNano: bigint, path: string): number {
  if (timeUnixNano === 0n) fail(path, 'timeUnixNano is 0 (unset); every data point needs its time');
  return Number(timeUnixNano / NS_PER_MS);
}

function isStale(point: { flags: number }): boolean {
  return (point.flags & FLAG_NO_RECORDED_VALUE) !== 0;
}

function fail(path: string, what: string): never {
  throw new OtlpPayloadError(`${path}: ${what}`);
}

/** Collects samples per distinct label set; labels come out sorted by name, empty values dropped. */
class SeriesSink {
  private readonly byKey = new Map<string, DecodedSeries>();
  /**
   * A number per distinct base label set, so that a series' key is short: the samples of a
   * point's buckets all share its base labels, and a key holding them all would copy them
   * once per bucket.
   */
  private readonly baseIds = new WeakMap<Map<string, string>, number>();
  private readonly baseIdByKey = new Map<string, number>();

  private baseIdOf(base: Map<string, string>): number {
    let id = this.baseIds.get(base);
    if (id === undefined) {
      const key = JSON.stringify([...base].filter(([, value]) => value !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      id = this.baseIdByKey.get(key) ?? this.baseIdByKey.size;
      this.baseIdByKey.set(key, id);
      this.baseIds.set(base, id);
    }
    return id;
  }

  add(base: Map<string, string>, name: string, timestampMs: number, value: number, extraName?: string, extraValue?: string): void {
    // A base label that these overwrite (an attribute named le) can give one label set two
    // keys: two entries for one series, which the registry maps to the same id.
    const key = `${this.baseIdOf(base)}\u0000${name}\u0000${extraName ?? ''}\u0000${extraValue ?? ''}`;
    let series = this.byKey.get(key);
    if (series === undefined) {
      const labels = new Map(base);
      if (extraName !== undefined && extraValue !== undefined) labels.set(extraName, extraValue);
      labels.set('__name__', name);
      const sorted: Label[] = [...labels]
        .filter(([, labelValue]) => labelValue !== '')
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([labelName, labelValue]) => ({ name: labelName, value: labelValue }));
      series = { labels: sorted, timestampsMs: [], values: [] };
      this.byKey.set(key, series);
    } else if (series.timestampsMs[series.timestampsMs.length - 1] === timestampMs) {
      // The same series and time again (two points alike, or times equal once cut to ms): the last wins.
      series.values[series.values.length - 1] = value;
      return;
    }
    series.timestampsMs.push(timestampMs);
    series.values.push(value);
  }

  series(): DecodedSeries[] {
    return [...this.byKey.values()];
  }
}
