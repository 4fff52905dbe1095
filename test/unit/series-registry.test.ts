import { describe, expect, it } from 'vitest';
import { ByteKeyedSeries, canonicalSeriesKey, computeSeriesId, createSeriesRegistry, hashBytes } from '../../src/ingest/series-registry.js';

const labels = (value: string) => [
  { name: '__name__', value: 'up' },
  { name: 'instance', value },
];

describe('series registry, byte-keyed lookup', () => {
  it('finds a series by the same bytes at another offset of another buffer', () => {
    const registry = createSeriesRegistry();
    const first = Buffer.from('xx__name__=up,instance=a:9100yy');
    const entry = registry.addByBytes(first, 2, first.length - 2, labels('a:9100'));
    const second = Buffer.from('zzzzz__name__=up,instance=a:9100');
    expect(registry.getByBytes(second, 5, second.length)).toBe(entry);
  });

  it('keeps its own copy of the key: the request body may be reused or changed afterwards', () => {
    const registry = createSeriesRegistry();
    const body = Buffer.alloc(64 * 1024, 0x20);
    body.write('__name__=up,instance=a:9100', 100);
    const entry = registry.addByBytes(body, 100, 127, labels('a:9100'));
    body.fill(0x00);
    expect(registry.getByBytes(Buffer.from('__name__=up,instance=a:9100'), 0, 27)).toBe(entry);
  });

  it('tells apart ranges that differ only in their last byte, or only in length, at every length mod 4', () => {
    for (const length of [1, 2, 3, 4, 5, 6, 7, 8, 9, 31, 32, 33]) {
      const registry = createSeriesRegistry();
      const a = Buffer.alloc(length, 0x61);
      const b = Buffer.from(a);
      b[length - 1] = 0x62;
      const longer = Buffer.alloc(length + 1, 0x61);
      const entryA = registry.addByBytes(a, 0, length, labels('a'));
      expect(registry.getByBytes(b, 0, length)).toBeUndefined();
      expect(registry.getByBytes(longer, 0, length + 1)).toBeUndefined();
      expect(registry.getByBytes(longer, 1, length + 1)).toBe(entryA);
      const entryB = registry.addByBytes(b, 0, length, labels('b'));
      expect(registry.getByBytes(Buffer.from(b), 0, length)).toBe(entryB);
      expect(registry.getByBytes(Buffer.from(a), 0, length)).toBe(entryA);
    }
  });

  it('keeps every one of many series apart (hash buckets chain correctly)', () => {
    const registry = createSeriesRegistry();
    const keys = Array.from({ length: 20_000 }, (_, i) => Buffer.from(`instance=host-${i}.example.net:9100`));
    const entries = keys.map((key, i) => registry.addByBytes(key, 0, key.length, labels(`host-${i}`)));
    keys.forEach((key, i) => expect(registry.getByBytes(Buffer.from(key), 0, key.length)).toBe(entries[i]));
    expect(new Set(entries.map((e) => `${e.idHigh}:${e.idLow}`)).size).toBe(keys.length);
  });

  it('finds the right series whether the order repeats, changes, or skips (the order guess never answers wrongly)', () => {
    const registry = createSeriesRegistry();
    const keys = Array.from({ length: 50 }, (_, i) => Buffer.from(`instance=h${i}`));
    const entries = keys.map((key, i) => registry.addByBytes(key, 0, key.length, labels(`h${i}`)));
    const lookUp = (order: number[]) => order.map((i) => registry.getByBytes(Buffer.from(keys[i]!), 0, keys[i]!.length));
    const orders = [
      keys.map((_, i) => i),
      keys.map((_, i) => i),
      keys.map((_, i) => keys.length - 1 - i),
      keys.map((_, i) => (i * 7) % keys.length),
      [3, 4, 5, 3, 4, 5, 9, 3, 4],
    ];
    for (const order of orders) expect(lookUp(order)).toEqual(order.map((i) => entries[i]));
    // An unknown series after a known one: not the guess, not found.
    expect(registry.getByBytes(Buffer.from('instance=h3'), 0, 11)).toBe(entries[3]);
    expect(registry.getByBytes(Buffer.from('instance=h4x'), 0, 12)).toBeUndefined();
    expect(registry.getByBytes(Buffer.from('instance=h'), 0, 10)).toBeUndefined();
  });

  it('keeps lookups short when a sender crafts keys that share one hash bucket', () => {
    // Flipping the top bit of byte 3 and bit 6 of byte 5 of an 8-byte stretch cancels out in
    // hashBytes whatever its seed: ten such stretches make 1,024 keys with one hash.
    const keys = Array.from({ length: 1024 }, (_, m) => {
      const key = Buffer.alloc(96, 0x61);
      for (let j = 0; j < 10; j++) {
        if (m & (1 << j)) {
          key[8 * j + 3]! ^= 0x80;
          key[8 * j + 5]! ^= 0x40;
        }
      }
      return key;
    });
    const hashOf = (key: Buffer) => hashBytes(new DataView(key.buffer, key.byteOffset, key.length), key, 0, key.length);
    expect(new Set(keys.map(hashOf)).size).toBe(1);

    const table = new ByteKeyedSeries();
    const entries = keys.map((key, i) => {
      const entry = { idLow: i, idHigh: 0, metricName: 'up', labels: [], committedDay: -1 };
      table.add(key, 0, key.length, entry);
      return entry;
    });
    // Shuffled, so that the next-series guess misses and every lookup hashes.
    const order = keys.map((_, i) => (i * 389) % keys.length);
    for (const i of order) expect(table.get(Buffer.from(keys[i]!), 0, keys[i]!.length)).toBe(entries[i]);
    const stranger = Buffer.from(keys[0]!);
    stranger[8 * 10 + 3]! ^= 0x80;
    stranger[8 * 10 + 5]! ^= 0x40;
    expect(hashOf(stranger)).toBe(hashOf(keys[0]!));
    expect(table.get(stranger, 0, stranger.length)).toBeUndefined();
    // At most 8 bucket entries compared per lookup; an uncapped chain would average ~512.
    expect(table.chainSteps).toBeLessThanOrEqual((keys.length + 1) * 8);
  });

  it('starts over once its label bytes would pass maxKeyBytes, so huge label sets cannot grow it without end', () => {
    const registry = createSeriesRegistry(1_000_000, 64 * 1024);
    const big = (i: number) => Buffer.from(`instance=${String(i).padStart(6, '0')}:${'x'.repeat(10_000)}`);
    const first = registry.addByBytes(big(0), 0, big(0).length, labels('h0'));
    for (let i = 1; i < 6; i++) registry.addByBytes(big(i), 0, big(i).length, labels(`h${i}`));
    expect(registry.size).toBe(6);
    // The seventh would pass 64 KiB of keys: the table starts over with it alone.
    const seventh = registry.addByBytes(big(6), 0, big(6).length, labels('h6'));
    expect(registry.size).toBe(1);
    expect(registry.getByBytes(big(6), 0, big(6).length)).toBe(seventh);
    expect(registry.getByBytes(big(0), 0, big(0).length)).toBeUndefined();
    // Forgotten series come back with the same id.
    const again = registry.addByBytes(big(0), 0, big(0).length, labels('h0'));
    expect([again.idLow, again.idHigh]).toEqual([first.idLow, first.idHigh]);
  });

  it('starts over past maxEntries, stays within it, and answers every lookup with the right series', () => {
    const registry = createSeriesRegistry(10);
    const keys = Array.from({ length: 25 }, (_, i) => Buffer.from(`instance=h${i}`));
    for (let round = 0; round < 3; round++) {
      keys.forEach((key, i) => {
        const found = registry.getByBytes(key, 0, key.length) ?? registry.addByBytes(key, 0, key.length, labels(`h${i}`));
        expect(found.labels[0]!.value).toBe(`h${i}`);
      });
    }
    expect(registry.size).toBeLessThanOrEqual(10);
  });

  it('gives a series the id computed from its name and sorted labels, whatever the label order', () => {
    const registry = createSeriesRegistry();
    const entry = registry.add('k', [
      { name: 'job', value: 'node' },
      { name: '__name__', value: 'up' },
      { name: 'instance', value: 'a' },
    ]);
    const expected = computeSeriesId('up', [
      { name: 'instance', value: 'a' },
      { name: 'job', value: 'node' },
    ]);
    expect({ idLow: entry.idLow, idHigh: entry.idHigh }).toEqual(expected);
    expect(entry.metricName).toBe('up');
    expect(entry.labels.map((l) => l.name)).toEqual(['instance', 'job']);
  });
});

describe('computeSeriesId', () => {
  it('gives the ids it always gave: stored samples are keyed by them', () => {
    // Computed by the first implementation (a hash.update per part); never change these.
    expect(computeSeriesId('up', [])).toEqual({ idLow: 3448688336, idHigh: 1607150096 });
    expect(
      computeSeriesId('node_cpu_seconds_total', [
        { name: 'cpu', value: '0' },
        { name: 'instance', value: 'host-1:9100' },
        { name: 'mode', value: 'idle' },
      ]),
    ).toEqual({ idLow: 862859410, idHigh: 577208047 });
    expect(
      computeSeriesId('ifHCInOctets', [
        { name: 'ifDescr', value: 'Gigabit Ethernet 1/0/1 – uplink ✓' },
        { name: 'site', value: 'Zürich' },
      ]),
    ).toEqual({ idLow: 939404609, idHigh: 2466486460 });
  });
});

describe('canonicalSeriesKey', () => {
  it('keeps label sets apart whatever characters their text holds', () => {
    // With a separator character, {a="1ÿbÿ2"} and {a="1",b="2"} shared a key: an Influx
    // sender could write into another series of the same metric.
    const one = canonicalSeriesKey([{ name: '__name__', value: 'coll' }, { name: 'a', value: '1\xffb\xff2' }]);
    const two = canonicalSeriesKey([{ name: '__name__', value: 'coll' }, { name: 'a', value: '1' }, { name: 'b', value: '2' }]);
    expect(one).not.toBe(two);
    expect(canonicalSeriesKey([{ name: 'b', value: '2' }, { name: 'a', value: '1' }])).toBe(canonicalSeriesKey([{ name: 'a', value: '1' }, { name: 'b', value: '2' }]));
    expect(canonicalSeriesKey([{ name: 'a', value: '12' }])).not.toBe(canonicalSeriesKey([{ name: 'a1', value: '2' }]));
  });
});
