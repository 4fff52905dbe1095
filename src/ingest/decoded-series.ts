/**
 * What every metric decoder produces: series with their full label set and samples.
 * Remote-write has its own columnar fast path (remote-write/); the other protocols
 * (OTLP, Influx) arrive at lower rates and use this plain shape.
 */
export interface Label {
  name: string;
  value: string;
}

export interface DecodedSeries {
  /** Includes `__name__`; any order (the series registry sorts). No empty names or values. */
  labels: Label[];
  /** Milliseconds since epoch, same length as `values`. */
  timestampsMs: number[];
  values: number[];
}

/** A decode either yields series (plus counts of what was skipped on purpose) or rejects the whole body. */
export type DecodeResult =
  | { ok: true; series: DecodedSeries[]; skipped: Record<string, number> }
  | { ok: false; code: DecodeErrorCode; detail: string };

/** 400 for malformed bodies, 413 for size, 415 for an unsupported content type or encoding. */
export type DecodeErrorCode = 'INGEST_PAYLOAD_INVALID' | 'INGEST_PAYLOAD_TOO_LARGE' | 'INGEST_UNSUPPORTED_MEDIA_TYPE';

export function rejectPayload(detail: string, code: DecodeErrorCode = 'INGEST_PAYLOAD_INVALID'): DecodeResult {
  return { ok: false, code, detail };
}
