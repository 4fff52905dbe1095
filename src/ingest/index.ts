export { createIngestService, type IngestService, type IngestSummary, type Protocol } from './ingest.service.js';
export { createSeriesRegistry, type SeriesRegistry } from './series-registry.js';
export { decodeRemoteWrite } from './remote-write/decode-remote-write.js';
export { decodeOtlpMetricsJson, decodeOtlpMetricsProtobuf } from './otlp/decode-otlp-metrics.js';
export { parseLineProtocol, parsePrecision } from './influx/parse-line-protocol.js';
export type { DecodeResult, DecodedSeries, Label } from './decoded-series.js';
