import {
  MAX_ANY_VALUE_DEPTH,
  OtlpPayloadError,
  type AnyValue,
  type HistogramPoint,
  type KeyValue,
  type MetricData,
  type NumberPoint,
  type OtlpMetric,
  type OtlpRequest,
  type OtlpResource,
  type SummaryPoint,
} from './otlp-model.js';
import { fieldOf, ProtoReader } from './protobuf-reader.js';

/*
 * Binary `ExportMetricsServiceRequest` → OtlpRequest. Field numbers are those of
 * open-telemetry/opentelemetry-proto opentelemetry/proto/{collector/metrics,metrics,common,resource}/v1.
 * Paths in error details use the OTLP/JSON (lowerCamelCase) names so both encodings report alike.
 * Unknown fields are skipped, as protobuf requires; a singular message field sent twice keeps the
 * last copy (protobuf would merge them; no real encoder splits a message).
 */

/** Decodes a binary OTLP metrics request; throws OtlpPayloadError on malformed bytes. */
export function readExportMetricsProtobuf(body: Uint8Array): OtlpRequest {
  const reader = ProtoReader.forBody(body);
  const resources: OtlpResource[] = [];
  while (reader.hasMore()) {
    const tag = reader.tag();
    if (fieldOf(tag) === 1) resources.push(readResourceMetrics(reader.message(tag, `resourceMetrics[${resources.length}]`)));
    else reader.skip(tag);
  }
  return { resources };
}

function readResourceMetrics(r: ProtoReader): OtlpResource {
  let attributes: KeyValue[] = [];
  const metrics: OtlpMetric[] = [];
  let scopeIndex = 0;
  while (r.hasMore()) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        attributes = readResource(r.message(tag, 'resource'));
        break;
      case 2:
        readScopeMetrics(r.message(tag, `scopeMetrics[${scopeIndex}]`), metrics);
        scopeIndex += 1;
        break;
      default:
        r.skip(tag);
    }
  }
  return { attributes, metrics };
}

function readResource(r: ProtoReader): KeyValue[] {
  const attributes: KeyValue[] = [];
  while (r.hasMore()) {
    const tag = r.tag();
    if (fieldOf(tag) === 1) attributes.push(readKeyValue(r.message(tag, `attributes[${attributes.length}]`), 0));
    else r.skip(tag);
  }
  return attributes;
}

function readScopeMetrics(r: ProtoReader, out: OtlpMetric[]): void {
  let index = 0;
  while (r.hasMore()) {
    const tag = r.tag();
    if (fieldOf(tag) === 2) {
      out.push(readMetric(r.message(tag, `metrics[${index}]`)));
      index += 1;
    } else {
      r.skip(tag);
    }
  }
}

function readMetric(r: ProtoReader): OtlpMetric {
  const metric: OtlpMetric = { path: r.path, name: '', unit: '', data: { type: 'none' } };
  while (r.hasMore()) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        metric.name = r.string(tag, 'name');
        break;
      case 3:
        metric.unit = r.string(tag, 'unit');
        break;
      case 5:
        metric.data = { type: 'gauge', points: readNumberPoints(r.message(tag, 'gauge')).points };
        break;
      case 7:
        metric.data = { type: 'sum', ...readNumberPoints(r.message(tag, 'sum')) };
        break;
      case 9:
        metric.data = readHistogram(r.message(tag, 'histogram'));
        break;
      case 10:
        metric.data = { type: 'exponentialHistogram', pointCount: countPoints(r.message(tag, 'exponentialHistogram')) };
        break;
      case 11:
        metric.data = readSummary(r.message(tag, 'summary'));
        break;
      default:
        r.skip(tag);
    }
  }
  return metric;
}

/** Gauge and Sum share field 1 (data points); Sum adds 2 (temporality) and 3 (is_monotonic). */
function readNumberPoints(r: ProtoReader): { points: NumberPoint[]; temporality: number; monotonic: boolean } {
  const points: NumberPoint[] = [];
  let temporality = 0;
  let monotonic = false;
  while (r.hasMore()) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        points.push(readNumberPoint(r.message(tag, `dataPoints[${points.length}]`)));
        break;
      case 2:
        temporality = r.enumValue(tag, 'aggregationTemporality');
        break;
      case 3:
        monotonic = r.bool(tag, 'isMonotonic');
        break;
      default:
        r.skip(tag);
    }
  }
  return { points, temporality, monotonic };
}

function readHistogram(r: ProtoReader): MetricData {
  const points: HistogramPoint[] = [];
  let temporality = 0;
  while (r.hasMore()) {
    const tag = r.tag();
    const field = fieldOf(tag);
    if (field === 1) points.push(readHistogramPoint(r.message(tag, `dataPoints[${points.length}]`)));
    else if (field === 2) temporality = r.enumValue(tag, 'aggregationTemporality');
    else r.skip(tag);
  }
  return { type: 'histogram', temporality, points };
}

function readSummary(r: ProtoReader): MetricData {
  const points: SummaryPoint[] = [];
  while (r.hasMore()) {
    const tag = r.tag();
    if (fieldOf(tag) === 1) points.push(readSummaryPoint(r.message(tag, `dataPoints[${points.length}]`)));
    else r.skip(tag);
  }
  return { type: 'summary', points };
}

/** Exponential histograms are skipped: only their data points are counted (lengths still checked). */
function countPoints(r: ProtoReader): number {
  let count = 0;
  while (r.hasMore()) {
    const tag = r.tag();
    if (fieldOf(tag) === 1) {
      r.skipMessage(tag, `dataPoints[${count}]`);
      count += 1;
    } else {
      r.skip(tag);
    }
  }
  return count;
}

function readNumberPoint(r: ProtoReader): NumberPoint {
  const point: NumberPoint = { attributes: [], timeUnixNano: 0n, flags: 0, value: undefined };
  while (r.hasMore()) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 3:
        point.timeUnixNano = r.fixed64(tag, 'timeUnixNano');
        break;
      case 4:
        point.value = r.double(tag, 'asDouble');
        break;
      case 6:
        point.value = Number(r.sfixed64(tag, 'asInt'));
        break;
      case 7:
        point.attributes.push(readKeyValue(r.message(tag, `attributes[${point.attributes.length}]`), 0));
        break;
      case 8:
        point.flags = r.uint32(tag, 'flags');
        break;
      default:
        r.skip(tag);
    }
  }
  return point;
}

function readHistogramPoint(r: ProtoReader): HistogramPoint {
  const point: HistogramPoint = {
    attributes: [],
    timeUnixNano: 0n,
    flags: 0,
    count: 0n,
    sum: undefined,
    bucketCounts: [],
    explicitBounds: [],
  };
  while (r.hasMore()) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 3:
        point.timeUnixNano = r.fixed64(tag, 'timeUnixNano');
        break;
      case 4:
        point.count = r.fixed64(tag, 'count');
        break;
      case 5:
        point.sum = r.double(tag, 'sum');
        break;
      case 6:
        r.repeatedFixed64(tag, 'bucketCounts', point.bucketCounts);
        break;
      case 7:
        r.repeatedDouble(tag, 'explicitBounds', point.explicitBounds);
        break;
      case 9:
        point.attributes.push(readKeyValue(r.message(tag, `attributes[${point.attributes.length}]`), 0));
        break;
      case 10:
        point.flags = r.uint32(tag, 'flags');
        break;
      default:
        r.skip(tag);
    }
  }
  return point;
}

function readSummaryPoint(r: ProtoReader): SummaryPoint {
  const point: SummaryPoint = { attributes: [], timeUnixNano: 0n, flags: 0, count: 0n, sum: 0, quantiles: [] };
  while (r.hasMore()) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 3:
        point.timeUnixNano = r.fixed64(tag, 'timeUnixNano');
        break;
      case 4:
        point.count = r.fixed64(tag, 'count');
        break;
      case 5:
        point.sum = r.double(tag, 'sum');
        break;
      case 6:
        point.quantiles.push(readValueAtQuantile(r.message(tag, `quantileValues[${point.quantiles.length}]`)));
        break;
      case 7:
        point.attributes.push(readKeyValue(r.message(tag, `attributes[${point.attributes.length}]`), 0));
        break;
      case 8:
        point.flags = r.uint32(tag, 'flags');
        break;
      default:
        r.skip(tag);
    }
  }
  return point;
}

function readValueAtQuantile(r: ProtoReader): { quantile: number; value: number } {
  const result = { quantile: 0, value: 0 };
  while (r.hasMore()) {
    const tag = r.tag();
    const field = fieldOf(tag);
    if (field === 1) result.quantile = r.double(tag, 'quantile');
    else if (field === 2) result.value = r.double(tag, 'value');
    else r.skip(tag);
  }
  return result;
}

function readKeyValue(r: ProtoReader, depth: number): KeyValue {
  const kv: KeyValue = { key: '', value: { kind: 'empty' } };
  while (r.hasMore()) {
    const tag = r.tag();
    const field = fieldOf(tag);
    if (field === 1) kv.key = r.string(tag, 'key');
    else if (field === 2) kv.value = readAnyValue(r.message(tag, 'value'), depth + 1);
    else r.skip(tag);
  }
  return kv;
}

function readAnyValue(r: ProtoReader, depth: number): AnyValue {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new OtlpPayloadError(`${r.path}: attribute value nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  let value: AnyValue = { kind: 'empty' };
  while (r.hasMore()) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        value = { kind: 'string', value: r.string(tag, 'stringValue') };
        break;
      case 2:
        value = { kind: 'bool', value: r.bool(tag, 'boolValue') };
        break;
      case 3:
        value = { kind: 'int', value: r.int64(tag, 'intValue') };
        break;
      case 4:
        value = { kind: 'double', value: r.double(tag, 'doubleValue') };
        break;
      case 5:
        value = { kind: 'array', values: readRepeated(r.message(tag, 'arrayValue'), (sub, i) => readAnyValue(sub.message(i.tag, `values[${i.index}]`), depth + 1)) };
        break;
      case 6:
        value = { kind: 'kvlist', values: readRepeated(r.message(tag, 'kvlistValue'), (sub, i) => readKeyValue(sub.message(i.tag, `values[${i.index}]`), depth + 1)) };
        break;
      case 7:
        value = { kind: 'bytes', value: r.bytesField(tag, 'bytesValue') };
        break;
      default:
        r.skip(tag);
    }
  }
  return value;
}

/** ArrayValue and KeyValueList both hold one repeated field 1 named `values`. */
function readRepeated<T>(r: ProtoReader, read: (r: ProtoReader, at: { tag: number; index: number }) => T): T[] {
  const values: T[] = [];
  while (r.hasMore()) {
    const tag = r.tag();
    if (fieldOf(tag) === 1) values.push(read(r, { tag, index: values.length }));
    else r.skip(tag);
  }
  return values;
}
