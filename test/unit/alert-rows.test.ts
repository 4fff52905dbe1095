import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALERT_SOURCES, ALERT_STATUSES, SEVERITIES, type AlertEvent } from '../../src/incidents/alert.js';
import type { AlertState } from '../../src/incidents/alert-state.js';
import type { IncidentEvent } from '../../src/incidents/incident.js';
import { ALERT_EVENT_LAYOUT, ALERT_EVENT_LAYOUT_1, ALERT_STATE_LAYOUT, REPEATS_ANNOTATIONS, REPEATS_LABELS, writeAlertEvent, writeAlertState } from '../../src/storage/alerts.queries.js';
import { INCIDENT_ALERT_LAYOUT, INCIDENT_EVENT_LAYOUT, writeIncidentAlert, writeIncidentEvent } from '../../src/storage/incidents.queries.js';
import { completeRowsLength, RowBinaryWriter, type RowBinaryLayout } from '../../src/storage/row-binary.js';

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

/** Reads RowBinary rows of `layout` back, times as ms, as the engine would read them. */
function decodeRows(bytes: Buffer, layout: RowBinaryLayout): Record<string, unknown>[] {
  let pos = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 1; ; shift *= 128) {
      const byte = bytes[pos++]!;
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
    }
  };
  const string = () => {
    const length = varint();
    pos += length;
    return bytes.toString('utf8', pos - length, pos);
  };
  const int64 = () => {
    const value = Number(bytes.readBigInt64LE(pos));
    pos += 8;
    return value;
  };
  const rows: Record<string, unknown>[] = [];
  while (pos < bytes.length) {
    const row: Record<string, unknown> = {};
    for (const { name, kind } of layout.columns) {
      if (kind === 'string') row[name] = string();
      else if (kind === 'datetime64') row[name] = int64();
      else if (kind === 'uint64') {
        row[name] = Number(bytes.readBigUInt64LE(pos));
        pos += 8;
      } else if (kind === 'uint8') row[name] = bytes[pos++];
      else if (kind === 'nullableDatetime64') row[name] = bytes[pos++] === 1 ? null : int64();
      else {
        // Entries, not assignment: a key `__proto__` must stay a key, as in the engine.
        const entries: [string, string][] = [];
        for (let n = varint(); n > 0; n--) entries.push([string(), string()]);
        row[name] = Object.fromEntries(entries);
      }
    }
    rows.push(row);
  }
  return rows;
}

/** What a string reads back as from UTF-8 (a lone surrogate becomes U+FFFD). */
const utf8 = (text: string) => Buffer.from(text, 'utf8').toString('utf8');
const utf8Map = (map: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(map).map(([k, v]) => [utf8(k), utf8(v)]));

describe('alert event rows as RowBinary', () => {
  it('an event reads back as its row, times in whole milliseconds, repeated maps left empty', () => {
    fc.assert(
      fc.property(event, ms, fc.nat(), fc.integer({ min: 0, max: 3 }), (e, firstSeenAtMs, seq, repeats) => {
        const out = new RowBinaryWriter(8);
        writeAlertEvent(out, e, firstSeenAtMs, seq, repeats);
        const [row] = decodeRows(out.take(), ALERT_EVENT_LAYOUT);
        expect(row).toEqual({
          received_at: Math.trunc(e.receivedAtMs),
          fingerprint: utf8(e.fingerprint),
          source: e.source,
          status: e.status,
          severity: e.severity,
          labels: repeats & REPEATS_LABELS ? {} : utf8Map(e.labels),
          annotations: repeats & REPEATS_ANNOTATIONS ? {} : utf8Map(e.annotations),
          starts_at: Math.trunc(e.startsAtMs),
          ends_at: e.endsAtMs === null ? null : Math.trunc(e.endsAtMs),
          generator_url: utf8(e.generatorUrl ?? ''),
          group_key: utf8(e.groupKey ?? ''),
          first_seen_at: firstSeenAtMs,
          seq,
          repeats,
        });
        // The layout names the table's columns: those of the text row it replaced, and 016's.
        expect(Object.keys(row!).sort()).toEqual(
          ['annotations', 'ends_at', 'fingerprint', 'first_seen_at', 'generator_url', 'group_key', 'labels', 'received_at', 'repeats', 'seq', 'severity', 'source', 'starts_at', 'status'],
        );
      }),
      { numRuns: 500 },
    );
  });

  it('a torn tail is cut at the last whole row, wherever the cut falls', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(event, ms), { minLength: 1, maxLength: 4 }), fc.nat(), (rows, cutSeed) => {
        const out = new RowBinaryWriter(8);
        const ends: number[] = [0];
        for (const [e, firstSeenAtMs] of rows) {
          writeAlertEvent(out, e, firstSeenAtMs, 1, 0);
          ends.push(out.length);
        }
        const bytes = out.take();
        expect(completeRowsLength(bytes, ALERT_EVENT_LAYOUT)).toBe(bytes.length);
        const cut = cutSeed % bytes.length;
        const expected = Math.max(...ends.filter((end) => end <= cut));
        expect(completeRowsLength(bytes.subarray(0, cut), ALERT_EVENT_LAYOUT)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('long and non-ASCII strings take the length prefix of their UTF-8 bytes', () => {
    const out = new RowBinaryWriter(8);
    const long = 'x'.repeat(200);
    writeAlertEvent(
      out,
      { source: 'prometheus', fingerprint: 'ü', labels: { long, 'Grüße': '日本' }, annotations: {}, status: 'firing', severity: 'critical', startsAtMs: 0, endsAtMs: null, receivedAtMs: -1 },
      0,
      1,
      0,
    );
    const [row] = decodeRows(out.take(), ALERT_EVENT_LAYOUT);
    expect(row).toMatchObject({ fingerprint: 'ü', labels: { long, 'Grüße': '日本' }, received_at: -1, ends_at: null });
  });
});

describe('alert state and incident rows as RowBinary', () => {
  it('a state row reads back as the state row object', () => {
    fc.assert(
      fc.property(state, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (s, version) => {
        const out = new RowBinaryWriter(8);
        writeAlertState(out, s, version);
        expect(decodeRows(out.take(), ALERT_STATE_LAYOUT)).toEqual([
          {
            fingerprint: utf8(s.fingerprint),
            source: s.source,
            status: s.status,
            severity: s.severity,
            labels: utf8Map(s.labels),
            annotations: utf8Map(s.annotations),
            starts_at: s.startsAtMs,
            ends_at: s.endsAtMs,
            generator_url: utf8(s.generatorUrl),
            first_seen_at: s.firstSeenAtMs,
            last_seen_at: s.lastSeenAtMs,
            resolved_at: s.resolvedAtMs,
            event_count: s.eventCount,
            version,
          },
        ]);
      }),
      { numRuns: 500 },
    );
  });

  it('a timeline row and a membership row read back as their row objects', () => {
    const incidentEvent: fc.Arbitrary<IncidentEvent> = fc.record({
      incidentId: text,
      atMs: ms,
      actor: text,
      kind: fc.constantFrom('created', 'alert_joined', 'comment' as const),
      detail: fc.dictionary(text, fc.oneof(text, fc.integer(), fc.constant(null))),
    });
    fc.assert(
      fc.property(incidentEvent, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (e, seq) => {
        const out = new RowBinaryWriter(8);
        writeIncidentEvent(out, e, seq);
        expect(decodeRows(out.take(), INCIDENT_EVENT_LAYOUT)).toEqual([
          { incident_id: utf8(e.incidentId), at: e.atMs, seq, actor: utf8(e.actor), kind: e.kind, detail: utf8(JSON.stringify(e.detail)) },
        ]);
        writeIncidentAlert(out, e.incidentId, e.actor, e.atMs);
        expect(decodeRows(out.take(), INCIDENT_ALERT_LAYOUT)).toEqual([{ incident_id: utf8(e.incidentId), fingerprint: utf8(e.actor), joined_at: e.atMs }]);
      }),
      { numRuns: 500 },
    );
  });
});
