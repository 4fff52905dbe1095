import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, MetricReader, type ViewOptions } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import type { DecodedSeries, DecodeResult } from '../../src/ingest/decoded-series.js';
import { decodeOtlpMetricsJson, decodeOtlpMetricsProtobuf } from '../../src/ingest/otlp/decode-otlp-metrics.js';
import { buildLabelName, buildMetricName, type NamingKind } from '../../src/ingest/otlp/translate-otlp-names.js';

// ---------------------------------------------------------------------------------------------
// Encoders. Real payloads come from the OpenTelemetry JS SDK and its own OTLP serializers; cases
// the SDK cannot produce (summaries, NO_RECORDED_VALUE, odd attribute types, broken data) are
// written as OTLP/JSON and also encoded to protobuf with protobufjs, using the field numbers of
// open-telemetry/opentelemetry-proto metrics/v1, common/v1 and resource/v1.
// ---------------------------------------------------------------------------------------------

const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; }
message Metric {
  string name = 1; string description = 2; string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; ExponentialHistogram exponential_histogram = 10; Summary summary = 11; }
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message ExponentialHistogram { repeated ExponentialHistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Summary { repeated SummaryDataPoint data_points = 1; }
message NumberDataPoint {
  repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; optional double sum = 5; repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7;
  uint32 flags = 10;
}
message ExponentialHistogramDataPoint { repeated KeyValue attributes = 1; fixed64 time_unix_nano = 3; fixed64 count = 4; sint32 scale = 6; }
message SummaryDataPoint {
  repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; double sum = 5; repeated ValueAtQuantile quantile_values = 6; uint32 flags = 8;
}
message ValueAtQuantile { double quantile = 1; double value = 2; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
`;

const RequestType = protobuf.parse(OTLP_PROTO).root.lookupType('otlp.ExportMetricsServiceRequest');

/** An OTLP/JSON request as a plain object; protobufjs accepts the same shape (camelCase, int64 strings, base64). */
type OtlpJson = Record<string, unknown>;

function encodeProtobuf(request: OtlpJson): Buffer {
  return Buffer.from(RequestType.encode(RequestType.fromObject(request)).finish());
}

/** Decodes the request in both encodings and requires them to agree. */
function decodeBoth(request: OtlpJson): DecodeResult {
  const fromJson = decodeOtlpMetricsJson(request);
  const fromProtobuf = decodeOtlpMetricsProtobuf(encodeProtobuf(request));
  expect(fromProtobuf).toEqual(fromJson);
  return fromJson;
}

class ManualReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

type Meter = ReturnType<MeterProvider['getMeter']>;

/** Records with the real SDK, then serializes what it collected with the SDK's OTLP serializers. */
async function collectFromSdk(record: (meter: Meter) => void, views: ViewOptions[] = []): Promise<{ protobuf: Buffer; json: unknown }> {
  const reader = new ManualReader();
  const resource = resourceFromAttributes({ 'service.name': 'checkout', 'service.namespace': 'shop', 'service.instance.id': 'pod-7', 'host.name': 'node-1' });
  const provider = new MeterProvider({ resource, readers: [reader], views });
  record(provider.getMeter('vigil-test', '1.0.0'));
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const protobufBody = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
  const jsonBody = JsonMetricsSerializer.serializeRequest(resourceMetrics);
  if (protobufBody === undefined || jsonBody === undefined) throw new Error('SDK serializer returned nothing');
  return { protobuf: Buffer.from(protobufBody), json: JSON.parse(new TextDecoder().decode(jsonBody)) };
}

// ---------------------------------------------------------------------------------------------
// Request builders and result helpers.
// ---------------------------------------------------------------------------------------------

const TIME_NS = '1700000000123456789';
const TIME_MS = 1700000000123;
const str = (key: string, value: string): OtlpJson => ({ key, value: { stringValue: value } });

function request(metrics: unknown[], resourceAttributes: OtlpJson[] = [str('service.name', 'api')]): OtlpJson {
  return { resourceMetrics: [{ resource: { attributes: resourceAttributes }, scopeMetrics: [{ scope: { name: 'test' }, metrics }] }] };
}

function seriesOf(result: DecodeResult): DecodedSeries[] {
  if (!result.ok) throw new Error(`expected ok, got ${result.code}: ${result.detail}`);
  return result.series;
}

/** Series keyed `name{a="1",b="2"}` (labels sorted) → samples, for readable expectations. */
function render(series: DecodedSeries[]): Record<string, { timestampsMs: number[]; values: number[] }> {
  const out: Record<string, { timestampsMs: number[]; values: number[] }> = {};
  for (const s of series) {
    const name = s.labels.find((l) => l.name === '__name__')?.value ?? '?';
    const rest = s.labels
      .filter((l) => l.name !== '__name__')
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((l) => `${l.name}="${l.value}"`);
    out[`${name}{${rest.join(',')}}`] = { timestampsMs: s.timestampsMs, values: s.values };
  }
  return out;
}

function detailOf(result: DecodeResult): string {
  if (result.ok) throw new Error(`expected a rejection, got ${result.series.length} series`);
  expect(result.code).toBe('INGEST_PAYLOAD_INVALID');
  return result.detail;
}

/** Labels of the one series named `name`. */
function labelsOf(series: DecodedSeries[], name: string): Record<string, string> {
  const found = series.find((s) => s.labels.some((l) => l.name === '__name__' && l.value === name));
  if (found === undefined) throw new Error(`no series ${name}`);
  return Object.fromEntries(found.labels.map((l) => [l.name, l.value]));
}

// ---------------------------------------------------------------------------------------------
// Metric kinds.
// ---------------------------------------------------------------------------------------------

const at = (value: number): { timestampsMs: number[]; values: number[] } => ({ timestampsMs: [TIME_MS], values: [value] });

describe('decodeOtlpMetrics: metric kinds (protobuf and JSON agree)', () => {
  const cases: { name: string; metric: OtlpJson; expected: ReturnType<typeof render> }[] = [
    {
      name: 'gauge with unit 1 gets _ratio',
      metric: { name: 'system.cpu.utilization', unit: '1', gauge: { dataPoints: [{ attributes: [str('cpu', '0')], timeUnixNano: TIME_NS, asDouble: 0.25 }] } },
      expected: { 'system_cpu_utilization_ratio{cpu="0",job="api",service_name="api"}': at(0.25) },
    },
    {
      name: 'monotonic cumulative sum gets _total, annotation unit dropped',
      metric: {
        name: 'http.server.requests',
        unit: '{request}',
        sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ attributes: [str('http.method', 'GET')], timeUnixNano: TIME_NS, asInt: '42' }] },
      },
      expected: { 'http_server_requests_total{http_method="GET",job="api",service_name="api"}': at(42) },
    },
    {
      name: 'non-monotonic sum keeps its name',
      metric: { name: 'queue.depth', unit: '{item}', sum: { aggregationTemporality: 2, isMonotonic: false, dataPoints: [{ timeUnixNano: TIME_NS, asInt: '-3' }] } },
      expected: { 'queue_depth{job="api",service_name="api"}': at(-3) },
    },
    {
      name: 'delta sum is stored as sent',
      metric: { name: 'jobs.done', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: TIME_NS, asDouble: 7 }] } },
      expected: { 'jobs_done_total{job="api",service_name="api"}': at(7) },
    },
    {
      name: 'histogram becomes cumulative buckets, _sum and _count',
      metric: {
        name: 'http.server.request.duration',
        unit: 's',
        histogram: {
          aggregationTemporality: 2,
          dataPoints: [{ timeUnixNano: TIME_NS, count: '10', sum: 12.5, bucketCounts: ['1', '2', '3', '4'], explicitBounds: [0.005, 0.1, 1] }],
        },
      },
      expected: {
        'http_server_request_duration_seconds_bucket{job="api",le="0.005",service_name="api"}': at(1),
        'http_server_request_duration_seconds_bucket{job="api",le="0.1",service_name="api"}': at(3),
        'http_server_request_duration_seconds_bucket{job="api",le="1",service_name="api"}': at(6),
        'http_server_request_duration_seconds_bucket{job="api",le="+Inf",service_name="api"}': at(10),
        'http_server_request_duration_seconds_sum{job="api",service_name="api"}': at(12.5),
        'http_server_request_duration_seconds_count{job="api",service_name="api"}': at(10),
      },
    },
    {
      name: 'histogram without sum or buckets keeps +Inf and _count only',
      metric: { name: 'batch.size', histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: TIME_NS, count: '4' }] } },
      expected: {
        'batch_size_bucket{job="api",le="+Inf",service_name="api"}': at(4),
        'batch_size_count{job="api",service_name="api"}': at(4),
      },
    },
    {
      name: 'summary becomes quantiles, _sum and _count',
      metric: {
        name: 'rpc.latency',
        unit: 'ms',
        summary: {
          dataPoints: [{ timeUnixNano: TIME_NS, count: '12', sum: 100, quantileValues: [{ quantile: 0.5, value: 3 }, { quantile: 0.99, value: 20 }] }],
        },
      },
      expected: {
        'rpc_latency_milliseconds{job="api",quantile="0.5",service_name="api"}': at(3),
        'rpc_latency_milliseconds{job="api",quantile="0.99",service_name="api"}': at(20),
        'rpc_latency_milliseconds_sum{job="api",service_name="api"}': at(100),
        'rpc_latency_milliseconds_count{job="api",service_name="api"}': at(12),
      },
    },
  ];

  it.each(cases)('$name', ({ metric, expected }) => {
    expect(render(seriesOf(decodeBoth(request([metric]))))).toEqual(expected);
  });

  it('merges points of one series into one DecodedSeries and converts ns to exact ms (floor)', () => {
    const points = [
      { timeUnixNano: '1700000000123999999', asDouble: 1 },
      { timeUnixNano: '1700000060000000001', asDouble: 2 },
    ];
    const series = seriesOf(decodeBoth(request([{ name: 'temp', unit: 'Cel', gauge: { dataPoints: points } }])));
    expect(render(series)).toEqual({ 'temp_celsius{job="api",service_name="api"}': { timestampsMs: [1700000000123, 1700000060000], values: [1, 2] } });
  });

  it('keeps the last of two points of one series at the same millisecond', () => {
    const points = [
      { timeUnixNano: '1700000000123000000', asDouble: 1 },
      { timeUnixNano: '1700000000123000500', asDouble: 2 },
      { timeUnixNano: '1700000060000000000', asDouble: 3 },
    ];
    const series = seriesOf(decodeBoth(request([{ name: 'temp', unit: 'Cel', gauge: { dataPoints: points } }])));
    expect(render(series)).toEqual({ 'temp_celsius{job="api",service_name="api"}': { timestampsMs: [1700000000123, 1700000060000], values: [2, 3] } });
  });

  it('accepts 64-bit fields as JSON numbers too', () => {
    const metric = { name: 'up', gauge: { dataPoints: [{ timeUnixNano: 1700000000000000000, asInt: 1 }] } };
    expect(render(seriesOf(decodeOtlpMetricsJson(request([metric]))))).toEqual({ 'up{job="api",service_name="api"}': { timestampsMs: [1700000000000], values: [1] } });
  });

  it('skips exponential histograms and metrics without data, counting them', () => {
    const result = decodeBoth(
      request([
        { name: 'lat', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: TIME_NS, count: '1', scale: 2 }, { timeUnixNano: TIME_NS }] } },
        { name: 'empty' },
      ]),
    );
    expect(result).toEqual({ ok: true, series: [], skipped: { otlp_exponential_histogram: 2, otlp_metric_without_data: 1 } });
  });

  it('accepts an empty request', () => {
    expect(decodeOtlpMetricsProtobuf(Buffer.alloc(0))).toEqual({ ok: true, series: [], skipped: {} });
    expect(decodeOtlpMetricsJson({})).toEqual({ ok: true, series: [], skipped: {} });
  });
});

// ---------------------------------------------------------------------------------------------
// Real SDK payloads.
// ---------------------------------------------------------------------------------------------

describe('decodeOtlpMetrics: payloads from the OpenTelemetry JS SDK serializers', () => {
  it('gives the same series from the SDK protobuf and JSON bodies', async () => {
    const { protobuf: protobufBody, json } = await collectFromSdk((meter) => {
      meter.createCounter('http.requests', { unit: '{request}' }).add(5, { 'http.method': 'GET', 'http.status_code': 200, cached: false });
      meter.createUpDownCounter('queue.size').add(-3, { queue: 'mail' });
      meter.createHistogram('http.server.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1] } }).record(0.5, { route: '/a' });
      meter.createGauge('process.memory.usage', { unit: 'By' }).record(1048576, { 'process.tags': ['a', 'b'], ratio: 0.5 });
    });
    const fromProtobuf = decodeOtlpMetricsProtobuf(protobufBody);
    expect(fromProtobuf).toEqual(decodeOtlpMetricsJson(json));

    const series = seriesOf(fromProtobuf);
    expect(series).toHaveLength(8);
    expect(labelsOf(series, 'http_requests_total')).toEqual({
      __name__: 'http_requests_total',
      http_method: 'GET',
      http_status_code: '200',
      cached: 'false',
      job: 'shop/checkout',
      instance: 'pod-7',
      service_name: 'checkout',
      service_namespace: 'shop',
      service_instance_id: 'pod-7',
      host_name: 'node-1',
    });
    expect(labelsOf(series, 'process_memory_usage_bytes')).toMatchObject({ process_tags: '["a","b"]', ratio: '0.5' });
    expect(labelsOf(series, 'queue_size')).toMatchObject({ queue: 'mail' });
    const names = series.map((s) => s.labels.find((l) => l.name === '__name__')?.value);
    expect(new Set(names)).toEqual(
      new Set(['http_requests_total', 'queue_size', 'http_server_duration_seconds_bucket', 'http_server_duration_seconds_sum', 'http_server_duration_seconds_count', 'process_memory_usage_bytes']),
    );
  });

  it('counts SDK exponential histograms as skipped', async () => {
    const views: ViewOptions[] = [{ instrumentName: 'rpc.duration', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }];
    const { protobuf: protobufBody, json } = await collectFromSdk((meter) => {
      meter.createHistogram('rpc.duration', { unit: 's' }).record(0.2);
    }, views);
    const expected = { ok: true, series: [], skipped: { otlp_exponential_histogram: 1 } };
    expect(decodeOtlpMetricsProtobuf(protobufBody)).toEqual(expected);
    expect(decodeOtlpMetricsJson(json)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Labels: resource attributes, job/instance, escaping, value formatting, stale markers.
// ---------------------------------------------------------------------------------------------

describe('decodeOtlpMetrics: labels', () => {
  const gauge = (attributes: OtlpJson[]): OtlpJson => ({ name: 'g', gauge: { dataPoints: [{ attributes, timeUnixNano: TIME_NS, asDouble: 1 }] } });

  const cases: { name: string; resource: OtlpJson[]; point: OtlpJson[]; expected: Record<string, string> }[] = [
    {
      name: 'service.namespace/service.name → job, service.instance.id → instance, all resource attributes kept',
      resource: [str('service.name', 'checkout'), str('service.namespace', 'shop'), str('service.instance.id', 'pod-1'), str('deployment.environment', 'prod')],
      point: [],
      expected: {
        __name__: 'g',
        job: 'shop/checkout',
        instance: 'pod-1',
        service_name: 'checkout',
        service_namespace: 'shop',
        service_instance_id: 'pod-1',
        deployment_environment: 'prod',
      },
    },
    {
      name: 'service.name alone → job without namespace',
      resource: [str('service.name', 'checkout')],
      point: [],
      expected: { __name__: 'g', job: 'checkout', service_name: 'checkout' },
    },
    {
      name: 'data-point attributes win over resource attributes',
      resource: [str('host.name', 'from-resource'), str('region', 'eu')],
      point: [str('host.name', 'from-point')],
      expected: { __name__: 'g', host_name: 'from-point', region: 'eu' },
    },
    {
      name: 'attribute keys are escaped; digits and underscores get key prefixes; __name__ cannot be overridden',
      resource: [],
      point: [str('k8s.pod.name', 'p'), str('2xx', 'a'), str('_private', 'b'), str('__name__', 'evil'), str('clé', 'c')],
      expected: { __name__: 'g', k8s_pod_name: 'p', key_2xx: 'a', key_private: 'b', key__name__: 'evil', cl_: 'c' },
    },
    {
      name: 'colliding escaped keys are joined with ; in key order, empty values dropped',
      resource: [],
      point: [str('a_b', 'second'), str('a.b', 'first'), str('empty', '')],
      expected: { __name__: 'g', a_b: 'first;second' },
    },
    {
      name: 'non-string values are stringified as Prometheus does',
      resource: [],
      point: [
        { key: 'bool', value: { boolValue: true } },
        { key: 'int', value: { intValue: '9007199254740993' } },
        { key: 'double', value: { doubleValue: 1.5 } },
        { key: 'bytes', value: { bytesValue: 'AQID' } },
        { key: 'array', value: { arrayValue: { values: [{ stringValue: 'a<b' }, { intValue: '1' }, { boolValue: false }] } } },
        { key: 'kvlist', value: { kvlistValue: { values: [str('z', 'last'), { key: 'a', value: { doubleValue: 0.5 } }] } } },
      ],
      expected: {
        __name__: 'g',
        bool: 'true',
        int: '9007199254740993',
        double: '1.5',
        bytes: 'AQID',
        array: '["a\\u003cb",1,false]',
        kvlist: '{"a":0.5,"z":"last"}',
      },
    },
  ];

  it.each(cases)('$name', ({ resource, point, expected }) => {
    const series = seriesOf(decodeBoth(request([gauge(point)], resource)));
    expect(series).toHaveLength(1);
    expect(labelsOf(series, 'g')).toEqual(expected);
  });

  it('turns NO_RECORDED_VALUE into the Prometheus stale marker on every derived series', () => {
    const series = seriesOf(
      decodeBoth(
        request([
          { name: 'up', gauge: { dataPoints: [{ timeUnixNano: TIME_NS, flags: 1 }] } },
          { name: 'd', histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: TIME_NS, flags: 1, count: '3', sum: 2, bucketCounts: ['1', '2'], explicitBounds: [1] }] } },
        ]),
      ),
    );
    expect(series).toHaveLength(5);
    for (const s of series) {
      const [value] = s.values;
      expect(value).toBeNaN();
      // 0x7ff0000000000002; V8 may set the quiet bit (0x0008_0000 of the high word) when storing
      // the NaN in a number[], so compare the exponent and payload, not the quiet bit.
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, value ?? 0);
      expect(view.getUint32(0) & 0xfff7ffff).toBe(0x7ff00000);
      expect(view.getUint32(4)).toBe(2);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Names (prometheus/otlptranslator metric_namer_test.go and label_namer_test.go cases).
// ---------------------------------------------------------------------------------------------

describe('limits checked before the per-sample work', () => {
  const point = { timeUnixNano: '1700000000000000000', asDouble: 1 };
  it('refuses a resource whose attributes alone pass the label limit', () => {
    const attributes = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: { stringValue: 'v' } }));
    const body = { resourceMetrics: [{ resource: { attributes }, scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [point] } }] }] }] };
    expect(decodeOtlpMetricsJson(body, { maxLabelsPerSeries: 8 })).toMatchObject({ ok: false, detail: 'resourceMetrics[0].resource: its attributes make 11 labels per series, the limit is 8' });
    expect(decodeOtlpMetricsJson(body, { maxLabelsPerSeries: 11 }).ok).toBe(true);
  });

  it('refuses a histogram point with more than 1,000 explicit bounds', () => {
    const bounds = Array.from({ length: 1001 }, (_, i) => i);
    const histogram = (n: number) => ({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'h', histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: '1700000000000000000', count: '1', explicitBounds: bounds.slice(0, n), bucketCounts: Array.from({ length: n + 1 }, () => '0') }] } }] }] }],
    });
    expect(decodeOtlpMetricsJson(histogram(1001))).toMatchObject({ ok: false });
    expect(decodeOtlpMetricsJson(histogram(1000)).ok).toBe(true);
  });

  // A long resource attribute times a histogram's buckets grew to gigabytes before the value's
  // own limit was checked (a 10 KB gzip body ended the process, found in review).
  const withResource = (attributes: { key: string; value: { stringValue: string } }[], bounds = 400) => ({
    resourceMetrics: [
      {
        resource: { attributes },
        scopeMetrics: [{ metrics: [{ name: 'h', histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: '1700000000000000000', count: '1', explicitBounds: Array.from({ length: bounds }, (_, i) => i + 1), bucketCounts: Array.from({ length: bounds + 1 }, () => '0') }] } }] }],
      },
    ],
  });
  const limits = { maxLabelsPerSeries: 64, maxLabelValueBytes: 16 * 1024, maxLabelBytesPerSeries: 32 * 1024 };

  it('refuses a resource attribute longer than a label value may be, before a series is made', () => {
    const result = decodeOtlpMetricsJson(withResource([{ key: 'big', value: { stringValue: 'a'.repeat(2_000_000) } }]), limits);
    expect(result).toMatchObject({ ok: false, detail: 'resourceMetrics[0].resource: label big is longer than 16384 bytes' });
  });

  it("refuses labels longer than a series' limit in all, and takes them at the limit", () => {
    const attributes = (valueBytes: number) => Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, value: { stringValue: 'a'.repeat(valueBytes) } }));
    expect(decodeOtlpMetricsJson(withResource(attributes(12_000)), limits)).toMatchObject({
      ok: false,
      detail: 'resourceMetrics[0].resource: its labels are longer than 32768 bytes in all',
    });
    // Room left for __name__ and le: the point is refused, not the resource.
    expect(decodeOtlpMetricsJson(withResource(attributes(10_910)), limits)).toMatchObject({
      ok: false,
      detail: 'resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0]: its labels are longer than 32768 bytes in all',
    });
    const accepted = decodeOtlpMetricsJson(withResource(attributes(10_000)), limits);
    // 400 buckets, +Inf and _count (no sum given).
    expect(accepted.ok && accepted.series.length).toBe(402);
  });
});

describe('doubles given as strings', () => {
  it('refuses a string that names an Object.prototype member instead of storing NaN', () => {
    for (const text of ['toString', 'constructor', '__proto__', 'valueOf']) {
      const result = decodeOtlpMetricsJson({
        resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: '1700000000000000000', asDouble: text }] } }] }] }],
      });
      expect(result.ok).toBe(false);
    }
    const nan = decodeOtlpMetricsJson({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: '1700000000000000000', asDouble: 'NaN' }] } }] }] }] });
    expect(nan.ok && Number.isNaN(nan.series[0]!.values[0])).toBe(true);
  });
});

describe('translate-otlp-names', () => {
  const metricCases: [name: string, unit: string, kind: NamingKind, expected: string | undefined][] = [
    ['http.server.request.duration', 's', 'other', 'http_server_request_duration_seconds'],
    ['system.memory.usage', 'By', 'gauge', 'system_memory_usage_bytes'],
    ['cache.size', 'KiBy', 'gauge', 'cache_size_kibibytes'],
    ['cpu.utilization', '1', 'gauge', 'cpu_utilization_ratio'],
    ['http.requests', '1', 'monotonicSum', 'http_requests_total'],
    ['items', '1', 'other', 'items'],
    ['network.io', '{packets}', 'monotonicSum', 'network_io_total'],
    ['throughput', 'By/s', 'gauge', 'throughput_bytes_per_second'],
    ['requests', '1/s', 'gauge', 'requests_per_second'],
    ['disk.usage', '%', 'gauge', 'disk_usage_percent'],
    ['metric', ' By / s ', 'gauge', 'metric_bytes_per_second'],
    ['metric', 'By/', 'gauge', 'metric_bytes'],
    ['custom_metric', 'By/{custom}', 'gauge', 'custom_metric_bytes'],
    ['custom_metric', 'unit@with#special/chars', 'gauge', 'custom_metric_unit_with_special_per_chars'],
    ['response_time_seconds', 's', 'gauge', 'response_time_seconds'],
    ['requests_total', '', 'monotonicSum', 'requests_total'],
    ['cpu_usage_ratio', '1', 'gauge', 'cpu_usage_ratio'],
    // Units that are names of Object.prototype's members are ordinary units.
    ['jobs', 'constructor', 'gauge', 'jobs_constructor'],
    ['jobs', 'By/toString', 'gauge', 'jobs_bytes_per_toString'],
    ['metric__with__multiple__underscores', 'unit__multiple__underscores', 'gauge', 'metric_with_multiple_underscores_unit_multiple_underscores'],
    ['123_requests', '', 'monotonicSum', '_123_requests_total'],
    ['uptime', 'd', 'monotonicSum', 'uptime_days_total'],
    ['métric.ñame', 'ms', 'other', 'm_tric_ame_milliseconds'],
    ['app:requests', '', 'gauge', 'app:requests'],
    ['@#$%', '', 'gauge', undefined],
  ];

  it.each(metricCases)('metric %j with unit %j (%s) → %j', (name, unit, kind, expected) => {
    expect(buildMetricName(name, unit, kind)).toBe(expected);
  });

  const labelCases: [key: string, expected: string | undefined][] = [
    ['http.method', 'http_method'],
    ['k8s.pod.name', 'k8s_pod_name'],
    ['123invalid', 'key_123invalid'],
    ['_private', 'key_private'],
    ['__reserved__', 'key__reserved__'],
    ['name with spaces', 'name_with_spaces'],
    ['clé', 'cl_'],
    ['emoji😀', 'emoji_'],
    ['', undefined],
  ];

  it.each(labelCases)('label %j → %j', (key, expected) => {
    expect(buildLabelName(key)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile input.
// ---------------------------------------------------------------------------------------------

const M0 = 'resourceMetrics[0].scopeMetrics[0].metrics[0]';

/** Length-delimited field: tag byte, one-byte length, payload (all test payloads are < 128 bytes). */
function ld(field: number, payload: number[]): number[] {
  return [(field << 3) | 2, payload.length, ...payload];
}

/** A request whose only metric has the given raw bytes. */
function withMetricBytes(metric: number[]): Buffer {
  return Buffer.from(ld(1, ld(2, ld(2, metric))));
}

describe('decodeOtlpMetricsProtobuf: malformed bytes are rejected with the offending path', () => {
  const cases: { name: string; body: Buffer; detail: string }[] = [
    { name: 'truncated tag', body: Buffer.from([0x80]), detail: 'body: truncated varint' },
    { name: 'length past the end', body: Buffer.from([0x0a, 0x05, 0x01]), detail: 'resourceMetrics[0]: length 5 runs past the end (1 bytes left)' },
    { name: 'varint longer than 10 bytes', body: Buffer.from([0x10, ...Array<number>(11).fill(0xff)]), detail: 'field 2: varint longer than 10 bytes' },
    { name: 'truncated length prefix', body: Buffer.from([0x0a, 0x80]), detail: 'resourceMetrics[0]: truncated varint' },
    { name: 'field number 0', body: Buffer.from([0x00, 0x01]), detail: 'body: invalid field tag 0' },
    { name: 'group wire type in an unknown field', body: Buffer.from([0x13]), detail: 'field 2: unsupported wire type 3 (start-group)' },
    { name: 'wrong wire type for a known message', body: Buffer.from([0x08, 0x01]), detail: 'resourceMetrics[0]: wire type 0 (varint), expected length-delimited' },
    { name: 'metric name sent as a varint', body: withMetricBytes([0x08, 0x05]), detail: `${M0}.name: wire type 0 (varint), expected length-delimited` },
    { name: 'metric name not UTF-8', body: withMetricBytes(ld(1, [0xc3, 0x28])), detail: `${M0}.name: string is not valid UTF-8` },
    {
      name: 'fixed64 time cut short',
      body: withMetricBytes([...ld(1, [0x61]), ...ld(5, ld(1, [0x19, 0x01, 0x02]))]),
      detail: `${M0}.gauge.dataPoints[0].timeUnixNano: needs 8 bytes, 2 left`,
    },
    {
      name: 'packed bucket counts not a multiple of 8',
      body: withMetricBytes([...ld(1, [0x68]), ...ld(9, ld(1, ld(6, [1, 2, 3])))]),
      detail: `${M0}.histogram.dataPoints[0].bucketCounts: packed length 3 is not a multiple of 8`,
    },
  ];

  it.each(cases)('$name', ({ body, detail }) => {
    expect(detailOf(decodeOtlpMetricsProtobuf(body))).toEqual(detail);
  });

  it('rejects every truncation of a real SDK body with a reason', async () => {
    const { protobuf: body } = await collectFromSdk((meter) => {
      meter.createHistogram('http.server.duration', { unit: 's' }).record(0.5, { route: '/a' });
      meter.createCounter('http.requests').add(1, { code: 200 });
    });
    for (let cut = 1; cut < body.length; cut++) {
      const result = decodeOtlpMetricsProtobuf(body.subarray(0, cut));
      // The outermost length prefix already claims more than is left, so no cut can pass as a shorter body.
      expect(detailOf(result)).toMatch(/^resourceMetrics\[0\]: (truncated varint|length \d+ runs past the end)/);
    }
  });
});

describe('decodeOtlpMetrics: invalid content is rejected in both encodings', () => {
  const point = { timeUnixNano: TIME_NS, asDouble: 1 };
  const cases: { name: string; metric: OtlpJson; detail: string }[] = [
    { name: 'missing metric name', metric: { unit: 's', gauge: { dataPoints: [point] } }, detail: `${M0}: metric has no name` },
    {
      name: 'name with no valid character',
      metric: { name: '…', gauge: { dataPoints: [point] } },
      detail: `${M0}: metric name "…" has no character valid in a Prometheus name`,
    },
    {
      name: 'data point without time',
      metric: { name: 'g', gauge: { dataPoints: [{ asDouble: 1 }] } },
      detail: `${M0}.gauge.dataPoints[0]: timeUnixNano is 0 (unset); every data point needs its time`,
    },
    {
      name: 'number point without a value',
      metric: { name: 'g', sum: { isMonotonic: true, aggregationTemporality: 2, dataPoints: [point, { timeUnixNano: TIME_NS }] } },
      detail: `${M0}.sum.dataPoints[1]: number data point has neither asDouble nor asInt`,
    },
    {
      name: 'histogram bucket counts not matching bounds',
      metric: { name: 'h', histogram: { dataPoints: [{ timeUnixNano: TIME_NS, count: '3', bucketCounts: ['1', '1', '1'], explicitBounds: [1, 2, 3] }] } },
      detail: `${M0}.histogram.dataPoints[0]: histogram bucketCounts has 3 entries, 3 explicitBounds need 4`,
    },
    {
      name: 'histogram bounds not increasing',
      metric: { name: 'h', histogram: { dataPoints: [{ timeUnixNano: TIME_NS, count: '3', bucketCounts: ['1', '1', '1'], explicitBounds: [2, 1] }] } },
      detail: `${M0}.histogram.dataPoints[0]: histogram explicitBounds must be finite and strictly increasing, explicitBounds[1] is 1`,
    },
    {
      name: 'empty attribute key',
      metric: { name: 'g', gauge: { dataPoints: [{ ...point, attributes: [str('', 'x')] }] } },
      detail: `${M0}.gauge.dataPoints[0].attributes[0]: attribute key is empty`,
    },
  ];

  it.each(cases)('$name', ({ metric, detail }) => {
    expect(detailOf(decodeBoth(request([metric])))).toBe(detail);
  });

  it('rejects an empty resource attribute key naming the resource', () => {
    const body = request([{ name: 'g', gauge: { dataPoints: [point] } }], [str('', 'x')]);
    expect(detailOf(decodeBoth(body))).toBe('resourceMetrics[0].resource.attributes[0]: attribute key is empty');
  });
});

describe('decodeOtlpMetricsJson: wrong shapes are rejected with the offending path', () => {
  const withPoint = (fields: OtlpJson): OtlpJson => request([{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: TIME_NS, asDouble: 1, ...fields }] } }]);
  const P0 = `${M0}.gauge.dataPoints[0]`;
  const nested = (depth: number): OtlpJson => (depth === 0 ? { stringValue: 'x' } : { kvlistValue: { values: [{ key: 'k', value: nested(depth - 1) }] } });

  const cases: { name: string; body: unknown; detail: string | RegExp }[] = [
    { name: 'body is an array', body: [], detail: 'body: expected an object, got an array' },
    { name: 'body is null', body: null, detail: 'body: expected an object, got null' },
    { name: 'resourceMetrics is a string', body: { resourceMetrics: 'x' }, detail: 'resourceMetrics: expected an array, got string "x"' },
    { name: 'metric is a number', body: request([5]), detail: `${M0}: expected an object, got number 5` },
    { name: 'name is a number', body: request([{ name: 42 }]), detail: `${M0}.name: expected a string, got number 42` },
    { name: 'several data kinds', body: request([{ name: 'g', gauge: {}, sum: {} }]), detail: `${M0}: data has several kinds set (gauge, sum), expected one` },
    { name: 'infinite timestamp', body: withPoint({ timeUnixNano: Infinity }), detail: `${P0}.timeUnixNano: expected an unsigned 64-bit integer (decimal string or number), got number Infinity` },
    { name: 'negative timestamp', body: withPoint({ timeUnixNano: -5 }), detail: `${P0}.timeUnixNano: expected an unsigned 64-bit integer (decimal string or number), got number -5` },
    { name: 'fractional timestamp string', body: withPoint({ timeUnixNano: '1.5e18' }), detail: `${P0}.timeUnixNano: expected an unsigned 64-bit integer (decimal string or number), got string "1.5e18"` },
    { name: 'timestamp beyond uint64', body: withPoint({ timeUnixNano: '18446744073709551616' }), detail: `${P0}.timeUnixNano: expected an unsigned 64-bit integer (decimal string or number), got string "18446744073709551616"` },
    { name: 'asDouble not a number', body: withPoint({ asDouble: 'fast' }), detail: `${P0}.asDouble: expected a number, got string "fast"` },
    { name: 'both asDouble and asInt', body: withPoint({ asInt: '1' }), detail: `${P0}: both asDouble and asInt are set, expected one` },
    { name: 'attributes not an array', body: withPoint({ attributes: { key: 'a' } }), detail: `${P0}.attributes: expected an array, got an object` },
    { name: 'bytes not base64', body: withPoint({ attributes: [{ key: 'b', value: { bytesValue: '!!' } }] }), detail: `${P0}.attributes[0].value.bytesValue: expected base64 bytes, got string "!!"` },
    { name: 'attribute nested too deep', body: withPoint({ attributes: [{ key: 'deep', value: nested(20) }] }), detail: /^resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[0\]\.gauge\.dataPoints\[0\]\.attributes\[0\]\.value(\.kvlistValue\.values\[0\]\.value)+: attribute value nested deeper than 16 levels$/ },
  ];

  it.each(cases)('$name', ({ body, detail }) => {
    const actual = detailOf(decodeOtlpMetricsJson(body));
    if (typeof detail === 'string') expect(actual).toBe(detail);
    else expect(actual).toMatch(detail);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------------

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function expectWellFormed(result: DecodeResult): void {
  if (!result.ok) {
    expect(result.detail.length).toBeGreaterThan(0);
    return;
  }
  for (const s of result.series) {
    expect(s.timestampsMs).toHaveLength(s.values.length);
    for (const label of s.labels) {
      expect(label.value).not.toBe('');
      expect(label.name).toMatch(label.name === '__name__' ? /^__name__$/ : LABEL_NAME);
      expect(label.name === '__name__' || !label.name.startsWith('__')).toBe(true);
      if (label.name === '__name__') expect(label.value).toMatch(METRIC_NAME);
    }
  }
}

describe('decodeOtlpMetrics: properties', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expectWellFormed(decodeOtlpMetricsProtobuf(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on mutated real bodies', async () => {
    const { protobuf: body } = await collectFromSdk((meter) => {
      meter.createHistogram('http.server.duration', { unit: 's' }).record(0.5, { route: '/a', list: [1, 2] });
      meter.createCounter('http.requests').add(1, { code: 200 });
    });
    const mutation = fc.array(fc.record({ at: fc.nat(body.length - 1), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(mutation, (edits) => {
        const copy = Buffer.from(body);
        for (const { at: index, byte } of edits) copy[index] = byte;
        expectWellFormed(decodeOtlpMetricsProtobuf(copy));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectWellFormed(decodeOtlpMetricsJson(value));
        expectWellFormed(decodeOtlpMetricsJson({ resourceMetrics: [{ scopeMetrics: [{ metrics: [value] }] }] }));
      }),
      { numRuns: 1000 },
    );
  });

  it('gives valid names and equal results in both encodings for arbitrary names, units and attributes', () => {
    const attribute = fc.record({ key: fc.string({ maxLength: 12 }).filter((k) => k !== ''), value: fc.record({ stringValue: fc.string({ maxLength: 8 }) }) });
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 8 }), fc.array(attribute, { maxLength: 5 }), fc.double(), (name, unit, attributes, value) => {
        const result = decodeBoth(request([{ name, unit, gauge: { dataPoints: [{ attributes, timeUnixNano: TIME_NS, asDouble: value }] } }], attributes));
        expectWellFormed(result);
      }),
      { numRuns: 500 },
    );
  });
});
