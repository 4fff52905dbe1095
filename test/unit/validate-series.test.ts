import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { validateSeries } from '../../src/ingest/validate-series.js';

describe('validateSeries', () => {
  const limits = { ...defaultConfig.ingest, maxLabelValueBytes: 32 };
  const series = (labels: { name: string; value: string }[]) => ({ labels, timestampsMs: [1_700_000_000_000], values: [1] });

  it('bounds the metric name and label names like label values', () => {
    expect(validateSeries(series([{ name: '__name__', value: 'up' }]), limits, Number.MAX_SAFE_INTEGER)).toBeNull();
    expect(validateSeries(series([{ name: '__name__', value: 'u'.repeat(33) }]), limits, Number.MAX_SAFE_INTEGER)).toBe('metric name is longer than 32 bytes');
    expect(validateSeries(series([{ name: '__name__', value: 'up' }, { name: 'l'.repeat(33), value: 'x' }]), limits, Number.MAX_SAFE_INTEGER)).toBe('a label name is longer than 32 bytes');
  });

  it("bounds all of a series' label bytes together", () => {
    const narrow = { ...defaultConfig.ingest, maxLabelBytesPerSeries: 64 };
    const labels = (valueBytes: number) => [{ name: '__name__', value: 'up' }, { name: 'a', value: 'x'.repeat(valueBytes) }, { name: 'b', value: 'x'.repeat(valueBytes) }];
    // __name__ + up + a + b = 12 bytes of names.
    expect(validateSeries(series(labels(26)), narrow, Number.MAX_SAFE_INTEGER)).toBeNull();
    expect(validateSeries(series(labels(27)), narrow, Number.MAX_SAFE_INTEGER)).toBe('its labels are longer than 64 bytes in all');
  });
});
