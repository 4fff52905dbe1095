import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil();
});
afterAll(async () => {
  await vigil?.stop();
});

interface ExportLine {
  metric: Record<string, string>;
  values: (number | string)[];
  timestamps: number[];
}

async function exportSeries(match: string): Promise<ExportLine[]> {
  const response = await fetch(`${vigil.url}/api/v1/export?${new URLSearchParams({ 'match[]': match, start: '0' })}`);
  expect(response.status).toBe(200);
  return (await response.text())
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as ExportLine);
}

describe('Influx line protocol over HTTP, as Telegraf sends it', () => {
  const tsNs = BigInt(Date.now() - 60_000) * 1_000_000n + 123_456n;
  const tsMs = Number(tsNs / 1_000_000n);
  const body = [
    `interface,agent_host=10.0.0.1,ifDescr=GigabitEthernet0/1,ifIndex=1 ifHCInOctets=123456i,ifOperStatus=1i,ifAlias="uplink" ${tsNs}`,
    `cpu,host=db-1,cpu=cpu-total usage_idle=97.5,usage_user=1.25 ${tsNs}`,
  ].join('\n');

  it('stores one series per numeric field on /api/v2/write (gzip, as Telegraf compresses)', async () => {
    const response = await fetch(`${vigil.url}/api/v2/write?org=o&bucket=b&precision=ns`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip' },
      body: gzipSync(body),
    });
    expect(response.status).toBe(204);
    expect(await exportSeries('interface_ifHCInOctets')).toEqual([
      { metric: { __name__: 'interface_ifHCInOctets', agent_host: '10.0.0.1', ifDescr: 'GigabitEthernet0/1', ifIndex: '1' }, values: [123456], timestamps: [tsMs] },
    ]);
    expect((await exportSeries('{__name__=~"cpu_usage_.*",host="db-1"}')).map((l) => [l.metric.__name__, l.values[0]])).toEqual([
      ['cpu_usage_idle', 97.5],
      ['cpu_usage_user', 1.25],
    ]);
    // The string field is not a sample, and is counted.
    expect(await exportSeries('interface_ifAlias')).toEqual([]);
    const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
    expect(metrics).toMatch(/vigil_ingest_skipped_total\{protocol="influx",reason="influx_string_field"\} 1/);
  });

  it('takes the v1 /write path with precision=s', async () => {
    const seconds = Math.floor(Date.now() / 1000) - 30;
    const response = await fetch(`${vigil.url}/write?db=telegraf&precision=s`, { method: 'POST', body: `disk,path=/var used_percent=81.5 ${seconds}` });
    expect(response.status).toBe(204);
    expect((await exportSeries('disk_used_percent'))[0]).toMatchObject({ values: [81.5], timestamps: [seconds * 1000] });
  });

  it('refuses seconds sent without precision (read as ns: 1970, past the retention) with 400 and a hint, storing nothing', async () => {
    const seconds = Math.floor(Date.now() / 1000) - 30;
    const response = await fetch(`${vigil.url}/write?db=telegraf`, { method: 'POST', body: `wrong_unit,path=/var used_percent=81.5 ${seconds}` });
    expect(response.status).toBe(400);
    const { detail } = (await response.json()) as { detail: string };
    expect(detail).toMatch(/^series 0: timestamp 1970-01-\d\dT.* of wrong_unit_used_percent is older than the retention \(.*\) and would be dropped at once; line protocol times are nanoseconds unless \?precision=/);
    expect(await exportSeries('wrong_unit_used_percent')).toEqual([]);
  });

  it('rejects a bad line whole with 400 naming the line, storing nothing', async () => {
    const response = await fetch(`${vigil.url}/api/v2/write`, { method: 'POST', body: `good_one value=1\nbad_line value=12x` });
    expect(response.status).toBe(400);
    const error = (await response.json()) as { error: string; detail: string };
    expect(error.error).toBe('INGEST_PAYLOAD_INVALID');
    expect(error.detail).toMatch(/line 2/);
    expect(await exportSeries('good_one_value')).toEqual([]);
  });

  it('rejects invalid UTF-8 with 400 instead of storing U+FFFD in its place', async () => {
    const body = Buffer.concat([Buffer.from('utf8_check,site=Z'), Buffer.from([0xfc, 0xfd]), Buffer.from('rich value=1')]);
    const response = await fetch(`${vigil.url}/api/v2/write`, { method: 'POST', body });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toBe('line protocol body is not valid UTF-8');
    expect(await exportSeries('utf8_check_value')).toEqual([]);
  });

  it('rejects an unknown precision and an unknown encoding', async () => {
    expect((await fetch(`${vigil.url}/api/v2/write?precision=days`, { method: 'POST', body: 'a value=1' })).status).toBe(400);
    expect((await fetch(`${vigil.url}/api/v2/write`, { method: 'POST', headers: { 'content-encoding': 'br' }, body: 'a value=1' })).status).toBe(415);
  });
});

describe('OTLP/HTTP metrics', () => {
  const timeUnixNano = String(BigInt(Date.now() - 30_000) * 1_000_000n);
  const request = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'service.instance.id', value: { stringValue: 'pod-7' } }] },
        scopeMetrics: [
          {
            scope: { name: 'test' },
            metrics: [
              { name: 'queue.depth', unit: '{items}', gauge: { dataPoints: [{ asInt: '42', timeUnixNano, attributes: [{ key: 'queue', value: { stringValue: 'orders' } }] }] } },
              {
                name: 'http.server.requests',
                unit: '1',
                sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ asDouble: 17, timeUnixNano }] },
              },
            ],
          },
        ],
      },
    ],
  };

  it('stores OTLP/JSON with Prometheus naming and job/instance from the resource', async () => {
    const response = await fetch(`${vigil.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    expect(response.status).toBe(200);
    const [depth] = await exportSeries('queue_depth');
    expect(depth?.metric).toMatchObject({ __name__: 'queue_depth', job: 'checkout', instance: 'pod-7', queue: 'orders' });
    expect(depth?.values).toEqual([42]);
    expect((await exportSeries('{__name__=~"http_server_requests.*"}')).map((l) => l.metric.__name__)).toEqual(['http_server_requests_total']);
  });

  it('answers 400 for malformed OTLP and 415 for other content types', async () => {
    const bad = await fetch(`${vigil.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from([0x0a, 0xff, 0xff]) });
    expect(bad.status).toBe(400);
    const json = await fetch(`${vigil.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceMetrics": 5}' });
    expect(json.status).toBe(400);
    const other = await fetch(`${vigil.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' });
    expect(other.status).toBe(415);
    // 415 before the body is even decompressed (a bad gzip body does not make it a 400).
    const otherGzip = await fetch(`${vigil.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'text/csv', 'content-encoding': 'gzip' }, body: 'not gzip' });
    expect(otherGzip.status).toBe(415);
  });
});
