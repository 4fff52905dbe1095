import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { uncompressSync } from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchStaleMarkers, referenceDecode, remoteWriteHeaders, snappyWriteRequest, STALE_PLACEHOLDER, encodeWriteRequest } from '../helpers/remote-write.js';
import { compressSync } from 'snappy';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const payloadDir = join(import.meta.dirname, '../fixtures/prometheus-2.42-remote-write');

let vigil: TestVigil;
beforeAll(async () => {
  // The captured bodies hold the times Prometheus sent them (2026-11-22): a retention long
  // enough to keep them, since samples older than the retention are refused.
  vigil = await startTestVigil({ overrides: (c) => (c.storage.retentionDays = 3650) });
});
afterAll(async () => {
  await vigil?.stop();
});

async function write(body: Buffer, headers: Record<string, string> = remoteWriteHeaders): Promise<Response> {
  return fetch(`${vigil.url}/api/v1/write`, { method: 'POST', headers, body });
}

interface ExportLine {
  metric: Record<string, string>;
  values: (number | string | null)[];
  timestamps: number[];
}

async function exportSeries(match: string, startMs = 0, endMs = Date.now() + 600_000): Promise<ExportLine[]> {
  const params = new URLSearchParams({ 'match[]': match, start: String(startMs / 1000), end: String(endMs / 1000) });
  const response = await fetch(`${vigil.url}/api/v1/export?${params}`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ExportLine);
}

describe('remote_write round trip on the embedded engine', () => {
  it('stores every sample of the 16 bodies Prometheus 2.42 sent, exactly as sent', async () => {
    const files = readdirSync(payloadDir).filter((f) => f.endsWith('.bin')).sort();
    const expected = new Map<string, Map<number, number>>();
    for (const file of files) {
      const body = readFileSync(join(payloadDir, file));
      const response = await write(body);
      expect(response.status).toBe(204);
      for (const s of referenceDecode(uncompressSync(body) as Buffer)) {
        const key = JSON.stringify(Object.entries(s.labels).sort());
        const points = expected.get(key) ?? new Map<number, number>();
        for (const p of s.samples) points.set(p.timestamp, p.value);
        expected.set(key, points);
      }
    }
    const lines = await exportSeries('{__name__=~".+"}');
    expect(lines.length).toBe(expected.size);
    let samples = 0;
    for (const line of lines) {
      const points = expected.get(JSON.stringify(Object.entries(line.metric).sort()));
      expect(points, `unexpected series ${JSON.stringify(line.metric)}`).toBeDefined();
      expect(line.timestamps).toEqual([...points!.keys()].sort((a, b) => a - b));
      line.timestamps.forEach((ts, i) => {
        const want = points!.get(ts)!;
        const got = line.values[i];
        if (Number.isNaN(want)) expect(got).toBeNull();
        else expect(got).toBe(want);
      });
      samples += line.timestamps.length;
    }
    expect(samples).toBe([...expected.values()].reduce((n, m) => n + m.size, 0));
  });

  it('exports NaN, the stale marker, +Inf and -Inf as VictoriaMetrics does, and lists the series', async () => {
    const ts = Date.now() - 60_000;
    const body = compressSync(
      patchStaleMarkers(
        encodeWriteRequest([
          {
            labels: { __name__: 'roundtrip_special', instance: 'host-1:9100', job: 'node', path: 'a "quoted" \\ value, with unicode ✓' },
            samples: [
              { value: 0.1, timestamp: ts },
              { value: Number.NaN, timestamp: ts + 1000 },
              { value: STALE_PLACEHOLDER, timestamp: ts + 2000 },
              { value: Number.POSITIVE_INFINITY, timestamp: ts + 3000 },
              { value: Number.NEGATIVE_INFINITY, timestamp: ts + 4000 },
              { value: -123456789.000001, timestamp: ts + 5000 },
            ],
          },
        ]),
      ),
    );
    expect((await write(body)).status).toBe(204);
    const [line] = await exportSeries('roundtrip_special{job="node"}');
    expect(line).toEqual({
      metric: { __name__: 'roundtrip_special', instance: 'host-1:9100', job: 'node', path: 'a "quoted" \\ value, with unicode ✓' },
      values: [0.1, null, null, 'Infinity', '-Infinity', -123456789.000001],
      timestamps: [ts, ts + 1000, ts + 2000, ts + 3000, ts + 4000, ts + 5000],
    });
    const series = await fetch(`${vigil.url}/api/v1/series?match[]=${encodeURIComponent('{__name__="roundtrip_special",instance=~"host-.*"}')}`);
    expect(await series.json()).toEqual({ status: 'success', data: [line!.metric] });
  });

  it('stores a body that decompresses past 4 MiB (decompressed off the event loop) as well as small ones', async () => {
    const ts = Date.now() - 120_000;
    // Under export's 10k-series answer limit, padded past 4 MiB.
    const series = Array.from({ length: 9_000 }, (_, i) => ({
      labels: { __name__: 'big_body', idx: String(i), pad: 'p'.repeat(600) },
      samples: [{ value: i, timestamp: ts }],
    }));
    const raw = encodeWriteRequest(series);
    expect(raw.length).toBeGreaterThan(4 * 1024 * 1024);
    expect((await write(compressSync(raw))).status).toBe(204);
    const lines = await exportSeries('big_body');
    expect(lines).toHaveLength(series.length);
    expect(lines.map((l) => l.values[0]).sort((a, b) => Number(a) - Number(b))).toEqual(series.map((_, i) => i));
  });

  it('applies every matcher kind and the time range', async () => {
    const base = Date.now() - 3_600_000;
    const series = ['a', 'b', 'c'].map((dc, i) => ({ labels: { __name__: 'matcher_test', dc, idx: String(i) }, samples: [{ value: i, timestamp: base + i * 1000 }] }));
    expect((await write(snappyWriteRequest(series))).status).toBe(204);
    const names = async (match: string) => (await exportSeries(match)).map((l) => l.metric.dc).sort();
    expect(await names('matcher_test{dc="a"}')).toEqual(['a']);
    expect(await names('matcher_test{dc!="a"}')).toEqual(['b', 'c']);
    expect(await names('matcher_test{dc=~"a|c"}')).toEqual(['a', 'c']);
    expect(await names('matcher_test{dc!~"a|c"}')).toEqual(['b']);
    expect(await names('matcher_test{dc=~"a.*", idx="0"}')).toEqual(['a']);
    expect(await names('matcher_test{missing=""}')).toEqual(['a', 'b', 'c']);
    // The range selects samples, not just series.
    const ranged = await exportSeries('matcher_test', base + 500, base + 1500);
    expect(ranged.map((l) => l.timestamps)).toEqual([[base + 1000]]);
  });
});

describe('remote_write rejects bad requests whole, with a reason', () => {
  it('answers 400 for a body that is not snappy, and stores nothing', async () => {
    const response = await write(Buffer.from('definitely not snappy'));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'INGEST_PAYLOAD_INVALID' });
  });

  it('answers 400 for a body whose header declares more than snappy can expand it to, before allocating that', async () => {
    // Varint 64 MiB, then two bytes: 64 MiB would be allocated and zeroed before the decoder noticed.
    const response = await write(Buffer.from([0x80, 0x80, 0x80, 0x20, 0x00, 0x00]));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'INGEST_PAYLOAD_INVALID', detail: 'body of 6 bytes cannot decompress to the 67108864 bytes its header declares' });
  });

  it('answers 400 and stores no sample of a body with one bad series', async () => {
    const ts = Date.now();
    const body = snappyWriteRequest([
      { labels: { __name__: 'partial_good' }, samples: [{ value: 1, timestamp: ts }] },
      { labels: { job: 'nameless' }, samples: [{ value: 1, timestamp: ts }] },
    ]);
    const response = await write(body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/timeseries\[1\].*__name__/);
    expect(await exportSeries('partial_good')).toEqual([]);
  });

  it('answers 400 for a sample older than raw samples and rollups are kept, naming it, and stores nothing of the body', async () => {
    const nowMs = Date.now();
    const { retentionDays, rollupRetentionDays } = vigil.config.storage;
    const tooOld = nowMs - (Math.max(retentionDays, rollupRetentionDays) + 1) * 86_400_000;
    const body = snappyWriteRequest([
      { labels: { __name__: 'retention_fresh' }, samples: [{ value: 1, timestamp: nowMs }] },
      { labels: { __name__: 'retention_old', job: 'backfill' }, samples: [{ value: 2, timestamp: nowMs }, { value: 3, timestamp: tooOld }] },
    ]);
    const response = await write(body);
    expect(response.status).toBe(400);
    const { detail } = (await response.json()) as { detail: string };
    expect(detail.startsWith(`timeseries[1].samples[1]: timestamp ${new Date(tooOld).toISOString()} is older than the retention (`)).toBe(true);
    expect(detail.endsWith(') and would be dropped at once (series retention_old{job="backfill"})')).toBe(true);
    expect(await exportSeries('{__name__=~"retention_.*"}', 0)).toEqual([]);
  });

  it.each([
    ['application/json', 'snappy', 415],
    ['application/x-protobuf;proto=io.prometheus.write.v2.Request', 'snappy', 415],
    ['application/x-protobuf', 'gzip', 415],
  ])('answers %s with %s encoding with %d', async (contentType, encoding, status) => {
    const response = await write(snappyWriteRequest([]), { 'content-type': contentType, 'content-encoding': encoding });
    expect(response.status).toBe(status);
  });

  it('answers 413 when the snappy header declares a body over the limit', async () => {
    // Varint 0xffffffff0f declares ~4 GiB of output; nothing is decompressed.
    const response = await write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]));
    expect(response.status).toBe(413);
  });

  it('answers 400 for bad selectors and times on the read side, in the error shape of Prometheus for its series API', async () => {
    // start=-1&end=-2: both clamp to 1970, but the end is before the start as sent.
    for (const query of ['match[]=up{', 'match[]=up&start=yesterday', '', 'match[]={a=~".*"}', 'match[]=up&start=-1&end=-2']) {
      const response = await fetch(`${vigil.url}/api/v1/series?${query}`);
      expect(response.status, query).toBe(400);
      const body = (await response.json()) as { status: string; errorType: string; error: string };
      expect(body, query).toMatchObject({ status: 'error', errorType: 'bad_data' });
      expect(body.error, query).toMatch(/match\[\]|start/);
    }
    const export_ = await fetch(`${vigil.url}/api/v1/export?match[]=up{`);
    expect(export_.status).toBe(400);
    expect(((await export_.json()) as { error: string }).error).toBe('REQUEST_INVALID');
  });

  it('answers 400, not 503, for a regex the engine cannot compile (a retry would fail the same way)', async () => {
    // A series for the engine to evaluate the regex against.
    expect((await write(snappyWriteRequest([{ labels: { __name__: 'x', h: 'abc' }, samples: [{ value: 1, timestamp: Date.now() - 1000 }] }]))).status).toBe(204);
    const params = new URLSearchParams({ 'match[]': 'x{h=~"\\\\p{L}{1000}"}' });
    const response = await fetch(`${vigil.url}/api/v1/series?${params}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('retry-after')).toBeNull();
    const body = (await response.json()) as { status: string; errorType: string; error: string };
    expect(body).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(body.error).toMatch(/cannot compile/);
    expect(body.error).not.toMatch(/MergeTree|DB::Exception/);
  });

  it('matches quantified non-ASCII characters in regex matchers as Prometheus does', async () => {
    expect((await write(snappyWriteRequest([{ labels: { __name__: 'uni', city: 'é' }, samples: [{ value: 1, timestamp: Date.now() - 1000 }] }]))).status).toBe(204);
    const listed = async (selector: string) => {
      const response = await fetch(`${vigil.url}/api/v1/series?${new URLSearchParams({ 'match[]': selector })}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { data: Record<string, string>[] }).data.map((s) => s.city);
    };
    // The engine's RE2 wrapper alone answers no series for these.
    expect(await listed('uni{city=~"éé?"}')).toEqual(['é']);
    expect(await listed('uni{city=~"[à-ÿ]Ω{0,3}"}')).toEqual(['é']);
    expect(await listed('uni{city!~"éé?"}')).toEqual([]);
  });

  it('answers POST /api/v1/series with form-encoded parameters as GET does (Grafana posts them)', async () => {
    const get = await fetch(`${vigil.url}/api/v1/series?${new URLSearchParams([['match[]', 'uni'], ['match[]', 'x']])}`);
    const post = await fetch(`${vigil.url}/api/v1/series`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([['match[]', 'uni'], ['match[]', 'x']]).toString(),
    });
    expect(post.status).toBe(200);
    const body = (await post.json()) as { status: string; data: Record<string, string>[] };
    expect(body.data.length).toBeGreaterThanOrEqual(2);
    expect(body).toEqual(await get.json());
    const empty = await fetch(`${vigil.url}/api/v1/series`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(empty.status).toBe(400);
  });

  it('answers POST /api/v1/export with form-encoded parameters as GET does (VictoriaMetrics takes them so)', async () => {
    const params = new URLSearchParams([['match[]', 'uni'], ['start', '0']]);
    const get = await fetch(`${vigil.url}/api/v1/export?${params}`);
    const post = await fetch(`${vigil.url}/api/v1/export`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString() });
    expect(post.status).toBe(200);
    const text = await post.text();
    expect(text.split('\n').filter((l) => l !== '').length).toBeGreaterThanOrEqual(1);
    expect(text).toBe(await get.text());
  });

  it("takes Prometheus clients' times before 1970 and limit=0 (no limit), as Prometheus does", async () => {
    // client_golang sends Go's zero time for "from the beginning"; Prometheus' own earliest time is spelled out.
    for (const start of ['-62135596800', '-292273086-05-16T16:47:06Z']) {
      const response = await fetch(`${vigil.url}/api/v1/series?${new URLSearchParams({ 'match[]': 'uni', start, limit: '0' })}`);
      expect(response.status, start).toBe(200);
      expect(((await response.json()) as { data: unknown[] }).data.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('says when a limit cuts a listing, and refuses an export it would cut rather than drop series', async () => {
    const now = Date.now();
    const series = Array.from({ length: 12 }, (_, i) => ({ labels: { __name__: 'cut_test', i: String(i) }, samples: [{ value: i, timestamp: now - 1_000 }] }));
    expect((await write(snappyWriteRequest(series))).status).toBe(204);
    const listed = (await (await fetch(`${vigil.url}/api/v1/series?match[]=cut_test&limit=10`)).json()) as { data: unknown[]; warnings?: string[] };
    expect([listed.data.length, listed.warnings]).toEqual([10, ['results truncated due to limit']]);
    const whole = (await (await fetch(`${vigil.url}/api/v1/series?match[]=cut_test&limit=12`)).json()) as { data: unknown[]; warnings?: string[] };
    expect([whole.data.length, whole.warnings]).toEqual([12, undefined]);
    const cut = await fetch(`${vigil.url}/api/v1/export?match[]=cut_test&limit=10`);
    expect([cut.status, await cut.json()]).toEqual([
      400,
      { error: 'EXPORT_TOO_MANY_SERIES', detail: 'match[] selects more than 10 series in the time range (its limit): narrow match[] or the range' },
    ]);
    expect(await exportSeries('cut_test')).toHaveLength(12);
  });

  it("exports one sample per series and time when a sender's retry stored a body twice", async () => {
    const now = Date.now();
    const body = snappyWriteRequest([{ labels: { __name__: 'retried_write', x: '1' }, samples: [{ value: 7, timestamp: now - 2_000 }, { value: 8, timestamp: now - 1_000 }] }]);
    expect((await write(body)).status).toBe(204);
    expect((await write(body)).status).toBe(204);
    expect((await exportSeries('retried_write')).map((l) => [l.timestamps, l.values])).toEqual([[[now - 2_000, now - 1_000], [7, 8]]]);
  });

  it('reports what it stored on /metrics', async () => {
    const text = await (await fetch(`${vigil.url}/metrics`)).text();
    // Every series exists from the start at 0 (core-metrics.test.ts): these must have counted.
    expect(text).toMatch(/vigil_ingest_requests_total\{protocol="prometheus",outcome="stored"\} [1-9]\d*/);
    expect(text).toMatch(/vigil_ingest_requests_total\{protocol="prometheus",outcome="invalid"\} [1-9]\d*/);
    expect(text).toMatch(/vigil_writer_insert_duration_seconds_count\{outcome="ok"\} [1-9]\d*/);
  });
});
