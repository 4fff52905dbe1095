import protobuf from 'protobufjs';
import { compressSync } from 'snappy';

/** An independent remote-write 1.0 encoder (protobufjs), so tests do not check our decoder against itself. */
const root = protobuf.Root.fromJSON({
  nested: {
    WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
    TimeSeries: {
      fields: { labels: { rule: 'repeated', type: 'Label', id: 1 }, samples: { rule: 'repeated', type: 'Sample', id: 2 } },
    },
    Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
    Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
  },
});
export const WriteRequest = root.lookupType('WriteRequest');

export interface TestSeries {
  labels: Record<string, string>;
  samples: { value: number; timestamp: number }[];
}

/** Encodes series as Prometheus does: labels sorted by name. Returns the raw protobuf. */
export function encodeWriteRequest(series: TestSeries[]): Buffer {
  const timeseries = series.map((s) => ({
    labels: Object.entries(s.labels)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => ({ name, value })),
    samples: s.samples,
  }));
  return Buffer.from(WriteRequest.encode({ timeseries }).finish());
}

export function snappyWriteRequest(series: TestSeries[]): Buffer {
  return compressSync(encodeWriteRequest(series));
}

/** Decodes a body with protobufjs, the reference for comparisons. */
export function referenceDecode(raw: Buffer): TestSeries[] {
  const message = WriteRequest.toObject(WriteRequest.decode(raw), { longs: Number, defaults: true }) as {
    timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[];
  };
  return message.timeseries.map((t) => ({
    labels: Object.fromEntries(t.labels.map((l) => [l.name, l.value])),
    samples: t.samples,
  }));
}

export const remoteWriteHeaders = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
};

/** The stale marker NaN Prometheus writes when a series disappears. */
export const STALE_NAN = new DataView(new Uint8Array([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]).buffer).getFloat64(0, true);

/** A JS number cannot carry a signalling NaN through every encoder; this placeholder marks where to patch it in. */
export const STALE_PLACEHOLDER = 1234.5678e-300;

/** Replaces every placeholder double in a raw body with the stale marker bits, as Prometheus writes them. */
export function patchStaleMarkers(raw: Buffer): Buffer {
  const needle = Buffer.alloc(8);
  needle.writeDoubleLE(STALE_PLACEHOLDER);
  const stale = Buffer.from([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]);
  for (let at = raw.indexOf(needle); at >= 0; at = raw.indexOf(needle, at + 8)) stale.copy(raw, at);
  return raw;
}
