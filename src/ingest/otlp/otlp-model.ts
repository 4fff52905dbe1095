/**
 * The format-neutral shape both OTLP front ends (protobuf and JSON) decode into, so naming,
 * label building and validation live in one place (otlp-to-series.ts). Only the fields Vigil
 * uses are kept: scopes, descriptions, exemplars and start times are dropped at decode time.
 */

/** OTLP `AnyValue`; int64 stays a bigint so no precision is lost before it is stringified. */
export type AnyValue =
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'array'; values: AnyValue[] }
  | { kind: 'kvlist'; values: KeyValue[] }
  | { kind: 'empty' };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

interface PointBase {
  attributes: KeyValue[];
  /** fixed64 nanoseconds since epoch; 0 means unset. */
  timeUnixNano: bigint;
  /** DataPointFlags; bit 0 is FLAG_NO_RECORDED_VALUE. */
  flags: number;
}

export interface NumberPoint extends PointBase {
  /** Undefined when neither `as_double` nor `as_int` was sent. */
  value: number | undefined;
}

export interface HistogramPoint extends PointBase {
  count: bigint;
  /** Undefined when the optional `sum` is absent (then no `_sum` series is written). */
  sum: number | undefined;
  bucketCounts: bigint[];
  explicitBounds: number[];
}

export interface SummaryPoint extends PointBase {
  count: bigint;
  sum: number;
  quantiles: { quantile: number; value: number }[];
}

/** AggregationTemporality enum value: 0 unspecified, 1 delta, 2 cumulative. */
export type Temporality = number;

export type MetricData =
  | { type: 'gauge'; points: NumberPoint[] }
  | { type: 'sum'; monotonic: boolean; temporality: Temporality; points: NumberPoint[] }
  | { type: 'histogram'; temporality: Temporality; points: HistogramPoint[] }
  | { type: 'exponentialHistogram'; pointCount: number }
  | { type: 'summary'; points: SummaryPoint[] }
  | { type: 'none' };

export interface OtlpMetric {
  /** Where the metric sits in the request, e.g. `resourceMetrics[0].scopeMetrics[1].metrics[3]`. */
  path: string;
  name: string;
  unit: string;
  data: MetricData;
}

/** One `ResourceMetrics` with its scopes flattened: Vigil does not turn scopes into labels. */
export interface OtlpResource {
  attributes: KeyValue[];
  metrics: OtlpMetric[];
}

export interface OtlpRequest {
  resources: OtlpResource[];
}

/**
 * Thrown inside the OTLP decoders when the body is unusable; the public entry points catch it
 * and turn it into a rejected DecodeResult, so it never leaves src/ingest/otlp.
 */
export class OtlpPayloadError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'OtlpPayloadError';
  }
}

/** Deepest AnyValue nesting accepted: real attributes nest one or two levels; this bounds recursion. */
export const MAX_ANY_VALUE_DEPTH = 16;

/** Joins a field onto a path the way the error details print it (`a.b[2].c`). */
export function joinPath(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}
