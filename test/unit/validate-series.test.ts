import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { validateSeries } from '../../src/ingest/validate-series.js';

describe('validateSeries', () => {
  const limits = { ...defaultConfig.ingest, maxLabelValueBytes: 32 };
  const series = (labels: { name: string; value: string }[]) => ({ labels, timestampsMs: [1_700_000_000_000], values: [1] });
  const anyTime = { minTimestampMs: 0, maxTimestampMs: Number.MAX_SAFE_INTEGER };

  it('bounds the metric name and label names like label values', () => {
    expect(validateSeries(series([{ name: '__name__', value: 'up' }]), limits, anyTime)).toBeNull();
    expect(validateSeries(series([{ name: '__name__', value: 'u'.repeat(33) }]), limits, anyTime)).toBe('metric name is longer than 32 bytes');
    expect(validateSeries(series([{ name: '__name__', value: 'up' }, { name: 'l'.repeat(33), value: 'x' }]), limits, anyTime)).toBe('a label name is longer than 32 bytes');
  });

  it("bounds all of a series' label bytes together", () => {
    const narrow = { ...defaultConfig.ingest, maxLabelBytesPerSeries: 64 };
    const labels = (valueBytes: number) => [{ name: '__name__', value: 'up' }, { name: 'a', value: 'x'.repeat(valueBytes) }, { name: 'b', value: 'x'.repeat(valueBytes) }];
    // __name__ + up + a + b = 12 bytes of names.
    expect(validateSeries(series(labels(26)), narrow, anyTime)).toBeNull();
    expect(validateSeries(series(labels(27)), narrow, anyTime)).toBe('its labels are longer than 64 bytes in all');
  });

  it('refuses samples past the retention or too far ahead, naming the time', () => {
    const up = [{ name: '__name__', value: 'up' }];
    const bounds = { minTimestampMs: Date.parse('2026-11-01T00:00:00Z'), maxTimestampMs: Date.parse('2026-12-01T00:10:00Z') };
    const at = (iso: string) => ({ labels: up, timestampsMs: [Date.parse(iso)], values: [1] });
    expect(validateSeries(at('2026-11-01T00:00:00Z'), limits, bounds)).toBeNull();
    expect(validateSeries(at('2026-12-01T00:10:00Z'), limits, bounds)).toBeNull();
    expect(validateSeries(at('2026-10-31T23:59:59.999Z'), limits, bounds)).toBe(
      'timestamp 2026-10-31T23:59:59.999Z of up is older than the retention (2026-11-01T00:00:00.000Z) and would be dropped at once',
    );
    expect(validateSeries(at('2026-12-01T00:10:00.001Z'), limits, bounds)).toBe('timestamp 2026-12-01T00:10:00.001Z of up is too far in the future');
  });
});
