/**
 * npm run bench:decode — the remote_write decode path alone, one thread: snappy, then the
 * hand-written decoder into RowBinary rows, on the shared generator's body shape (2,000
 * node_exporter-like series per request) and on the 16 bodies captured from Prometheus 2.42.
 * Prints samples per second; asserts nothing.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compressSync, uncompressSync } from 'snappy';
import { decodeRemoteWrite } from '../../src/ingest/remote-write/decode-remote-write.js';
import { markSeriesCommitted } from '../../src/ingest/sample-batch.js';
import { createSeriesRegistry } from '../../src/ingest/series-registry.js';
import { encodeWriteRequest, type TestSeries } from '../helpers/remote-write.js';

const limits = { maxLabelsPerSeries: 64, maxLabelValueBytes: 16_384, maxLabelBytesPerSeries: 32_768, maxTimestampMs: Number.MAX_SAFE_INTEGER, minTimestampMs: 0 };

function generatorBodies(): Buffer[] {
  const families = ['node_cpu_seconds_total', 'node_memory_MemAvailable_bytes', 'node_filesystem_avail_bytes', 'node_network_receive_bytes_total', 'node_load1', 'ifHCInOctets', 'probe_success', 'up'];
  const bodies: Buffer[] = [];
  for (let round = 0; round < 5; round++) {
    for (let off = 0; off < 10_000; off += 2_000) {
      const series: TestSeries[] = [];
      for (let i = off; i < off + 2_000; i++) {
        const fam = families[i % families.length]!;
        const inst = Math.floor(i / families.length);
        series.push({
          labels: { __name__: fam, datacenter: `dc${inst % 3}`, instance: `host-${inst}.example.net:9100`, job: 'node' },
          samples: [{ value: Math.random() * 1000, timestamp: 1_700_000_000_000 + round * 10_000 }],
        });
      }
      bodies.push(compressSync(encodeWriteRequest(series)));
    }
  }
  return bodies;
}

function measure(name: string, bodies: Buffer[], passes: number): void {
  const registry = createSeriesRegistry();
  const raw = bodies.map((b) => uncompressSync(b) as Buffer);
  // Warm up and register the series, as committed batches do in the service.
  for (const r of raw) {
    const result = decodeRemoteWrite(r, registry, limits);
    if (result.ok) markSeriesCommitted(result.batch);
  }
  let samples = 0;
  let started = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) for (const r of raw) {
    const result = decodeRemoteWrite(r, registry, limits);
    if (result.ok) samples += result.batch.sampleCount;
  }
  const decodeSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  let snappySamples = 0;
  started = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) for (const b of bodies) {
    const result = decodeRemoteWrite(uncompressSync(b) as Buffer, registry, limits);
    if (result.ok) snappySamples += result.batch.sampleCount;
  }
  const bothSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${name}: decode ${(samples / decodeSeconds / 1e6).toFixed(2)} M samples/s; snappy (sync) + decode ${(snappySamples / bothSeconds / 1e6).toFixed(2)} M samples/s`);
}

const captured = resolve(import.meta.dirname, '../fixtures/prometheus-2.42-remote-write');
measure('generator bodies (2,000 series each)', generatorBodies(), 20);
measure('Prometheus 2.42 captured bodies', readdirSync(captured).filter((f) => f.endsWith('.bin')).map((f) => readFileSync(join(captured, f))), 300);
