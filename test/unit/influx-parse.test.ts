import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodedSeries } from '../../src/ingest/decoded-series.js';
import {
  parseLineProtocol,
  parsePrecision,
  type InfluxPrecision,
} from '../../src/ingest/influx/parse-line-protocol.js';

const NOW_MS = 1_750_000_000_000;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface SimpleSeries {
  name: string;
  labels: Record<string, string>;
  timestampsMs: number[];
  values: number[];
}

/** The contract of DecodedSeries plus Prometheus naming, checked on every successful decode. */
function assertWellFormed(series: DecodedSeries[]): void {
  for (const s of series) {
    const names = s.labels.map((l) => l.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => n === '__name__')).toHaveLength(1);
    for (const label of s.labels) {
      expect(label.value).not.toBe('');
      if (label.name === '__name__') expect(label.value).toMatch(METRIC_NAME);
      else expect(label.name).toMatch(LABEL_NAME);
    }
    expect(s.timestampsMs.length).toBe(s.values.length);
    expect(s.values.length).toBeGreaterThan(0);
    for (const t of s.timestampsMs) expect(Number.isSafeInteger(t)).toBe(true);
    for (const v of s.values) expect(Number.isFinite(v)).toBe(true);
  }
}

function simplify(series: DecodedSeries[]): SimpleSeries[] {
  return series.map((s) => {
    let name = '';
    const labels: Record<string, string> = {};
    for (const label of s.labels) {
      if (label.name === '__name__') name = label.value;
      else labels[label.name] = label.value;
    }
    return { name, labels, timestampsMs: s.timestampsMs, values: s.values };
  });
}

function decode(body: string, precision: InfluxPrecision = 'ns'): { series: SimpleSeries[]; skipped: Record<string, number> } {
  const result = parseLineProtocol(body, { precision, nowMs: NOW_MS });
  if (!result.ok) throw new Error(`expected a decode, got: ${result.detail}`);
  assertWellFormed(result.series);
  return { series: simplify(result.series), skipped: result.skipped };
}

function rejection(body: string, precision: InfluxPrecision = 'ns'): string {
  const result = parseLineProtocol(body, { precision, nowMs: NOW_MS });
  if (result.ok) throw new Error(`expected a rejection, got ${result.series.length} series`);
  expect(result.code).toBe('INGEST_PAYLOAD_INVALID');
  return result.detail;
}

describe('parsePrecision', () => {
  it.each([
    [undefined, 'ns'],
    ['n', 'ns'],
    ['ns', 'ns'],
    ['u', 'us'],
    ['us', 'us'],
    ['µ', 'us'],
    ['ms', 'ms'],
    ['s', 's'],
    // InfluxDB 1.x's minutes and hours, and the empty value its Go client always sends.
    ['m', 'm'],
    ['h', 'h'],
    ['', 'ns'],
  ] as const)('maps %j to %s', (parameter, unit) => {
    expect(parsePrecision(parameter)).toBe(unit);
  });

  it('reads minute and hour timestamps', () => {
    const at = (precision: InfluxPrecision, ts: string) => {
      const result = parseLineProtocol(`cpu value=1 ${ts}`, { precision, nowMs: NOW_MS });
      if (!result.ok) throw new Error(result.detail);
      return result.series[0]!.timestampsMs[0];
    };
    expect(at('m', '29166666')).toBe(29_166_666 * 60_000);
    expect(at('h', '486111')).toBe(486_111 * 3_600_000);
  });

  it.each(['NS', 'sec', 'seconds', ' ms', 'd'])('refuses %j', (parameter) => {
    expect(parsePrecision(parameter)).toBeNull();
  });
});

describe('parseLineProtocol: naming', () => {
  it('names a series <measurement>_<field> with tags as labels, as VictoriaMetrics does', () => {
    expect(decode('foo,tag1=value1,tag2=value2 field1=12,field2=40 1560272508147000000').series).toEqual([
      { name: 'foo_field1', labels: { tag1: 'value1', tag2: 'value2' }, timestampsMs: [1560272508147], values: [12] },
      { name: 'foo_field2', labels: { tag1: 'value1', tag2: 'value2' }, timestampsMs: [1560272508147], values: [40] },
    ]);
  });

  it('does not treat a field called value specially', () => {
    expect(decode('temperature value=21.5').series.map((s) => s.name)).toEqual(['temperature_value']);
  });

  it.each([
    { case: 'dots and dashes', line: 'disk.io,dev-name=sda read-bytes=1i', name: 'disk_io_read_bytes', label: 'dev_name' },
    { case: 'colons kept in metric names only', line: 'a:b,c:d=x e:f=1', name: 'a:b_e:f', label: 'c_d' },
    { case: 'leading digit of the measurement', line: '1min,5xx=x 2xx=1', name: '_1min_2xx', label: '_5xx' },
    { case: 'non-ASCII letters, one _ per code point', line: 'tempé,🍭=x 🚀=1', name: 'temp___', label: '_' },
    { case: 'slashes and brackets', line: 'net/if,if[0]=x rx(bytes)=1', name: 'net_if_rx_bytes_', label: 'if_0_' },
  ])('sanitizes names to Prometheus rules: $case', ({ line, name, label }) => {
    const [series] = decode(line).series;
    expect(series?.name).toBe(name);
    expect(Object.keys(series?.labels ?? {})).toEqual([label]);
  });

  it('keeps tag values as they are, whatever their characters', () => {
    const [series] = decode('cpu,path=/var/lib/a.b,emoji=🍭,quoted="x" v=1').series;
    expect(series?.labels).toEqual({ emoji: '🍭', path: '/var/lib/a.b', quoted: '"x"' });
  });

  it('drops tags with an empty value (InfluxDB does not allow them)', () => {
    const { series } = decode('cpu,host=,region=eu,zone= v=1');
    expect(series[0]?.labels).toEqual({ region: 'eu' });
  });

  it('drops and counts tags whose name would be reserved (__name__, __meta_*)', () => {
    const { series, skipped } = decode('cpu,__name__=evil,__x=y,host=a v=1');
    expect(series[0]?.name).toBe('cpu_v');
    expect(series[0]?.labels).toEqual({ host: 'a' });
    expect(skipped).toEqual({ influx_reserved_tag: 2 });
  });
});

describe('parseLineProtocol: escaping (line protocol reference, "Special characters")', () => {
  it.each([
    { rule: 'measurement: escaped space', line: 'my\\ cpu v=1', name: 'my_cpu_v', labels: {} },
    { rule: 'measurement: escaped comma', line: 'cpu\\,x,host=a v=1', name: 'cpu_x_v', labels: { host: 'a' } },
    { rule: 'measurement: unescaped equals sign is plain text', line: 'a=b v=1', name: 'a_b_v', labels: {} },
    { rule: 'measurement: "\\=" is not an escape there', line: 'a\\=b v=1', name: 'a__b_v', labels: {} },
    { rule: 'tag value: escaped space', line: 'cpu,host=web\\ 01 v=1', name: 'cpu_v', labels: { host: 'web 01' } },
    { rule: 'tag value: escaped comma', line: 'cpu,list=a\\,b v=1', name: 'cpu_v', labels: { list: 'a,b' } },
    { rule: 'tag value: escaped equals sign', line: 'cpu,expr=a\\=b v=1', name: 'cpu_v', labels: { expr: 'a=b' } },
    { rule: 'tag key: escaped space, comma, equals', line: 'cpu,my\\ tag\\,x\\=y=1 v=1', name: 'cpu_v', labels: { my_tag_x_y: '1' } },
    { rule: 'field key: escaped space, comma, equals', line: 'cpu my\\ field\\,x\\=y=1', name: 'cpu_my_field_x_y', labels: {} },
    { rule: 'field key: quotes are plain text', line: 'cpu "f"=1', name: 'cpu__f_', labels: {} },
    { rule: 'backslashes: \\\\ is one', line: 'cpu,path=C:\\\\temp v=1', name: 'cpu_v', labels: { path: 'C:\\temp' } },
    { rule: 'backslashes: \\\\\\ is two', line: 'cpu,x=a\\\\\\b v=1', name: 'cpu_v', labels: { x: 'a\\\\b' } },
    { rule: 'backslashes: \\\\\\\\ is two', line: 'cpu,x=a\\\\\\\\b v=1', name: 'cpu_v', labels: { x: 'a\\\\b' } },
    { rule: 'backslashes: a lone one is literal', line: 'cpu,x=a\\b v=1', name: 'cpu_v', labels: { x: 'a\\b' } },
    { rule: 'backslashes: escaped one then a real separator', line: 'cpu,x=a\\\\ v=1', name: 'cpu_v', labels: { x: 'a\\' } },
    { rule: 'backslashes: escaped one then an escaped space', line: 'cpu,x=a\\\\\\ b v=1', name: 'cpu_v', labels: { x: 'a\\ b' } },
    { rule: 'Telegraf-escaped control characters stay as written', line: 'cpu,x=a\\tb v=1', name: 'cpu_v', labels: { x: 'a\\tb' } },
  ])('$rule', ({ line, name, labels }) => {
    const { series } = decode(line);
    expect(series).toHaveLength(1);
    expect(series[0]?.name).toBe(name);
    expect(series[0]?.labels).toEqual(labels);
  });

  it.each([
    { case: 'escaped quotes', value: '"say \\"hi\\""' },
    { case: 'escaped backslash before the closing quote', value: '"C:\\\\"' },
    { case: 'separators inside', value: '"a, b = c d"' },
    { case: 'a # inside', value: '"#not a comment"' },
    { case: 'empty', value: '""' },
    { case: 'a lone backslash', value: '"a\\b"' },
    { case: 'a raw newline', value: '"line one\nline two"' },
    { case: 'a raw CRLF', value: '"line one\r\nline two"' },
  ])('skips string field values with $case', ({ value }) => {
    const { series, skipped } = decode(`cpu s=${value},v=1 1000000\ncpu v=2 2000000`);
    expect(series).toEqual([{ name: 'cpu_v', labels: {}, timestampsMs: [1, 2], values: [1, 2] }]);
    expect(skipped).toEqual({ influx_string_field: 1 });
  });

  it('round-trips any tag keys and values escaped per the reference', () => {
    // Tabs, CR and LF cannot be written in tags (they end tokens or lines), so they are left out.
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '=', '\\', '"', '#', 'é', '🍭'), minLength: 1, maxLength: 8 });
    const escape = (s: string): string => s.replace(/[\\ ,=]/g, '\\$&');
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(text, text), { selector: ([k]) => k, maxLength: 5 }), text, (tags, field) => {
        const line = `m${tags.map(([k, v]) => `,${escape(k)}=${escape(v)}`).join('')} ${escape(field)}=1`;
        const result = parseLineProtocol(line, { precision: 'ns', nowMs: NOW_MS });
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        assertWellFormed(result.series);
        const values = result.series[0]?.labels.filter((l) => l.name !== '__name__').map((l) => l.value).sort();
        // Keys can collide after sanitizing (the last wins) and reserved ones are dropped, so
        // compare the surviving values against the written ones.
        for (const value of values ?? []) expect(tags.map(([, v]) => v)).toContain(value);
      }),
    );
  });
});

describe('parseLineProtocol: field types', () => {
  it.each([
    ['1', 1],
    ['1.0', 1],
    ['-1.5', -1.5],
    ['.5', 0.5],
    ['5.', 5],
    ['0', 0],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['-1.234456e+78', -1.234456e78],
    ['0.1', 0.1],
    ['123456789.123456789', 123456789.123456789],
    ['3.141592653589793', 3.141592653589793],
    ['00012.5', 12.5],
  ])('float %s', (text, value) => {
    expect(decode(`m f=${text}`).series[0]?.values).toEqual([value]);
  });

  it.each([
    ['1i', 1],
    ['-12485903i', -12485903],
    ['0i', 0],
    ['9223372036854775807i', 9223372036854775807],
    ['-9223372036854775808i', -9223372036854775808],
    ['123456789012345678i', 123456789012345678],
    ['0u', 0],
    ['12485903u', 12485903],
    ['18446744073709551615u', 18446744073709551615],
  ])('integer %s', (text, value) => {
    expect(decode(`m f=${text}`).series[0]?.values).toEqual([value]);
  });

  it.each([
    ['t', 1],
    ['T', 1],
    ['true', 1],
    ['True', 1],
    ['TRUE', 1],
    ['f', 0],
    ['F', 0],
    ['false', 0],
    ['False', 0],
    ['FALSE', 0],
  ])('boolean %s', (text, value) => {
    expect(decode(`m f=${text}`).series[0]?.values).toEqual([value]);
  });

  it('counts string fields and decodes the others of the same line', () => {
    const { series, skipped } = decode('m a="x",b=1i,c="y",d=t 1000000');
    expect(series.map((s) => [s.name, s.values[0]])).toEqual([
      ['m_b', 1],
      ['m_d', 1],
    ]);
    expect(skipped).toEqual({ influx_string_field: 2 });
  });

  it('gives no series for a line of only string fields, and counts them', () => {
    expect(decode('syslog,host=a message="disk full",severity="err"')).toEqual({ series: [], skipped: { influx_string_field: 2 } });
  });

  it('keeps the last value of a field repeated in one point', () => {
    expect(decode('m v=1,v=2,w=3,v=4 1000000').series).toEqual([
      { name: 'm_v', labels: {}, timestampsMs: [1], values: [4] },
      { name: 'm_w', labels: {}, timestampsMs: [1], values: [3] },
    ]);
  });

  it('keeps the last value of a tag repeated in one point', () => {
    expect(decode('m,a=1,a=2 v=1').series[0]?.labels).toEqual({ a: '2' });
  });
});

describe('parseLineProtocol: timestamps', () => {
  it.each([
    { precision: 'ns', text: '1700000000123456789', ms: 1700000000123 },
    { precision: 'ns', text: '1700000000123999999', ms: 1700000000123 },
    { precision: 'ns', text: '999999', ms: 0 },
    { precision: 'ns', text: '0', ms: 0 },
    { precision: 'ns', text: '0000000000000000000', ms: 0 },
    { precision: 'ns', text: '-1', ms: -1 },
    { precision: 'ns', text: '-1000000', ms: -1 },
    { precision: 'ns', text: '-1700000000123456789', ms: -1700000000124 },
    { precision: 'ns', text: '9223372036854775806', ms: 9223372036854 },
    { precision: 'ns', text: '-9223372036854775806', ms: -9223372036855 },
    { precision: 'us', text: '1700000000123456', ms: 1700000000123 },
    { precision: 'us', text: '-1', ms: -1 },
    { precision: 'ms', text: '1700000000123', ms: 1700000000123 },
    { precision: 'ms', text: '-5', ms: -5 },
    { precision: 's', text: '1700000000', ms: 1700000000000 },
    { precision: 's', text: '-1', ms: -1000 },
  ] as const)('$text at precision $precision is $ms ms', ({ precision, text, ms }) => {
    expect(decode(`m v=1 ${text}`, precision).series[0]?.timestampsMs).toEqual([ms]);
  });

  it('converts any ns timestamp to ms exactly (floor), like BigInt division', () => {
    const max = 9223372036854775806n;
    fc.assert(
      fc.property(fc.bigInt({ min: -max, max }), (ns) => {
        const floor = ns / 1_000_000n - (ns % 1_000_000n < 0n ? 1n : 0n);
        expect(decode(`m v=1 ${ns}`).series[0]?.timestampsMs).toEqual([Number(floor)]);
      }),
    );
  });

  it('uses the arrival time when a point has no timestamp; such points of one series fall on one time, and the last wins, as in InfluxDB', () => {
    const [series] = decode('m v=1\nm v=2   \nm v=3\t').series;
    expect([series?.timestampsMs, series?.values]).toEqual([[NOW_MS], [3]]);
    expect(decode('m v=1\nm,host=a v=2\nm v=3').series.map((s) => s.values)).toEqual([[3], [2]]);
  });
});

describe('parseLineProtocol: series grouping', () => {
  it('gathers the samples of a series across lines, whatever the tag order', () => {
    const { series } = decode(
      ['cpu,host=a,region=eu v=1 1000000', 'cpu,region=eu,host=a v=2 2000000', 'cpu,host=b,region=eu v=3 3000000'].join('\n'),
    );
    expect(series).toEqual([
      { name: 'cpu_v', labels: { host: 'a', region: 'eu' }, timestampsMs: [1, 2], values: [1, 2] },
      { name: 'cpu_v', labels: { host: 'b', region: 'eu' }, timestampsMs: [3], values: [3] },
    ]);
  });

  it('merges tag sets that are the same once escaped, sanitized and without empty tags', () => {
    const { series } = decode(
      [
        'cpu,a.b=x\\ y,c=1 v=1 1000000',
        'cpu,c=1,a_b=x\\ y v=2 2000000',
        'cpu,a-b=x\\ y,c=1,empty= v=3 3000000',
        'cpu,c=1,a_b=x\\ y v=4 4000000',
      ].join('\n'),
    );
    expect(series).toEqual([{ name: 'cpu_v', labels: { a_b: 'x y', c: '1' }, timestampsMs: [1, 2, 3, 4], values: [1, 2, 3, 4] }]);
  });

  it('keeps label sets apart when only an escaped character differs', () => {
    const { series } = decode('m,t=a\\,b\\=c v=1\nm,t=a,b=c v=2');
    expect(series.map((s) => s.labels)).toEqual([{ t: 'a,b=c' }, { b: 'c', t: 'a' }]);
  });

  it('keeps apart a tag value that spells out other tags', () => {
    const { series } = decode('m,a=x\\,b\\=y v=1 1000000\nm,a=x,b=y v=2 2000000\nm,b=y,a=x v=3 3000000');
    expect(series.map((s) => [s.labels, s.values])).toEqual([
      [{ a: 'x,b=y' }, [1]],
      [{ a: 'x', b: 'y' }, [2, 3]],
    ]);
  });

  it('names each key by its own text, not by a key of an earlier line that it starts with', () => {
    const { series } = decode('m,host=a v=1,w=2\nm,hostname=b vv=3,w=4\nmm,host=c v=5');
    expect(series.map((s) => [s.name, s.labels])).toEqual([
      ['m_v', { host: 'a' }],
      ['m_w', { host: 'a' }],
      ['m_vv', { hostname: 'b' }],
      ['m_w', { hostname: 'b' }],
      ['mm_v', { host: 'c' }],
    ]);
  });

  it('keeps measurements and fields apart', () => {
    const { series } = decode('a,h=1 x=1,y=2\nb,h=1 x=3');
    expect(series.map((s) => s.name)).toEqual(['a_x', 'a_y', 'b_x']);
  });

  it('labels every series of a point with the same tags', () => {
    const { series } = decode('m,z=1,a=2 f1=1,f2=2,f3=3');
    for (const s of series) expect(s.labels).toEqual({ a: '2', z: '1' });
  });
});

describe('parseLineProtocol: lines', () => {
  it('skips comments and blank lines, and accepts CRLF, indentation and extra blanks', () => {
    const body = '# a comment\r\n\r\n   \n\t# indented comment\n  m,h=a  v=1\t 1000000  \r\nm,h=a v=2 2000000\r\n\n';
    expect(decode(body).series).toEqual([{ name: 'm_v', labels: { h: 'a' }, timestampsMs: [1, 2], values: [1, 2] }]);
  });

  it('accepts an empty body, and one of comments only', () => {
    expect(decode('')).toEqual({ series: [], skipped: {} });
    expect(decode('# nothing\n\n')).toEqual({ series: [], skipped: {} });
  });

  it('ignores a byte order mark', () => {
    expect(decode('\ufeffm v=1').series.map((s) => s.name)).toEqual(['m_v']);
  });
});

describe('parseLineProtocol: Telegraf SNMP input', () => {
  // As written by Telegraf's influx serializer for inputs.snmp with the IF-MIB ifTable/ifXTable
  // (ifDescr, ifName as tags via is_tag, counters as integers, or unsigned with influx_uint_support).
  const body = [
    'snmp,agent_host=10.0.0.1,host=telegraf-01 sysName="core-sw-1",sysUpTime=123456789i,sysContact="noc@example.com" 1700000000000000000',
    'interface,agent_host=10.0.0.1,host=telegraf-01,ifDescr=GigabitEthernet0/1,ifIndex=1,ifName=Gi0/1 ifAdminStatus=1i,ifAlias="uplink to core",ifHCInOctets=123456789012i,ifHCOutOctets=98765432109i,ifHighSpeed=1000i,ifInErrors=0i,ifOperStatus=1i,ifPhysAddress="00:11:22:33:44:55" 1700000000000000000',
    'interface,agent_host=10.0.0.1,host=telegraf-01,ifDescr=GigabitEthernet0/2,ifIndex=2,ifName=Gi0/2 ifAdminStatus=2i,ifAlias="",ifHCInOctets=0i,ifHCOutOctets=0i,ifHighSpeed=0i,ifInErrors=0i,ifOperStatus=2i,ifPhysAddress="00:11:22:33:44:56" 1700000000000000000',
    'interface,agent_host=10.0.0.2,host=telegraf-01,ifDescr=Intel(R)\\ Ethernet\\ Connection\\ I219-LM,ifIndex=3 ifHCInOctets=18446744073709551615u,ifOperStatus=1i 1700000000000000000',
    'interface,agent_host=10.0.0.1,host=telegraf-01,ifDescr=GigabitEthernet0/1,ifIndex=1,ifName=Gi0/1 ifAdminStatus=1i,ifAlias="uplink to core",ifHCInOctets=123456799012i,ifHCOutOctets=98765442109i,ifHighSpeed=1000i,ifInErrors=0i,ifOperStatus=1i,ifPhysAddress="00:11:22:33:44:55" 1700000060000000000',
  ].join('\n');

  it('decodes interface counters with the interface tags as labels', () => {
    const { series, skipped } = decode(body);
    const inOctets = series.filter((s) => s.name === 'interface_ifHCInOctets');
    expect(inOctets).toEqual([
      {
        name: 'interface_ifHCInOctets',
        labels: { agent_host: '10.0.0.1', host: 'telegraf-01', ifDescr: 'GigabitEthernet0/1', ifIndex: '1', ifName: 'Gi0/1' },
        timestampsMs: [1700000000000, 1700000060000],
        values: [123456789012, 123456799012],
      },
      {
        name: 'interface_ifHCInOctets',
        labels: { agent_host: '10.0.0.1', host: 'telegraf-01', ifDescr: 'GigabitEthernet0/2', ifIndex: '2', ifName: 'Gi0/2' },
        timestampsMs: [1700000000000],
        values: [0],
      },
      {
        name: 'interface_ifHCInOctets',
        labels: { agent_host: '10.0.0.2', host: 'telegraf-01', ifDescr: 'Intel(R) Ethernet Connection I219-LM', ifIndex: '3' },
        timestampsMs: [1700000000000],
        values: [18446744073709551615],
      },
    ]);
    expect(series.find((s) => s.name === 'snmp_sysUpTime')?.values).toEqual([123456789]);
    expect(new Set(series.map((s) => s.name))).toEqual(
      new Set([
        'snmp_sysUpTime',
        'interface_ifAdminStatus',
        'interface_ifHCInOctets',
        'interface_ifHCOutOctets',
        'interface_ifHighSpeed',
        'interface_ifInErrors',
        'interface_ifOperStatus',
      ]),
    );
    // sysName, sysContact, 3 x ifAlias, 3 x ifPhysAddress
    expect(skipped).toEqual({ influx_string_field: 8 });
  });

  it('decodes the example line of the brief', () => {
    const line =
      'interface,agent_host=10.0.0.1,ifDescr=GigabitEthernet0/1,ifIndex=1 ifHCInOctets=123456i,ifOperStatus=1i,ifAlias="uplink" 1700000000000000000';
    const labels = { agent_host: '10.0.0.1', ifDescr: 'GigabitEthernet0/1', ifIndex: '1' };
    expect(decode(line)).toEqual({
      series: [
        { name: 'interface_ifHCInOctets', labels, timestampsMs: [1700000000000], values: [123456] },
        { name: 'interface_ifOperStatus', labels, timestampsMs: [1700000000000], values: [1] },
      ],
      skipped: { influx_string_field: 1 },
    });
  });
});

describe('parseLineProtocol: malformed lines reject the whole body', () => {
  it.each([
    { body: 'cpu', detail: 'line 1: missing fields' },
    { body: 'cpu,host=a', detail: 'line 1: missing fields' },
    { body: 'cpu   ', detail: 'line 1: missing fields' },
    { body: ',host=a v=1', detail: 'line 1: missing measurement' },
    { body: 'cpu,=a v=1', detail: 'line 1: empty tag key' },
    { body: 'cpu, v=1', detail: 'line 1: empty tag key' },
    { body: 'cpu,host v=1', detail: 'line 1: tag "host" is missing "="' },
    { body: 'cpu,host=a=b v=1', detail: 'line 1: tag "host" has an unescaped "=" in its value' },
    { body: 'cpu v', detail: 'line 1: field "v" is missing "="' },
    { body: 'cpu v 1', detail: 'line 1: field "v" is missing "="' },
    { body: 'cpu a,b=1', detail: 'line 1: field "a" is missing "="' },
    { body: 'cpu =1', detail: 'line 1: empty field key' },
    { body: 'cpu v=1,', detail: 'line 1: empty field key' },
    { body: 'cpu v=1,,w=2', detail: 'line 1: empty field key' },
    { body: 'cpu v=', detail: 'line 1: field "v" has no value' },
    { body: 'cpu v=,w=1', detail: 'line 1: field "v" has no value' },
    { body: 'cpu v= 1', detail: 'line 1: field "v" has no value' },
    { body: 'cpu v=12x', detail: 'line 1: field value "12x" is not a number' },
    { body: 'cpu v=1.2.3', detail: 'line 1: field value "1.2.3" is not a number' },
    { body: 'cpu v=1e', detail: 'line 1: field value "1e" is not a number' },
    { body: 'cpu v=-', detail: 'line 1: field value "-" is not a number' },
    { body: 'cpu v=.', detail: 'line 1: field value "." is not a number' },
    { body: 'cpu v=0x10', detail: 'line 1: field value "0x10" is not a number' },
    { body: 'cpu v=1.5i', detail: 'line 1: field value "1.5i" is not a number' },
    { body: 'cpu v=-1u', detail: 'line 1: field value "-1u" is not a number' },
    { body: 'cpu v=-i', detail: 'line 1: field value "-i" is not a number' },
    { body: 'cpu v=+1', detail: 'line 1: field value "+1" is not a number, boolean or quoted string' },
    { body: 'cpu v=NaN', detail: 'line 1: field value "NaN" is not a number, boolean or quoted string' },
    { body: 'cpu v=Inf', detail: 'line 1: field value "Inf" is not a number, boolean or quoted string' },
    { body: 'cpu v=tru', detail: 'line 1: field value "tru" is not a number, boolean or quoted string' },
    { body: "cpu v='a'", detail: `line 1: field value "'a'" is not a number, boolean or quoted string` },
    { body: 'cpu v=9223372036854775808i', detail: 'line 1: field value "9223372036854775808i" is out of range' },
    { body: 'cpu v=-9223372036854775809i', detail: 'line 1: field value "-9223372036854775809i" is out of range' },
    { body: 'cpu v=18446744073709551616u', detail: 'line 1: field value "18446744073709551616u" is out of range' },
    { body: 'cpu v=1e400', detail: 'line 1: field value "1e400" is out of range' },
    { body: 'cpu v="abc', detail: 'line 1: unterminated string in field "v"' },
    { body: 'cpu v="abc\\"', detail: 'line 1: unterminated string in field "v"' },
    { body: 'cpu v="a"b', detail: 'line 1: unexpected text after the string in field "v"' },
    { body: 'cpu v=1 12x', detail: 'line 1: timestamp "12x" is not an integer' },
    { body: 'cpu v=1 1.5', detail: 'line 1: timestamp "1.5" is not an integer' },
    { body: 'cpu v=1 -', detail: 'line 1: timestamp "-" is not an integer' },
    { body: 'cpu v=1 9223372036854775807', detail: 'line 1: timestamp "9223372036854775807" is out of range' },
    { body: 'cpu v=1 1 2', detail: 'line 1: unexpected text after the timestamp: "2"' },
    { body: 'cpu v=1 1,w=2', detail: 'line 1: unexpected text after the timestamp: ",w=2"' },
  ])('$body → $detail', ({ body, detail }) => {
    expect(rejection(body)).toBe(detail);
  });

  it.each([
    { precision: 'us', text: '9223372036854776' },
    { precision: 'ms', text: '9223372036855' },
    { precision: 's', text: '-9223372037' },
  ] as const)('refuses timestamp $text at precision $precision as out of range', ({ precision, text }) => {
    expect(rejection(`m v=1 ${text}`, precision)).toBe(`line 1: timestamp "${text}" is out of range`);
  });

  it('names the physical line, counting comments, blank lines and newlines inside strings', () => {
    expect(rejection('m v=1\n# comment\n\nm v=12x\nm v=oops')).toBe('line 4: field value "12x" is not a number');
    expect(rejection('m s="one\ntwo\r\nthree",v=1\nm v=12x')).toBe('line 4: field value "12x" is not a number');
    expect(rejection('m v=1\r\nm v=2\r\nm v=12x')).toBe('line 3: field value "12x" is not a number');
  });

  it('rejects everything even when earlier lines are good', () => {
    const result = parseLineProtocol('m v=1\nm v=2\nm v=12x', { precision: 'ns', nowMs: NOW_MS });
    expect(result).toEqual({ ok: false, code: 'INGEST_PAYLOAD_INVALID', detail: 'line 3: field value "12x" is not a number' });
  });

  it('names an unterminated string by the line it starts on', () => {
    expect(rejection('m v=1\nm s="never\nclosed\n')).toBe('line 2: unterminated string in field "s"');
  });

  it('quotes a bounded, escaped excerpt of the offending text', () => {
    const detail = rejection(`m v=${'9'.repeat(100)}x`);
    expect(detail).toBe(`line 1: field value "${'9'.repeat(64)}…" is not a number`);
    expect(rejection('m v=1\u0007')).toBe('line 1: field value "1\\u0007" is not a number');
  });

  it('leaves the CR of a CRLF out of quoted names', () => {
    expect(rejection('m v=1\r\nm v\r\n')).toBe('line 2: field "v" is missing "="');
    expect(rejection('m,t\r\n')).toBe('line 1: tag "t" is missing "="');
  });

  it('unescapes key names quoted in details', () => {
    expect(rejection('m,my\\ tag v=1')).toBe('line 1: tag "my tag" is missing "="');
  });
});

describe('parseLineProtocol: never throws', () => {
  const options = { precision: 'ns', nowMs: NOW_MS } as const;

  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (body) => {
        const result = parseLineProtocol(body, options);
        if (result.ok) assertWellFormed(result.series);
        else expect(result.detail).toMatch(/^line \d+: /);
      }),
      { numRuns: 2000 },
    );
  });

  it('on strings made of the grammar’s own characters', () => {
    const unit = fc.constantFrom(
      'm', 'v', 't', 'f', 'i', 'u', 'e', 'E', '1', '0', '9', '.', '-', '+', ' ', '\t', ',', '=', '\\', '"', '#', '\n', '\r', '\r\n', 'é', '🍭', '__', 'true',
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 80 }), fc.constantFrom<InfluxPrecision>('ns', 'us', 'ms', 's'), (body, precision) => {
        const result = parseLineProtocol(body, { precision, nowMs: NOW_MS });
        if (result.ok) assertWellFormed(result.series);
        else expect(result.detail).toMatch(/^line \d+: /);
      }),
      { numRuns: 5000 },
    );
  });

  it('on valid lines with one character changed', () => {
    const base = 'interface,agent_host=10.0.0.1,ifDescr=Gi0/1 ifHCInOctets=123456i,ifAlias="up\\"link",ok=t 1700000000000000000\n';
    const edit = fc.record({ at: fc.nat(base.length - 1), char: fc.constantFrom(' ', ',', '=', '\\', '"', '\n', 'x', '1', '') });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let body = base.repeat(2);
        for (const { at, char } of edits) body = body.slice(0, at) + char + body.slice(at + 1);
        const result = parseLineProtocol(body, options);
        if (result.ok) assertWellFormed(result.series);
        else expect(result.detail).toMatch(/^line \d+: /);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseLineProtocol: limits checked while parsing', () => {
  const limits = { maxLabelsPerSeries: 4, maxNameBytes: 32 };
  const parse = (body: string) => parseLineProtocol(body, { precision: 'ns', nowMs: NOW_MS, limits });

  it('refuses a line with more tags than the label limit leaves, before building any series', () => {
    expect(parse('m,a=1,b=2,c=3 v=1').ok).toBe(true);
    const result = parse('m,a=1,b=2,c=3,d=4 v=1');
    expect(result).toMatchObject({ ok: false, detail: 'line 1: more than 3 tags (the limit on labels is 4, the metric name included)' });
  });

  it("refuses tags longer than a series' limit in all, and fields whose series would pass it", () => {
    const parseWithin = (body: string) => parseLineProtocol(body, { precision: 'ns', nowMs: NOW_MS, limits: { maxLabelsPerSeries: 64, maxNameBytes: 16_384, maxLabelBytes: 100 } });
    expect(parseWithin(`m,a=${'x'.repeat(50)},b=${'x'.repeat(50)} v=1`)).toMatchObject({ ok: false, detail: 'line 1: its tags are longer than 100 bytes in all' });
    // 'm' + 'a' + 80 + __name__ and the field key: past 100 only with the long field key.
    expect(parseWithin(`m,a=${'x'.repeat(80)} v=1`).ok).toBe(true);
    expect(parseWithin(`m,a=${'x'.repeat(80)} value_with_a_long_name=1`)).toMatchObject({
      ok: false,
      detail: 'line 1: the labels of field "value_with_a_long_name" are longer than 100 bytes in all',
    });
  });

  it('refuses names longer than the limit before sanitising them', () => {
    expect(parse(`${'m'.repeat(33)} v=1`)).toMatchObject({ ok: false, detail: 'line 1: measurement is longer than 32 bytes' });
    expect(parse(`m,${'t'.repeat(33)}=1 v=1`)).toMatchObject({ ok: false, detail: 'line 1: a tag key is longer than 32 bytes' });
    expect(parse(`m ${'f'.repeat(33)}=1`)).toMatchObject({ ok: false, detail: 'line 1: a field key is longer than 32 bytes' });
  });
});
