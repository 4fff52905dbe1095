import { describe, expect, it } from 'vitest';
import { SAMPLE_ROW_BYTES, SampleBatchBuilder } from '../../src/ingest/sample-batch.js';
import { createSeriesRegistry } from '../../src/ingest/series-registry.js';

describe('SampleBatchBuilder', () => {
  it('grows past its first size and keeps every row in order, bit for bit', () => {
    const registry = createSeriesRegistry();
    const entries = Array.from({ length: 3 }, (_, i) =>
      registry.add(`k${i}`, [
        { name: '__name__', value: 'up' },
        { name: 'instance', value: `h${i}` },
      ]),
    );
    // Far more samples than the 16 announced: the builder doubles several times.
    const count = 10_000;
    const builder = new SampleBatchBuilder(16, 'prometheus');
    const day0 = Date.UTC(2026, 10, 20);
    for (let i = 0; i < count; i++) builder.addSample(entries[i % 3]!, day0 + i * 1000, i + 0.5);
    const batch = builder.build();
    expect(batch.sampleCount).toBe(count);
    expect(batch.samples.length).toBe(count * SAMPLE_ROW_BYTES);
    for (const i of [0, 15, 16, 17, 4095, 4096, 9999]) {
      const row = i * SAMPLE_ROW_BYTES;
      const entry = entries[i % 3]!;
      expect(batch.samples.readUInt32LE(row)).toBe(entry.idLow);
      expect(batch.samples.readUInt32LE(row + 4)).toBe(entry.idHigh);
      expect(Number(batch.samples.readBigInt64LE(row + 8))).toBe(day0 + i * 1000);
      expect(batch.samples.readDoubleLE(row + 16)).toBe(i + 0.5);
    }
    // One series row per series and day, however the buffer grew.
    expect(batch.seriesCount).toBe(3);
  });
});
