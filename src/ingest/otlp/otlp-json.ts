import {
  arrayField,
  boolField,
  bytesField,
  doubleField,
  enumField,
  int64Field,
  objectField,
  optionalObjectField,
  stringField,
  uint32Field,
  uint64Field,
  type JsonObject,
} from './json-fields.js';
import {
  joinPath,
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

/*
 * OTLP/JSON `ExportMetricsServiceRequest` (already JSON.parsed) → OtlpRequest. Keys are the
 * lowerCamelCase names the OTLP spec mandates. Unknown keys are ignored because the OTLP spec
 * requires receivers to ignore them (forward compatibility), unlike Vigil's own JSON inputs.
 */

const TEMPORALITY_NAMES = ['AGGREGATION_TEMPORALITY_UNSPECIFIED', 'AGGREGATION_TEMPORALITY_DELTA', 'AGGREGATION_TEMPORALITY_CUMULATIVE'];
const DATA_FIELDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;
const ANY_VALUE_FIELDS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] as const;

/** Decodes a parsed OTLP/JSON metrics request; throws OtlpPayloadError on a wrong shape. */
export function readExportMetricsJson(body: unknown): OtlpRequest {
  const root = objectField(body, 'body');
  const resources = arrayField(root.resourceMetrics, 'resourceMetrics').map((item, i) => readResourceMetrics(item, `resourceMetrics[${i}]`));
  return { resources };
}

function readResourceMetrics(value: unknown, path: string): OtlpResource {
  const json = objectField(value, path);
  const resource = optionalObjectField(json.resource, joinPath(path, 'resource'));
  const attributes = resource === undefined ? [] : readAttributes(resource.attributes, joinPath(path, 'resource.attributes'));
  const metrics: OtlpMetric[] = [];
  arrayField(json.scopeMetrics, joinPath(path, 'scopeMetrics')).forEach((scope, i) => {
    const scopePath = joinPath(path, `scopeMetrics[${i}]`);
    const scopeJson = objectField(scope, scopePath);
    arrayField(scopeJson.metrics, joinPath(scopePath, 'metrics')).forEach((metric, j) => {
      metrics.push(readMetric(metric, joinPath(scopePath, `metrics[${j}]`)));
    });
  });
  return { attributes, metrics };
}

function readMetric(value: unknown, path: string): OtlpMetric {
  const json = objectField(value, path);
  const present = DATA_FIELDS.filter((field) => json[field] !== undefined && json[field] !== null);
  if (present.length > 1) throw new OtlpPayloadError(`${path}: data has several kinds set (${present.join(', ')}), expected one`);
  return {
    path,
    name: stringField(json.name, joinPath(path, 'name')),
    unit: stringField(json.unit, joinPath(path, 'unit')),
    data: readData(json, path),
  };
}

function readData(metric: JsonObject, path: string): MetricData {
  const gauge = optionalObjectField(metric.gauge, joinPath(path, 'gauge'));
  if (gauge !== undefined) return { type: 'gauge', points: readPoints(gauge, joinPath(path, 'gauge'), readNumberPoint) };
  const sum = optionalObjectField(metric.sum, joinPath(path, 'sum'));
  if (sum !== undefined) {
    const sumPath = joinPath(path, 'sum');
    return {
      type: 'sum',
      temporality: enumField(sum.aggregationTemporality, joinPath(sumPath, 'aggregationTemporality'), TEMPORALITY_NAMES),
      monotonic: boolField(sum.isMonotonic, joinPath(sumPath, 'isMonotonic')),
      points: readPoints(sum, sumPath, readNumberPoint),
    };
  }
  const histogram = optionalObjectField(metric.histogram, joinPath(path, 'histogram'));
  if (histogram !== undefined) {
    const histogramPath = joinPath(path, 'histogram');
    return {
      type: 'histogram',
      temporality: enumField(histogram.aggregationTemporality, joinPath(histogramPath, 'aggregationTemporality'), TEMPORALITY_NAMES),
      points: readPoints(histogram, histogramPath, readHistogramPoint),
    };
  }
  const exponential = optionalObjectField(metric.exponentialHistogram, joinPath(path, 'exponentialHistogram'));
  if (exponential !== undefined) {
    return { type: 'exponentialHistogram', pointCount: arrayField(exponential.dataPoints, joinPath(path, 'exponentialHistogram.dataPoints')).length };
  }
  const summary = optionalObjectField(metric.summary, joinPath(path, 'summary'));
  if (summary !== undefined) return { type: 'summary', points: readPoints(summary, joinPath(path, 'summary'), readSummaryPoint) };
  return { type: 'none' };
}

function readPoints<T>(container: JsonObject, path: string, read: (point: JsonObject, path: string) => T): T[] {
  return arrayField(container.dataPoints, joinPath(path, 'dataPoints')).map((point, i) => {
    const pointPath = joinPath(path, `dataPoints[${i}]`);
    return read(objectField(point, pointPath), pointPath);
  });
}

function readNumberPoint(json: JsonObject, path: string): NumberPoint {
  const hasDouble = json.asDouble !== undefined && json.asDouble !== null;
  const hasInt = json.asInt !== undefined && json.asInt !== null;
  if (hasDouble && hasInt) throw new OtlpPayloadError(`${path}: both asDouble and asInt are set, expected one`);
  let value: number | undefined;
  if (hasDouble) value = doubleField(json.asDouble, joinPath(path, 'asDouble'));
  else if (hasInt) value = Number(int64Field(json.asInt, joinPath(path, 'asInt')));
  return { ...readPointBase(json, path), value };
}

function readHistogramPoint(json: JsonObject, path: string): HistogramPoint {
  const hasSum = json.sum !== undefined && json.sum !== null;
  return {
    ...readPointBase(json, path),
    count: uint64Field(json.count, joinPath(path, 'count')),
    sum: hasSum ? doubleField(json.sum, joinPath(path, 'sum')) : undefined,
    bucketCounts: arrayField(json.bucketCounts, joinPath(path, 'bucketCounts')).map((v, i) => uint64Field(v, joinPath(path, `bucketCounts[${i}]`))),
    explicitBounds: arrayField(json.explicitBounds, joinPath(path, 'explicitBounds')).map((v, i) => doubleField(v, joinPath(path, `explicitBounds[${i}]`))),
  };
}

function readSummaryPoint(json: JsonObject, path: string): SummaryPoint {
  const quantiles = arrayField(json.quantileValues, joinPath(path, 'quantileValues')).map((item, i) => {
    const itemPath = joinPath(path, `quantileValues[${i}]`);
    const q = objectField(item, itemPath);
    return { quantile: doubleField(q.quantile, joinPath(itemPath, 'quantile')), value: doubleField(q.value, joinPath(itemPath, 'value')) };
  });
  return {
    ...readPointBase(json, path),
    count: uint64Field(json.count, joinPath(path, 'count')),
    sum: doubleField(json.sum, joinPath(path, 'sum')),
    quantiles,
  };
}

function readPointBase(json: JsonObject, path: string): { attributes: KeyValue[]; timeUnixNano: bigint; flags: number } {
  return {
    attributes: readAttributes(json.attributes, joinPath(path, 'attributes')),
    timeUnixNano: uint64Field(json.timeUnixNano, joinPath(path, 'timeUnixNano')),
    flags: uint32Field(json.flags, joinPath(path, 'flags')),
  };
}

function readAttributes(value: unknown, path: string, depth = 0): KeyValue[] {
  return arrayField(value, path).map((item, i) => {
    const itemPath = `${path}[${i}]`;
    const kv = objectField(item, itemPath);
    return { key: stringField(kv.key, joinPath(itemPath, 'key')), value: readAnyValue(kv.value, joinPath(itemPath, 'value'), depth + 1) };
  });
}

function readAnyValue(value: unknown, path: string, depth: number): AnyValue {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new OtlpPayloadError(`${path}: attribute value nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  if (value === undefined || value === null) return { kind: 'empty' };
  const json = objectField(value, path);
  const present = ANY_VALUE_FIELDS.filter((field) => json[field] !== undefined && json[field] !== null);
  if (present.length > 1) throw new OtlpPayloadError(`${path}: several of ${present.join(', ')} are set, expected one`);
  const field = present[0];
  const fieldPath = joinPath(path, field ?? '');
  switch (field) {
    case 'stringValue':
      return { kind: 'string', value: stringField(json.stringValue, fieldPath) };
    case 'boolValue':
      return { kind: 'bool', value: boolField(json.boolValue, fieldPath) };
    case 'intValue':
      return { kind: 'int', value: int64Field(json.intValue, fieldPath) };
    case 'doubleValue':
      return { kind: 'double', value: doubleField(json.doubleValue, fieldPath) };
    case 'bytesValue':
      return { kind: 'bytes', value: bytesField(json.bytesValue, fieldPath) };
    case 'arrayValue': {
      const values = arrayField(objectField(json.arrayValue, fieldPath).values, joinPath(fieldPath, 'values'));
      return { kind: 'array', values: values.map((v, i) => readAnyValue(v, joinPath(fieldPath, `values[${i}]`), depth + 1)) };
    }
    case 'kvlistValue':
      return { kind: 'kvlist', values: readAttributes(objectField(json.kvlistValue, fieldPath).values, joinPath(fieldPath, 'values'), depth + 1) };
    default:
      return { kind: 'empty' };
  }
}
