import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALERT_SOURCES, ALERT_STATUSES, SEVERITIES, type AlertEvent } from '../../src/incidents/alert.js';
import type { AlertState } from '../../src/incidents/alert-state.js';
import { alertEventLine, alertEventRow, alertStateLine, alertStateRow } from '../../src/storage/alerts.queries.js';

// Any text, lone surrogates, quotes, backslashes and control characters included.
const text = fc.string({ unit: 'binary', maxLength: 12 });
const stringMap = fc.dictionary(text, text, { maxKeys: 5 });
// DateTime64 range ClickHouse reads, and a little past year 9999 (toClickHouseDateTime signs those).
const ms = fc.integer({ min: -2_208_988_800_000, max: 260_000_000_000_000 });

const event: fc.Arbitrary<AlertEvent> = fc.record(
  {
    source: fc.constantFrom(...ALERT_SOURCES),
    fingerprint: text,
    labels: stringMap,
    annotations: stringMap,
    status: fc.constantFrom(...ALERT_STATUSES),
    severity: fc.constantFrom(...SEVERITIES),
    startsAtMs: ms,
    endsAtMs: fc.option(ms, { nil: null }),
    generatorUrl: text,
    receivedAtMs: ms,
    groupKey: text,
  },
  { requiredKeys: ['source', 'fingerprint', 'labels', 'annotations', 'status', 'severity', 'startsAtMs', 'endsAtMs', 'receivedAtMs'] },
);

const state: fc.Arbitrary<AlertState> = fc.record({
  fingerprint: text,
  source: fc.constantFrom(...ALERT_SOURCES),
  status: fc.constantFrom(...ALERT_STATUSES),
  severity: fc.constantFrom(...SEVERITIES),
  labels: stringMap,
  annotations: stringMap,
  startsAtMs: ms,
  endsAtMs: fc.option(ms, { nil: null }),
  generatorUrl: text,
  firstSeenAtMs: ms,
  lastSeenAtMs: ms,
  resolvedAtMs: fc.option(ms, { nil: null }),
  eventCount: fc.nat(),
});

// The journal stores what JSON.stringify would write for the row objects: the lines must read back the same.
describe('alert rows as hand-built JSON lines', () => {
  it('an event line is one line that parses to the event row', () => {
    fc.assert(
      fc.property(event, ms, (e, firstSeenAtMs) => {
        const line = alertEventLine(e, firstSeenAtMs);
        expect(line.endsWith('\n')).toBe(true);
        expect(line.slice(0, -1)).not.toContain('\n');
        expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(alertEventRow(e, firstSeenAtMs))));
      }),
      { numRuns: 500 },
    );
  });

  it('a state line is one line that parses to the state row', () => {
    fc.assert(
      fc.property(state, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (s, version) => {
        const line = alertStateLine(s, version);
        expect(line.slice(0, -1)).not.toContain('\n');
        expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(alertStateRow(s, version))));
      }),
      { numRuns: 500 },
    );
  });

  it('a map used again gives the text of its contents, also under another row', () => {
    const labels = { alertname: 'HostDown', instance: 'host-1:9100', '"quoted"': 'a\\b\n' };
    const base = { source: 'prometheus', status: 'firing', severity: 'critical', startsAtMs: 0, endsAtMs: null, receivedAtMs: 0 } as const;
    const first = alertEventLine({ ...base, fingerprint: 'a', labels, annotations: {} }, 0);
    const second = alertEventLine({ ...base, fingerprint: 'b', labels, annotations: labels }, 0);
    expect(JSON.parse(first).labels).toEqual(labels);
    expect(JSON.parse(second)).toMatchObject({ fingerprint: 'b', labels, annotations: labels });
  });
});
