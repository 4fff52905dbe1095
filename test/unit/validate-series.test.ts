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
});
