import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintLabels } from '../../src/incidents/alert-fingerprint.js';

/**
 * Independent reference: prometheus/common `labelSetToFingerprint` transcribed with BigInt
 * and Buffer (Go sorts names bytewise and hashes UTF-8 bytes).
 */
function referenceFingerprint(labels: Record<string, string>): string {
  const mask = (1n << 64n) - 1n;
  const prime = 1099511628211n;
  let h = 14695981039346656037n;
  const add = (bytes: Iterable<number>): void => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * prime) & mask;
  };
  const names = Object.keys(labels).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    add(Buffer.from(name));
    add([0xff]);
    add(Buffer.from(labels[name] ?? ''));
    add([0xff]);
  }
  return h.toString(16).padStart(16, '0');
}

// Label sets and fingerprints exactly as Alertmanager 0.25 sent them
// (test/fixtures/alertmanager-0.25-webhook/webhook-{1,2,3}.json).
const ALERTMANAGER_FINGERPRINTS: { file: string; labels: Record<string, string>; fingerprint: string }[] = [
  {
    file: 'webhook-1.json',
    labels: { alertname: 'DiskFull', instance: 'db-2:9100', mountpoint: '/var', severity: 'major' },
    fingerprint: '20ea0a9046c59f99',
  },
  {
    file: 'webhook-2.json',
    labels: { alertname: 'HostDown', instance: 'h1-3:9100', job: 'node', severity: 'critical' },
    fingerprint: '40d4eb4003aa315b',
  },
  {
    file: 'webhook-3.json',
    labels: { alertname: 'HostDown', instance: 'h1-3:9100', job: 'node', severity: 'critical' },
    fingerprint: '40d4eb4003aa315b',
  },
];

const labelSet = fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 20 }), {
  maxKeys: 8,
});

describe('fingerprintLabels', () => {
  it.each(ALERTMANAGER_FINGERPRINTS)('equals Alertmanager’s own fingerprint in $file', ({ labels, fingerprint }) => {
    expect(fingerprintLabels(labels)).toBe(fingerprint);
  });

  it('gives the FNV-1a 64 offset basis for the empty label set', () => {
    expect(fingerprintLabels({})).toBe('cbf29ce484222325');
  });

  it('zero-pads to 16 hex digits', () => {
    fc.assert(
      fc.property(labelSet, (labels) => {
        expect(fingerprintLabels(labels)).toMatch(/^[0-9a-f]{16}$/);
      }),
    );
  });

  it('separates names and values, so moving characters across the boundary changes it', () => {
    expect(fingerprintLabels({ ab: 'c' })).not.toBe(fingerprintLabels({ a: 'bc' }));
    expect(fingerprintLabels({ a: 'b', c: 'd' })).not.toBe(fingerprintLabels({ a: 'b\u00ffc', x: 'd' }));
    expect(fingerprintLabels({ a: '' })).not.toBe(fingerprintLabels({}));
  });

  it('is independent of label order', () => {
    fc.assert(
      fc.property(
        labelSet.chain((labels) => fc.tuple(fc.constant(labels), fc.shuffledSubarray(Object.entries(labels), { minLength: Object.keys(labels).length }))),
        ([labels, shuffled]) => {
          expect(fingerprintLabels(Object.fromEntries(shuffled))).toBe(fingerprintLabels(labels));
        },
      ),
    );
  });

  it('matches the BigInt reference for arbitrary Unicode labels', () => {
    fc.assert(
      fc.property(labelSet, (labels) => {
        expect(fingerprintLabels(labels)).toBe(referenceFingerprint(labels));
      }),
      { numRuns: 300 },
    );
  });

  it('sorts names by UTF-8 bytes as Go does, not by UTF-16 code units', () => {
    // U+FF01 sorts before U+1F600 in UTF-8 but after its surrogate pair in UTF-16.
    const labels = { '\u{1F600}': 'a', '\uFF01': 'b' };
    expect(fingerprintLabels(labels)).toBe(referenceFingerprint(labels));
    const utf16Order = Object.keys(labels).sort();
    expect(utf16Order).toEqual(['\u{1F600}', '\uFF01']);
  });

  it('hashes the value of a __proto__ label like any other', () => {
    const labels = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>;
    expect(fingerprintLabels(labels)).toBe(referenceFingerprint(labels));
    expect(fingerprintLabels(labels)).not.toBe(fingerprintLabels({ a: 'b' }));
  });
});

describe('fingerprintLabels ASCII fast path', () => {
  it('equals the reference on every ASCII label set (order, separators, all 128 chars)', () => {
    const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 16 });
    fc.assert(
      fc.property(fc.dictionary(ascii, ascii, { maxKeys: 10 }), (labels) => {
        expect(fingerprintLabels(labels)).toBe(referenceFingerprint(labels));
      }),
      { numRuns: 2_000 },
    );
  });

  it('falls back to byte order for a label set mixing ASCII and non-ASCII names', () => {
    const labels = { b: '1', 'é': '2', '\u{1F600}': '3', a: 'ü' };
    expect(fingerprintLabels(labels)).toBe(referenceFingerprint(labels));
  });
});
