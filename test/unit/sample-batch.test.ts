import { describe, expect, it } from 'vitest';
import { completeSeriesRowsLength, SAMPLE_ROW_BYTES, SampleBatchBuilder } from '../../src/ingest/sample-batch.js';
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

describe('SampleBatchBuilder series rows', () => {
  it('writes each new series as one RowBinary row of metric_series_v1, UTF-8 and all', () => {
    const registry = createSeriesRegistry();
    const entry = registry.add('k', [
      { name: '__name__', value: 'ifHCInOctets' },
      { name: 'ifDescr', value: 'Gigabit 1/0/1 – uplink ✓' },
      { name: 'site', value: 'Zürich' },
    ]);
    const builder = new SampleBatchBuilder(1, 'influx');
    const ts = Date.UTC(2026, 10, 20, 12);
    builder.addSample(entry, ts, 1);
    builder.addSample(entry, ts + 1000, 2);
    const batch = builder.build();
    const string = (text: string) => {
      const bytes = Buffer.from(text, 'utf8');
      return Buffer.concat([Buffer.from([bytes.length]), bytes]);
    };
    const head = Buffer.alloc(10);
    head.writeUInt16LE(Math.floor(ts / 86_400_000), 0);
    head.writeUInt32LE(entry.idLow, 2);
    head.writeUInt32LE(entry.idHigh, 6);
    const expected = Buffer.concat([
      head,
      string('ifHCInOctets'),
      Buffer.from([2]),
      string('ifDescr'),
      string('Gigabit 1/0/1 – uplink ✓'),
      string('site'),
      string('Zürich'),
      string('influx'),
    ]);
    // Once per series and day, however many samples it has in the batch.
    expect(batch.seriesCount).toBe(1);
    expect(batch.seriesRows.equals(expected)).toBe(true);
  });
});

describe('SampleBatchBuilder raw values', () => {
  it('keeps every value bit for bit past the first buffer, the stale marker included', () => {
    const registry = createSeriesRegistry();
    const entry = registry.add('k', [{ name: '__name__', value: 'up' }]);
    const values = Buffer.alloc(8 * 3);
    values.writeUInt32LE(0x00000002, 0); // Prometheus' stale marker 0x7ff0000000000002
    values.writeUInt32LE(0x7ff00000, 4);
    values.writeDoubleLE(-0, 8);
    values.writeDoubleLE(1.5e300, 16);
    // Announced as 100,000 samples: starts at 4,096 and grows.
    const builder = new SampleBatchBuilder(100_000, 'prometheus');
    const count = 10_000;
    for (let i = 0; i < count; i++) builder.addSampleRawValue(entry, 1_700_000_000_000 + i, values, (i % 3) * 8);
    const batch = builder.build();
    expect(batch.sampleCount).toBe(count);
    for (const i of [0, 1, 2, 4095, 4096, 4097, 8191, 8192, 9999]) {
      const row = batch.samples.subarray(i * SAMPLE_ROW_BYTES, (i + 1) * SAMPLE_ROW_BYTES);
      expect(Number(row.readBigInt64LE(8))).toBe(1_700_000_000_000 + i);
      expect(row.subarray(16).equals(values.subarray((i % 3) * 8, (i % 3) * 8 + 8))).toBe(true);
    }
  });

  it('writes a label value of 200 bytes with a two-byte length', () => {
    const registry = createSeriesRegistry();
    const long = 'v'.repeat(200);
    const entry = registry.add('k', [
      { name: '__name__', value: 'up' },
      { name: 'description', value: long },
    ]);
    const builder = new SampleBatchBuilder(1, 'prometheus');
    builder.addSample(entry, Date.UTC(2026, 10, 20), 1);
    const rows = builder.build().seriesRows;
    const at = rows.indexOf('description') + 'description'.length;
    // 200 = 0xC8: varint 0xC8 0x01.
    expect([rows[at], rows[at + 1]]).toEqual([0xc8, 0x01]);
    expect(rows.subarray(at + 2, at + 202).toString()).toBe(long);
    expect(rows.subarray(at + 202).equals(Buffer.from('\x0aprometheus'))).toBe(true);
  });
});

describe('completeSeriesRowsLength', () => {
  it('keeps whole series rows and cuts a torn tail at the last whole one, wherever it falls', () => {
    const registry = createSeriesRegistry();
    const builder = new SampleBatchBuilder(16, 'prometheus');
    const day0 = Date.UTC(2026, 10, 20);
    const ends: number[] = [0];
    for (let i = 0; i < 3; i++) {
      builder.addSample(registry.add(`t${i}`, [{ name: '__name__', value: 'up' }, { name: 'instance', value: `host-${i}-Grüße` }]), day0, 1);
      ends.push(builder.build().seriesRows.length);
    }
    const rows = builder.build().seriesRows;
    expect(completeSeriesRowsLength(rows)).toBe(rows.length);
    for (let cut = 0; cut < rows.length; cut++) {
      expect(completeSeriesRowsLength(rows.subarray(0, cut))).toBe(Math.max(...ends.filter((end) => end <= cut)));
    }
  });
});
