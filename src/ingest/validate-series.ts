import type { Config } from '../config/index.js';
import type { DecodedSeries } from './decoded-series.js';

/** Prometheus' metric and label name rules (remote-write 1.0 spec). */
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TWO_POW_53 = 2 ** 53;

/** The times samples may have: not older than anything is kept, not too far ahead (ms since epoch). */
export interface TimestampBounds {
  minTimestampMs: number;
  maxTimestampMs: number;
}

/** How a refusal of a sample older than the retention reads (every decoder words it so). */
export const OLDER_THAN_RETENTION = 'is older than the retention';

/**
 * Checks a decoded series against the rules every stored series obeys (Prometheus naming,
 * unique labels, limits, timestamps in range). Returns the problem, or null when valid.
 */
export function validateSeries(series: DecodedSeries, limits: Config['ingest'], bounds: TimestampBounds): string | null {
  if (series.labels.length > limits.maxLabelsPerSeries) return `${series.labels.length} labels, the limit is ${limits.maxLabelsPerSeries}`;
  const seen = new Set<string>();
  let metricName: string | undefined;
  let labelBytes = 0;
  for (const { name, value } of series.labels) {
    labelBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
    if (labelBytes > limits.maxLabelBytesPerSeries) return `its labels are longer than ${limits.maxLabelBytesPerSeries} bytes in all`;
    if (seen.has(name)) return `label ${name} appears twice`;
    seen.add(name);
    if (name === '__name__') {
      if (Buffer.byteLength(value) > limits.maxLabelValueBytes) return `metric name is longer than ${limits.maxLabelValueBytes} bytes`;
      metricName = value;
      continue;
    }
    if (name.length > limits.maxLabelValueBytes) return `a label name is longer than ${limits.maxLabelValueBytes} bytes`;
    if (!LABEL_NAME.test(name)) return `label name ${JSON.stringify(name)} is not a valid Prometheus label name`;
    if (value === '') return `label ${name} has an empty value`;
    if (Buffer.byteLength(value) > limits.maxLabelValueBytes) return `label ${name} value is longer than ${limits.maxLabelValueBytes} bytes`;
  }
  if (metricName === undefined) return 'no metric name (__name__)';
  if (!METRIC_NAME.test(metricName)) return `metric name ${JSON.stringify(metricName)} is not a valid Prometheus metric name`;
  if (series.timestampsMs.length !== series.values.length) return 'timestamps and values differ in count';
  for (const ts of series.timestampsMs) {
    if (!Number.isInteger(ts) || ts < 0 || ts >= TWO_POW_53) return `timestamp ${ts} is not a valid time in milliseconds since 1970`;
    if (ts > bounds.maxTimestampMs) return `timestamp ${new Date(ts).toISOString()} of ${metricName} is too far in the future`;
    if (ts < bounds.minTimestampMs) {
      return `timestamp ${new Date(ts).toISOString()} of ${metricName} ${OLDER_THAN_RETENTION} (${new Date(bounds.minTimestampMs).toISOString()}) and would be dropped at once`;
    }
  }
  return null;
}
