import { describe, expect, it } from 'vitest';
import { parseJsonBytes } from '../../src/api/request-body.js';
import { scanAlertList } from '../../src/incidents/alert-list-scan.js';
import { KnownLabelSets, normalizeAlertmanagerV2Alerts, normalizePlainAlertList, type NormalizeResult } from '../../src/incidents/normalize-alerts.js';

const NOW_MS = Date.parse('2026-12-08T02:00:00Z');

/** How the route reads a body that is not plain: JSON (as the API parses it), then the v2 normaliser. */
function generalRead(bytes: Buffer): NormalizeResult | 'not JSON' {
  let body: unknown;
  try {
    body = parseJsonBytes(bytes);
  } catch {
    return 'not JSON';
  }
  return normalizeAlertmanagerV2Alerts(body, NOW_MS);
}

/**
 * The plain reading of `text`, checked against the general one: both read it alike (the same
 * alerts, or the same error), or the plain reading declines. Returns whether it read it.
 */
function readsAlike(text: string | Buffer, known = new KnownLabelSets()): boolean {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const plain = normalizePlainAlertList(bytes, NOW_MS, known);
  if (plain === null) return false;
  expect(plain).toEqual(generalRead(bytes));
  return true;
}

const alert = (i: number, extra: Record<string, unknown> = {}) => ({
  labels: { alertname: ['HostDown', 'DiskFull'][i % 2], instance: `host-${i}:9100`, job: 'node', severity: 'critical' },
  annotations: { summary: `alert ${i}`, runbook_url: 'https://runbooks.example/host' },
  startsAt: '2026-12-08T01:55:00.123Z',
  endsAt: '2026-12-08T02:04:00Z',
  generatorURL: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0',
  ...extra,
});

/** A list as Prometheus' notifier marshals it (Go's encoding/json: compact, fields in struct order). */
const prometheusBody = (count: number) => JSON.stringify(Array.from({ length: count }, (_, i) => alert(i)));

describe('the plain reading of Prometheus alert lists', () => {
  it('reads what Prometheus sends, alike the general reading, with a fingerprint per label set', () => {
    const body = Buffer.from(prometheusBody(50));
    expect(readsAlike(body)).toBe(true);
    const result = normalizePlainAlertList(body, NOW_MS, new KnownLabelSets());
    expect(result?.ok && result.alerts.map((a) => a.fingerprint)).toEqual((generalRead(body) as { alerts: { fingerprint: string }[] }).alerts.map((a) => a.fingerprint));
  });

  it.each([
    ['an empty list', '[]'],
    ['white space between tokens', ' [ { "labels" : { "alertname" : "A" } , "endsAt" : "2026-12-08T02:04:00Z" } ]\n'],
    ['no annotations, no times', '[{"labels":{"alertname":"A","instance":"x"}}]'],
    ['empty annotations and empty times', '[{"labels":{"alertname":"A"},"annotations":{},"startsAt":"","endsAt":"","generatorURL":""}]'],
    ["Go's zero time as endsAt and startsAt", '[{"labels":{"alertname":"A"},"startsAt":"0001-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z"}]'],
    ['a resolved alert (endsAt past)', '[{"labels":{"alertname":"A"},"startsAt":"2026-12-08T01:00:00Z","endsAt":"2026-12-08T01:30:00Z"}]'],
    ['a label with an empty value (absent)', '[{"labels":{"alertname":"A","team":""}}]'],
    ['an annotation with an empty value (kept)', '[{"labels":{"alertname":"A"},"annotations":{"summary":""}}]'],
    ['fields in another order', '[{"endsAt":"2026-12-08T02:04:00Z","annotations":{"b":"2","a":"1"},"labels":{"job":"n","alertname":"A"}}]'],
    ['a constructor label (a string: allowed)', '[{"labels":{"alertname":"A","constructor":"x"}}]'],
    ['no labels with a value', '[{"labels":{}}]'],
    ['only empty label values', '[{"labels":{"a":""}}]'],
    ['a malformed startsAt', '[{"labels":{"alertname":"A"},"startsAt":"yesterday"}]'],
    ['a malformed endsAt in the second alert', '[{"labels":{"alertname":"A"}},{"labels":{"alertname":"B"},"endsAt":"2026-13-01T00:00:00Z"}]'],
    ['endsAt before startsAt', '[{"labels":{"alertname":"A"},"startsAt":"2026-12-08T01:00:00Z","endsAt":"2026-12-07T01:00:00Z"}]'],
    ['a time past what is stored', '[{"labels":{"alertname":"A"},"startsAt":"9999-12-31T23:59:59Z"}]'],
    ['escapes in values', '[{"labels":{"alertname":"A\\"B","path":"C:\\\\x"},"annotations":{"s":"a\\nb\\u00e9"},"startsAt":"2026-12-08T01:55:00\\u002e000Z"}]'],
    ['UTF-8 in values', '[{"labels":{"alertname":"Température"},"annotations":{"summary":"élevée ≥ 90 %"},"generatorURL":"http://h/é"}]'],
    // Captured from Prometheus 2.42 (Go writes & as \u0026 in every generatorURL), UTF-8 and an escaped quote.
    [
      'what Prometheus 2.42 sent',
      '[{"annotations":{"description":"Température élevée \\"quoted\\"","summary":"value is 1"},"endsAt":"2026-12-08T02:19:18.904Z","startsAt":"2026-12-08T02:14:17.904Z","generatorURL":"http://vm:19650/graph?g0.expr=vector%281%29\\u0026g0.tab=1","labels":{"alertname":"NewUserAlwaysFiring","instance":"db-1:9100","severity":"critical"}},{"annotations":{"summary":"plain ASCII 2"},"endsAt":"2026-12-08T02:19:18.904Z","startsAt":"2026-12-08T02:14:17.904Z","generatorURL":"http://vm:19650/graph?g0.expr=vector%282%29\\u0026g0.tab=1","labels":{"alertname":"NewUserPlain","severity":"warning"}}]',
    ],
  ])('reads %s alike the general reading', (_name, text) => {
    expect(readsAlike(text)).toBe(true);
  });

  it.each([
    ['an escape in a key', '[{"labels":{"alert\\u006eame":"A"}}]'],
    ['a \\u escape of __proto__', '[{"labels":{"alertname":"A","\\u005f_proto__":"x"}}]'],
    ['non-ASCII in a key', '[{"labels":{"pièce":"A"}}]'],
    ['an unknown escape', '[{"labels":{"alertname":"A\\qB"}}]'],
    ['a short \\u escape', '[{"labels":{"alertname":"A\\u00e"}}]'],
    ['a raw control character in a string', '[{"labels":{"alertname":"A\tB"}}]'],
    ['a null label value', '[{"labels":{"alertname":"A","team":null}}]'],
    ['null annotations', '[{"labels":{"alertname":"A"},"annotations":null}]'],
    ['a number as a value', '[{"labels":{"alertname":"A","n":1}}]'],
    ['a nested object', '[{"labels":{"alertname":{"x":"y"}}}]'],
    ['a field Prometheus does not send', '[{"labels":{"alertname":"A"},"status":"firing"}]'],
    ['a field given twice', '[{"labels":{"alertname":"A"},"labels":{"alertname":"B"}}]'],
    ['a __proto__ label', '[{"labels":{"alertname":"A","__proto__":"x"}}]'],
    ['an alert with no fields', '[{}]'],
    ['an alert without labels', '[{"annotations":{"a":"b"}}]'],
    ['a trailing comma', '[{"labels":{"alertname":"A"}},]'],
    ['a truncated body', '[{"labels":{"alertname":"A"}'],
    ['text after the list', '[{"labels":{"alertname":"A"}}] x'],
    ['an object, not a list', '{"labels":{"alertname":"A"}}'],
    ['an empty body', ''],
    ['a list of strings', '["a"]'],
  ])('declines %s, for the general reading', (_name, text) => {
    expect(scanAlertList(Buffer.from(text))).toBeNull();
    expect(normalizePlainAlertList(Buffer.from(text), NOW_MS, new KnownLabelSets())).toBeNull();
  });

  it('reads every byte-level change of a body alike the general reading, or declines it', () => {
    // Seeded mutations of a real-shaped body: deleted, replaced, inserted and doubled bytes.
    const original = Buffer.from(JSON.stringify([alert(1), alert(2, { annotations: { s: 'é \\ "' } }), { labels: { alertname: 'X', team: '' }, endsAt: '' }]).replace('&', '\\u0026'));
    const alphabet = Buffer.from('{}[]",: 0aZ_-\\\nu\u007fé');
    // mulberry32: an LCG's low bits cycle too soon to mix position, kind and byte.
    let seed = 42;
    const random = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
    };
    let read = 0;
    const known = new KnownLabelSets();
    for (let round = 0; round < 4000; round++) {
      const at = random(original.length);
      const kind = random(4);
      const byte = alphabet[random(alphabet.length)]!;
      let mutant: Buffer;
      if (kind === 0) mutant = Buffer.concat([original.subarray(0, at), original.subarray(at + 1)]);
      else if (kind === 1) mutant = Buffer.concat([original.subarray(0, at), Buffer.from([byte]), original.subarray(at + 1)]);
      else if (kind === 2) mutant = Buffer.concat([original.subarray(0, at), Buffer.from([byte]), original.subarray(at)]);
      else mutant = Buffer.concat([original.subarray(0, at), original.subarray(at, at + 1 + random(20)), original.subarray(at)]);
      // With fresh and with shared label sets: what was read before must not change a reading.
      if (readsAlike(mutant)) read++;
      readsAlike(mutant, known);
    }
    // Mutants inside strings stay plain: a good share must be read, or this checks nothing.
    expect(read).toBeGreaterThan(400);
  });
});

describe('KnownLabelSets', () => {
  it('gives a re-sent alert the maps read before, and reads annotations again when they change', () => {
    const known = new KnownLabelSets();
    const first = normalizePlainAlertList(Buffer.from(JSON.stringify([alert(1)])), NOW_MS, known);
    const again = normalizePlainAlertList(Buffer.from(JSON.stringify([alert(1, { endsAt: '2026-12-08T02:05:00Z' })])), NOW_MS, known);
    if (!first?.ok || !again?.ok) throw new Error('expected both read');
    expect(again.alerts[0]!.labels).toBe(first.alerts[0]!.labels);
    expect(again.alerts[0]!.annotations).toBe(first.alerts[0]!.annotations);
    expect(again.alerts[0]!.endsAtMs).toBe(Date.parse('2026-12-08T02:05:00Z'));
    const changed = normalizePlainAlertList(Buffer.from(JSON.stringify([alert(1, { annotations: { summary: 'now 97 %' } })])), NOW_MS, known);
    if (!changed?.ok) throw new Error('expected read');
    expect(changed.alerts[0]!.annotations).toEqual({ summary: 'now 97 %' });
    expect(changed.alerts[0]!.labels).toBe(first.alerts[0]!.labels);
    const dropped = normalizePlainAlertList(Buffer.from(JSON.stringify([{ labels: alert(1).labels }])), NOW_MS, known);
    expect(dropped?.ok && dropped.alerts[0]!.annotations).toEqual({});
  });

  it('holds at most twice its capacity, keeping the sets seen lately', () => {
    const known = new KnownLabelSets(2);
    const read = (i: number) => normalizePlainAlertList(Buffer.from(JSON.stringify([{ labels: { alertname: `A${i}` } }])), NOW_MS, known);
    for (let i = 0; i < 10; i++) read(i);
    expect(known.size).toBeLessThanOrEqual(4);
    const kept = read(9);
    expect(kept?.ok && kept.alerts[0]!.labels).toEqual({ alertname: 'A9' });
    expect(known.size).toBeLessThanOrEqual(4);
  });
});
