import { errorMessage } from '../../shared/errors.js';
import { rejectPayload, type DecodeResult } from '../decoded-series.js';
import { readExportMetricsJson } from './otlp-json.js';
import { OtlpPayloadError, type OtlpRequest } from './otlp-model.js';
import { readExportMetricsProtobuf } from './otlp-proto.js';
import { translateOtlpRequest, type OtlpLimits } from './otlp-to-series.js';

/*
 * OTLP/HTTP metrics (`POST /v1/metrics`, ExportMetricsServiceRequest) → DecodedSeries, named
 * the way Prometheus' OTLP receiver names them (see otlp-to-series.ts and translate-otlp-names.ts).
 * Both entry points are pure and total: a malformed body is a rejected result, never an exception.
 * Decompression and size limits belong to the route, before these run.
 */

/** Decodes a binary protobuf OTLP metrics body; never throws, rejects malformed bodies with the offending path. */
export function decodeOtlpMetricsProtobuf(body: Buffer, limits?: OtlpLimits): DecodeResult {
  return decodeSafely(() => readExportMetricsProtobuf(body), limits);
}

/** Decodes an already JSON.parsed OTLP/JSON metrics body; never throws, rejects wrong shapes with the offending path. */
export function decodeOtlpMetricsJson(body: unknown, limits?: OtlpLimits): DecodeResult {
  return decodeSafely(() => readExportMetricsJson(body), limits);
}

function decodeSafely(read: () => OtlpRequest, limits: OtlpLimits | undefined): DecodeResult {
  try {
    const { series, skipped } = translateOtlpRequest(read(), limits);
    return { ok: true, series, skipped };
  } catch (error) {
    if (error instanceof OtlpPayloadError) return rejectPayload(error.message);
    // Anything else (e.g. a RangeError on absurd input) is still this body's fault: a 400, not a 5xx.
    return rejectPayload(`OTLP body could not be decoded: ${errorMessage(error)}`);
  }
}
